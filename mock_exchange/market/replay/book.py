"""The recorded order book: levels as ints, depth diffs and bookTickers fused by update id.

Depth diffs (100 ms aggregates) give every level; bookTickers give the top of book in real time,
~10x more often. Both carry the venue's update ids, which decide who is newer:

* a ticker with ``u`` not above the last applied diff's ``u`` is stale and ignored; otherwise it
  sets both top levels and removes every level better than them (the venue's book cannot hold
  a bid above its best bid, nor one at or above its best ask);
* a diff whose ``u`` is below the last applied ticker's leaves the top alone (levels at or
  better than the ticker's prices): the ticker already showed a newer state there, and the next
  diff covering the ticker's id will state those levels again.

Each side is a dict price -> qty plus a lazily cleaned heap of prices for the best price, so a
level change is O(1) and the best price amortised O(log n). A book can *watch* prices (the
exchange's resting user orders): changes to watched levels are collected in ``changes`` as
(is_bid, price, old, new), and ``consumed`` quantities (liquidity a user order took) are
forgotten when their level is updated by a record.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush, nlargest, nsmallest
from typing import Any

from mock_exchange.market.replay.feed import K_DIFF, K_SNAPSHOT, K_TICKER, DiffData, Levels, split_diff

Change = tuple[bool, int, int, int]


class LevelSide:
    """One side of a book: ``levels`` price -> qty, best price from a heap of signed prices."""

    __slots__ = ("levels", "heap", "sign", "is_bid")

    def __init__(self, is_bid: bool) -> None:
        self.levels: dict[int, int] = {}
        self.heap: list[int] = []
        self.is_bid = is_bid
        self.sign = -1 if is_bid else 1

    def clear(self) -> None:
        self.levels.clear()
        self.heap.clear()

    def set(self, price: int, qty: int) -> int:
        """Set a level's quantity (0 removes it); returns the previous quantity."""
        levels = self.levels
        old = levels.get(price, 0)
        if qty > 0:
            if not old:
                heap = self.heap
                heappush(heap, self.sign * price)
                if len(heap) > 2 * len(levels) + 4096:
                    self._compact()
            levels[price] = qty
        elif old:
            del levels[price]
        return old

    def _compact(self) -> None:
        sign = self.sign
        self.heap = [sign * p for p in self.levels]
        heapify(self.heap)

    def best(self) -> int:
        """The best price, 0 when the side is empty."""
        heap = self.heap
        levels = self.levels
        sign = self.sign
        while heap:
            price = heap[0] * sign
            if price in levels:
                return price
            heappop(heap)
        return 0

    def top(self, n: int) -> list[tuple[int, int]]:
        """The best ``n`` levels, best first."""
        levels = self.levels
        prices = nlargest(n, levels) if self.is_bid else nsmallest(n, levels)
        return [(p, levels[p]) for p in prices]

    def ordered(self) -> list[int]:
        """Every price, best first."""
        return sorted(self.levels, reverse=self.is_bid)


class RecordedBook:
    """A symbol's book as recorded. ``apply(event)`` takes depth/ticker MarketEvents."""

    __slots__ = (
        "symbol",
        "bids",
        "asks",
        "loaded",
        "diff_u",
        "ticker_u",
        "ticker_bid",
        "ticker_ask",
        "last_update_id",
        "watch_bids",
        "watch_asks",
        "consumed_bids",
        "consumed_asks",
        "changes",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids = LevelSide(True)
        self.asks = LevelSide(False)
        self.loaded = False
        self.diff_u = 0  # last update id of the loaded snapshot / applied diffs
        self.ticker_u = 0  # update id of the last applied bookTicker
        self.ticker_bid = 0
        self.ticker_ask = 0
        self.last_update_id = 0  # newest update id reflected anywhere in the book
        self.watch_bids: dict[int, Any] = {}
        self.watch_asks: dict[int, Any] = {}
        self.consumed_bids: dict[int, int] = {}
        self.consumed_asks: dict[int, int] = {}
        self.changes: list[Change] = []

    # -- reading ----------------------------------------------------------------------------
    def top(self) -> tuple[int, int, int, int]:
        """(bid, bid_qty, ask, ask_qty) as recorded, zeros for an empty side."""
        b = self.bids.best()
        a = self.asks.best()
        return (b, self.bids.levels[b] if b else 0, a, self.asks.levels[a] if a else 0)

    def best_bid(self) -> int:
        return self.bids.best()

    def best_ask(self) -> int:
        return self.asks.best()

    def visible(self, is_bid: bool, price: int) -> int:
        """Recorded quantity at a price minus what user orders consumed from it."""
        if is_bid:
            return self.bids.levels.get(price, 0) - self.consumed_bids.get(price, 0)
        return self.asks.levels.get(price, 0) - self.consumed_asks.get(price, 0)

    def effective_best(self, is_bid: bool) -> int:
        """Best price with visible quantity left (skips levels users consumed entirely)."""
        side = self.bids if is_bid else self.asks
        consumed = self.consumed_bids if is_bid else self.consumed_asks
        best = side.best()
        if not consumed or best not in consumed:
            return best
        levels = side.levels
        for price in side.ordered():
            if levels[price] > consumed.get(price, 0):
                return price
        return 0

    def depth(self, limit: int) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]]:
        """(lastUpdateId, bids best first, asks best first) with consumed quantity taken out."""
        out: list[list[tuple[int, int]]] = []
        for side, consumed in ((self.bids, self.consumed_bids), (self.asks, self.consumed_asks)):
            rows: list[tuple[int, int]] = []
            levels = side.levels
            prices = side.ordered() if consumed else [p for p, _ in side.top(limit)]
            for price in prices:
                qty = levels[price] - consumed.get(price, 0)
                if qty > 0:
                    rows.append((price, qty))
                    if len(rows) >= limit:
                        break
            out.append(rows)
        return self.last_update_id, out[0], out[1]

    # -- writing ----------------------------------------------------------------------------
    def apply(self, kind: int, data: Any) -> bool:
        """Apply a depth diff, snapshot or ticker; False when it was stale or the book is not loaded."""
        if kind == K_TICKER:
            return self.apply_ticker(data[0], data[1], data[2], data[3], data[4])
        if kind == K_DIFF:
            return self.apply_split_diff(data)
        if kind == K_SNAPSHOT:
            self.load(data[0], data[1], data[2], data[3])
            return True
        return False

    def load(self, last_id: int, bids: Levels, asks: Levels, bridge: tuple[DiffData, ...] = ()) -> None:
        """Replace the book by a snapshot, then apply its bridge diffs."""
        before = None
        if self.watch_bids or self.watch_asks:
            before = [(True, p, self.bids.levels.get(p, 0)) for p in self.watch_bids]
            before += [(False, p, self.asks.levels.get(p, 0)) for p in self.watch_asks]
        self.bids.clear()
        self.asks.clear()
        self.consumed_bids.clear()
        self.consumed_asks.clear()
        for price, qty in bids:
            self.bids.set(price, qty)
        for price, qty in asks:
            self.asks.set(price, qty)
        self.loaded = True
        self.diff_u = last_id
        self.ticker_u = self.ticker_bid = self.ticker_ask = 0
        self.last_update_id = last_id
        saved = self.watch_bids, self.watch_asks
        self.watch_bids, self.watch_asks = {}, {}  # changes are computed once, below
        try:
            for diff in bridge:
                self.apply_split_diff(diff)
        finally:
            self.watch_bids, self.watch_asks = saved
        if before is not None:
            changes = self.changes
            for is_bid, price, old in before:
                new = (self.bids if is_bid else self.asks).levels.get(price, 0)
                if new != old:
                    changes.append((is_bid, price, old, new))

    def apply_diff(self, first: int, last: int, bids: Levels, asks: Levels) -> bool:
        """Apply a depth diff given as (price, qty) rows; False when stale or not loaded."""
        return self.apply_split_diff(split_diff(first, last, bids, asks))

    def apply_split_diff(self, diff: DiffData) -> bool:
        """Apply a diff in the feed's form (``split_diff``)."""
        last = diff[1]
        if not self.loaded or last <= self.diff_u:
            return False
        self.diff_u = last
        if last > self.last_update_id:
            self.last_update_id = last
        if last < self.ticker_u:  # a newer ticker owns the top: keep levels at or better than it
            self._set_rows(self.bids, diff[2], diff[3], self.ticker_bid, self.watch_bids, self.consumed_bids)
            self._set_rows(self.asks, diff[4], diff[5], self.ticker_ask, self.watch_asks, self.consumed_asks)
            return True
        if diff[2] or diff[3]:
            self._set_fast(self.bids, diff[2], diff[3], self.watch_bids, self.consumed_bids)
        if diff[4] or diff[5]:
            self._set_fast(self.asks, diff[4], diff[5], self.watch_asks, self.consumed_asks)
        return True

    def _set_fast(
        self, side: LevelSide, sets: dict[int, int], dels: tuple[int, ...], watch: dict[int, Any], consumed: dict[int, int]
    ) -> None:
        """Set and remove levels with C-level dict operations: the hot path of a replay."""
        levels = side.levels
        hits: list[tuple[int, int]] | None = None
        if watch:
            hits = [(p, levels.get(p, 0)) for p in watch if p in sets or p in dels]
        new = [p for p in sets if p not in levels]
        levels.update(sets)
        if dels:
            pop = levels.pop
            for price in dels:
                pop(price, None)
        if new:
            heap = side.heap
            sign = side.sign
            for price in new:
                heappush(heap, sign * price)
            if len(heap) > 2 * len(levels) + 4096:
                side._compact()
        if consumed:
            for price in [p for p in consumed if p in sets or p in dels]:
                del consumed[price]
        if hits:
            changes = self.changes
            is_bid = side.is_bid
            for price, old in hits:
                qty = levels.get(price, 0)
                if qty != old:
                    changes.append((is_bid, price, old, qty))

    def _set_rows(
        self,
        side: LevelSide,
        sets: dict[int, int],
        dels: tuple[int, ...],
        limit: int,
        watch: dict[int, Any],
        consumed: dict[int, int],
    ) -> None:
        """Set levels one by one, skipping those at or better than ``limit`` (0: none)."""
        is_bid = side.is_bid
        for price, qty in [*sets.items(), *((p, 0) for p in dels)]:
            if limit and (price >= limit if is_bid else price <= limit):
                continue
            old = side.set(price, qty)
            if old == qty:
                continue
            if consumed and price in consumed:
                del consumed[price]
            if watch and price in watch:
                self.changes.append((is_bid, price, old, qty))

    def apply_ticker(self, u: int, bid: int, bid_qty: int, ask: int, ask_qty: int) -> bool:
        if not self.loaded or u <= self.diff_u or u <= self.ticker_u:
            return False
        self.ticker_u = u
        if u > self.last_update_id:
            self.last_update_id = u
        if bid and bid_qty:
            self.ticker_bid = bid
            side = self.bids
            heap = side.heap
            if heap and heap[0] == -bid:  # same best price (its heap entry exists): at most a new quantity
                levels = side.levels
                old = levels.get(bid, 0)
                if old != bid_qty:
                    levels[bid] = bid_qty
                    if self.consumed_bids and bid in self.consumed_bids:
                        del self.consumed_bids[bid]
                    if self.watch_bids and bid in self.watch_bids:
                        self.changes.append((True, bid, old, bid_qty))
            else:
                self._ticker_side(side, bid, bid_qty, self.watch_bids, self.consumed_bids, True)
        if ask and ask_qty:
            self.ticker_ask = ask
            side = self.asks
            heap = side.heap
            if heap and heap[0] == ask:
                levels = side.levels
                old = levels.get(ask, 0)
                if old != ask_qty:
                    levels[ask] = ask_qty
                    if self.consumed_asks and ask in self.consumed_asks:
                        del self.consumed_asks[ask]
                    if self.watch_asks and ask in self.watch_asks:
                        self.changes.append((False, ask, old, ask_qty))
            else:
                self._ticker_side(side, ask, ask_qty, self.watch_asks, self.consumed_asks, False)
        return True

    def _ticker_side(
        self, side: LevelSide, price: int, qty: int, watch: dict[int, Any], consumed: dict[int, int], is_bid: bool
    ) -> None:
        levels = side.levels
        old = levels.get(price, 0)
        if old != qty:
            if not old:
                heappush(side.heap, side.sign * price)
            levels[price] = qty
            if consumed and price in consumed:
                del consumed[price]
            if watch and price in watch:
                self.changes.append((is_bid, price, old, qty))
        heap = side.heap
        top = side.sign * price
        while heap[0] != top:  # levels better than the ticker's are gone (or stale heap entries)
            better = side.sign * heappop(heap)
            gone = levels.pop(better, 0)
            if not gone:
                continue
            if consumed and better in consumed:
                del consumed[better]
            if watch and better in watch:
                self.changes.append((is_bid, better, gone, 0))
