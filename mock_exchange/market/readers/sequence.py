"""Depth sequence validation: gaps, snapshot anchoring and the ``sync`` flag of depth records.

The model is the one a replay engine (or the connector) follows on a venue: a book is *known*
once a REST snapshot has been loaded and the diff stream joined to it, and stays known while
every diff's ``U`` is the previous diff's ``u`` + 1. The checker walks the records in receive
order, per symbol, and labels each depth record so a consumer that follows the labels keeps a
correct book without its own bookkeeping:

* a diff marked SYNC_OK is applied; SYNC_RESYNC (book unknown: before the first snapshot, or
  after a gap until a snapshot re-anchors) and SYNC_STALE (already covered by the loaded
  snapshot) are skipped;
* a snapshot marked SYNC_OK is loaded, then its ``bridge`` diffs are applied in order. The bridge
  exists because a snapshot often arrives *after* diffs that already moved past it (the
  hftbacktest capture: snapshot 50093239218 is received after the diff 208..224): those diffs were
  yielded earlier, flagged SYNC_RESYNC, and are handed again with the snapshot. Diffs are kept
  for bridging only while the book is unknown (at most ``bridge_window`` per symbol). A snapshot
  older than the stream while the book is known is redundant and marked SYNC_STALE; one that is
  older than the kept diffs while the book is unknown cannot anchor: SYNC_RESYNC, and an
  AnchorFailure is reported.

Binance's rule decides the join: after a snapshot with ``lastUpdateId`` L, diffs with u <= L are
dropped and the first applied one has U <= L + 1 <= u.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from mock_exchange.market.readers.records import SYNC_OK, SYNC_RESYNC, SYNC_STALE, ReplayRecord


@dataclass(frozen=True, slots=True)
class SequenceGap:
    """A diff whose ``U`` is not the expected id (previous ``u`` + 1, or snapshot L + 1)."""

    symbol: str
    expected: int
    got: int
    source: str

    def __str__(self) -> str:
        what = "missing updates" if self.got > self.expected else "overlapping/repeated updates"
        return f"{self.source}: {self.symbol} depth gap: expected U={self.expected}, got U={self.got} ({what})"


@dataclass(frozen=True, slots=True)
class Anchor:
    """A snapshot the depth sequence was (re)joined to; ``bridged`` diffs ride on it."""

    symbol: str
    last_update_id: int
    source: str
    bridged: int


@dataclass(frozen=True, slots=True)
class AnchorFailure:
    """A snapshot that could not re-anchor an out-of-sync book, and why."""

    symbol: str
    last_update_id: int
    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.symbol} snapshot {self.last_update_id} cannot anchor: {self.reason}"


@dataclass(slots=True)
class _Book:
    last_u: int | None = None  # ``u`` of the last diff seen
    known: bool = False  # book known (anchored, no gap since)
    pending: int | None = None  # L of a loaded snapshot still waiting for its joining diff
    recent: deque[ReplayRecord] = field(default_factory=deque)


class DepthSequenceChecker:
    """Labels depth records per symbol and collects gaps, anchors and anchor failures.

    ``on_gap`` (optional) is called with every gap as it is found (for live reporting).
    """

    def __init__(
        self, bridge_window: int = 512, on_gap: Callable[[SequenceGap], None] | None = None
    ) -> None:
        self.bridge_window = bridge_window
        self.on_gap = on_gap
        self.gaps: list[SequenceGap] = []
        self.anchors: list[Anchor] = []
        self.failures: list[AnchorFailure] = []
        self.resync_records = 0
        self.stale_records = 0
        self._books: dict[str, _Book] = {}

    def reset(self) -> None:
        """Forget everything (a reader calls this when it is iterated again)."""
        self.gaps.clear()
        self.anchors.clear()
        self.failures.clear()
        self.resync_records = 0
        self.stale_records = 0
        self._books.clear()

    def state(self, symbol: str) -> str:
        """'unseen', 'synced', 'joining' (snapshot loaded, joining diff not yet seen) or 'resync'."""
        book = self._books.get(symbol)
        if book is None:
            return "unseen"
        if book.pending is not None:
            return "joining"
        return "synced" if book.known else "resync"

    def _book(self, symbol: str) -> _Book:
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = _Book(recent=deque(maxlen=self.bridge_window))
        return book

    def _gap(self, symbol: str, expected: int, got: int, source: str) -> None:
        gap = SequenceGap(symbol, expected, got, source)
        self.gaps.append(gap)
        if self.on_gap is not None:
            self.on_gap(gap)

    def check(self, rec: ReplayRecord) -> ReplayRecord:
        """The record with its ``sync`` (and, for a snapshot, ``bridge``) set."""
        if rec.kind == "depth_diff":
            return self._diff(rec)
        if rec.kind == "depth_snapshot":
            return self._snapshot(rec)
        return rec

    def _diff(self, rec: ReplayRecord) -> ReplayRecord:
        first, last = rec.first_update_id, rec.last_update_id
        if first is None or last is None:
            return rec
        book = self._book(rec.symbol)
        if book.pending is not None:
            snap = book.pending
            if last <= snap:  # covered by the snapshot; a gap in here harms nobody but is recorded
                if book.last_u is not None and first != book.last_u + 1:
                    self._gap(rec.symbol, book.last_u + 1, first, rec.source)
                sync = SYNC_STALE
            elif first <= snap + 1:  # the joining diff
                book.pending = None
                book.known = True
                sync = SYNC_OK
            else:
                self._gap(rec.symbol, snap + 1, first, rec.source)
                book.pending = None
                book.known = False
                sync = SYNC_RESYNC
        else:
            if book.last_u is not None and first != book.last_u + 1:
                self._gap(rec.symbol, book.last_u + 1, first, rec.source)
                book.known = False
            sync = SYNC_OK if book.known else SYNC_RESYNC
        book.last_u = last
        if sync != SYNC_OK:
            rec = dataclasses.replace(rec, sync=sync)
            if sync == SYNC_RESYNC:
                self.resync_records += 1
            else:
                self.stale_records += 1
        if book.known:  # nothing to bridge while the book is known; holding records costs GC time
            if book.recent:
                book.recent.clear()
        else:
            book.recent.append(rec)
        return rec

    def _snapshot(self, rec: ReplayRecord) -> ReplayRecord:
        snap = rec.last_update_id
        if snap is None:
            return rec
        book = self._book(rec.symbol)
        if book.last_u is None or snap >= book.last_u:
            # at or ahead of the stream: load it; the next diff must join it
            book.known = True
            book.pending = None if snap == book.last_u else snap
            self.anchors.append(Anchor(rec.symbol, snap, rec.source, 0))
            return rec if rec.sync == SYNC_OK else dataclasses.replace(rec, sync=SYNC_OK)
        if book.known:  # behind the stream while the book is known: redundant
            self.stale_records += 1
            return dataclasses.replace(rec, sync=SYNC_STALE)
        # the stream already moved past the snapshot: bridge with the diffs kept since
        newer = [r for r in book.recent if r.last_update_id is not None and r.last_update_id > snap]
        reason = self._bridge_problem(snap, newer, book)
        if reason is None:
            book.known = True
            book.pending = None
            book.recent.clear()
            self.anchors.append(Anchor(rec.symbol, snap, rec.source, len(newer)))
            return dataclasses.replace(rec, sync=SYNC_OK, bridge=tuple(newer))
        self.failures.append(AnchorFailure(rec.symbol, snap, rec.source, reason))
        self.resync_records += 1
        return dataclasses.replace(rec, sync=SYNC_RESYNC)

    def _bridge_problem(self, snap: int, newer: list[ReplayRecord], book: _Book) -> str | None:
        """Why ``newer`` cannot carry the book from snapshot ``snap`` to the stream, or None."""
        if not newer or newer[0].first_update_id is None or newer[0].first_update_id > snap + 1:
            oldest = newer[0].first_update_id if newer else book.last_u
            return (
                f"it is older than the diffs kept for bridging (oldest kept U={oldest}, "
                f"bridge_window={self.bridge_window})"
            )
        prev = newer[0].last_update_id
        for r in newer[1:]:
            if prev is None or r.first_update_id != prev + 1:
                return f"the kept diffs have a gap after u={prev} ({r.source})"
            prev = r.last_update_id
        return None
