"""Paths and control messages over real sockets: raw vs combined, SUBSCRIBE/UNSUBSCRIBE,
LIST_SUBSCRIPTIONS, SET/GET_PROPERTY, their error frames, and silent unknown names."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from mock_exchange.testing import MockServer
from tests.streams.conftest import Connect


async def request(ws: aiohttp.ClientWebSocketResponse, body: Any) -> Any:
    """Send one control message and return the reply (skipping data frames)."""
    await ws.send_str(body if isinstance(body, str) else orjson.dumps(body).decode())
    while True:
        msg = await ws.receive(timeout=3)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data = orjson.loads(msg.data)
        if isinstance(data, dict) and ("result" in data or "error" in data):
            return data


async def trade(server: MockServer, symbol: str = "BTCUSDT", qty: str = "0.01") -> None:
    r = await server.client().signed("POST", "/api/v3/order", symbol=symbol, side="BUY", type="MARKET",
                                     quantity=qty)
    assert r.status == 200, r.body


async def next_data(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0) -> Any:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return orjson.loads(msg.data)


async def test_bare_ws_subscribe_list_unsubscribe(server: MockServer, connect: Connect) -> None:
    ws = await connect("/ws")
    assert await request(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@trade", "ethusdt@trade"], "id": 1}) == {
        "result": None, "id": 1}
    assert await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": "q1"}) == {
        "result": ["btcusdt@trade", "ethusdt@trade"], "id": "q1"}
    assert await request(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 2}) == {"result": False, "id": 2}
    await trade(server)
    data = await next_data(ws)
    assert data["e"] == "trade" and data["s"] == "BTCUSDT"  # raw framing on /ws
    assert await request(ws, {"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": 3}) == {
        "result": None, "id": 3}
    assert await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 4}) == {"result": ["ethusdt@trade"], "id": 4}
    await trade(server)
    await trade(server, "ETHUSDT", "0.1")
    data = await next_data(ws)
    assert data["s"] == "ETHUSDT"  # nothing more from the unsubscribed stream
    # Unsubscribing something never subscribed is fine; subscribing twice lists it once.
    assert (await request(ws, {"method": "UNSUBSCRIBE", "params": ["bnbusdt@trade"], "id": 5}))["result"] is None
    await request(ws, {"method": "SUBSCRIBE", "params": ["ethusdt@trade"], "id": 6})
    assert (await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 7}))["result"] == ["ethusdt@trade"]


async def test_set_property_switches_framing(server: MockServer, connect: Connect) -> None:
    ws = await connect("/ws/btcusdt@trade")
    assert await request(ws, {"method": "SET_PROPERTY", "params": ["combined", True], "id": 1}) == {
        "result": None, "id": 1}
    assert await request(ws, {"method": "GET_PROPERTY", "params": ["combined"], "id": 2}) == {"result": True, "id": 2}
    await trade(server)
    data = await next_data(ws)
    assert data["stream"] == "btcusdt@trade" and data["data"]["e"] == "trade"
    await request(ws, {"method": "SET_PROPERTY", "params": ["combined", False], "id": 3})
    await trade(server)
    assert (await next_data(ws))["e"] == "trade"


async def test_combined_path_and_multi_stream_raw_path(server: MockServer, connect: Connect) -> None:
    comb = await connect("/stream?streams=btcusdt@trade/btcusdt@aggTrade")
    raw = await connect("/ws/btcusdt@trade/btcusdt@aggTrade")
    assert (await request(comb, {"method": "GET_PROPERTY", "params": ["combined"], "id": 1}))["result"] is True
    assert (await request(comb, {"method": "LIST_SUBSCRIPTIONS", "id": 2}))["result"] == [
        "btcusdt@trade", "btcusdt@aggTrade"]
    assert (await request(raw, {"method": "LIST_SUBSCRIPTIONS", "id": 2}))["result"] == [
        "btcusdt@trade", "btcusdt@aggTrade"]
    await trade(server)
    got_comb = [await next_data(comb), await next_data(comb)]
    got_raw = [await next_data(raw), await next_data(raw)]
    assert [f["stream"] for f in got_comb] == ["btcusdt@trade", "btcusdt@aggTrade"]
    assert [f["data"] for f in got_comb] == got_raw
    bare = await connect("/stream")
    assert (await request(bare, {"method": "LIST_SUBSCRIPTIONS", "id": 1}))["result"] == []


async def test_unknown_path_names_are_accepted_and_silent(server: MockServer, connect: Connect) -> None:
    # ccxt.pro opens /ws/<n> and subscribes afterwards; unknown symbols and upper-case names
    # are well formed and simply never deliver.
    ws = await connect("/ws/0")
    assert (await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 1}))["result"] == []
    reply = await request(ws, {"method": "SUBSCRIBE", "params": ["nosuchcoin@trade", "BTCUSDT@trade"], "id": 2})
    assert reply == {"result": None, "id": 2}
    await trade(server)
    await asyncio.sleep(0.3)
    reply = await request(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 3})
    assert reply == {"result": None, "id": 3}  # the first frame after the trades above is this reply
    await trade(server)
    assert (await next_data(ws))["e"] == "trade"


async def test_error_frames_keep_the_connection(server: MockServer, connect: Connect) -> None:
    ws = await connect("/ws")
    assert await request(ws, {"method": "SUBSCRIBE", "params": ["not asdfads"], "id": 2}) == {
        "error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 2}
    assert await request(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@trade", "btcusdt@foo"], "id": 3}) == {
        "error": {"code": 2, "msg": "Invalid request: invalid stream"}, "id": 3}
    assert (await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 4}))["result"] == []  # all or nothing
    assert await request(ws, '{"method": "SUBSCRIBE", "params": [') == {
        "error": {"code": 3, "msg": "Invalid JSON: expected value at line 1 column 36"}, "id": None}
    reply = await request(ws, {"method": "PING", "id": 5})
    assert reply["error"]["code"] == 2 and reply["id"] == 5
    assert reply["error"]["msg"].startswith("Invalid request: unknown variant `PING`, expected one of `SUBSCRIBE`")
    assert await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": {"a": 1}}) == {
        "error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}, "id": None}
    assert await request(ws, {"method": "GET_PROPERTY", "params": ["nope"], "id": 6}) == {
        "error": {"code": 0, "msg": "Unknown property"}, "id": 6}
    assert await request(ws, {"method": "SET_PROPERTY", "params": ["combined", 1], "id": 7}) == {
        "error": {"code": 1, "msg": "Invalid value type: expected Boolean"}, "id": 7}
    assert await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 8}) == {"result": [], "id": 8}
    assert not ws.closed


async def test_plain_http_on_stream_path_is_refused(server: MockServer) -> None:
    r = await server.anonymous().raw("GET", "/ws/btcusdt@trade")
    assert r.status == 400 and "code" in r.json()


async def test_reset_closes_update_id_streams_and_restarts_the_others(server: MockServer, connect: Connect) -> None:
    diffs = await connect("/ws/btcusdt@depth@100ms")
    trades = await connect("/ws/btcusdt@trade")
    await trade(server)
    first = await next_data(trades)
    r = await server.anonymous().raw("POST", "/_mock/reset")
    assert r.status == 200, r.body
    msg = await diffs.receive(timeout=3)
    while msg.type == aiohttp.WSMsgType.TEXT:  # diffs sent before the reset was noticed
        msg = await diffs.receive(timeout=3)
    assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 1012  # reconnect and resynchronise
    await trade(server)
    again = await next_data(trades)  # trade ids restart with the new engine; the stream goes on
    assert again["e"] == "trade" and again["t"] == first["t"]
