"""Pick the reader for a file by looking at it (first line and name), for ``--replay FILE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mock_exchange.market.readers.base import PathArg, Paths, ReplayReader, as_paths
from mock_exchange.market.readers.binance_csv import BinanceCsvReader, parse_binance_name
from mock_exchange.market.readers.cryptofeed import CryptofeedReader
from mock_exchange.market.readers.hftbacktest import HftbacktestReader
from mock_exchange.market.readers.lines import iter_lines
from mock_exchange.market.readers.records import ReplayFormatError
from mock_exchange.market.readers.tardis import TardisCsvReader, tardis_kind


def _first_line(path: Path) -> bytes:
    def ignore(line: int, reason: str) -> None:
        return None

    for _, line in iter_lines(path, ignore):
        if line.strip():
            return line
    return b""


def sniff_format(path: PathArg) -> str:
    """'capture', 'hftbacktest', 'cryptofeed', 'tardis' or 'binance_csv' (ReplayFormatError if none)."""
    p = Path(path)
    if not p.exists():
        raise ReplayFormatError(str(p), 0, "no such file")
    line = _first_line(p)[:4096]
    text = line.decode("utf-8", "replace")
    if text.startswith("{") and '"mockex-capture"' in text:
        return "capture"
    stamp, _, rest = text.partition(" ")
    if stamp.isdigit() and rest.startswith("{"):
        return "hftbacktest"
    if " <-> " in text or " -> " in text or text.startswith("configuration: "):
        return "cryptofeed"
    head, sep, rest = text.partition(": ")
    if sep and head.replace(".", "", 1).isdigit() and rest.startswith("{"):
        return "cryptofeed"
    if tardis_kind(text) is not None:
        return "tardis"
    if parse_binance_name(p)[1] is not None and text[:1].isdigit() or text.startswith(
        ("id,", "agg_trade_id,", "open_time,", "update_id,")
    ):
        return "binance_csv"
    raise ReplayFormatError(str(p), 1, f"unrecognised market-data file; first line: {text[:120]!r}")


def open_reader(paths: Paths, **kwargs: Any) -> ReplayReader:
    """A reader for ``paths`` (one file, or several of the same format read as one capture).

    ``kwargs`` go to the reader (``strict``, ``checker``, ``symbol`` ...).
    """
    from mock_exchange.market.capture import CaptureReader

    many = as_paths(paths)
    if not many:
        raise ValueError("no input files")
    fmt = sniff_format(many[0])
    if fmt == "capture":
        return CaptureReader(many, **kwargs)
    if fmt == "hftbacktest":
        return HftbacktestReader(many, **kwargs)
    if fmt == "cryptofeed":
        return CryptofeedReader(many, **kwargs)
    if len(many) != 1:
        raise ReplayFormatError(str(many[1]), 0, f"{fmt} files are read one at a time")
    if fmt == "tardis":
        return TardisCsvReader(many[0], **kwargs)
    return BinanceCsvReader(many[0], **kwargs)
