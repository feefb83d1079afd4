"""Test utilities: a real mock server on a loopback port and a small signed REST client.

``async with MockServer() as srv:`` starts the full aiohttp app on 127.0.0.1 (port 0), so tests
exercise real sockets; ``srv.client()`` is a signed client for the default funded account.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from aiohttp import web

from mock_exchange.clock import Clock
from mock_exchange.config import ServerConfig
from mock_exchange.server import build_app
from mock_exchange.server.state import ExchangeState


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None


class SignedClient:
    """Sends Binance REST requests, signing with HMAC-SHA256 the way most clients do."""

    def __init__(self, base_url: str, api_key: str | None = None, secret: str | None = None,
                 clock: Clock | None = None) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.secret = secret
        self.clock = clock
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    def _now(self) -> int:
        return self.clock() if self.clock is not None else time.time_ns() // 1_000_000

    def sign(self, payload: str) -> str:
        return hmac.new((self.secret or "").encode(), payload.encode(), hashlib.sha256).hexdigest()

    async def raw(self, method: str, path: str, query: str = "", body: str = "",
                  headers: dict[str, str] | None = None) -> Response:
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        hdrs = dict(headers or {})
        if body:
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        async with self.session.request(method, yarl_url(url), data=body.encode() if body else None,
                                        headers=hdrs) as resp:
            return Response(resp.status, dict(resp.headers), await resp.read())

    async def public(self, method: str, path: str, **params: Any) -> Response:
        return await self.raw(method, path, urlencode(_clean(params)))

    async def signed(self, method: str, path: str, *, in_body: bool = False, **params: Any) -> Response:
        """A SIGNED request: adds timestamp (unless given) and signature; API key header."""
        p = _clean(params)
        p.setdefault("timestamp", str(self._now()))
        payload = urlencode(p)
        signed = f"{payload}&signature={self.sign(payload)}"
        headers = {"X-MBX-APIKEY": self.api_key} if self.api_key else {}
        if in_body:
            return await self.raw(method, path, "", signed, headers)
        return await self.raw(method, path, signed, "", headers)


def yarl_url(url: str) -> Any:
    """Keep the query string exactly as built (signatures are over the bytes sent)."""
    import yarl

    return yarl.URL(url, encoded=True)


def _clean(params: dict[str, Any]) -> dict[str, str]:
    out = {}
    for k, v in params.items():
        if v is None:
            continue
        out[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out


def bound_port(site: web.TCPSite) -> int:
    """The port a site actually bound (useful with port 0)."""
    server: Any = site._server
    return int(server.sockets[0].getsockname()[1])


class MockServer:
    """The whole mock exchange on a real loopback port, for tests and embedding."""

    def __init__(self, config: ServerConfig | None = None, clock: Clock | None = None,
                 host: str = "127.0.0.1") -> None:
        self.state = ExchangeState(config, clock=clock)
        self.host = host
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._clients: list[SignedClient] = []

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> MockServer:
        app = build_app(self.state)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = bound_port(site)
        return self

    async def stop(self) -> None:
        for c in self._clients:
            await c.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> MockServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def client(self, account: str | None = None) -> SignedClient:
        """A signed client for ``account`` (default: the first configured account)."""
        info = self.state.accounts[account] if account else next(iter(self.state.accounts.values()))
        c = SignedClient(self.base_url, info.api_key, info.secret_key, clock=self.state.clock)
        self._clients.append(c)
        return c

    def anonymous(self) -> SignedClient:
        c = SignedClient(self.base_url, clock=self.state.clock)
        self._clients.append(c)
        return c


class ThreadedMockServer:
    """A ``MockServer`` on its own event loop in a background thread, for synchronous callers
    (hypothesis fuzzing, benchmarks, plain ``requests`` code)."""

    def __init__(self, config: ServerConfig | None = None, clock: Clock | None = None) -> None:
        self._server = MockServer(config, clock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def state(self) -> ExchangeState:
        return self._server.state

    def start(self) -> ThreadedMockServer:
        ready = threading.Event()
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self._server.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._server.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="mockex-server", daemon=True)
        self._thread.start()
        if not ready.wait(30):
            raise RuntimeError("mock server did not start within 30 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)

    def __enter__(self) -> ThreadedMockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
