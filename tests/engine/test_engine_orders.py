"""Order types, time in force, fills, fees, balances and the events a client would observe."""

from __future__ import annotations

import pytest

from mock_exchange.engine import BalanceChange, BookDelta, EngineError, LotSize, OrderUpdate, TradeEvent
from tests.engine.engine_fixtures import (
    START_BALANCES,
    U,
    check_invariants,
    kinds,
    limit,
    make_engine,
    make_spec,
    totals,
    updates,
)


def test_resting_limit_locks_quote_and_shows_in_depth() -> None:
    eng, _ = make_engine()
    res = limit(eng, "a", "BUY", "2", "100")
    assert res.order.status == "NEW" and res.fills == []
    assert res.order.order_id == 1 and res.order.working_time == res.order.time
    assert len(res.order.client_order_id) == 22
    assert eng.account("a").balance("USDT") == (START_BALANCES["USDT"] - U("200"), U("200"))
    assert eng.depth("BTCUSDT", 10) == (1, [(U("100"), U("2"))], [])
    assert eng.best_bid_ask("BTCUSDT") == (U("100"), U("2"), 0, 0)
    events = eng.drain_events()
    assert kinds(events) == ["U:NEW:1", "D", "B:a"]
    delta = events[1]
    assert isinstance(delta, BookDelta)
    assert (delta.first_update_id, delta.last_update_id, delta.bids, delta.asks) == (
        1,
        1,
        ((U("100"), U("2")),),
        (),
    )
    bal = events[2]
    assert isinstance(bal, BalanceChange)
    assert bal.balances == (("USDT", START_BALANCES["USDT"] - U("200"), U("200")),)
    check_invariants(eng)


def test_crossing_limit_trades_at_maker_price_with_fees() -> None:
    eng, _ = make_engine()
    before = totals(eng)
    limit(eng, "a", "SELL", "1", "100")
    eng.drain_events()
    res = limit(eng, "b", "BUY", "1", "101")
    assert res.order.status == "FILLED"
    [fill] = res.fills
    assert (fill.price, fill.qty, fill.quote_qty, fill.trade_id) == (U("100"), U("1"), U("100"), 1)
    assert (fill.commission, fill.commission_asset, fill.is_maker) == (U("0.001"), "BTC", False)
    # Buyer paid 100 (not 101: the price improvement is released) and got 1 BTC less 0.1 %.
    assert eng.account("b").balance("USDT") == (START_BALANCES["USDT"] - U("100"), 0)
    assert eng.account("b").balance("BTC") == (START_BALANCES["BTC"] + U("0.999"), 0)
    assert eng.account("a").balance("BTC") == (START_BALANCES["BTC"] - U("1"), 0)
    assert eng.account("a").balance("USDT") == (START_BALANCES["USDT"] + U("99.9"), 0)
    assert eng.fees == {"BTC": U("0.001"), "USDT": U("0.1")}
    assert totals(eng) == before
    events = eng.drain_events()
    assert kinds(events) == ["U:NEW:2", "T", "U:TRADE:1", "U:TRADE:2", "D", "B:b", "B:a"]
    trade = events[1]
    assert isinstance(trade, TradeEvent)
    assert (trade.buyer_order_id, trade.seller_order_id, trade.is_buyer_maker) == (2, 1, False)
    maker_up, taker_up = events[2], events[3]
    assert isinstance(maker_up, OrderUpdate) and isinstance(taker_up, OrderUpdate)
    assert maker_up.is_maker and maker_up.order.status == "FILLED" and maker_up.commission_asset == "USDT"
    assert maker_up.commission == U("0.1") and maker_up.trade_id == 1 and maker_up.last_qty == U("1")
    assert not taker_up.is_maker and taker_up.order.status == "FILLED" and taker_up.last_price == U("100")
    assert eng.depth("BTCUSDT", 5) == (2, [], [])
    check_invariants(eng)


def test_price_time_priority_and_partial_fill_rests() -> None:
    eng, _ = make_engine()
    first = limit(eng, "a", "SELL", "1", "100").order
    later = limit(eng, "c", "SELL", "1", "100").order
    better = limit(eng, "b", "SELL", "0.5", "99.5").order
    res = limit(eng, "b", "BUY", "3", "100", stp_mode="NONE")
    assert [(f.price, f.qty) for f in res.fills] == [
        (U("99.5"), U("0.5")),
        (U("100"), U("1")),
        (U("100"), U("1")),
    ]
    trades = eng.my_trades("a", "BTCUSDT") + eng.my_trades("c", "BTCUSDT")
    assert [t.order_id for t in sorted(trades, key=lambda t: t.trade_id)] == [first.order_id, later.order_id]
    assert better.order_id < res.order.order_id
    assert res.order.status == "PARTIALLY_FILLED" and res.order.executed_qty == U("2.5")
    assert eng.depth("BTCUSDT", 5)[1:] == ([(U("100"), U("0.5"))], [])
    # Remainder keeps exactly remaining * limit price locked.
    assert eng.account("b").balance("USDT")[1] == U("50")
    check_invariants(eng)


def test_ioc_remainder_expires_and_unlocks() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "1", "100")
    eng.drain_events()
    res = limit(eng, "b", "BUY", "3", "100", tif="IOC")
    assert res.order.status == "EXPIRED" and res.order.expiry_reason == "UNFILLED_IOC_QUANTITY_EXPIRED"
    assert res.order.executed_qty == U("1")
    assert eng.account("b").balance("USDT") == (START_BALANCES["USDT"] - U("100"), 0)
    events = eng.drain_events()
    assert kinds(events) == ["U:NEW:2", "T", "U:TRADE:1", "U:TRADE:2", "U:EXPIRED:2", "D", "B:b", "B:a"]
    assert updates(events, 2)[1].order.status == "PARTIALLY_FILLED"
    assert eng.open_orders("b") == []
    check_invariants(eng)


def test_ioc_on_empty_book_expires_without_book_change() -> None:
    eng, _ = make_engine()
    res = limit(eng, "b", "SELL", "1", "100", tif="IOC")
    assert res.order.status == "EXPIRED" and res.fills == []
    assert kinds(eng.drain_events()) == ["U:NEW:1", "U:EXPIRED:1", "B:b"]
    assert eng.last_update_id("BTCUSDT") == 0


def test_fok_all_or_nothing() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "1", "100")
    limit(eng, "a", "SELL", "1", "101")
    eng.drain_events()
    uid = eng.last_update_id("BTCUSDT")
    res = limit(eng, "b", "BUY", "3", "101", tif="FOK")
    assert res.order.status == "EXPIRED" and res.order.expiry_reason == "UNFILLED_FOK_ORDER_EXPIRED"
    assert res.fills == [] and res.order.executed_qty == 0
    assert kinds(eng.drain_events()) == ["U:NEW:3", "U:EXPIRED:3", "B:b"]
    assert eng.last_update_id("BTCUSDT") == uid  # the book did not change
    res = limit(eng, "b", "BUY", "1.5", "101", tif="FOK")
    assert res.order.status == "FILLED" and [f.qty for f in res.fills] == [U("1"), U("0.5")]
    check_invariants(eng)


def test_market_by_quantity_walks_the_book_then_expires_on_liquidity() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "1", "100")
    limit(eng, "a", "SELL", "1", "102")
    res = eng.place_order("b", "BTCUSDT", "BUY", "MARKET", quantity=U("3"))
    assert [(f.price, f.qty) for f in res.fills] == [(U("100"), U("1")), (U("102"), U("1"))]
    assert res.order.status == "EXPIRED" and res.order.expiry_reason == "INSUFFICIENT_LIQUIDITY"
    assert res.order.cum_quote_qty == U("202") and res.order.time_in_force == ""
    assert eng.account("b").balance("USDT") == (START_BALANCES["USDT"] - U("202"), 0)
    check_invariants(eng)


def test_market_on_empty_book_expires_with_no_fills() -> None:
    eng, _ = make_engine()
    res = eng.place_order("b", "BTCUSDT", "SELL", "MARKET", quantity=U("1"))
    assert res.order.status == "EXPIRED" and res.fills == [] and res.order.executed_qty == 0
    assert eng.account("b").balance("BTC") == (START_BALANCES["BTC"], 0)


def test_market_buy_rejected_when_the_walk_costs_more_than_free_quote() -> None:
    eng, _ = make_engine()
    eng.create_account("poor", {"USDT": U("150")})
    limit(eng, "a", "SELL", "1", "100")
    limit(eng, "a", "SELL", "1", "200")
    eng.drain_events()
    with pytest.raises(EngineError) as err:
        eng.place_order("poor", "BTCUSDT", "BUY", "MARKET", quantity=U("2"))
    assert (err.value.code, err.value.msg) == (
        -2010,
        "Account has insufficient balance for requested action.",
    )
    assert eng.drain_events() == [] and eng.account("poor").balance("USDT") == (U("150"), 0)
    res = eng.place_order("poor", "BTCUSDT", "BUY", "MARKET", quantity=U("1"))
    assert res.order.status == "FILLED" and eng.account("poor").balance("USDT") == (U("50"), 0)


def test_market_buy_by_quote_qty_spends_at_most_that_in_whole_steps() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "1", "100")
    limit(eng, "a", "SELL", "5", "300")
    res = eng.place_order("b", "BTCUSDT", "BUY", "MARKET", quote_order_qty=U("250"))
    o = res.order
    assert o.status == "FILLED" and o.orig_quote_qty == U("250")
    # 100 buys 1 BTC at 100; the other 150 buy 0.5 BTC at 300 (step 0.001).
    assert [(f.price, f.qty) for f in res.fills] == [(U("100"), U("1")), (U("300"), U("0.5"))]
    assert o.orig_qty == o.executed_qty == U("1.5") and o.cum_quote_qty == U("250")
    assert eng.account("b").balance("USDT") == (START_BALANCES["USDT"] - U("250"), 0)
    last = updates(eng.drain_events(), o.order_id)[-1]
    assert last.exec_type == "TRADE" and last.order.status == "FILLED"
    check_invariants(eng)


def test_market_buy_by_quote_qty_expires_when_liquidity_runs_out() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "1", "100")
    res = eng.place_order("b", "BTCUSDT", "BUY", "MARKET", quote_order_qty=U("1000"))
    assert res.order.status == "EXPIRED" and res.order.expiry_reason == "INSUFFICIENT_LIQUIDITY"
    assert res.order.executed_qty == U("1") and res.order.orig_qty == U("1")
    assert eng.account("b").balance("USDT") == (START_BALANCES["USDT"] - U("100"), 0)
    check_invariants(eng)


def test_market_sell_by_quote_qty_receives_up_to_it() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "BUY", "1", "300")
    limit(eng, "a", "BUY", "10", "200")
    res = eng.place_order("b", "BTCUSDT", "SELL", "MARKET", quote_order_qty=U("400"))
    assert [(f.price, f.qty) for f in res.fills] == [(U("300"), U("1")), (U("200"), U("0.5"))]
    assert res.order.status == "FILLED" and res.order.cum_quote_qty == U("400")
    assert eng.account("b").balance("BTC") == (START_BALANCES["BTC"] - U("1.5"), 0)
    check_invariants(eng)


def test_quote_order_qty_disabled_on_symbol() -> None:
    eng, _ = make_engine(specs=[make_spec(quote_order_qty_market_allowed=False)])
    with pytest.raises(EngineError) as err:
        eng.place_order("b", "BTCUSDT", "BUY", "MARKET", quote_order_qty=U("10"))
    assert (err.value.code, err.value.msg) == (
        -2010,
        "Quote order qty market orders are not support for this symbol.",
    )


def test_limit_maker_rests_or_is_rejected_when_it_would_take() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "1", "100")
    eng.drain_events()
    with pytest.raises(EngineError) as err:
        eng.place_order("b", "BTCUSDT", "BUY", "LIMIT_MAKER", quantity=U("1"), price=U("100"))
    assert (err.value.code, err.value.msg) == (-2010, "Order would immediately match and take.")
    assert eng.drain_events() == []
    res = eng.place_order("b", "BTCUSDT", "BUY", "LIMIT_MAKER", quantity=U("1"), price=U("99.99"))
    assert res.order.status == "NEW" and res.order.time_in_force == "GTC"
    assert eng.best_bid_ask("BTCUSDT") == (U("99.99"), U("1"), U("100"), U("1"))
    check_invariants(eng)


def test_iceberg_shows_its_slice_and_loses_priority_on_refresh() -> None:
    eng, _ = make_engine()
    ice = eng.place_order(
        "a",
        "BTCUSDT",
        "SELL",
        "LIMIT",
        quantity=U("3"),
        price=U("100"),
        time_in_force="GTC",
        iceberg_qty=U("1"),
    ).order
    other = limit(eng, "c", "SELL", "1", "100").order
    assert eng.depth("BTCUSDT", 5)[2] == [(U("100"), U("2"))]  # 1 visible of the iceberg + 1
    assert eng.account("a").balance("BTC")[1] == U("3")  # the hidden part is locked too
    res = limit(eng, "b", "BUY", "1.5", "100")
    assert [(f.qty, f.price) for f in res.fills] == [(U("1"), U("100")), (U("0.5"), U("100"))]
    fills_c = eng.my_trades("c", "BTCUSDT")
    assert [f.order_id for f in fills_c] == [other.order_id]  # the refreshed slice went behind c
    got = eng.get_order("a", "BTCUSDT", ice.order_id)
    assert got.status == "PARTIALLY_FILLED" and got.executed_qty == U("1") and got.iceberg_qty == U("1")
    assert eng.depth("BTCUSDT", 5)[2] == [(U("100"), U("1.5"))]
    # A large taker eats through every slice of the iceberg.
    res = limit(eng, "b", "BUY", "10", "100")
    assert sum(f.qty for f in res.fills) == U("2.5")
    assert eng.get_order("a", "BTCUSDT", ice.order_id).status == "FILLED"
    check_invariants(eng)


def test_taker_iceberg_matches_full_quantity_then_rests_a_slice() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "2", "100")
    res = eng.place_order(
        "b",
        "BTCUSDT",
        "BUY",
        "LIMIT",
        quantity=U("5"),
        price=U("100"),
        time_in_force="GTC",
        iceberg_qty=U("1"),
    )
    assert sum(f.qty for f in res.fills) == U("2")
    assert eng.depth("BTCUSDT", 5)[1] == [(U("100"), U("1"))]
    assert eng.account("b").balance("USDT")[1] == U("300")
    check_invariants(eng)


def test_maker_and_taker_rates_per_account() -> None:
    eng, _ = make_engine(accounts=())
    eng.create_account("mk", dict(START_BALANCES), maker_rate=0, taker_rate=U("0.002"))
    eng.create_account("tk", dict(START_BALANCES), maker_rate=U("0.5"), taker_rate=U("0.002"))
    limit(eng, "mk", "BUY", "1", "100")
    res = limit(eng, "tk", "SELL", "1", "100")
    assert res.fills[0].commission == U("0.2") and res.fills[0].commission_asset == "USDT"
    maker_fill = eng.my_trades("mk", "BTCUSDT")[0]
    assert maker_fill.commission == 0 and maker_fill.is_maker and maker_fill.commission_asset == "BTC"


def test_event_snapshots_do_not_change_later() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "2", "100")
    new_event = updates(eng.drain_events())[0]
    limit(eng, "b", "BUY", "2", "100")
    assert new_event.order.status == "NEW" and new_event.order.executed_qty == 0
    assert eng.get_order("a", "BTCUSDT", 1).status == "FILLED"


def test_ids_are_per_symbol_and_update_ids_count_book_changes() -> None:
    eth = make_spec("ETHUSDT", "ETH", "USDT")
    eng, _ = make_engine(specs=[make_spec(), eth])
    assert limit(eng, "a", "SELL", "1", "100").order.order_id == 1
    assert limit(eng, "a", "SELL", "1", "100", symbol="ETHUSDT").order.order_id == 1
    assert limit(eng, "b", "BUY", "1", "100", symbol="ETHUSDT").fills[0].trade_id == 1
    assert limit(eng, "b", "BUY", "0.5", "100").fills[0].trade_id == 1
    assert eng.last_update_id("BTCUSDT") == 2 and eng.last_update_id("ETHUSDT") == 2
    ids = [e.execution_id for e in updates(eng.drain_events())]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_test_orders_validate_without_changing_anything() -> None:
    eng, _ = make_engine()
    res = eng.place_order("a", "BTCUSDT", "BUY", "LIMIT", quantity=U("1"), price=U("10"), time_in_force="GTC",
                          test=True)  # fmt: skip
    assert res.order.order_id == 0 and res.fills == []
    assert eng.drain_events() == [] and eng.open_orders("a") == []
    with pytest.raises(EngineError) as err:
        eng.place_order("a", "BTCUSDT", "BUY", "LIMIT", quantity=U("1"), price=U("10.001"), time_in_force="GTC",
                        test=True)  # fmt: skip
    assert err.value.msg == "Filter failure: PRICE_FILTER"
    assert limit(eng, "a", "BUY", "1", "10").order.order_id == 1


def test_deposit_and_withdrawal() -> None:
    eng, _ = make_engine()
    change = eng.adjust_balance("a", "BNB", U("5"))
    assert change.asset == "BNB" and change.delta == U("5") and change.balances == (("BNB", U("5"), 0),)
    assert eng.drain_events() == [change]
    with pytest.raises(EngineError) as err:
        eng.adjust_balance("a", "BNB", -U("6"))
    assert err.value.code == -2010
    eng.adjust_balance("a", "BNB", -U("5"))
    assert eng.account("a").balance("BNB") == (0, 0)


def test_quote_qty_market_uses_the_market_lot_step() -> None:
    eng, _ = make_engine(specs=[make_spec(market_lot_size=LotSize(0, U("1000"), U("0.01")))])
    limit(eng, "a", "SELL", "10", "3")
    res = eng.place_order("b", "BTCUSDT", "BUY", "MARKET", quote_order_qty=U("10"))
    # 10 / 3 = 3.333..., floored to the 0.01 MARKET_LOT_SIZE step (not the 0.001 LOT_SIZE step).
    assert res.order.executed_qty == U("3.33") and res.order.cum_quote_qty == U("9.99")
    assert res.order.status == "FILLED"
    assert eng.account("b").balance("USDT") == (START_BALANCES["USDT"] - U("9.99"), 0)
    check_invariants(eng)
