"""One replayed symbol inside a running server: the recorded book in the engine, the users'
queue positions, and the frames published for it.

Book. Depth snapshots and diffs (as the readers label them) set the recorded levels; the
engine holds them as the replay account's orders (``engine_book``). BookTickers do not move
the book: the REST depth and a book built from the diff stream are then the same book at the
same update id (a bookTicker is published as recorded, ahead of the next diff, as on the venue).

Users. A resting user order is tracked with a queue position against the recorded quantity
at its price (``queue.QueueModel``, as in the in-process ``ReplayExchange``): recorded trades
at its price advance it and fill it with what is left of them beyond ``ahead``, a trade through
its price or the recorded book crossing it fills it entirely, recorded level changes move it by
the model; a partial fill is a whole number of the symbol's lot steps (the rest of what
reached the order is lost, as if another order there took it). With an entry latency the order
joins its queue (``ahead`` taken then) only once the replay has advanced that far; until then
the recording's trades and level changes do not fill it (a recorded book crossing it does).

Ids. Published update ids are the recorded ones plus ``offset``: every update id the engine
uses for a user-caused change (an order resting, a cancel, a fill) is inserted into the
sequence, so ``offset`` grows by one per such change and the next diff covers it: that diff is
published with ``U`` = previous ``u`` + 1 and ``u`` = recorded ``u`` + ``offset``, its levels
at the book's values (recorded quantity plus the users' orders there) and with the levels the
users changed since the previous diff added (``user_frame`` publishes them as a diff of their
own when no recorded diff is coming; the next recorded one continues from it). The REST
depth's ``lastUpdateId`` is the book's id: the last applied diff's published ``u`` plus the
user changes since. Trade ids are shifted the same way (``trade_offset``, one per user trade).
With no user orders both offsets stay 0 and every frame is the recorded payload.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mock_exchange.engine import Engine
from mock_exchange.engine.types import (
    BUY,
    LIMIT,
    LIMIT_MAKER,
    NEW,
    PARTIALLY_FILLED,
    STOP_LOSS_LIMIT,
    TAKE_PROFIT_LIMIT,
    BookDelta,
    Order,
    OrderUpdate,
    TradeEvent,
)
from mock_exchange.engine.units import fmt
from mock_exchange.market.replay.engine_book import REPLAY_ACCOUNT, EngineBook
from mock_exchange.market.replay.feed import DiffData, Levels, diff_levels, units
from mock_exchange.market.replay.orders import ReplayOrder
from mock_exchange.market.replay.queue import QueueModel

Stamp = Callable[[int], int]
Top = tuple[int, int, int, int]
_RESTING_TYPES = frozenset((LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT))


class ServedSymbol:
    """State of one replayed symbol (see the module docstring)."""

    def __init__(self, engine: Engine, symbol: str, queue: QueueModel) -> None:
        self.engine = engine
        self.symbol = symbol
        self.queue = queue
        self.book = EngineBook(engine, symbol)
        self.st = self.book.st
        self.rec_bids: dict[int, int] = {}  # the recorded book (no user orders, no consumption)
        self.rec_asks: dict[int, int] = {}
        self.loaded = False
        # Resting user orders: queue trackers by order id and by price, the live engine orders.
        self.trackers: dict[int, ReplayOrder] = {}
        self.live: dict[int, Order] = {}
        self.watch_bids: dict[int, list[ReplayOrder]] = {}
        self.watch_asks: dict[int, list[ReplayOrder]] = {}
        self.traded_bids: dict[int, int] = {}  # recorded trade qty at a watched price since its last update
        self.traded_asks: dict[int, int] = {}
        self.arrivals: dict[int, int] = {}  # order id -> replay position (ms) it joins its queue at
        # Published ids and tops.
        self.offset = 0
        self.frame_offset = 0
        self.trade_offset = 0
        self.ticker: Top | None = None  # last recorded bookTicker (units)
        self.deferred: tuple[int, Top] | None = None  # (u, top) of a bookTicker not yet taken
        self.ticker_u = 0  # ``u`` of the last bookTicker published
        self.top: Top | None = None  # the top of book last published on bookTicker
        self.top_dirty = False
        self.pending_bids: set[int] = set()  # levels users changed since the last diff frame
        self.pending_asks: set[int] = set()
        self.pending_since: int | None = None  # engine time of the oldest of those changes
        self.frame_u = 0  # ``u`` of the last diff frame that carried the book (or the loaded snapshot's id)
        self.raw_trades = False  # the recording has @trade records for this symbol
        self.fills = 0  # user fills made by the recording (queue, through, cross)
        self._touched: set[int] = set()
        self._loaded_prices: tuple[set[int], set[int]] = (set(), set())

    # ================================================================== the recorded book
    def load(self, last_id: int, bids: Levels, asks: Levels, bridge: tuple[DiffData, ...], now: int) -> bool:
        """Load a snapshot (and its bridge diffs); True when user orders were filled."""
        new_b, new_a = dict(bids), dict(asks)
        for d in bridge:
            _patch(new_b, d[2], d[3])
            _patch(new_a, d[4], d[5])
            last_id = d[1]
        for is_bid, old_book, new_book in ((True, self.rec_bids, new_b), (False, self.rec_asks, new_a)):
            self._level_changes(is_bid, [(p, old_book.get(p, 0), new_book.get(p, 0)) for p in self._watch(is_bid)])
            book_set = self.book.set
            for p in old_book:
                if p not in new_book:
                    book_set(is_bid, p, 0, now)
            for p, q in new_book.items():
                book_set(is_bid, p, q, now)
        self._loaded_prices = (set(self.rec_bids) | set(new_b), set(self.rec_asks) | set(new_a))
        self.rec_bids, self.rec_asks = new_b, new_a
        self.loaded = True
        self.pending_bids.clear()
        self.pending_asks.clear()
        self.pending_since = None
        pub = last_id + self.offset
        if pub < self.st.update_id:  # never step the book's id back
            self.offset += self.st.update_id - pub
            pub = self.st.update_id
        self.st.update_id = pub
        self.frame_offset = self.offset
        self.frame_u = pub
        return self._cross(now)

    def load_delta(self, now: int) -> BookDelta:
        """The last ``load`` as one BookDelta at the book's id (every level it set or removed)."""
        level_qty = self.book.level_qty
        bids_p, asks_p = self._loaded_prices
        self._loaded_prices = (set(), set())
        uid = self.st.update_id
        bids = tuple((p, level_qty(True, p)) for p in sorted(bids_p, reverse=True))
        asks = tuple((p, level_qty(False, p)) for p in sorted(asks_p))
        return BookDelta(self.symbol, uid, uid, bids, asks, now)

    def apply_diff(self, d: DiffData, now: int) -> bool:
        """Apply a diff labelled ok; True when user orders were filled."""
        for is_bid, sets, dels in ((True, d[2], d[3]), (False, d[4], d[5])):
            rec = self.rec_bids if is_bid else self.rec_asks
            watch = self.watch_bids if is_bid else self.watch_asks
            if watch:
                self._level_changes(is_bid, [(p, rec.get(p, 0), sets.get(p, 0)) for p in watch
                                             if p in sets or p in dels])  # fmt: skip
            rec.update(sets)
            pop = rec.pop
            self.book.apply(is_bid, sets, [p for p in dels if pop(p, None) is not None], now)
        return self._cross(now) if (self.watch_bids or self.watch_asks) else False

    def _watch(self, is_bid: bool) -> list[int]:
        return list(self.watch_bids if is_bid else self.watch_asks)

    def _level_changes(self, is_bid: bool, changes: list[tuple[int, int, int]]) -> None:
        watch = self.watch_bids if is_bid else self.watch_asks
        traded = self.traded_bids if is_bid else self.traded_asks
        on_change = self.queue.on_level_change
        arrivals = self.arrivals
        for price, old, new in changes:
            done = traded.pop(price, 0)
            if old == new:
                continue
            for tr in watch.get(price, ()):
                if tr.order_id not in arrivals:
                    on_change(tr, old, new, done)

    # ================================================================== user orders vs the recording
    def activate(self, position_ms: int) -> None:
        """Orders whose entry latency has elapsed join their queues now."""
        if not self.arrivals:
            return
        for oid, at in list(self.arrivals.items()):
            if at <= position_ms:
                del self.arrivals[oid]
                tr = self.trackers.get(oid)
                if tr is not None:
                    tr.ahead = self.queue.initial(self.book.qty(tr.is_buy, tr.price))

    def on_trade(self, price: int, qty: int, buyer_maker: bool, now: int) -> bool:
        """A recorded trade: advance and fill user orders on the side it hit; True if any filled."""
        if buyer_maker:  # a seller hit the bids: user bids at or above the price are reached
            watch, traded = self.watch_bids, self.traded_bids
            if not watch:
                return False
            levels = sorted((p for p in watch if p >= price), reverse=True)
        else:
            watch, traded = self.watch_asks, self.traded_asks
            if not watch:
                return False
            levels = sorted(p for p in watch if p <= price)
        filled = False
        on_trade = self.queue.on_trade
        arrivals = self.arrivals
        for level in levels:
            if level == price:
                traded[level] = traded.get(level, 0) + qty
            for tr in list(watch.get(level, ())):
                if tr.order_id in arrivals:
                    continue  # still on its way to the book
                if level != price:  # traded through: everything at this better price is gone
                    filled |= self._fill(tr, -1, now)
                    continue
                reach = on_trade(tr, qty)
                if reach > 0:
                    filled |= self._fill(tr, reach, now)
        return filled

    def _cross(self, now: int) -> bool:
        """The recorded book reached a user order's price from the other side: fill it entirely."""
        filled = False
        book = self.book
        if self.watch_bids:
            ask = book.best_replay(False, max(self.watch_bids))
            if ask:
                for level in sorted((p for p in self.watch_bids if p >= ask), reverse=True):
                    for tr in list(self.watch_bids[level]):
                        filled |= self._fill(tr, -1, now)
        if self.watch_asks:
            bid = book.best_replay(True, min(self.watch_asks))
            if bid:
                for level in sorted(p for p in self.watch_asks if p <= bid):
                    for tr in list(self.watch_asks[level]):
                        filled |= self._fill(tr, -1, now)
        return filled

    def _fill(self, tr: ReplayOrder, qty: int, now: int) -> bool:
        """Fill ``qty`` (-1: all that is left) of a tracked order in the engine."""
        o = self.live.get(tr.order_id)
        if o is None or not (o.status == NEW or o.status == PARTIALLY_FILLED):
            self._untrack(tr.order_id)
            return False
        left = o.orig_qty - o.executed_qty - o.prevented_qty
        take = left if qty < 0 or qty > left else qty
        if o.visible_qty < take:  # an iceberg fills one shown slice at a time
            take = o.visible_qty
        lot = self.st.spec.lot_size
        if take < left and lot is not None and lot.step_size > 0:
            take -= take % lot.step_size  # a partial fill is a whole number of lot steps, as on the venue
        if take <= 0:
            return False
        self.book.fill_resting(o, take, now)
        self.fills += 1
        tr.executed = o.executed_qty
        if not (o.status == NEW or o.status == PARTIALLY_FILLED):
            self._untrack(tr.order_id)
        return True

    def finish(self, now: int) -> None:
        self.book.finish(now)

    # ------------------------------------------------------------------ tracking
    def track_open_orders(self, position_ms: int, entry_ms: Callable[[], int]) -> None:
        """Track every user order already resting on the symbol (at a start or a restart)."""
        for o in list(self.st.orders.values()):
            self._touched.add(o.order_id)
        self.sync_orders(position_ms, entry_ms)

    def sync_orders(self, position_ms: int, entry_ms: Callable[[], int]) -> None:
        """Start or stop tracking the user orders the last engine events touched."""
        touched, self._touched = self._touched, set()
        for oid in sorted(touched):
            o = self.st.orders.get(oid)
            resting = (
                o is not None and o.account_id != REPLAY_ACCOUNT and (o.status == NEW or o.status == PARTIALLY_FILLED)
                and o.is_working and o.type in _RESTING_TYPES and o.visible_qty > 0
            )  # fmt: skip
            if o is None or not resting:
                self._untrack(oid)
            elif oid not in self.trackers:
                self._track(o, position_ms, entry_ms())

    def _track(self, o: Order, position_ms: int, latency_ms: int) -> None:
        tr = ReplayOrder(o.order_id, o.client_order_id, o.symbol, o.side, o.type, o.time_in_force, o.price,
                         o.orig_qty, o.time * 1_000_000)  # fmt: skip
        tr.executed = o.executed_qty
        is_bid = o.side == BUY
        if latency_ms > 0:
            self.arrivals[o.order_id] = position_ms + latency_ms
        else:
            tr.ahead = self.queue.initial(self.book.qty(is_bid, o.price))
        self.trackers[o.order_id] = tr
        self.live[o.order_id] = o
        watch = self.watch_bids if is_bid else self.watch_asks
        watch.setdefault(o.price, []).append(tr)

    def _untrack(self, oid: int) -> None:
        tr = self.trackers.pop(oid, None)
        self.live.pop(oid, None)
        self.arrivals.pop(oid, None)
        if tr is None:
            return
        is_bid = tr.is_buy
        watch = self.watch_bids if is_bid else self.watch_asks
        level = watch.get(tr.price)
        if level is not None and tr in level:
            level.remove(tr)
            if not level:
                del watch[tr.price]
                (self.traded_bids if is_bid else self.traded_asks).pop(tr.price, None)

    # ------------------------------------------------------------------ engine events (users)
    def note(self, ev: Any) -> None:
        """One engine event of this symbol that the replay did not emit itself."""
        t = type(ev)
        if t is BookDelta:
            self.offset += ev.last_update_id - ev.first_update_id + 1
            if self.pending_since is None:
                self.pending_since = ev.time
            for p, _ in ev.bids:
                self.pending_bids.add(p)
            for p, _ in ev.asks:
                self.pending_asks.add(p)
            self.top_dirty = True
        elif t is TradeEvent:
            self.trade_offset += 1
        elif t is OrderUpdate:
            order: Order = ev.order
            if order.account_id != REPLAY_ACCOUNT:
                self._touched.add(order.order_id)

    @property
    def has_touched(self) -> bool:
        return bool(self._touched)

    # ================================================================== frames
    def depth_frame(
        self, payload: dict[str, Any], first: int, last: int, diff: DiffData | None, stamp: Stamp | None, now: int,
        levels: tuple[Levels, Levels] | None = None,
    ) -> tuple[dict[str, Any], BookDelta]:
        """The diff to publish for a recorded one (``diff``: its parsed form when it was applied
        to the book, else None; ``levels``: its rows parsed, if at hand), and the same change
        as a BookDelta."""
        applied = diff is not None
        first_pub = first + self.frame_offset
        last_pub = last + self.offset
        st = self.st
        if applied:
            if last_pub < st.update_id:
                self.offset += st.update_id - last_pub
                last_pub = st.update_id
            st.update_id = last_pub
            self.frame_u = last_pub
        self.frame_offset = self.offset
        merge = applied and bool(self.watch_bids or self.watch_asks or self.pending_bids or self.pending_asks)
        out = payload
        if first_pub != first or last_pub != last or stamp is not None or merge:
            out = dict(payload)
            out["U"] = first_pub
            out["u"] = last_pub
            if stamp is not None and type(payload.get("E")) is int:
                out["E"] = stamp(payload["E"])
        if merge:
            if levels is None:
                levels = diff_levels(payload)
            out["b"], bids = self._merged(payload["b"], levels[0], True)
            out["a"], asks = self._merged(payload["a"], levels[1], False)
            self.pending_bids.clear()
            self.pending_asks.clear()
            self.pending_since = None
        elif diff is not None:
            bids = tuple(sorted([*diff[2].items(), *((p, 0) for p in diff[3])], reverse=True))
            asks = tuple(sorted([*diff[4].items(), *((p, 0) for p in diff[5])]))
        else:
            bids = tuple((units(p), units(q)) for p, q in payload["b"])
            asks = tuple((units(p), units(q)) for p, q in payload["a"])
        delta = BookDelta(self.symbol, first_pub, last_pub, bids, asks, out.get("E", now))
        return out, delta

    def user_frame(self, now: int) -> tuple[dict[str, Any], BookDelta] | None:
        """The users' changes since the last diff as a diff of their own, for when the recording
        has no diff coming (its end, a quiet symbol): ``U`` = last ``u`` + 1, ``u`` = the book's
        id; the next recorded diff then continues from it."""
        first, last = self.frame_u + 1, self.st.update_id
        if not self.loaded or last < first or not (self.pending_bids or self.pending_asks):
            return None
        level_qty = self.book.level_qty
        bids = tuple((p, level_qty(True, p)) for p in sorted(self.pending_bids, reverse=True))
        asks = tuple((p, level_qty(False, p)) for p in sorted(self.pending_asks))
        self.pending_bids.clear()
        self.pending_asks.clear()
        self.pending_since = None
        self.frame_offset = self.offset
        self.frame_u = last
        payload = {"e": "depthUpdate", "E": now, "s": self.symbol, "U": first, "u": last,
                   "b": [[fmt(p), fmt(q)] for p, q in bids], "a": [[fmt(p), fmt(q)] for p, q in asks]}  # fmt: skip
        return payload, BookDelta(self.symbol, first, last, bids, asks, now)

    def _merged(self, rows: list[list[str]], levels: Levels,
                is_bid: bool) -> tuple[list[list[str]], tuple[tuple[int, int], ...]]:  # fmt: skip
        """Recorded levels (``rows``, parsed: ``levels``) at the book's quantities, plus the
        levels users changed since."""
        watch = self.watch_bids if is_bid else self.watch_asks
        pending = self.pending_bids if is_bid else self.pending_asks
        level_qty = self.book.level_qty
        out_rows = rows[:]
        out_levels = levels[:]
        for i, (p, q) in enumerate(levels):
            if p in watch or p in pending:
                shown = level_qty(is_bid, p)
                if shown != q:
                    out_rows[i] = [rows[i][0], fmt(shown)]
                    out_levels[i] = (p, shown)
        if pending:
            seen = {p for p, _ in levels}
            extra = [p for p in pending if p not in seen]
            if extra:
                merged = list(zip(out_levels, out_rows, strict=True))
                for p in extra:
                    q = level_qty(is_bid, p)
                    merged.append(((p, q), [fmt(p), fmt(q)]))
                merged.sort(key=lambda r: -r[0][0] if is_bid else r[0][0])
                return [r[1] for r in merged], tuple(r[0] for r in merged)
        return out_rows, tuple(out_levels)

    def defer_ticker(self, u: int, top: Top) -> None:
        """A recorded bookTicker nobody subscribes to: no frame, and its state (what
        ``ticker_frame`` keeps) is taken only when something needs it (``settle_ticker``).
        Callers settle before anything that changes what that state is computed from
        (the users' orders, ``offset``), so it comes out as if taken at once."""
        self.deferred = (u, top)

    def settle_ticker(self) -> None:
        """Take the state of a deferred bookTicker (see ``defer_ticker``)."""
        deferred = self.deferred
        if deferred is not None:
            self.deferred = None
            self._take_ticker(deferred[1], deferred[0])

    def _take_ticker(self, top: Top, u: int) -> tuple[Top, int]:
        self.ticker = top
        shown = self._compose(top)
        u_pub = u + self.offset
        self.ticker_u = u_pub
        self.top = shown
        self.top_dirty = False
        return shown, u_pub

    def ticker_frame(self, payload: dict[str, Any], top: Top, u: int, stamp: Stamp | None) -> dict[str, Any]:
        """A recorded bookTicker: ``u`` shifted, the users' best orders shown in it."""
        self.deferred = None
        shown, u_pub = self._take_ticker(top, u)
        if shown == top and u_pub == u and (stamp is None or "E" not in payload):
            return payload
        out = dict(payload)
        out["u"] = u_pub
        if shown != top:
            out["b"], out["B"], out["a"], out["A"] = fmt(shown[0]), fmt(shown[1]), fmt(shown[2]), fmt(shown[3])
        if stamp is not None and type(payload.get("E")) is int:
            out["E"] = stamp(payload["E"])
            if type(payload.get("T")) is int:
                out["T"] = stamp(payload["T"])
        return out

    def user_ticker(self) -> dict[str, Any] | None:
        """A bookTicker for a top of book the users changed (None when it did not change)."""
        self.settle_ticker()
        self.top_dirty = False
        top = self._compose(self.ticker) if self.ticker is not None else self.engine.best_bid_ask(self.symbol)
        if top == self.top or not (top[0] or top[2]):
            return None
        self.top = top
        u = max(self.st.update_id, self.ticker_u)
        self.ticker_u = u
        return {"u": u, "s": self.symbol, "b": fmt(top[0]), "B": fmt(top[1]), "a": fmt(top[2]), "A": fmt(top[3])}

    def derived_ticker(self) -> dict[str, Any] | None:
        """For recordings without bookTickers: one from the book when its top changed."""
        self.settle_ticker()
        top = self.engine.best_bid_ask(self.symbol)
        if top == self.top:
            return None
        self.top = top
        self.ticker_u = self.st.update_id
        return {"u": self.st.update_id, "s": self.symbol, "b": fmt(top[0]), "B": fmt(top[1]), "a": fmt(top[2]),
                "A": fmt(top[3])}  # fmt: skip

    def _compose(self, top: Top) -> Top:
        """The recorded top with the users' best resting orders in it."""
        b, bq, a, aq = top
        if self.watch_bids:
            ub = max(self.watch_bids)
            if ub >= b:
                uq = self._user_qty(self.watch_bids[ub])
                b, bq = (ub, uq) if ub > b else (b, bq + uq)
        if self.watch_asks:
            ua = min(self.watch_asks)
            if not a or ua <= a:
                uq = self._user_qty(self.watch_asks[ua])
                a, aq = (ua, uq) if (not a or ua < a) else (a, aq + uq)
        return b, bq, a, aq

    def _user_qty(self, trackers: list[ReplayOrder]) -> int:
        live = self.live
        return sum(live[tr.order_id].visible_qty for tr in trackers if tr.order_id in live)

    def trade_frame(self, payload: dict[str, Any], trade_id: int, stamp: Stamp | None) -> tuple[dict[str, Any], int]:
        """A recorded trade (id shifted past the users' trades) and its published id."""
        pub = trade_id + self.trade_offset
        if pub == trade_id and stamp is None:
            return payload, pub
        out = dict(payload)
        key = "t" if "t" in payload else "a"
        out[key] = pub
        if stamp is not None:
            for k in ("E", "T"):
                if type(payload.get(k)) is int:
                    out[k] = stamp(payload[k])
        return out, pub


def _patch(book: dict[int, int], sets: dict[int, int], dels: tuple[int, ...]) -> None:
    book.update(sets)
    for p in dels:
        book.pop(p, None)
