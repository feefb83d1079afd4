"""Connection rules: server pings and the pong deadline, the incoming-message limit, the
stream cap, the lifetime, serverShutdown, bad frames and slow readers — each isolated to the
offending connection."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from typing import Any

import aiohttp
import orjson

from mock_exchange.server.streams import HUB, MAX_MESSAGE_BYTES
from mock_exchange.testing import MockServer
from tests.streams.conftest import make_config
from tests.streams.flow import Collector, RandomFlow
from tests.streams.test_control_ws import request, trade


async def wait_close(ws: aiohttp.ClientWebSocketResponse, timeout: float = 3.0) -> tuple[int | None, str, list[Any]]:
    """Read until the server closes: (close code, reason, text frames seen before)."""
    seen: list[Any] = []
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type == aiohttp.WSMsgType.TEXT:
            seen.append(orjson.loads(msg.data))
        elif msg.type == aiohttp.WSMsgType.CLOSE:
            return msg.data, msg.extra or "", seen
        elif msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
            return ws.close_code, "", seen


async def test_pings_answered_keep_the_connection_unanswered_close_it() -> None:
    cfg = make_config(ping_interval_ms=100, pong_timeout_ms=300, max_incoming_per_s=1000)
    async with MockServer(cfg) as srv, aiohttp.ClientSession() as s:
        url = f"ws://127.0.0.1:{srv.port}/ws/btcusdt@trade"
        good = await s.ws_connect(url, autoping=False)
        mute = await s.ws_connect(url, autoping=False)
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def answer() -> int:
            pings = 0
            while loop.time() - start < 1.2:
                msg = await good.receive(timeout=1)
                if msg.type == aiohttp.WSMsgType.PING:
                    pings += 1
                    await good.pong(msg.data)
            return pings

        async def ignore() -> tuple[int | None, float]:
            while True:
                msg = await mute.receive(timeout=2)
                if msg.type == aiohttp.WSMsgType.PING:
                    await mute.pong(b"")  # unsolicited/empty pongs do not count as an answer
                elif msg.type == aiohttp.WSMsgType.CLOSE:
                    return msg.data, loop.time() - start

        pings, (code, after) = await asyncio.gather(answer(), ignore())
        assert pings >= 6
        assert code == 1008 and 0.3 <= after < 2.0
        assert (await request(good, {"method": "LIST_SUBSCRIPTIONS", "id": 1}))["result"] == ["btcusdt@trade"]


async def test_more_than_the_incoming_limit_disconnects() -> None:
    async with MockServer(make_config(max_incoming_per_s=5)) as srv, aiohttp.ClientSession() as s:
        url = f"ws://127.0.0.1:{srv.port}/ws"
        ws = await s.ws_connect(url)
        for i in range(5):
            assert (await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": i}))["result"] == []
        await asyncio.sleep(1.05)
        for i in range(5):  # five more a second later: still within the limit
            await ws.send_str(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 10 + i}).decode())
        await ws.send_str('{"method":"LIST_SUBSCRIPTIONS","id":99}')  # the sixth within one second
        code, reason, seen = await wait_close(ws)
        assert code == 1008 and reason == "Too many requests"
        assert [f["id"] for f in seen] == [10, 11, 12, 13, 14]

        pinger = await s.ws_connect(url, autoping=False)  # ping frames count too
        for _ in range(6):
            await pinger.ping(b"x")
        code, _, _ = await wait_close(pinger)
        assert code == 1008
        other = await s.ws_connect(url)  # a new connection is unaffected
        assert (await request(other, {"method": "LIST_SUBSCRIPTIONS", "id": 1}))["result"] == []


async def test_stream_cap_per_connection() -> None:
    async with MockServer(make_config(max_streams=3, max_incoming_per_s=100)) as srv, aiohttp.ClientSession() as s:
        base = f"ws://127.0.0.1:{srv.port}"
        ws = await s.ws_connect(f"{base}/ws/btcusdt@trade")
        reply = await request(ws, {"method": "SUBSCRIBE", "id": 1,
                                   "params": ["btcusdt@depth", "btcusdt@aggTrade", "ethusdt@trade"]})
        assert reply == {"error": {"code": 2, "msg": "Invalid request: too many streams"}, "id": 1}
        assert (await request(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@depth", "btcusdt@aggTrade"],
                                   "id": 2}))["result"] is None
        assert (await request(ws, {"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 3}))["result"] is None
        assert (await request(ws, {"method": "LIST_SUBSCRIPTIONS", "id": 4}))["result"] == [
            "btcusdt@trade", "btcusdt@depth", "btcusdt@aggTrade"]
        over = await s.ws_connect(f"{base}/stream?streams=a@trade/b@trade/c@trade/d@trade")
        code, reason, _ = await wait_close(over)
        assert code == 1008 and reason == "Too many streams"


async def test_lifetime_ends_the_connection() -> None:
    async with MockServer(make_config(max_lifetime_ms=300)) as srv, aiohttp.ClientSession() as s:
        ws = await s.ws_connect(f"ws://127.0.0.1:{srv.port}/ws/btcusdt@trade")
        loop = asyncio.get_running_loop()
        start = loop.time()
        code, _, _ = await wait_close(ws)
        assert code == 1000 and 0.25 <= loop.time() - start < 2.0


async def test_server_shutdown_event_then_close() -> None:
    srv = await MockServer(make_config()).start()
    async with aiohttp.ClientSession() as s:
        base = f"ws://127.0.0.1:{srv.port}"
        raw = await s.ws_connect(f"{base}/ws/btcusdt@trade")
        comb = await s.ws_connect(f"{base}/stream?streams=btcusdt@trade")
        micro = await s.ws_connect(f"{base}/ws?timeUnit=MICROSECOND")
        stopping = asyncio.create_task(srv.stop())
        results = await asyncio.gather(wait_close(raw), wait_close(comb), wait_close(micro))
        await stopping
    (c1, _, f1), (c2, _, f2), (c3, _, f3) = results
    assert (c1, c2, c3) == (1001, 1001, 1001)
    assert list(f1[0]) == ["e", "E"] and f1[0]["e"] == "serverShutdown" and isinstance(f1[0]["E"], int)
    assert f2[0]["stream"] == "!serverShutdown" and f2[0]["data"]["e"] == "serverShutdown"
    assert f3[0]["E"] > 10**15  # microseconds


async def test_bad_frames_affect_only_their_connection(server: MockServer, session: aiohttp.ClientSession) -> None:
    base = f"ws://127.0.0.1:{server.port}"
    bystander = Collector(await session.ws_connect(f"{base}/ws/btcusdt@trade"))
    binary = await session.ws_connect(f"{base}/ws")
    await binary.send_bytes(b'{"method":"LIST_SUBSCRIPTIONS","id":1}')
    assert (await wait_close(binary))[:2] == (1003, "Binary frames are not supported")
    huge = await session.ws_connect(f"{base}/ws", max_msg_size=0)
    await huge.send_str('{"method":"SUBSCRIBE","params":["' + "x" * MAX_MESSAGE_BYTES + '"],"id":1}')
    assert (await wait_close(huge))[0] == 1009
    garbage = await session.ws_connect(f"{base}/ws")
    for text in ("", "null", "[]", '{"method":null,"id":1}', "\x00", '{"id":1,"method":"SUBSCRIBE","params":{}}'):
        reply = await request(garbage, text)
        assert "error" in reply and reply["error"]["code"] in (2, 3)
    await trade(server)
    frame = await bystander.wait_for(lambda f: f.get("e") == "trade")
    assert frame["s"] == "BTCUSDT"
    assert (await request(garbage, {"method": "LIST_SUBSCRIPTIONS", "id": 2}))["result"] == []
    r = await server.anonymous().public("GET", "/api/v3/ping")
    assert r.status == 200


async def test_slow_reader_is_dropped_without_hurting_others(server: MockServer,
                                                             session: aiohttp.ClientSession) -> None:
    port = server.port
    # A raw client that completes the handshake and then never reads, with tiny socket buffers.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, (
        f"GET /ws/btcusdt@trade/btcusdt@depth@100ms/btcusdt@bookTicker HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    assert b" 101 " in await loop.sock_recv(sock, 1024)
    healthy = Collector(await session.ws_connect(f"ws://127.0.0.1:{port}/ws/btcusdt@trade"))
    await asyncio.sleep(0.05)

    hub = find_hub(server)
    hub.high_water = 16 * 1024
    hub.max_pending = 64 * 1024
    for conn in hub.conns:  # shrink the server side's send buffer of every connection
        s = conn.transport.get_extra_info("socket")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    conns_before = len(hub.conns)
    flow = RandomFlow(server.state, seed=3)
    for _ in range(40):
        await flow.run(200)
        if hub.dropped_slow:
            break
    assert hub.dropped_slow == 1
    assert len(hub.conns) == conns_before - 1
    assert all(c.out_size <= hub.max_pending for c in hub.conns)
    before = {f["t"] for f in healthy.frames}
    await trade(server)
    await healthy.wait_for(lambda f: f.get("e") == "trade" and f["t"] not in before)
    assert healthy.closed is None
    sock.close()


def find_hub(server: MockServer) -> Any:
    runner = server._runner
    assert runner is not None
    return runner.app[HUB]
