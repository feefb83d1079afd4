"""Streaming, compression variants, format sniffing and the cryptofeed line forms."""

from __future__ import annotations

import gzip
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from mock_exchange.market.readers import (
    BinanceCsvReader,
    CryptofeedReader,
    HftbacktestReader,
    ReplayFormatError,
    sniff_format,
)
from mock_exchange.market.readers.cryptofeed import seconds_to_ns
from tests.market.readers_support import btcusdt_files

DIFF = (
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT",'
    '"U":%d,"u":%d,"b":[["61837.63000000","1.00000000"]],"a":[]}}'
)


def test_reading_streams_in_bounded_memory() -> None:
    """~27 MB of decompressed frames go through with a small, fixed working set."""
    reader = HftbacktestReader(btcusdt_files())
    tracemalloc.start()
    try:
        n = sum(1 for _ in reader)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 99574
    assert peak < 5_000_000, peak


def test_concatenated_gzip_members_are_read_in_turn(tmp_path: Path) -> None:
    path = tmp_path / "multi.gz"
    part1 = gzip.compress(b"1 " + (DIFF % (1, 2)).encode() + b"\n")
    part2 = gzip.compress(b"2 " + (DIFF % (3, 4)).encode() + b"\n")
    path.write_bytes(part1 + part2)
    reader = HftbacktestReader(path)
    assert [r.last_update_id for r in reader] == [2, 4] and not reader.damaged


def test_a_zip_with_several_files_is_refused_by_name(tmp_path: Path) -> None:
    archive = tmp_path / "BTCUSDT-trades-2024-08-08.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.csv", "1,1,1,1,1723161255342,True,True\n")
        zf.writestr("b.csv", "2,1,1,1,1723161255342,True,True\n")
    reader = BinanceCsvReader(archive)
    assert list(reader) == []
    assert reader.damage[0].reason == "expected exactly one file in the zip archive, found: a.csv, b.csv"


def test_unknown_files_are_refused_with_their_first_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello world\n")
    with pytest.raises(ReplayFormatError, match="unrecognised market-data file; first line: 'hello world'"):
        sniff_format(path)


def test_receive_seconds_are_converted_exactly() -> None:
    assert seconds_to_ns("1633998512.0633569") == 1633998512063356900
    assert seconds_to_ns("1633998512") == 1633998512000000000
    assert seconds_to_ns("1633998512.000000001") == 1633998512000000001


def test_cryptofeed_line_forms_and_errors(tmp_path: Path) -> None:
    ws = tmp_path / "BINANCE.ws.7.0"
    ws.write_text(
        "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms <-> 1633998511.1\n"
        'wss://stream.binance.com:9443/stream <- 1633998511.2: {"method":"SUBSCRIBE","id":1}\n'
        '1633998511.3: {"result":null,"id":1}\n'
        f"1633998512.5: {DIFF % (10, 12)}\n"
        "1633998512.6 {no colon}\n"
        f"yesterday: {DIFF % (13, 14)}\n"
        "\n"
        f"1633998513.0: {DIFF % (13, 14)}\n"
    )
    http = tmp_path / "BINANCE.http.7.0"
    http.write_text(
        'https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000 -> 1633998512.7: '
        '{"lastUpdateId":12,"bids":[],"asks":[]}\n'
        'https://api.binance.com/api/v3/time -> 1633998512.8: {"serverTime":1}\n'
    )
    reader = CryptofeedReader([ws, http], strict=False)
    records = list(reader)
    assert [(r.kind, r.sync, r.local_ns) for r in records] == [
        ("depth_diff", "resync", 1633998512500000000),
        ("depth_snapshot", "ok", 1633998512700000000),
        ("depth_diff", "ok", 1633998513000000000),
    ]
    assert [(e.line, e.reason) for e in reader.errors] == [
        (5, "expected '<receive time>: <frame>'"),
        (6, "receive time 'yesterday' is not a decimal number of seconds"),
    ]
    assert reader.skipped == {"sent message": 1, "subscription response": 1, "rest /api/v3/time": 1}
    assert reader.connects[0][0] == 1633998511100000000
