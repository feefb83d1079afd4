"""The account's user data stream over the WebSocket API (binance-spot-api.md §10.1, §11).

One connection to ``config.ws_api_url``; ``userDataStream.subscribe.signature`` (WS-API signing,
works with HMAC and Ed25519 keys, no listenKey) starts the subscription and events arrive as
``{"subscriptionId": N, "event": {...}}``. The inner event objects are put on an asyncio.Queue in
arrival order. ``eventStreamTerminated`` and ``serverShutdown`` end the connection on purpose,
so the source reconnects at once; failures reconnect with exponential backoff. Whoever keeps
state from these events should resynchronise by REST after every (re)subscription: listeners
registered with ``add_subscribed_listener`` are called each time, because events sent while
the connection was down are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from connector.auth import Auth
from connector.config import VenueConfig
from connector.time_sync import TimeSynchronizer

log = logging.getLogger(__name__)

SUBSCRIBE_METHOD = "userDataStream.subscribe.signature"
INVALID_TIMESTAMP = -1021
_RECONNECT_EVENTS = frozenset({"eventStreamTerminated", "serverShutdown"})


class UserStreamError(Exception):
    """The venue refused the subscription (code and message from its error frame)."""

    def __init__(self, code: int | None, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg


class UserStreamTrackerDataSource:
    """Connects, subscribes and forwards the account's events; reconnects forever."""

    def __init__(self, config: VenueConfig, auth: Auth, time_sync: TimeSynchronizer, *,
                 min_backoff_s: float = 0.1, max_backoff_s: float = 5.0, heartbeat_s: float = 10.0,
                 subscribe_timeout_s: float | None = None) -> None:
        self.config = config
        self.auth = auth
        self.time_sync = time_sync
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.heartbeat_s = heartbeat_s
        self.subscribe_timeout_s = subscribe_timeout_s or max(1.0, config.request_timeout_s)
        self._ids = itertools.count(1)
        self._subscribed_listeners: list[Callable[[], None]] = []
        self.is_subscribed = False
        self.subscription_id: int | None = None
        self.subscriptions = 0  # successful subscriptions so far (first one included)
        self.disconnects = 0
        self.last_recv_time = 0.0  # config.clock seconds of the last frame
        self.last_error: str = ""

    def add_subscribed_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every successful (re)subscription."""
        self._subscribed_listeners.append(listener)

    async def listen_for_user_stream(self, output: asyncio.Queue[dict[str, Any]]) -> None:
        """Run until cancelled: forward every user-data event to ``output``."""
        backoff = self.min_backoff_s
        async with aiohttp.ClientSession() as session:
            while True:
                subscribed_before = self.subscriptions
                failed = False
                try:
                    await self._run_connection(session, output)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # network, protocol or a refused subscription
                    failed = True
                    self.last_error = repr(exc)
                    log.warning("user stream connection failed: %r", exc)
                finally:
                    if self.is_subscribed:
                        self.disconnects += 1
                    self.is_subscribed = False
                    self.subscription_id = None
                if self.subscriptions > subscribed_before:
                    backoff = self.min_backoff_s  # this connection worked: start the backoff over
                # ended on purpose by the venue (terminated, shutdown): come back at once
                delay = backoff if failed else self.min_backoff_s
                if failed:
                    backoff = min(self.max_backoff_s, backoff * 2)
                await asyncio.sleep(delay)

    async def _run_connection(self, session: aiohttp.ClientSession, output: asyncio.Queue[dict[str, Any]]) -> None:
        async with session.ws_connect(self.config.ws_api_url, heartbeat=self.heartbeat_s,
                                      timeout=aiohttp.ClientWSTimeout(ws_close=2.0)) as ws:
            await self._subscribe(ws, output)
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    if msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                        break
                    continue
                self.last_recv_time = self.config.clock.now()
                if not self._deliver(msg.data, output):
                    log.info("user stream ended by the venue; reconnecting")
                    return
            raise ConnectionError(f"user stream connection closed (code {ws.close_code})")

    def _deliver(self, text: str, output: asyncio.Queue[dict[str, Any]]) -> bool:
        """Queue one frame's event; False when the frame ends the stream."""
        frame = json.loads(text)
        if not isinstance(frame, dict):
            return True
        event = frame.get("event")
        if not isinstance(event, dict):
            return True  # a late response to a request: nothing to forward
        if event.get("e") in _RECONNECT_EVENTS:
            return False
        output.put_nowait(event)
        return True

    async def _subscribe(self, ws: aiohttp.ClientWebSocketResponse, output: asyncio.Queue[dict[str, Any]]) -> None:
        """Send the signed subscribe request and wait for its answer (resync and retry once on -1021)."""
        await self.time_sync.ensure_synced()
        for attempt in range(2):
            req_id = f"uds-{next(self._ids)}"
            params: dict[str, Any] = {"timestamp": self.time_sync.server_time_ms(),
                                      "recvWindow": self.config.recv_window_ms}
            await ws.send_str(json.dumps({"id": req_id, "method": SUBSCRIBE_METHOD,
                                          "params": self.auth.sign_ws_params(params)}))
            reply = await asyncio.wait_for(self._await_reply(ws, req_id, output), self.subscribe_timeout_s)
            if reply.get("status") == 200:
                result = reply.get("result") or {}
                self.subscription_id = result.get("subscriptionId")
                self.is_subscribed = True
                self.subscriptions += 1
                log.info("user stream subscribed (subscription %s)", self.subscription_id)
                for listener in list(self._subscribed_listeners):
                    try:
                        listener()
                    except Exception:
                        log.exception("user stream subscribed-listener failed")
                return
            error = reply.get("error") or {}
            code = error.get("code")
            if code == INVALID_TIMESTAMP and attempt == 0:
                await self.time_sync.update()
                continue
            raise UserStreamError(code if isinstance(code, int) else None, str(error.get("msg", reply)))

    async def _await_reply(self, ws: aiohttp.ClientWebSocketResponse, req_id: str,
                           output: asyncio.Queue[dict[str, Any]]) -> dict[str, Any]:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                if msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE):
                    break
                continue
            self.last_recv_time = self.config.clock.now()
            frame = json.loads(msg.data)
            if isinstance(frame, dict) and frame.get("id") == req_id:
                return frame
            if not self._deliver(msg.data, output):
                break
        raise ConnectionError("user stream closed before the subscription was answered")


class UserStreamTracker:
    """Owns the data source's task and the queue the market reads events from."""

    def __init__(self, data_source: UserStreamTrackerDataSource) -> None:
        self.data_source = data_source
        self.user_stream: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @property
    def last_recv_time(self) -> float:
        return self.data_source.last_recv_time

    @property
    def is_connected(self) -> bool:
        return self.data_source.is_subscribed

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.data_source.listen_for_user_stream(self.user_stream),
                                             name="user-stream")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
