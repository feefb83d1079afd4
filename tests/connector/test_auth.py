"""Auth: the venue's published signing vectors (binance-spot-api.md §3), Ed25519 keys, and
requests signed by the connector accepted by a server that verifies raw bytes."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connector.auth import API_KEY_HEADER, ED25519, HMAC_SHA256, Auth, AuthError
from connector.config import VenueConfig
from connector.rest import RestClient, encode_params
from mock_exchange.testing import MockServer

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
WS_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"


def test_rest_hmac_vector() -> None:
    auth = Auth(WS_API_KEY, SECRET)
    payload = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
               "&recvWindow=5000&timestamp=1499827319559")
    assert auth.key_type == HMAC_SHA256
    assert auth.sign(payload) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    # the query string plus the body is what gets signed, split anywhere
    assert auth.rest_signature(payload[:40], payload[40:]) == auth.sign(payload)


def test_rest_hmac_vector_non_ascii_symbol_signs_the_percent_encoded_bytes() -> None:
    params = {"symbol": "１２３４５６", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": 1,
              "price": Decimal("0.1"), "recvWindow": 5000, "timestamp": 1499827319559}
    query = encode_params(params)
    assert query.startswith("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&")
    assert Auth(WS_API_KEY, SECRET).sign(query) == "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"


def test_ws_api_vector_sorted_unencoded_with_api_key() -> None:
    auth = Auth(WS_API_KEY, SECRET)
    params: dict[str, Any] = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
                              "quantity": "0.01000000", "price": "52000.00", "recvWindow": 100,
                              "timestamp": 1645423376532}
    signed = auth.sign_ws_params(params)
    assert Auth.ws_payload(signed) == (
        f"apiKey={WS_API_KEY}&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT"
        "&timeInForce=GTC&timestamp=1645423376532&type=LIMIT")
    assert signed["signature"] == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    assert signed["apiKey"] == WS_API_KEY
    assert "signature" not in params  # the caller's dict is left alone


def _ed25519_pem() -> tuple[str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key


def test_ed25519_signature_is_base64_and_verifies() -> None:
    pem, key = _ed25519_pem()
    auth = Auth("k", private_key_pem=pem)
    assert auth.key_type == ED25519
    sig = auth.sign("symbol=BTCUSDT&timestamp=1")
    key.public_key().verify(base64.b64decode(sig), b"symbol=BTCUSDT&timestamp=1")
    # in a URL the base64 characters + / = are percent-encoded, and decode back to the signature
    for n in range(20):
        payload = f"a={n}"
        encoded = auth.rest_signature(payload)
        assert not set("+/=") & set(encoded)
        assert unquote(encoded) == auth.sign(payload)


def test_missing_or_bad_credentials_are_refused() -> None:
    with pytest.raises(AuthError):
        Auth("key")
    with pytest.raises(AuthError):
        Auth("", "secret")
    with pytest.raises(AuthError):
        Auth("key", private_key_pem="not a pem")
    assert Auth.from_config(VenueConfig.custom("http://127.0.0.1:1")) is None
    assert Auth("key", "s").headers() == {API_KEY_HEADER: "key"}


async def test_signed_rest_requests_accepted_by_the_venue_hmac(server: MockServer) -> None:
    info = next(iter(server.state.accounts.values()))
    cfg = VenueConfig.custom(server.base_url, api_key=info.api_key, api_secret=info.secret_key)
    async with RestClient(cfg) as rest:
        account = await rest.get("/api/v3/account", signed=True)
        assert any(b["asset"] == "USDT" for b in account["balances"])
        # POST signs the form body it sends
        assert await rest.post("/api/v3/order/test", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                      "quantity": Decimal("0.001")}, signed=True) == {}


async def test_signed_rest_and_ws_requests_accepted_with_ed25519(server: MockServer) -> None:
    pem, key = _ed25519_pem()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    async with aiohttp.ClientSession() as http:
        resp = await http.post(f"{server.base_url}/_mock/accounts",
                               json={"name": "ed", "balances": {"USDT": "1000"}, "keyType": "ED25519",
                                     "publicKey": public_pem})
        created = await resp.json()
    cfg = VenueConfig.custom(server.base_url, api_key=created["apiKey"], private_key_pem=pem)
    async with RestClient(cfg) as rest:
        account = await rest.get("/api/v3/account", signed=True)
        assert {b["asset"]: b["free"] for b in account["balances"]}["USDT"] == "1000.00000000"
        auth = rest.auth
        assert auth is not None and auth.key_type == ED25519
        ws_params = auth.sign_ws_params({"timestamp": rest.time_sync.server_time_ms()})
        async with aiohttp.ClientSession() as http, http.ws_connect(cfg.ws_api_url) as ws:
            await ws.send_json({"id": 1, "method": "account.status", "params": ws_params})
            reply = await ws.receive_json(timeout=5)
        assert reply["status"] == 200, reply
