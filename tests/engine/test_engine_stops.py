"""Stop-loss / take-profit orders: parking, immediate-trigger rejection, triggering by trades."""

from __future__ import annotations

import pytest

from mock_exchange.engine import EngineError
from tests.engine.engine_fixtures import (
    START_BALANCES,
    U,
    check_invariants,
    kinds,
    limit,
    make_engine,
    make_spec,
    updates,
)


def _print(eng, price: str) -> None:  # type: ignore[no-untyped-def]
    """Make the last trade price ``price`` with a 0.001 trade between accounts b and c."""
    limit(eng, "b", "SELL", "0.001", price)
    limit(eng, "c", "BUY", "0.001", price)


def stop(eng, acct: str, side: str, otype: str, qty: str, stop_price: str, price: str = "", **kw):  # type: ignore[no-untyped-def]
    tif = "GTC" if otype.endswith("_LIMIT") else ""
    return eng.place_order(
        acct, "BTCUSDT", side, otype, quantity=U(qty), stop_price=U(stop_price),
        price=U(price) if price else 0, time_in_force=tif, **kw,
    )  # fmt: skip


def test_untriggered_stop_is_parked_off_book_with_funds_locked() -> None:
    eng, _ = make_engine()
    _print(eng, "100")
    eng.drain_events()
    res = stop(eng, "a", "SELL", "STOP_LOSS_LIMIT", "2", "95", "94")
    o = res.order
    assert o.status == "NEW" and not o.is_working and o.working_time == -1
    assert eng.depth("BTCUSDT", 10)[1:] == ([], [])
    assert eng.account("a").balance("BTC") == (START_BALANCES["BTC"] - U("2"), U("2"))
    assert kinds(eng.drain_events()) == ["U:NEW:3", "B:a"]  # no book change, no update id
    check_invariants(eng)


@pytest.mark.parametrize(
    ("side", "otype", "stop_price"),
    [
        ("BUY", "STOP_LOSS", "100"),
        ("BUY", "STOP_LOSS_LIMIT", "99"),
        ("SELL", "STOP_LOSS", "100"),
        ("SELL", "STOP_LOSS_LIMIT", "101"),
        ("BUY", "TAKE_PROFIT", "101"),
        ("BUY", "TAKE_PROFIT_LIMIT", "100"),
        ("SELL", "TAKE_PROFIT", "99"),
        ("SELL", "TAKE_PROFIT_LIMIT", "100"),
    ],
)
def test_stop_that_would_trigger_immediately_is_rejected(side: str, otype: str, stop_price: str) -> None:
    eng, _ = make_engine()
    _print(eng, "100")
    eng.drain_events()
    with pytest.raises(EngineError) as err:
        stop(eng, "a", side, otype, "1", stop_price, "100" if otype.endswith("_LIMIT") else "")
    assert (err.value.code, err.value.msg) == (-2010, "Order would trigger immediately.")
    assert eng.drain_events() == [] and eng.open_orders("a") == []


def test_stops_are_accepted_before_any_trade() -> None:
    eng, _ = make_engine()
    assert stop(eng, "a", "BUY", "STOP_LOSS", "1", "1").order.status == "NEW"


def test_stop_loss_limit_sell_triggers_on_trade_and_becomes_a_limit() -> None:
    eng, _ = make_engine()
    _print(eng, "100")
    limit(eng, "b", "BUY", "1", "95")
    limit(eng, "b", "BUY", "1", "94.5")
    limit(eng, "b", "BUY", "5", "93")
    sl = stop(eng, "a", "SELL", "STOP_LOSS_LIMIT", "3", "95", "94").order
    eng.drain_events()
    res = limit(eng, "c", "SELL", "0.5", "95")  # prints 95: the stop fires
    assert res.order.status == "FILLED"
    got = eng.get_order("a", "BTCUSDT", sl.order_id)
    assert got.is_working and got.working_time > 0
    assert got.executed_qty == U("1.5")  # 0.5 left at 95 and 1 at 94.5; the rest rests at 94
    assert got.status == "PARTIALLY_FILLED" and got.type == "STOP_LOSS_LIMIT"
    assert eng.depth("BTCUSDT", 5)[2] == [(U("94"), U("1.5"))]
    events = eng.drain_events()
    mine = updates(events, sl.order_id)
    assert [u.exec_type for u in mine] == ["NEW", "TRADE", "TRADE"]
    assert mine[0].order.is_working and mine[0].order.status == "NEW"
    # One book delta for the whole operation, after every order/trade event.
    assert kinds(events).count("D") == 1 and kinds(events).index("D") > kinds(events).index(
        f"U:TRADE:{sl.order_id}"
    )
    check_invariants(eng)


def test_stop_market_buy_triggers_and_expires_on_liquidity() -> None:
    eng, _ = make_engine()
    _print(eng, "100")
    sl = stop(eng, "a", "BUY", "STOP_LOSS", "2", "105").order
    assert eng.account("a").balance("USDT")[1] == U("210")  # stop price * qty
    limit(eng, "b", "SELL", "1", "106")
    limit(eng, "b", "SELL", "0.5", "105")
    limit(eng, "c", "BUY", "0.1", "105")  # prints 105 -> triggers; buys 0.4 @105, 1 @106
    got = eng.get_order("a", "BTCUSDT", sl.order_id)
    assert got.status == "EXPIRED" and got.expiry_reason == "INSUFFICIENT_LIQUIDITY"
    assert got.executed_qty == U("1.4") and got.cum_quote_qty == U("42") + U("106")
    assert eng.account("a").balance("USDT") == (START_BALANCES["USDT"] - U("148"), 0)
    check_invariants(eng)


def test_take_profit_limit_buy_triggers_when_price_falls() -> None:
    eng, _ = make_engine()
    _print(eng, "100")
    tp = stop(eng, "a", "BUY", "TAKE_PROFIT_LIMIT", "1", "90", "91").order
    _print(eng, "95")
    assert not eng.get_order("a", "BTCUSDT", tp.order_id).is_working
    limit(eng, "b", "SELL", "2", "90")
    limit(eng, "c", "BUY", "0.5", "90")  # prints 90
    got = eng.get_order("a", "BTCUSDT", tp.order_id)
    assert got.status == "FILLED" and got.cum_quote_qty == U("90")
    check_invariants(eng)


def test_any_trade_price_of_an_operation_triggers() -> None:
    eng, _ = make_engine()
    _print(eng, "101")
    limit(eng, "b", "SELL", "1", "100")
    limit(eng, "b", "SELL", "1", "102")
    limit(eng, "c", "BUY", "5", "50")
    sl = stop(eng, "a", "SELL", "STOP_LOSS", "1", "100.5").order
    limit(eng, "c", "BUY", "2", "102")  # trades 100 then 102: last price 102, but 100 printed
    got = eng.get_order("a", "BTCUSDT", sl.order_id)
    assert got.status == "FILLED" and got.cum_quote_qty == U("50")
    check_invariants(eng)


def test_triggered_stops_cascade() -> None:
    eng, _ = make_engine()
    _print(eng, "100")
    limit(eng, "b", "BUY", "1", "99")
    limit(eng, "b", "BUY", "1", "97")
    first = stop(eng, "a", "SELL", "STOP_LOSS", "1", "99").order
    second = stop(eng, "c", "SELL", "STOP_LOSS", "1", "98").order
    eng.drain_events()
    limit(eng, "c", "SELL", "0.5", "99", stp_mode="NONE")  # 99 -> first fires, sells at 99 then 97 -> second
    assert eng.get_order("a", "BTCUSDT", first.order_id).status == "FILLED"
    assert eng.get_order("c", "BTCUSDT", second.order_id).executed_qty == U("0.5")
    check_invariants(eng)


def test_cancel_parked_stop_unlocks_without_book_change() -> None:
    eng, _ = make_engine()
    sl = stop(eng, "a", "BUY", "STOP_LOSS_LIMIT", "1", "110", "111").order
    eng.drain_events()
    canceled = eng.cancel_order("a", "BTCUSDT", sl.order_id)
    assert canceled.status == "CANCELED"
    assert eng.account("a").balance("USDT") == (START_BALANCES["USDT"], 0)
    assert kinds(eng.drain_events()) == [f"U:CANCELED:{sl.order_id}", "B:a"]
    _print(eng, "120")  # would have triggered
    assert eng.get_order("a", "BTCUSDT", sl.order_id).status == "CANCELED"
    check_invariants(eng)


def test_max_num_algo_orders_counts_open_stops() -> None:
    eng, _ = make_engine(specs=[make_spec(max_num_algo_orders=1)])
    stop(eng, "a", "BUY", "STOP_LOSS", "1", "110")
    limit(eng, "a", "BUY", "1", "90")  # plain orders do not count
    with pytest.raises(EngineError) as err:
        stop(eng, "a", "SELL", "STOP_LOSS", "1", "80")
    assert (err.value.code, err.value.msg) == (-1013, "Filter failure: MAX_NUM_ALGO_ORDERS")
    stop(eng, "b", "SELL", "STOP_LOSS", "1", "80")  # another account has its own count
