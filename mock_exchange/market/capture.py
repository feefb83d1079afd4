"""mockex's own capture format: what ``mockex record`` writes and ``--replay`` reads.

Capture format, version 1
-------------------------
A text file of JSON lines (UTF-8, ``\\n``-terminated), gzip-compressed when the file name ends
in ``.gz`` (readers detect gzip by its magic bytes, not the name).

Line 1, the header::

    {"format": "mockex-capture", "version": 1, "venue": "wss://stream.binance.com:9443",
     "symbols": ["BTCUSDT", "ETHUSDT"], "started": 1723161253937085768}

``venue`` is the venue recorded (a URL or a name such as ``live``/``testnet``), ``symbols`` the
upper-case symbols asked for, ``started`` the local wall-clock time the recording started
(integer ns since the Unix epoch). Writers may add keys (``tool``, ``streams``, ``note`` ...);
readers ignore keys they do not know. A reader refuses another ``format`` or a higher
``version``.

Every further line is one frame, in local receive order::

    {"t": 1723161254036059768, "src": "ws", "stream": "btcusdt@depth@100ms",
     "data": {"e": "depthUpdate", "E": 1723161255308, "s": "BTCUSDT", "U": 1, "u": 5, ...}}
    {"t": 1723161254206652067, "src": "rest", "url": "/api/v3/depth?symbol=BTCUSDT&limit=1000",
     "data": {"lastUpdateId": 5, "bids": [...], "asks": [...]}}
    {"t": 1723161260000000000, "src": "note", "data": {"event": "reconnect", "why": "..."}}

* ``t``: local receive time, integer ns since the Unix epoch (the venue's own times are inside
  ``data``: ``E``/``T``);
* ``src``: ``"ws"`` (a WebSocket stream payload; ``stream`` is its stream name, and ``data`` is the
  payload exactly as sent, i.e. the ``data`` member of a combined-stream envelope), ``"rest"``
  (a REST response body; ``url`` is the request path with its query string, or the full URL),
  or ``"note"`` (the recorder's own annotations: reconnects, re-snapshots; replay skips them);
* ``t0`` (optional, rest only): when the request was sent, ns; ``t - t0`` is its round trip.

Depth snapshots are ``rest`` frames whose URL path ends in ``/depth``; their symbol is the
``symbol`` query parameter. Nothing else is normalized: ``data`` keeps the venue's keys, order
and decimal strings, so a replay publishes what was received.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlsplit

import orjson

from mock_exchange.market.readers.base import (
    BadLine,
    Paths,
    ReplayReader,
    Skip,
    as_paths,
    snapshot_record,
    stream_record,
    symbol_of_url,
)
from mock_exchange.market.readers.records import ReplayFormatError, ReplayRecord
from mock_exchange.market.readers.sequence import DepthSequenceChecker

FORMAT = "mockex-capture"
VERSION = 1

RawJson = Mapping[str, Any] | bytes | str


def _json(data: RawJson) -> bytes:
    """The frame's JSON bytes: raw venue text is kept verbatim (minus surrounding whitespace)."""
    if isinstance(data, bytes | str):
        raw = data.encode() if isinstance(data, str) else data
        raw = raw.strip()
        if b"\n" in raw or b"\r" in raw:  # pretty-printed: one line is required
            raw = orjson.dumps(orjson.loads(raw))
        return raw
    return orjson.dumps(data)


class CaptureWriter:
    """Writes a new capture file (created or truncated; gzip when the path ends in ``.gz``) and
    appends frames to it in the order given (the caller passes them in receive order).

    ``flush()`` makes everything written so far readable (a gzip sync flush), so a recording
    that is killed loses at most what came after the last flush; ``flush_every`` frames trigger
    one automatically. Use as a context manager or call ``close()``.
    """

    def __init__(
        self,
        path: str | Path,
        venue: str,
        symbols: Sequence[str],
        *,
        started_ns: int | None = None,
        extra: Mapping[str, Any] | None = None,
        flush_every: int = 1000,
        compresslevel: int = 6,
    ) -> None:
        self.path = Path(path)
        self.flush_every = flush_every
        self.frames = 0
        self._raw: IO[bytes] = self.path.open("wb")
        self._out: IO[bytes] = (
            gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=compresslevel)  # type: ignore[assignment]
            if self.path.name.endswith(".gz")
            else self._raw
        )
        header: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "venue": venue,
            "symbols": [s.upper() for s in symbols],
            "started": started_ns if started_ns is not None else time.time_ns(),
        }
        for key, value in (extra or {}).items():
            header.setdefault(key, value)
        self._out.write(orjson.dumps(header) + b"\n")

    def _frame(self, head: bytes, data: RawJson) -> None:
        self._out.write(head + _json(data) + b"}\n")
        self.frames += 1
        if self.flush_every and self.frames % self.flush_every == 0:
            self.flush()

    def write_ws(self, t_ns: int, stream: str, data: RawJson) -> None:
        """A WebSocket stream payload received at ``t_ns`` on ``stream``."""
        self._frame(b'{"t":%d,"src":"ws","stream":%s,"data":' % (t_ns, orjson.dumps(stream)), data)

    def write_rest(self, t_ns: int, url: str, data: RawJson, *, sent_ns: int | None = None) -> None:
        """A REST response body received at ``t_ns`` for ``url`` (requested at ``sent_ns``)."""
        sent = b'"t0":%d,' % sent_ns if sent_ns is not None else b""
        self._frame(b'{"t":%d,%s"src":"rest","url":%s,"data":' % (t_ns, sent, orjson.dumps(url)), data)

    def write_note(self, t_ns: int, data: Mapping[str, Any]) -> None:
        """A recorder annotation (reconnect, re-snapshot ...); replay skips it."""
        self._frame(b'{"t":%d,"src":"note","data":' % t_ns, data)

    def flush(self) -> None:
        self._out.flush()
        if self._out is not self._raw:
            self._raw.flush()

    def close(self) -> None:
        if self._raw.closed:
            return
        self._out.close()
        if self._out is not self._raw:
            self._raw.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_capture_header(path: str | Path) -> dict[str, Any]:
    """The validated header of a capture file (ReplayFormatError when it is not one)."""
    p = Path(path)
    with p.open("rb") as fh:
        head = fh.read(2)
    opener: Any = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(p, "rb") as fh:
            first = fh.readline()
    except (OSError, EOFError) as exc:
        raise ReplayFormatError(str(p), 1, f"cannot read the header: {exc}") from exc
    return _check_header(str(p), first)


def _check_header(name: str, line: bytes) -> dict[str, Any]:
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ReplayFormatError(name, 1, f"header is not JSON: {exc}") from exc
    if type(header) is not dict or header.get("format") != FORMAT:
        raise ReplayFormatError(name, 1, f"not a {FORMAT} file (line 1 must be its header)")
    version = header.get("version")
    if type(version) is not int or not 1 <= version <= VERSION:
        raise ReplayFormatError(name, 1, f"unsupported {FORMAT} version {version!r} (this reader: {VERSION})")
    if type(header.get("symbols")) is not list or type(header.get("started")) is not int:
        raise ReplayFormatError(name, 1, "header needs 'symbols' (list) and 'started' (int ns)")
    return header


class CaptureReader(ReplayReader):
    """Records from one or more capture files, read as one continuous capture, in the order given."""

    def __init__(
        self,
        paths: Paths,
        *,
        strict: bool = True,
        checker: DepthSequenceChecker | None = None,
        max_errors: int = 1000,
    ) -> None:
        super().__init__(strict=strict, checker=checker, max_errors=max_errors)
        self.paths = as_paths(paths)
        self.headers: list[dict[str, Any]] = []

    def _records(self) -> Iterator[ReplayRecord]:
        self.headers.clear()
        for path in self.paths:
            yield from self._file(path)

    def _file(self, path: Path) -> Iterator[ReplayRecord]:
        name = str(path)
        loads = orjson.loads
        for lineno, line in self._lines(path):
            if lineno == 1:
                self.headers.append(_check_header(name, line))
                continue
            if not line:
                continue
            try:
                frame = loads(line)
            except orjson.JSONDecodeError as exc:
                self._bad(name, lineno, f"frame is not valid JSON: {exc}", exc)
                continue
            try:
                yield _frame_record(frame, f"{name}:{lineno}")
            except Skip as skip:
                self.skipped[skip.what] += 1
            except BadLine as exc:
                self._bad(name, lineno, str(exc), exc)


def _frame_record(frame: Any, source: str) -> ReplayRecord:
    if type(frame) is not dict:
        raise BadLine("frame is not a JSON object")
    t = frame.get("t")
    if type(t) is not int:
        raise BadLine(f"frame has no integer receive time 't' (got {t!r})")
    if "data" not in frame:
        raise BadLine("frame has no 'data'")
    src = frame.get("src")
    if src == "ws":
        stream = frame.get("stream")
        if type(stream) is not str:
            raise BadLine("ws frame has no 'stream' name")
        return stream_record(frame["data"], stream, t, source)
    if src == "rest":
        url = frame.get("url")
        if type(url) is not str:
            raise BadLine("rest frame has no 'url'")
        if urlsplit(url).path.endswith("/depth"):
            return snapshot_record(frame["data"], symbol_of_url(url), t, source, url)
        raise Skip("rest " + urlsplit(url).path)
    if src == "note":
        raise Skip("note")
    raise BadLine(f"unknown frame source 'src'={src!r} (expected ws, rest or note)")
