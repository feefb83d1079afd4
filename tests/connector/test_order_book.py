"""OrderBook and ActiveOrderTracker behaviour: levels, top of book, depth queries, Decimal in/out."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.active_order_tracker import ActiveOrderTracker
from connector.order_book import EmptyOrderBookError, OrderBook
from connector.order_book_message import OrderBookMessage, OrderBookRow

D = Decimal


def book_of(bids: list[tuple[str, str]], asks: list[tuple[str, str]], uid: int = 10) -> OrderBook:
    book = OrderBook()
    book.apply_raw_snapshot([list(b) for b in bids], [list(a) for a in asks], uid)
    return book


@pytest.fixture
def book() -> OrderBook:
    return book_of([("99.00", "1.0"), ("100.00", "2.0"), ("98.50", "3.0")],
                   [("101.00", "1.5"), ("102.00", "0.5"), ("103.00", "4.0"), ("104.00", "0.00")])


def test_snapshot_orders_sides_and_drops_zero_levels(book: OrderBook) -> None:
    bids, asks = book.snapshot
    assert [(r.price, r.amount) for r in bids] == [(D("100.00"), D("2.0")), (D("99.00"), D("1.0")), (D("98.50"), D("3.0"))]
    assert [r.price for r in asks] == [D("101.00"), D("102.00"), D("103.00")]
    assert all(isinstance(r.price, Decimal) and isinstance(r.amount, Decimal) for r in bids + asks)
    assert (book.best_bid, book.best_ask, book.mid_price) == (D("100.00"), D("101.00"), D("100.5"))
    assert (book.bid_count, book.ask_count, book.snapshot_uid, book.last_diff_uid) == (3, 3, 10, 10)


def test_diffs_set_absolute_amounts_insert_and_remove(book: OrderBook) -> None:
    book.apply_raw_diffs([["100.00", "0.00000000"], ["100.50", "7"]], [["101.00", "3.25"], ["250.00", "0"]], 11)
    assert book.best_bid == D("100.50") and book.amount_at(True, D("100.00")) == 0
    assert book.amount_at(False, D("101.00")) == D("3.25")
    assert book.last_diff_uid == 11 and book.snapshot_uid == 10
    book.apply_diffs([OrderBookRow(D("100.50"), D(0), 12)], [OrderBookRow(D("100.75"), D("0.1"), 12)], 12)
    assert (book.best_bid, book.best_ask) == (D("99.00"), D("100.75"))
    assert book.raw_levels(False)["100.75"] == "0.1"


def test_get_price_and_empty_sides() -> None:
    book = book_of([("1.5", "2")], [])
    assert book.get_price(False) == D("1.5")
    with pytest.raises(EmptyOrderBookError):
        book.get_price(True)
    assert book.best_ask is None and book.mid_price is None
    with pytest.raises(EmptyOrderBookError):
        book.get_vwap_for_volume(True, D(1))


def test_vwap_and_price_for_volume(book: OrderBook) -> None:
    # Buying 2.0: 1.5 @ 101 + 0.5 @ 102 = 202.5 -> vwap 101.25, worst price 102.
    vwap = book.get_vwap_for_volume(True, D("2.0"))
    assert (vwap.result_price, vwap.result_volume, vwap.query_volume) == (D("101.25"), D("2.0"), D("2.0"))
    assert book.get_price_for_volume(True, D("2.0")).result_price == D("102.00")
    # Selling 2.5 into bids: 2.0 @ 100 + 0.5 @ 99.
    assert book.get_vwap_for_volume(False, D("2.5")).result_price == D("249.5") / D("2.5")
    assert book.get_price_for_volume(False, D("2.5")).result_price == D("99.00")
    # More than the side holds: the whole side, result_volume says how much.
    big = book.get_vwap_for_volume(True, D(100))
    assert big.result_volume == D("6.0") and big.result_price == (D("151.5") + D("51") + D("412")) / D("6.0")


def test_price_for_quote_volume_and_volume_for_price(book: OrderBook) -> None:
    # 151.5 USDT at 101 is not enough for 200; the next level (102) is reached.
    res = book.get_price_for_quote_volume(True, D(200))
    assert res.result_price == D("102.00") and res.result_volume == D("151.5") + D("51.0")
    assert book.get_price_for_quote_volume(False, D(150)).result_price == D("100.00")
    assert book.get_price_for_quote_volume(False, D(250)).result_price == D("99.00")
    assert book.get_volume_for_price(True, D("102.00")).result_volume == D("2.0")
    assert book.get_volume_for_price(False, D("99.00")).result_volume == D("3.0")
    assert book.get_volume_for_price(True, D("100")).result_volume == 0


def test_top_and_levels(book: OrderBook) -> None:
    bids, asks = book.top(2)
    assert [r.price for r in bids] == [D("100.00"), D("99.00")] and [r.price for r in asks] == [D(101), D(102)]
    assert book.levels(True) == {D(100): D(2), D(99): D(1), D("98.5"): D(3)}


def test_prices_beyond_float_precision_stay_distinct_and_ordered() -> None:
    # Both prices are the same float (1.0); the book must still keep and order them exactly.
    book = book_of([("1.0000000000000001", "1"), ("0.9", "1")], [("1.5", "1")])
    book.apply_raw_diffs([["1.0000000000000002", "2"], ["1.0000000000000000", "3"]], [], 11)
    assert [r.price for r in book.bid_entries()] == [D("1.0000000000000002"), D("1.0000000000000001"), D("1.0"),
                                                     D("0.9")]
    assert book.amount_at(True, D("1.0000000000000001")) == 1 and book.amount_at(True, D("1.00000000000000015")) == 0
    book.apply_raw_diffs([["1.0000000000000002", "0"]], [], 12)
    assert book.best_bid == D("1.0000000000000001") and book.bid_count == 3


def test_trade_message_sets_last_trade() -> None:
    book = OrderBook()
    trade = OrderBookMessage.trade({"e": "trade", "s": "BTCUSDT", "t": 7, "p": "65000.10", "q": "0.5", "T": 1500, "m": True},
                                   "BTC-USDT")
    book.apply_message(trade)
    assert (book.last_trade_price, book.last_trade_amount, book.last_trade_type) == (D("65000.10"), D("0.5"), "SELL")
    assert book.last_applied_trade == 1.5


def test_active_order_tracker_rows_and_levels() -> None:
    tracker = ActiveOrderTracker()
    snap = OrderBookMessage.snapshot({"lastUpdateId": 5, "bids": [["10", "1"], ["9", "0"]], "asks": [["11", "2"]]},
                                     "A-B", 0.0)
    bids, asks = tracker.convert_snapshot_message_to_order_book_row(snap)
    assert bids == [OrderBookRow(D(10), D(1), 5)] and asks == [OrderBookRow(D(11), D(2), 5)]
    diff = OrderBookMessage.diff({"e": "depthUpdate", "E": 1, "s": "AB", "U": 6, "u": 7, "b": [["10", "0"], ["9.5", "3"]],
                                  "a": []}, "A-B")
    bids, asks = tracker.convert_diff_message_to_order_book_row(diff)
    assert bids == [OrderBookRow(D(10), D(0), 7), OrderBookRow(D("9.5"), D(3), 7)] and asks == []
    assert tracker.active_bids == {D("9.5"): D(3)} and tracker.best_ask == D(11) and tracker.last_update_id == 7
    with pytest.raises(ValueError):
        tracker.convert_snapshot_message_to_order_book_row(diff)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 60), st.integers(0, 3)), min_size=1, max_size=300),
       st.integers(1, 7))
def test_random_diffs_match_a_plain_dict(ops: list[tuple[bool, int, int]], read_every: int) -> None:
    """Any sequence of level changes, read at any cadence, gives what a plain dict gives."""
    book = OrderBook()
    book.apply_raw_snapshot([], [], 0)
    ref: tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]] = ({}, {})
    rng = random.Random(len(ops))
    for i, (is_bid, tick, qty) in enumerate(ops):
        price = f"{100 + tick if not is_bid else 100 - tick}.{rng.choice(['00', '50'])}"
        level = [price, f"{qty}.000"]
        book.apply_raw_diffs([level] if is_bid else [], [] if is_bid else [level], i + 1)
        side = ref[0] if is_bid else ref[1]
        if qty:
            side[D(price)] = D(qty)
        else:
            side.pop(D(price), None)
        if i % read_every == 0:
            assert book.best_bid == (max(ref[0]) if ref[0] else None)
            assert book.best_ask == (min(ref[1]) if ref[1] else None)
    assert book.levels(True) == ref[0] and book.levels(False) == ref[1]
    assert [r.price for r in book.bid_entries()] == sorted(ref[0], reverse=True)
