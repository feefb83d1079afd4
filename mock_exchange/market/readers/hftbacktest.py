"""hftbacktest's raw collector format: ``<local receive ns> <frame>`` per line, gzip or plain.

Frames are combined-stream envelopes ``{"stream": ..., "data": ...}``; REST depth snapshots are
written bare (``{"lastUpdateId": ..., "bids": ..., "asks": ...}``) with no symbol in them. The
snapshot's symbol is the ``symbol=`` argument, else the only symbol seen so far in the stream,
else the file name's prefix (``btcusdt_20240808.gz`` -> BTCUSDT). Several files are read as one
continuous capture (the depth sequence carries across them), in the order given.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from mock_exchange.market.readers.base import (
    BadLine,
    Paths,
    ReplayReader,
    Skip,
    as_paths,
    envelope_record,
    snapshot_record,
    stream_record,
)
from mock_exchange.market.readers.records import ReplayRecord
from mock_exchange.market.readers.sequence import DepthSequenceChecker


def _symbol_from_name(path: Path) -> str | None:
    head = path.name.split("_", 1)[0].split(".", 1)[0]
    return head.upper() if head.isalnum() and not head.isdigit() else None


class HftbacktestReader(ReplayReader):
    """Records from one or more hftbacktest capture files, in file order then line order."""

    def __init__(
        self,
        paths: Paths,
        *,
        symbol: str | None = None,
        strict: bool = True,
        checker: DepthSequenceChecker | None = None,
        max_errors: int = 1000,
    ) -> None:
        super().__init__(strict=strict, checker=checker, max_errors=max_errors)
        self.paths = as_paths(paths)
        self.symbol = symbol.upper() if symbol else None

    def _records(self) -> Iterator[ReplayRecord]:
        seen: set[str] = set()
        loads = orjson.loads
        for path in self.paths:
            name = str(path)
            for lineno, line in self._lines(path):
                if not line:
                    continue
                stamp, _, raw = line.partition(b" ")
                try:
                    local_ns = int(stamp)
                except ValueError:
                    self._bad(name, lineno, f"receive time {stamp[:40]!r} is not an integer of nanoseconds")
                    continue
                try:
                    obj = loads(raw)
                except orjson.JSONDecodeError as exc:
                    self._bad(name, lineno, f"frame is not valid JSON: {exc}", exc)
                    continue
                source = f"{name}:{lineno}"
                try:
                    if type(obj) is not dict:
                        raise BadLine("frame is not a JSON object")
                    if "stream" in obj:
                        rec = envelope_record(obj, local_ns, source)
                        seen.add(rec.symbol)
                    elif "lastUpdateId" in obj and "e" not in obj:
                        sym = self.symbol or (next(iter(seen)) if len(seen) == 1 else None)
                        rec = snapshot_record(obj, sym or _symbol_from_name(path), local_ns, source)
                    elif "e" in obj or "u" in obj:
                        rec = stream_record(obj, "", local_ns, source)
                        seen.add(rec.symbol)
                    elif "result" in obj and "id" in obj:
                        raise Skip("subscription response")
                    else:
                        raise BadLine(f"unrecognised frame: keys {sorted(obj)[:8]}")
                except Skip as skip:
                    self.skipped[skip.what] += 1
                    continue
                except BadLine as exc:
                    self._bad(name, lineno, str(exc), exc)
                    continue
                yield rec
