"""Readers for the captured Binance traffic in ../shared/data (see its README.md)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from tests.conftest import shared_file

BTCUSDT_DIR = "binance-spot-btcusdt-2024-08-08"
BTCUSDT_FILES = ("btcusdt_20240808.gz", "btcusdt_20240809.gz")
CAPTURE_2021 = "binance-spot-2021-10-12"


def btcusdt_paths() -> list[Path]:
    """Both BTCUSDT capture files (skips the test when the data is absent)."""
    return [shared_file(BTCUSDT_DIR, name) for name in BTCUSDT_FILES]


def read_btcusdt(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(local receive ns, parsed frame) per line: a combined-stream envelope or a REST depth body."""
    with gzip.open(path, "rb") as fh:
        for line in fh:
            ts, _, raw = line.rstrip(b"\n").partition(b" ")
            yield int(ts), orjson.loads(raw)


@dataclass
class Capture2021:
    url: str  # the combined-stream URL that was opened
    frames: list[tuple[float, dict[str, Any]]]  # (receive time s, envelope)
    snapshots: list[tuple[float, str, dict[str, Any]]]  # (receive time s, symbol, depth body)


def symbol_of_depth_url(url: str) -> str:
    """SYMBOL from .../api/v1/depth?symbol=SYMBOL&limit=... (or /api/v3/depth)."""
    parts = urlsplit(url)
    assert parts.path.endswith("/depth"), url
    return parse_qs(parts.query)["symbol"][0]


def read_2021() -> Capture2021:
    ws_path = shared_file(CAPTURE_2021, "BINANCE.ws.1.0")
    http_path = shared_file(CAPTURE_2021, "BINANCE.http.0.0")
    lines = ws_path.read_bytes().splitlines()
    url = lines[0].split(b" <-> ")[0].decode()
    frames = []
    for line in lines[1:]:
        if not line.strip():
            continue
        ts, _, raw = line.partition(b": ")
        frames.append((float(ts), orjson.loads(raw)))
    snapshots = []
    for line in http_path.read_bytes().splitlines():
        if not line.strip():
            continue
        head, _, body = line.partition(b": ")
        req_url, _, received = head.decode().partition(" -> ")
        snapshots.append((float(received), symbol_of_depth_url(req_url), orjson.loads(body)))
    return Capture2021(url, frames, snapshots)


def exchange_info_2021() -> dict[str, Any]:
    """The 2021 exchangeInfo body (first line of BINANCE.0: "<url> -> <time>: <json>")."""
    path = shared_file(CAPTURE_2021, "BINANCE.0")
    with path.open("rb") as fh:
        first = fh.readline()
    info: dict[str, Any] = orjson.loads(first.partition(b": ")[2])
    return info
