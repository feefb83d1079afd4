"""The WebSocket API at ``/ws-api/v3``: one JSON request per text frame, one response per request.

Per request, in the venue's order: frame checks (JSON object, ``id``, ``method``, ``params``),
method lookup (``v3/`` prefix allowed), request weight (429/418 with ``error.data``), then
the method, which for everything but session and user-stream management is the REST handler
itself. The response is queued before the engine's events are published, so a client sees
its ``order.place`` answer before the executionReports it caused.

Connection rules as the venue's (``config.websocket``): opening costs 2 weight, a ping every
20 s with a one-minute pong deadline, a 24 h lifetime, ``{"event":{"e":"serverShutdown"}}``
before a planned shutdown. Malformed frames get an error frame; binary and oversized frames
close only their own connection.

Faults (``state.faults``): request faults apply to a method as to its REST endpoint (matched by
the endpoint's method and path, or by ``wsMethod``); a delayed response is sent later while
the events it caused go out at once. ``WsApiConnections`` lets the plan drop, shut down or
end the user-data subscriptions of these connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import Any

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from mock_exchange.server import errors, user_events
from mock_exchange.server.app import STATE, _to_micro, json_response
from mock_exchange.server.errors import BinanceError
from mock_exchange.server.faults import RequestFaults, targets_of
from mock_exchange.server.params import Params
from mock_exchange.server.routes_userstream import install_user_data
from mock_exchange.server.routes_userstream import reg as userstream_reg
from mock_exchange.server.ws_api_methods import REST_METHODS, Call, Method, build_methods
from mock_exchange.server.ws_session import WsSession

log = logging.getLogger("mockex.ws_api")

PATH = "/ws-api/v3"
CONNECT_WEIGHT = 2
MAX_FRAME_BYTES = 64 * 1024  # ours: the venue does not publish its request size limit
CLOSE_TIMEOUT_S = 2.0
_ID_RE = re.compile(r"[a-zA-Z0-9\-_]{1,36}")
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1
_INVALID_ID = (
    "Invalid 'id' in JSON request; expected an integer, a string matching '^[a-zA-Z0-9-_]{1,36}$', or null."
)

SESSIONS: web.AppKey[set[WsSession]] = web.AppKey("ws_api_sessions", set)
_NO_ROUTE: tuple[str | None, str | None] = (None, None)
METHODS: web.AppKey[dict[str, Method]] = web.AppKey("ws_api_methods", dict)
__all__ = ["add_routes", "userstream_reg"]  # build_app registers userstream_reg's REST endpoints


def _json_error(msg: str) -> BinanceError:
    return BinanceError(-1135, msg)


def unknown_method() -> BinanceError:
    """Ours: the venue's answer to an unknown method is not documented."""
    return errors.unsupported_operation()


def _valid_id(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return _INT64_MIN <= value <= _UINT64_MAX
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def _error_body(err: BinanceError, now: int) -> dict[str, Any]:
    body: dict[str, Any] = {"code": err.code, "msg": err.msg}
    if err.retry_at_ms is not None:
        body["data"] = {"serverTime": now, "retryAfter": err.retry_at_ms}
    elif err.data is not None:
        body["data"] = err.data
    return body


def _frame_error(req_id: Any, err: BinanceError) -> dict[str, Any]:
    return {"id": req_id, "status": err.http_status, "error": {"code": err.code, "msg": err.msg}}


def handle_text(sess: WsSession, methods: dict[str, Method], text: str) -> None:
    """Serve one text frame: queue exactly one response frame (plus any events it causes)."""
    for tap in sess.state.wire_taps:
        tap("ws_in", {"text": text})
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        sess.send(_frame_error(None, errors.invalid_json_request()))
        return
    if not isinstance(frame, dict):
        sess.send(_frame_error(None, errors.invalid_json_request()))
        return
    req_id = frame.get("id", ...)
    if req_id is ... or not _valid_id(req_id):
        sess.send(_frame_error(None, _json_error(_INVALID_ID)))
        return
    name = frame.get("method")
    if not isinstance(name, str) or not name:
        sess.send(_frame_error(req_id, _json_error("Invalid 'method' in JSON request; expected a string.")))
        return
    raw_params = frame.get("params")
    if raw_params is not None and not isinstance(raw_params, dict):
        sess.send(_frame_error(req_id, _json_error("Invalid 'params' in JSON request; expected an object.")))
        return
    if name.startswith("v3/"):
        name = name[3:]
    method = methods.get(name)
    state = sess.state
    if method is None or (method.legacy and not state.config.listen_key):
        sess.send(_frame_error(req_id, unknown_method()))
        return
    run_method(sess, method, req_id, raw_params or {})


def run_method(sess: WsSession, method: Method, req_id: Any, raw_params: dict[str, Any]) -> None:
    faults = sess.state.faults
    hit = None
    if faults.requests:
        http_method, path = REST_METHODS.get(method.name, _NO_ROUTE)
        hit = faults.on_request("ws", http_method, path, method.name)
        if hit is not None and hit.entry_delay_s > 0 and hit.reject is None:
            entry, hit.entry_delay_s = hit.entry_delay_s, 0.0  # order-entry latency: processed later
            asyncio.get_running_loop().call_later(entry, _run_method, sess, method, req_id, raw_params, hit)
            return
    _run_method(sess, method, req_id, raw_params, hit)


def _run_method(sess: WsSession, method: Method, req_id: Any, raw_params: dict[str, Any],
                hit: RequestFaults | None) -> None:
    state = sess.state
    now = state.clock()
    show_limits = sess.return_rate_limits
    call: Call | None = None
    status = 200
    result: Any = None
    error: dict[str, Any] | None = None
    banned = False
    try:
        if hit is not None and hit.reject is not None:
            raise hit.reject  # a fault answers before anything is processed
        params = Params.from_dict(raw_params)
        wanted = params.opt_bool("returnRateLimits")
        if wanted is not None:
            show_limits = wanted
        state.limiter.charge_request(sess.ip, method.weight_for(params))
        call = Call(sess, params, now)
        result = method.run(call)
        if sess.micro:
            result = _to_micro(result)
    except BinanceError as err:
        status, error = err.http_status, _error_body(err, state.clock())
        banned = err.http_status == 418
    except Exception:  # a bug: the venue's internal error, never a traceback, never a dead socket
        log.exception("internal error in ws-api method %s", method.name)
        status, error = 500, errors.unknown().body()
    if hit is not None and hit.replace is not None:  # processed, answered with the fault
        status, error = hit.replace.http_status, _error_body(hit.replace, state.clock())
        banned = status == 418
    response: dict[str, Any] = {"id": req_id, "status": status}
    if error is None:
        response["result"] = result
    else:
        response["error"] = error
    if show_limits:
        account = call.order_account if call is not None else None
        response["rateLimits"] = state.limiter.ws_rate_limits(sess.ip, account)
    if hit is not None and hit.delay_s > 0:
        asyncio.get_running_loop().call_later(hit.delay_s, sess.send, response)
    else:
        sess.send(response)
    state.publish()
    if banned:
        sess.close(WSCloseCode.POLICY_VIOLATION, b"IP banned")


def _url_flag(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    raise errors.invalid_parameter(name)


def _url_micro(value: str | None) -> bool:
    if value is None or value.upper() == "MILLISECOND":
        return False
    if value.upper() == "MICROSECOND":
        return True
    raise errors.invalid_time_unit()


async def _keepalive(sess: WsSession) -> None:
    """Server pings, the pong deadline and the maximum connection lifetime."""
    cfg = sess.state.config.websocket
    clock = sess.state.base_clock  # connection timers do not jump with a clock_skew fault
    start = clock()
    next_ping = start + cfg.ping_interval_ms
    while not sess.closing:
        now = clock()
        if now - start >= cfg.max_lifetime_ms:
            sess.close(WSCloseCode.OK, b"Connection lifetime exceeded")
            return
        oldest = sess.oldest_unanswered_ping()
        if oldest is not None and now - oldest >= cfg.pong_timeout_ms:
            sess.close(WSCloseCode.POLICY_VIOLATION, b"Pong timeout")
            return
        if now >= next_ping:
            sess.send_ping(now)
            next_ping = now + cfg.ping_interval_ms
            oldest = sess.oldest_unanswered_ping()
        wake = min(next_ping, start + cfg.max_lifetime_ms)
        if oldest is not None:
            wake = min(wake, oldest + cfg.pong_timeout_ms)
        await asyncio.sleep(min(1.0, max(0.005, (wake - clock()) / 1000)))


async def ws_api_handler(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    ip = request.remote or "127.0.0.1"
    try:
        url_limits = _url_flag(request.query.get("returnRateLimits"), "returnRateLimits")
        micro = _url_micro(request.query.get("timeUnit"))
        state.limiter.charge_request(ip, CONNECT_WEIGHT)
    except BinanceError as err:
        return json_response(err.body(), err.http_status, err.headers)
    ws = web.WebSocketResponse(autoping=False, max_msg_size=MAX_FRAME_BYTES, timeout=CLOSE_TIMEOUT_S)
    if not ws.can_prepare(request).ok:
        return json_response(errors.not_found().body(), 400)
    await ws.prepare(request)
    sess = WsSession(state, ws, ip, state.clock(), url_limits is not False, micro)
    sess.transport = request.transport
    sessions = request.app[SESSIONS]
    methods = request.app[METHODS]
    sessions.add(sess)
    sess.writer = asyncio.create_task(sess.run_writer())
    keeper = asyncio.create_task(_keepalive(sess))
    try:
        async for msg in ws:
            if sess.closing:
                break
            try:
                if msg.type == WSMsgType.TEXT:
                    handle_text(sess, methods, msg.data)
                elif msg.type == WSMsgType.PING:
                    sess.send_pong(msg.data)
                elif msg.type == WSMsgType.PONG:
                    sess.on_pong(msg.data)
                elif msg.type == WSMsgType.BINARY:
                    sess.close(WSCloseCode.UNSUPPORTED_DATA, b"Binary frames are not supported")
                elif msg.type == WSMsgType.ERROR:  # e.g. an oversized frame: aiohttp closed with 1009
                    break
            except Exception:  # a bug must cost one frame, not the connection
                log.exception("ws-api frame handling failed")
    finally:
        sessions.discard(sess)
        sess.detach_all()
        keeper.cancel()
        sess.close(sess.close_code, sess.close_message)
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(sess.writer, CLOSE_TIMEOUT_S + 1)
    return ws


def _announce_shutdown(sessions: list[WsSession], now: int) -> None:
    for sess in sessions:
        sess.send({"event": sess.event_times(user_events.server_shutdown(now))})
        sess.close(WSCloseCode.GOING_AWAY, b"Server shutdown")


async def _on_shutdown(app: web.Application) -> None:
    """Planned shutdown: every connection gets ``serverShutdown``, then a going-away close."""
    live: set[WsSession] = app[SESSIONS]
    sessions = sorted(live, key=id)
    if not sessions:
        return
    _announce_shutdown(sessions, app[STATE].clock())
    writers = [s.writer for s in sessions if s.writer is not None]
    if writers:
        await asyncio.wait(writers, timeout=CLOSE_TIMEOUT_S + 1)


class WsApiConnections:
    """``/ws-api/v3`` connections as the fault plan's connection actions see them: all of them
    are on the ``user`` side (they carry user-data subscriptions and orders)."""

    def __init__(self, sessions: set[WsSession]) -> None:
        self.sessions = sessions

    def _matching(self, target: str) -> list[WsSession]:
        return [s for s in sorted(self.sessions, key=id) if not s.closing] if targets_of(target)[1] else []

    def drop(self, target: str) -> int:
        found = self._matching(target)
        for sess in found:
            sess.abort()
        return len(found)

    def shutdown(self, target: str) -> int:
        found = self._matching(target)
        if found:
            _announce_shutdown(found, found[0].state.clock())
        return len(found)

    def terminate_user_streams(self, account: str | None, now: int) -> int:
        n = 0
        for sess in self._matching("user"):
            for sub_id in sorted(sess.subs):
                if account is None or sess.subs[sub_id].account_id == account:
                    sess.end_subscription(sub_id, now)
                    n += 1
        return n

    def resume(self) -> None:
        pass  # stalled writers re-check the plan every STALL_POLL_S


_FAULTS: web.AppKey[WsApiConnections] = web.AppKey("ws_api_faults", WsApiConnections)


async def _on_startup(app: web.Application) -> None:
    app[STATE].faults.attach(app[_FAULTS])


async def _on_cleanup(app: web.Application) -> None:
    app[STATE].faults.detach(app[_FAULTS])


def add_routes(app: web.Application) -> None:
    """Register ``/ws-api/v3``, its shutdown hook and the user-data plumbing on ``app``."""
    sessions: set[WsSession] = set()
    app[SESSIONS] = sessions
    app[METHODS] = build_methods()
    app[_FAULTS] = WsApiConnections(sessions)
    app.router.add_get(PATH, ws_api_handler)
    app.on_startup.append(_on_startup)
    app.on_shutdown.append(_on_shutdown)
    app.on_cleanup.append(_on_cleanup)
    install_user_data(app)
