"""The replay runner and feed: latency in replay time, feed clocks, ordering, determinism."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from mock_exchange.engine.types import BUY
from mock_exchange.market.readers.records import ReplayFormatError, ReplayRecord
from mock_exchange.market.replay import (
    ConstantLatency,
    FeedTiming,
    FileLatency,
    LognormalLatency,
    MarketFeed,
    OrderApi,
    OrderEvent,
    RecordedBook,
    ReplayExchange,
    ReplayRunner,
    Strategy,
    parse_latency,
)
from tests.market.test_replay_support import (
    MS,
    rec_diff,
    rec_snapshot,
    rec_ticker,
    rec_trade,
    u,
)

BASE = 1_723_161_300_000  # venue ms
OFFSET = -1270  # the recorder's clock runs 1.27 s behind the venue


def session(trade_at_ms: list[float], local_offset: float = 0.0) -> list[ReplayRecord]:
    """A book at 100.00 / 100.01 at BASE, then sell-aggressor trades at 100.00 at the given ms."""
    recs = [
        rec_snapshot(BASE + local_offset, 10, [("100.00", "1")], [("100.01", "1")], line=1),
        rec_diff(BASE + local_offset, BASE, 11, 11, [("99.99", "1")], [], line=2),
    ]
    for i, t in enumerate(trade_at_ms):
        recs.append(rec_trade(BASE + t + local_offset, BASE + round(t), "100.00", "5", True, line=3 + i))
    return recs


class OneBid(Strategy):
    """Places one 0.5 bid at the best bid on the first book update; records what it sees, when."""

    def __init__(self) -> None:
        self.api: OrderApi | None = None
        self.seen: list[tuple[str, int]] = []
        self.placed = False

    def on_start(self, api: OrderApi) -> None:
        self.api = api

    def on_book(self, symbol: str, top: tuple[int, int, int, int], book: RecordedBook) -> None:
        self.seen.append(("book", self.now()))
        if not self.placed and top[0]:
            assert self.api is not None
            self.api.place_limit(symbol, BUY, top[0], u("0.5"), "bid", post_only=True)
            self.placed = True

    def on_trade(self, symbol: str, price: int, qty: int, is_buyer_maker: bool, time_ns: int) -> None:
        self.seen.append(("trade", time_ns))

    def on_fill(self, event: OrderEvent) -> None:
        self.seen.append(("fill", self.now()))

    def on_order_update(self, event: OrderEvent) -> None:
        self.seen.append((event.kind, self.now()))

    def now(self) -> int:
        assert self.api is not None
        return self.api.now_ns()


NO_FEED = FeedTiming(mode="none")


def run(records: list[ReplayRecord], entry: float, response: float | None = None, queue: str = "none",
        timing: FeedTiming = NO_FEED, seed: int = 0) -> tuple[OneBid, ReplayExchange]:
    strategy = OneBid()
    exchange = ReplayExchange(queue)
    ReplayRunner(records, exchange, strategy, seed, entry_latency=entry, response_latency=response,
                 timing=timing).run()
    return strategy, exchange


def test_an_order_reaches_the_book_only_after_the_entry_latency() -> None:
    # the strategy sees the book at BASE; a trade at the bid prints 3 ms later, another at 6 ms
    slow, slow_ex = run(session([3, 6]), entry=5)
    fast, fast_ex = run(session([3, 6]), entry=1)
    assert [f.time_ns for f in fast_ex.fills] == [(BASE + 3) * MS]
    assert [f.time_ns for f in slow_ex.fills] == [(BASE + 6) * MS]


def test_responses_reach_the_strategy_after_the_response_latency() -> None:
    strategy, _ = run(session([10]), entry=2, response=3)
    events = dict((kind, t) for kind, t in strategy.seen if kind in ("accepted", "fill"))
    assert events["accepted"] == (BASE + 2 + 3) * MS  # sent at BASE, on the book at +2, answer +3
    assert events["fill"] == (BASE + 10 + 3) * MS


def test_a_record_at_the_same_time_as_an_order_arrival_is_applied_first() -> None:
    # the order arrives at exactly the trade's time: the trade happened before it, no fill
    _, ex = run(session([4]), entry=4)
    assert ex.fills == []
    _, ex = run(session([4]), entry=3.999)
    assert len(ex.fills) == 1


def test_feed_latency_comes_from_offset_corrected_receive_times() -> None:
    # receive times lag the venue by the clock offset plus 2..9 ms of network
    jitter = [2, 9, 4, 3]
    recs = [
        rec_snapshot(BASE + OFFSET, 10, [("100.00", "1")], [("100.01", "1")]),
        rec_diff(BASE + OFFSET + jitter[0], BASE, 11, 11, [("99.99", "1")], []),
    ]
    for i, t in enumerate((20, 40, 60)):
        recs.append(rec_trade(BASE + t + OFFSET + jitter[i + 1], BASE + t, "99.00", "1", True))
    feed = MarketFeed(recs, FeedTiming(offset_method="min"))
    events = list(feed)
    assert feed.report.offset_ns == (OFFSET + 2) * MS  # min(local - venue): the fastest message has 0 latency
    trades = [e for e in events if e.kind == 2]
    assert [e.exch_ns for e in trades] == [(BASE + t) * MS for t in (20, 40, 60)]
    assert [e.local_ns - e.exch_ns for e in trades] == [(j - 2) * MS for j in jitter[1:]]
    median = MarketFeed(recs, FeedTiming(offset_method="median"))
    list(median)
    assert median.report.offset_ns == (OFFSET + 4) * MS
    # the strategy sees a trade at its corrected receive time, not at the venue time
    strategy = OneBid()
    ReplayRunner(feed, ReplayExchange(), strategy, entry_latency=1).run()
    assert [t for kind, t in strategy.seen if kind == "trade"] == [e.local_ns for e in trades]


def test_min_latency_floor_and_ticker_exchange_time() -> None:
    recs = [
        rec_diff(BASE + OFFSET + 3, BASE, 11, 11, [("99.99", "1")], []),
        rec_diff(BASE + OFFSET + 109, BASE + 100, 12, 12, [("99.98", "1")], []),
        rec_ticker(BASE + OFFSET + 150, 13, "99.99", "1", "100.01", "1"),
    ]
    feed = MarketFeed(recs, FeedTiming(min_latency_ns=1 * MS))
    events = list(feed)
    assert feed.report.offset_ns == (OFFSET + 2) * MS
    assert [e.local_ns - e.exch_ns for e in events[:2]] == [1 * MS, 7 * MS]
    # no venue time: the ticker happened a median feed latency before it was received
    assert events[2].local_ns - events[2].exch_ns == feed.report.estimates[0].median_latency_ns


def test_feed_drops_records_the_readers_labelled_and_names_bad_ones() -> None:
    recs = [
        rec_diff(BASE, BASE, 1, 5, [("1", "1")], [], sync="resync"),
        rec_snapshot(BASE + 1, 10, [("100.00", "1")], [("100.01", "1")]),
        rec_diff(BASE + 2, BASE + 1, 6, 9, [("1", "1")], [], sync="stale"),
        rec_diff(BASE + 3, BASE + 2, 11, 11, [("99.99", "1")], []),
    ]
    feed = MarketFeed(recs)
    assert [e.kind for e in feed] == [1, 0]
    assert feed.report.dropped == {"depth_diff:resync": 1, "depth_diff:stale": 1}
    bad = rec_trade(BASE, BASE, "100.00", "1", True, line=42)
    bad.payload["p"] = "one hundred"
    with pytest.raises(ReplayFormatError) as err:
        list(MarketFeed([bad]))
    assert err.value.path == "cap.gz" and err.value.line == 42 and "trade" in err.value.reason


def test_trades_are_applied_at_their_trade_time_before_later_book_updates() -> None:
    # the trade matched at +5 ms but was published (and received) after a ticker from +8 ms
    recs = session([])
    recs.append(rec_ticker(BASE + 9, 12, "100.00", "0.2", "100.01", "1"))
    recs.append(rec_trade(BASE + 30, BASE + 29, "100.00", "0.8", True, trade_ms=BASE + 5))
    feed = MarketFeed(recs, FeedTiming(mode="none"))
    order = [e.kind for e in sorted(feed, key=lambda e: (e.exch_ns, e.seq))]
    assert order == [1, 0, 2, 3]


class Flapper(Strategy):
    """Places and immediately cancels on every book update (tests FIFO order entry)."""

    def __init__(self) -> None:
        self.api: OrderApi | None = None
        self.n = 0
        self.updates: list[str] = []

    def on_start(self, api: OrderApi) -> None:
        self.api = api

    def on_book(self, symbol: str, top: tuple[int, int, int, int], book: RecordedBook) -> None:
        assert self.api is not None
        self.n += 1
        cid = self.api.place_limit(symbol, BUY, top[0] - u("1"), u("0.1"), post_only=True)
        self.api.cancel(symbol, cid)

    def on_order_update(self, event: OrderEvent) -> None:
        self.updates.append(event.kind)


def ticking_session(n: int) -> list[ReplayRecord]:
    recs = [rec_snapshot(BASE, 10, [("100.00", "1")], [("100.01", "1")])]
    for i in range(n):
        bid = f"{100 + (i % 7) / 100:.2f}"
        recs.append(rec_ticker(BASE + 1 + i * 0.5, 11 + i, bid, "1", "101.00", "1"))
    return recs


def test_random_latency_never_lets_a_cancel_overtake_its_order() -> None:
    strategy = Flapper()
    ReplayRunner(ticking_session(200), ReplayExchange(), strategy, seed=3,
                 entry_latency=LognormalLatency(5, 1.5), timing=NO_FEED).run()
    assert strategy.n == 201
    assert strategy.updates.count("cancelled") == 201 and "cancel_rejected" not in strategy.updates


def test_same_seed_same_run_and_the_seed_drives_latency_draws() -> None:
    def fills(seed: int) -> list[tuple[int, int]]:
        recs = ticking_session(50) + [
            rec_trade(BASE + 40 + i, BASE + 40 + i, "100.00", "0.3", True) for i in range(20)
        ]
        strategy = OneBid()
        ex = ReplayExchange("risk_averse")
        ReplayRunner(recs, ex, strategy, seed, entry_latency="lognormal:median=8,sigma=1", timing=NO_FEED).run()
        return [(f.time_ns, f.qty) for f in ex.fills] + [(t, 0) for _, t in strategy.seen]

    assert fills(1) == fills(1)
    assert fills(1) != fills(2)


# -- latency models --------------------------------------------------------------------------------
def test_latency_models_draw_nanoseconds() -> None:
    assert ConstantLatency(2.5).sampler(random.Random(0))() == 2_500_000
    draw = LognormalLatency(20, 0.5, min_ms=1, max_ms=50).sampler(random.Random(7))
    values = [draw() for _ in range(2000)]
    assert all(1 * MS <= v <= 51 * MS for v in values)
    assert 18 * MS < sorted(values)[1000] < 24 * MS  # median ~ 1 ms floor + 20 ms
    again = LognormalLatency(20, 0.5, min_ms=1, max_ms=50).sampler(random.Random(7))
    assert [again() for _ in range(2000)] == values


def test_file_latency_reads_a_column_and_cycles(tmp_path: Path) -> None:
    path = tmp_path / "rtt.csv"
    path.write_text("# measured round trips\nts,rtt_ms\n1,2.5\n2,3\n\n3,10\n")
    draw = FileLatency(path, "rtt_ms").sampler(random.Random(0))
    assert [draw() for _ in range(5)] == [2_500_000, 3_000_000, 10_000_000, 2_500_000, 3_000_000]
    plain = tmp_path / "plain.txt"
    plain.write_text("4\n5\n")
    assert FileLatency(plain).values_ns == [4 * MS, 5 * MS]
    assert isinstance(parse_latency(f"file:{path}:1"), FileLatency)


def test_file_latency_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("1.5\n2\nslow\n")
    with pytest.raises(ReplayFormatError) as err:
        FileLatency(path)
    assert err.value.line == 3 and "slow" in err.value.reason and str(path) in str(err.value)
    with pytest.raises(ReplayFormatError, match="no column"):
        FileLatency(path, "rtt")


def test_parse_latency_specs() -> None:
    assert parse_latency(3).describe() == "constant 3 ms"
    assert parse_latency("20ms").describe() == "constant 20 ms"
    model = parse_latency("lognormal:median=20,sigma=0.5,min=1")
    assert isinstance(model, LognormalLatency) and model.min_ms == 1
    with pytest.raises(ValueError):
        parse_latency("gamma:k=2")
