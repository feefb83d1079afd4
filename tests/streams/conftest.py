"""Fixtures for the stream tests: a real server on a loopback port and WebSocket helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from mock_exchange.config import ServerConfig, WebSocketSettings
from mock_exchange.testing import MockServer

Connect = Callable[..., Awaitable[aiohttp.ClientWebSocketResponse]]


def make_config(**ws: Any) -> ServerConfig:
    cfg = ServerConfig()
    cfg.websocket = WebSocketSettings(**ws)
    cfg.rate_limits.request_weight_per_minute = 1_000_000
    return cfg


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    # Venue rules except a generous incoming-message limit (tests send bursts of requests).
    async with MockServer(make_config(max_incoming_per_s=1000)) as srv:
        yield srv


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def connect(server: MockServer, session: aiohttp.ClientSession) -> Connect:
    async def _connect(path: str, **kw: Any) -> aiohttp.ClientWebSocketResponse:
        return await session.ws_connect(f"ws://127.0.0.1:{server.port}{path}", **kw)

    return _connect
