"""``mockex record``: capture a venue's public market data into the capture format.

The recorder connects the way the connector does: one combined WebSocket stream
(``<s>@depth@100ms``, ``<s>@trade`` and ``<s>@bookTicker`` per symbol) and, once that stream is
open, one REST depth snapshot per symbol. Every frame is written with its local receive time, so
a replay can rebuild the book from snapshot + diffs and re-time the feed.

Gaps are repaired, not hidden: when a diff's ``U`` is not the previous ``u`` + 1 the recorder
writes a note and fetches a new snapshot for that symbol; after a reconnect it does the same for
every symbol. The capture reader's sequence checker then re-anchors on those snapshots.

The only wall-clock read is the injectable ``now_ns`` (receive times and the header's start
time); durations and the progress line use the event loop's monotonic clock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit

import aiohttp
import orjson

from mock_exchange.market.capture import CaptureWriter

VENUES: dict[str, tuple[str, str]] = {
    "live": ("https://api.binance.com", "wss://stream.binance.com:9443"),
    "testnet": ("https://testnet.binance.vision", "wss://stream.testnet.binance.vision"),
}
SNAPSHOT_LIMIT = 1000
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh])\s*$")
_UNIT_S = {"s": 1.0, "m": 60.0, "h": 3600.0}
_SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")


class RecordError(Exception):
    """A problem the user has to fix (bad venue answer for a symbol, unwritable file ...)."""


# ---------------------------------------------------------------------------- argument parsing
def parse_duration(text: str) -> float:
    """Seconds in ``30s``/``10m``/``1h`` (decimals allowed); argparse-friendly errors."""
    m = _DURATION.match(text)
    if m is None:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: use a number and s, m or h (30s, 10m, 1h)")
    seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: must be more than zero")
    return seconds


def parse_symbols(text: str) -> list[str]:
    """``BTCUSDT,ethusdt`` -> ``["BTCUSDT", "ETHUSDT"]`` (upper-cased, de-duplicated, order kept)."""
    out: list[str] = []
    for part in text.split(","):
        sym = part.strip().upper()
        if not sym:
            continue
        if not _SYMBOL.match(sym):
            raise argparse.ArgumentTypeError(f"bad symbol {part.strip()!r}: expected letters/digits like BTCUSDT")
        if sym not in out:
            out.append(sym)
    if not out:
        raise argparse.ArgumentTypeError("no symbols given (e.g. --symbols BTCUSDT,ETHUSDT)")
    return out


def venue_urls(venue: str) -> tuple[str, str]:
    """(REST base, WebSocket base) for ``live``, ``testnet`` or a base URL (http->ws, https->wss)."""
    if venue in VENUES:
        return VENUES[venue]
    parts = urlsplit(venue)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"bad venue {venue!r}: use live, testnet or a base URL such as http://127.0.0.1:8765")
    rest = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    ws = ("ws" if parts.scheme == "http" else "wss") + rest[len(parts.scheme):]
    return rest, ws


def parse_venue(text: str) -> str:
    """argparse type for ``--venue``: validates, keeps the text (the header records it)."""
    venue_urls(text)
    return text


def stream_names(symbols: Sequence[str]) -> list[str]:
    """The combined-stream names recorded for ``symbols``, lower-case as the venue wants."""
    names = []
    for sym in symbols:
        s = sym.lower()
        names += [f"{s}@depth@100ms", f"{s}@trade", f"{s}@bookTicker"]
    return names


# ---------------------------------------------------------------------------- the recorder
@dataclass(slots=True)
class RecordStats:
    """What a recording did; the progress line and the final summary print it."""

    frames: int = 0
    per_stream: Counter[str] = field(default_factory=Counter)
    snapshots: int = 0
    gaps: int = 0
    connects: int = 0
    elapsed_s: float = 0.0


class Recorder:
    """Records ``symbols`` from ``rest_base``/``ws_base`` into ``writer`` until stopped.

    ``run(duration_s, stop)`` returns when ``duration_s`` has passed or ``stop`` is set; the
    caller owns (and closes) the writer. ``progress`` gets a ``\\r``-rewritten status line at
    most every ``progress_every_s`` (None: silent).
    """

    def __init__(
        self,
        symbols: Sequence[str],
        writer: CaptureWriter,
        rest_base: str,
        ws_base: str,
        *,
        now_ns: Callable[[], int],
        progress: TextIO | None = None,
        progress_every_s: float = 0.5,
        min_backoff_s: float = 0.1,
        max_backoff_s: float = 5.0,
    ) -> None:
        self.symbols = [s.upper() for s in symbols]
        self.writer = writer
        self.rest_base = rest_base.rstrip("/")
        self.ws_base = ws_base.rstrip("/")
        self.now_ns = now_ns
        self.progress = progress
        self.progress_every_s = max(progress_every_s, 0.5)  # never more than twice a second
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.stats = RecordStats()
        self._last_u: dict[str, int | None] = dict.fromkeys(self.symbols)
        self._need: dict[str, asyncio.Event] = {}
        self._fatal: asyncio.Future[None] | None = None
        self._started = 0.0

    @property
    def stream_url(self) -> str:
        return f"{self.ws_base}/stream?streams={'/'.join(stream_names(self.symbols))}"

    async def run(self, duration_s: float | None = None, stop: asyncio.Event | None = None) -> RecordStats:
        loop = asyncio.get_running_loop()
        self._started = loop.time()
        self._fatal = loop.create_future()
        self._need = {s: asyncio.Event() for s in self.symbols}
        stop = stop if stop is not None else asyncio.Event()
        async with aiohttp.ClientSession() as session:
            tasks = [asyncio.create_task(self._stream(session))]
            tasks += [asyncio.create_task(self._snapshots(session, s)) for s in self.symbols]
            if self.progress is not None:
                tasks.append(asyncio.create_task(self._progress_loop()))
            stopper = asyncio.create_task(stop.wait())
            waits: set[asyncio.Future[Any]] = {stopper, self._fatal}
            try:
                await asyncio.wait(waits, timeout=duration_s, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for t in [*tasks, stopper]:
                    t.cancel()
                for t in [*tasks, stopper]:
                    with contextlib.suppress(asyncio.CancelledError):
                        await t
                self.stats.elapsed_s = loop.time() - self._started
                self._print_progress(final=True)
        fatal = self._fatal.exception() if self._fatal.done() else None
        if fatal is not None:
            raise fatal
        return self.stats

    # -- the stream ------------------------------------------------------------------------
    async def _stream(self, session: aiohttp.ClientSession) -> None:
        loop = asyncio.get_running_loop()
        backoff = self.min_backoff_s
        loads = orjson.loads
        while True:
            why = "closed by the venue"
            opened = loop.time()
            try:
                async with session.ws_connect(self.stream_url, autoping=True, max_msg_size=0) as ws:
                    self._on_connect()
                    async for msg in ws:
                        if msg.type is aiohttp.WSMsgType.TEXT:
                            self._on_frame(loads(msg.data))
                        elif msg.type is aiohttp.WSMsgType.ERROR:
                            why = f"stream error: {ws.exception()!r}"
                            break
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                why = f"connect failed: {exc!r}"
            except orjson.JSONDecodeError as exc:
                why = f"bad frame: {exc}"
            if loop.time() - opened > 10 * self.max_backoff_s:
                backoff = self.min_backoff_s  # a long healthy connection resets the backoff
            self.writer.write_note(self.now_ns(), {"event": "disconnect", "why": why, "retry_in_s": backoff})
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    def _on_connect(self) -> None:
        self.stats.connects += 1
        event = "connect" if self.stats.connects == 1 else "reconnect"
        self.writer.write_note(self.now_ns(), {"event": event, "url": self.stream_url})
        for sym in self.symbols:  # whatever happened while away: the book must be re-anchored
            self._last_u[sym] = None
            self._need[sym].set()

    def _on_frame(self, frame: Any) -> None:
        t = self.now_ns()
        if not isinstance(frame, dict) or "stream" not in frame or "data" not in frame:
            self.writer.write_note(t, {"event": "unexpected_frame", "frame": frame})
            return
        stream: str = frame["stream"]
        data = frame["data"]
        self.writer.write_ws(t, stream, data)
        self.stats.frames += 1
        self.stats.per_stream[stream] += 1
        if isinstance(data, dict) and data.get("e") == "depthUpdate":
            self._check_sequence(t, data)

    def _check_sequence(self, t: int, data: dict[str, Any]) -> None:
        sym = str(data.get("s", "")).upper()
        if sym not in self._last_u:
            return
        first, last = int(data["U"]), int(data["u"])
        prev = self._last_u[sym]
        self._last_u[sym] = last
        if prev is not None and first != prev + 1:
            self.stats.gaps += 1
            self.writer.write_note(t, {"event": "gap", "symbol": sym, "expected": prev + 1, "got": first})
            self._need[sym].set()

    # -- snapshots ---------------------------------------------------------------------------
    async def _snapshots(self, session: aiohttp.ClientSession, sym: str) -> None:
        """One worker per symbol: fetches a snapshot each time one is asked for (a gap while a
        fetch is in flight asks again, so the newest snapshot always postdates the gap)."""
        need = self._need[sym]
        path = f"/api/v3/depth?symbol={sym}&limit={SNAPSHOT_LIMIT}"
        backoff = self.min_backoff_s
        while True:
            await need.wait()
            need.clear()
            sent = self.now_ns()
            try:
                async with session.get(self.rest_base + path) as resp:
                    body = await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                self._snapshot_failed(sym, f"request failed: {exc!r}")
            else:
                t = self.now_ns()
                if status == 200:
                    self.writer.write_rest(t, path, body, sent_ns=sent)
                    self.stats.snapshots += 1
                    backoff = self.min_backoff_s
                    continue
                if status == 400 and self._fatal is not None and not self._fatal.done():
                    msg = body.decode(errors="replace")[:200]
                    self._fatal.set_exception(RecordError(f"the venue rejected the depth request for {sym}: {msg}"))
                    return
                self._snapshot_failed(sym, f"HTTP {status}")
            need.set()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    def _snapshot_failed(self, sym: str, why: str) -> None:
        self.writer.write_note(self.now_ns(), {"event": "snapshot_failed", "symbol": sym, "why": why})

    # -- progress ----------------------------------------------------------------------------
    async def _progress_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.progress_every_s)
            self.stats.elapsed_s = loop.time() - self._started
            self._print_progress()

    def progress_line(self) -> str:
        s = self.stats
        streams = "  ".join(f"{name} {n}" for name, n in sorted(s.per_stream.items()))
        return (f"recording {s.elapsed_s:7.1f}s  frames {s.frames}  snapshots {s.snapshots}  gaps {s.gaps}  "
                f"connects {s.connects}  |  {streams}")

    def _print_progress(self, final: bool = False) -> None:
        if self.progress is None:
            return
        self.progress.write("\r" + self.progress_line() + ("\n" if final else ""))
        self.progress.flush()


# ---------------------------------------------------------------------------- the command
def add_record_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``mockex record`` options (cli.py builds the subparser and calls this)."""
    parser.add_argument("--symbols", required=True, type=parse_symbols,
                        help="comma-separated symbols, e.g. BTCUSDT,ETHUSDT")
    parser.add_argument("--out", required=True, help="capture file to write (gzip when it ends in .gz)")
    parser.add_argument("--duration", type=parse_duration,
                        help="stop after this long (30s, 10m, 1h); default: until Ctrl-C")
    parser.add_argument("--venue", default="live", type=parse_venue,
                        help="live (default), testnet, or a base URL such as http://127.0.0.1:8765")


async def _record_async(args: argparse.Namespace, now_ns: Callable[[], int], progress: TextIO) -> RecordStats:
    rest, ws = venue_urls(args.venue)
    symbols: list[str] = args.symbols
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    extra = {"tool": "mockex record", "streams": stream_names(symbols), "rest": rest, "ws": ws}
    with CaptureWriter(args.out, args.venue, symbols, started_ns=now_ns(), extra=extra) as writer:
        recorder = Recorder(symbols, writer, rest, ws, now_ns=now_ns, progress=progress)
        return await recorder.run(args.duration, stop)


def record_main(args: argparse.Namespace, *, now_ns: Callable[[], int] | None = None,
                progress: TextIO | None = None) -> int:
    """Run ``mockex record``; 0 on a clean stop, 2 on a problem with the arguments/venue answer."""
    import time

    clock = now_ns if now_ns is not None else time.time_ns
    out = progress if progress is not None else sys.stderr
    try:
        stats = asyncio.run(_record_async(args, clock, out))
    except RecordError as exc:
        print(f"mockex record: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mockex record: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    print(f"mockex record: wrote {stats.frames} frames and {stats.snapshots} snapshots to {args.out}",
          file=sys.stderr)
    return 0
