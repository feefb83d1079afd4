"""The replay exchange: the recorded book is the market, the user's orders are matched against it.

Pure and synchronous: ``apply(event)`` moves the market to the next recorded message and
returns what happened to the user's orders; ``place_limit``/``place_market``/``cancel`` act at
the exchange's current time (the runner adds latency around them). Rules:

* **Aggressive** orders (crossing LIMIT, MARKET) take the recorded liquidity level by level at
  the recorded prices. What they take stays *consumed* (hidden from later user orders and from
  ``depth``) until a record updates that level again. User orders never match each other (and
  several at one price each count only the recorded quantity as ahead of them, not each other).
* **Passive** orders rest with a queue position (``ahead``) from the queue model: the visible
  recorded quantity at their price when they arrive. A trade at their price from the other side
  advances them and fills them with what is left of it beyond ``ahead`` (partial fills), a trade
  *through* their price fills them completely, and so does the recorded book crossing their
  price (an ask at or below a user bid). Recorded level changes move ``ahead`` per the model.
* LIMIT_MAKER orders that would take are rejected (-2010), as on the venue. No symbol filters
  or balance checks: the replay measures fills, the engine validates orders.
* Fees: ``maker_rate``/``taker_rate`` in 1e-8 units of a rate (100_000 = 0.1 %), charged in quote
  on the fill's notional; negative rates are rebates. Positions and cash are kept per symbol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mock_exchange.engine import types as venue
from mock_exchange.engine.types import BUY, FOK, GTC, IOC, LIMIT, LIMIT_MAKER, MARKET, SELL
from mock_exchange.engine.units import SCALE
from mock_exchange.market.replay.book import RecordedBook
from mock_exchange.market.replay.feed import K_TICKER, K_TRADE, MarketEvent
from mock_exchange.market.replay.orders import (
    ACCEPTED,
    CANCEL_REJECTED,
    CANCELLED,
    CODE_BAD_PARAM,
    CODE_DUPLICATE,
    CODE_NO_BOOK,
    CODE_UNKNOWN,
    CODE_WOULD_TAKE,
    EXPIRED,
    FILLED,
    MSG_DUPLICATE,
    MSG_NO_BOOK,
    MSG_UNKNOWN,
    MSG_WOULD_TAKE,
    REJECTED,
    OrderEvent,
    ReplayFill,
    ReplayOrder,
)
from mock_exchange.market.replay.queue import QueueModel, queue_model

_NONE: tuple[OrderEvent, ...] = ()


class SymbolState:
    """Per symbol: the recorded book, resting user orders by price, position and cash."""

    __slots__ = (
        "symbol", "book", "bids", "asks", "traded_bids", "traded_asks", "max_bid", "min_ask",
        "open", "next_order_id", "position", "cash", "fees",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.book = RecordedBook(symbol)
        self.bids: dict[int, list[ReplayOrder]] = self.book.watch_bids
        self.asks: dict[int, list[ReplayOrder]] = self.book.watch_asks
        self.traded_bids: dict[int, int] = {}  # trade qty at a watched level since its last update
        self.traded_asks: dict[int, int] = {}
        self.max_bid = 0  # best resting user bid (0: none)
        self.min_ask = 0  # best resting user ask (0: none)
        self.open: dict[str, ReplayOrder] = {}  # open orders by client id
        self.next_order_id = 1
        self.position = 0  # base units
        self.cash = 0  # quote units, after fees
        self.fees = 0


def _fee(notional: int, rate: int) -> int:
    if rate >= 0:
        return notional * rate // SCALE
    return -(notional * -rate // SCALE)


class ReplayExchange:
    """Recorded market plus user orders; see the module docstring for the matching rules."""

    def __init__(self, queue: str | QueueModel = "prob", *, maker_rate: int = 0, taker_rate: int = 0) -> None:
        self.queue = queue_model(queue)
        self.maker_rate = maker_rate
        self.taker_rate = taker_rate
        self.now_ns = 0
        self.fills: list[ReplayFill] = []
        self.symbols: dict[str, SymbolState] = {}
        self.counts: dict[str, int] = {
            "orders": 0, "rejected": 0, "cancels": 0, "cancel_rejected": 0, "maker_fills": 0, "taker_fills": 0,
            "fills_queue": 0, "fills_through": 0, "fills_cross": 0,
        }
        self._auto_id = 0

    # -- market ----------------------------------------------------------------------------
    def symbol(self, symbol: str) -> SymbolState:
        st = self.symbols.get(symbol)
        if st is None:
            st = self.symbols[symbol] = SymbolState(symbol)
        return st

    def book(self, symbol: str) -> RecordedBook:
        return self.symbol(symbol).book

    def apply(self, ev: MarketEvent) -> Sequence[OrderEvent]:
        """Apply one recorded message at its exchange time; the user-order events it caused."""
        st = self.symbols.get(ev.symbol)
        if st is None:
            st = self.symbol(ev.symbol)
        self.now_ns = ev.exch_ns
        kind = ev.kind
        data = ev.data
        if kind == K_TRADE:
            if st.open:
                return self._on_trade(st, data[0], data[1], data[2])
            return _NONE
        book = st.book
        if kind == K_TICKER:
            if not book.apply_ticker(data[0], data[1], data[2], data[3], data[4]) or not st.open:
                return _NONE
            if book.changes:
                self._level_changes(st)
            # an applied two-sided ticker *is* the new top (consumption only makes it worse), so
            # nothing can cross unless it reaches a user price
            if data[2] and data[4] and (not st.max_bid or data[3] > st.max_bid) and (
                not st.min_ask or data[1] < st.min_ask
            ):
                return _NONE
            return self._cross(st)
        if not book.apply(kind, data) or not st.open:
            return _NONE
        if book.changes:
            self._level_changes(st)
        return self._cross(st)

    def _level_changes(self, st: SymbolState) -> None:
        on_change = self.queue.on_level_change
        changes = st.book.changes
        for is_bid, price, old, new in changes:
            orders = (st.bids if is_bid else st.asks).get(price)
            if not orders:
                continue
            traded = (st.traded_bids if is_bid else st.traded_asks).pop(price, 0)
            for order in orders:
                on_change(order, old, new, traded)
        changes.clear()

    def _on_trade(self, st: SymbolState, price: int, qty: int, buyer_maker: bool) -> Sequence[OrderEvent]:
        """A recorded trade: advance/fill user orders on the side it hit."""
        if buyer_maker:  # a seller hit the bids: user bids at or above the price are reached
            if not st.bids or st.max_bid < price:
                return _NONE
            watch, traded = st.bids, st.traded_bids
            prices = sorted((p for p in watch if p >= price), reverse=True)
        else:
            if not st.asks or st.min_ask > price:
                return _NONE
            watch, traded = st.asks, st.traded_asks
            prices = sorted(p for p in watch if p <= price)
        out: list[OrderEvent] = []
        on_trade = self.queue.on_trade
        for level in prices:
            orders = list(watch[level])
            if level != price:  # traded through: everything at this better price is gone
                self.counts["fills_through"] += len(orders)
                for order in orders:
                    self._fill(st, order, order.remaining, level, True, out)
                continue
            traded[level] = traded.get(level, 0) + qty
            for order in orders:
                reach = on_trade(order, qty)
                if reach > 0:
                    self.counts["fills_queue"] += 1
                    rem = order.remaining
                    self._fill(st, order, reach if reach < rem else rem, level, True, out)
        return out or _NONE

    def _cross(self, st: SymbolState) -> Sequence[OrderEvent]:
        """The recorded book reached a resting user order's price from the other side: fill it."""
        book = st.book
        out: list[OrderEvent] | None = None
        if st.bids:
            ask = book.effective_best(False) if book.consumed_asks else book.asks.best()
            if ask and ask <= st.max_bid:
                out = []
                for level in sorted((p for p in st.bids if p >= ask), reverse=True):
                    self.counts["fills_cross"] += len(st.bids[level])
                    for order in list(st.bids[level]):
                        self._fill(st, order, order.remaining, level, True, out)
        if st.asks:
            bid = book.effective_best(True) if book.consumed_bids else book.bids.best()
            if bid and bid >= st.min_ask:
                if out is None:
                    out = []
                for level in sorted(p for p in st.asks if p <= bid):
                    self.counts["fills_cross"] += len(st.asks[level])
                    for order in list(st.asks[level]):
                        self._fill(st, order, order.remaining, level, True, out)
        return _NONE if out is None else out

    # -- fills and book keeping ------------------------------------------------------------------
    def _fill(self, st: SymbolState, order: ReplayOrder, qty: int, price: int, maker: bool, out: list[OrderEvent]) -> None:
        order.executed += qty
        notional = price * qty // SCALE
        fee = _fee(notional, self.maker_rate if maker else self.taker_rate)
        if order.is_buy:
            st.position += qty
            st.cash -= notional + fee
        else:
            st.position -= qty
            st.cash += notional - fee
        st.fees += fee
        remaining = order.qty - order.executed
        status = venue.FILLED if remaining == 0 else venue.PARTIALLY_FILLED
        order.status = status
        now = self.now_ns
        self.counts["maker_fills" if maker else "taker_fills"] += 1
        self.fills.append(ReplayFill(now, st.symbol, order.client_id, order.order_id, order.side, price, qty, maker, fee))
        out.append(
            OrderEvent(
                FILLED, now, st.symbol, order.client_id, order.order_id, order.side, order.type, price, qty,
                order.executed, remaining, status, maker, fee,
            )
        )
        if remaining == 0:
            self._remove(st, order)

    def _rest(self, st: SymbolState, order: ReplayOrder) -> None:
        order.ahead = self.queue.initial(max(0, st.book.visible(order.is_buy, order.price)))
        watch = st.bids if order.is_buy else st.asks
        level = watch.get(order.price)
        if level is None:
            watch[order.price] = [order]
        else:
            level.append(order)
        if order.is_buy:
            if order.price > st.max_bid:
                st.max_bid = order.price
        elif not st.min_ask or order.price < st.min_ask:
            st.min_ask = order.price

    def _remove(self, st: SymbolState, order: ReplayOrder) -> None:
        st.open.pop(order.client_id, None)
        watch = st.bids if order.is_buy else st.asks
        level = watch.get(order.price)
        if level is None or order not in level:
            return
        level.remove(order)
        if level:
            return
        del watch[order.price]
        (st.traded_bids if order.is_buy else st.traded_asks).pop(order.price, None)
        if order.is_buy:
            st.max_bid = max(watch) if watch else 0
        else:
            st.min_ask = min(watch) if watch else 0

    def _event(self, kind: str, order: ReplayOrder, status: str, code: int = 0, reason: str = "") -> OrderEvent:
        return OrderEvent(
            kind, self.now_ns, order.symbol, order.client_id, order.order_id, order.side, order.type, order.price,
            order.qty, order.executed, order.qty - order.executed, status, code=code, reason=reason,
        )

    # -- user orders ------------------------------------------------------------------------------
    def _new_order(
        self, symbol: str, side: str, type_: str, tif: str, price: int, qty: int, client_id: str, now_ns: int | None
    ) -> tuple[SymbolState, ReplayOrder, OrderEvent | None]:
        """The order, or a rejection event for it (bad arguments, duplicate id, no book yet)."""
        if now_ns is not None:
            self.now_ns = now_ns
        st = self.symbol(symbol)
        self.counts["orders"] += 1
        if not client_id:
            self._auto_id += 1
            client_id = f"replay-{self._auto_id}"
        order = ReplayOrder(0, client_id, symbol, side, type_, tif, price, qty, self.now_ns)
        problem: tuple[int, str] | None = None
        if side not in (BUY, SELL):
            problem = (CODE_BAD_PARAM, f"Invalid side {side!r}.")
        elif qty <= 0:
            problem = (CODE_BAD_PARAM, "Invalid quantity.")
        elif type_ != MARKET and price <= 0:
            problem = (CODE_BAD_PARAM, "Invalid price.")
        elif tif not in (GTC, IOC, FOK, ""):
            problem = (CODE_BAD_PARAM, f"Invalid timeInForce {tif!r}.")
        elif client_id in st.open:
            problem = (CODE_DUPLICATE, MSG_DUPLICATE)
        elif not st.book.loaded:
            problem = (CODE_NO_BOOK, MSG_NO_BOOK)
        if problem is not None:
            self.counts["rejected"] += 1
            order.status = venue.REJECTED
            return st, order, self._event(REJECTED, order, venue.REJECTED, *problem)
        order.order_id = st.next_order_id
        st.next_order_id += 1
        return st, order, None

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
        now_ns: int | None = None,
    ) -> list[OrderEvent]:
        """A LIMIT (or, ``post_only``, LIMIT_MAKER) order arriving now; its events in order."""
        type_ = LIMIT_MAKER if post_only else LIMIT
        tif = "" if post_only else time_in_force
        st, order, rejection = self._new_order(symbol, side, type_, tif, price, qty, client_id, now_ns)
        if rejection is not None:
            return [rejection]
        book = st.book
        opposite = book.effective_best(not order.is_buy)
        crosses = bool(opposite) and (price >= opposite if order.is_buy else price <= opposite)
        if post_only and crosses:
            self.counts["rejected"] += 1
            order.status = venue.REJECTED
            return [self._event(REJECTED, order, venue.REJECTED, CODE_WOULD_TAKE, MSG_WOULD_TAKE)]
        out = [self._event(ACCEPTED, order, venue.NEW)]
        st.open[order.client_id] = order
        if crosses:
            if tif == FOK and self._available(st, order, price) < qty:
                return self._expire(st, order, out)
            self._take(st, order, price, out)
            if order.remaining == 0:
                return out
            if tif in (IOC, FOK):
                return self._expire(st, order, out)
        self._rest(st, order)
        return out

    def place_market(self, symbol: str, side: str, qty: int, client_id: str = "", *, now_ns: int | None = None) -> list[OrderEvent]:
        """A MARKET order for ``qty`` base: takes recorded liquidity; any unfilled rest expires."""
        st, order, rejection = self._new_order(symbol, side, MARKET, "", 0, qty, client_id, now_ns)
        if rejection is not None:
            return [rejection]
        out = [self._event(ACCEPTED, order, venue.NEW)]
        st.open[order.client_id] = order
        self._take(st, order, 0, out)
        if order.remaining:
            return self._expire(st, order, out)
        return out

    def cancel(self, symbol: str, client_id: str, *, now_ns: int | None = None) -> list[OrderEvent]:
        """Cancel an open order by client id; a ``cancel_rejected`` event (-2011) if it is not open."""
        if now_ns is not None:
            self.now_ns = now_ns
        st = self.symbol(symbol)
        order = st.open.get(client_id)
        if order is None:
            self.counts["cancel_rejected"] += 1
            return [
                OrderEvent(
                    CANCEL_REJECTED, self.now_ns, symbol, client_id, 0, "", "", 0, 0, 0, 0, "",
                    code=CODE_UNKNOWN, reason=MSG_UNKNOWN,
                )
            ]
        self.counts["cancels"] += 1
        self._remove(st, order)
        order.status = venue.CANCELED
        return [self._event(CANCELLED, order, venue.CANCELED)]

    def _expire(self, st: SymbolState, order: ReplayOrder, out: list[OrderEvent]) -> list[OrderEvent]:
        st.open.pop(order.client_id, None)
        order.status = venue.EXPIRED
        out.append(self._event(EXPIRED, order, venue.EXPIRED))
        return out

    def _levels_to_take(self, st: SymbolState, order: ReplayOrder, limit: int) -> list[tuple[int, int]]:
        """(price, visible qty) on the other side, best first, within ``limit`` (0: any price)."""
        book = st.book
        side = book.asks if order.is_buy else book.bids
        consumed = book.consumed_asks if order.is_buy else book.consumed_bids
        levels = side.levels
        rows: list[tuple[int, int]] = []
        for price in side.ordered():
            if limit and (price > limit if order.is_buy else price < limit):
                break
            qty = levels[price] - consumed.get(price, 0)
            if qty > 0:
                rows.append((price, qty))
        return rows

    def _available(self, st: SymbolState, order: ReplayOrder, limit: int) -> int:
        return sum(q for _, q in self._levels_to_take(st, order, limit))

    def _take(self, st: SymbolState, order: ReplayOrder, limit: int, out: list[OrderEvent]) -> None:
        consumed = st.book.consumed_asks if order.is_buy else st.book.consumed_bids
        for price, visible in self._levels_to_take(st, order, limit):
            rem = order.remaining
            take = visible if visible < rem else rem
            consumed[price] = consumed.get(price, 0) + take
            self._fill(st, order, take, price, False, out)
            if order.remaining == 0:
                break

    # -- queries --------------------------------------------------------------------------------
    def order(self, symbol: str, client_id: str) -> ReplayOrder | None:
        st = self.symbols.get(symbol)
        return st.open.get(client_id) if st is not None else None

    def queue_position(self, symbol: str, client_id: str) -> int | None:
        """Recorded quantity ahead of an open resting order, None if it is not open."""
        order = self.order(symbol, client_id)
        return order.ahead if order is not None else None

    def open_orders(self, symbol: str | None = None) -> list[ReplayOrder]:
        states = [self.symbols[symbol]] if symbol is not None and symbol in self.symbols else (
            [] if symbol is not None else list(self.symbols.values())
        )
        return [o for st in states for o in st.open.values()]

    def best_bid_ask(self, symbol: str) -> tuple[int, int, int, int]:
        """(bid, bid_qty, ask, ask_qty) of the recorded book (consumed quantity not taken out)."""
        return self.symbol(symbol).book.top()

    def depth(
        self, symbol: str, limit: int = 100, include_user: bool = True
    ) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]]:
        """(lastUpdateId, bids, asks) best first: recorded minus consumed, plus resting user orders."""
        st = self.symbol(symbol)
        last_id, bids, asks = st.book.depth(limit)
        if not include_user or not st.open:
            return last_id, bids, asks
        merged: list[list[tuple[int, int]]] = []
        for rows, watch, is_bid in ((bids, st.bids, True), (asks, st.asks, False)):
            levels: dict[int, int] = dict(rows)
            for price, orders in watch.items():
                recorded = levels[price] if price in levels else max(0, st.book.visible(is_bid, price))
                levels[price] = recorded + sum(o.qty - o.executed for o in orders)
            ordered = sorted(levels.items(), reverse=is_bid)
            merged.append(ordered[:limit])
        return last_id, merged[0], merged[1]

    def account(self, symbol: str) -> dict[str, Any]:
        """Position (base), cash (quote, after fees) and fees paid for one symbol."""
        st = self.symbol(symbol)
        return {"position": st.position, "cash": st.cash, "fees": st.fees}
