"""Shared fixtures: a real mock server on a loopback port, clients, and the shared data path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mock_exchange.clock import ManualClock
from mock_exchange.config import ServerConfig
from mock_exchange.testing import MockServer, SignedClient

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """A file from ../shared/data, or skip the test saying what is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"captured data not available: {path} (the repo's sibling ../shared/data)")
    return path


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000_000)


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    """Default market, wall clock, real loopback socket."""
    async with MockServer(ServerConfig()) as srv:
        yield srv


@pytest.fixture
async def client(server: MockServer) -> SignedClient:
    return server.client()


@pytest.fixture
async def anon(server: MockServer) -> SignedClient:
    return server.anonymous()
