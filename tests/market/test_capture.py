"""mockex's capture format: write then read gives the same records; headers are checked."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from mock_exchange.market.capture import CaptureReader, CaptureWriter, read_capture_header
from mock_exchange.market.readers import (
    HftbacktestReader,
    ReplayFormatError,
    ReplayRecord,
    open_reader,
    sniff_format,
)
from tests.market.readers_support import btcusdt_files

DEPTH_URL = "/api/v3/depth?symbol=BTCUSDT&limit=1000"


def _key(r: ReplayRecord) -> tuple[object, ...]:
    """Everything but where it was read from."""
    return (r.local_ns, r.venue_ms, r.symbol, r.kind, r.payload, r.first_update_id, r.last_update_id,
            r.sync, tuple(_key(b) for b in r.bridge), r.synthetic_ids)


def _record_to(writer: CaptureWriter, records: list[ReplayRecord]) -> None:
    for r in records:
        assert r.local_ns is not None
        if r.kind == "depth_snapshot":
            writer.write_rest(r.local_ns, DEPTH_URL, r.payload, sent_ns=r.local_ns - 5_000_000)
        else:
            writer.write_ws(r.local_ns, r.channel, r.payload)


@pytest.mark.parametrize("name", ["cap.jsonl", "cap.jsonl.gz"])
def test_round_trip_of_the_btcusdt_capture(tmp_path: Path, name: str) -> None:
    source = HftbacktestReader(btcusdt_files())
    original = list(source)
    path = tmp_path / name
    with CaptureWriter(path, "wss://stream.binance.com:9443", ["btcusdt"], started_ns=original[0].local_ns) as w:
        _record_to(w, original)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    reader = CaptureReader(path)
    back = list(reader)
    assert [_key(r) for r in back] == [_key(r) for r in original]
    assert [r.channel for r in back if r.kind != "depth_snapshot"] == [
        r.channel for r in original if r.kind != "depth_snapshot"
    ]
    assert reader.counts == source.counts and reader.gaps == [] and reader.errors == []
    assert reader.headers[0]["symbols"] == ["BTCUSDT"] and reader.headers[0]["version"] == 1
    assert back[7].source == f"{path}:9"  # header is line 1


def test_frames_given_as_raw_venue_text_are_kept_verbatim(tmp_path: Path) -> None:
    raw = b'{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000",' \
          b'"q":"0.02000000","T":1723161255342,"m":true,"M":true}'
    path = tmp_path / "raw.jsonl"
    with CaptureWriter(path, "live", ["BTCUSDT"], started_ns=1) as w:
        w.write_ws(1723161254087896568, "btcusdt@trade", raw)
        w.write_ws(1723161254087896569, "btcusdt@trade", raw.decode().replace(",", ",\n"))  # pretty text
        w.write_note(1723161254087896570, {"event": "reconnect"})
    lines = path.read_bytes().splitlines()
    assert lines[1] == b'{"t":1723161254087896568,"src":"ws","stream":"btcusdt@trade","data":' + raw + b"}"
    reader = CaptureReader(path)
    got = list(reader)
    assert [r.payload for r in got] == [orjson.loads(raw)] * 2
    assert got[0].kind == "trade" and got[0].venue_ms == 1723161255343
    assert reader.skipped == {"note": 1}


def test_a_flushed_gzip_capture_is_readable_while_still_being_written(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl.gz"
    w = CaptureWriter(path, "live", ["BTCUSDT"], flush_every=0)
    records = list(HftbacktestReader(btcusdt_files()[0]))[:500]
    _record_to(w, records)
    w.flush()
    reader = CaptureReader(path)
    got = list(reader)  # the gzip stream is not closed yet: everything flushed is there ...
    assert [_key(r) for r in got] == [_key(r) for r in records]
    assert reader.damaged and "truncated" in reader.damage[0].reason  # ... and the open end is reported
    w.close()
    reader = CaptureReader(path)
    assert len(list(reader)) == 500 and not reader.damaged


def test_two_capture_files_continue_one_depth_sequence(tmp_path: Path) -> None:
    records = list(HftbacktestReader(btcusdt_files()))
    half = len(records) // 2
    paths = [tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"]
    for path, part in zip(paths, (records[:half], records[half:]), strict=True):
        with CaptureWriter(path, "live", ["BTCUSDT"]) as w:
            _record_to(w, part)
    reader = open_reader(paths)
    assert isinstance(reader, CaptureReader)
    assert len(list(reader)) == len(records) and reader.gaps == [] and len(reader.headers) == 2
    assert sniff_format(paths[1]) == "capture"


def test_header_is_required_and_checked(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format":"something-else","version":1}\n')
    with pytest.raises(ReplayFormatError) as info:
        list(CaptureReader(bad))
    assert info.value.line == 1 and "not a mockex-capture file" in info.value.reason
    future = tmp_path / "v9.jsonl.gz"
    future.write_bytes(gzip.compress(b'{"format":"mockex-capture","version":9,"symbols":[],"started":0}\n'))
    with pytest.raises(ReplayFormatError, match="unsupported mockex-capture version 9"):
        read_capture_header(future)
    good = tmp_path / "ok.jsonl"
    CaptureWriter(good, "testnet", ["ethusdt"], started_ns=5, extra={"tool": "mockex"}).close()
    assert read_capture_header(good) == {
        "format": "mockex-capture", "version": 1, "venue": "testnet", "symbols": ["ETHUSDT"], "started": 5,
        "tool": "mockex",
    }


def test_bad_frames_name_file_line_and_problem(tmp_path: Path) -> None:
    path = tmp_path / "frames.jsonl"
    path.write_text(
        '{"format":"mockex-capture","version":1,"venue":"x","symbols":["BTCUSDT"],"started":0}\n'
        '{"t":1,"src":"ws","stream":"btcusdt@trade"}\n'
        '{"t":"soon","src":"ws","stream":"btcusdt@trade","data":{}}\n'
        '{"t":2,"src":"fix","data":{}}\n'
        '{"t":3,"src":"rest","url":"/api/v3/depth?limit=10","data":{"lastUpdateId":1,"bids":[],"asks":[]}}\n'
        '{"t":4,"src":"rest","url":"/api/v3/time","data":{"serverTime":4}}\n'
    )
    reader = CaptureReader(path, strict=False)
    assert list(reader) == []
    assert [(e.line, e.reason) for e in reader.errors] == [
        (2, "frame has no 'data'"),
        (3, "frame has no integer receive time 't' (got 'soon')"),
        (4, "unknown frame source 'src'='fix' (expected ws, rest or note)"),
        (5, "cannot tell which symbol this depth snapshot belongs to: its URL '/api/v3/depth?limit=10' has no symbol parameter"),
    ]
    assert reader.skipped == {"rest /api/v3/time": 1}
    with pytest.raises(ReplayFormatError, match=r"frames\.jsonl:2: frame has no 'data'"):
        list(CaptureReader(path))
