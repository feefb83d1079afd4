"""Scripted faults (``/_mock/faults``, DESIGN D6) as a client sees them: REST answers and headers,
WebSocket-API responses and events, market-stream frames and connections, over real sockets."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from mock_exchange.engine import units
from mock_exchange.server import errors
from mock_exchange.server.faults import FaultSpecError
from mock_exchange.server.state import ExchangeState
from mock_exchange.testing import MockServer, SignedClient
from tests.ws_api.wsclient import WsApi, hmac_sign, ws_api

ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001"}
FRAME_TIMEOUT = 3.0


@pytest.fixture
async def srv() -> AsyncIterator[MockServer]:
    async with MockServer() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def post_fault(srv: MockServer, spec: Any) -> tuple[int, Any]:
    r = await srv.anonymous().raw("POST", "/_mock/faults", body=orjson.dumps(spec).decode(),
                                  headers={"Content-Type": "application/json"})
    return r.status, r.json()


async def add_fault(srv: MockServer, spec: dict[str, Any]) -> dict[str, Any]:
    status, body = await post_fault(srv, spec)
    assert status == 200, body
    assert isinstance(body["id"], int)
    return dict(body)


async def fault_view(srv: MockServer) -> dict[str, Any]:
    r = await srv.anonymous().raw("GET", "/_mock/faults")
    assert r.status == 200
    return dict(r.json())


def rest_on(srv: MockServer, clock: Any) -> SignedClient:
    """A signed client of the default account whose timestamps come from ``clock``."""
    info = next(iter(srv.state.accounts.values()))
    c = SignedClient(srv.base_url, info.api_key, info.secret_key, clock=clock)
    srv._clients.append(c)
    return c


def change_book(srv: MockServer, price: str) -> None:
    """One book change on BTCUSDT (a resting bid), published as a request would."""
    srv.state.engine.place_order("trader", "BTCUSDT", "BUY", "LIMIT", quantity=units.to_units("0.001"),
                                 price=units.to_units(price), time_in_force="GTC")
    srv.state.publish()


async def next_json(ws: aiohttp.ClientWebSocketResponse, timeout: float = FRAME_TIMEOUT) -> dict[str, Any]:
    msg = await asyncio.wait_for(ws.receive(), timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return dict(orjson.loads(msg.data))


async def stream(http: aiohttp.ClientSession, srv: MockServer, path: str) -> aiohttp.ClientWebSocketResponse:
    return await http.ws_connect(srv.base_url.replace("http://", "ws://") + path)


async def subscribe_user(c: WsApi, srv: MockServer) -> int:
    info = srv.state.accounts["trader"]
    r = await c.call("userDataStream.subscribe.signature",
                     hmac_sign({}, info.api_key, info.secret_key, srv.state.clock()))
    assert r["status"] == 200, r
    return int(r["result"]["subscriptionId"])


# ----------------------------------------------------------------------------- REST
async def test_http_error_executed_places_the_order_but_answers_503(srv: MockServer) -> None:
    client = srv.client()
    await add_fault(srv, {"type": "http_error", "method": "POST", "path": "/api/v3/order", "status": 503,
                          "code": -1007, "execute": True})
    r = await client.signed("POST", "/api/v3/order", price="60000", newClientOrderId="unknown-1", **ORDER)
    assert r.status == 503
    assert r.json() == {"code": -1007, "msg": errors.timeout().msg}
    assert "X-MBX-USED-WEIGHT-1M" in r.headers
    q = await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="unknown-1")
    assert q.status == 200 and q.json()["status"] == "NEW"  # the order exists
    again = await client.signed("POST", "/api/v3/order", price="60000", **ORDER)
    assert again.status == 200  # count 1: used up
    view = await fault_view(srv)
    assert view["active"] == []
    assert [(e["type"], e["target"], e["status"]) for e in view["log"]] == [
        ("http_error", "rest POST /api/v3/order", 503)]
    assert view["counters"] == {"http_error": 1}


async def test_http_error_not_executed_leaves_no_order(srv: MockServer) -> None:
    client = srv.client()
    before = (await client.signed("GET", "/api/v3/account")).json()["balances"]
    await add_fault(srv, {"type": "http_error", "path": "/api/v3/order", "status": 500, "execute": False})
    r = await client.signed("POST", "/api/v3/order", price="60000", newClientOrderId="never", **ORDER)
    assert r.status == 500
    assert r.json() == {"code": -1001, "msg": errors.disconnected().msg}
    q = await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="never")
    assert q.json()["code"] == -2013
    assert (await client.signed("GET", "/api/v3/account")).json()["balances"] == before


async def test_rate_limit_answers_429_then_418_with_retry_after(srv: MockServer) -> None:
    anon = srv.anonymous()
    await add_fault(srv, {"type": "rate_limit", "status": 429, "retryAfter": 5, "path": "/api/v3/ping"})
    assert (await anon.public("GET", "/api/v3/time")).status == 200  # other paths unaffected
    r = await anon.public("GET", "/api/v3/ping")
    assert r.status == 429
    assert r.headers["Retry-After"] == "5"
    assert r.json()["code"] == -1003 and r.json()["msg"].startswith("Too much request weight used")
    assert (await anon.public("GET", "/api/v3/ping")).status == 200
    await add_fault(srv, {"type": "rate_limit", "status": 418, "retryAfter": 120, "count": 2})
    for _ in range(2):
        r = await anon.public("GET", "/api/v3/exchangeInfo", symbol="BTCUSDT")
        assert r.status == 418 and r.headers["Retry-After"] == "120"
        assert "IP banned until" in r.json()["msg"]
    assert (await anon.public("GET", "/api/v3/ping")).status == 200


async def test_delay_processes_first_so_a_timed_out_order_exists(srv: MockServer) -> None:
    client = srv.client()
    await add_fault(srv, {"type": "delay", "method": "POST", "path": "/api/v3/order", "ms": 1500})
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(
            client.signed("POST", "/api/v3/order", price="60000", newClientOrderId="slow-1", **ORDER), 0.3)
    q = await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="slow-1")
    assert q.status == 200 and q.json()["status"] == "NEW"
    await add_fault(srv, {"type": "delay", "path": "/api/v3/time", "ms": 400})
    t0 = time.monotonic()
    r = await srv.anonymous().public("GET", "/api/v3/time")
    assert r.status == 200 and time.monotonic() - t0 >= 0.38


async def test_reject_orders_refuses_without_touching_state(srv: MockServer) -> None:
    client = srv.client()
    before = (await client.signed("GET", "/api/v3/account")).json()["balances"]
    await add_fault(srv, {"type": "reject_orders", "code": -2010, "msg": "Order would immediately match and take."})
    r = await client.signed("POST", "/api/v3/order", price="60000", **ORDER)
    assert r.status == 400
    assert r.json() == {"code": -2010, "msg": "Order would immediately match and take."}
    assert (await client.signed("GET", "/api/v3/openOrders", symbol="BTCUSDT")).json() == []
    assert (await client.signed("GET", "/api/v3/account")).json()["balances"] == before
    assert (await client.signed("POST", "/api/v3/order", price="60000", **ORDER)).status == 200
    body = await add_fault(srv, {"type": "reject_orders", "symbol": "ETHUSDT"})
    assert body["msg"] == "Account has insufficient balance for requested action."  # the code's venue text
    assert (await client.signed("POST", "/api/v3/order", price="60000", **ORDER)).status == 200  # other symbol


async def test_clock_skew_shifts_server_time_and_the_signature_window(srv: MockServer) -> None:
    unskewed = rest_on(srv, srv.state.base_clock)
    await add_fault(srv, {"type": "clock_skew", "ms": -5000})
    server_time = (await srv.anonymous().public("GET", "/api/v3/time")).json()["serverTime"]
    assert abs(server_time - (srv.state.base_clock() - 5000)) < 1000
    r = await unskewed.signed("GET", "/api/v3/account")
    assert r.status == 400
    assert r.json() == {"code": -1021, "msg": errors.timestamp_ahead().msg}
    assert (await rest_on(srv, srv.state.clock).signed("GET", "/api/v3/account")).status == 200
    await add_fault(srv, {"type": "clock_skew", "ms": 10_000})  # replaces the first skew
    r = await unskewed.signed("GET", "/api/v3/account")
    assert r.json() == {"code": -1021, "msg": errors.timestamp_outside().msg}
    placed = await rest_on(srv, srv.state.clock).signed("POST", "/api/v3/order", price="60000", **ORDER)
    assert abs(placed.json()["transactTime"] - (srv.state.base_clock() + 10_000)) < 1000  # engine times too
    view = await fault_view(srv)
    assert view["clockSkewMs"] == 10_000 and [f["ms"] for f in view["active"]] == [10_000]
    assert (await srv.anonymous().raw("DELETE", "/_mock/faults")).status == 200
    assert (await unskewed.signed("GET", "/api/v3/account")).status == 200


async def test_symbol_status_halts_new_orders(srv: MockServer) -> None:
    client = srv.client()
    body = await add_fault(srv, {"type": "symbol_status", "symbol": "BTCUSDT", "status": "HALT"})
    assert body["previous"] == "TRADING" and body["active"] is False
    info = (await client.public("GET", "/api/v3/exchangeInfo", symbol="BTCUSDT")).json()
    assert info["symbols"][0]["status"] == "HALT"
    r = await client.signed("POST", "/api/v3/order", price="60000", **ORDER)
    assert r.json() == {"code": -2010, "msg": "Market is closed."}
    await add_fault(srv, {"type": "symbol_status", "symbol": "BTCUSDT", "status": "TRADING"})
    assert (await client.signed("POST", "/api/v3/order", price="60000", **ORDER)).status == 200


# ----------------------------------------------------------------------------- market streams
async def test_skip_depth_leaves_a_gap_every_subscriber_sees(srv: MockServer, http: aiohttp.ClientSession) -> None:
    ws = await stream(http, srv, "/ws/btcusdt@depth@100ms")
    change_book(srv, "60000")
    first = await next_json(ws)
    await add_fault(srv, {"type": "skip_depth", "symbol": "BTCUSDT", "count": 1})
    change_book(srv, "60001")
    await asyncio.sleep(0.35)  # the withheld frame's tick passes
    change_book(srv, "60002")
    after = await next_json(ws)
    assert after["U"] == first["u"] + 2 > first["u"] + 1  # U > local + 1: a gap
    assert after["b"] == [["60002.00000000", "0.00100000"]]
    view = await fault_view(srv)
    assert view["active"] == []
    [entry] = view["log"]
    assert (entry["type"], entry["target"], entry["speed"], entry["U"]) == ("skip_depth", "BTCUSDT", 100, first["u"] + 1)
    await ws.close()


def test_skip_depth_counts_frames_per_diff_speed() -> None:
    state = ExchangeState()
    plan = state.faults
    plan.add({"type": "skip_depth", "symbol": "BTCUSDT", "count": 2})
    speeds = [100, 1000]
    assert plan.skip_diff("BTCUSDT", 100, speeds, 1, 1)
    assert plan.skip_diff("BTCUSDT", 1000, speeds, 1, 3)
    assert plan.skip_diff("BTCUSDT", 100, speeds, 2, 2)
    assert not plan.skip_diff("BTCUSDT", 100, speeds, 3, 3)  # 100 ms had its two
    assert not plan.skip_diff("ETHUSDT", 1000, speeds, 1, 1)
    assert plan.skip_diff("BTCUSDT", 1000, speeds, 4, 9)
    assert plan.skip_depth == {} and plan.active == []
    assert plan.counters == {"skip_depth": 4}


async def test_stale_snapshot_is_older_than_the_stream(srv: MockServer, http: aiohttp.ClientSession) -> None:
    anon = srv.anonymous()
    ws = await stream(http, srv, "/ws/btcusdt@depth@100ms")
    change_book(srv, "60000")
    await next_json(ws)
    await add_fault(srv, {"type": "stale_snapshot", "symbol": "BTCUSDT"})
    fresh = (await anon.public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=5)).json()
    assert fresh["lastUpdateId"] == srv.state.engine.last_update_id("BTCUSDT")  # nothing older yet: waits
    assert len((await fault_view(srv))["active"]) == 1
    change_book(srv, "65000.00")  # a new best bid
    frame = await next_json(ws)
    stale = (await anon.public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=5)).json()
    assert stale["lastUpdateId"] < frame["U"]  # the stream already delivered newer updates
    assert stale == fresh  # a real past book: the one before the change
    live = (await anon.public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=5)).json()
    assert live["lastUpdateId"] == frame["u"] and live["bids"][0] == ["65000.00000000", "0.00100000"]
    [entry] = (await fault_view(srv))["log"]
    assert entry["lastUpdateId"] == stale["lastUpdateId"] and entry["current"] == frame["u"]
    await ws.close()


async def test_drop_streams_aborts_matching_connections(srv: MockServer, http: aiohttp.ClientSession) -> None:
    market = await stream(http, srv, "/ws/btcusdt@trade")
    async with ws_api(srv) as user:
        body = await add_fault(srv, {"type": "drop_streams", "target": "market"})
        assert body["connections"] == 1
        msg = await asyncio.wait_for(market.receive(), FRAME_TIMEOUT)
        assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        assert market.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE  # no close frame was sent
        assert (await user.call("ping"))["status"] == 200  # the WS-API connection is untouched
        body = await add_fault(srv, {"type": "drop_streams", "target": "user"})
        assert body["connections"] == 1
        assert await asyncio.wait_for(user.closed, FRAME_TIMEOUT) == aiohttp.WSCloseCode.ABNORMAL_CLOSURE
    log = (await fault_view(srv))["log"]
    assert [(e["target"], e["connections"]) for e in log] == [("market", 1), ("user", 1)]


async def test_stall_streams_holds_frames_then_delivers(srv: MockServer, http: aiohttp.ClientSession) -> None:
    ws = await stream(http, srv, "/ws/btcusdt@depth@100ms")
    await add_fault(srv, {"type": "stall_streams", "target": "market", "ms": 700})
    t0 = time.monotonic()
    change_book(srv, "60000")
    frame = await next_json(ws)
    assert time.monotonic() - t0 >= 0.6 and frame["b"] == [["60000.00000000", "0.00100000"]]
    assert (await fault_view(srv))["active"] == []  # over
    async with ws_api(srv) as user:
        await add_fault(srv, {"type": "stall_streams", "target": "user", "ms": 500})
        t0 = time.monotonic()
        assert (await user.call("ping"))["status"] == 200
        assert time.monotonic() - t0 >= 0.45
        await add_fault(srv, {"type": "stall_streams", "ms": 10_000})
        pending = asyncio.ensure_future(user.call("time"))
        await asyncio.sleep(0.2)
        assert not pending.done()
        await srv.anonymous().raw("DELETE", "/_mock/faults")  # lifts the stall early
        assert (await asyncio.wait_for(pending, 1.0))["status"] == 200
    await ws.close()


async def test_server_shutdown_announces_then_closes_1001(srv: MockServer, http: aiohttp.ClientSession) -> None:
    raw = await stream(http, srv, "/ws/btcusdt@trade")
    combined = await stream(http, srv, "/stream?streams=btcusdt@trade")
    async with ws_api(srv) as api:
        body = await add_fault(srv, {"type": "server_shutdown"})
        assert body["connections"] == 3
        shutdown = await next_json(raw)
        assert shutdown["e"] == "serverShutdown" and isinstance(shutdown["E"], int)
        assert (await next_json(combined))["data"]["e"] == "serverShutdown"
        for ws in (raw, combined):
            msg = await asyncio.wait_for(ws.receive(), FRAME_TIMEOUT)
            assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == 1001
        event = await api.next_event()
        assert event["event"]["e"] == "serverShutdown"
        assert await asyncio.wait_for(api.closed, FRAME_TIMEOUT) == 1001
    again = await stream(http, srv, "/ws/btcusdt@trade")  # the server still accepts connections
    assert not again.closed
    await again.close()


# ----------------------------------------------------------------------------- WebSocket API
async def test_terminate_user_streams_keeps_the_connection(srv: MockServer) -> None:
    async with ws_api(srv) as c:
        sub_id = await subscribe_user(c, srv)
        body = await add_fault(srv, {"type": "terminate_user_streams"})
        assert body["subscriptions"] == 1
        event = await c.next_event()
        assert event["subscriptionId"] == sub_id and event["event"]["e"] == "eventStreamTerminated"
        assert (await c.call("session.subscriptions"))["result"] == []
        await srv.client().signed("POST", "/api/v3/order", price="60000", **ORDER)
        await c.no_event(0.2)  # unsubscribed: no executionReport
        assert await subscribe_user(c, srv) == sub_id + 1  # and it may subscribe again


async def test_ws_api_order_place_executed_but_503(srv: MockServer) -> None:
    async with ws_api(srv) as c:
        await subscribe_user(c, srv)
        await add_fault(srv, {"type": "http_error", "path": "/api/v3/order", "method": "POST", "status": 503})
        r = await c.signed("order.place", dict(ORDER, price="60000", newClientOrderId="ws-unknown"))
        assert r["status"] == 503
        assert r["error"] == {"code": -1007, "msg": errors.timeout().msg}
        report = (await c.next_event())["event"]
        assert (report["e"], report["c"], report["X"]) == ("executionReport", "ws-unknown", "NEW")
        q = await srv.client().signed("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="ws-unknown")
        assert q.json()["status"] == "NEW"


async def test_ws_api_rejects_rate_limits_and_delays(srv: MockServer) -> None:
    async with ws_api(srv) as c:
        await add_fault(srv, {"type": "reject_orders", "code": -2010, "msg": "Duplicate order sent."})
        r = await c.signed("order.place", dict(ORDER, price="60000"))
        assert (r["status"], r["error"]) == (400, {"code": -2010, "msg": "Duplicate order sent."})
        assert srv.state.engine.open_orders("trader") == []
        await add_fault(srv, {"type": "rate_limit", "retryAfter": 5, "wsMethod": "time"})
        r = await c.call("time")
        assert r["status"] == 429 and r["error"]["code"] == -1003
        data = r["error"]["data"]
        assert data["retryAfter"] == data["serverTime"] + 5000
        assert (await c.call("time"))["status"] == 200
        await subscribe_user(c, srv)
        await add_fault(srv, {"type": "delay", "transport": "ws", "path": "/api/v3/order", "ms": 400})
        rest = await srv.client().signed("POST", "/api/v3/order", price="60000", **ORDER)
        assert rest.status == 200  # transport ws: REST unaffected
        await c.next_event()
        await c.next_event()
        t0 = time.monotonic()
        call = asyncio.ensure_future(c.signed("order.place", dict(ORDER, price="60000", newClientOrderId="late")))
        event = (await c.next_event())["event"]
        assert event["c"] == "late" and not call.done()  # the order's events come before its answer
        assert (await call)["status"] == 200 and time.monotonic() - t0 >= 0.38


# ----------------------------------------------------------------------------- the control plane
@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"type": "nope"}, "type"),
        ({"ms": 5}, "type"),
        ({"type": ["delay"]}, "type"),
        ({"type": "delay"}, "ms"),
        ({"type": "delay", "ms": -1}, "ms"),
        ({"type": "delay", "ms": 10, "colour": "red"}, "colour"),
        ({"type": "http_error", "status": 200}, "status"),
        ({"type": "http_error", "count": 0}, "count"),
        ({"type": "http_error", "execute": "yes"}, "execute"),
        ({"type": "http_error", "path": "api/v3/order"}, "path"),
        ({"type": "http_error", "method": "PATCH"}, "method"),
        ({"type": "rate_limit", "status": 503}, "status"),
        ({"type": "reject_orders", "code": -1013}, "msg"),
        ({"type": "skip_depth", "symbol": "NOPE"}, "symbol"),
        ({"type": "skip_depth"}, "symbol"),
        ({"type": "drop_streams", "target": "both"}, "target"),
        ({"type": "symbol_status", "symbol": "BTCUSDT", "status": "CLOSED"}, "status"),
        ({"type": "terminate_user_streams", "account": "ghost"}, "account"),
        ({"type": "clock_skew", "ms": "3s"}, "ms"),
    ],
)
async def test_bad_fault_specs_are_rejected_naming_the_key(srv: MockServer, spec: dict[str, Any], key: str) -> None:
    status, body = await post_fault(srv, spec)
    assert status == 400
    assert body["error"].startswith(f"{key}:"), body
    assert (await fault_view(srv))["active"] == []


async def test_batches_are_all_or_nothing_and_bodies_must_be_json(srv: MockServer) -> None:
    status, body = await post_fault(srv, [{"type": "reject_orders"}, {"type": "delay"}])
    assert status == 400 and body["error"].startswith("[1].ms:")
    assert (await fault_view(srv))["active"] == []
    status, body = await post_fault(srv, [{"type": "reject_orders", "count": None}, {"type": "delay", "ms": 1}])
    assert status == 200 and [f["type"] for f in body] == ["reject_orders", "delay"]
    assert body[0]["remaining"] is None and all(f["active"] for f in body)
    r = await srv.anonymous().raw("POST", "/_mock/faults", body="{not json", headers={"Content-Type": "application/json"})
    assert r.status == 400 and "JSON" in r.json()["error"]
    status, body = await post_fault(srv, "drop")
    assert status == 400 and "error" in body


async def test_python_api_delete_one_and_reset(srv: MockServer) -> None:
    plan = srv.state.faults
    fid = plan.add({"type": "reject_orders", "count": None, "label": "all orders fail"})
    skew = plan.add({"type": "clock_skew", "ms": 2500})
    assert isinstance(fid, int) and skew == fid + 1
    with pytest.raises(FaultSpecError, match="^ms:"):
        plan.add({"type": "clock_skew"})
    client = srv.client()
    for _ in range(3):
        r = await client.signed("POST", "/api/v3/order", price="60000", **ORDER)
        assert r.json()["code"] == -2010
    view = await fault_view(srv)
    assert [f["id"] for f in view["active"]] == [fid, skew]
    assert view["active"][0]["applied"] == 3 and view["active"][0]["label"] == "all orders fail"
    assert [e["label"] for e in view["log"] if e["type"] == "reject_orders"] == ["all orders fail"] * 3
    r = await srv.anonymous().raw("DELETE", f"/_mock/faults/{fid}")
    assert r.status == 200
    assert (await srv.anonymous().raw("DELETE", f"/_mock/faults/{fid}")).status == 404
    assert (await client.signed("POST", "/api/v3/order", price="60000", **ORDER)).status == 200
    assert srv.state.clock_skew_ms == 2500
    await srv.anonymous().raw("POST", "/_mock/reset")  # a reset ends every fault
    view = await fault_view(srv)
    assert view["active"] == [] and view["log"] == [] and view["clockSkewMs"] == 0


async def test_drop_user_streams_includes_listen_key_streams(srv: MockServer, http: aiohttp.ClientSession) -> None:
    key = (await srv.client().raw("POST", "/api/v3/userDataStream",
                                  headers={"X-MBX-APIKEY": srv.state.accounts["trader"].api_key})).json()["listenKey"]
    user = await stream(http, srv, f"/ws/{key}")
    market = await stream(http, srv, "/ws/btcusdt@trade")
    body = await add_fault(srv, {"type": "drop_streams", "target": "user"})
    assert body["connections"] == 1
    msg = await asyncio.wait_for(user.receive(), FRAME_TIMEOUT)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
    assert user.close_code == aiohttp.WSCloseCode.ABNORMAL_CLOSURE
    await market.send_str('{"method": "LIST_SUBSCRIPTIONS", "id": 1}')
    assert (await next_json(market)) == {"result": ["btcusdt@trade"], "id": 1}
    await market.close()
