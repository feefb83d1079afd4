"""Reader throughput: records/s reading the two shared BTCUSDT capture files end to end.

Plain script (no pytest): ``python benchmarks/bench_readers.py [--rounds N] [--capture]``.
Each round streams both gzip files (../shared/data/binance-spot-btcusdt-2024-08-08) through
``HftbacktestReader``: decompression, line splitting, JSON parsing, record building and the
depth sequence checker, i.e. everything a replay pays before the engine sees a record. The
floor beside it is ``gzip`` + ``orjson.loads`` per line alone. With ``--capture`` the same
records are also written to a mockex capture (.jsonl.gz) in a temp dir and read back with
``CaptureReader``. Both wall and process CPU figures are printed (CPU is the fairer one on a
shared machine); the best round counts. "x real time" is the capture's span (~650 s of
market) divided by the time to read it.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mock_exchange.market.capture import CaptureReader, CaptureWriter  # noqa: E402
from mock_exchange.market.readers import HftbacktestReader, ReplayRecord  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "binance-spot-btcusdt-2024-08-08"
FILES = [DATA / "btcusdt_20240808.gz", DATA / "btcusdt_20240809.gz"]


def timed(fn: Callable[[], int], rounds: int) -> tuple[int, float, float]:
    """(items, best wall s, best cpu s) over ``rounds`` runs."""
    best_wall = best_cpu = float("inf")
    items = 0
    for _ in range(rounds):
        w0, c0 = time.perf_counter(), time.process_time()
        items = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return items, best_wall, best_cpu


def count(records: Iterable[Any]) -> int:
    n = 0
    for _ in records:
        n += 1
    return n


def floor() -> int:
    n = 0
    for path in FILES:
        with gzip.open(path, "rb") as fh:
            for line in fh:
                orjson.loads(line.partition(b" ")[2])
                n += 1
    return n


def report(label: str, items: int, wall: float, cpu: float, span_s: float) -> None:
    print(
        f"{label:<34} {items:>7} records  {items / wall:>10,.0f} rec/s wall  {items / cpu:>10,.0f} rec/s cpu"
        f"  {span_s / wall:>7,.0f}x real time"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--capture", action="store_true", help="also write and read a mockex capture")
    args = parser.parse_args()
    missing = [p for p in FILES if not p.exists()]
    if missing:
        sys.exit(f"captured data not found: {missing[0]}")

    reader = HftbacktestReader(FILES)
    records: list[ReplayRecord] = list(reader)
    stamps = [r.local_ns for r in records if r.local_ns is not None]
    span_s = (max(stamps) - min(stamps)) / 1e9
    print(f"input: {len(FILES)} files, {len(records)} records, {span_s:.0f} s of market, counts {dict(reader.counts)}")
    print(f"checks: gaps {len(reader.gaps)}, anchors {len(reader.anchors)}, errors {len(reader.errors)}")

    report("gzip + orjson.loads (floor)", *timed(floor, args.rounds), span_s)
    report("HftbacktestReader", *timed(lambda: count(reader), args.rounds), span_s)

    if args.capture:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "btcusdt.jsonl.gz"
            w0 = time.perf_counter()
            with CaptureWriter(path, "hftbacktest", ["BTCUSDT"]) as writer:
                for r in records:
                    assert r.local_ns is not None
                    if r.kind == "depth_snapshot":
                        writer.write_rest(r.local_ns, "/api/v3/depth?symbol=BTCUSDT&limit=1000", r.payload)
                    else:
                        writer.write_ws(r.local_ns, r.channel, r.payload)
            write_s = time.perf_counter() - w0
            print(f"{'CaptureWriter (gzip)':<34} {len(records):>7} records  {len(records) / write_s:>10,.0f} rec/s wall"
                  f"  ({path.stat().st_size / 1e6:.1f} MB)")
            capture = CaptureReader(path)
            report("CaptureReader (gzip)", *timed(lambda: count(capture), args.rounds), span_s)


if __name__ == "__main__":
    main()
