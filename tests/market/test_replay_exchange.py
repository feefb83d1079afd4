"""The replay exchange: user orders against a recorded book (matching, queue models, fees)."""

from __future__ import annotations

import pytest

from mock_exchange.engine.types import BUY, FOK, IOC, SELL
from mock_exchange.market.replay import (
    ACCEPTED,
    CANCEL_REJECTED,
    CANCELLED,
    EXPIRED,
    FILLED,
    REJECTED,
    OrderEvent,
    ReplayExchange,
)
from tests.market.test_replay_support import SYMBOL, diff, snap, tick, trade, u

BIDS = [("100.00", "2"), ("99.99", "3")]
ASKS = [("100.01", "1"), ("100.02", "2")]


def market(queue: str = "risk_averse", **kwargs: int) -> ReplayExchange:
    ex = ReplayExchange(queue, **kwargs)
    ex.apply(snap(BIDS, ASKS))
    return ex


def kinds(events: list[OrderEvent] | tuple[OrderEvent, ...]) -> list[str]:
    return [e.kind for e in events]


def fills_of(events: object) -> list[tuple[int, int, bool]]:
    assert isinstance(events, list | tuple)
    return [(e.price, e.qty, e.is_maker) for e in events if e.kind == FILLED]


# -- passive orders: queue position ----------------------------------------------------------------
def test_post_only_order_rests_behind_the_recorded_quantity() -> None:
    ex = market()
    events = ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    assert kinds(events) == [ACCEPTED]
    assert events[0].status == "NEW" and events[0].order_type == "LIMIT_MAKER"
    assert ex.queue_position(SYMBOL, "b1") == u("2")
    # a price with nothing recorded puts the order at the front
    ex.place_limit(SYMBOL, BUY, u("99.50"), u("0.5"), "b2", post_only=True)
    assert ex.queue_position(SYMBOL, "b2") == 0


def test_post_only_order_that_would_take_is_rejected_like_the_venue() -> None:
    ex = market()
    events = ex.place_limit(SYMBOL, BUY, u("100.01"), u("0.5"), "b1", post_only=True)
    assert kinds(events) == [REJECTED]
    assert events[0].code == -2010 and events[0].reason == "Order would immediately match and take."
    assert ex.open_orders(SYMBOL) == [] and ex.fills == []


def test_trades_at_the_price_advance_the_queue_then_fill_partially() -> None:
    ex = market("risk_averse")
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    assert not ex.apply(trade("100.00", "1.5", True))  # still 0.5 ahead
    assert ex.queue_position(SYMBOL, "b1") == u("0.5")
    events = ex.apply(trade("100.00", "0.7", True))  # 0.2 reaches the order
    assert fills_of(events) == [(u("100.00"), u("0.2"), True)]
    assert events[0].status == "PARTIALLY_FILLED" and events[0].remaining == u("0.3")
    events = ex.apply(trade("100.00", "1", True))
    assert fills_of(events) == [(u("100.00"), u("0.3"), True)]
    assert events[0].status == "FILLED" and ex.open_orders() == []
    assert ex.account(SYMBOL)["position"] == u("0.5")


def test_buyer_initiated_trade_at_the_bid_price_does_not_reach_a_bid() -> None:
    ex = market("none")
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    assert not ex.apply(trade("100.00", "5", False))
    assert ex.order(SYMBOL, "b1") is not None


def test_risk_averse_queue_ignores_cancels_until_the_level_shrinks_below_it() -> None:
    ex = market("risk_averse")
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    ex.apply(diff(101, 101, [("100.00", "3")], []))  # joiners go behind
    assert ex.queue_position(SYMBOL, "b1") == u("2")
    ex.apply(diff(102, 102, [("100.00", "2.5")], []))  # a cancel: assumed behind
    assert ex.queue_position(SYMBOL, "b1") == u("2")
    ex.apply(diff(103, 103, [("100.00", "1.2")], []))  # fewer left than were ahead
    assert ex.queue_position(SYMBOL, "b1") == u("1.2")


def test_probabilistic_queue_splits_cancels_by_position() -> None:
    ex = market("prob")  # power law, n = 3
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    # at the back of the queue every cancel is ahead
    ex.apply(diff(101, 101, [("100.00", "1")], []))
    assert ex.queue_position(SYMBOL, "b1") == u("1")
    # 2 join behind; a cancel of 0.5 is ahead with prob 1/(1 + (2/1)**3) = 1/9
    ex.apply(diff(102, 102, [("100.00", "3")], []))
    ex.apply(diff(103, 103, [("100.00", "2.5")], []))
    ahead = ex.queue_position(SYMBOL, "b1")
    assert ahead == pytest.approx(u("1") - u("0.5") / 9, abs=2)


def test_probabilistic_queue_does_not_count_traded_quantity_as_cancels() -> None:
    ex = market("prob")
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    ex.apply(trade("100.00", "0.5", True))
    assert ex.queue_position(SYMBOL, "b1") == u("1.5")
    ex.apply(diff(101, 101, [("100.00", "1.5")], []))  # the decrease is that trade
    assert ex.queue_position(SYMBOL, "b1") == u("1.5")


def test_touch_model_fills_on_the_first_trade_at_the_price() -> None:
    ex = market("none")
    ex.place_limit(SYMBOL, SELL, u("100.01"), u("0.5"), "a1", post_only=True)
    assert ex.queue_position(SYMBOL, "a1") == 0
    events = ex.apply(trade("100.01", "0.1", False))
    assert fills_of(events) == [(u("100.01"), u("0.1"), True)]


def test_trade_through_the_price_fills_the_whole_order() -> None:
    ex = market("risk_averse")
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    events = ex.apply(trade("99.99", "0.01", True))
    assert fills_of(events) == [(u("100.00"), u("0.5"), True)]
    assert ex.account(SYMBOL) == {"position": u("0.5"), "cash": -u("50"), "fees": 0}


def test_recorded_book_crossing_the_price_fills_the_order() -> None:
    ex = market("risk_averse")
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    assert not ex.apply(tick(101, "100.00", "2", "100.01", "1"))
    events = ex.apply(tick(102, "99.99", "3", "100.00", "0.4"))
    assert fills_of(events) == [(u("100.00"), u("0.5"), True)]


# -- aggressive orders: recorded liquidity is consumed ---------------------------------------------
def test_market_order_takes_levels_and_what_it_took_stays_consumed() -> None:
    ex = market()
    events = ex.place_market(SYMBOL, BUY, u("1.5"), "m1")
    assert kinds(events) == [ACCEPTED, FILLED, FILLED]
    assert fills_of(events) == [(u("100.01"), u("1"), False), (u("100.02"), u("0.5"), False)]
    assert events[-1].status == "FILLED"
    _, _, asks = ex.depth(SYMBOL, 5)
    assert asks == [(u("100.02"), u("1.5"))]
    # a record for another level leaves the consumed ones consumed
    ex.apply(diff(101, 101, [], [("100.05", "1")]))
    assert ex.depth(SYMBOL, 5)[2] == [(u("100.02"), u("1.5")), (u("100.05"), u("1"))]
    # post-only at 100.01 no longer takes: that level is used up
    assert kinds(ex.place_limit(SYMBOL, BUY, u("100.01"), u("0.1"), "b1", post_only=True)) == [ACCEPTED]
    ex.cancel(SYMBOL, "b1")
    # the next update of the level brings its recorded quantity back
    ex.apply(diff(102, 102, [], [("100.01", "0.8")]))
    assert ex.depth(SYMBOL, 1)[2] == [(u("100.01"), u("0.8"))]


def test_market_order_larger_than_the_book_expires_the_rest() -> None:
    ex = market()
    events = ex.place_market(SYMBOL, SELL, u("6"), "m1")
    assert kinds(events) == [ACCEPTED, FILLED, FILLED, EXPIRED]
    assert events[-1].executed == u("5") and events[-1].remaining == u("1")
    assert ex.depth(SYMBOL, 5)[1] == []


def test_ioc_and_fok_limits() -> None:
    ex = market()
    events = ex.place_limit(SYMBOL, BUY, u("100.02"), u("5"), "f1", time_in_force=FOK)
    assert kinds(events) == [ACCEPTED, EXPIRED] and ex.fills == []
    events = ex.place_limit(SYMBOL, BUY, u("100.02"), u("5"), "i1", time_in_force=IOC)
    assert kinds(events) == [ACCEPTED, FILLED, FILLED, EXPIRED]
    assert events[-1].executed == u("3")


def test_crossing_limit_takes_then_rests_the_remainder_as_maker() -> None:
    ex = market(maker_rate=100_000, taker_rate=200_000)  # 0.1 % / 0.2 %
    events = ex.place_limit(SYMBOL, BUY, u("100.01"), u("1.5"), "b1")
    assert fills_of(events) == [(u("100.01"), u("1"), False)]
    assert events[1].fee == u("100.01") * 2 // 1000
    assert ex.queue_position(SYMBOL, "b1") == 0  # nothing recorded at 100.01 on the bid side
    passive = ex.apply(trade("100.01", "0.2", True))
    assert fills_of(passive) == [(u("100.01"), u("0.2"), True)]
    assert passive[0].fee == u("100.01") * 2 // 10 // 1000


def test_negative_maker_rate_is_a_rebate() -> None:
    ex = market("none", maker_rate=-10_000)  # -0.01 %
    ex.place_limit(SYMBOL, SELL, u("100.01"), u("1"), "a1", post_only=True)
    events = ex.apply(trade("100.01", "1", False))
    assert events[0].fee == -u("0.010001")
    assert ex.account(SYMBOL) == {"position": -u("1"), "cash": u("100.020001"), "fees": -u("0.010001")}


# -- cancels and rejections -------------------------------------------------------------------------
def test_cancel_and_cancel_of_an_unknown_order() -> None:
    ex = market()
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    events = ex.cancel(SYMBOL, "b1")
    assert kinds(events) == [CANCELLED] and events[0].status == "CANCELED"
    assert not ex.apply(trade("99.00", "9", True))  # gone from the book
    events = ex.cancel(SYMBOL, "b1")
    assert kinds(events) == [CANCEL_REJECTED] and events[0].code == -2011


def test_duplicate_client_id_bad_arguments_and_missing_book_are_rejected() -> None:
    ex = market()
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    assert ex.place_limit(SYMBOL, BUY, u("99.00"), u("0.5"), "b1")[0].reason == "Duplicate order sent."
    assert ex.place_limit(SYMBOL, BUY, u("99.00"), 0, "b2")[0].kind == REJECTED
    assert ex.place_limit(SYMBOL, "HOLD", u("99.00"), u("1"), "b3")[0].kind == REJECTED
    other = ex.place_market("ETHUSDT", BUY, u("1"), "e1")
    assert other[0].kind == REJECTED and other[0].reason == "No recorded book for this symbol yet."


def test_depth_shows_user_orders_on_top_of_the_recorded_levels() -> None:
    ex = market()
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("0.5"), "b1", post_only=True)
    ex.place_limit(SYMBOL, BUY, u("99.50"), u("0.25"), "b2", post_only=True)
    _, bids, _ = ex.depth(SYMBOL, 3)
    assert bids == [(u("100.00"), u("2.5")), (u("99.99"), u("3")), (u("99.50"), u("0.25"))]
    assert ex.depth(SYMBOL, 3, include_user=False)[1] == [(u("100.00"), u("2")), (u("99.99"), u("3"))]


# -- the recorded book: diffs and tickers fused by update id ----------------------------------------
def test_ticker_sets_the_top_and_removes_better_levels() -> None:
    ex = market()
    book = ex.book(SYMBOL)
    ex.apply(tick(101, "100.00", "1.5", "100.02", "2"))  # 100.01 was taken
    assert book.top() == (u("100.00"), u("1.5"), u("100.02"), u("2"))
    assert u("100.01") not in book.asks.levels
    ex.apply(tick(100, "100.05", "9", "100.06", "9"))  # older id: ignored
    assert book.top()[0] == u("100.00")


def test_diff_older_than_the_last_ticker_leaves_the_top_alone() -> None:
    ex = market()
    book = ex.book(SYMBOL)
    ex.apply(tick(110, "100.00", "1.5", "100.01", "0.5"))
    ex.apply(diff(101, 105, [("100.00", "1.9"), ("99.99", "4")], [("100.01", "0.7")]))
    assert book.top() == (u("100.00"), u("1.5"), u("100.01"), u("0.5"))
    assert book.bids.levels[u("99.99")] == u("4")
    ex.apply(diff(106, 112, [("100.00", "1.1")], []))  # newer than the ticker: applies
    assert book.top()[1] == u("1.1")


def test_snapshot_applies_its_bridge_diffs() -> None:
    from mock_exchange.market.replay.feed import K_SNAPSHOT, MarketEvent, split_diff

    bridge = (split_diff(99, 103, [(u("100.00"), 0)], [(u("100.01"), u("4"))]),)
    ex = ReplayExchange()
    ex.apply(MarketEvent(0, 0, 1, SYMBOL, K_SNAPSHOT, (100, [(u("100.00"), u("2"))], [(u("100.01"), u("1"))], bridge), None))
    book = ex.book(SYMBOL)
    assert book.loaded and book.last_update_id == 103
    assert book.top() == (0, 0, u("100.01"), u("4"))
    assert not ex.apply(diff(100, 103, [("99.00", "1")], [])) and u("99.00") not in book.bids.levels


def test_symbols_are_independent_markets() -> None:
    ex = market("none")
    ex.apply(snap([("2500.00", "10")], [("2500.01", "10")], symbol="ETHUSDT"))
    ex.place_limit("ETHUSDT", BUY, u("2500.00"), u("1"), "e1", post_only=True)
    ex.place_limit(SYMBOL, BUY, u("100.00"), u("1"), "b1", post_only=True)
    assert ex.apply(trade("2500.00", "0.4", True, symbol="ETHUSDT"))
    assert [(f.symbol, f.qty) for f in ex.fills] == [("ETHUSDT", u("0.4"))]
    assert ex.account("ETHUSDT")["position"] == u("0.4") and ex.account(SYMBOL)["position"] == 0
    assert {o.client_id for o in ex.open_orders()} == {"e1", "b1"}
    assert [o.client_id for o in ex.open_orders(SYMBOL)] == ["b1"]
