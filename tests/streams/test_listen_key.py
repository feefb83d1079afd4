"""Legacy listenKey user streams on the market-stream paths: ``/ws/<listenKey>``,
``/stream?streams=<listenKey>`` and SUBSCRIBE with a listenKey."""

from __future__ import annotations

import asyncio

import aiohttp

from mock_exchange.testing import MockServer
from tests.streams.flow import Collector
from tests.streams.test_control_ws import request


async def listen_key(server: MockServer) -> str:
    client = server.client()
    r = await client.raw("POST", "/api/v3/userDataStream", headers={"X-MBX-APIKEY": client.api_key or ""})
    assert r.status == 200, r.body
    key: str = r.json()["listenKey"]
    return key


async def test_listen_key_stream_raw_combined_and_subscribed(server: MockServer,
                                                              session: aiohttp.ClientSession) -> None:
    key = await listen_key(server)
    base = f"ws://127.0.0.1:{server.port}"
    raw = Collector(await session.ws_connect(f"{base}/ws/{key}"))
    comb = Collector(await session.ws_connect(f"{base}/stream?streams={key}/btcusdt@trade"))
    late_ws = await session.ws_connect(f"{base}/ws")
    assert await request(late_ws, {"method": "SUBSCRIBE", "params": [key], "id": 1}) == {"result": None, "id": 1}
    assert (await request(late_ws, {"method": "LIST_SUBSCRIPTIONS", "id": 2}))["result"] == [key]
    late = Collector(late_ws)
    micro = Collector(await session.ws_connect(f"{base}/ws/{key}?timeUnit=MICROSECOND"))
    await asyncio.sleep(0.05)

    r = await server.client().signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                     quantity="0.01")
    assert r.status == 200, r.body
    report = await raw.wait_for(lambda f: f.get("e") == "executionReport" and f.get("X") == "FILLED")
    assert report["s"] == "BTCUSDT" and report["o"] == "MARKET"
    await raw.wait_for(lambda f: f.get("e") == "outboundAccountPosition")
    env = await comb.wait_for(lambda f: f["stream"] == key and f["data"].get("e") == "executionReport")
    assert set(env) == {"stream", "data"}
    await comb.wait_for(lambda f: f["stream"] == "btcusdt@trade")
    await late.wait_for(lambda f: f.get("e") == "executionReport")
    first = await micro.wait_for(lambda f: f.get("e") == "executionReport")
    assert first["E"] > 10**15 and first["T"] > 10**15

    # Unsubscribing detaches: nothing more arrives on that connection.
    await late_ws.send_str(f'{{"method":"UNSUBSCRIBE","params":["{key}"],"id":3}}')
    await late.wait_for(lambda f: f == {"result": None, "id": 3})
    seen = len(late.frames)
    r = await server.client().signed("POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="MARKET",
                                     quantity="0.01")
    await raw.wait_for(lambda f: f.get("e") == "executionReport" and f.get("S") == "SELL")
    await asyncio.sleep(0.1)
    assert not [f for f in late.frames[seen:] if isinstance(f, dict) and f.get("e") == "executionReport"]


async def test_unknown_listen_key_like_names_are_not_streams(server: MockServer,
                                                             session: aiohttp.ClientSession) -> None:
    ws = await session.ws_connect(f"ws://127.0.0.1:{server.port}/ws/{'A' * 64}")
    assert (await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1}))["result"] == []
    assert (await request(ws, {"method": "SUBSCRIBE", "params": ["B" * 64], "id": 2}))["error"]["code"] == 2
