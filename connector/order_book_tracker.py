"""Keeps a local order book per trading pair in step with the venue (binance-spot-api.md §9.4).

The procedure, per pair (``BookSync``, pure and synchronous so it can be fed recorded traffic):
buffer diffs from the stream; fetch a REST snapshot; if the snapshot is older than the buffer
(``lastUpdateId < first U - 1``: updates in between were never seen) fetch again; drop buffered
diffs with ``u <= lastUpdateId``; book := snapshot; then apply each diff in order: ``u <= local``
is ignored, ``U > local + 1`` is a gap (discard the book, buffer, resnapshot), otherwise set the
levels and local := ``u``. A diff from a new stream connection also forces a resnapshot: diffs
from before and after a reconnect are never stitched together.

``OrderBookTracker`` runs the data source's listeners, routes their messages to the pairs'
``BookSync``s and fetches snapshots when one asks for it (paced, retrying on errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

import aiohttp

from connector.config import VenueConfig
from connector.order_book import OrderBook
from connector.order_book_data_source import MarketDataError, OrderBookTrackerDataSource
from connector.order_book_message import OrderBookMessage

log = logging.getLogger("connector.order_book_tracker")

MAX_BUFFERED_DIFFS = 20_000  # per pair while waiting for a snapshot; the oldest half goes beyond it
TradeListener = Callable[[OrderBookMessage], None]


class SyncState(Enum):
    BUFFERING = "buffering"  # collecting diffs, waiting for a usable snapshot
    SYNCED = "synced"  # the book is current as of ``last_update_id``


@dataclass
class BookSyncStats:
    """What happened to one pair's book; ``resyncs`` counts every rebuild after the first
    (gaps, reconnects, stale snapshots)."""

    snapshots_fetched: int = 0
    snapshot_errors: int = 0
    snapshots_applied: int = 0  # snapshots that (re)built or refreshed the book
    resyncs: int = 0
    gaps: int = 0
    reconnects: int = 0
    stale_snapshots: int = 0
    diffs_applied: int = 0
    diffs_dropped: int = 0  # u <= local id (already contained in the book)
    trades: int = 0


class BookSync:
    """The §9.4 state machine of one pair, without I/O.

    Feed it diffs (``on_diff``) and snapshots (``on_snapshot``); when ``needs_snapshot`` is True
    its owner should fetch one. The ``order_book`` object is kept for the pair's lifetime (it is
    refilled, not replaced, on a resync) so references handed out stay valid.
    """

    def __init__(self, trading_pair: str, order_book: OrderBook | None = None) -> None:
        self.trading_pair = trading_pair
        self.order_book = order_book if order_book is not None else OrderBook()
        self.state = SyncState.BUFFERING
        self.buffer: list[OrderBookMessage] = []
        self.needs_snapshot = True
        self.connection_id: int | None = None
        self.last_update_id = 0
        self.has_synced = False  # synced at least once
        self.epoch = 0  # bumped by every restart: a snapshot requested before it is not used
        self.stats = BookSyncStats()

    @property
    def synced(self) -> bool:
        return self.state is SyncState.SYNCED

    def on_connection(self, connection_id: int) -> None:
        """The diff stream (re)connected: updates may have been missed, so resync (unless this is
        the first connection the pair sees)."""
        if self.connection_id is None or connection_id == self.connection_id:
            self.connection_id = connection_id
            return
        self.connection_id = connection_id
        self.stats.reconnects += 1
        self.restart()

    def on_diff(self, msg: OrderBookMessage) -> None:
        conn = msg.connection_id
        if conn != self.connection_id:
            if self.connection_id is not None and conn < self.connection_id:
                self.stats.diffs_dropped += 1  # queued before a reconnect we already handled
                return
            first = self.connection_id is None
            self.connection_id = conn
            if not first:
                self.stats.reconnects += 1
                self.restart(msg)
                return
        if self.state is SyncState.SYNCED:
            self._apply(msg)
        else:
            buf = self.buffer
            buf.append(msg)
            if len(buf) > MAX_BUFFERED_DIFFS:
                del buf[: len(buf) // 2]

    def _apply(self, msg: OrderBookMessage) -> bool:
        """Apply one diff to a synced book; False when it revealed a gap (and a restart began)."""
        u = msg.update_id
        local = self.last_update_id
        if u <= local:
            self.stats.diffs_dropped += 1
            return True
        if msg.first_update_id > local + 1:
            self.stats.gaps += 1
            self.restart(msg)
            return False
        c = msg.content
        self.order_book.apply_raw_diffs(c["bids"], c["asks"], u)
        self.last_update_id = u
        self.stats.diffs_applied += 1
        return True

    def restart(self, first: OrderBookMessage | None = None, buffered: Sequence[OrderBookMessage] = ()) -> None:
        """Discard the sync: buffer again (from ``first`` and ``buffered``) and ask for a snapshot."""
        self.stats.resyncs += 1
        self.epoch += 1
        self.state = SyncState.BUFFERING
        self.buffer = ([first] if first is not None else []) + list(buffered)
        self.needs_snapshot = True

    def on_snapshot(self, msg: OrderBookMessage) -> bool:
        """Try a REST snapshot; True when the book is now synced. A snapshot older than the
        buffered diffs counts as stale and leaves ``needs_snapshot`` set."""
        lid = msg.update_id
        if self.state is SyncState.SYNCED:
            # A refresh (periodic snapshot): only ever forward; later diffs obey the usual rules.
            if lid > self.last_update_id:
                self.order_book.apply_message(msg)
                self.last_update_id = lid
                self.stats.snapshots_applied += 1
            return True
        buffered = self.buffer
        if buffered and lid < buffered[0].first_update_id - 1:
            self.stats.stale_snapshots += 1
            self.stats.resyncs += 1
            self.needs_snapshot = True
            return False
        self.order_book.apply_message(msg)
        self.last_update_id = lid
        self.state = SyncState.SYNCED
        self.needs_snapshot = False
        self.has_synced = True
        self.stats.snapshots_applied += 1
        self.buffer = []
        for i, m in enumerate(buffered):
            if not self._apply(m):
                self.buffer.extend(buffered[i + 1 :])  # restart() put m first; keep the rest in order
                return False
        return True


class OrderBookTracker:
    """Order books of ``trading_pairs`` ("BTC-USDT") kept in sync with the venue's streams."""

    def __init__(
        self,
        config: VenueConfig,
        trading_pairs: Sequence[str],
        *,
        data_source: OrderBookTrackerDataSource | None = None,
        snapshot_limit: int = 5000,
        min_snapshot_interval_s: float = 1.0,
        first_diff_wait_s: float = 1.0,
        periodic_snapshot_s: float | None = None,
        track_trades: bool = True,
    ) -> None:
        self.config = config
        self.trading_pairs = list(trading_pairs)
        self.data_source = data_source or OrderBookTrackerDataSource(config, self.trading_pairs,
                                                                     snapshot_limit=snapshot_limit)
        self.min_snapshot_interval_s = min_snapshot_interval_s
        self.first_diff_wait_s = first_diff_wait_s
        self.periodic_snapshot_s = periodic_snapshot_s
        self.track_trades = track_trades
        self.syncs: dict[str, BookSync] = {p: BookSync(p) for p in self.trading_pairs}
        self.order_books: dict[str, OrderBook] = {p: s.order_book for p, s in self.syncs.items()}
        self.ready = asyncio.Event()  # set once every pair has been synced
        self._diffs: asyncio.Queue[OrderBookMessage] = asyncio.Queue()
        self._trades: asyncio.Queue[OrderBookMessage] = asyncio.Queue()
        self._snapshots: asyncio.Queue[OrderBookMessage] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._fetching: dict[str, asyncio.Task[None]] = {}
        self._got_diff: dict[str, asyncio.Event] = {p: asyncio.Event() for p in self.trading_pairs}
        self._last_fetch: dict[str, float] = {}
        self._trade_listeners: list[TradeListener] = []

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start listening and syncing (returns at once; await ``wait_ready`` for the books)."""
        if self._tasks:
            return
        ds = self.data_source
        spawn = asyncio.create_task
        self._tasks = [
            spawn(ds.listen_for_order_book_diffs(None, self._diffs), name="obt-diff-stream"),
            spawn(self._route_diffs(), name="obt-diff-router"),
        ]
        if self.track_trades:
            self._tasks += [spawn(ds.listen_for_trades(None, self._trades), name="obt-trade-stream"),
                            spawn(self._route_trades(), name="obt-trade-router")]
        if self.periodic_snapshot_s:
            ds.snapshot_interval_s = self.periodic_snapshot_s
            self._tasks += [spawn(self._periodic_snapshots(), name="obt-snapshot-timer"),
                            spawn(self._route_snapshots(), name="obt-snapshot-router")]
        ds.diff_connect_listeners.append(self._on_connection)
        for pair in self.trading_pairs:
            self._ensure_fetch(pair)

    async def stop(self) -> None:
        """Cancel every task and close the data source's connections."""
        with contextlib.suppress(ValueError):
            self.data_source.diff_connect_listeners.remove(self._on_connection)
        tasks = self._tasks + list(self._fetching.values())
        self._tasks = []
        self._fetching.clear()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.data_source.close()

    async def wait_ready(self, timeout: float | None = None) -> None:
        """Until every pair has been synced once (TimeoutError after ``timeout`` seconds)."""
        await asyncio.wait_for(self.ready.wait(), timeout)

    # ------------------------------------------------------------------ views
    def is_synced(self, trading_pair: str) -> bool:
        return self.syncs[trading_pair].synced

    @property
    def synced(self) -> bool:
        """Every pair's book is current right now."""
        return all(s.synced for s in self.syncs.values())

    def last_update_id(self, trading_pair: str) -> int:
        return self.syncs[trading_pair].last_update_id

    @property
    def last_update_ids(self) -> dict[str, int]:
        return {p: s.last_update_id for p, s in self.syncs.items()}

    @property
    def stats(self) -> dict[str, BookSyncStats]:
        return {p: s.stats for p, s in self.syncs.items()}

    @property
    def resyncs(self) -> int:
        """Book rebuilds after the first sync, all pairs (gaps, reconnects, stale snapshots)."""
        return sum(s.stats.resyncs for s in self.syncs.values())

    @property
    def diffs_applied(self) -> int:
        return sum(s.stats.diffs_applied for s in self.syncs.values())

    def add_trade_listener(self, listener: TradeListener) -> None:
        """Call ``listener(trade message)`` for every trade of a tracked pair."""
        self._trade_listeners.append(listener)

    def remove_trade_listener(self, listener: TradeListener) -> None:
        with contextlib.suppress(ValueError):
            self._trade_listeners.remove(listener)

    # ------------------------------------------------------------------ routing
    def _on_connection(self, connection_id: int) -> None:
        for pair, sync in self.syncs.items():
            sync.on_connection(connection_id)
            if sync.needs_snapshot:
                self._ensure_fetch(pair)

    async def _route_diffs(self) -> None:
        queue, syncs, got = self._diffs, self.syncs, self._got_diff
        while True:
            msg = await queue.get()
            while True:
                sync = syncs.get(msg.trading_pair)
                if sync is not None:
                    try:
                        sync.on_diff(msg)
                    except Exception:  # a malformed diff: the book can no longer be trusted
                        log.exception("diff %r could not be applied; resyncing %s", msg, sync.trading_pair)
                        sync.restart()
                    if sync.needs_snapshot:
                        got[sync.trading_pair].set()
                        self._ensure_fetch(sync.trading_pair)
                if queue.empty():
                    break
                msg = queue.get_nowait()

    async def _route_trades(self) -> None:
        queue = self._trades
        while True:
            msg = await queue.get()
            sync = self.syncs.get(msg.trading_pair)
            if sync is None:
                continue
            try:
                sync.order_book.apply_trade(msg)
            except Exception:
                log.exception("trade %r could not be read", msg)
                continue
            sync.stats.trades += 1
            for listener in list(self._trade_listeners):
                try:
                    listener(msg)
                except Exception:  # a listener's bug must not stop the tracker
                    log.exception("trade listener failed")

    async def _route_snapshots(self) -> None:
        while True:
            msg = await self._snapshots.get()
            sync = self.syncs.get(msg.trading_pair)
            if sync is not None and (sync.synced or sync.buffer):
                self._on_snapshot(sync, msg)

    async def _periodic_snapshots(self) -> None:
        assert self.periodic_snapshot_s
        await asyncio.sleep(self.periodic_snapshot_s)
        await self.data_source.listen_for_order_book_snapshots(None, self._snapshots)

    def _on_snapshot(self, sync: BookSync, msg: OrderBookMessage) -> None:
        sync.on_snapshot(msg)
        if sync.synced and not self.ready.is_set() and all(s.has_synced for s in self.syncs.values()):
            self.ready.set()

    # ------------------------------------------------------------------ snapshots
    def _ensure_fetch(self, pair: str) -> None:
        task = self._fetching.get(pair)
        if task is None or task.done():
            self._fetching[pair] = asyncio.create_task(self._fetch_until_synced(pair), name=f"obt-snapshot-{pair}")

    async def _fetch_until_synced(self, pair: str) -> None:
        sync = self.syncs[pair]
        ds = self.data_source
        loop = asyncio.get_running_loop()
        backoff = 0.5
        try:
            while sync.needs_snapshot:
                await ds.diff_stream_connected.wait()
                if not sync.buffer:  # a first diff lets us check the snapshot is not stale
                    got = self._got_diff[pair]
                    got.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(got.wait(), self.first_diff_wait_s)
                wait = self._last_fetch.get(pair, -1e18) + self.min_snapshot_interval_s - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                self._last_fetch[pair] = loop.time()
                epoch = sync.epoch
                try:
                    msg = await ds.get_snapshot_message(pair)
                except MarketDataError as exc:
                    sync.stats.snapshot_errors += 1
                    log.warning("snapshot of %s refused: %s", pair, exc)
                    await asyncio.sleep(exc.retry_after_s if exc.retry_after_s is not None else backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
                    sync.stats.snapshot_errors += 1
                    log.warning("snapshot of %s failed: %r", pair, exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                sync.stats.snapshots_fetched += 1
                if sync.epoch == epoch:  # else a restart happened meanwhile: fetch a newer one
                    self._on_snapshot(sync, msg)
        finally:
            if self._fetching.get(pair) is asyncio.current_task():
                del self._fetching[pair]

    def __repr__(self) -> str:
        return f"OrderBookTracker(pairs={self.trading_pairs}, synced={self.synced}, resyncs={self.resyncs})"


__all__ = ["MAX_BUFFERED_DIFFS", "BookSync", "BookSyncStats", "OrderBookTracker", "SyncState"]
