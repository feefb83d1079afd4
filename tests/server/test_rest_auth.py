"""Signed-request rules over real sockets: keys, signatures, time window, permissions."""

from __future__ import annotations

import base64
from urllib.parse import quote

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mock_exchange.testing import MockServer, SignedClient


async def test_key_errors(server: MockServer, anon: SignedClient) -> None:
    r = await anon.signed("GET", "/api/v3/account")
    assert r.status == 401 and r.json() == {"code": -2014, "msg": "API-key format invalid."}
    stranger = SignedClient(server.base_url, "x" * 64, "y" * 64, clock=server.state.clock)
    try:
        r = await stranger.signed("GET", "/api/v3/account")
        assert r.status == 401
        assert r.json() == {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
    finally:
        await stranger.close()


async def test_signature_and_timestamp_errors(server: MockServer, client: SignedClient) -> None:
    key = {"X-MBX-APIKEY": client.api_key or ""}
    now = server.state.clock()
    r = await client.raw("GET", "/api/v3/account", f"timestamp={now}&signature={'0' * 64}", headers=key)
    assert r.status == 400 and r.json() == {"code": -1022, "msg": "Signature for this request is not valid."}
    r = await client.raw("GET", "/api/v3/account", "signature=abc", headers=key)
    assert r.json()["msg"] == "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
    r = await client.raw("GET", "/api/v3/account", f"timestamp={now}", headers=key)
    assert r.json()["msg"] == "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
    old = await client.signed("GET", "/api/v3/account", timestamp=now - 60_000)
    assert old.json() == {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
    wide = await client.signed("GET", "/api/v3/account", timestamp=now - 30_000, recvWindow=60000)
    assert wide.status == 200
    ahead = await client.signed("GET", "/api/v3/account", timestamp=now + 5_000)
    assert ahead.json() == {"code": -1021, "msg": "Timestamp for this request was 1000ms ahead of the server's time."}
    micros = await client.signed("GET", "/api/v3/account", timestamp=server.state.clock() * 1000)
    assert micros.status == 200, micros.body
    # Hex case does not matter.
    payload = f"timestamp={server.state.clock()}"
    upper = await client.raw("GET", "/api/v3/account", f"{payload}&signature={client.sign(payload).upper()}",
                             headers=key)
    assert upper.status == 200
    # Signature in the body of a POST.
    body_signed = await client.signed("POST", "/api/v3/order/test", in_body=True, symbol="BTCUSDT", side="BUY",
                                      type="MARKET", quantity="0.001")
    assert body_signed.status == 200, body_signed.body


async def test_hmac_reference_vector_reproduces(server: MockServer) -> None:
    """The rest-api.md example key/secret/payload, installed as an account, verifies."""
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    api_key = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    c = SignedClient(server.base_url, api_key, secret)
    payload = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
               "&recvWindow=5000&timestamp=1499827319559")
    try:
        assert c.sign(payload) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    finally:
        await c.close()


async def test_read_only_key_cannot_trade(server: MockServer) -> None:
    async with aiohttp.ClientSession() as http, http.post(f"{server.base_url}/_mock/accounts",
                         json={"name": "viewer", "balances": {"USDT": "1000"}, "canTrade": False}) as resp:
        created = await resp.json()
    c = SignedClient(server.base_url, created["apiKey"], created["secretKey"], clock=server.state.clock)
    try:
        acct = await c.signed("GET", "/api/v3/account")
        assert acct.status == 200 and acct.json()["canTrade"] is False
        r = await c.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        assert r.status == 401 and r.json()["code"] == -2015
    finally:
        await c.close()


async def test_ed25519_key(server: MockServer) -> None:
    private = Ed25519PrivateKey.generate()
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    async with aiohttp.ClientSession() as http, http.post(f"{server.base_url}/_mock/accounts",
                         json={"name": "ed", "balances": {"USDT": "500"}, "keyType": "ED25519",
                               "publicKey": pem}) as resp:
        created = await resp.json()
    c = SignedClient(server.base_url, created["apiKey"], None)
    try:
        payload = f"omitZeroBalances=true&timestamp={server.state.clock()}"
        sig = quote(base64.b64encode(private.sign(payload.encode())).decode(), safe="")
        r = await c.raw("GET", "/api/v3/account", f"{payload}&signature={sig}",
                        headers={"X-MBX-APIKEY": created["apiKey"]})
        assert r.status == 200, r.body
        assert [b["asset"] for b in r.json()["balances"]] == ["USDT"]
        bad = await c.raw("GET", "/api/v3/account", f"{payload}&signature={quote(base64.b64encode(b'x' * 64))}",
                          headers={"X-MBX-APIKEY": created["apiKey"]})
        assert bad.json()["code"] == -1022
    finally:
        await c.close()


async def test_duplicate_parameter_rejected(server: MockServer, client: SignedClient) -> None:
    r = await client.raw("GET", "/api/v3/depth", "symbol=BTCUSDT&symbol=ETHUSDT")
    assert r.status == 400 and r.json()["code"] == -1101
