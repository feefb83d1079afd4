"""Connection rules of /ws-api/v3 (shortened): pings and the pong deadline, lifetime, serverShutdown."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson

from mock_exchange.testing import MockServer
from tests.ws_api.conftest import two_accounts
from tests.ws_api.wsclient import ws_api


def fast_config(ping_ms: int = 150, pong_ms: int = 450, lifetime_ms: int = 24 * 3600 * 1000) -> MockServer:
    cfg = two_accounts()
    cfg.websocket.ping_interval_ms = ping_ms
    cfg.websocket.pong_timeout_ms = pong_ms
    cfg.websocket.max_lifetime_ms = lifetime_ms
    return MockServer(cfg)


def url(srv: MockServer) -> str:
    return srv.base_url.replace("http://", "ws://") + "/ws-api/v3"


async def test_unanswered_pings_close_the_connection_answered_ones_keep_it() -> None:
    async with (
        fast_config() as srv,
        aiohttp.ClientSession() as session,
        ws_api(srv) as polite,
        session.ws_connect(url(srv), autoping=False) as silent,
    ):
        pings = 0
        while True:
            msg = await silent.receive(3)
            if msg.type == aiohttp.WSMsgType.PING:
                pings += 1
                await silent.pong(b"unsolicited")  # a pong that echoes nothing does not count
                continue
            break
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == aiohttp.WSCloseCode.POLICY_VIOLATION
        assert pings >= 2
        assert (await polite.call("ping"))["status"] == 200  # the answering client is still served


async def test_connection_lifetime() -> None:
    async with fast_config(ping_ms=10_000, lifetime_ms=400) as srv, ws_api(srv) as c:
        assert (await c.call("ping"))["status"] == 200
        assert await asyncio.wait_for(c.closed, 3) == aiohttp.WSCloseCode.OK


async def test_server_shutdown_event_then_going_away() -> None:
    srv = await MockServer(two_accounts()).start()
    async with aiohttp.ClientSession() as session, session.ws_connect(url(srv)) as ws:
        await ws.send_str('{"id":1,"method":"ping"}')
        assert orjson.loads((await ws.receive(3)).data)["status"] == 200
        stopping = asyncio.create_task(srv.stop())
        event = orjson.loads((await ws.receive(3)).data)
        assert event == {"event": {"e": "serverShutdown", "E": event["event"]["E"]}}
        closing = await ws.receive(3)
        assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == aiohttp.WSCloseCode.GOING_AWAY
        await stopping
