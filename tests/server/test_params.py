"""Params: parsing raw query/body like the venue, its errors, and the signed payload bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_exchange.server.errors import BinanceError
from mock_exchange.server.params import (
    DECIMAL_RANGE,
    SYMBOL_RANGE,
    SYMBOLS_RANGE,
    UINT_RANGE,
    Params,
    canonical_value,
)


def err(exc: pytest.ExceptionInfo[BinanceError]) -> tuple[int, str, int]:
    return exc.value.code, exc.value.msg, exc.value.http_status


# --- sources, precedence, duplicates --------------------------------------------------------


def test_query_and_body_mix_and_query_wins_on_a_shared_key() -> None:
    p = Params("symbol=BTCUSDT&side=BUY", b"side=SELL&quantity=1")
    assert p.get("symbol") == "BTCUSDT"
    assert p.get("side") == "BUY"
    assert p.get("quantity") == "1"
    assert p.names() == ["symbol", "side", "quantity"]


def test_get_ignores_the_body() -> None:
    p = Params.for_request("GET", "symbol=BTCUSDT", b"limit=5")
    assert not p.has("limit")
    assert p.signature_payload() == b"symbol=BTCUSDT"


def test_values_are_percent_decoded_once() -> None:
    p = Params("newClientOrderId=a%2Bb&note=x+y&sym=%EF%BC%91")
    assert p.get("newClientOrderId") == "a+b"
    assert p.get("note") == "x y"
    assert p.get("sym") == "１"


@pytest.mark.parametrize(
    ("query", "body"),
    [("symbol=A&symbol=B", b""), ("symbol=A&symbol=A", b""), ("", b"limit=1&limit=2")],
)
def test_a_key_repeated_within_one_source_is_minus_1101(query: str, body: bytes) -> None:
    with pytest.raises(BinanceError) as exc:
        Params(query, body)
    assert err(exc) == (-1101, "Duplicate values for a parameter detected.", 400)


def test_present_but_empty_is_not_absent() -> None:
    p = Params("limit=&symbol=X")
    assert p.has("limit") and p.get("limit") == ""
    assert p.get("nope") is None


# --- signature payload ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "body", "payload", "sig"),
    [
        ("a=1&b=2&signature=abc", b"", b"a=1&b=2", "abc"),
        ("signature=abc&a=1&b=2", b"", b"a=1&b=2", "abc"),
        ("a=1&signature=abc&b=2", b"", b"a=1&b=2", "abc"),
        ("a=1", b"b=2&signature=abc", b"a=1b=2", "abc"),
        ("a=1&signature=abc", b"b=2", b"a=1b=2", "abc"),
        ("", b"signature=abc", b"", "abc"),
        ("a=%5B%22X%22%5D", b"", b"a=%5B%22X%22%5D", None),
    ],
)
def test_signature_payload_is_the_raw_bytes_minus_the_signature_pair(
    query: str, body: bytes, payload: bytes, sig: str | None
) -> None:
    p = Params(query, body)
    assert p.signature_payload() == payload
    assert p.signature() == sig


def test_signature_is_percent_decoded_once_and_keeps_plus() -> None:
    assert Params("a=1&signature=ab%2Bc%2F%3D%3D").signature() == "ab+c/=="
    assert Params("a=1&signature=ab+c==").signature() == "ab+c=="  # unencoded base64 '+' survives


def test_payload_keeps_the_clients_order_and_encoding() -> None:
    q = "timestamp=1&symbol=%E8%BF%99&recvWindow=10000"
    assert Params(q, b"signature=f").signature_payload() == q.encode()


# --- typed getters --------------------------------------------------------------------------


def test_req_missing_or_empty_is_minus_1102() -> None:
    for query in ("", "side="):
        with pytest.raises(BinanceError) as exc:
            Params(query).req("side")
        assert err(exc) == (
            -1102,
            "Mandatory parameter 'side' was not sent, was empty/null, or malformed.",
            400,
        )
    assert Params("side=BUY").req("side") == "BUY"


@pytest.mark.parametrize("name", ["BTCUSDT", "1000SATSUSDT", "BTC-USD_T.X", "这是测试币456", "A" * 50])
def test_symbol_accepts_venue_names(name: str) -> None:
    assert Params("symbol=" + name).symbol() == name


@pytest.mark.parametrize("name", ["btcusdt", "BTC/USDT", "BTC USDT", "A" * 51, 'BTC"'])
def test_symbol_with_illegal_characters_is_minus_1100(name: str) -> None:
    with pytest.raises(BinanceError) as exc:
        Params.from_dict({"symbol": name}).symbol()
    assert err(exc) == (
        -1100,
        f"Illegal characters found in parameter 'symbol'; legal range is '{SYMBOL_RANGE}'.",
        400,
    )
    assert (
        exc.value.msg
        == r"Illegal characters found in parameter 'symbol'; legal range is '^[\w\-._&&[^a-z]]{1,50}$'."
    )


def test_symbol_missing() -> None:
    with pytest.raises(BinanceError) as exc:
        Params("symbol=").symbol()
    assert exc.value.code == -1102
    assert Params("").symbol(required=False) is None


def test_opt_int() -> None:
    p = Params("limit=500&orderId=-1&x=1.5&big=99999999999999999999&neg=-5&z=0")
    assert p.opt_int("limit") == 500
    assert p.opt_int("missing") is None
    assert p.opt_int("z") == 0
    assert p.opt_int("neg", signed=True) == -5
    for name in ("orderId", "x"):
        with pytest.raises(BinanceError) as exc:
            p.opt_int(name)
        assert err(exc) == (
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
            400,
        )
    with pytest.raises(BinanceError) as exc:
        p.opt_int("big")
    assert err(exc) == (-1108, "Parameter 'big' overflowed.", 400)
    with pytest.raises(BinanceError) as exc:
        p.opt_int("limit", 1, 100)
    assert err(exc) == (-1130, "Data sent for parameter 'limit' is not valid.", 400)
    assert UINT_RANGE == "^[0-9]{1,20}$"


def test_opt_int_empty_is_illegal() -> None:
    with pytest.raises(BinanceError) as exc:
        Params("limit=").opt_int("limit")
    assert exc.value.code == -1100


def test_opt_time_ms_accepts_microseconds() -> None:
    p = Params("a=1700000000123&b=1700000000123456")
    assert p.opt_time_ms("a") == 1700000000123
    assert p.opt_time_ms("b") == 1700000000123


def test_opt_units() -> None:
    p = Params("a=1&b=0.1&c=0.00000001&d=0.100000000&e=12345678901234567890.5")
    assert p.opt_units("a") == 100_000_000
    assert p.opt_units("b") == 10_000_000
    assert p.opt_units("c") == 1
    assert p.opt_units("d") == 10_000_000  # trailing zeros beyond 8 decimals are exact
    assert p.opt_units("e") == 1234567890123456789050000000
    assert p.opt_units("missing") is None


@pytest.mark.parametrize("value", ["-1", "1e-5", "abc", ".5", "5.", "1,5", "", " 1", "0." + "1" * 21])
def test_opt_units_malformed_is_minus_1100(value: str) -> None:
    with pytest.raises(BinanceError) as exc:
        Params.from_dict({"quantity": value}).opt_units("quantity")
    assert err(exc) == (
        -1100,
        f"Illegal characters found in parameter 'quantity'; legal range is '{DECIMAL_RANGE}'.",
        400,
    )
    assert DECIMAL_RANGE == r"^([0-9]{1,20})(\.[0-9]{1,20})?$"


def test_opt_units_nine_decimals_is_minus_1111() -> None:
    with pytest.raises(BinanceError) as exc:
        Params("price=0.123456789").opt_units("price")
    assert err(exc) == (-1111, "Parameter 'price' has too much precision.", 400)


def test_opt_bool() -> None:
    p = Params("a=true&b=FALSE&c=True&d=yes&e=")
    assert p.opt_bool("a") is True
    assert p.opt_bool("b") is False
    assert p.opt_bool("c") is True
    assert p.opt_bool("x") is None
    for name in ("d", "e"):
        with pytest.raises(BinanceError) as exc:
            p.opt_bool(name)
        assert err(exc) == (-1130, f"Data sent for parameter '{name}' is not valid.", 400)


def test_enum() -> None:
    from mock_exchange.server import errors

    p = Params("side=BUY&tif=gtc")
    assert p.enum("side", ("BUY", "SELL"), errors.invalid_side) == "BUY"
    with pytest.raises(BinanceError) as exc:
        p.enum("tif", ("GTC", "IOC", "FOK"), errors.invalid_tif)
    assert err(exc) == (-1115, "Invalid timeInForce.", 400)
    with pytest.raises(BinanceError) as exc:
        p.enum("type", ("LIMIT",), errors.invalid_type, required=True)
    assert exc.value.code == -1102
    assert p.enum("type", ("LIMIT",), default="LIMIT") == "LIMIT"
    with pytest.raises(BinanceError) as exc:
        Params("x=Q").enum("x", ("A",))
    assert exc.value.code == -1130


# --- symbols / permissions lists ------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        'symbols=["BTCUSDT","ETHUSDT"]',
        "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D",
        "symbols=%5B%22BTCUSDT%22%2C+%22ETHUSDT%22%5D",  # urlencode(json.dumps(...)) form
        'symbols=[ "BTCUSDT" , "ETHUSDT" ]',
        "symbols=%5B%22BTCUSDT%22,%22ETHUSDT%22%5D",
    ],
)
def test_symbols_list_raw_or_encoded_with_or_without_spaces(query: str) -> None:
    assert Params(query).symbols_list() == ["BTCUSDT", "ETHUSDT"]


def test_symbols_list_from_websocket_array() -> None:
    assert Params.from_dict({"symbols": ["BNBBTC", "LTCBTC"]}).symbols_list() == ["BNBBTC", "LTCBTC"]


@pytest.mark.parametrize("value", ["BTCUSDT", '["btcusdt"]', "[1,2]", '{"a":1}', '["BTC USDT"]'])
def test_symbols_list_illegal_is_minus_1100(value: str) -> None:
    with pytest.raises(BinanceError) as exc:
        Params.from_dict({"symbols": value}).symbols_list()
    assert err(exc) == (
        -1100,
        f"Illegal characters found in parameter 'symbols'; legal range is '{SYMBOLS_RANGE}'.",
        400,
    )


@pytest.mark.parametrize("value", ['["BTCUSDT",', '["BTCUSDT"', "[BTCUSDT]"])
def test_symbols_list_bad_json_is_minus_1135(value: str) -> None:
    with pytest.raises(BinanceError) as exc:
        Params.from_dict({"symbols": value}).symbols_list()
    assert err(exc) == (-1135, "JSON sent for parameter 'symbols' is not valid", 400)


def test_symbols_list_duplicates_and_empty() -> None:
    with pytest.raises(BinanceError) as exc:
        Params('symbols=["A","B","A"]').symbols_list()
    assert err(exc) == (-1151, "Symbol is present multiple times in the list.", 400)
    for query in ("symbols=[]", "symbols=", ""):
        with pytest.raises(BinanceError) as exc:
            Params(query).symbols_list()
        assert exc.value.code == -1102


def test_permissions_list() -> None:
    assert Params("permissions=SPOT").permissions_list() == ["SPOT"]
    assert Params('permissions=["MARGIN","LEVERAGED","MARGIN"]').permissions_list() == ["MARGIN", "LEVERAGED"]
    assert Params("permissions=%5B%22TRD_GRP_004%22%5D").permissions_list() == ["TRD_GRP_004"]
    with pytest.raises(BinanceError) as exc:
        Params('permissions=["SPOT"').permissions_list()
    assert exc.value.code == -1135
    for bad in ("permissions=spot", "permissions=[]", "permissions=[1]"):
        with pytest.raises(BinanceError) as exc:
            Params(bad).permissions_list()
        assert err(exc) == (-1130, "Data sent for parameter 'permissions' is not valid.", 400)


# --- WebSocket-API params -------------------------------------------------------------------


def test_from_dict_canonical_strings() -> None:
    p = Params.from_dict(
        {"a": "x", "b": 5, "c": True, "d": False, "e": 0.01, "f": 1e-5, "g": 1e16, "h": None, "i": 100.0}
    )
    assert p.as_dict() == {
        "a": "x",
        "b": "5",
        "c": "true",
        "d": "false",
        "e": "0.01",
        "f": "0.00001",
        "g": "10000000000000000",
        "i": "100.0",
    }
    assert p.is_ws


def test_from_dict_payload_is_sorted_unencoded_and_excludes_signature() -> None:
    p = Params.from_dict({"symbol": "这是", "apiKey": "k", "timestamp": 5, "signature": "s+/="})
    assert p.signature_payload() == "apiKey=k&symbol=这是&timestamp=5".encode()
    assert p.signature() == "s+/="


def test_canonical_value_rejects_nan() -> None:
    with pytest.raises(BinanceError) as exc:
        canonical_value(float("nan"), "price")
    assert exc.value.code == -1130


def test_unread_parameters_is_minus_1104() -> None:
    p = Params("symbol=X&foo=1&bar=2")
    p.get("symbol")
    p.mark_read("foo")
    with pytest.raises(BinanceError) as exc:
        p.check_all_read()
    assert err(exc) == (
        -1104,
        "Not all sent parameters were read; read '2' parameter(s) but was sent '3'.",
        400,
    )
    p.get("bar")
    p.check_all_read()


@given(st.integers(min_value=0, max_value=10**20))
def test_opt_units_round_trips_any_8_decimal_value(amount: int) -> None:
    from mock_exchange.engine import units

    assert Params.from_dict({"q": units.fmt(amount)}).opt_units("q") == amount
