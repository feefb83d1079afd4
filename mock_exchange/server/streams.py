"""WebSocket market streams: ``/ws``, ``/ws/<s1>/<s2>``, ``/stream?streams=a/b`` (and legacy
listenKey user streams on the same paths).

This module is the aiohttp side: handshake, the venue's connection rules (server pings and the
pong deadline, the incoming-message rate limit, the stream cap, the 24 h lifetime,
``serverShutdown``), and the control messages. Frames themselves are produced and fanned out
by ``stream_hub``; payload shapes live in ``stream_payloads``; names in ``stream_names``.

Close codes: 1008 (policy violation) for the rate limit ("Too many requests", as the venue
says), a missed pong and too many streams in the URL; 1003 for binary frames; 1009 for a
frame over ``MAX_MESSAGE_BYTES``; 1001 after ``serverShutdown``; 1000 at the end of the
connection's lifetime; 1012 after a control-plane reset for connections carrying update ids
(diff depth, bookTicker). A slow reader is cut without a close frame (its socket is full), and
so are the connections a ``drop_streams`` fault names; a ``server_shutdown`` fault closes with
1001 after ``serverShutdown`` (``stream_faults``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from mock_exchange.server import stream_control as C
from mock_exchange.server import stream_names
from mock_exchange.server.app import STATE, json_response
from mock_exchange.server.errors import BinanceError, invalid_time_unit
from mock_exchange.server.stream_faults import StreamConnections
from mock_exchange.server.stream_hub import TICK_S, Conn, StreamHub, text_frame
from mock_exchange.server.stream_payloads import to_micro
from mock_exchange.server.user_data import hub_of

log = logging.getLogger("mockex.streams")

HUB: web.AppKey[StreamHub] = web.AppKey("stream_hub", StreamHub)
_TICKER: web.AppKey[asyncio.Task[None]] = web.AppKey("stream_ticker", asyncio.Task)
_SESSIONS: web.AppKey[set[Session]] = web.AppKey("stream_sessions", set)
_FAULTS: web.AppKey[StreamConnections] = web.AppKey("stream_faults", StreamConnections)

MAX_MESSAGE_BYTES = 64 * 1024  # incoming frame cap (no venue figure; fits a 1024-stream SUBSCRIBE)
CLOSE_TIMEOUT_S = 2.0  # how long a close waits for the client's close frame
_SHUTDOWN_TIMEOUT_S = 3.0


class Session:
    """One connection's aiohttp side: its socket, the hub's view of it and its timers."""

    def __init__(self, ws: web.WebSocketResponse, conn: Conn, hub: StreamHub) -> None:
        self.ws = ws
        self.conn = conn
        self.hub = hub
        self.close_task: asyncio.Task[None] | None = None
        conn.closer = self.request_close

    def request_close(self, code: int, reason: str) -> None:
        """Close with ``code`` once (flushing queued frames first); safe to call repeatedly."""
        if self.close_task is None:
            self.hub.flush_conn(self.conn)
            self.close_task = asyncio.ensure_future(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code=code, message=reason.encode())


def add_routes(app: web.Application) -> None:
    """Register the stream endpoints and their background tasks on ``app``."""
    app[HUB] = StreamHub(app[STATE])
    app[_SESSIONS] = set()
    app[_FAULTS] = StreamConnections(app[HUB], app[_SESSIONS])
    app.router.add_get("/ws", _handle_ws)
    app.router.add_get("/ws/{tail:.*}", _handle_ws)
    app.router.add_get("/stream", _handle_stream)
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)
    app.on_cleanup.append(_on_cleanup)


# ----------------------------------------------------------------------------- lifecycle
async def _on_startup(app: web.Application) -> None:
    hub = app[HUB]
    hub.loop = asyncio.get_running_loop()
    hub.state.listeners.append(hub.on_events)
    hub.state.faults.attach(app[_FAULTS])
    app[_TICKER] = asyncio.create_task(_tick_loop(hub))


async def _on_shutdown(app: web.Application) -> None:
    """``serverShutdown`` to every stream connection, then close them (before aiohttp waits
    for the handlers to finish)."""
    hub = app[HUB]
    hub.announce_shutdown()
    live: set[Session] = app[_SESSIONS]
    sessions = list(live)
    for s in sessions:
        s.request_close(1001, "")
    tasks = [s.close_task for s in sessions if s.close_task is not None]
    if tasks:
        await asyncio.wait(tasks, timeout=_SHUTDOWN_TIMEOUT_S)


async def _on_cleanup(app: web.Application) -> None:
    hub = app[HUB]
    task = app.get(_TICKER)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    with contextlib.suppress(ValueError):
        hub.state.listeners.remove(hub.on_events)
    hub.state.faults.detach(app[_FAULTS])


async def _tick_loop(hub: StreamHub) -> None:
    """The 100 ms heartbeat, on loop time (virtual under a virtual-time loop); never bursts
    to catch up after a stall."""
    loop = asyncio.get_running_loop()
    n = 0
    due = loop.time()
    while True:
        due += TICK_S
        delay = due - loop.time()
        if delay < 0:
            due = loop.time()
            delay = 0.0
        await asyncio.sleep(delay)
        n += 1
        hub.tick(n)


# ----------------------------------------------------------------------------- handshake
async def _handle_ws(request: web.Request) -> web.StreamResponse:
    return await _serve(request, stream_names.split_path(request.match_info.get("tail", "")), combined=False)


async def _handle_stream(request: web.Request) -> web.StreamResponse:
    return await _serve(request, stream_names.split_path(request.query.get("streams", "")), combined=True)


def _micro(request: web.Request) -> bool:
    unit = request.query.get("timeUnit")
    if unit is None or unit.upper() == "MILLISECOND":
        return False
    if unit.upper() == "MICROSECOND":
        return True
    raise invalid_time_unit()


async def _serve(request: web.Request, names: list[str], combined: bool) -> web.StreamResponse:
    app = request.app
    hub = app[HUB]
    state = hub.state
    try:
        micro = _micro(request)
    except BinanceError as err:
        return json_response(err.body(), err.http_status)
    ws = web.WebSocketResponse(
        autoping=False, compress=False, max_msg_size=MAX_MESSAGE_BYTES, timeout=CLOSE_TIMEOUT_S
    )
    if not ws.can_prepare(request).ok:
        return json_response({"code": -1, "msg": "Expected a WebSocket upgrade on this path."}, 400)
    await ws.prepare(request)
    transport = request.transport
    if transport is None:
        return ws
    conn = hub.open(transport, combined, micro)
    session = Session(ws, conn, hub)
    app[_SESSIONS].add(session)
    keeper: asyncio.Task[None] | None = None
    try:
        wanted = list(dict.fromkeys(n for n in names if _valid(state, n)))
        if len(wanted) > state.config.websocket.max_streams:
            session.request_close(1008, "Too many streams")
        else:
            for name in wanted:
                _subscribe(session, name)
            keeper = asyncio.create_task(_keeper(session))
            await _read_loop(session)
    finally:
        if keeper is not None:
            keeper.cancel()
        if session.close_task is not None:
            with contextlib.suppress(Exception):
                await session.close_task
        hub.close(conn)
        app[_SESSIONS].discard(session)
    return ws


def _valid(state: Any, name: str) -> bool:
    return stream_names.parse(name) is not None or hub_of(state).is_listen_key(name)


# ----------------------------------------------------------------------------- connection rules
async def _read_loop(s: Session) -> None:
    ws, conn = s.ws, s.conn
    loop = asyncio.get_running_loop()
    cfg = s.hub.state.config.websocket
    while True:
        msg = await ws.receive()
        kind = msg.type
        if kind in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
            return
        if s.close_task is not None:
            continue  # closing: ignore what the client still sends until its close frame
        if _over_rate(conn, loop.time(), cfg.max_incoming_per_s):
            s.request_close(1008, "Too many requests")
            continue
        if kind == WSMsgType.TEXT:
            _control(s, msg.data)
        elif kind == WSMsgType.PING:
            with contextlib.suppress(Exception):
                await ws.pong(msg.data)
        elif kind == WSMsgType.PONG:
            _on_pong(conn, msg.data)
        else:
            s.request_close(1003, "Binary frames are not supported")


def _over_rate(conn: Conn, now: float, limit: int) -> bool:
    """True when this message is more than ``limit`` within one second."""
    recent = conn.recent
    recent.append(now)
    if len(recent) > limit:
        return now - recent.pop(0) < 1.0
    return False


def _on_pong(conn: Conn, payload: bytes) -> None:
    """A pong answering one of our pings clears it and every older one; others are ignored."""
    for i, (sent, _) in enumerate(conn.pings):
        if sent == payload:
            del conn.pings[: i + 1]
            return


async def _keeper(s: Session) -> None:
    """Server pings every ``ping_interval_ms``; close when a ping stays unanswered for
    ``pong_timeout_ms`` or the connection reaches ``max_lifetime_ms``."""
    loop = asyncio.get_running_loop()
    cfg = s.hub.state.config.websocket
    interval = cfg.ping_interval_ms / 1000
    pong_timeout = cfg.pong_timeout_ms / 1000
    start = loop.time()
    end = start + cfg.max_lifetime_ms / 1000
    next_ping = start + interval
    conn = s.conn
    while s.close_task is None and not s.ws.closed:
        now = loop.time()
        if now >= end:
            s.request_close(1000, "")
            return
        if conn.pings and now >= conn.pings[0][1] + pong_timeout:
            s.request_close(1008, "Pong timeout")
            return
        if now >= next_ping:
            payload = str(s.hub.state.clock()).encode()
            conn.pings.append((payload, now))
            next_ping = now + interval
            try:
                await s.ws.ping(payload)
            except Exception:
                return
        wake = min(next_ping, end)
        if conn.pings:
            wake = min(wake, conn.pings[0][1] + pong_timeout)
        await asyncio.sleep(max(0.0, wake - loop.time()))


# ----------------------------------------------------------------------------- control messages
def _control(s: Session, text: str) -> None:
    conn = s.conn
    try:
        req = C.parse(text)
        result = _apply(s, req)
        conn.send_json(C.reply(result, req.id))
    except C.ControlError as err:
        conn.send_json(err.body())


def _apply(s: Session, req: C.ControlRequest) -> Any:
    conn, hub = s.conn, s.hub
    state = hub.state
    rid = req.id
    if req.method == C.SUBSCRIBE:
        names = list(dict.fromkeys(req.params))
        for name in names:
            if not _valid(state, name):
                raise C.invalid_stream(rid)
        new = [n for n in names if n not in conn.names]
        if len(conn.names) + len(new) > state.config.websocket.max_streams:
            raise C.too_many_streams(rid)
        for name in new:
            if not _subscribe(s, name):
                raise C.invalid_stream(rid)
        return None
    if req.method == C.UNSUBSCRIBE:
        for name in req.params:
            if name not in conn.names and not _valid(state, name):
                raise C.invalid_stream(rid)
        for name in req.params:
            hub.unsubscribe(conn, name)
        return None
    if req.method == C.LIST_SUBSCRIPTIONS:
        return list(conn.names)
    if req.method == C.GET_PROPERTY:
        return conn.combined
    hub.set_combined(conn, bool(req.params[1]))
    return None


def _subscribe(s: Session, name: str) -> bool:
    """Subscribe a market stream or attach a listenKey user stream; False if neither."""
    conn, hub = s.conn, s.hub
    spec = stream_names.parse(name)
    if spec is not None:
        hub.subscribe(conn, spec)
        return True
    user_data = hub_of(hub.state)
    if not user_data.is_listen_key(name):
        return False
    prefix = b'{"stream":' + orjson.dumps(name) + b',"data":'

    def sink(payload: dict[str, Any]) -> None:
        if conn.closed:
            return
        data = orjson.dumps(to_micro(payload) if conn.micro else payload)
        if conn.combined:
            data = prefix + data + b"}"
        conn.push(text_frame(data))

    try:
        detach = user_data.attach_listen_key(name, sink)
    except KeyError:
        return False
    hub.attach_user(conn, name, detach)
    return True


