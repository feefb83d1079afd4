"""The market-stream hub: engine events and timers in, ready-made WebSocket frames out.

Why it looks like this:
* A stream's frame is built and serialised once per event, then the same bytes are handed to
  every subscriber. Subscribers of a channel are grouped by their framing (raw or combined,
  ms or µs), so there is no per-subscriber JSON work; the combined envelope is two byte
  strings around the cached data.
* Frames are complete WebSocket text frames (header + payload), queued per connection and
  written with one ``transport.write`` per connection per flush (at most one flush per
  ``FLUSH_INTERVAL_S``). Control frames (ping, pong, close) still go through aiohttp, which
  writes them synchronously and whole, so the two never interleave inside a frame.
* Depth diffs and bookTicker follow the engine's BookDeltas through ``stream_book`` (diff
  accumulators and a book mirror), so they share the engine's update-id sequence exactly.
* A connection whose socket cannot keep up gets a bounded queue and is then dropped, so one
  slow reader never grows the server's memory or delays the others.
* Faults (``state.faults``): ``skip_depth`` withholds diff frames at the tick (ids still
  advance, so subscribers see the gap), ``stall_streams`` keeps stalled connections' frames
  queued in ``flush`` until the stall ends; ``abort`` serves ``drop_streams``.
* A market source that owns a symbol's public frames (the replay: recorded payloads and ids,
  ``mock_exchange.market.replay.serving``) puts it in ``external`` and hands its frames to
  ``publish_frame``; the engine's BookDeltas of that symbol are then not turned into frames
  (the source merges them into its own). Trades the users make still print as usual.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from mock_exchange.engine.types import BookDelta, Event, TradeEvent
from mock_exchange.server import stream_names as N
from mock_exchange.server import stream_payloads as P
from mock_exchange.server.stream_book import BookMirror, DiffAcc
from mock_exchange.server.stream_faults import hold_stalled
from mock_exchange.server.stream_names import StreamSpec

if TYPE_CHECKING:
    from mock_exchange.engine import Engine
    from mock_exchange.server.state import ExchangeState

log = logging.getLogger("mockex.streams")

dumps = orjson.dumps
_H16 = struct.Struct("!BBH").pack
_H64 = struct.Struct("!BBQ").pack

TICK_S = 0.1  # the 100 ms cadence; every other cadence is a multiple of it
HIGH_WATER = 1 << 20  # bytes buffered in the socket's transport before we hold frames back
MAX_PENDING = 8 << 20  # bytes held back per connection before it is dropped as too slow
RETRY_S = 0.005
# Frames are written at most once per FLUSH_INTERVAL_S per connection: one send() per
# connection per interval instead of one per loop iteration, which is what fan-out to many
# clients costs (each send on loopback wakes a reader). Adds at most this much latency.
FLUSH_INTERVAL_S = 0.001
COMBINED_BIT, MICRO_BIT = 1, 2


def text_frame(data: bytes) -> bytes:
    """A complete, unmasked, final WebSocket text frame carrying ``data`` (UTF-8 JSON)."""
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 65536:
        return _H16(0x81, 126, n) + data
    return _H64(0x81, 127, n) + data


class Conn:
    """One stream connection as the hub sees it: framing flags, subscriptions, output queue."""

    __slots__ = (
        "hub", "transport", "combined", "micro", "names", "out", "out_size", "dirty", "closed", "pings",
        "recent", "closer",
    )  # fmt: skip

    def __init__(self, hub: StreamHub, transport: asyncio.Transport, combined: bool, micro: bool) -> None:
        self.hub = hub
        self.transport = transport
        self.combined = combined
        self.micro = micro
        # Subscription name -> its Channel, or the detach function of a listenKey stream.
        self.names: dict[str, Channel | Callable[[], None]] = {}
        self.out: list[bytes] = []
        self.out_size = 0
        self.dirty = False
        self.closed = False
        self.pings: list[tuple[bytes, float]] = []  # unanswered pings: (payload, loop time sent)
        self.recent: list[float] = []  # loop times of the latest incoming messages
        # Asks the connection's owner (the aiohttp handler) to close with (code, reason).
        self.closer: Callable[[int, str], None] | None = None

    @property
    def group(self) -> int:
        return (COMBINED_BIT if self.combined else 0) | (MICRO_BIT if self.micro else 0)

    def push(self, frame: bytes) -> None:
        hub = self.hub
        if hub.latency_s:
            hub.delay(self, frame)
            return
        state = hub.state
        state.frames_out += 1
        if state.stream_taps:
            hub.tap(self, frame)
        self.out.append(frame)
        self.out_size += len(frame)
        if not self.dirty:
            self.dirty = True
            self.hub.mark(self)

    def send_json(self, body: Any) -> None:
        """Queue a control reply (in order with the data frames already queued)."""
        self.push(text_frame(dumps(body)))


class Channel:
    """One stream name and its subscribers, grouped by framing (raw/combined x ms/µs)."""

    __slots__ = ("name", "spec", "groups", "prefix", "memo")

    def __init__(self, spec: StreamSpec) -> None:
        self.name = spec.name
        self.spec = spec
        self.groups: tuple[dict[Conn, None], ...] = ({}, {}, {}, {})
        self.prefix = b'{"stream":' + dumps(spec.name) + b',"data":'
        self.memo: Any = None  # per-kind state: kline (open, closed), all-market last stats

    def __len__(self) -> int:
        return sum(len(g) for g in self.groups)

    def emit(self, payload: Any, data: bytes | None = None) -> None:
        """Serialise ``payload`` once per framing in use and queue it for every subscriber."""
        g0, g1, g2, g3 = self.groups
        if data is None:
            data = dumps(payload)
        if g0:
            _fan(g0, text_frame(data))
        if g1:
            _fan(g1, text_frame(self.prefix + data + b"}"))
        if g2 or g3:
            micro = P.to_micro(payload)
            data_us = data if micro is payload else dumps(micro)
            if g2:
                _fan(g2, text_frame(data_us))
            if g3:
                _fan(g3, text_frame(self.prefix + data_us + b"}"))


def _fan(group: dict[Conn, None], frame: bytes) -> None:
    """Queue ``frame`` for every connection of a (non-empty) group."""
    hub = next(iter(group)).hub
    if hub.latency_s:
        for c in group:
            hub.delay(c, frame)
        return
    n = len(frame)
    for c in group:
        c.out.append(frame)
        c.out_size += n
        if not c.dirty:
            c.dirty = True
            hub.mark(c)
    state = hub.state
    state.frames_out += len(group)
    if state.stream_taps:
        for c in group:
            hub.tap(c, frame)


class SymbolFeed:
    """The event-driven channels of one symbol and the state they need."""

    __slots__ = (
        "symbol", "known", "base_prec", "quote_prec", "trade", "agg", "book", "diffs", "mirror",
        "last_bt", "last_agg", "traded",
    )  # fmt: skip

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.known = False
        self.base_prec = self.quote_prec = 8
        self.trade: Channel | None = None
        self.agg: Channel | None = None
        self.book: Channel | None = None
        self.diffs: dict[int, DiffAcc] = {}
        self.mirror: BookMirror | None = None
        self.last_bt: tuple[int, int, int, int] | None = None
        self.last_agg = 0
        self.traded = False  # scratch flag of one event batch

    @property
    def empty(self) -> bool:
        return self.trade is None and self.agg is None and self.book is None and not self.diffs

    def bind(self, engine: Engine) -> None:
        """(Re)derive everything taken from the engine (on creation and after a reset)."""
        spec = engine.symbols.get(self.symbol)
        self.known = spec is not None
        if spec is not None:
            self.base_prec, self.quote_prec = spec.base_asset_precision, spec.quote_asset_precision
        for acc in self.diffs.values():
            acc.clear()
        self.bind_book(engine)
        self.bind_agg(engine)

    def bind_book(self, engine: Engine) -> None:
        if self.book is not None and self.known:
            self.mirror = BookMirror(engine, self.symbol)
            self.last_bt = self.mirror.best()
        else:
            self.mirror = None
            self.last_bt = None

    def bind_agg(self, engine: Engine) -> None:
        last = engine.market_data.agg_trades(self.symbol, limit=1) if self.known else []
        self.last_agg = last[-1].agg_id if last else 0


class StreamHub:
    """All stream connections and channels of one app; the engine listener and the timers."""

    def __init__(self, state: ExchangeState) -> None:
        self.state = state
        self.faults = state.faults
        self.engine = state.engine
        self.conns: set[Conn] = set()
        self.channels: dict[str, Channel] = {}
        self.feeds: dict[str, SymbolFeed] = {}
        self.periodic: dict[str, Channel] = {}
        self.dirty: list[Conn] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self._flush_handle: asyncio.Handle | None = None
        self._last_flush = 0.0
        self.flush_interval = FLUSH_INTERVAL_S
        self.high_water = HIGH_WATER
        self.max_pending = MAX_PENDING
        self.dropped_slow = 0
        self.stalled: list[Conn] = []  # dirty connections held back by a stall_streams fault
        # Market-data latency (a scenario's ``latency.market_data``): frames wait this long.
        self.latency_s = state.config.market_data_latency_ms / 1000
        self._conn_numbers: dict[Conn, int] = {}  # journal numbering of connections (stream taps)
        self._late: deque[tuple[float, Conn, bytes]] = deque()
        self._late_handle: asyncio.TimerHandle | None = None
        self.external: set[str] = set()  # symbols whose depth/bookTicker frames a market source publishes
        # Called with a stream's spec when its first subscriber arrives, before the channel exists
        # (a market source that skips frames nobody subscribes to catches up there).
        self.attach_hooks: list[Callable[[StreamSpec], None]] = []
        self._stall_handle: asyncio.TimerHandle | None = None

    def delay(self, conn: Conn, frame: bytes) -> None:
        """Queue ``frame`` for ``conn`` after ``latency_s`` (a scenario's market-data latency);
        one FIFO and one timer keep frames in order (equal-time timers are not ordered)."""
        loop = self.loop or asyncio.get_running_loop()
        self._late.append((loop.time() + self.latency_s, conn, frame))
        if self._late_handle is None:
            self._late_handle = loop.call_at(self._late[0][0], self._release_late)

    def _release_late(self) -> None:
        self._late_handle = None
        loop = self.loop or asyncio.get_running_loop()
        now, late = loop.time(), self._late
        latency, self.latency_s = self.latency_s, 0.0
        try:
            while late and late[0][0] <= now:
                _, conn, frame = late.popleft()
                if not conn.closed:
                    conn.push(frame)
        finally:
            self.latency_s = latency
        if late:
            self._late_handle = loop.call_at(late[0][0], self._release_late)

    def tap(self, conn: Conn, frame: bytes) -> None:
        """Show one outgoing frame (its JSON text) to the state's stream taps."""
        n = frame[1] & 0x7F
        text = frame[2 + (2 if n == 126 else 8 if n == 127 else 0):].decode()
        number = self._conn_numbers.setdefault(conn, len(self._conn_numbers) + 1)  # stable across reruns
        for tap in self.state.stream_taps:
            tap("stream_out", {"conn": number, "text": text})

    # ------------------------------------------------------------------ connections
    def open(self, transport: asyncio.Transport, combined: bool, micro: bool) -> Conn:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        conn = Conn(self, transport, combined, micro)
        self.conns.add(conn)
        return conn

    def close(self, conn: Conn) -> None:
        """Forget ``conn``: leave every channel, detach listenKey streams (idempotent)."""
        conn.closed = True
        conn.out.clear()
        conn.out_size = 0
        for name in list(conn.names):
            self.unsubscribe(conn, name)
        self.conns.discard(conn)

    def set_combined(self, conn: Conn, combined: bool) -> None:
        old = conn.group
        conn.combined = combined
        new = conn.group
        if old != new:
            for target in conn.names.values():
                if isinstance(target, Channel):
                    del target.groups[old][conn]
                    target.groups[new][conn] = None

    # ------------------------------------------------------------------ subscriptions
    def subscribe(self, conn: Conn, spec: StreamSpec) -> None:
        if spec.name in conn.names:
            return
        self._check_engine()
        ch = self.channels.get(spec.name)
        if ch is None:
            for hook in list(self.attach_hooks):
                hook(spec)
            ch = self.channels[spec.name] = Channel(spec)
            self._attach(ch)
        ch.groups[conn.group][conn] = None
        conn.names[spec.name] = ch

    def attach_user(self, conn: Conn, name: str, detach: Callable[[], None]) -> None:
        conn.names[name] = detach

    def unsubscribe(self, conn: Conn, name: str) -> None:
        target = conn.names.pop(name, None)
        if target is None:
            return
        if not isinstance(target, Channel):
            try:
                target()
            except Exception:
                log.exception("detaching listenKey stream %s", name)
            return
        for g in target.groups:
            g.pop(conn, None)
        if not len(target):
            del self.channels[name]
            self._detach(target)

    def _attach(self, ch: Channel) -> None:
        spec = ch.spec
        if spec.kind not in N.EVENT_DRIVEN:
            if not spec.silent and spec.kind != N.BLOCK_TRADE:
                self.periodic[ch.name] = ch
            return
        if spec.silent:
            return
        feed = self.feeds.get(spec.symbol)
        new = feed is None
        if feed is None:
            feed = self.feeds[spec.symbol] = SymbolFeed(spec.symbol)
            feed.bind(self.engine)
        if spec.kind == N.TRADE:
            feed.trade = ch
        elif spec.kind == N.AGG_TRADE:
            feed.agg = ch
            if not new:
                feed.bind_agg(self.engine)
        elif spec.kind == N.BOOK_TICKER:
            feed.book = ch
            feed.bind_book(self.engine)
        else:
            feed.diffs[spec.speed_ms] = DiffAcc(ch)

    def _detach(self, ch: Channel) -> None:
        spec = ch.spec
        self.periodic.pop(ch.name, None)
        feed = self.feeds.get(spec.symbol) if spec.kind in N.EVENT_DRIVEN else None
        if feed is None:
            return
        if feed.trade is ch:
            feed.trade = None
        elif feed.agg is ch:
            feed.agg = None
        elif feed.book is ch:
            feed.book = None
            feed.mirror = None
            feed.last_bt = None
        elif spec.kind == N.DIFF_DEPTH and feed.diffs.get(spec.speed_ms) is not None:
            del feed.diffs[spec.speed_ms]
        if feed.empty:
            del self.feeds[spec.symbol]

    def _check_engine(self) -> None:
        """After a control-plane reset the state holds a new engine: rebind everything to it."""
        engine = self.state.engine
        if engine is self.engine:
            return
        self.engine = engine
        for feed in self.feeds.values():
            feed.bind(engine)
        for ch in self.periodic.values():
            ch.memo = None
        # Update ids restart with the new book: a client following the venue's procedure would
        # ignore every later diff (u < its local id) without noticing. Close the connections
        # that carry update ids (diff depth, bookTicker) so their clients resynchronise.
        for conn in list(self.conns):
            if conn.closer is not None and any(
                isinstance(t, Channel) and t.spec.kind in (N.DIFF_DEPTH, N.BOOK_TICKER) for t in conn.names.values()
            ):
                conn.closer(1012, "Service restart")

    # ------------------------------------------------------------------ engine events
    def on_events(self, events: list[Event]) -> None:
        """The ``state.listeners`` callback: never raises into the REST request that published."""
        try:
            self._on_events(events)
        except Exception:
            log.exception("stream hub failed on an event batch")

    def _on_events(self, events: list[Event]) -> None:
        self._check_engine()
        feeds = self.feeds
        if not feeds:
            return
        now = self.state.clock()
        traded: list[SymbolFeed] = []
        batch: list[Any] = events  # narrowed by exact type below (type() is cheaper than isinstance)
        for ev in batch:
            t = type(ev)
            if t is TradeEvent:
                f = feeds.get(ev.symbol)
                if f is None:
                    continue
                if f.trade is not None:
                    f.trade.emit(P.trade(ev, now, f.base_prec, f.quote_prec))
                if f.agg is not None and not f.traded:
                    f.traded = True
                    traded.append(f)
            elif t is BookDelta:
                f = feeds.get(ev.symbol)
                if f is None or ev.symbol in self.external:
                    continue
                for acc in f.diffs.values():
                    acc.add(ev)
                m = f.mirror
                if m is not None and f.book is not None and ev.last_update_id > m.update_id:
                    m.apply(ev)
                    best = m.best()
                    if best != f.last_bt:
                        f.last_bt = best
                        f.book.emit(P.book_ticker(ev.last_update_id, f.symbol, best))
        for f in traded:
            f.traded = False
            self._emit_aggs(f, now)

    def publish_frame(self, symbol: str, kind: str, payload: dict[str, Any], delta: BookDelta | None = None,
                      derive_aggs: bool = False) -> None:  # fmt: skip
        """Emit a frame built by a market source for an ``external`` symbol: ``kind`` is
        ``depth`` (the 100 ms diff as given; ``delta`` feeds the slower diff speeds), ``bookTicker``,
        ``trade`` (``derive_aggs``: aggTrades from the engine's market data follow) or ``aggTrade``."""
        try:
            self._check_engine()
            f = self.feeds.get(symbol)
            if f is None:
                return
            if kind == "depth":
                skip = self.faults.skip_depth
                for speed, acc in f.diffs.items():
                    if speed != 100:
                        if delta is not None:
                            acc.add(delta)
                    elif not (skip and symbol in skip and self.faults.skip_diff(
                            symbol, speed, f.diffs.keys(), payload["U"], payload["u"])):  # fmt: skip
                        acc.channel.emit(payload)
            elif kind == "bookTicker":
                if f.book is not None:
                    f.book.emit(payload)
            elif kind == "trade":
                if f.trade is not None:
                    f.trade.emit(payload)
                if derive_aggs and f.agg is not None:
                    self._emit_aggs(f, self.state.clock())
            elif kind == "aggTrade" and f.agg is not None:
                f.agg.emit(payload)
        except Exception:
            log.exception("stream hub failed on a %s frame of %s", kind, symbol)

    def _emit_aggs(self, f: SymbolFeed, now: int) -> None:
        md = self.engine.market_data
        ch = f.agg
        while ch is not None:
            rows = md.agg_trades_json(f.symbol, from_id=f.last_agg + 1, limit=1000)
            for row in rows:
                ch.emit(P.agg_trade(f.symbol, now, row))
            if rows:
                f.last_agg = rows[-1]["a"]
            if len(rows) < 1000:
                break

    def _check_mirror(self, f: SymbolFeed) -> None:
        """Between batches the mirror must agree with the engine; if someone changed the book
        without publishing, resynchronise (and say so: depth diffs will show a gap too)."""
        m = f.mirror
        if m is None or m.update_id != self.engine.last_update_id(f.symbol):
            return  # changes not yet published: the next batch brings them
        if m.best() != self.engine.best_bid_ask(f.symbol):
            log.warning("bookTicker mirror of %s out of step with the engine; resynchronising", f.symbol)
            f.bind_book(self.engine)

    # ------------------------------------------------------------------ timers
    def tick(self, n: int) -> None:
        """The 100 ms heartbeat (``n`` counts ticks): diff and partial depth, then every second
        the statistics streams, and klines every 1 s (``1s``) or 2 s (other intervals)."""
        try:
            self._tick(n)
        except Exception:
            log.exception("stream hub tick failed")

    def _tick(self, n: int) -> None:
        self._check_engine()
        now = self.state.clock()
        second = n % 10 == 0
        skip = self.faults.skip_depth
        for f in self.feeds.values():
            for speed, acc in f.diffs.items():
                if speed == 100 or second:
                    payload = acc.take(f.symbol, now)
                    if payload is not None:
                        if skip and f.symbol in skip and self.faults.skip_diff(
                            f.symbol, speed, f.diffs.keys(), payload["U"], payload["u"]
                        ):
                            continue  # withheld: the next frame's U shows the gap
                        acc.channel.emit(payload)
            if f.mirror is not None and second:
                self._check_mirror(f)
        if not self.periodic:
            return
        cache: dict[tuple[str, int], tuple[dict[str, Any], bytes]] = {}
        for ch in list(self.periodic.values()):
            try:
                self._push_periodic(ch, n, now, cache)
            except Exception:
                log.exception("stream %s failed to push", ch.name)

    def _push_periodic(
        self, ch: Channel, n: int, now: int, depth_cache: dict[tuple[str, int], tuple[dict[str, Any], bytes]]
    ) -> None:
        spec = ch.spec
        kind = spec.kind
        engine = self.engine
        md = engine.market_data
        second = n % 10 == 0
        if spec.symbol and spec.symbol not in engine.symbols:
            return
        if kind == N.PARTIAL_DEPTH:
            if spec.speed_ms == 100 or second:
                key = (spec.symbol, spec.levels)
                cached = depth_cache.get(key)
                if cached is None:
                    payload = P.partial_depth(*engine.depth(spec.symbol, spec.levels))
                    cached = depth_cache[key] = (payload, dumps(payload))
                ch.emit(*cached)
        elif kind == N.KLINE:
            if n % (10 if spec.interval == "1s" else 20) == 0:
                self._emit_kline(ch, now)
        elif not second:
            return
        elif kind == N.TICKER:
            t = md.ticker_24hr_json(spec.symbol, now, engine.best_bid_ask(spec.symbol), full=True)
            ch.emit(P.ticker(now, t))
        elif kind == N.MINI_TICKER:
            ch.emit(P.mini_ticker(now, md.ticker_24hr_json(spec.symbol, now, full=False)))
        elif kind == N.ROLLING_TICKER:
            ch.emit(P.rolling_ticker(spec.window, now, md.rolling_ticker_json(spec.symbol, now, spec.window)))
        elif kind == N.AVG_PRICE:
            ch.emit(P.avg_price(spec.symbol, now, md.avg_price_json(spec.symbol, now)))
        elif kind == N.ALL_MINI_TICKERS:
            self._emit_changed(ch, [P.mini_ticker(now, md.ticker_24hr_json(s, now, full=False))
                                    for s in engine.symbols])  # fmt: skip
        elif kind == N.ALL_ROLLING_TICKERS:
            self._emit_changed(ch, [P.rolling_ticker(spec.window, now, md.rolling_ticker_json(s, now, spec.window))
                                    for s in engine.symbols])  # fmt: skip

    def _emit_kline(self, ch: Channel, now: int) -> None:
        spec = ch.spec
        md = self.engine.market_data
        k = md.kline_stream_json(spec.symbol, spec.interval, now, now, spec.time_zone)
        memo = ch.memo
        if memo is not None and memo[0] != k["t"] and not memo[1]:
            # The kline we last showed has closed since: show its final state (x = true) first.
            prev = md.kline_stream_json(spec.symbol, spec.interval, memo[0], now, spec.time_zone)
            ch.emit(P.kline(spec.symbol, now, prev))
        ch.emit(P.kline(spec.symbol, now, k))
        ch.memo = (k["t"], k["x"])

    @staticmethod
    def _emit_changed(ch: Channel, items: list[dict[str, Any]]) -> None:
        """All-market arrays carry only the symbols whose statistics changed since the last push."""
        last: dict[str, tuple[Any, ...]] = ch.memo if ch.memo is not None else {}
        changed = []
        for item in items:
            key = P.stats_key(item)
            if item["s"] not in last and not item["v"].strip("0."):
                last[item["s"]] = key  # never traded in the window: nothing to report yet
                continue
            if last.get(item["s"]) != key:
                last[item["s"]] = key
                changed.append(item)
        ch.memo = last
        if changed:
            ch.emit(changed)

    # ------------------------------------------------------------------ output
    def mark(self, conn: Conn) -> None:
        """``conn`` has queued frames: flush on the next loop iteration (one write per connection)."""
        self.dirty.append(conn)
        loop = self.loop
        if self._flush_handle is None and loop is not None:
            wait = self._last_flush + self.flush_interval - loop.time()
            if wait > 0:
                self._flush_handle = loop.call_later(wait, self.flush)
            else:
                self._flush_handle = loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_handle = None
        if self.loop is not None:
            self._last_flush = self.loop.time()
        dirty, self.dirty = self.dirty, []
        if self.faults.stalling:
            dirty = hold_stalled(self, dirty)
        held: list[Conn] = []
        for c in dirty:
            if not self._write(c):
                held.append(c)
        if held:
            self.dirty.extend(held)
            if self._flush_handle is None and self.loop is not None:
                self._flush_handle = self.loop.call_later(RETRY_S, self.flush)

    def wake_after_stall(self, delay: float) -> None:
        if self._stall_handle is None and self.loop is not None:
            self._stall_handle = self.loop.call_later(delay, self.resume_stalled)

    def resume_stalled(self) -> None:
        """A stall ended (or was lifted): write what the stalled connections hold."""
        if self._stall_handle is not None:
            self._stall_handle.cancel()
            self._stall_handle = None
        if not self.stalled:
            return
        self.dirty.extend(self.stalled)
        self.stalled = []
        if self._flush_handle is None and self.loop is not None:
            self._flush_handle = self.loop.call_soon(self.flush)

    def flush_conn(self, conn: Conn) -> None:
        """Write ``conn``'s queue now, whatever the socket's buffer (before a close frame)."""
        if conn.out and not conn.closed and not conn.transport.is_closing():
            conn.transport.write(b"".join(conn.out))
        conn.out.clear()
        conn.out_size = 0

    def _write(self, c: Conn) -> bool:
        """Write ``c``'s queue; False when held back because its socket is not draining."""
        out = c.out
        if c.closed or not out:
            c.dirty = False
            out.clear()
            c.out_size = 0
            return True
        t = c.transport
        if t.is_closing():
            c.dirty = False
            self.close(c)
            return True
        if t.get_write_buffer_size() > self.high_water:
            if c.out_size > self.max_pending:
                self._drop_slow(c)
                return True
            return False
        c.dirty = False
        t.write(out[0] if len(out) == 1 else b"".join(out))
        out.clear()
        c.out_size = 0
        return True

    def _drop_slow(self, c: Conn) -> None:
        """A reader that cannot keep up: free its queue and cut the TCP connection."""
        self.dropped_slow += 1
        log.warning("dropping a stream connection that cannot keep up (%d bytes queued)", c.out_size)
        self.abort(c)

    def abort(self, c: Conn) -> None:
        """Cut ``c``'s TCP connection without a close frame (slow reader, drop_streams fault)."""
        c.dirty = False
        self.close(c)
        c.transport.abort()

    # ------------------------------------------------------------------ shutdown
    def announce_shutdown(self, conns: list[Conn] | None = None) -> list[Conn]:
        """Queue ``serverShutdown`` on ``conns`` (default: every connection) and write it out;
        returns the connections."""
        now = self.state.clock()
        payload = P.server_shutdown(now)
        conns = list(self.conns) if conns is None else conns
        for c in conns:
            body = P.to_micro(payload) if c.micro else payload
            data = dumps(body)
            if c.combined:
                data = b'{"stream":"!serverShutdown","data":' + data + b"}"
            c.push(text_frame(data))
            self.flush_conn(c)
        return conns
