"""Book state the depth streams keep per symbol: a mirror for bookTicker and the diff accumulator.

Both are fed ``BookDelta`` events in engine order. The mirror answers "what is the best bid/ask
after this delta" even when one publish carries several deltas of a symbol (the engine's own
book has already moved on by then). The accumulator merges the deltas of one push interval into
one ``depthUpdate``: each level keeps its last absolute quantity, ``U`` is the first delta's
first update id and ``u`` the last delta's last one, so consecutive frames are contiguous.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import TYPE_CHECKING, Any

from mock_exchange.engine.types import BookDelta
from mock_exchange.server import stream_payloads as P

if TYPE_CHECKING:
    from mock_exchange.engine import Engine

_ALL_DEPTH = 1 << 62


class BookMirror:
    """Price -> visible qty of both sides, with sorted prices, fed by BookDeltas."""

    __slots__ = ("update_id", "bids", "asks", "bid_px", "ask_px")

    def __init__(self, engine: Engine, symbol: str) -> None:
        last_id, bids, asks = engine.depth(symbol, _ALL_DEPTH)
        self.update_id = last_id
        self.bids = dict(bids)
        self.asks = dict(asks)
        self.bid_px = sorted(self.bids)
        self.ask_px = sorted(self.asks)

    def apply(self, d: BookDelta) -> None:
        self.update_id = d.last_update_id
        apply_side(d.bids, self.bids, self.bid_px)
        apply_side(d.asks, self.asks, self.ask_px)

    def best(self) -> tuple[int, int, int, int]:
        bp = self.bid_px[-1] if self.bid_px else 0
        ap = self.ask_px[0] if self.ask_px else 0
        return bp, self.bids[bp] if bp else 0, ap, self.asks[ap] if ap else 0


def apply_side(levels: tuple[tuple[int, int], ...], book: dict[int, int], prices: list[int]) -> None:
    """Apply one side's absolute level quantities (0 removes) to ``book`` and its sorted ``prices``."""
    for p, q in levels:
        if q:
            if p not in book:
                insort(prices, p)
            book[p] = q
        elif p in book:
            del book[p]
            del prices[bisect_left(prices, p)]


class DiffAcc:
    """Book deltas of one symbol not yet sent on one diff-depth speed (``channel`` is the
    stream hub's channel the merged frames go to)."""

    __slots__ = ("channel", "bids", "asks", "first", "last")

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.first = 0
        self.last = 0

    def add(self, d: BookDelta) -> None:
        if not self.first:
            self.first = d.first_update_id
        self.last = d.last_update_id
        bids, asks = self.bids, self.asks
        for p, q in d.bids:
            bids[p] = q
        for p, q in d.asks:
            asks[p] = q

    def take(self, symbol: str, now: int) -> dict[str, Any] | None:
        if not self.first:
            return None
        payload = P.depth_update(
            symbol, now, self.first, self.last, sorted(self.bids.items(), reverse=True), sorted(self.asks.items())
        )
        self.bids, self.asks, self.first = {}, {}, 0
        return payload

    def clear(self) -> None:
        self.bids, self.asks, self.first = {}, {}, 0
