"""Order book with price-time priority: a dict of price levels plus sorted price lists.

Why this shape: the best price is an O(1) look at the end (bids) or start (asks) of a sorted
``list`` of ints, a level is found by price in a ``dict``, and a level's FIFO queue is a
``deque``. Cancels are O(1): the order is left in its deque and only the level's counters
change; dead entries are skipped (and dropped) when matching reaches them, and a level whose
queue holds mostly dead entries is compacted. ``Order.visible_qty`` is what an order shows
(an iceberg shows its current slice), and ``Level.qty`` is the sum over the level's live orders.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator

from mock_exchange.engine.types import BUY, NEW, PARTIALLY_FILLED, Order


class Level:
    """One price level: FIFO queue (may hold dead entries), live count and visible total."""

    __slots__ = ("price", "orders", "qty", "count")

    def __init__(self, price: int) -> None:
        self.price = price
        self.orders: deque[Order] = deque()
        self.qty = 0
        self.count = 0

    def live(self) -> Iterator[Order]:
        """Live orders in time priority."""
        for o in self.orders:
            status = o.status
            if status == NEW or status == PARTIALLY_FILLED:
                yield o


class Book:
    """Both sides of one symbol's book. Bid and ask prices are each kept ascending."""

    __slots__ = ("bids", "asks", "bid_prices", "ask_prices")

    def __init__(self) -> None:
        self.bids: dict[int, Level] = {}
        self.asks: dict[int, Level] = {}
        self.bid_prices: list[int] = []
        self.ask_prices: list[int] = []

    # ------------------------------------------------------------------ mutation
    def add(self, order: Order) -> Level:
        """Append a live order (``visible_qty`` already set) at the back of its level (returned)."""
        price = order.price
        if order.side == BUY:
            levels, prices = self.bids, self.bid_prices
        else:
            levels, prices = self.asks, self.ask_prices
        level = levels.get(price)
        if level is None:
            level = levels[price] = Level(price)
            insort(prices, price)
        level.orders.append(order)
        level.qty += order.visible_qty
        level.count += 1
        return level

    def remove(self, order: Order) -> int:
        """Take a live order off the book in O(1); returns what its level still shows (0: gone).

        The order's deque entry dies lazily: the caller then gives the order a terminal status,
        which is what marks the entry dead for the matching loop (it skips and drops entries
        whose status is not open).
        """
        if order.side == BUY:
            levels, prices = self.bids, self.bid_prices
        else:
            levels, prices = self.asks, self.ask_prices
        price = order.price
        level = levels[price]
        level.qty -= order.visible_qty
        level.count -= 1
        if level.count == 0:
            del levels[price]
            del prices[bisect_left(prices, price)]
            return 0
        if len(level.orders) > 2 * level.count + 32:
            # Mostly dead entries: rebuild the queue from the live ones (order kept).
            level.orders = deque(o for o in level.orders if o is not order and _is_live(o))
        return level.qty

    # ------------------------------------------------------------------ queries
    def best_bid(self) -> int:
        """Best bid price, 0 when there are no bids."""
        return self.bid_prices[-1] if self.bid_prices else 0

    def best_ask(self) -> int:
        """Best ask price, 0 when there are no asks."""
        return self.ask_prices[0] if self.ask_prices else 0

    def depth(self, limit: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids best first, asks best first) as (price, visible qty), at most ``limit`` each."""
        if limit <= 0:
            return [], []
        bids, asks = self.bids, self.asks
        top_bids = [(p, bids[p].qty) for p in reversed(self.bid_prices[-limit:])]
        top_asks = [(p, asks[p].qty) for p in self.ask_prices[:limit]]
        return top_bids, top_asks


def _is_live(order: Order) -> bool:
    status = order.status
    return status == NEW or status == PARTIALLY_FILLED
