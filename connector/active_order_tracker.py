"""Converts the venue's snapshot and diff messages into Decimal book rows, and keeps the active
price levels they describe.

This is the row-based view of a book (Hummingbot's ActiveOrderTracker role): consumers that want
each change as (price, amount, update_id) rows use it, e.g. to feed ``OrderBook.apply_diffs``.
The tracker's own hot path applies the venue's text levels directly (``OrderBook.apply_message``),
which gives the same book without building a row per level.
"""

from __future__ import annotations

from decimal import Decimal

from connector.order_book_message import OrderBookMessage, OrderBookMessageType, OrderBookRow, RawLevels

Rows = list[OrderBookRow]


class ActiveOrderTracker:
    """Active bid/ask levels of one pair, as Decimal {price: amount}, updated by each conversion."""

    def __init__(self) -> None:
        self.active_bids: dict[Decimal, Decimal] = {}
        self.active_asks: dict[Decimal, Decimal] = {}
        self.last_update_id = 0

    def convert_snapshot_message_to_order_book_row(self, message: OrderBookMessage) -> tuple[Rows, Rows]:
        """Rows of a snapshot; the active levels become exactly the snapshot's (zero rows dropped)."""
        if message.type is not OrderBookMessageType.SNAPSHOT:
            raise ValueError(f"not a snapshot message: {message!r}")
        uid = message.update_id
        bids = [r for r in _rows(message.raw_bids, uid) if r.amount]
        asks = [r for r in _rows(message.raw_asks, uid) if r.amount]
        self.active_bids = {r.price: r.amount for r in bids}
        self.active_asks = {r.price: r.amount for r in asks}
        self.last_update_id = uid
        return bids, asks

    def convert_diff_message_to_order_book_row(self, message: OrderBookMessage) -> tuple[Rows, Rows]:
        """Rows of a diff (amount 0 = level removed); the active levels follow the diff."""
        if message.type is not OrderBookMessageType.DIFF:
            raise ValueError(f"not a diff message: {message!r}")
        uid = message.update_id
        bids = _rows(message.raw_bids, uid)
        asks = _rows(message.raw_asks, uid)
        _apply(self.active_bids, bids)
        _apply(self.active_asks, asks)
        self.last_update_id = uid
        return bids, asks

    def convert_trade_message_to_order_book_row(self, message: OrderBookMessage) -> tuple[Rows, Rows]:
        """A trade as one row on the side it took from (a BUY takes asks, a SELL takes bids); the
        active levels are not changed (the diff stream reports the book change)."""
        if message.type is not OrderBookMessageType.TRADE:
            raise ValueError(f"not a trade message: {message!r}")
        row = OrderBookRow(message.price, message.amount, message.trade_id)
        return ([], [row]) if message.trade_type == "BUY" else ([row], [])

    @property
    def best_bid(self) -> Decimal | None:
        return max(self.active_bids) if self.active_bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return min(self.active_asks) if self.active_asks else None


def _rows(levels: RawLevels, uid: int) -> Rows:
    dec = Decimal
    return [OrderBookRow(dec(p), dec(q), uid) for p, q in levels]


def _apply(active: dict[Decimal, Decimal], rows: Rows) -> None:
    for price, amount, _ in rows:
        if amount:
            active[price] = amount
        else:
            active.pop(price, None)
