"""Fixtures: a mock server with two funded accounts (``trader``, ``maker``) and an Ed25519 key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mock_exchange.config import DEFAULT_BALANCES, AccountConfig, ServerConfig
from mock_exchange.testing import MockServer

ED_API_KEY = "edKey" + "x" * 59


def two_accounts() -> ServerConfig:
    return ServerConfig(
        accounts=[
            AccountConfig(name="trader", balances=dict(DEFAULT_BALANCES)),
            AccountConfig(name="maker", balances=dict(DEFAULT_BALANCES)),
        ]
    )


@pytest.fixture
async def srv() -> AsyncIterator[MockServer]:
    async with MockServer(two_accounts()) as server:
        yield server


@pytest.fixture
def ed_key(srv: MockServer) -> Ed25519PrivateKey:
    """An Ed25519 key of ``trader`` registered under ``ED_API_KEY``."""
    priv = Ed25519PrivateKey.generate()
    pem = priv.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    srv.state.keys.add_ed25519(ED_API_KEY, pem.decode(), "trader")
    return priv
