"""What every reader shares: error policy, damage reporting, the depth checker, and the mapping
from a venue frame (stream payload or REST body) to a ReplayRecord.

A reader is an iterable: each iteration streams its file(s) from the start through the
checker and yields records in receive order. Bad lines raise ReplayFormatError naming file,
line and what is wrong (``strict=True``), or are collected in ``errors`` and skipped
(``strict=False``). Damage to a compressed file never raises: every good line before it is
yielded and the damage is appended to ``errors`` (and ``damaged`` is set) and logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from mock_exchange.market.readers.lines import iter_lines
from mock_exchange.market.readers.records import RecordKind, ReplayFormatError, ReplayRecord, new_record
from mock_exchange.market.readers.sequence import (
    Anchor,
    AnchorFailure,
    DepthSequenceChecker,
    SequenceGap,
)

log = logging.getLogger(__name__)

PathArg = str | Path
Paths = PathArg | Sequence[PathArg]

# Stream events that are valid but have no record kind here: counted in ``skipped``, not errors.
IGNORED_EVENTS = frozenset(
    {"24hrTicker", "24hrMiniTicker", "avgPrice", "1hTicker", "4hTicker", "1dTicker", "outboundAccountPosition"}
)


class BadLine(Exception):
    """Raised by parsing helpers with the reason only; the reader adds file and line."""


class Skip(Exception):
    """A line that is valid but carries nothing to replay (subscription ack, ticker ...)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def as_paths(paths: Paths) -> list[Path]:
    if isinstance(paths, str | Path):
        return [Path(paths)]
    return [Path(p) for p in paths]


class ReplayReader(Iterable[ReplayRecord]):
    """Base class: subclasses implement ``_records`` (unchecked records, receive order)."""

    def __init__(
        self,
        *,
        strict: bool = True,
        checker: DepthSequenceChecker | None = None,
        max_errors: int = 1000,
    ) -> None:
        self.strict = strict
        self.checker = checker if checker is not None else DepthSequenceChecker()
        self.max_errors = max_errors
        self.errors: list[ReplayFormatError] = []
        self.error_count = 0
        self.damaged = False
        self.damage: list[ReplayFormatError] = []  # one per damaged file, also in ``errors``
        self.counts: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()

    # -- results ----------------------------------------------------------------------------
    @property
    def gaps(self) -> list[SequenceGap]:
        return self.checker.gaps

    @property
    def anchors(self) -> list[Anchor]:
        return self.checker.anchors

    @property
    def anchor_failures(self) -> list[AnchorFailure]:
        return self.checker.failures

    def __iter__(self) -> Iterator[ReplayRecord]:
        self.errors.clear()
        self.error_count = 0
        self.damaged = False
        self.damage.clear()
        self.counts.clear()
        self.skipped.clear()
        self.checker.reset()
        check = self.checker.check
        counts = self.counts
        for rec in self._records():
            kind = rec.kind
            if kind == "depth_diff" or kind == "depth_snapshot":
                rec = check(rec)
            counts[kind] += 1
            yield rec

    def read_all(self) -> list[ReplayRecord]:
        """Every record in a list (small files and tests; iterate for big ones)."""
        return list(self)

    def _records(self) -> Iterator[ReplayRecord]:
        raise NotImplementedError

    # -- error policy -----------------------------------------------------------------------
    def _bad(self, path: PathArg, line: int, reason: str, cause: BaseException | None = None) -> None:
        """A bad line: raise in strict mode, else keep (up to ``max_errors``) and go on."""
        err = ReplayFormatError(str(path), line, reason)
        if self.strict:
            raise err from cause
        self._keep(err)

    def _keep(self, err: ReplayFormatError, always: bool = False) -> None:
        self.error_count += 1
        if always or len(self.errors) < self.max_errors:
            self.errors.append(err)

    def _lines(self, path: Path) -> Iterator[tuple[int, bytes]]:
        """Numbered lines of ``path``; damage is reported (never raised) after the good lines."""

        def damage(line: int, reason: str) -> None:
            self.damaged = True
            err = ReplayFormatError(str(path), line, reason)
            log.warning("%s", err)
            self.damage.append(err)
            self._keep(err, always=True)

        if not path.exists():
            raise ReplayFormatError(str(path), 0, "no such file")
        return iter_lines(path, damage)


# -- venue frames -> records ---------------------------------------------------------------------
def _int(data: dict[str, Any], key: str, what: str) -> int:
    try:
        value = data[key]
    except KeyError:
        raise BadLine(f"{what} has no '{key}' field") from None
    if type(value) is not int:
        raise BadLine(f"{what} field '{key}' is not an integer: {value!r}")
    return value


def symbol_of_stream(stream: str) -> str:
    """'btcusdt@depth@100ms' -> 'BTCUSDT'."""
    return stream.partition("@")[0].upper()


def symbol_of_url(url: str) -> str | None:
    """The ``symbol`` query parameter of a REST URL, upper-cased, or None."""
    values = parse_qs(urlsplit(url).query).get("symbol")
    return values[0].upper() if values else None


def stream_record(data: Any, stream: str, local_ns: int | None, source: str) -> ReplayRecord:
    """A record from one WebSocket stream payload (the ``data`` of a combined-stream envelope).

    The checks are inlined (this runs once per recorded frame): kinds by their ``e`` field, the
    spot bookTicker and partial depth (which have none) by their keys.
    """
    if type(data) is not dict:
        raise BadLine(f"stream {stream!r} payload is not a JSON object")
    event = data.get("e")
    if event is None:
        if "lastUpdateId" in data:  # <symbol>@depth<levels>: partial book, no event wrapper
            book_id = _int(data, "lastUpdateId", "partial depth")
            return new_record(
                local_ns, None, symbol_of_stream(stream), "partial_depth", data, book_id, book_id, source, stream
            )
        uid = data.get("u")
        symbol = data.get("s")
        if type(uid) is int and type(symbol) is str and "B" in data:
            return new_record(local_ns, None, symbol.upper(), "book_ticker", data, uid, uid, source, stream)
        if "u" in data and "B" in data:
            _int(data, "u", "bookTicker")
            raise BadLine("bookTicker has no 's' symbol")
        raise BadLine(f"unrecognised payload on stream {stream!r}: keys {sorted(data)[:8]}")
    venue_ms = data.get("E")
    symbol = data.get("s")
    if type(venue_ms) is not int:
        venue_ms = _int(data, "E", str(event))
    if type(symbol) is not str:
        raise BadLine(f"{event} event has no 's' symbol")
    first: int | None = None
    last: int | None = None
    kind: RecordKind
    if event == "depthUpdate":
        kind = "depth_diff"
        first, last = data.get("U"), data.get("u")
        if type(first) is not int or type(last) is not int:
            first = _int(data, "U", "depthUpdate")
            last = _int(data, "u", "depthUpdate")
        if last < first:
            raise BadLine(f"depthUpdate has u={last} < U={first}")
        if type(data.get("b")) is not list or type(data.get("a")) is not list:
            raise BadLine("depthUpdate needs 'b' and 'a' lists")
    elif event == "trade":
        kind = "trade"
        if type(data.get("t")) is not int:
            _int(data, "t", "trade")
    elif event == "bookTicker":  # futures-style bookTicker carries e/E
        kind = "book_ticker"
        first = last = _int(data, "u", "bookTicker")
    elif event == "aggTrade":
        kind = "agg_trade"
        _int(data, "a", "aggTrade")
    elif event == "kline":
        kind = "kline"
        if type(data.get("k")) is not dict:
            raise BadLine("kline event has no 'k' object")
    elif event in IGNORED_EVENTS:
        raise Skip(str(event))
    else:
        raise BadLine(f"unknown stream event type {event!r} on {stream!r}")
    return new_record(local_ns, venue_ms, symbol.upper(), kind, data, first, last, source, stream)


def snapshot_record(
    data: Any, symbol: str | None, local_ns: int | None, source: str, url: str = ""
) -> ReplayRecord:
    """A record from a REST ``GET /api/v3/depth`` (or v1) body."""
    if type(data) is not dict:
        raise BadLine("depth snapshot is not a JSON object")
    last = _int(data, "lastUpdateId", "depth snapshot")
    if type(data.get("bids")) is not list or type(data.get("asks")) is not list:
        raise BadLine("depth snapshot needs 'bids' and 'asks' lists")
    if not symbol:
        where = f"its URL {url!r} has no symbol parameter" if url else "pass symbol= to the reader"
        raise BadLine(f"cannot tell which symbol this depth snapshot belongs to: {where}")
    return new_record(local_ns, None, symbol.upper(), "depth_snapshot", data, last, last, source, url)


def envelope_record(obj: Any, local_ns: int | None, source: str) -> ReplayRecord:
    """A record from a combined-stream envelope ``{"stream": ..., "data": ...}``."""
    stream = obj.get("stream")
    if type(stream) is not str:
        raise BadLine("combined-stream envelope has no 'stream' name")
    if "data" not in obj:
        raise BadLine(f"combined-stream envelope for {stream!r} has no 'data'")
    return stream_record(obj["data"], stream, local_ns, source)
