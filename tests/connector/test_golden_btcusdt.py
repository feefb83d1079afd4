"""Golden tests on real Binance BTCUSDT traffic (2024-08-08/09, ../shared/data).

The book is rebuilt through ``BookSync`` (the state machine the tracker runs for every pair) from
the REST snapshot line and the diffs in capture order, and compared with an independent,
dictionary-based rebuild after every diff across both files.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.active_order_tracker import ActiveOrderTracker
from connector.order_book import OrderBook
from connector.order_book_data_source import message_from_stream
from connector.order_book_message import OrderBookMessage, OrderBookMessageType
from connector.order_book_tracker import BookSync
from tests.connector.golden_data import btcusdt_paths, read_btcusdt

PAIR = "BTC-USDT"
FULL_CHECK_EVERY = 250  # full Decimal comparison of both sides (cheaper checks run on every diff)


class ReferenceBook:
    """The documented procedure, written as plainly as possible: {price text: qty text} per side,
    plus the best price of each side (recomputed by max/min only when the best level goes)."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.last = int(snapshot["lastUpdateId"])
        self.bids = {p: q for p, q in snapshot["bids"] if Decimal(q) != 0}
        self.asks = {p: q for p, q in snapshot["asks"] if Decimal(q) != 0}
        self.best_bid: Decimal | None = None
        self.best_ask: Decimal | None = None

    def apply(self, data: dict[str, Any]) -> bool:
        """Apply a depthUpdate payload; False when it is already contained in the book."""
        if data["u"] <= self.last:
            return False
        assert data["U"] <= self.last + 1, "the capture has no gaps"
        for price, qty in data["b"]:
            p = Decimal(price)
            if Decimal(qty) == 0:
                if self.bids.pop(price, None) is not None and p == self.best_bid:
                    self.best_bid = None
            else:
                self.bids[price] = qty
                if self.best_bid is not None and p > self.best_bid:
                    self.best_bid = p
        for price, qty in data["a"]:
            p = Decimal(price)
            if Decimal(qty) == 0:
                if self.asks.pop(price, None) is not None and p == self.best_ask:
                    self.best_ask = None
            else:
                self.asks[price] = qty
                if self.best_ask is not None and p < self.best_ask:
                    self.best_ask = p
        self.last = data["u"]
        return True

    def best(self) -> tuple[Decimal, Decimal]:
        if self.best_bid is None:
            self.best_bid = max(map(Decimal, self.bids))
        if self.best_ask is None:
            self.best_ask = min(map(Decimal, self.asks))
        return self.best_bid, self.best_ask

    def rows(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids = sorted(((Decimal(p), Decimal(q)) for p, q in self.bids.items()), reverse=True)
        asks = sorted((Decimal(p), Decimal(q)) for p, q in self.asks.items())
        return bids, asks


def _book_rows(book: OrderBook) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    bids, asks = book.snapshot
    return [(r.price, r.amount) for r in bids], [(r.price, r.amount) for r in asks]


@pytest.fixture(scope="module")
def frames() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in btcusdt_paths():
        out.extend(frame for _, frame in read_btcusdt(path))
    return out


def test_every_frame_parses(frames: list[dict[str, Any]]) -> None:
    counts = {"snapshot": 0, "depth": 0, "trade": 0, "bookTicker": 0}
    last_trade_id = None
    for frame in frames:
        if "lastUpdateId" in frame:
            snap = OrderBookMessage.snapshot(frame, PAIR, 0.0, "BTCUSDT")
            assert snap.type is OrderBookMessageType.SNAPSHOT and snap.update_id == frame["lastUpdateId"]
            assert len(snap.bids) == len(frame["bids"]) == 1000 and snap.bids[0].price == Decimal(frame["bids"][0][0])
            counts["snapshot"] += 1
            continue
        stream, data = frame["stream"], frame["data"]
        msg = message_from_stream(data, PAIR, 7)
        if stream.endswith("@bookTicker"):
            assert msg is None and {"u", "s", "b", "B", "a", "A"} <= set(data)
            counts["bookTicker"] += 1
        elif stream.endswith("@depth@100ms"):
            assert msg is not None and msg.type is OrderBookMessageType.DIFF
            assert (msg.first_update_id, msg.update_id, msg.connection_id) == (data["U"], data["u"], 7)
            assert msg.timestamp == data["E"] / 1000 and msg.trading_pair == PAIR
            assert [(r.price, r.amount) for r in msg.bids] == [(Decimal(p), Decimal(q)) for p, q in data["b"]]
            assert [(r.price, r.amount) for r in msg.asks] == [(Decimal(p), Decimal(q)) for p, q in data["a"]]
            counts["depth"] += 1
        else:
            assert stream.endswith("@trade")
            assert msg is not None and msg.type is OrderBookMessageType.TRADE
            assert msg.trade_id == data["t"] and msg.price == Decimal(data["p"]) and msg.amount == Decimal(data["q"])
            assert msg.trade_type == ("SELL" if data["m"] else "BUY") and msg.timestamp == data["T"] / 1000
            if last_trade_id is not None:
                assert msg.trade_id == last_trade_id + 1
            last_trade_id = msg.trade_id
            counts["trade"] += 1
    assert counts["snapshot"] == 1
    assert counts["depth"] > 6000 and counts["trade"] > 9000 and counts["bookTicker"] > 28000


def test_tracker_rebuild_equals_reference_after_every_diff(frames: list[dict[str, Any]]) -> None:
    sync = BookSync(PAIR)
    book = sync.order_book
    ref: ReferenceBook | None = None
    early: list[dict[str, Any]] = []  # diffs that arrived before the snapshot
    compared = 0
    tickers: dict[int, dict[str, Any]] = {}  # bookTicker payloads by update id, until we get there
    ticker_checks = 0
    for frame in frames:
        if "lastUpdateId" in frame:
            ref = ReferenceBook(frame)
            for data in early:
                ref.apply(data)
            assert sync.on_snapshot(OrderBookMessage.snapshot(frame, PAIR, 0.0))
            assert sync.synced and book.last_diff_uid == sync.last_update_id == ref.last
            assert _book_rows(book) == ref.rows()
            continue
        data = frame["data"]
        if frame["stream"].endswith("@bookTicker"):
            if data["u"] > sync.last_update_id:
                tickers[data["u"]] = data
            continue
        msg = message_from_stream(data, PAIR)
        if msg is None or msg.type is not OrderBookMessageType.DIFF:
            continue
        sync.on_diff(msg)
        if ref is None:
            assert not sync.synced and sync.buffer[-1] is msg  # buffered until the snapshot
            early.append(data)
            continue
        ref.apply(data)
        assert sync.synced and sync.last_update_id == ref.last == book.last_diff_uid
        # Every diff: both sides exactly (venue text), and the Decimal top of book.
        assert book.raw_levels(True) == ref.bids
        assert book.raw_levels(False) == ref.asks
        assert (book.best_bid, book.best_ask) == ref.best()
        assert (book.bid_count, book.ask_count) == (len(ref.bids), len(ref.asks))
        compared += 1
        ticker = tickers.pop(sync.last_update_id, None)
        if ticker is not None:
            # The venue's top of book at update id u is ours once we are at u.
            assert (book.best_bid, book.best_ask) == (Decimal(ticker["b"]), Decimal(ticker["a"]))
            assert book.amount_at(True, Decimal(ticker["b"])) == Decimal(ticker["B"])
            assert book.amount_at(False, Decimal(ticker["a"])) == Decimal(ticker["A"])
            ticker_checks += 1
        if len(tickers) > 1000:
            tickers = {u: t for u, t in tickers.items() if u > sync.last_update_id}
        if compared % FULL_CHECK_EVERY == 0:
            assert _book_rows(book) == ref.rows()
    assert ref is not None and compared > 6000
    assert _book_rows(book) == ref.rows()
    assert ticker_checks > 100
    s = sync.stats
    assert (s.resyncs, s.gaps, s.reconnects, s.stale_snapshots) == (0, 0, 0, 0)
    # Of the three diffs buffered before the snapshot, two predate it and one spans it.
    assert s.diffs_applied == compared + 1 and s.diffs_dropped == 2


def test_unread_book_and_row_path_agree_with_reference(frames: list[dict[str, Any]]) -> None:
    """The lazy path (no reads between diffs, so levels are compacted rather than indexed) and the
    row path (ActiveOrderTracker -> OrderBook.apply_diffs) end in the reference book too."""
    snapshot = next(f for f in frames if "lastUpdateId" in f)
    ref = ReferenceBook(snapshot)
    fast = BookSync(PAIR)
    fast.on_snapshot(OrderBookMessage.snapshot(snapshot, PAIR, 0.0))
    rows_book = OrderBook()
    tracker = ActiveOrderTracker()
    snap_msg = OrderBookMessage.snapshot(snapshot, PAIR, 0.0)
    rows_book.apply_snapshot(*tracker.convert_snapshot_message_to_order_book_row(snap_msg), snap_msg.update_id)
    for frame in frames:
        data = frame.get("data")
        if data is None or data.get("e") != "depthUpdate" or data["u"] <= snapshot["lastUpdateId"]:
            continue
        ref.apply(data)
        msg = OrderBookMessage.diff(data, PAIR)
        fast.on_diff(msg)
        bids, asks = tracker.convert_diff_message_to_order_book_row(msg)
        rows_book.apply_diffs(bids, asks, msg.update_id)
    expected = ref.rows()
    assert _book_rows(fast.order_book) == expected
    assert _book_rows(rows_book) == expected
    assert sorted(tracker.active_bids.items(), reverse=True) == expected[0]
    assert sorted(tracker.active_asks.items()) == expected[1]
    assert tracker.best_bid == expected[0][0][0] and tracker.best_ask == expected[1][0][0]
