"""The legacy listenKey flow: REST endpoints, /ws/<listenKey> bare events, expiry, and the off switch."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
import pytest

from mock_exchange.clock import ManualClock
from mock_exchange.config import ServerConfig
from mock_exchange.testing import MockServer, SignedClient
from tests.ws_api.conftest import two_accounts
from tests.ws_api.wsclient import ws_api

PATH = "/api/v3/userDataStream"
MISSING = {"code": -1125, "msg": "This listenKey does not exist."}


def key_header(client: SignedClient) -> dict[str, str]:
    return {"X-MBX-APIKEY": client.api_key or ""}


async def new_key(client: SignedClient) -> str:
    r = await client.raw("POST", PATH, headers=key_header(client))
    assert r.status == 200, r.body
    key: str = r.json()["listenKey"]
    return key


@asynccontextmanager
async def stream(srv: MockServer, path: str) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    url = srv.base_url.replace("http://", "ws://") + path
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        yield ws


async def frame(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5) -> Any:
    msg = await ws.receive(timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return orjson.loads(msg.data)


async def test_rest_endpoints_keys_weights_and_errors() -> None:
    async with MockServer(two_accounts(), clock=ManualClock(1_700_000_000_000)) as srv:
        trader, maker, anon = srv.client("trader"), srv.client("maker"), srv.anonymous()
        r = await anon.raw("POST", PATH)
        assert r.status == 401 and r.json() == {"code": -2014, "msg": "API-key format invalid."}
        first = await trader.raw("POST", PATH, headers=key_header(trader))
        key = first.json()["listenKey"]
        assert first.json() == {"listenKey": key} and re.fullmatch(r"[A-Za-z0-9]{64}", key)
        again = await trader.raw("POST", PATH, headers=key_header(trader))
        assert again.json() == {"listenKey": key}  # the live key, extended
        used = int(first.headers["X-MBX-USED-WEIGHT-1M"])
        assert int(again.headers["X-MBX-USED-WEIGHT-1M"]) == used + 2
        assert await new_key(maker) != key

        ping = await trader.raw("PUT", PATH, f"listenKey={key}", headers=key_header(trader))
        assert ping.status == 200 and ping.json() == {}
        assert int(ping.headers["X-MBX-USED-WEIGHT-1M"]) == used + 6
        unknown = await trader.raw("PUT", PATH, "listenKey=" + "x" * 64, headers=key_header(trader))
        assert unknown.status == 400 and unknown.json() == MISSING
        not_theirs = await maker.raw("PUT", PATH, f"listenKey={key}", headers=key_header(maker))
        assert not_theirs.json() == MISSING
        no_param = await trader.raw("PUT", PATH, headers=key_header(trader))
        assert no_param.json() == {
            "code": -1102, "msg": "Mandatory parameter 'listenKey' was not sent, was empty/null, or malformed."}

        closed = await trader.raw("DELETE", PATH, body=f"listenKey={key}", headers=key_header(trader))
        assert closed.status == 200 and closed.json() == {}
        assert (await trader.raw("DELETE", PATH, f"listenKey={key}", headers=key_header(trader))).json() == MISSING
        assert await new_key(trader) != key


async def test_listen_key_stream_delivers_bare_and_combined_events(srv: MockServer) -> None:
    trader = srv.client("trader")
    key = await new_key(trader)
    async with stream(srv, f"/ws/{key}") as raw, stream(srv, f"/stream?streams={key}") as combined:
        await asyncio.sleep(0.05)
        r = (await trader.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                 quantity="0.001")).json()
        new = await frame(raw)
        assert new["e"] == "executionReport" and new["x"] == "NEW" and new["i"] == r["orderId"]
        assert "subscriptionId" not in new
        kinds = [(await frame(raw))["e"] for _ in range(len(r["fills"]) + 1)]
        assert kinds == ["executionReport"] * len(r["fills"]) + ["outboundAccountPosition"]
        wrapped = await frame(combined)
        assert wrapped == {"stream": key, "data": new}


async def test_listen_key_expires_with_listen_key_expired() -> None:
    cfg = two_accounts()
    cfg.websocket.listen_key_ttl_ms = 1500
    async with MockServer(cfg) as srv:
        trader = srv.client("trader")
        key = await new_key(trader)
        kept = await new_key(srv.client("maker"))
        async with stream(srv, f"/ws/{key}") as ws:
            await asyncio.sleep(0.9)
            assert (await srv.client("maker").raw("PUT", PATH, f"listenKey={kept}",
                                                  headers=key_header(srv.client("maker")))).status == 200
            expired = await frame(ws, 3)
            assert expired == {"e": "listenKeyExpired", "E": expired["E"], "listenKey": key}
            await trader.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                quantity="0.001")
            with pytest.raises(asyncio.TimeoutError):  # nothing more on this stream
                await ws.receive(0.3)
        assert (await trader.raw("PUT", PATH, f"listenKey={key}", headers=key_header(trader))).json() == MISSING
        # The other key was extended by its PUT and is still alive past the first key's expiry.
        maker = srv.client("maker")
        assert (await maker.raw("PUT", PATH, f"listenKey={kept}", headers=key_header(maker))).status == 200


async def test_listen_key_off_answers_like_production_today() -> None:
    cfg = two_accounts()
    cfg.listen_key = False
    async with MockServer(cfg) as srv:
        trader = srv.client("trader")
        for method in ("POST", "PUT", "DELETE"):
            r = await trader.raw(method, PATH, "listenKey=abc", headers=key_header(trader))
            assert r.status == 410 and r.headers["Content-Type"].startswith("text/html")
            assert b"<title>410 Gone</title>" in r.body and b"nginx" in r.body
        info = srv.state.accounts["trader"]
        async with ws_api(srv) as c:
            start = await c.call("userDataStream.start", {"apiKey": info.api_key})
            assert start["status"] == 400 and start["error"] == {"code": -1020,
                                                                 "msg": "This operation is not supported."}
            assert (await c.call("v3/userDataStream.ping", {"apiKey": info.api_key, "listenKey": "k"}))[
                "error"]["code"] == -1020


async def test_legacy_ws_api_listen_key_methods(srv: MockServer) -> None:
    info = srv.state.accounts["trader"]
    async with ws_api(srv) as c:
        start = await c.call("userDataStream.start", {"apiKey": info.api_key})
        key = start["result"]["listenKey"]
        assert start["status"] == 200 and len(key) == 64 and srv.state.user_data.is_listen_key(key)
        assert (await c.call("userDataStream.ping", {"apiKey": info.api_key, "listenKey": key}))["result"] == {}
        assert (await c.call("userDataStream.stop", {"apiKey": info.api_key, "listenKey": key}))["result"] == {}
        gone = await c.call("userDataStream.ping", {"apiKey": info.api_key, "listenKey": key})
        assert gone["error"] == MISSING
        nokey = await c.call("userDataStream.start")
        assert nokey["error"]["code"] == -1102 and "'apiKey'" in nokey["error"]["msg"]
    assert ServerConfig().listen_key is True  # on by default
