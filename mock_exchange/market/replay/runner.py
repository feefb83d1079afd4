"""The replay driver: one deterministic timeline of market records, order arrivals and responses.

Four kinds of steps, each at an integer-ns time, ordered by (time, priority, sequence):

====  ==================  =========================================================
prio  step                what happens
====  ==================  =========================================================
0     record applied      the exchange applies a record at its exchange time
1     order arrives       a strategy order/cancel reaches the exchange (sent + entry latency)
2     response delivered  the exchange's events reach the strategy (+ response latency)
3     record delivered    the strategy sees a record at its local time (feed latency)
====  ==================  =========================================================

Records are not pushed through the event heap: they arrive from the feed in local order
(delivery order) and are put in exchange-time order on the way in: a record whose exchange time
is not earlier than the last one read joins a FIFO, the few earlier ones (trades carry their
match time, up to ~200 ms before publication) go to a small heap, and a record is applied only
once no unread record can precede it (the feed keeps exchange time within ``max_lag_ns`` of
local time). Orders and responses share a heap like simpy's; ``seq`` breaks ties in the order
things were scheduled. Both latency paths are FIFO (a message never overtakes an earlier one on
the same path), and each batch of events (one order's answer, one record's fills) is delivered
together. Random draws come from ``random.Random`` streams derived from ``seed``: same seed,
same records -> the same fills.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from heapq import heappop, heappush
from itertools import chain
from typing import Any

from mock_exchange.engine.types import GTC
from mock_exchange.market.readers.records import ReplayRecord
from mock_exchange.market.replay.book import RecordedBook
from mock_exchange.market.replay.exchange import ReplayExchange
from mock_exchange.market.replay.feed import (
    K_TICKER,
    K_TRADE,
    FeedReport,
    FeedTiming,
    MarketEvent,
    MarketFeed,
)
from mock_exchange.market.replay.latency import LatencyModel, parse_latency
from mock_exchange.market.replay.orders import FILLED, OrderEvent, ReplayFill
from mock_exchange.market.replay.strategy import Strategy

PRIO_ARRIVE = 1
PRIO_RESPONSE = 2
OP_LIMIT = 0
OP_MARKET = 1
OP_CANCEL = 2
OP_RESPONSE = 3
_INF = 1 << 62
_READ_AHEAD_NS = 50_000_000  # read records in batches of ~50 ms of local time


@dataclass
class ReplayResult:
    """What a run produced: the fills (deterministic), counts, and how fast it ran (not)."""

    fills: list[ReplayFill]
    records: int  # market records applied by the exchange (= delivered to the strategy)
    order_ops: int  # orders and cancels that reached the exchange
    responses: int  # response batches delivered to the strategy
    order_events: int  # order events delivered (accepted, filled, ...)
    first_ns: int  # exchange time of the first and last record
    last_ns: int
    wall_s: float
    counts: dict[str, int]
    accounts: dict[str, dict[str, Any]]
    feed: FeedReport = field(default_factory=FeedReport)

    @property
    def events(self) -> int:
        """Everything the loop processed: records, order arrivals and response batches."""
        return self.records + self.order_ops + self.responses

    @property
    def span_s(self) -> float:
        return max(0, self.last_ns - self.first_ns) / 1e9

    @property
    def events_per_s(self) -> float:
        return self.events / self.wall_s if self.wall_s > 0 else float("inf")

    @property
    def x_real_time(self) -> float:
        return self.span_s / self.wall_s if self.wall_s > 0 else float("inf")

    @property
    def filled_qty(self) -> int:
        return sum(f.qty for f in self.fills)


class ReplayRunner:
    """Drive ``strategy`` through ``records`` against ``exchange`` (see the module docstring).

    ``records``: ReplayRecords (from any reader) or a ready ``MarketFeed`` (``timing`` is then
    the feed's). ``entry_latency``/``response_latency``: a LatencyModel, a number of ms or a spec
    string (``parse_latency``); the response latency defaults to the entry one. The runner is the
    strategy's order API (``place_limit``, ``place_market``, ``cancel``, ``now_ns``).
    """

    def __init__(
        self,
        records: Iterable[ReplayRecord] | MarketFeed,
        exchange: ReplayExchange,
        strategy: Strategy,
        seed: int = 0,
        *,
        entry_latency: LatencyModel | float | str = 0.0,
        response_latency: LatencyModel | float | str | None = None,
        timing: FeedTiming | None = None,
    ) -> None:
        self.feed = records if isinstance(records, MarketFeed) else MarketFeed(records, timing)
        self.exchange = exchange
        self.strategy = strategy
        self.seed = seed
        rng = random.Random(seed)
        entry = parse_latency(entry_latency)
        response = entry if response_latency is None else parse_latency(response_latency)
        self.entry_latency = entry
        self.response_latency = response
        self._entry = entry.sampler(random.Random(rng.getrandbits(64)))
        self._response = response.sampler(random.Random(rng.getrandbits(64)))
        self.views: dict[str, RecordedBook] = {}  # the strategy's books, as it has received them
        self._heap: list[tuple[int, int, int, int, Any]] = []
        self._seq = 0
        self._now = 0  # strategy (local) time
        self._last_entry = 0
        self._last_response = 0
        self._client_seq = 0
        self._responses = 0
        self._order_events = 0

    # -- the strategy's order API ----------------------------------------------------------
    def now_ns(self) -> int:
        return self._now

    def _send(self, op: int, payload: tuple[Any, ...]) -> None:
        t = self._now + self._entry()
        if t < self._last_entry:
            t = self._last_entry
        self._last_entry = t
        self._seq += 1
        heappush(self._heap, (t, PRIO_ARRIVE, self._seq, op, payload))

    def _client_id(self, client_id: str) -> str:
        if client_id:
            return client_id
        self._client_seq += 1
        return f"c{self._client_seq}"

    def place_limit(
        self,
        symbol: str,
        side: str,
        price: int,
        qty: int,
        client_id: str = "",
        *,
        time_in_force: str = GTC,
        post_only: bool = False,
    ) -> str:
        cid = self._client_id(client_id)
        self._send(OP_LIMIT, (symbol, side, price, qty, cid, time_in_force, post_only))
        return cid

    def place_market(self, symbol: str, side: str, qty: int, client_id: str = "") -> str:
        cid = self._client_id(client_id)
        self._send(OP_MARKET, (symbol, side, qty, cid))
        return cid

    def cancel(self, symbol: str, client_id: str) -> None:
        self._send(OP_CANCEL, (symbol, client_id))

    # -- the loop ---------------------------------------------------------------------------
    def _respond(self, events: Sequence[OrderEvent], exch_ns: int) -> None:
        t = exch_ns + self._response()
        if t < self._last_response:
            t = self._last_response
        self._last_response = t
        self._seq += 1
        heappush(self._heap, (t, PRIO_RESPONSE, self._seq, OP_RESPONSE, events))

    def _step(self, t: int, op: int, payload: Any) -> None:
        """One heap step: an order/cancel reaching the exchange, or responses reaching the strategy."""
        ex = self.exchange
        if op == OP_RESPONSE:
            self._now = t
            self._responses += 1
            strategy = self.strategy
            for event in payload:
                self._order_events += 1
                if event.kind == FILLED:
                    strategy.on_fill(event)
                else:
                    strategy.on_order_update(event)
            return
        if op == OP_LIMIT:
            symbol, side, price, qty, cid, tif, post_only = payload
            out = ex.place_limit(symbol, side, price, qty, cid, time_in_force=tif, post_only=post_only, now_ns=t)
        elif op == OP_MARKET:
            symbol, side, qty, cid = payload
            out = ex.place_market(symbol, side, qty, cid, now_ns=t)
        else:
            out = ex.cancel(payload[0], payload[1], now_ns=t)
        self._respond(out, t)

    def run(self) -> ReplayResult:
        """Replay every record (and every order/response they lead to); the result."""
        wall0 = time.perf_counter()
        heap = self._heap
        # exchange-time order: records read in non-decreasing exchange time queue up in ``inorder``;
        # the few that come earlier than the last one read go to the ``late`` heap.
        inorder: deque[MarketEvent] = deque()
        late: list[tuple[int, int, MarketEvent]] = []
        tail = -_INF
        deliver: deque[MarketEvent] = deque()  # local-time (receive) order
        feed: Iterator[MarketEvent] = iter(self.feed)
        head = next(feed, None)
        if head is not None:  # the strategy starts on the clock of the first record
            feed = chain((head,), feed)
            self._now = head.local_ns
        lag = self.feed.timing.max_lag_ns
        ahead = lag + _READ_AHEAD_NS
        last_local = -_INF
        safe = -_INF  # records applying at or before this time cannot be preceded by unread ones
        apply = self.exchange.apply
        views = self.views
        strategy = self.strategy
        on_book = strategy.on_book
        on_trade = strategy.on_trade
        respond = self._respond
        records = order_ops = 0
        first_ns = last_ns = 0
        strategy.on_start(self)
        while True:
            from_late = False
            if inorder:
                ev = inorder[0]
                ta = ev.exch_ns
                if late:
                    first = late[0]
                    if first[0] < ta or (first[0] == ta and first[1] < ev.seq):
                        ta = first[0]
                        from_late = True
            elif late:
                ta = late[0][0]
                from_late = True
            else:
                ta = _INF
            if ta > safe:
                # every unread record has exchange time >= last_local - lag: read until ``ta`` is safe
                while last_local - ahead < ta:
                    nxt = next(feed, None)
                    if nxt is None:
                        safe = _INF
                        break
                    x = nxt.exch_ns
                    if x >= tail:
                        inorder.append(nxt)
                        tail = x
                    else:
                        heappush(late, (x, nxt.seq, nxt))
                    deliver.append(nxt)
                    last_local = nxt.local_ns
                    safe = last_local - lag
                continue
            td = deliver[0].local_ns if deliver else _INF
            th = heap[0][0] if heap else _INF
            if ta <= td and ta <= th:
                if ta == _INF:
                    break
                ev = heappop(late)[2] if from_late else inorder.popleft()
                if not records:
                    first_ns = ta
                last_ns = ta
                records += 1
                out = apply(ev)
                if out:
                    respond(out, ta)
                # fast path: keep applying in-order records that are due before anything else
                while inorder and not late:
                    ev = inorder[0]
                    x = ev.exch_ns
                    if x > safe or x > td or (heap and x > heap[0][0]):
                        break
                    inorder.popleft()
                    last_ns = x
                    records += 1
                    out = apply(ev)
                    if out:
                        respond(out, x)
            elif th <= td:
                t, _, _, op, payload = heappop(heap)
                if op != OP_RESPONSE:
                    order_ops += 1
                self._step(t, op, payload)
            else:
                # deliver records until the next one is not strictly before the next apply/heap step
                while True:
                    ev = deliver.popleft()
                    self._now = td
                    kind = ev.kind
                    if kind == K_TRADE:
                        d = ev.data
                        on_trade(ev.symbol, d[0], d[1], d[2], td)
                    else:
                        view = views.get(ev.symbol)
                        if view is None:
                            view = views[ev.symbol] = RecordedBook(ev.symbol)
                        if kind == K_TICKER:
                            d = ev.data
                            if view.apply_ticker(d[0], d[1], d[2], d[3], d[4]):
                                # an applied ticker with both sides is exactly the new top of book
                                on_book(ev.symbol, d[1:] if d[2] and d[4] else view.top(), view)
                        elif view.apply(kind, ev.data):
                            on_book(ev.symbol, view.top(), view)
                    if not deliver:
                        break
                    td = deliver[0].local_ns
                    if td >= ta or (heap and td >= heap[0][0]):
                        break
        strategy.on_end()
        ex = self.exchange
        return ReplayResult(
            fills=list(ex.fills),
            records=records,
            order_ops=order_ops,
            responses=self._responses,
            order_events=self._order_events,
            first_ns=first_ns,
            last_ns=last_ns,
            wall_s=time.perf_counter() - wall0,
            counts=dict(ex.counts),
            accounts={s: ex.account(s) for s in sorted(ex.symbols)},
            feed=self.feed.report,
        )
