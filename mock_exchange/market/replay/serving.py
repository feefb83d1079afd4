"""Serve a replayed market from the mock server: ``mockex serve --replay FILE [--speed N]``.

``ReplayDriver`` reads a recording (any format ``open_reader`` knows) and plays it into a
running ``ExchangeState`` along the server's clock: the record received at recorded time
``t_rec`` is published at server time ``t0 + (t_rec - t_rec0) / speed`` (``t0``: when the
replay (re)started; ``t_rec``: the local receive time corrected by the recorder's clock offset,
``min(local - venue time)`` over the first records, or the venue time for files without
receive times; kept in receive order). ``speed=None``/``"max"``/0 publishes as fast as the
stream clients read: after each chunk of records the driver waits while any market-stream
connection holds more than ``DRAIN_HIGH_WATER`` bytes not yet taken by its client (queued in
the server or in the socket's send buffer); with no clients it runs at CPU speed.

Per record: depth snapshots and diffs set the recorded book in the engine (``served_symbol``,
``engine_book``); diffs, trades and bookTickers go out on the symbol's streams as recorded (the
stream hub's ``publish_frame``; the symbol is in the hub's ``external`` set while the driver
runs), with update and trade ids shifted past the users' own changes (none: unchanged) and,
unless ``keep_times``, their ``E``/``T`` times mapped onto the server clock like the schedule
(at ``max`` speed: the server's time when published). Recorded trades also feed the engine's
market data (REST trades, klines, tickers, avgPrice) and fill resting user orders through
their queue (``queue``: ``risk_averse`` default, ``prob``, ``none``); ``latency`` (a
``parse_latency`` spec, in replay time) delays a resting order's entry into its queue.

Quiet records. A recorded bookTicker of a symbol nobody subscribes to (``_quiet``) builds no
frame and its state is only noted (``ServedSymbol.defer_ticker``). The run loop does not wake up
for it either (in virtual time most wake-ups would be for these): it is played, in order, before
the next record that is not quiet, before a user event touches the symbol (``_catch_up``) and
before a first bookTicker subscriber arrives (the stream hub's ``attach_hooks``). While users'
book changes wait for ``flush_users`` the loop wakes as for every record. So nothing anyone can
see moves in time.

Only the clock and asyncio sleeps are used, so the same driver runs under the scenario
runner's virtual-time loop. A control-plane reset (a new engine) restarts the replay from its
first record; at the end the last book stays up (``done``). ``play_until`` steps the replay
synchronously (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_exchange.engine.symbols import SymbolSpec
from mock_exchange.engine.types import BookDelta, EngineError, Event, OrderUpdate, TradeEvent
from mock_exchange.market.readers import ReplayFormatError, ReplayRecord, open_reader
from mock_exchange.market.readers.base import PathArg, as_paths
from mock_exchange.market.readers.records import SYNC_OK
from mock_exchange.market.replay.feed import (
    K_DIFF,
    K_SNAPSHOT,
    K_TICKER,
    K_TRADE,
    Levels,
    diff_levels,
    parse_record,
    split_diff,
)
from mock_exchange.market.replay.latency import LatencyModel, parse_latency
from mock_exchange.market.replay.queue import QueueModel, queue_model
from mock_exchange.market.replay.replay_specs import NumberStats, inferred_spec, recorded_specs
from mock_exchange.market.replay.served_symbol import ServedSymbol
from mock_exchange.market.replay.timeline import Timeline, parse_speed, record_ms

__all__ = ["ReplayDriver", "ReplaySummary", "check_replay", "parse_speed"]

if TYPE_CHECKING:
    from mock_exchange.server.state import ExchangeState
    from mock_exchange.server.stream_hub import StreamHub
    from mock_exchange.server.stream_names import StreamSpec

log = logging.getLogger(__name__)

HEAD_RECORDS = 20_000  # records read up front: symbols, clock offset, inferred filters
CHUNK = 256  # records processed between yields to the event loop
DRAIN_HIGH_WATER = 256 * 1024  # bytes a stream client may have outstanding before ``max`` waits
DRAIN_POLL_S = 0.001
LAG_WARN_MS = 5_000
USER_FLUSH_MS = 100  # the users' book changes wait this long for a recorded diff to carry them


@dataclass
class ReplaySummary:
    """What a whole recording holds (``check_replay``): the CLI checks a file before serving."""

    paths: list[Path]
    records: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    symbols: list[str] = field(default_factory=list)
    first_ms: int = 0
    last_ms: int = 0
    damage: list[str] = field(default_factory=list)
    gaps: int = 0

    @property
    def span_s(self) -> float:
        return max(0, self.last_ms - self.first_ms) / 1000


def check_replay(paths: PathArg | Sequence[PathArg]) -> ReplaySummary:
    """Read every record (strict): a ReplayFormatError names the file and line of the first bad
    one. Damage to a compressed file is not an error: the good part is kept, ``damage`` says so."""
    files = as_paths(paths)
    reader = open_reader(files)
    out = ReplaySummary(files)
    seen: dict[str, None] = {}
    for rec in reader:
        out.records += 1
        out.kinds[rec.kind] += 1
        if rec.symbol not in seen:
            seen[rec.symbol] = None
        t = record_ms(rec)
        if t is not None:
            if not out.first_ms:
                out.first_ms = t
            if t > out.last_ms:
                out.last_ms = t
    out.symbols = list(seen)
    out.damage = [str(e) for e in reader.damage]
    out.gaps = len(reader.gaps)
    return out


class ReplayDriver:
    """Plays a recording into ``state`` along its clock (see the module docstring).

    ``path``: one file or several of one format read as one recording (a cryptofeed ws file
    with its http file, and ``BINANCE.0`` for its exchangeInfo). ``speed``: times real time,
    or ``"max"``/0/None. ``symbols``: serve only these (default: every symbol in the first
    ``HEAD_RECORDS`` records). ``queue``: a queue model or its name. ``seed``: the entry
    latency's random stream. ``latency``: entry latency of resting orders into their queue
    (replay-time ms, a number or a ``parse_latency`` spec). ``keep_times``: publish ``E``/``T``
    as recorded instead of on the server clock. ``poll_ms``: the longest sleep between clock
    checks (a reset or a stopped clock is noticed within it).

    Progress: ``position_ms`` (recorded time of the last record played, on the corrected
    recording timeline), ``start_ms`` (of the first record), ``records``, ``frames``,
    ``done`` (every record played), ``error`` (a ReplayFormatError met mid-file; the replay
    then stops there), ``restarts`` (control-plane resets).
    """

    def __init__(
        self,
        state: ExchangeState,
        path: PathArg | Sequence[PathArg],
        speed: float | int | str | Fraction | None = 1.0,
        symbols: Sequence[str] | None = None,
        queue: str | QueueModel = "risk_averse",
        seed: int = 1,
        *,
        latency: float | str | LatencyModel = 0.0,
        keep_times: bool = False,
        poll_ms: int = 50,
    ) -> None:
        self.state = state
        self.paths = as_paths(path)
        self.speed = parse_speed(speed)
        self.queue = queue_model(queue)
        self.seed = seed
        self.latency = parse_latency(latency)
        self.keep_times = keep_times
        self.poll_ms = max(1, poll_ms)
        self._reader = open_reader(self.paths)
        self._clock_offset = 0
        self._tickers: set[str] = set()
        found = self._read_head()
        wanted = [s.upper() for s in symbols] if symbols else found
        self.symbols: list[str] = list(dict.fromkeys(wanted))
        known = recorded_specs(self.paths)
        self._specs: dict[str, SymbolSpec] = {s: known[s] for s in self.symbols if s in known}  # more: ``_spec``
        self.position_ms = self.start_ms
        self.records = 0
        self.frames = 0
        self.skipped = 0
        self.done = False
        self.error: ReplayFormatError | None = None
        self.restarts = 0
        self.served: dict[str, ServedSymbol] = {}
        self._engine: Any = None
        self._hub: StreamHub | None = None
        self._listening = False
        self._own = False
        self._tickers_due = False
        self._timeline = Timeline(self._reader, self._clock_offset, self.start_ms, self.speed)
        self._playing = False
        self._entry: Callable[[], int] = lambda: 0

    # ------------------------------------------------------------------ setup
    def _read_head(self) -> list[str]:
        """Symbols and the recorder's clock offset, from the first records."""
        found: dict[str, None] = {}
        offset: int | None = None
        first: int | None = None
        for n, rec in enumerate(self._reader):
            if n >= HEAD_RECORDS:
                break
            sym = rec.symbol
            if sym not in found:
                found[sym] = None
            if rec.kind == "book_ticker":
                self._tickers.add(sym)
            if rec.local_ns is not None and rec.venue_ms is not None:
                d = rec.local_ns // 1_000_000 - rec.venue_ms
                offset = d if offset is None or d < offset else offset
            if first is None:
                first = record_ms(rec)
        self._clock_offset = offset or 0
        self.start_ms = (first or 0) - (self._clock_offset if first is not None else 0)
        return list(found)

    def _spec(self, symbol: str) -> SymbolSpec:
        """The spec a symbol the engine does not know is added with: the recording's own, else
        filters inferred from the numbers of its first records (read again only here: a server
        usually knows its symbols, and reading them costs a third of opening a recording)."""
        spec = self._specs.get(symbol)
        if spec is None:
            stats = NumberStats()
            for n, rec in enumerate(open_reader(self.paths)):
                if n >= HEAD_RECORDS:
                    break
                if rec.symbol == symbol:
                    with contextlib.suppress(KeyError, ValueError, TypeError, IndexError):
                        stats.observe(rec)  # a bad payload is reported by the replay, with its line
            spec = self._specs[symbol] = inferred_spec(symbol, stats)
        return spec

    def start(self) -> None:
        """(Re)start on the state's current engine (``run`` and ``play_until`` do it when needed)."""
        self._begin()

    def _begin(self) -> None:
        """(Re)start on the state's current engine: specs, a clean book, the first record."""
        state = self.state
        engine = state.engine
        for sym in self.symbols:
            if sym not in engine.symbols:
                engine.add_symbol(copy.deepcopy(self._spec(sym)))
        self._hub = None
        self._find_hub()  # claim the symbols' streams first: the clean-up below is not published
        for sym in self.symbols:  # whatever rests there (the default market's seeded book) goes
            for acct in list(engine.accounts):
                with contextlib.suppress(EngineError):
                    engine.cancel_all(acct, sym)
        state.publish()
        self._engine = engine
        self.served = {s: ServedSymbol(engine, s, self.queue) for s in self.symbols}
        if not self._listening:
            state.listeners.append(self._on_events)
            self._listening = True
        sampler = self.latency.sampler(random.Random(self.seed))
        self._entry = lambda: sampler() // 1_000_000
        self._timeline.restart(state.base_clock())
        self.position_ms = self.start_ms
        self.records = self.frames = self.skipped = 0
        self.done = False
        self.error = None
        for served in self.served.values():
            served.track_open_orders(self.position_ms, self._entry)

    def _end(self) -> None:
        if self._listening:
            with contextlib.suppress(ValueError):
                self.state.listeners.remove(self._on_events)
            self._listening = False
        if self._hub is not None:
            self._release(self._hub)
            self._hub = None

    def _find_hub(self) -> StreamHub | None:
        """The server's stream hub (it listens to the state's events), with our symbols claimed."""
        from mock_exchange.server.stream_hub import StreamHub

        for listener in self.state.listeners:
            hub = getattr(listener, "__self__", None)
            if isinstance(hub, StreamHub) and hub.state is self.state:
                if hub is not self._hub:
                    if self._hub is not None:
                        self._release(self._hub)
                    hub.external.update(self.symbols)
                    hub.attach_hooks.append(self._on_attach)
                    self._hub = hub
                return hub
        self._hub = None
        return None

    def _release(self, hub: StreamHub) -> None:
        hub.external.difference_update(self.symbols)
        with contextlib.suppress(ValueError):
            hub.attach_hooks.remove(self._on_attach)

    def _listens(self, symbol: str) -> bool:
        """Does anyone subscribe to ``symbol``'s bookTicker (else its recorded ones are deferred)?"""
        hub = self._hub
        if hub is None:
            return False
        feed = hub.feeds.get(symbol)
        return feed is not None and feed.book is not None

    def _quiet(self, rec: ReplayRecord) -> bool:
        """A record whose playing nobody can see at its time: a bookTicker nobody subscribes to
        (``defer_ticker``) or a symbol not served. The run loop does not wake for these; they are
        played, in order, before the next record or user event that could see their effect."""
        if rec.symbol not in self.served:
            return True
        return rec.kind == "book_ticker" and not self._listens(rec.symbol)

    # ------------------------------------------------------------------ time
    @property
    def t0(self) -> int:
        """Server time the replay (re)started at."""
        return self._timeline.t0

    def server_time(self, recorded_ms: int) -> int:
        """When (server clock, unskewed) the record at ``recorded_ms`` is due."""
        return self._timeline.due(recorded_ms)

    def replay_now(self) -> int:
        """The recording's time the server's clock stands at now (the last record's at ``max``)."""
        if self.speed is None:
            return self.position_ms
        d = (self.state.base_clock() - self.t0) * self.speed.numerator // self.speed.denominator
        return max(self.position_ms, self.start_ms + d)

    def _stamp(self, venue_ms: int) -> int:
        """A recorded venue time (E, T) as the server publishes it."""
        if self.speed is None:
            return self.state.clock()
        return self.server_time(venue_ms) + self.state.clock_skew_ms

    # ------------------------------------------------------------------ stepping
    def _peek(self) -> ReplayRecord | None:
        rec = self._timeline.peek()
        if rec is None and self._timeline.read_error is not None and self.error is None:
            self.error = self._timeline.read_error
            log.error("replay stopped: %s", self.error)
        return rec

    def play_until(self, server_ms: int | None = None, budget: int = 1 << 62) -> int:
        """Play every record due by ``server_ms`` (None: regardless of time), at most ``budget``;
        returns how many were played."""
        if self._engine is None or self.state.engine is not self._engine:
            if self._engine is not None:
                self.restarts += 1
            self._begin()
        n = self._play(server_ms, budget, False)
        self.flush_users(self.state.base_clock() if server_ms is None else server_ms)
        return n

    def _play(self, server_ms: int | None, budget: int, quiet_only: bool) -> int:
        n = 0
        timeline = self._timeline
        before = None if server_ms is None else timeline.due_before(server_ms)
        self._playing = True
        try:
            while n < budget:
                rec = timeline.head
                if rec is None and (rec := self._peek()) is None:
                    self.done = True
                    break
                if before is not None and timeline.head_t >= before:
                    break
                if quiet_only and not self._quiet(rec):
                    break
                self.position_ms = timeline.pop()
                try:
                    self._process(rec)
                except ReplayFormatError as exc:
                    log.error("replay stopped: %s", exc)
                    self.error = exc
                    self.done = True
                    break
                n += 1
        finally:
            self._playing = False
        if n and self.speed is not None:
            timeline.anchor = timeline.due(self.position_ms)  # the per-record schedule woke here
        self.records += n
        return n

    def _catch_up(self) -> None:
        """Play the quiet records already due, before a user event or a new subscriber could see
        that they were not played at their time."""
        if self._playing or self.speed is None or self._engine is None or self.state.engine is not self._engine:
            return
        self._play(self.state.base_clock(), 1 << 62, True)

    def flush_users(self, server_ms: int) -> None:
        """Publish users' book changes that no recorded diff carried within ``USER_FLUSH_MS``
        (at once when the recording is over) as diffs of their own."""
        skew = self.state.clock_skew_ms
        for sym in self.served.values():
            since = sym.pending_since
            if since is None or (not self.done and server_ms + skew - since < USER_FLUSH_MS):
                continue
            frame = sym.user_frame(server_ms + skew)
            if frame is not None:
                self._frame(sym.symbol, "depth", frame[0], frame[1])

    def next_due(self) -> int | None:
        """Server time the next record is due at (None when the replay is over)."""
        return None if self._peek() is None else self._timeline.due(self._timeline.head_t)

    def _plan(self, now: int) -> int:
        """When (server time) the run loop wakes next: as if it woke per record, but not for
        quiet records (``_quiet``) while no users' book changes wait for ``flush_users`` (whose
        timing must not move)."""
        hub = self._hub
        served = self.served
        every = hub is None or any(sym.pending_since is not None for sym in served.values())
        listened = () if hub is None else [s for s in served if self._listens(s)]
        return self._timeline.plan(now, self.poll_ms, every, served, listened)

    async def run(self) -> None:
        """Play along the server's clock until cancelled (restarting after a reset)."""
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the replay stopped")
            raise
        finally:
            self._end()

    async def _run(self) -> None:
        state = self.state
        if self._engine is None:
            self._begin()
        lagging = False
        while True:
            if state.engine is not self._engine:
                log.info("exchange reset: restarting the replay")
            if self._hub is None:
                self._find_hub()
            if self.done and state.engine is self._engine:
                self.flush_users(state.base_clock())
                await asyncio.sleep(self.poll_ms / 1000)
                continue
            if self.speed is None:
                self.play_until(None, CHUNK)
                await self._drain()
                continue
            now = state.base_clock()
            if self.play_until(now, CHUNK) >= CHUNK:
                due = self.next_due()
                lag = now - due if due is not None else 0
                if lag > LAG_WARN_MS and not lagging:
                    log.warning("replay is %.1f s behind the clock", lag / 1000)
                lagging = lag > LAG_WARN_MS
                await asyncio.sleep(0)
                continue
            await self._timeline.sleep_until(self._plan(now), state.base_clock())

    def _replan(self) -> None:
        """Wake the sleeping run loop earlier if what it sleeps past is now visible (a new
        bookTicker subscriber, users' book changes to flush)."""
        if self._timeline.asleep:
            now = self.state.base_clock()
            self._timeline.wake_earlier(self._plan(now), now)

    def _on_attach(self, spec: StreamSpec) -> None:
        """Stream hub hook: the first subscriber of ``spec`` arrives. Our bookTickers there stop
        being quiet: play the ones already due (unseen, as they were due before it came), then
        wake for the next."""
        if spec.kind == "bookTicker" and spec.symbol in self.served:
            self._catch_up()
            with contextlib.suppress(RuntimeError):  # no loop: no run loop asleep either
                asyncio.get_running_loop().call_soon(self._replan)  # once the subscription is in place

    async def _drain(self) -> None:
        """At ``max`` speed: wait while a stream client has too much unread."""
        hub = self._hub
        while hub is not None and self.state.engine is self._engine and _backlog(hub) > DRAIN_HIGH_WATER:
            await asyncio.sleep(DRAIN_POLL_S)
        await asyncio.sleep(0)

    # ------------------------------------------------------------------ one record
    def _process(self, rec: ReplayRecord) -> None:
        sym = self.served.get(rec.symbol)
        if sym is None:
            self.skipped += 1
            return
        kind = rec.kind
        if sym.arrivals:
            sym.activate(self.position_ms)
        levels: tuple[Levels, Levels] | None = None
        parsed: tuple[int, Any] | None
        try:
            if kind == "depth_diff":  # as parse_record, keeping the parsed rows for depth_frame
                p = rec.payload
                levels = diff_levels(p) if rec.sync == SYNC_OK else None
                data: Any = None if levels is None else split_diff(p["U"], p["u"], *levels)
                parsed = None if data is None else (K_DIFF, data)
            else:
                parsed = parse_record(rec)
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise _bad(rec, f"cannot use {kind} payload: {exc!r}") from exc
        if parsed is not None and parsed[0] == K_TICKER:
            self._tickers.add(sym.symbol)
            u, b, bq, a, aq = parsed[1]
            if self._listens(sym.symbol):
                stamp = None if self.keep_times else self._stamp
                self._frame(sym.symbol, "bookTicker", sym.ticker_frame(rec.payload, (b, bq, a, aq), u, stamp))
            else:  # nobody would get the frame: keep only what the next ones need
                self.frames += 1
                sym.defer_ticker(u, (b, bq, a, aq))
            return
        if sym.deferred is not None:
            sym.settle_ticker()
        state = self.state
        now = state.clock()
        stamp = None if self.keep_times else self._stamp
        if kind == "depth_diff":
            diff = parsed[1] if parsed is not None and sym.loaded else None
            if diff is not None and sym.apply_diff(diff, now):
                sym.finish(now)
            state.publish()
            first, last = rec.first_update_id or 0, rec.last_update_id or 0
            payload, delta = sym.depth_frame(rec.payload, first, last, diff, stamp, now, levels)
            applied = diff is not None
            if applied:
                self._emit_events([delta])
            self._frame(sym.symbol, "depth", payload, delta)
            if applied and sym.symbol not in self._tickers:
                self._derived_ticker(sym)
        elif parsed is None:
            return  # kline, partial depth, a snapshot that cannot anchor
        elif parsed[0] == K_SNAPSHOT:
            last_id, bids, asks, bridge = parsed[1]
            if sym.load(last_id, bids, asks, bridge, now):
                sym.finish(now)
            state.publish()
            self._emit_events([sym.load_delta(now)])
            if sym.symbol not in self._tickers:
                self._derived_ticker(sym)
        elif parsed[0] == K_TRADE:
            price, qty, buyer_maker, tid = parsed[1]
            is_agg = kind == "agg_trade"
            if not is_agg:
                sym.raw_trades = True
            elif sym.raw_trades:  # aggregates of trades already played: publish only
                self._frame(sym.symbol, "aggTrade", rec.payload)
                return
            payload, pub = sym.trade_frame(rec.payload, tid, stamp)
            t = payload.get("T")
            sym.book.record_trade(pub, price, qty, t if type(t) is int else now, buyer_maker)
            self._frame(sym.symbol, "aggTrade" if is_agg else "trade", payload, derive_aggs=not is_agg)
            if sym.on_trade(price, qty, buyer_maker, now) or sym.st.trade_hi:
                sym.finish(now)
            state.publish()

    def _derived_ticker(self, sym: ServedSymbol) -> None:
        payload = sym.derived_ticker()
        if payload is not None:
            self._frame(sym.symbol, "bookTicker", payload)

    def _frame(self, symbol: str, kind: str, payload: dict[str, Any], delta: BookDelta | None = None,
               derive_aggs: bool = False) -> None:  # fmt: skip
        self.frames += 1
        hub = self._hub
        if hub is not None:
            hub.publish_frame(symbol, kind, payload, delta, derive_aggs)

    def _emit_events(self, events: list[Event]) -> None:
        """Hand the replay's own engine-level events (book changes) to the state's listeners."""
        self._own = True
        try:
            for listener in list(self.state.listeners):
                listener(events)
        finally:
            self._own = False

    # ------------------------------------------------------------------ the users' events
    def _on_events(self, events: list[Event]) -> None:
        """State listener: the engine's events of replayed symbols (user orders and fills)."""
        if self._own or self.state.engine is not self._engine:
            return
        served = self.served
        hit: dict[str, ServedSymbol] = {}
        for ev in events:
            if isinstance(ev, OrderUpdate):
                name = ev.order.symbol
            elif isinstance(ev, BookDelta | TradeEvent):
                name = ev.symbol
            else:
                continue
            sym = served.get(name)
            if sym is not None:
                if name not in hit:  # the state the replay left must be complete before users change it
                    self._catch_up()
                    sym.settle_ticker()
                    hit[name] = sym
                sym.note(ev)
        pending = False
        for sym in hit.values():
            if sym.has_touched:
                sym.sync_orders(self.replay_now(), self._entry)
            if sym.top_dirty and not self._tickers_due:
                self._tickers_due = True
                try:
                    asyncio.get_running_loop().call_soon(self._user_tickers)
                except RuntimeError:
                    self._user_tickers()
            pending = pending or sym.pending_since is not None
        if pending:
            self._replan()

    def _user_tickers(self) -> None:
        self._tickers_due = False
        if self.state.engine is not self._engine:
            return
        for sym in self.served.values():
            sym.settle_ticker()
            if sym.top_dirty:
                payload = sym.user_ticker()
                if payload is not None:
                    self._frame(sym.symbol, "bookTicker", payload)


def _backlog(hub: StreamHub) -> int:
    """The most any stream connection has queued or unsent (bytes)."""
    most = 0
    for c in hub.conns:
        n = c.out_size + c.transport.get_write_buffer_size()
        if n > most:
            most = n
    return most


def _bad(rec: ReplayRecord, reason: str) -> ReplayFormatError:
    path, sep, line = rec.source.rpartition(":")
    if sep and line.isdigit():
        return ReplayFormatError(path, int(line), reason)
    return ReplayFormatError(rec.source or "<records>", 0, reason)
