"""Replay records -> timed market events: prices as ints, and two clocks per event.

Every event has an **exchange time** (``exch_ns``: when it happened at the venue; the replay
exchange applies it then) and a **local time** (``local_ns``: when the strategy sees it). They
come from the recorded times like this (``FeedTiming``):

* The recorder's clock is not the venue's (the shared BTCUSDT capture ran ~1.27 s behind), so
  local receive times are first corrected by a constant **clock offset**, estimated per window
  of ``window`` venue-timed records as ``min(local - venue)`` (default: the fastest message of the
  window then had zero one-way latency, plus ``min_latency_ns`` if you know the true floor) or as
  the median (typical latency becomes zero; half the records would arrive "before" they happened
  and are clamped to their venue time). Per-window estimates follow slow clock drift (the
  BTCUSDT recorder drifts ~3 ms over its 650 s) while staying constant inside a window.
* Exchange time: the trade time ``T`` for trades (the match, up to ~200 ms before the event is
  published), the event time ``E`` for other stream events, and for messages without a venue
  time (spot bookTicker, REST snapshots) the corrected local time minus the window's median
  feed latency.
* Local time: the corrected receive time, never before the exchange time and never decreasing
  (receive order is kept). Without recorded receive times (CSV sources) local = exchange time.
* Exchange times are kept within ``max_lag_ns`` of the local time (so a consumer can reorder by
  exchange time with a bounded look-ahead), and depth records of one symbol stay in receive
  order on the exchange clock (a diff is never applied before the snapshot it joins).

``mode="none"`` turns feed latency off: the strategy sees each record at its exchange time.

Depth records follow the readers' labels (``records.py``/``sequence.py``): diffs labelled
resync/stale are dropped; an "ok" snapshot carries its ``bridge`` diffs, applied after loading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mock_exchange.engine.units import to_units
from mock_exchange.market.readers.records import SYNC_OK, ReplayFormatError, ReplayRecord

K_DIFF = 0  # data: DiffData (split_diff)
K_SNAPSHOT = 1  # data: (lastUpdateId, bids, asks, bridge); bridge: tuple of diff data tuples
K_TRADE = 2  # data: (price, qty, is_buyer_maker, trade_id)
K_TICKER = 3  # data: (u, bid, bid_qty, ask, ask_qty)
KIND_NAMES = ("depth_diff", "depth_snapshot", "trade", "book_ticker")

Levels = list[tuple[int, int]]
# (U, u, bid levels to set {price: qty}, bid prices to remove, ask levels to set, ask prices to remove)
DiffData = tuple[int, int, dict[int, int], tuple[int, ...], dict[int, int], tuple[int, ...]]


class MarketEvent:
    """One recorded market message, parsed, with its exchange and local times (ns)."""

    __slots__ = ("exch_ns", "local_ns", "seq", "symbol", "kind", "data", "record")

    def __init__(
        self, exch_ns: int, local_ns: int, seq: int, symbol: str, kind: int, data: Any, record: ReplayRecord | None
    ) -> None:
        self.exch_ns = exch_ns
        self.local_ns = local_ns
        self.seq = seq
        self.symbol = symbol
        self.kind = kind
        self.data = data
        self.record = record

    def __repr__(self) -> str:
        return f"MarketEvent({KIND_NAMES[self.kind]} {self.symbol} x={self.exch_ns} l={self.local_ns} {self.data!r:.80})"


UNITS_CACHE_SIZE = 1 << 15  # distinct strings remembered by ``units`` (then it starts afresh)


def convert_units(text: str) -> int:
    """A venue decimal string in 1e-8 units; the 8-decimal form Binance sends is the fast path
    (with its one dot taken out it is the number of units; a second dot fails the ``int``)."""
    if len(text) > 9 and text[-9] == ".":
        return int(text.replace(".", "", 1))
    return to_units(text)


class _UnitsCache(dict[str, int]):
    """``convert_units`` remembered per string, for the few strings a recording repeats most
    (bookTicker and trade prices and sizes near the touch): a hit costs a fifth of a conversion.
    Depth levels do not use it: their strings are too many and too varied for lookups to win.
    Bounded: cleared when full, so memory stays constant."""

    __slots__ = ()

    def __missing__(self, text: str) -> int:
        value = convert_units(text)
        if type(text) is str:  # only strings: 1 == 1.0 == True would share an entry
            if len(self) >= UNITS_CACHE_SIZE:
                self.clear()
            self[text] = value
        return value


# ``units(text)``: as ``convert_units``, through the cache (the bound lookup is the cheapest call).
units: Callable[[str], int] = _UnitsCache().__getitem__


def parse_levels(rows: list[list[str]]) -> Levels:
    u = convert_units
    return [(u(p), u(q)) for p, q in rows]


def diff_levels(payload: dict[str, Any]) -> tuple[Levels, Levels]:
    """The bid and ask rows of a depthUpdate payload, parsed, in their recorded order."""
    return parse_levels(payload["b"]), parse_levels(payload["a"])


def split_diff(first: int, last: int, bids: Levels, asks: Levels) -> DiffData:
    """A diff as the book applies it: levels to set and prices to remove, per side."""
    return (
        first,
        last,
        {p: q for p, q in bids if q},
        tuple(p for p, q in bids if not q),
        {p: q for p, q in asks if q},
        tuple(p for p, q in asks if not q),
    )


def _diff_data(payload: dict[str, Any]) -> DiffData:
    return split_diff(payload["U"], payload["u"], *diff_levels(payload))


def parse_record(rec: ReplayRecord) -> tuple[int, Any] | None:
    """(kind, data) of a record the exchange uses, or None (kline, partial depth, labelled skips)."""
    kind = rec.kind
    p = rec.payload
    if kind == "book_ticker":
        return K_TICKER, (rec.last_update_id or 0, units(p["b"]), units(p["B"]), units(p["a"]), units(p["A"]))
    if kind == "trade" or kind == "agg_trade":
        tid = p.get("t", p.get("a", 0))
        return K_TRADE, (units(p["p"]), units(p["q"]), bool(p["m"]), tid)
    if kind == "depth_diff":
        if rec.sync != SYNC_OK:
            return None
        return K_DIFF, _diff_data(p)
    if kind == "depth_snapshot":
        if rec.sync != SYNC_OK:
            return None
        bridge = tuple(_diff_data(d.payload) for d in rec.bridge)
        return K_SNAPSHOT, (p["lastUpdateId"], parse_levels(p["bids"]), parse_levels(p["asks"]), bridge)
    return None


@dataclass(frozen=True, slots=True)
class FeedTiming:
    """How recorded times become exchange and local times (see the module docstring)."""

    mode: str = "recorded"  # "recorded": feed latency from receive times; "none": local = exchange time
    offset_method: str = "min"  # "min" or "median" of (local - venue) per window
    window: int = 10_000  # venue-timed records per offset estimate; 0 = one estimate over all (buffers all)
    min_latency_ns: int = 0  # assumed fastest one-way feed latency (added back after the min correction)
    max_lag_ns: int = 1_000_000_000  # exchange time is never more than this before local time

    def __post_init__(self) -> None:
        if self.mode not in ("recorded", "none"):
            raise ValueError(f"feed timing mode must be 'recorded' or 'none', not {self.mode!r}")
        if self.offset_method not in ("min", "median"):
            raise ValueError(f"offset_method must be 'min' or 'median', not {self.offset_method!r}")
        if self.window < 0 or self.max_lag_ns <= 0 or self.min_latency_ns < 0:
            raise ValueError("window >= 0, max_lag_ns > 0 and min_latency_ns >= 0 are required")


@dataclass(frozen=True, slots=True)
class OffsetEstimate:
    """The clock offset (local - venue) used for one window, and the feed latency after it."""

    first_source: str
    records: int
    samples: int
    offset_ns: int
    median_latency_ns: int


@dataclass
class FeedReport:
    """What the feed did: per-window offsets, events by kind, records it dropped and why."""

    estimates: list[OffsetEstimate] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)

    @property
    def offset_ns(self) -> int | None:
        """The first window's offset (the figure to quote), or None without venue times."""
        return self.estimates[0].offset_ns if self.estimates else None


def _median(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


class MarketFeed(Iterable[MarketEvent]):
    """Iterate replay records as MarketEvents (constant memory unless ``window=0``).

    ``cache=True`` keeps the events of the first iteration so later runs (e.g. a parameter sweep)
    replay the same events without re-reading or re-parsing.
    """

    def __init__(self, records: Iterable[ReplayRecord], timing: FeedTiming | None = None, cache: bool = False) -> None:
        self.records = records
        self.timing = timing if timing is not None else FeedTiming()
        self.report = FeedReport()
        self._cache: list[MarketEvent] | None = None
        self._keep = cache

    def __iter__(self) -> Iterator[MarketEvent]:
        if self._cache is not None:
            return iter(self._cache)
        if self._keep:
            self._cache = list(self._generate())
            return iter(self._cache)
        return self._generate()

    def _generate(self) -> Iterator[MarketEvent]:
        self.report = FeedReport()
        window = self.timing.window
        buf: list[ReplayRecord] = []
        lat: list[int] = []
        state = _TimingState()
        for rec in self.records:
            buf.append(rec)
            if rec.local_ns is not None and rec.venue_ms is not None:
                lat.append(rec.local_ns - rec.venue_ms * 1_000_000)
                if window and len(lat) >= window:
                    yield from self._emit(buf, lat, state)
                    buf, lat = [], []
        if buf:
            yield from self._emit(buf, lat, state)

    def _emit(self, buf: list[ReplayRecord], lat: list[int], st: _TimingState) -> Iterator[MarketEvent]:
        t = self.timing
        if lat:
            if t.offset_method == "min":
                st.offset = min(lat) - t.min_latency_ns
            else:
                st.offset = _median(lat)
            st.typical = max(0, _median(lat) - st.offset)
            self.report.estimates.append(OffsetEstimate(buf[0].source, len(buf), len(lat), st.offset, st.typical))
        offset, typical, lag = st.offset, st.typical, t.max_lag_ns
        no_feed = t.mode == "none"
        events = self.report.events
        dropped = self.report.dropped
        for rec in buf:
            try:
                parsed = parse_record(rec)
            except (KeyError, ValueError, TypeError, IndexError) as exc:
                raise _bad(rec, f"cannot use {rec.kind} payload: {exc!r}") from exc
            if parsed is None:
                dropped[f"{rec.kind}:{rec.sync}" if rec.kind.startswith("depth") else rec.kind] += 1
                continue
            kind, data = parsed
            venue = rec.venue_ms
            if kind == K_TRADE:
                trade_time = rec.payload.get("T")
                if type(trade_time) is int:
                    venue = trade_time
            local = rec.local_ns
            if local is None:
                if venue is None:
                    raise _bad(rec, "record has neither a receive time nor a venue time")
                exch = local = venue * 1_000_000
            else:
                local -= offset
                exch = local - typical if venue is None else venue * 1_000_000
            if local < st.last_local:
                local = st.last_local
            if kind <= K_SNAPSHOT:
                floor = st.depth_exch.get(rec.symbol)
                if floor is not None and exch < floor:
                    exch = floor
            if exch > local:
                local = exch
            if exch < local - lag:
                exch = local - lag
            if kind <= K_SNAPSHOT:
                st.depth_exch[rec.symbol] = exch
            if no_feed:
                local = exch if exch > st.last_local else st.last_local
            st.last_local = local
            st.seq += 1
            events[KIND_NAMES[kind]] += 1
            yield MarketEvent(exch, local, st.seq, rec.symbol, kind, data, rec)


@dataclass
class _TimingState:
    offset: int = 0
    typical: int = 0
    last_local: int = -(1 << 62)
    seq: int = 0
    depth_exch: dict[str, int] = field(default_factory=dict)


def _bad(rec: ReplayRecord, reason: str) -> ReplayFormatError:
    path, sep, line = rec.source.rpartition(":")
    if sep and line.isdigit():
        return ReplayFormatError(path, int(line), reason)
    return ReplayFormatError(rec.source or "<records>", 0, reason)
