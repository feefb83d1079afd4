"""Stream-name grammar and control-message validation (pure functions, no sockets)."""

from __future__ import annotations

import pytest

from mock_exchange.server import stream_control as C
from mock_exchange.server import stream_names as N


@pytest.mark.parametrize(
    ("name", "kind", "symbol", "extra"),
    [
        ("btcusdt@trade", N.TRADE, "BTCUSDT", {}),
        ("btcusdt@aggTrade", N.AGG_TRADE, "BTCUSDT", {}),
        ("btcusdt@bookTicker", N.BOOK_TICKER, "BTCUSDT", {}),
        ("btcusdt@depth", N.DIFF_DEPTH, "BTCUSDT", {"speed_ms": 1000}),
        ("btcusdt@depth@100ms", N.DIFF_DEPTH, "BTCUSDT", {"speed_ms": 100}),
        ("btcusdt@depth@1000ms", N.DIFF_DEPTH, "BTCUSDT", {"speed_ms": 1000}),
        ("btcusdt@depth5", N.PARTIAL_DEPTH, "BTCUSDT", {"levels": 5, "speed_ms": 1000}),
        ("btcusdt@depth20@100ms", N.PARTIAL_DEPTH, "BTCUSDT", {"levels": 20, "speed_ms": 100}),
        ("btcusdt@kline_1M", N.KLINE, "BTCUSDT", {"interval": "1M", "time_zone": "0"}),
        ("btcusdt@kline_1h@+08:00", N.KLINE, "BTCUSDT", {"interval": "1h", "time_zone": "+08:00"}),
        ("btcusdt@ticker", N.TICKER, "BTCUSDT", {}),
        ("btcusdt@ticker_4h", N.ROLLING_TICKER, "BTCUSDT", {"window": "4h"}),
        ("btcusdt@miniTicker", N.MINI_TICKER, "BTCUSDT", {}),
        ("btcusdt@avgPrice", N.AVG_PRICE, "BTCUSDT", {}),
        ("!miniTicker@arr", N.ALL_MINI_TICKERS, "", {}),
        ("!ticker_1h@arr", N.ALL_ROLLING_TICKERS, "", {"window": "1h"}),
        ("nosuchcoin@trade", N.TRADE, "NOSUCHCOIN", {}),  # unknown symbol: well formed, just silent
        ("BTCUSDT@trade", N.TRADE, "", {}),  # names are lowercase on the venue: accepted, silent
    ],
)
def test_well_formed_names(name: str, kind: str, symbol: str, extra: dict[str, object]) -> None:
    spec = N.parse(name)
    assert spec is not None and spec.kind == kind and spec.symbol == symbol and spec.name == name
    for key, value in extra.items():
        assert getattr(spec, key) == value
    assert spec.silent == (name == "BTCUSDT@trade")


@pytest.mark.parametrize(
    "name",
    ["", "not asdfads", "btcusdt", "btcusdt@", "btcusdt@trades", "btcusdt@depth7", "btcusdt@depth@250ms",
     "btcusdt@kline_2m", "btcusdt@kline_1m@+09:00", "btcusdt@ticker_2h", "!ticker@arr", "!bookTicker",
     "btc-usdt@trade", "@trade", "btcusdt@trade@100ms"],
)  # fmt: skip
def test_malformed_names(name: str) -> None:
    assert N.parse(name) is None


def test_split_path() -> None:
    assert N.split_path("btcusdt@trade//ethusdt@depth/") == ["btcusdt@trade", "ethusdt@depth"]


@pytest.mark.parametrize(
    ("text", "method", "params", "rid"),
    [
        ('{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}', C.SUBSCRIBE, ["btcusdt@trade"], 1),
        ('{"method":"UNSUBSCRIBE","params":[],"id":"abc123"}', C.UNSUBSCRIBE, [], "abc123"),
        ('{"method":"LIST_SUBSCRIPTIONS","id":null}', C.LIST_SUBSCRIPTIONS, [], None),
        ('{"method":"GET_PROPERTY","params":["combined"],"id":-5}', C.GET_PROPERTY, ["combined"], -5),
        ('{"method":"SET_PROPERTY","params":["combined",false],"id":9223372036854775807}', C.SET_PROPERTY,
         ["combined", False], 9223372036854775807),
    ],
)  # fmt: skip
def test_valid_requests(text: str, method: str, params: list[object], rid: object) -> None:
    req = C.parse(text)
    assert (req.method, req.params, req.id) == (method, params, rid)


@pytest.mark.parametrize(
    ("text", "code", "msg", "rid"),
    [
        ('{"method":"SUBSCRIBE",', 3, "Invalid JSON: expected value at line 1 column 23", None),
        ("hello", 3, "Invalid JSON: expected value at line 1 column 1", None),
        ('{"method":"SUBSCRIBE","params":[]}', 2, "Invalid request: request ID must be an unsigned integer", None),
        ('{"method":"SUBSCRIBE","params":[],"id":1.5}', 2,
         "Invalid request: request ID must be an unsigned integer", None),
        ('{"method":"SUBSCRIBE","params":[],"id":true}', 2,
         "Invalid request: request ID must be an unsigned integer", None),
        ('{"method":"SUBSCRIBE","params":[],"id":"a-b"}', 2,
         "Invalid request: request ID must be an unsigned integer", None),
        ('{"method":"SUBSCRIBE","params":[],"id":"' + "a" * 37 + '"}', 2,
         "Invalid request: request ID must be an unsigned integer", None),
        ('{"method":"SUBSCRIB","params":[],"id":7}', 2,
         "Invalid request: unknown variant `SUBSCRIB`, expected one of `SUBSCRIBE`, `UNSUBSCRIBE`, "
         "`LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY` at line 1 column 20", 7),
        ('{"params":["btcusdt@trade"],"id":3}', 2, "Invalid request: missing field `method` at line 1 column 35", 3),
        ('{"method":"SUBSCRIBE","params":[1],"id":4}', 2, "Invalid request: invalid stream", 4),
        ('{"method":"LIST_SUBSCRIPTIONS","params":["x"],"id":4}', 2, "Invalid request: too many parameters", 4),
        ('{"method":"GET_PROPERTY","params":[],"id":5}', 2, "Invalid request: property name must be a string", 5),
        ('{"method":"GET_PROPERTY","params":[true],"id":5}', 2,
         "Invalid request: property name must be a string", 5),
        ('{"method":"GET_PROPERTY","params":["combined","x"],"id":5}', 2, "Invalid request: too many parameters", 5),
        ('{"method":"GET_PROPERTY","params":["compressed"],"id":5}', 0, "Unknown property", 5),
        ('{"method":"SET_PROPERTY","params":["combined","yes"],"id":6}', 1, "Invalid value type: expected Boolean", 6),
        ('{"method":"SET_PROPERTY","params":["combined"],"id":6}', 1, "Invalid value type: expected Boolean", 6),
        ('{"method":"SET_PROPERTY","params":["other",true],"id":6}', 0, "Unknown property", 6),
    ],
)  # fmt: skip
def test_invalid_requests(text: str, code: int, msg: str, rid: object) -> None:
    with pytest.raises(C.ControlError) as info:
        C.parse(text)
    assert info.value.body() == {"error": {"code": code, "msg": msg}, "id": rid}
