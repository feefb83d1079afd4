"""Damaged inputs are reported precisely: cut or corrupt gzip, injected gaps, bad lines."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from mock_exchange.market.readers import (
    SYNC_OK,
    SYNC_RESYNC,
    HftbacktestReader,
    ReplayFormatError,
)
from tests.market.readers_support import btcusdt_files


def _lines() -> list[bytes]:
    return gzip.decompress(btcusdt_files()[0].read_bytes()).splitlines()


def _write_gz(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    return path


def _depth_lines(lines: list[bytes]) -> list[int]:
    return [i for i, line in enumerate(lines) if b'"depthUpdate"' in line]


def test_a_gzip_cut_in_the_middle_yields_every_good_line_then_reports_the_damage(tmp_path: Path) -> None:
    full = list(HftbacktestReader(btcusdt_files()[0]))
    data = btcusdt_files()[0].read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    reader = HftbacktestReader(cut)  # strict: the damage is still reported, not raised
    got = list(reader)
    assert 5000 < len(got) < len(full)
    assert [r.payload for r in got] == [r.payload for r in full[: len(got)]]
    assert reader.damaged
    [err] = reader.errors
    assert err.path == str(cut) and err.line == len(got) + 1  # the first line lost
    assert "gzip file is truncated" in err.reason
    assert f"{len(got)} complete lines were read" in err.reason and "incomplete line" in err.reason
    assert str(err).startswith(f"{cut}:{len(got) + 1}: ")


def test_corrupt_gzip_bytes_are_reported_after_the_good_records(tmp_path: Path) -> None:
    data = bytearray(btcusdt_files()[0].read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    bad = tmp_path / "corrupt.gz"
    bad.write_bytes(bytes(data))
    reader = HftbacktestReader(bad, strict=False)
    got = list(reader)
    assert len(got) > 1000
    assert reader.damaged
    [damage] = reader.damage
    assert damage in reader.errors  # kept even past max_errors: garbage lines may come first
    assert damage.path == str(bad) and "gzip data is damaged in compressed bytes" in damage.reason
    # deflate may decode corrupt bytes into garbage before the checksum catches it: those
    # lines are bad lines, but every record before the corruption is intact
    full = list(HftbacktestReader(btcusdt_files()[0]))
    assert [r.payload for r in got[:1000]] == [r.payload for r in full[:1000]]


def test_an_injected_gap_is_reported_and_marks_records_until_a_snapshot_reanchors(tmp_path: Path) -> None:
    lines = _lines()
    depth = _depth_lines(lines)
    drop = depth[100]  # a diff well after the snapshot (line 8)
    dropped = orjson.loads(lines[drop].partition(b" ")[2])["data"]
    nxt = orjson.loads(lines[depth[101]].partition(b" ")[2])["data"]
    # a fresh REST snapshot recorded later, at the u of the 200th diff, re-anchors the book
    later = orjson.loads(lines[depth[200]].partition(b" ")[2])["data"]
    stamp = int(lines[depth[200]].partition(b" ")[0]) + 1
    snapshot = b"%d " % stamp + orjson.dumps({"lastUpdateId": later["u"], "bids": [], "asks": []})
    edited = lines[:drop] + lines[drop + 1 : depth[200] + 1] + [snapshot] + lines[depth[200] + 1 :]
    path = _write_gz(tmp_path / "gap.gz", edited)
    reader = HftbacktestReader(path)
    records = list(reader)
    [gap] = reader.gaps
    assert (gap.symbol, gap.expected, gap.got) == ("BTCUSDT", dropped["U"], nxt["U"])
    assert gap.source == f"{path}:{depth[101]}"  # line numbers are 1-based; one line was removed before it
    assert f"expected U={dropped['U']}, got U={nxt['U']}" in str(gap)
    diffs = [r for r in records if r.kind == "depth_diff"]
    states = [r.sync for r in diffs]
    i_gap = next(i for i, r in enumerate(diffs) if r.first_update_id == nxt["U"])
    i_back = next(i for i, r in enumerate(diffs) if r.first_update_id == later["u"] + 1)
    assert set(states[3:i_gap]) == {SYNC_OK}
    assert set(states[i_gap:i_back]) == {SYNC_RESYNC}  # needs resync from the gap ...
    assert set(states[i_back:]) == {SYNC_OK}  # ... until the recorded snapshot re-anchors
    assert [a.last_update_id for a in reader.anchors][-1] == later["u"]


def test_a_bad_line_raises_naming_file_line_and_problem(tmp_path: Path) -> None:
    lines = _lines()
    lines[99] = b"1723161254937085768 {\"stream\":\"btcusdt@trade\",\"data\":{\"e\":\"trade\""
    path = _write_gz(tmp_path / "bad.gz", lines)
    with pytest.raises(ReplayFormatError) as info:
        list(HftbacktestReader(path))
    err = info.value
    assert (err.path, err.line) == (str(path), 100)
    assert "not valid JSON" in err.reason
    assert isinstance(err, ValueError)


def test_lenient_mode_collects_every_bad_line_and_keeps_going(tmp_path: Path) -> None:
    lines = _lines()
    lines[20] = b"yesterday " + lines[20].partition(b" ")[2]
    frame = orjson.loads(lines[depth := _depth_lines(lines)[50]].partition(b" ")[2])
    del frame["data"]["U"]
    lines[depth] = lines[depth].partition(b" ")[0] + b" " + orjson.dumps(frame)
    lines[30] = lines[30].partition(b" ")[0] + b' {"stream":"btcusdt@trade","data":{"e":"fill","E":1,"s":"BTCUSDT"}}'
    path = _write_gz(tmp_path / "bad.gz", lines)
    reader = HftbacktestReader(path, strict=False)
    records = list(reader)
    assert len(records) == len(lines) - 3
    assert [(e.line, e.reason) for e in reader.errors] == [
        (21, "receive time b'yesterday' is not an integer of nanoseconds"),
        (31, "unknown stream event type 'fill' on 'btcusdt@trade'"),
        (depth + 1, "depthUpdate has no 'U' field"),
    ]
    assert reader.error_count == 3
    # the missing diff is also a gap in the depth sequence
    assert len(reader.gaps) == 1


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ReplayFormatError, match="no such file"):
        list(HftbacktestReader(tmp_path / "nope.gz"))


def test_plain_text_files_and_a_last_line_without_newline_are_read(tmp_path: Path) -> None:
    lines = _lines()[:50]
    path = tmp_path / "plain.txt"
    path.write_bytes(b"\r\n".join(lines))  # CRLF and no final newline
    reader = HftbacktestReader(path)
    assert len(list(reader)) == 50 and not reader.damaged
