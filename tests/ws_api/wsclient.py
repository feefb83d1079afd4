"""A small WebSocket-API client for the tests: signs like the venue documents, matches responses
to requests by id, and keeps user-data events (frames without an ``id``) in arrival order."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mock_exchange.testing import MockServer

TIMEOUT = 5.0


def payload_of(params: dict[str, Any]) -> str:
    """The documented WebSocket-API signature payload: sorted by name, ``k=v``, unencoded."""
    return "&".join(f"{k}={_text(v)}" for k, v in sorted(params.items()) if k != "signature")


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def hmac_sign(params: dict[str, Any], api_key: str, secret: str, now: int) -> dict[str, Any]:
    p = {**params, "apiKey": api_key}
    p.setdefault("timestamp", now)
    p["signature"] = hmac.new(secret.encode(), payload_of(p).encode(), hashlib.sha256).hexdigest()
    return p


def ed_sign(params: dict[str, Any], api_key: str, key: Ed25519PrivateKey, now: int) -> dict[str, Any]:
    p = {**params, "apiKey": api_key}
    p.setdefault("timestamp", now)
    p["signature"] = base64.b64encode(key.sign(payload_of(p).encode())).decode()
    return p


class WsApi:
    """One ``/ws-api/v3`` connection."""

    def __init__(self, srv: MockServer, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.srv = srv
        self.ws = ws
        self.events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._pending: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self.closed: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = orjson.loads(msg.data)
            fut = self._pending.pop(frame.get("id"), None) if "id" in frame else None
            if fut is not None and not fut.done():
                fut.set_result(frame)
            else:
                self.events.put_nowait(frame)
        if not self.closed.done():
            self.closed.set_result(self.ws.close_code)

    async def send_raw(self, text: str) -> dict[str, Any]:
        """Send a frame the server cannot match to a request id: the answer arrives as an 'event'."""
        await self.ws.send_str(text)
        return await self.next_event()

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   req_id: Any = None) -> dict[str, Any]:
        rid = req_id if req_id is not None else f"r{next(self._ids)}"
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[rid] = fut
        frame: dict[str, Any] = {"id": rid, "method": method}
        if params is not None:
            frame["params"] = params
        await self.ws.send_str(orjson.dumps(frame).decode())
        return await asyncio.wait_for(fut, TIMEOUT)

    async def signed(self, method: str, params: dict[str, Any] | None = None, *, account: str | None = None,
                     **extra: Any) -> dict[str, Any]:
        info = self.srv.state.accounts[account] if account else next(iter(self.srv.state.accounts.values()))
        p = hmac_sign(dict(params or {}, **extra), info.api_key, info.secret_key, self.srv.state.clock())
        return await self.call(method, p)

    async def next_event(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def no_event(self, wait: float = 0.2) -> None:
        await asyncio.sleep(wait)
        assert self.events.empty(), f"unexpected frame: {self.events.get_nowait()}"

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()


@asynccontextmanager
async def ws_api(srv: MockServer, query: str = "") -> AsyncIterator[WsApi]:
    url = srv.base_url.replace("http://", "ws://") + "/ws-api/v3" + (f"?{query}" if query else "")
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        client = WsApi(srv, ws)
        try:
            yield client
        finally:
            await client.close()
