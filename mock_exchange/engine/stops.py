"""Stop-loss / take-profit orders: parked off the book until a trade price crosses their stop.

Why two heaps: an "up" stop (STOP_LOSS BUY, TAKE_PROFIT SELL) fires when a trade prints at or
above its stop, a "down" stop (STOP_LOSS SELL, TAKE_PROFIT BUY) at or below it; keeping each
direction in a min-heap (the down heap on negated prices) makes the check after an operation
O(triggered). Canceled stops stay in the heap and are skipped when popped (lazy deletion);
the heaps are rebuilt when dead entries dominate. Every trade price of the operation counts,
not only the last one, since each print was the last price at its moment.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush

from mock_exchange.engine.core import SymbolState, order_update
from mock_exchange.engine.matching import MatchingMixin
from mock_exchange.engine.types import (
    BUY,
    NEW,
    PARTIALLY_FILLED,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    TAKE_PROFIT,
    X_NEW,
    Order,
)


def triggers_up(order: Order) -> bool:
    """True when the stop fires on prices at or above it (stop above the market)."""
    stop_loss = order.type == STOP_LOSS or order.type == STOP_LOSS_LIMIT
    return stop_loss == (order.side == BUY)


def would_trigger(order: Order, last_price: int) -> bool:
    """Whether ``last_price`` already satisfies the order's trigger condition."""
    if last_price <= 0:
        return False
    if triggers_up(order):
        return last_price >= order.stop_price
    return last_price <= order.stop_price


class StopsMixin(MatchingMixin):
    """Parking, triggering and unparking of stop orders."""

    def _park_stop(self, st: SymbolState, order: Order) -> None:
        if triggers_up(order):
            heappush(st.stops_up, (order.stop_price, order.order_id, order))
        else:
            heappush(st.stops_down, (-order.stop_price, order.order_id, order))

    def _unpark_stop(self, st: SymbolState) -> None:
        """Note one dead heap entry; rebuild both heaps when most entries are dead."""
        st.dead_stops += 1
        if st.dead_stops > 64 and st.dead_stops * 2 > len(st.stops_up) + len(st.stops_down):
            st.stops_up = [e for e in st.stops_up if _parked(e[2])]
            st.stops_down = [e for e in st.stops_down if _parked(e[2])]
            heapify(st.stops_up)
            heapify(st.stops_down)
            st.dead_stops = 0

    def _run_triggers(self, st: SymbolState, now: int) -> None:
        """Fire every stop crossed by this operation's trades, cascading through new trades."""
        while st.trade_hi:
            lo, hi = st.trade_lo, st.trade_hi
            st.trade_lo = st.trade_hi = 0
            fired: list[Order] = []
            up, down = st.stops_up, st.stops_down
            while up and up[0][0] <= hi:
                o = heappop(up)[2]
                if _parked(o):
                    fired.append(o)
                else:
                    st.dead_stops -= 1 if st.dead_stops > 0 else 0
            while down and -down[0][0] >= lo:
                o = heappop(down)[2]
                if _parked(o):
                    fired.append(o)
                else:
                    st.dead_stops -= 1 if st.dead_stops > 0 else 0
            fired.sort(key=_order_id)
            for o in fired:
                if _parked(o):
                    self._activate(st, o, now)

    def _activate(self, st: SymbolState, o: Order, now: int) -> None:
        """A triggered stop starts working: report it, then execute it as MARKET or LIMIT."""
        o.is_working = True
        o.working_time = now
        o.update_time = now
        self._exec_id += 1
        if self.accounts[o.account_id].reports:
            self._events.append(order_update(o, X_NEW, now, self._exec_id))
        if o.side == BUY and (o.type == STOP_LOSS or o.type == TAKE_PROFIT):
            # A stop-market BUY locked stop*qty; the market may now cost more. Top up the
            # budget from free funds as far as they go (execution stops at the budget).
            remaining = o.orig_qty - o.executed_qty - o.prevented_qty
            bound = self._buy_cost_bound(st, remaining, o.account_id, o.stp_mode)
            if bound > o.locked:
                bal = self.accounts[o.account_id].balances[st.quote]
                extra = min(bound - o.locked, bal[0])
                if extra > 0:
                    bal[0] -= extra
                    bal[1] += extra
                    o.locked += extra
                    st.touched[o.account_id] = st.touched.get(o.account_id, 0) | 2
        self._execute(st, o, now)


def _parked(o: Order) -> bool:
    status = o.status
    return (status == NEW or status == PARTIALLY_FILLED) and not o.is_working


def _order_id(o: Order) -> int:
    return o.order_id
