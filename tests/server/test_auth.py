"""Authentication: the venue's published signing vectors, key types, time window, every error."""

from __future__ import annotations

import base64
import random
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mock_exchange.server.auth import (
    ApiKey,
    KeyStore,
    sign_hmac,
    verify_rest,
    verify_ws,
    ws_signature_payload,
)
from mock_exchange.server.errors import BinanceError
from mock_exchange.server.params import Params

DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_TS = 1499827319559
DOC_PAYLOAD = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
DOC_SIG = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
UTF8_PAYLOAD = DOC_PAYLOAD.replace(
    "symbol=LTCBTC", "symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96"
)
UTF8_SIG = "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
WS_PARAMS: dict[str, object] = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.01000000",
    "price": "52000.00",
    "recvWindow": 100,
    "timestamp": 1645423376532,
    "apiKey": DOC_KEY,
}
WS_PAYLOAD = (
    "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&price=52000.00&quantity=0.01000000"
    "&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
)
WS_SIG = "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"

NOW = 1_700_000_000_000


@pytest.fixture
def store() -> KeyStore:
    s = KeyStore()
    s.add_hmac(DOC_KEY, DOC_SECRET, "alice")
    s.add_hmac("readonly-key", "s3cret", "bob", can_trade=False)
    return s


def err(exc: pytest.ExceptionInfo[BinanceError]) -> tuple[int, str, int]:
    return exc.value.code, exc.value.msg, exc.value.http_status


def signed(query: str, secret: str = DOC_SECRET) -> Params:
    return Params(f"{query}&signature={sign_hmac(secret, query)}")


# --- the venue's published vectors ---------------------------------------------------------


def test_hmac_vector_in_body(store: KeyStore) -> None:
    assert sign_hmac(DOC_SECRET, DOC_PAYLOAD) == DOC_SIG
    p = Params("", f"{DOC_PAYLOAD}&signature={DOC_SIG}".encode())
    assert verify_rest(store, p, DOC_KEY, DOC_TS + 10, need_trade=True).account_id == "alice"


def test_hmac_vector_in_query(store: KeyStore) -> None:
    p = Params(f"{DOC_PAYLOAD}&signature={DOC_SIG}")
    assert store.verify_rest(p, DOC_KEY, DOC_TS, need_trade=True).api_key == DOC_KEY


def test_hmac_vector_mixed_query_and_body(store: KeyStore) -> None:
    """rest-api.md example 3: the payload is query + body with no '&' between them."""
    p = Params(
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC",
        b"quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        b"&signature=0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77",
    )
    store.verify_rest(p, DOC_KEY, DOC_TS, need_trade=True)


def test_hmac_vector_non_ascii_symbol(store: KeyStore) -> None:
    assert sign_hmac(DOC_SECRET, UTF8_PAYLOAD) == UTF8_SIG
    p = Params(f"{UTF8_PAYLOAD}&signature={UTF8_SIG}")
    assert p.get("symbol") == "１２３４５６"
    store.verify_rest(p, DOC_KEY, DOC_TS, need_trade=True)


def test_hmac_signature_is_case_insensitive(store: KeyStore) -> None:
    p = Params(f"{DOC_PAYLOAD}&signature={DOC_SIG.upper()}")
    store.verify_rest(p, DOC_KEY, DOC_TS, need_trade=True)


def test_signature_over_reencoded_bytes_fails(store: KeyStore) -> None:
    """Signing the decoded text instead of the sent bytes is rejected (venue rule since 2026-01)."""
    decoded = UTF8_PAYLOAD.replace("%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96", "１２３４５６")
    p = Params(f"{UTF8_PAYLOAD}&signature={sign_hmac(DOC_SECRET, decoded)}")
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(p, DOC_KEY, DOC_TS, need_trade=True)
    assert err(exc) == (-1022, "Signature for this request is not valid.", 400)


def test_ws_vector(store: KeyStore) -> None:
    assert ws_signature_payload(WS_PARAMS) == WS_PAYLOAD.encode()
    assert sign_hmac(DOC_SECRET, WS_PAYLOAD) == WS_SIG
    key = verify_ws(store, {**WS_PARAMS, "signature": WS_SIG}, 1645423376532 + 50, need_trade=True)
    assert key.account_id == "alice"


def test_ws_vector_with_resp_type() -> None:
    """The older web-socket-api.md example (with newOrderRespType=ACK)."""
    params = {**WS_PARAMS, "newOrderRespType": "ACK"}
    assert sign_hmac(DOC_SECRET, ws_signature_payload(params)) == (
        "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"
    )


def test_ws_window_uses_recv_window_100(store: KeyStore) -> None:
    with pytest.raises(BinanceError) as exc:
        store.verify_ws({**WS_PARAMS, "signature": WS_SIG}, 1645423376532 + 101, need_trade=True)
    assert err(exc) == (-1021, "Timestamp for this request is outside of the recvWindow.", 400)


# --- asymmetric keys -----------------------------------------------------------------------


def test_ed25519_rest_round_trip_percent_encoded_signature() -> None:
    priv = Ed25519PrivateKey.generate()
    pem = priv.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    store = KeyStore()
    store.add_ed25519("ed-key", pem.decode(), "carol")
    query = f"symbol=BTCUSDT&side=BUY&timestamp={NOW}"
    sig = base64.b64encode(priv.sign(query.encode())).decode()
    p = Params(query, f"signature={quote(sig, safe='')}".encode())
    assert store.verify_rest(p, "ed-key", NOW, need_trade=True).kind == "ED25519"
    # case matters for base64 signatures
    bad = Params(query, f"signature={quote(sig.swapcase(), safe='')}".encode())
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(bad, "ed-key", NOW, need_trade=True)
    assert err(exc) == (-1022, "Signature for this request is not valid.", 400)


def test_ed25519_ws_round_trip_and_raw_key_forms() -> None:
    priv = Ed25519PrivateKey.generate()
    raw = priv.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    store = KeyStore()
    store.add_ed25519("raw-key", raw, "dave")
    store.add_ed25519("b64-key", base64.b64encode(raw).decode(), "dave")
    for api_key in ("raw-key", "b64-key"):
        params: dict[str, object] = {"apiKey": api_key, "timestamp": NOW, "symbol": "BTCUSDT"}
        sig = base64.b64encode(priv.sign(ws_signature_payload(params))).decode()
        assert store.verify_ws({**params, "signature": sig}, NOW, need_trade=False).api_key == api_key


def test_ed25519_garbage_signature_is_minus_1022() -> None:
    priv = Ed25519PrivateKey.generate()
    store = KeyStore()
    store.add_ed25519("k", priv.public_key(), "x")
    for sig in ("not-base64!!", "AAAA", ""):
        p = Params(f"timestamp={NOW}&signature={sig}")
        with pytest.raises(BinanceError) as exc:
            store.verify_rest(p, "k", NOW, need_trade=False)
        assert exc.value.code == (-1102 if sig == "" else -1022)


def test_rsa_round_trip() -> None:
    priv = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = priv.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    store = KeyStore()
    store.add_rsa("rsa-key", pem, "erin")
    query = f"timestamp={NOW}"
    sig = base64.b64encode(priv.sign(query.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    assert store.verify_rest(
        Params(f"{query}&signature={quote(sig, safe='')}"), "rsa-key", NOW, need_trade=False
    )


def test_bad_public_keys_are_refused() -> None:
    store = KeyStore()
    with pytest.raises(ValueError):
        store.add_ed25519("k", b"short", "x")
    with pytest.raises(ValueError):
        store.add_hmac("bad key", "s", "x")
    store.add_hmac("k", "s", "x")
    with pytest.raises(ValueError):
        store.add_hmac("k", "s2", "y")


# --- timestamps and the window -------------------------------------------------------------


@pytest.mark.parametrize(
    ("ts", "recv", "ok"),
    [
        (NOW, None, True),
        (NOW + 999, None, True),  # future tolerance: timestamp < now + 1000
        (NOW + 1000, None, "ahead"),
        (NOW - 5000, None, True),  # now - ts <= recvWindow (default 5000)
        (NOW - 5001, None, "outside"),
        (NOW - 60000, "60000", True),
        (NOW - 60001, "60000", "outside"),
        (NOW - 10, "0", "outside"),
        (NOW, "0", True),
        # microseconds, kept precise in the window check
        (NOW * 1000 + 999_999, None, True),
        (NOW * 1000 + 1_000_000, None, "ahead"),
        (NOW * 1000 - 5_000_000, None, True),
        (NOW * 1000 - 5_000_001, None, "outside"),
        (NOW * 1000 - 5_000_500, "5000.5", True),
        (NOW * 1000 - 5_000_501, "5000.5", "outside"),
        (NOW - 5001, "5001.000", True),
    ],
)
def test_time_window(store: KeyStore, ts: int, recv: str | None, ok: bool | str) -> None:
    query = f"symbol=BTCUSDT&timestamp={ts}" + (f"&recvWindow={recv}" if recv is not None else "")
    p = signed(query)
    if ok is True:
        store.verify_rest(p, DOC_KEY, NOW, need_trade=True)
        return
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(p, DOC_KEY, NOW, need_trade=True)
    msg = (
        "Timestamp for this request was 1000ms ahead of the server's time."
        if ok == "ahead"
        else "Timestamp for this request is outside of the recvWindow."
    )
    assert err(exc) == (-1021, msg, 400)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (f"timestamp={NOW}&recvWindow=60001", (-1131, "'recvWindow' must be less than 60000.", 400)),
        (
            f"timestamp={NOW}&recvWindow=abc",
            (
                -1100,
                r"Illegal characters found in parameter 'recvWindow'; legal range is '^([0-9]{1,20})(\.[0-9]{1,20})?$'.",
                400,
            ),
        ),
        (
            f"timestamp={NOW}&recvWindow=5000.1234",
            (-1111, "Parameter 'recvWindow' has too much precision.", 400),
        ),
        (
            f"timestamp={NOW}.5",
            (
                -1100,
                "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.",
                400,
            ),
        ),
        (
            "timestamp=-5",
            (
                -1100,
                "Illegal characters found in parameter 'timestamp'; legal range is '^[0-9]{1,20}$'.",
                400,
            ),
        ),
    ],
)
def test_malformed_time_parameters(store: KeyStore, extra: str, expected: tuple[int, str, int]) -> None:
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(signed(f"symbol=X&{extra}"), DOC_KEY, NOW, need_trade=True)
    assert err(exc) == expected


# --- key and presence errors, in the venue's order -----------------------------------------


@pytest.mark.parametrize("header", [None, "", "has space", "x" * 257, "tab\tkey", "ключ"])
def test_missing_or_malformed_key_is_minus_2014_401(store: KeyStore, header: str | None) -> None:
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(signed(f"timestamp={NOW}"), header, NOW, need_trade=False)
    assert err(exc) == (-2014, "API-key format invalid.", 401)


def test_unknown_key_is_minus_2015_401_before_parameter_checks(store: KeyStore) -> None:
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(Params(""), "x" * 64, NOW, need_trade=False)
    assert err(exc) == (-2015, "Invalid API-key, IP, or permissions for action.", 401)


def test_trade_permission(store: KeyStore) -> None:
    p = signed(f"timestamp={NOW}", "s3cret")
    assert store.verify_rest(p, "readonly-key", NOW, need_trade=False).account_id == "bob"
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(p, "readonly-key", NOW, need_trade=True)
    assert err(exc) == (-2015, "Invalid API-key, IP, or permissions for action.", 401)


def test_missing_timestamp_then_signature(store: KeyStore) -> None:
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(Params("symbol=X"), DOC_KEY, NOW, need_trade=True)
    assert err(exc) == (
        -1102,
        "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        400,
    )
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(Params("symbol=X&timestamp=1&signature="), DOC_KEY, NOW, need_trade=True)
    assert err(exc) == (
        -1102,
        "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
        400,
    )


def test_window_is_checked_before_the_signature(store: KeyStore) -> None:
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(Params("timestamp=1&signature=00"), DOC_KEY, NOW, need_trade=True)
    assert exc.value.code == -1021


def test_wrong_secret_is_minus_1022(store: KeyStore) -> None:
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(signed(f"timestamp={NOW}", "wrong"), DOC_KEY, NOW, need_trade=True)
    assert err(exc) == (-1022, "Signature for this request is not valid.", 400)


def test_tampered_parameter_is_minus_1022(store: KeyStore) -> None:
    good = signed(f"symbol=BTCUSDT&quantity=1&timestamp={NOW}")
    sig = good.signature()
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(
            Params(f"symbol=BTCUSDT&quantity=2&timestamp={NOW}&signature={sig}"),
            DOC_KEY,
            NOW,
            need_trade=True,
        )
    assert exc.value.code == -1022


def test_require_key_only(store: KeyStore) -> None:
    assert store.require(DOC_KEY).account_id == "alice"
    with pytest.raises(BinanceError) as exc:
        store.require(None)
    assert exc.value.code == -2014
    with pytest.raises(BinanceError) as exc:
        store.require("unknown")
    assert exc.value.code == -2015


def test_removed_key_is_rejected(store: KeyStore) -> None:
    store.remove(DOC_KEY)
    with pytest.raises(BinanceError) as exc:
        store.verify_rest(Params(f"{DOC_PAYLOAD}&signature={DOC_SIG}"), DOC_KEY, DOC_TS, need_trade=True)
    assert exc.value.code == -2015


# --- WebSocket-API specifics ----------------------------------------------------------------


def test_ws_missing_api_key_and_signature(store: KeyStore) -> None:
    with pytest.raises(BinanceError) as exc:
        store.verify_ws({"timestamp": NOW, "signature": "00"}, NOW, need_trade=False)
    assert err(exc) == (
        -1102,
        "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.",
        400,
    )
    with pytest.raises(BinanceError) as exc:
        store.verify_ws({"timestamp": NOW, "apiKey": DOC_KEY}, NOW, need_trade=False)
    assert exc.value.code == -1102 and "'signature'" in exc.value.msg
    with pytest.raises(BinanceError) as exc:
        store.verify_ws({"timestamp": NOW, "apiKey": "nope", "signature": "00"}, NOW, need_trade=False)
    assert err(exc) == (-2015, "Invalid API-key, IP, or permissions for action.", 401)


def test_ws_session_key_needs_only_a_timestamp(store: KeyStore) -> None:
    session = store.get(DOC_KEY)
    assert isinstance(session, ApiKey)
    assert store.verify_ws({"timestamp": NOW}, NOW, need_trade=True, session_key=session) is session
    with pytest.raises(BinanceError) as exc:
        store.verify_ws({}, NOW, need_trade=True, session_key=session)
    assert exc.value.code == -1102
    with pytest.raises(BinanceError) as exc:
        store.verify_ws({"timestamp": NOW - 6000}, NOW, need_trade=True, session_key=session)
    assert exc.value.code == -1021
    store.remove(DOC_KEY)  # revoked mid-session
    with pytest.raises(BinanceError) as exc:
        store.verify_ws({"timestamp": NOW}, NOW, need_trade=True, session_key=session)
    assert err(exc) == (-2015, "Invalid API-key, IP, or permissions for action.", 401)


# --- generated keys -------------------------------------------------------------------------


def test_generated_keys_are_64_alnum_and_deterministic() -> None:
    a, b = KeyStore(), KeyStore()
    ka = a.generate_hmac("acct", random.Random(7))
    kb = b.generate_hmac("acct", random.Random(7))
    assert (ka.api_key, ka.secret) == (kb.api_key, kb.secret)
    assert len(ka.api_key) == len(ka.secret) == 64
    assert ka.api_key.isalnum() and ka.secret.isalnum() and ka.api_key.isascii()
    assert ka.api_key != ka.secret
    p = signed(f"timestamp={NOW}", ka.secret)
    assert a.verify_rest(p, ka.api_key, NOW, need_trade=True) is ka
    assert a.keys_of("acct") == [ka]
