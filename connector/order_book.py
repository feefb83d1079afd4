"""A local copy of one pair's order book, fast to update and exact to read (Decimal).

Why it looks like this: a Binance BTCUSDT diff changes ~45 levels and most changes insert or
delete a level, so per-level work on the update path is what limits a Python book. Updates are
therefore applied with C-level dict operations on the venue's own text (price text -> quantity
text; the venue formats a symbol's prices the same way in REST snapshots and in stream diffs),
and the sorted price index is brought up to date lazily, by the first read after the updates
(touched levels only, or a full rebuild after many). Reads return Decimal, converted from the
venue's text; nothing read from the book passes through a float.

Bids and asks are kept in ascending price lists; the best bid is the last bid, the best ask the
first ask. Quantity text "0.00000000" (any zero) removes a level; removing an unknown level is
normal (the venue sends removals of levels deeper than any snapshot).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from connector.order_book_message import OrderBookMessage, OrderBookMessageType, OrderBookRow

RawLevels = Sequence[Sequence[str]]
ZERO = Decimal(0)
# Pending touched levels beyond which a flush rebuilds the index instead of patching it, and
# beyond which un-read updates are compacted (tombstones purged) to bound memory.
_MIN_COMPACT = 4096


class EmptyOrderBookError(LookupError):
    """The side of the book a query needs has no levels."""


# Zero quantity as the venue writes it: plain decimal text with up to 30 decimals.
ZERO_TEXTS = frozenset(["0", "0."] + ["0." + "0" * n for n in range(1, 31)])


def _text(value: Decimal) -> str:
    """Plain decimal text of a Decimal; the inverse of Decimal(text) for the venue's text."""
    return format(value, "f")


@dataclass(frozen=True, slots=True)
class OrderBookQueryResult:
    """Answer to a depth query: what was asked, and the price/volume the book gives for it."""

    query_price: Decimal
    query_volume: Decimal
    result_price: Decimal
    result_volume: Decimal


class _Collision(Exception):
    """Two different prices share a float sort key (only possible beyond 15 significant digits)."""


class _Side:
    """One side: level text map plus a lazily maintained sorted price index.

    The index sorts by float(price text): conversion is correctly rounded, hence monotonic, and
    one-to-one for prices of up to 15 significant digits (every venue price we know). Values are
    never taken from the floats: reads convert the price text to Decimal. Should two different
    prices ever share a float, the side switches to Decimal keys for good.
    """

    __slots__ = ("levels", "pending", "pending_n", "stale", "keys", "key_of", "text_of", "key_fn")

    def __init__(self) -> None:
        self.levels: dict[str, str] = {}  # price text -> qty text; zero qty = not yet purged
        self.pending: list[RawLevels] = []  # level lists applied since the index was current
        self.pending_n = 0
        self.stale = False  # the index needs a full rebuild
        self.keys: list[Any] = []  # ascending sort keys of the live levels
        self.key_of: dict[str, Any] = {}  # price text -> sort key, for indexed levels
        self.text_of: dict[Any, str] = {}  # sort key -> price text, for indexed levels
        self.key_fn: Callable[[str], Any] = float

    # ------------------------------------------------------------------ writes
    def replace(self, levels: RawLevels) -> None:
        zeros = ZERO_TEXTS
        self.levels = {p: q for p, q in levels if q not in zeros}
        self.pending.clear()
        self.pending_n = 0
        self.stale = True

    def update(self, levels: RawLevels) -> None:
        self.levels.update(levels)  # type: ignore[arg-type]  # [price, qty] pairs
        self.pending.append(levels)
        self.pending_n += len(levels)
        if self.pending_n > _MIN_COMPACT and self.pending_n > 2 * len(self.levels):
            self._compact()

    def _compact(self) -> None:
        """Purge zero levels now and leave the index for a full rebuild at the next read."""
        zeros = ZERO_TEXTS
        self.levels = {p: q for p, q in self.levels.items() if q not in zeros}
        self.pending.clear()
        self.pending_n = 0
        self.stale = True

    # ------------------------------------------------------------------ index
    def flush(self) -> None:
        """Bring the sorted index in line with the level map."""
        try:
            if self.stale or self.pending_n > max(256, len(self.keys) // 4):
                self._rebuild()
            else:
                self._patch()
        except _Collision:
            self.key_fn = Decimal
            self._rebuild()

    def _patch(self) -> None:
        levels, key_of, text_of, keys = self.levels, self.key_of, self.text_of, self.keys
        zeros, get, key_fn, ins, bis = ZERO_TEXTS, levels.get, self.key_fn, insort, bisect_left
        for batch in self.pending:
            for p, _ in batch:
                q = get(p)
                if q is None or q in zeros:
                    if q is not None:
                        del levels[p]
                    k = key_of.pop(p, None)
                    if k is not None:
                        del keys[bis(keys, k)]
                        del text_of[k]
                elif p not in key_of:
                    k = key_fn(p)
                    other = text_of.get(k)
                    if other is not None:
                        if Decimal(other) != Decimal(p):
                            raise _Collision(p)
                        del key_of[other]  # same price spelled differently: keep the newer text
                        levels.pop(other, None)
                    else:
                        ins(keys, k)
                    key_of[p] = k
                    text_of[k] = p
        self.pending.clear()
        self.pending_n = 0

    def _rebuild(self) -> None:
        old = self.key_of
        zeros = ZERO_TEXTS
        key_fn = self.key_fn
        levels = {p: q for p, q in self.levels.items() if q not in zeros}
        key_of: dict[str, Any] = {}
        text_of: dict[Any, str] = {}
        for p in levels:
            k = old.get(p)
            if k is None or type(k) is not key_fn:
                k = key_fn(p)
            prev = text_of.get(k)
            if prev is not None:
                if Decimal(prev) != Decimal(p):
                    raise _Collision(p)
                del key_of[prev]
            key_of[p] = k
            text_of[k] = p
        if len(key_of) != len(levels):
            levels = {p: levels[p] for p in key_of}
        self.levels = levels
        self.key_of = key_of
        self.text_of = text_of
        self.keys = sorted(text_of)
        self.pending.clear()
        self.pending_n = 0
        self.stale = False

    def ready(self) -> list[Any]:
        if self.pending or self.stale:
            self.flush()
        return self.keys

    # ------------------------------------------------------------------ reads
    def best(self, highest: bool) -> Decimal | None:
        keys = self.ready()
        if not keys:
            return None
        return Decimal(self.text_of[keys[-1] if highest else keys[0]])

    def amount(self, price: Decimal) -> Decimal:
        self.ready()
        text = self.text_of.get(self.key_fn(_text(price)))
        if text is None or Decimal(text) != price:
            return ZERO
        return Decimal(self.levels[text])

    def entries(self, descending: bool, update_id: int) -> Iterator[OrderBookRow]:
        keys = self.ready()
        levels, text_of, dec = self.levels, self.text_of, Decimal
        for k in reversed(keys) if descending else keys:
            text = text_of[k]
            yield OrderBookRow(dec(text), dec(levels[text]), update_id)

    def as_dict(self) -> dict[Decimal, Decimal]:
        self.ready()
        levels = self.levels
        return {Decimal(t): Decimal(levels[t]) for t in self.text_of.values()}


class OrderBook:
    """Bids and asks of one trading pair, plus the update ids and last trade seen."""

    __slots__ = ("_bids", "_asks", "snapshot_uid", "last_diff_uid", "last_trade_price", "last_trade_amount",
                 "last_applied_trade", "last_trade_type")  # fmt: skip

    def __init__(self) -> None:
        self._bids = _Side()
        self._asks = _Side()
        self.snapshot_uid = 0  # lastUpdateId of the snapshot the book was built from
        self.last_diff_uid = 0  # update id the book is at (snapshot or last applied diff)
        self.last_trade_price: Decimal | None = None
        self.last_trade_amount: Decimal | None = None
        self.last_trade_type = ""
        self.last_applied_trade = 0.0  # timestamp (s) of the last trade applied

    # ------------------------------------------------------------------ updates
    def apply_snapshot(self, bids: Iterable[OrderBookRow], asks: Iterable[OrderBookRow], update_id: int) -> None:
        """Replace the whole book (rows with amount 0 are ignored)."""
        self.apply_raw_snapshot(
            [(_text(r.price), _text(r.amount)) for r in bids], [(_text(r.price), _text(r.amount)) for r in asks],
            update_id,
        )

    def apply_diffs(self, bids: Iterable[OrderBookRow], asks: Iterable[OrderBookRow], update_id: int) -> None:
        """Set each row's absolute amount (0 removes the level)."""
        self.apply_raw_diffs(
            [(_text(r.price), _text(r.amount)) for r in bids], [(_text(r.price), _text(r.amount)) for r in asks],
            update_id,
        )

    def apply_raw_snapshot(self, bids: RawLevels, asks: RawLevels, update_id: int) -> None:
        """Replace the whole book from the venue's [["price", "qty"], ...] lists."""
        self._bids.replace(bids)
        self._asks.replace(asks)
        self.snapshot_uid = update_id
        self.last_diff_uid = update_id

    def apply_raw_diffs(self, bids: RawLevels, asks: RawLevels, update_id: int) -> None:
        """Apply one diff in the venue's text form (the fast path the tracker uses)."""
        if bids:
            self._bids.update(bids)
        if asks:
            self._asks.update(asks)
        self.last_diff_uid = update_id

    def apply_message(self, message: OrderBookMessage) -> None:
        """Apply a snapshot, diff or trade message (no sequence checks: the tracker does those)."""
        t = message.type
        if t is OrderBookMessageType.DIFF:
            c = message.content
            self.apply_raw_diffs(c["bids"], c["asks"], message.update_id)
        elif t is OrderBookMessageType.SNAPSHOT:
            c = message.content
            self.apply_raw_snapshot(c["bids"], c["asks"], message.update_id)
        else:
            self.apply_trade(message)

    def apply_trade(self, trade: OrderBookMessage) -> None:
        """Remember the last trade (price, amount, taker side, time)."""
        self.last_trade_price = trade.price
        self.last_trade_amount = trade.amount
        self.last_trade_type = trade.trade_type
        self.last_applied_trade = trade.timestamp

    def clear(self) -> None:
        self._bids.replace(())
        self._asks.replace(())
        self.snapshot_uid = self.last_diff_uid = 0

    # ------------------------------------------------------------------ top of book
    @property
    def best_bid(self) -> Decimal | None:
        return self._bids.best(True)

    @property
    def best_ask(self) -> Decimal | None:
        return self._asks.best(False)

    @property
    def mid_price(self) -> Decimal | None:
        bid, ask = self.best_bid, self.best_ask
        return (bid + ask) / 2 if bid is not None and ask is not None else None

    def get_price(self, is_buy: bool) -> Decimal:
        """The price a buy (best ask) or a sell (best bid) would start at."""
        price = self.best_ask if is_buy else self.best_bid
        if price is None:
            raise EmptyOrderBookError("the order book has no " + ("asks" if is_buy else "bids"))
        return price

    def amount_at(self, is_bid: bool, price: Decimal) -> Decimal:
        """Amount resting at ``price`` on one side (0 when there is no such level)."""
        return (self._bids if is_bid else self._asks).amount(price)

    # ------------------------------------------------------------------ whole book
    def bid_entries(self) -> Iterator[OrderBookRow]:
        """Bids, best (highest) first."""
        return self._bids.entries(True, self.last_diff_uid)

    def ask_entries(self) -> Iterator[OrderBookRow]:
        """Asks, best (lowest) first."""
        return self._asks.entries(False, self.last_diff_uid)

    def _side_entries(self, is_buy: bool) -> Iterator[OrderBookRow]:
        return self.ask_entries() if is_buy else self.bid_entries()

    @property
    def snapshot(self) -> tuple[list[OrderBookRow], list[OrderBookRow]]:
        """(bids best first, asks best first)."""
        return list(self.bid_entries()), list(self.ask_entries())

    def top(self, depth: int) -> tuple[list[OrderBookRow], list[OrderBookRow]]:
        """The best ``depth`` levels of each side."""
        bids: list[OrderBookRow] = []
        asks: list[OrderBookRow] = []
        for row in self.bid_entries():
            if len(bids) >= depth:
                break
            bids.append(row)
        for row in self.ask_entries():
            if len(asks) >= depth:
                break
            asks.append(row)
        return bids, asks

    def levels(self, is_bid: bool) -> dict[Decimal, Decimal]:
        """One side as {price: amount}."""
        return (self._bids if is_bid else self._asks).as_dict()

    def raw_levels(self, is_bid: bool) -> Mapping[str, str]:
        """One side as the venue's text {price: qty}: a read-only live view (no copy, no zero
        levels) that is valid until the next update; copy it with dict() to keep it."""
        side = self._bids if is_bid else self._asks
        side.ready()
        return MappingProxyType(side.levels)

    @property
    def bid_count(self) -> int:
        return len(self._bids.ready())

    @property
    def ask_count(self) -> int:
        return len(self._asks.ready())

    # ------------------------------------------------------------------ depth queries
    def get_price_for_volume(self, is_buy: bool, volume: Decimal) -> OrderBookQueryResult:
        """Worst price reached when taking ``volume`` (base) from the book; result_volume is what
        the whole walk takes (up to the last level needed), capped by what the side holds."""
        taken = ZERO
        price = ZERO
        for row in self._side_entries(is_buy):
            price = row.price
            taken += row.amount
            if taken >= volume:
                break
        if price == ZERO:
            raise EmptyOrderBookError("the order book has no " + ("asks" if is_buy else "bids"))
        return OrderBookQueryResult(ZERO, volume, price, taken)

    def get_vwap_for_volume(self, is_buy: bool, volume: Decimal) -> OrderBookQueryResult:
        """Volume-weighted average price of taking ``volume`` (base); result_volume is the amount
        the book could fill (less than ``volume`` when the side runs out)."""
        remaining = volume
        cost = ZERO
        for row in self._side_entries(is_buy):
            if remaining <= ZERO:
                break
            take = row.amount if row.amount < remaining else remaining
            cost += take * row.price
            remaining -= take
        filled = volume - remaining
        if filled <= ZERO:
            if volume <= ZERO:
                return OrderBookQueryResult(ZERO, volume, self.get_price(is_buy), ZERO)
            raise EmptyOrderBookError("the order book has no " + ("asks" if is_buy else "bids"))
        return OrderBookQueryResult(ZERO, volume, cost / filled, filled)

    def get_price_for_quote_volume(self, is_buy: bool, quote_volume: Decimal) -> OrderBookQueryResult:
        """Worst price reached when spending (buy) or receiving (sell) ``quote_volume`` of the quote
        asset; result_volume is the quote volume of the levels walked, capped by the side."""
        quote = ZERO
        price = ZERO
        for row in self._side_entries(is_buy):
            price = row.price
            quote += row.amount * row.price
            if quote >= quote_volume:
                break
        if price == ZERO:
            raise EmptyOrderBookError("the order book has no " + ("asks" if is_buy else "bids"))
        return OrderBookQueryResult(ZERO, quote_volume, price, quote)

    def get_volume_for_price(self, is_buy: bool, price: Decimal) -> OrderBookQueryResult:
        """Base volume available at ``price`` or better (asks <= price for a buy, bids >= price for a sell)."""
        volume = ZERO
        worst = ZERO
        for row in self._side_entries(is_buy):
            if (row.price > price) if is_buy else (row.price < price):
                break
            volume += row.amount
            worst = row.price
        return OrderBookQueryResult(price, ZERO, worst, volume)

    def __repr__(self) -> str:
        return (f"OrderBook(uid={self.last_diff_uid}, bids={self.bid_count}, asks={self.ask_count}, "
                f"best_bid={self.best_bid}, best_ask={self.best_ask})")
