"""What the runner watches while a scenario plays: the fault timeline, the connector's
recoveries, the strategy's orders and fills, and periodic account samples.

Recovery is judged against the exchange itself: the connector's book is *in sync* when it
equals the exchange's book as of the update id the connector has reached (a mirror of the
engine's book fed by its deltas is advanced to that id); its orders have *converged* when
the open orders it tracks are exactly the account's open orders on the exchange and no order
is in an unknown state.
"""

from __future__ import annotations

import asyncio
from collections import deque
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connector import InFlightOrder, Market, OrderState
from mock_exchange.engine import units
from mock_exchange.engine.types import BookDelta, Event
from mock_exchange.server.fault_specs import COUNTED
from mock_exchange.server.stream_book import BookMirror
from scenarios.journal import Journal
from scenarios.model import FaultStep
from scenarios.record import BOOK_FAULTS, USER_STREAM_FAULTS, FaultWindow, FillRow, RunEvent, Sample

if TYPE_CHECKING:
    from mock_exchange.server.state import ExchangeState

CHECK_INTERVAL_S = 0.1
BOOK_LEVELS_COMPARED = 20
_OPEN = frozenset({OrderState.OPEN, OrderState.PARTIALLY_FILLED})
_PENDING = frozenset({OrderState.PENDING_CREATE, OrderState.PENDING_CANCEL})


def _d(value: int) -> Decimal:
    return units.to_decimal(value)


class Observer:
    """Runs beside the strategy on the virtual loop; fills the record's rows."""

    def __init__(self, state: ExchangeState, market: Market, journal: Journal, *, account: str,
                 trading_pair: str, symbol: str, base: str, quote: str, start_ms: int,
                 sample_interval_ms: int) -> None:  # fmt: skip
        self.state = state
        self.market = market
        self.journal = journal
        self.account = account
        self.pair = trading_pair
        self.symbol = symbol
        self.base = base
        self.quote = quote
        self.start_ms = start_ms
        self.sample_interval_ms = sample_interval_ms
        self.orders: dict[str, InFlightOrder] = {}
        self.fills: list[FillRow] = []
        self.samples: list[Sample] = []
        self.faults: list[FaultWindow] = []
        self.events: list[RunEvent] = []
        self.reasons: dict[str, str] = {}  # client order id -> why it failed/expired
        self._fill_ids: set[tuple[str, int]] = set()
        self._deltas: deque[BookDelta] = deque()
        self._mirror: BookMirror | None = None
        self._resyncs = 0
        self._peak: Decimal | None = None
        self._equity0: Decimal | None = None
        self._subscribed = 0
        self._start_uid: dict[int, int] = {}  # fault index -> exchange update id when it began
        self._counted: dict[int, int] = {}  # fault index -> id of a counted fault still acting
        self.max_used_weight = 0

    # ------------------------------------------------------------------ hooks
    def attach(self) -> None:
        """Start mirroring the exchange's book and listening to the connector's events."""
        if self.symbol in self.state.engine.symbols:
            self._mirror = BookMirror(self.state.engine, self.symbol)
            self.state.listeners.append(self._on_engine_events)
        from connector import MarketEvent

        for tag in MarketEvent:
            self.market.add_listener(tag, self._on_market_event)
        ust = self.market.user_stream_tracker
        if ust is not None:
            ust.data_source.add_subscribed_listener(self._on_user_subscribed)

    def _on_engine_events(self, events: list[Event]) -> None:
        sym = self.symbol
        for ev in events:
            if type(ev) is BookDelta and ev.symbol == sym:
                self._deltas.append(ev)

    def _on_user_subscribed(self) -> None:
        """A resubscription (the first subscription happened before ``attach``)."""
        self._subscribed += 1
        now = self.journal.clock()
        line = self.journal.add("event", {"event": "user_stream_connected", "n": self._subscribed})
        self.events.append(RunEvent(now, "user_stream_connected", {"resubscriptions": self._subscribed}, line))
        for w in self.faults:
            if w.type in USER_STREAM_FAULTS and w.user_stream_back_ms is None:
                w.user_stream_back_ms = now

    def _on_market_event(self, event: Any) -> None:
        cid = getattr(event, "order_id", None)
        if isinstance(cid, str):
            order = self.market.get_order(cid)
            if order is not None:
                self.orders.setdefault(cid, order)
        name = type(event).__name__
        if name == "OrderFilledEvent":
            key = (event.order_id, event.trade_id)
            if key not in self._fill_ids:
                self._fill_ids.add(key)
                self.fills.append(FillRow(
                    ts_ms=self.journal.clock(), client_order_id=event.order_id, symbol=self.symbol,
                    side=event.trade_type.name, price=event.price, amount=event.amount, fee=event.fee_amount,
                    fee_asset=event.fee_asset, trade_id=event.trade_id,
                    journal_line=self.journal.order_lines.get(event.order_id, 0)))  # fmt: skip
        elif name == "MarketOrderFailureEvent":
            self.reasons[event.order_id] = f"{event.error_code}: {event.error_message}"
        elif name == "OrderExpiredEvent" and event.reason:
            self.reasons[event.order_id] = event.reason
        elif name == "OrderLostEvent":
            line = self.journal.add("event", {"event": "order_lost", "order": event.order_id, "reason": event.reason})
            self.events.append(RunEvent(self.journal.clock(), "order_lost", {"order": event.order_id}, line))

    # ------------------------------------------------------------------ fault timeline
    async def play_faults(self, steps: list[FaultStep]) -> None:
        loop = asyncio.get_running_loop()
        for index, step in sorted(enumerate(steps), key=lambda p: (p[1].at_ms, p[0])):
            delay = (self.start_ms + step.at_ms - self.journal.clock()) / 1000
            if delay > 0:
                await asyncio.sleep(delay)
            self._start_fault(index, step, loop)

    def _start_fault(self, index: int, step: FaultStep, loop: asyncio.AbstractEventLoop) -> None:
        state = self.state
        spec = dict(step.spec)
        now = self.journal.clock()
        previous = None
        if spec["type"] == "symbol_status":
            previous = state.engine.symbols[spec["symbol"]].status
        fault_id = state.faults.add(spec)
        state.publish()
        line = self.journal.add("fault", {"index": index, "id": fault_id, "spec": spec, "label": step.label})
        end: int | None = now
        if spec["type"] == "stall_streams":
            end = now + int(spec["ms"])
        if step.duration_ms is not None:
            end = now + step.duration_ms
            loop.call_later(step.duration_ms / 1000, self._end_fault, index, fault_id, spec, previous)
        if self.symbol in state.engine.symbols:
            self._start_uid[index] = state.engine.last_update_id(self.symbol)
        if spec["type"] in COUNTED and step.duration_ms is None:
            end = None  # known once the fault has used its count (see _settle_ends)
            self._counted[index] = fault_id
        self.faults.append(FaultWindow(index, spec["type"], step.label, now, end, spec, line))

    def _end_fault(self, index: int, fault_id: int, spec: dict[str, Any], previous: str | None) -> None:
        state = self.state
        if spec["type"] == "symbol_status" and previous is not None:
            state.faults.add({"type": "symbol_status", "symbol": spec["symbol"], "status": previous})
        else:
            state.faults.remove(fault_id)
        state.publish()
        self.journal.add("fault", {"index": index, "id": fault_id, "end": True, "type": spec["type"]})

    # ------------------------------------------------------------------ monitoring
    async def monitor(self) -> None:
        """Every ``CHECK_INTERVAL_S``: collect orders, detect resyncs and recoveries; samples."""
        next_sample = self.start_ms
        while True:
            now = self.journal.clock()
            self._check(now)
            if now >= next_sample:
                self.sample(now)
                next_sample += self.sample_interval_ms
            await asyncio.sleep(CHECK_INTERVAL_S)

    def _check(self, now: int) -> None:
        market = self.market
        for cid, order in market.in_flight_orders.items():
            self.orders.setdefault(cid, order)
        for cid, order in market.lost_orders.items():
            self.orders.setdefault(cid, order)
        obt = market.order_book_tracker
        if obt is not None:
            stats = obt.stats.get(self.pair)
            if stats is not None and stats.resyncs > self._resyncs:
                line = self.journal.add("event", {"event": "book_resync", "resyncs": stats.resyncs,
                                                  "gaps": stats.gaps, "stale": stats.stale_snapshots})
                self.events.append(RunEvent(now, "book_resync", {"resyncs": stats.resyncs}, line))
                self._resyncs = stats.resyncs
        if self._counted:
            self._settle_ends(now)
        pending = [w for w in self.faults if w.end_ms is not None and w.end_ms <= now]
        if not pending:
            return
        need_book = [w for w in pending if w.book_resynced_ms is None]
        if need_book and self._book_in_sync(need_book):
            for w in need_book:
                w.book_resynced_ms = now
        need_orders = [w for w in pending if w.tracker_converged_ms is None]
        if need_orders and self.orders_converged():
            for w in need_orders:
                w.tracker_converged_ms = now

    def _settle_ends(self, now: int) -> None:
        """A counted fault (request errors, skipped diffs, stale snapshots) acts when traffic
        meets it: its window ends at its last application once it has used its count."""
        plan = self.state.faults
        active = {f.id for f in plan.active}
        for index, fault_id in list(self._counted.items()):
            if fault_id in active:
                continue
            times = [e["time"] for e in plan.log if e.get("id") == fault_id]
            window = next(w for w in self.faults if w.index == index)
            window.end_ms = max(times) - self.state.clock_skew_ms if times else window.start_ms
            del self._counted[index]

    def _book_in_sync(self, windows: list[FaultWindow]) -> bool:
        mirror = self._mirror
        obt = self.market.order_book_tracker
        if mirror is None or obt is None:
            return False
        if not obt.is_synced(self.pair):
            return False
        local_id = obt.last_update_id(self.pair)
        deltas = self._deltas
        while deltas and deltas[0].last_update_id <= local_id:
            mirror.apply(deltas.popleft())
        if mirror.update_id != local_id:
            return False
        # After a fault that disturbs the book, the book must have moved past the fault's start.
        if any(w.type in BOOK_FAULTS and local_id <= self._start_uid.get(w.index, 0) for w in windows):
            return False
        try:
            bids, asks = self.market.get_order_book(self.pair).snapshot
        except Exception:
            return False
        n = BOOK_LEVELS_COMPARED
        want_bids = sorted(mirror.bids.items(), reverse=True)[:n]
        want_asks = sorted(mirror.asks.items())[:n]
        got_bids = [(units.to_units(r.price), units.to_units(r.amount)) for r in bids[:n]]
        got_asks = [(units.to_units(r.price), units.to_units(r.amount)) for r in asks[:n]]
        return got_bids == want_bids and got_asks == want_asks

    def exchange_open_orders(self) -> list[str]:
        return sorted(o.client_order_id for o in self.state.engine.open_orders(self.account, self.symbol))

    def tracker_open_orders(self) -> list[str]:
        return sorted(cid for cid, o in self.market.in_flight_orders.items() if o.state in _OPEN)

    def orders_converged(self) -> bool:
        flight = self.market.in_flight_orders
        if any(o.state is OrderState.UNKNOWN for o in flight.values()):
            return False
        pending = {cid for cid, o in flight.items() if o.state in _PENDING}
        ours = {cid for cid, o in flight.items() if o.state in _OPEN} - pending
        theirs = {o.client_order_id for o in self.state.engine.open_orders(self.account, self.symbol)} - pending
        return ours == theirs

    def sample(self, now: int) -> None:
        engine = self.state.engine
        acct = engine.account(self.account)
        bf, bl = acct.balance(self.base)
        qf, ql = acct.balance(self.quote)
        base, quote = _d(bf + bl), _d(qf + ql)
        mid: Decimal | None = None
        if self.symbol in engine.symbols:
            bid, _, ask, _ = engine.best_bid_ask(self.symbol)
            if bid and ask:
                mid = _d(bid + ask) / 2
            elif bid or ask:
                mid = _d(bid or ask)
        equity = quote + base * mid if mid is not None else quote
        if self._equity0 is None:
            self._equity0 = equity
        self._peak = equity if self._peak is None else max(self._peak, equity)
        weight = self.state.limiter.used_weight("127.0.0.1")
        self.max_used_weight = max(self.max_used_weight, weight)
        opened = sum(1 for o in self.market.in_flight_orders.values() if o.state in _OPEN)
        self.samples.append(Sample(now, mid, base, quote, equity, equity - self._equity0, self._peak - equity,
                                   weight, opened))
