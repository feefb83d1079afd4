"""WebSocket-API framing over a real socket: responses, rateLimits, public methods, bad frames."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from mock_exchange.clock import ManualClock
from mock_exchange.config import RateLimitSettings
from mock_exchange.testing import MockServer
from tests.ws_api.conftest import two_accounts
from tests.ws_api.wsclient import ws_api

T0 = 1_700_000_000_000
INVALID_ID = (
    "Invalid 'id' in JSON request; expected an integer, a string matching '^[a-zA-Z0-9-_]{1,36}$', or null."
)


def weight(count: int, limit: int = 6000) -> dict[str, object]:
    return {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": limit, "count": count}


@pytest.fixture
async def manual() -> AsyncIterator[MockServer]:
    async with MockServer(two_accounts(), clock=ManualClock(T0)) as server:
        yield server


async def test_response_shape_weights_and_rate_limit_switches(manual: MockServer) -> None:
    async with ws_api(manual) as c:
        pong = await c.call("ping", req_id=1)
        assert pong == {"id": 1, "status": 200, "result": {}, "rateLimits": [weight(3)]}  # connecting cost 2
        t = await c.call("v3/time", {"returnRateLimits": False}, req_id="a-b_C")
        assert t == {"id": "a-b_C", "status": 200, "result": {"serverTime": T0}}
        info = await c.call("exchangeInfo", {"symbol": "BTCUSDT"})
        assert info["result"]["symbols"][0]["symbol"] == "BTCUSDT"
        assert info["rateLimits"] == [weight(24)]
    async with ws_api(manual, "returnRateLimits=false") as quiet:
        assert await quiet.call("ping", req_id=7) == {"id": 7, "status": 200, "result": {}}
        shown = await quiet.call("ping", {"returnRateLimits": True})
        assert shown["rateLimits"] == [weight(28)]


async def test_public_methods_equal_rest(manual: MockServer) -> None:
    rest = manual.anonymous()
    filled = await manual.client("trader").signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY",
                                                  type="MARKET", quantity="0.5")
    assert filled.status == 200  # some trades for the trade and kline methods to show
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("depth", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": 5}),
        ("ticker.price", "/api/v3/ticker/price", {"symbol": "ETHUSDT"}),
        ("ticker.book", "/api/v3/ticker/bookTicker", {"symbols": '["BTCUSDT","ETHUSDT"]'}),
        ("ticker.24hr", "/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}),
        ("ticker", "/api/v3/ticker", {"symbol": "BTCUSDT"}),
        ("avgPrice", "/api/v3/avgPrice", {"symbol": "BTCUSDT"}),
        ("trades.recent", "/api/v3/trades", {"symbol": "BTCUSDT", "limit": 3}),
        ("trades.aggregate", "/api/v3/aggTrades", {"symbol": "BTCUSDT"}),
        ("klines", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m"}),
        ("uiKlines", "/api/v3/uiKlines", {"symbol": "BTCUSDT", "interval": "1h"}),
        ("trades.historical", "/api/v3/historicalTrades", {"symbol": "BTCUSDT", "fromId": 1}),
    ]
    async with ws_api(manual) as c:
        for method, path, params in cases:
            ws = await c.call(method, params)
            http = await rest.public("GET", path, **params)
            assert ws["status"] == 200 and http.status == 200, (method, ws)
            assert ws["result"] == http.json(), method
        # A JSON array parameter may be sent as a real array.
        arr = await c.call("ticker.price", {"symbols": ["BTCUSDT", "ETHUSDT"]})
        assert [x["symbol"] for x in arr["result"]] == ["BTCUSDT", "ETHUSDT"]
        missing = await c.call("depth", {})
        assert missing["status"] == 400 and missing["error"] == {
            "code": -1102, "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}
        bad = await c.call("depth", {"symbol": "NOPE"})
        assert bad["error"] == {"code": -1121, "msg": "Invalid symbol."}
        assert bad["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"


async def test_time_unit_microseconds(manual: MockServer) -> None:
    async with ws_api(manual, "timeUnit=MICROSECOND") as c:
        assert (await c.call("time"))["result"] == {"serverTime": T0 * 1000}
        assert (await c.signed("userDataStream.subscribe.signature"))["status"] == 200
        placed = await c.signed("order.place", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        assert placed["result"]["transactTime"] == T0 * 1000
        report = (await c.next_event())["event"]
        assert (report["E"], report["T"], report["O"], report["W"]) == (T0 * 1000,) * 4


async def test_bad_frames_get_error_frames_and_the_connection_lives(manual: MockServer) -> None:
    invalid_json = {"id": None, "status": 400, "error": {"code": -1135, "msg": "Invalid JSON Request"}}
    bad_id = {"id": None, "status": 400, "error": {"code": -1135, "msg": INVALID_ID}}
    async with ws_api(manual) as c:
        assert await c.send_raw("this is not json") == invalid_json
        assert await c.send_raw("[1, 2]") == invalid_json
        assert await c.send_raw('{"id": true, "method": "ping"}') == bad_id
        assert await c.send_raw('{"id": "' + "x" * 37 + '", "method": "ping"}') == bad_id
        assert await c.send_raw('{"id": "no spaces", "method": "ping"}') == bad_id
        assert await c.send_raw('{"method": "ping"}') == bad_id
        assert await c.send_raw('{"id": 5}') == {"id": 5, "status": 400, "error": {
            "code": -1135, "msg": "Invalid 'method' in JSON request; expected a string."}}
        assert await c.send_raw('{"id": 6, "method": "ping", "params": [1]}') == {"id": 6, "status": 400, "error": {
            "code": -1135, "msg": "Invalid 'params' in JSON request; expected an object."}}
        assert await c.send_raw('{"id": 8, "method": "order.fly"}') == {"id": 8, "status": 400, "error": {
            "code": -1020, "msg": "This operation is not supported."}}
        nul = await c.send_raw('{"id": null, "method": "ping"}')
        assert nul["id"] is None and nul["status"] == 200
        assert (await c.call("ping"))["status"] == 200


async def test_binary_and_oversized_frames_close_only_their_connection(manual: MockServer) -> None:
    async with ws_api(manual) as bystander:
        async with ws_api(manual) as c:
            await c.ws.send_bytes(b'{"id":1,"method":"ping"}')
            assert await asyncio.wait_for(c.closed, 5) == aiohttp.WSCloseCode.UNSUPPORTED_DATA
        async with ws_api(manual) as c:
            await c.ws.send_str('{"id":1,"method":"ping","params":{"pad":"' + "x" * 70_000 + '"}}')
            assert await asyncio.wait_for(c.closed, 5) == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        assert (await bystander.call("ping"))["status"] == 200


async def test_a_burst_of_requests_is_answered_in_order(manual: MockServer) -> None:
    async with ws_api(manual, "returnRateLimits=false") as c:
        await asyncio.gather(*(c.ws.send_str(orjson.dumps({"id": i, "method": "ping"}).decode())
                               for i in range(300)))
        got = [await c.next_event() for _ in range(300)]
        assert [f["id"] for f in got] == list(range(300))
        assert all(f["status"] == 200 for f in got)


async def test_429_then_418_with_retry_after_data_then_disconnect() -> None:
    cfg = two_accounts()
    cfg.rate_limits = RateLimitSettings(request_weight_per_minute=30)
    clock = ManualClock(T0)
    minute_end = (T0 // 60_000 + 1) * 60_000
    async with MockServer(cfg, clock=clock) as srv, ws_api(srv) as c:
        assert (await c.call("exchangeInfo"))["status"] == 200  # 2 + 20
        over = await c.call("exchangeInfo")
        assert over["status"] == 429
        assert over["error"] == {
            "code": -1003,
            "msg": "Too much request weight used; current limit is 30 request weight per 1 MINUTE. "
                   "Please use WebSocket Streams for live updates to avoid polling the API.",
            "data": {"serverTime": T0, "retryAfter": minute_end},
        }
        assert over["rateLimits"] == [weight(42, 30)]
        for _ in range(2):
            assert (await c.call("ping"))["status"] == 429
        banned = await c.call("ping")
        assert banned["status"] == 418
        assert banned["error"]["data"] == {"serverTime": T0, "retryAfter": T0 + 120_000}
        assert banned["error"]["msg"].startswith(f"Way too much request weight used; IP banned until {T0 + 120_000}.")
        assert await asyncio.wait_for(c.closed, 5) == aiohttp.WSCloseCode.POLICY_VIOLATION
        url = srv.base_url.replace("http://", "ws://") + "/ws-api/v3"
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(url)
            assert refused.value.status == 418
