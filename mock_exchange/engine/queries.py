"""Read-only views: orders, trades, depth, best bid/ask — with the venue's range/limit rules.

History lists are kept in id order (which is also time order), so the venue's windows are
slices: no range -> the most recent ``limit``; a start (time or id) -> the oldest ``limit``
from there; an end only -> the most recent ``limit`` up to it. Orders come back as snapshot
copies so callers can never mutate engine state; fills are immutable and shared.
Only what the account's retention still keeps is seen (``retention``): a finished order it
no longer keeps is unknown (-2013), and the fill history starts at its oldest kept fill.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import islice
from typing import TypeVar

from mock_exchange.engine.core import EngineCore, FillRow, SymbolState, snapshot
from mock_exchange.engine.events import fill
from mock_exchange.engine.types import EngineError, Fill, Order

T = TypeVar("T")


def window(
    items: Sequence[T], time_of: Callable[[T], int], start_time: int | None, end_time: int | None, limit: int,
    from_start: bool,
) -> list[T]:  # fmt: skip
    """Apply the venue's time window and limit to chronological ``items``."""
    if limit <= 0:
        return []
    if start_time is not None or end_time is not None:
        lo = start_time if start_time is not None else -1
        hi = end_time if end_time is not None else 1 << 62
        picked = [x for x in items if lo <= time_of(x) <= hi]
        if start_time is None and not from_start:
            return picked[-limit:]
        return picked[:limit]
    return list(items[:limit]) if from_start else list(items[-limit:])


def _order_time(o: Order) -> int:
    return o.time


def _row_time(row: FillRow) -> int:
    return row[8]


class QueriesMixin(EngineCore):
    """Order, trade and book queries."""

    def _find(
        self, st: SymbolState, account_id: str, order_id: int | None, client_order_id: str | None
    ) -> Order | None:
        """The account's order by id (client id must then match, if given) or by client id."""
        if order_id is not None:
            o = st.orders.get(order_id)
            if o is None or o.account_id != account_id:
                return None
            if client_order_id and o.client_order_id != client_order_id:
                return None
            return o
        if client_order_id:
            return st.client_ids.get(account_id, {}).get(client_order_id)
        return None

    def get_order(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None = None,
        orig_client_order_id: str | None = None,
    ) -> Order:
        """One order (a copy); -2013 'Order does not exist.' when unknown to this account."""
        st = self._state(symbol)
        if order_id is None and not orig_client_order_id:
            raise EngineError(
                -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
            )
        self._archive_due(st, account_id)
        o = self._find(st, account_id, order_id, orig_client_order_id)
        if o is None:
            raise EngineError(-2013, "Order does not exist.")
        return snapshot(o)

    def open_orders(self, account_id: str, symbol: str | None = None) -> list[Order]:
        """Open orders (copies), by symbol then order id; all symbols when ``symbol`` is None."""
        states = [self._state(symbol)] if symbol is not None else list(self._states.values())
        out: list[Order] = []
        for st in states:
            opened = st.open_by_account.get(account_id)
            if opened:
                out.extend(snapshot(o) for o in sorted(opened.values(), key=_oid))
        return out

    def all_orders(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 500,
    ) -> list[Order]:
        """The account's orders on ``symbol`` (copies), oldest first, venue windowing."""
        st = self._state(symbol)
        self._archive_due(st, account_id)
        mine = st.account_orders.get(account_id)
        if not mine:
            return []
        if order_id is not None:
            items = [o for o in mine.values() if o.order_id >= order_id]
            return [snapshot(o) for o in window(items, _order_time, start_time, end_time, limit, True)]
        if start_time is None and end_time is None:
            # The most recent ``limit`` without copying the whole history first.
            newest = list(islice(reversed(mine.values()), max(limit, 0)))
            return [snapshot(o) for o in reversed(newest)]
        items = list(mine.values())
        return [snapshot(o) for o in window(items, _order_time, start_time, end_time, limit, False)]

    def my_trades(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        from_id: int | None = None,
        limit: int = 500,
    ) -> list[Fill]:
        """The account's fills on ``symbol``, oldest first, venue windowing."""
        st = self._state(symbol)
        log = st.account_fills.get(account_id)
        rows: Sequence[FillRow] = log.rows() if log is not None else []
        if order_id is not None:
            self._archive_due(st, account_id)
            o = st.orders.get(order_id)
            if o is None or o.account_id != account_id:
                raise EngineError(-2013, "Order does not exist.")
            rows = [r for r in rows if r[1] == order_id]
        if from_id is not None:
            rows = [r for r in rows if r[0] >= from_id]
            picked = window(rows, _row_time, start_time, end_time, limit, True)
        else:
            picked = window(
                rows, _row_time, start_time, end_time, limit, order_id is not None and start_time is None
            )
        symbol = st.symbol
        return [
            fill(r[0], symbol, r[1], account_id, r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])
            for r in picked
        ]

    def depth(self, symbol: str, limit: int) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]]:
        """(lastUpdateId, bids best first, asks best first), visible quantities only."""
        st = self._state(symbol)
        bids, asks = st.depth(limit)
        return st.update_id, bids, asks

    def best_bid_ask(self, symbol: str) -> tuple[int, int, int, int]:
        """(bid price, bid qty, ask price, ask qty); zeros for an empty side."""
        st = self._state(symbol)
        bp, ap = st.best_bid(), st.best_ask()
        bq = st.bids[bp].qty if bp else 0
        aq = st.asks[ap].qty if ap else 0
        return bp, bq, ap, aq

    def last_update_id(self, symbol: str) -> int:
        """The symbol's book update id (depth snapshots, diffs and bookTicker share it)."""
        return self._state(symbol).update_id

    def last_price(self, symbol: str) -> int:
        """Price of the symbol's last trade in this engine (0 before the first trade)."""
        return self._state(symbol).last_price

    @property
    def last_execution_id(self) -> int:
        """The last execution id handed out: every order event (new, trade, cancel, expiry)
        takes one, reported or not, so an unchanged value means no order changed since."""
        return self._exec_id


def _oid(o: Order) -> int:
    return o.order_id
