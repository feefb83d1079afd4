"""The user stream data source: against the mock (events in order, signed subscription), and
against a scripted WebSocket server for the venue's endings (eventStreamTerminated,
serverShutdown, refused subscriptions, -1021 on subscribe)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from connector.auth import Auth
from connector.clock import WallClock
from connector.config import VenueConfig
from connector.time_sync import TimeSynchronizer
from connector.user_stream import UserStreamTracker, UserStreamTrackerDataSource
from mock_exchange.testing import MockServer, SignedClient, bound_port
from tests.connector.market_helpers import eventually, venue_config

Script = Callable[[web.WebSocketResponse, dict[str, Any], int], Any]


def _tracker(config: VenueConfig, **kwargs: Any) -> tuple[UserStreamTracker, TimeSynchronizer]:
    fetched: list[int] = []

    async def fetch() -> int:
        fetched.append(1)
        return config.clock.now_ms()

    sync = TimeSynchronizer(config.clock, fetch)
    assert config.api_key is not None
    source = UserStreamTrackerDataSource(config, Auth(config.api_key, config.api_secret), sync, **kwargs)
    return UserStreamTracker(source), sync


async def _next(queue: asyncio.Queue[dict[str, Any]], timeout: float = 5.0) -> dict[str, Any]:
    return await asyncio.wait_for(queue.get(), timeout)


async def test_events_arrive_in_order_from_the_venue(server: MockServer, client: SignedClient) -> None:
    cfg = venue_config(server)
    tracker, _ = _tracker(cfg)
    subscribed: list[int] = []
    tracker.data_source.add_subscribed_listener(lambda: subscribed.append(1))
    await tracker.start()
    try:
        await eventually(lambda: tracker.is_connected, what="subscribed")
        assert subscribed == [1]
        ids = [f"order-{i}" for i in range(6)]
        for i, cid in enumerate(ids):
            resp = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                                       timeInForce="GTC", quantity="0.001", price=str(60000 - i),
                                       newClientOrderId=cid)
            assert resp.status == 200, resp.body
        seen: list[str] = []
        while len(seen) < len(ids):
            event = await _next(tracker.user_stream)
            if event["e"] == "executionReport":
                seen.append(event["c"])
            else:
                assert event["e"] == "outboundAccountPosition"
        assert seen == ids
        assert tracker.last_recv_time > 0
    finally:
        await tracker.stop()
    assert not tracker.is_connected


class ScriptedVenue:
    """A WebSocket-API endpoint whose n-th connection runs ``scripts[n]`` after the subscribe."""

    def __init__(self, scripts: list[Script]) -> None:
        self.scripts = scripts
        self.connections = 0
        self.requests: list[dict[str, Any]] = []
        self.connected_at: list[float] = []

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        n = self.connections
        self.connections += 1
        self.connected_at.append(asyncio.get_running_loop().time())
        script = self.scripts[min(n, len(self.scripts) - 1)]
        async for msg in ws:
            req = json.loads(msg.data)
            self.requests.append(req)
            if await script(ws, req, n) is False:
                break
        await ws.close()
        return ws


@pytest.fixture
async def scripted() -> AsyncIterator[Callable[[list[Script]], Any]]:
    runners: list[web.AppRunner] = []

    async def start(scripts: list[Script]) -> tuple[ScriptedVenue, VenueConfig]:
        venue = ScriptedVenue(scripts)
        app = web.Application()
        app.router.add_get("/ws-api/v3", venue.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        cfg = VenueConfig.custom(f"http://127.0.0.1:{bound_port(site)}", api_key="key", api_secret="secret",
                                 clock=WallClock(), request_timeout_s=2)
        return venue, cfg

    yield start
    for runner in runners:
        await runner.cleanup()


def ok(req: dict[str, Any]) -> dict[str, Any]:
    return {"id": req["id"], "status": 200, "result": {"subscriptionId": 0}}


def event(n: int) -> dict[str, Any]:
    return {"subscriptionId": 0, "event": {"e": "balanceUpdate", "E": n, "a": "BTC", "d": "1", "T": n}}


async def test_terminated_and_shutdown_streams_are_resubscribed_in_order(scripted: Any) -> None:
    async def terminated(ws: web.WebSocketResponse, req: dict[str, Any], n: int) -> bool:
        await ws.send_json(ok(req))
        await ws.send_json(event(1))
        await ws.send_json({"subscriptionId": 0, "event": {"e": "eventStreamTerminated", "E": 2}})
        return True  # the server keeps the connection; the client must leave and resubscribe

    async def shutdown(ws: web.WebSocketResponse, req: dict[str, Any], n: int) -> bool:
        await ws.send_json(ok(req))
        await ws.send_json(event(3))
        await ws.send_json({"event": {"e": "serverShutdown", "E": 4}})
        return False

    async def steady(ws: web.WebSocketResponse, req: dict[str, Any], n: int) -> bool:
        await ws.send_json(ok(req))
        await ws.send_json(event(5))
        return True

    venue, cfg = await scripted([terminated, shutdown, steady])
    tracker, _ = _tracker(cfg, min_backoff_s=0.01)
    calls: list[int] = []
    tracker.data_source.add_subscribed_listener(lambda: calls.append(1))
    await tracker.start()
    try:
        times = [(await _next(tracker.user_stream))["E"] for _ in range(3)]
        assert times == [1, 3, 5]  # the control events are not forwarded
        assert venue.connections == 3 and len(calls) == 3
        assert tracker.data_source.subscriptions == 3
        for req in venue.requests:
            assert req["method"] == "userDataStream.subscribe.signature"
            params = req["params"]
            assert params["apiKey"] == "key" and set(params) == {"apiKey", "timestamp", "recvWindow", "signature"}
            assert Auth("key", "secret").sign(Auth.ws_payload(params)) == params["signature"]
    finally:
        await tracker.stop()


async def test_refused_subscription_backs_off_exponentially(scripted: Any) -> None:
    async def refuse(ws: web.WebSocketResponse, req: dict[str, Any], n: int) -> bool:
        await ws.send_json({"id": req["id"], "status": 401,
                            "error": {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}})
        return False

    async def accept(ws: web.WebSocketResponse, req: dict[str, Any], n: int) -> bool:
        await ws.send_json(ok(req))
        await ws.send_json(event(9))
        return True

    venue, cfg = await scripted([refuse, refuse, refuse, accept])
    tracker, _ = _tracker(cfg, min_backoff_s=0.05, max_backoff_s=1.0)
    await tracker.start()
    try:
        assert (await _next(tracker.user_stream))["E"] == 9
        gaps = [b - a for a, b in zip(venue.connected_at, venue.connected_at[1:], strict=False)]
        assert len(gaps) == 3
        assert gaps[0] >= 0.045 and gaps[1] >= 0.095 and gaps[2] >= 0.19  # 0.05, 0.1, 0.2 s
        assert "-2015" in tracker.data_source.last_error
    finally:
        await tracker.stop()


async def test_subscribe_timestamp_rejected_resyncs_once(scripted: Any) -> None:
    async def first_late(ws: web.WebSocketResponse, req: dict[str, Any], n: int) -> bool:
        if len(venue.requests) == 1:
            await ws.send_json({"id": req["id"], "status": 400, "error": {
                "code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}})
        else:
            await ws.send_json(ok(req))
            await ws.send_json(event(7))
        return True

    venue, cfg = await scripted([first_late])
    tracker, sync = _tracker(cfg)
    await tracker.start()
    try:
        assert (await _next(tracker.user_stream))["E"] == 7
        assert venue.connections == 1 and len(venue.requests) == 2
        assert sync.sync_count == 2  # the first sync, then the resync after -1021
    finally:
        await tracker.stop()
