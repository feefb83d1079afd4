"""Rejections: exact venue codes and messages, and nothing changes when an order is rejected."""

from __future__ import annotations

from typing import Any

import pytest

from mock_exchange.engine import EngineError, PercentPrice
from tests.engine.engine_fixtures import U, limit, make_engine, make_spec, totals

MANDATORY = "Mandatory parameter '{}' was not sent, was empty/null, or malformed."


def _reject(eng: Any, *args: Any, **kw: Any) -> tuple[int, str]:
    before = (totals(eng), eng.open_orders("a"), len(eng._events))
    with pytest.raises(EngineError) as err:
        eng.place_order(*args, **kw)
    assert (totals(eng), eng.open_orders("a"), len(eng._events)) == before
    return err.value.code, err.value.msg


@pytest.mark.parametrize(
    ("args", "kw", "expected"),
    [
        (("a", "NOPE", "BUY", "LIMIT"), {}, (-1121, "Invalid symbol.")),
        (("a", "BTCUSDT", "HOLD", "LIMIT"), {}, (-1117, "Invalid side.")),
        (("a", "BTCUSDT", "BUY", "STOP"), {}, (-1116, "Invalid orderType.")),
        (("a", "BTCUSDT", "BUY", "LIMIT"), {"quantity": U("1"), "time_in_force": "GTC"},
         (-1102, MANDATORY.format("price"))),
        (("a", "BTCUSDT", "BUY", "LIMIT"), {"quantity": U("1"), "price": U("1")},
         (-1102, MANDATORY.format("timeInForce"))),
        (("a", "BTCUSDT", "BUY", "LIMIT"), {"price": U("1"), "time_in_force": "GTC"},
         (-1102, MANDATORY.format("quantity"))),
        (("a", "BTCUSDT", "BUY", "LIMIT"), {"quantity": U("1"), "price": U("1"), "time_in_force": "GTD"},
         (-1115, "Invalid timeInForce.")),
        (("a", "BTCUSDT", "BUY", "MARKET"), {},
         (-1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")),
        (("a", "BTCUSDT", "BUY", "MARKET"), {"quantity": U("1"), "quote_order_qty": U("1")},
         (-1106, "Parameter 'quoteOrderQty' sent when not required.")),
        (("a", "BTCUSDT", "BUY", "MARKET"), {"quantity": U("1"), "time_in_force": "GTC"},
         (-1114, "TimeInForce parameter sent when not required.")),
        (("a", "BTCUSDT", "BUY", "MARKET"), {"quantity": U("1"), "price": U("1")},
         (-1106, "Parameter 'price' sent when not required.")),
        (("a", "BTCUSDT", "BUY", "STOP_LOSS"), {"quantity": U("1")}, (-1102, MANDATORY.format("stopPrice"))),
        (("a", "BTCUSDT", "BUY", "LIMIT"),
         {"quantity": U("1"), "price": U("1"), "time_in_force": "GTC", "stop_price": U("2")},
         (-1106, "Parameter 'stopPrice' sent when not required.")),
        (("a", "BTCUSDT", "BUY", "LIMIT"),
         {"quantity": U("1"), "price": U("1"), "time_in_force": "GTC", "iceberg_qty": U("1")},
         (-2010, "IcebergQty exceeds QTY.")),
        (("a", "BTCUSDT", "BUY", "LIMIT"),
         {"quantity": U("2"), "price": U("1"), "time_in_force": "IOC", "iceberg_qty": U("1")},
         (-2010, "Unsupported order combination")),
        (("a", "BTCUSDT", "BUY", "LIMIT"), {"quantity": U("11"), "price": U("100000"), "time_in_force": "GTC"},
         (-2010, "Account has insufficient balance for requested action.")),
        (("a", "BTCUSDT", "SELL", "LIMIT"), {"quantity": U("101"), "price": U("1"), "time_in_force": "GTC"},
         (-2010, "Account has insufficient balance for requested action.")),
        (("a", "BTCUSDT", "BUY", "LIMIT"), {"quantity": U("1.0001"), "price": U("1"), "time_in_force": "GTC"},
         (-1013, "Filter failure: LOT_SIZE")),
        (("a", "BTCUSDT", "BUY", "LIMIT"), {"quantity": U("1"), "price": U("1"), "time_in_force": "GTC",
                                            "strategy_type": 5}, (-1134, "strategyType was less than 1000000.")),
    ],
)  # fmt: skip
def test_rejections(args: tuple[str, ...], kw: dict[str, Any], expected: tuple[int, str]) -> None:
    eng, _ = make_engine()
    assert _reject(eng, *args, **kw) == expected


@pytest.mark.parametrize(
    ("otype", "kw", "msg"),
    [
        ("MARKET", {"quantity": U("1")}, "Market orders are not supported for this symbol."),
        ("STOP_LOSS", {"quantity": U("1"), "stop_price": U("1")}, "Stop loss orders are not supported for this symbol."),
        ("STOP_LOSS_LIMIT", {"quantity": U("1"), "stop_price": U("1"), "price": U("1"), "time_in_force": "GTC"},
         "Stop loss limit orders are not supported for this symbol."),
        ("TAKE_PROFIT", {"quantity": U("1"), "stop_price": U("1")},
         "Take profit orders are not supported for this symbol."),
        ("TAKE_PROFIT_LIMIT", {"quantity": U("1"), "stop_price": U("1"), "price": U("1"), "time_in_force": "GTC"},
         "Take profit limit orders are not supported for this symbol."),
    ],
)  # fmt: skip
def test_order_type_not_enabled_on_symbol(otype: str, kw: dict[str, Any], msg: str) -> None:
    eng, _ = make_engine(specs=[make_spec(order_types=("LIMIT", "LIMIT_MAKER"))])
    assert _reject(eng, "a", "BTCUSDT", "BUY", otype, **kw) == (-2010, msg)


def test_iceberg_not_allowed_on_symbol() -> None:
    eng, _ = make_engine(specs=[make_spec(iceberg_allowed=False)])
    assert _reject(
        eng,
        "a",
        "BTCUSDT",
        "BUY",
        "LIMIT",
        quantity=U("2"),
        price=U("1"),
        time_in_force="GTC",
        iceberg_qty=U("1"),
    ) == (-2010, "Iceberg orders are not supported for this symbol.")


def test_account_that_cannot_trade() -> None:
    eng, _ = make_engine()
    eng.create_account("locked-out", {"USDT": U("100")}, can_trade=False)
    with pytest.raises(EngineError) as err:
        eng.place_order(
            "locked-out", "BTCUSDT", "BUY", "LIMIT", quantity=U("1"), price=U("1"), time_in_force="GTC"
        )
    assert (err.value.code, err.value.msg) == (-2010, "This account may not place or cancel orders.")


def test_percent_price_uses_the_average_price_once_there_are_trades() -> None:
    spec = make_spec(percent_price=PercentPrice(U("1.2"), U("0.8"), 5))
    eng, clock = make_engine(specs=[spec])
    limit(eng, "a", "BUY", "1", "1000")  # no trades yet: no reference price, no check
    limit(eng, "b", "SELL", "1", "1000")
    clock.advance(1000)
    with pytest.raises(EngineError) as err:
        limit(eng, "a", "BUY", "1", "1300")
    assert (err.value.code, err.value.msg) == (-1013, "Filter failure: PERCENT_PRICE")
    limit(eng, "a", "BUY", "1", "1100")


def test_percent_price_sees_a_trade_made_in_the_same_millisecond() -> None:
    eng, _ = make_engine(specs=[make_spec(percent_price=PercentPrice(U("1.2"), U("0.8"), 5))])
    limit(eng, "a", "BUY", "0.001", "100")
    limit(eng, "a", "BUY", "0.001", "10")  # reference unknown: accepted
    limit(eng, "b", "SELL", "0.001", "100")  # first trade, same clock reading
    with pytest.raises(EngineError) as err:
        limit(eng, "a", "BUY", "0.001", "10")
    assert err.value.msg == "Filter failure: PERCENT_PRICE"
