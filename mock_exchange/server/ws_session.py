"""One WebSocket-API connection: its outgoing queue, logged-on key and user-data subscriptions.

Everything the connection sends (responses, subscription events, pings, pongs) goes through
one queue drained by one writer task, so frames leave in the order they were produced and the
synchronous engine listeners never wait on a socket. A client that stops reading is closed
once ``MAX_PENDING`` frames are waiting, instead of growing the server's memory. The writer is
also where a ``stall_streams`` fault holds frames, and ``abort`` serves ``drop_streams``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import WSCloseCode, web

from mock_exchange.server import errors, user_events
from mock_exchange.server.auth import ApiKey
from mock_exchange.server.params import Params
from mock_exchange.server.state import ExchangeState
from mock_exchange.server.user_data import hub_of

log = logging.getLogger("mockex.ws_api")

MAX_PENDING = 50_000
MAX_SUBSCRIPTION_IDS = 65_535  # subscription ids one connection may use over its life

_TEXT, _PING, _PONG = 0, 1, 2
_Item = tuple[int, str | bytes] | None


@dataclass(slots=True)
class Subscription:
    sub_id: int
    account_id: str
    via_logon: bool  # made by userDataStream.subscribe (ends with session.logout)
    detach: Callable[[], None]


class WsSession:
    """The state of one ``/ws-api/v3`` connection."""

    def __init__(
        self,
        state: ExchangeState,
        ws: web.WebSocketResponse,
        ip: str,
        connected_since: int,
        return_rate_limits: bool,
        micro: bool,
    ) -> None:
        self.state = state
        self.ws = ws
        self.ip = ip
        self.connected_since = connected_since
        self.return_rate_limits = return_rate_limits
        self.micro = micro
        self.session_key: ApiKey | None = None
        self.authorized_since: int | None = None
        self.subs: dict[int, Subscription] = {}
        self._sub_ids = itertools.count(0)
        self._issued = 0
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._pings: dict[bytes, int] = {}  # unanswered ping payload -> sent at (ms)
        self._ping_seq = itertools.count(1)
        self.closing = False
        self.close_code: int = WSCloseCode.OK
        self.close_message = b""
        self.writer: asyncio.Task[None] | None = None
        self.transport: asyncio.Transport | None = None  # for abort (set by the handler)
        self.aborted = False

    # --- output -------------------------------------------------------------------------------

    def _put(self, item: _Item) -> None:
        if self.closing:
            return
        if self._queue.qsize() >= MAX_PENDING:
            log.warning("ws-api client %s is not reading; closing", self.ip)
            self.close(WSCloseCode.POLICY_VIOLATION, b"Too many pending messages")
            return
        self._queue.put_nowait(item)

    def send(self, obj: Any) -> None:
        """Queue one JSON text frame."""
        if self.state.wire_taps:
            for tap in self.state.wire_taps:
                tap("ws_out", {"frame": obj})
        self._put((_TEXT, orjson.dumps(obj).decode()))

    def event_times(self, payload: dict[str, Any]) -> dict[str, Any]:
        """An event as this connection wants it (µs times after ``timeUnit=MICROSECOND``)."""
        return user_events.to_micro(payload) if self.micro else payload

    def send_pong(self, payload: bytes | bytearray) -> None:
        self._put((_PONG, bytes(payload)))

    def send_ping(self, now: int) -> None:
        payload = str(next(self._ping_seq)).encode()
        self._pings[payload] = now
        self._put((_PING, payload))

    def on_pong(self, payload: bytes | bytearray) -> None:
        """A pong answers the ping it echoes and every older one; unsolicited pongs do nothing."""
        sent = self._pings.get(bytes(payload))
        if sent is None:
            return
        for key in [k for k, t in self._pings.items() if t <= sent]:
            del self._pings[key]

    def oldest_unanswered_ping(self) -> int | None:
        return min(self._pings.values(), default=None)

    def close(self, code: int = WSCloseCode.OK, message: bytes = b"") -> None:
        """Stop sending after what is queued, then close the socket with ``code``."""
        if self.closing:
            return
        self.close_code, self.close_message = code, message
        self._queue.put_nowait(None)
        self.closing = True

    def abort(self) -> None:
        """Cut the TCP connection without a close frame (a ``drop_streams`` fault)."""
        if not self.closing:
            self.closing = True
            self._queue.put_nowait(None)
        self.aborted = True
        if self.transport is not None:
            self.transport.abort()

    async def run_writer(self) -> None:
        ws = self.ws
        faults = self.state.faults
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    break
                if faults.stalling:
                    await faults.wait_stall("user")
                    if self.aborted:
                        break
                kind, data = item
                if kind == _TEXT:
                    assert isinstance(data, str)
                    await ws.send_str(data)
                elif kind == _PING:
                    assert isinstance(data, bytes)
                    await ws.ping(data)
                else:
                    assert isinstance(data, bytes)
                    await ws.pong(data)
        except (ConnectionError, RuntimeError):  # the peer went away mid-send
            self.closing = True
        finally:
            if not ws.closed and not self.aborted:
                await ws.close(code=self.close_code, message=self.close_message)

    # --- session authentication -----------------------------------------------------------------

    def status(self, now: int) -> dict[str, Any]:
        """The body of ``session.logon`` / ``session.status`` / ``session.logout``."""
        key = self.session_key
        return {
            "apiKey": key.api_key if key is not None else None,
            "authorizedSince": self.authorized_since if key is not None else None,
            "connectedSince": self.connected_since,
            "returnRateLimits": self.return_rate_limits,
            "serverTime": now,
            "userDataStream": bool(self.subs),
        }

    def logon(self, key: ApiKey, now: int) -> None:
        """Authenticate with ``key``; logon subscriptions of another account end."""
        old = self.session_key
        if old is not None and old.account_id != key.account_id:
            self.end_subscriptions(now, only_logon=True)
        self.session_key = key
        self.authorized_since = now

    def logout(self, now: int) -> None:
        self.end_subscriptions(now, only_logon=True)
        self.session_key = None
        self.authorized_since = None

    def authenticate(self, params: Params, now: int, *, need_trade: bool) -> ApiKey:
        """A SIGNED request: explicit apiKey+signature, or the logged-on key. A logged-on key that
        stopped being valid revokes the session (the venue's -2015 behaviour)."""
        session_key = self.session_key
        try:
            return self.state.keys.verify_ws(params, now, need_trade=need_trade, session_key=session_key)
        except errors.BinanceError as err:
            if session_key is not None and not params.has("signature") and err.code == -2015:
                self.logout(now)
            raise

    def authenticate_key_only(self, now: int) -> ApiKey:
        """The logged-on key, still valid (USER_STREAM methods); revokes the session if not."""
        key = self.session_key
        if key is None:
            raise errors.unauthorized()
        try:
            return self.state.keys.require(key.api_key)
        except errors.BinanceError:
            self.logout(now)
            raise

    # --- user data subscriptions ------------------------------------------------------------------

    def subscribe(self, account_id: str, via_logon: bool) -> int:
        """Start delivering ``account_id``'s events; -2035 if this connection already does."""
        if any(s.account_id == account_id for s in self.subs.values()):
            raise errors.subscription_active()
        if self._issued >= MAX_SUBSCRIPTION_IDS:
            raise errors.max_subscription_ids()
        self._issued += 1
        sub_id = next(self._sub_ids)

        def sink(payload: dict[str, Any]) -> None:
            self.send({"subscriptionId": sub_id, "event": self.event_times(payload)})

        detach = hub_of(self.state).subscribe(account_id, sink)
        self.subs[sub_id] = Subscription(sub_id, account_id, via_logon, detach)
        return sub_id

    def end_subscription(self, sub_id: int, now: int) -> None:
        """Stop one subscription and tell the client with ``eventStreamTerminated``."""
        sub = self.subs.pop(sub_id)
        sub.detach()
        self.send({"subscriptionId": sub_id, "event": self.event_times(user_events.event_stream_terminated(now))})

    def end_subscriptions(self, now: int, *, only_logon: bool = False) -> None:
        for sub_id in sorted(self.subs):
            if not only_logon or self.subs[sub_id].via_logon:
                self.end_subscription(sub_id, now)

    def detach_all(self) -> None:
        """The connection is gone: stop routing events to it (nothing to tell anyone)."""
        for sub in self.subs.values():
            sub.detach()
        self.subs.clear()
