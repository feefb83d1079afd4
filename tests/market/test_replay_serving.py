"""Serving the shared BTCUSDT capture (``mockex serve --replay``) over real sockets: recorded
frames arrive unchanged and on time, the REST depth and any book kept from the stream (ours,
and the connector's ``OrderBookTracker``) are the replayed book, and the command line refuses
a bad file with its name and line."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import re
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from connector.config import VenueConfig
from connector.order_book_tracker import OrderBookTracker
from mock_exchange.config import ServerConfig
from mock_exchange.market.readers.records import ReplayFormatError
from mock_exchange.market.replay.serving import ReplayDriver, check_replay
from mock_exchange.testing import MockServer
from tests.conftest import shared_file
from tests.market.replay_serving_support import STREAMS, Collector, StreamBook, assert_contiguous, rest_levels
from tests.serve_process import start_serve, stop_serve

pytestmark = pytest.mark.timeout(90)

BTCUSDT = ("binance-spot-btcusdt-2024-08-08", "btcusdt_20240808.gz")


def recorded_slice(tmp_path: Path, lines: int) -> tuple[Path, list[tuple[int, dict[str, Any]]]]:
    """The first ``lines`` lines of the shared capture as a file, and its stream frames
    (receive ms, combined-stream envelope)."""
    src = shared_file(*BTCUSDT)
    with gzip.open(src, "rb") as fh:
        head = list(itertools.islice(fh, lines))
    path = tmp_path / "btcusdt_head.txt"
    path.write_bytes(b"".join(head))
    frames = []
    for line in head:
        stamp, _, body = line.partition(b" ")
        obj = orjson.loads(body)
        if "stream" in obj:
            frames.append((int(stamp) // 1_000_000, obj))
    return path, frames


def server_config() -> ServerConfig:
    cfg = ServerConfig()
    cfg.rate_limits.request_weight_per_minute = 1_000_000
    return cfg


async def collect_replay(srv: MockServer, driver: ReplayDriver) -> Collector:
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(f"ws://127.0.0.1:{srv.port}/stream?streams={STREAMS}")
    stream = Collector(ws)
    stream.session = session  # type: ignore[attr-defined]
    driver.start()
    task = asyncio.create_task(driver.run())
    try:
        await stream.wait_for(lambda: driver.done, timeout=30)
        await stream.settle()
    finally:
        task.cancel()
        await ws.close()
        await session.close()
    return stream


async def test_recorded_frames_arrive_unchanged_at_their_recorded_times(tmp_path: Path) -> None:
    path, recorded = recorded_slice(tmp_path, 2500)
    frames: list[tuple[str, dict[str, Any]]] = []
    arrivals: list[int] = []  # wall-clock ms each frame arrived at (the server's clock is the wall clock)
    async with MockServer(server_config()) as srv, aiohttp.ClientSession() as session:
        driver = ReplayDriver(srv.state, path, speed=20)
        ws = await session.ws_connect(f"ws://127.0.0.1:{srv.port}/stream?streams={STREAMS}")

        async def read() -> None:
            async for msg in ws:
                obj = orjson.loads(msg.data)
                frames.append((obj["stream"], obj["data"]))
                arrivals.append(time.time_ns() // 1_000_000)

        reader = asyncio.create_task(read())
        driver.start()
        task = asyncio.create_task(driver.run())
        try:
            deadline = time.monotonic() + 30
            while not (driver.done and len(frames) >= len(recorded)):
                assert time.monotonic() < deadline, (driver.records, len(frames))
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
            reader.cancel()
            await ws.close()
    assert len(frames) == len(recorded)
    offset = driver._clock_offset
    late: list[int] = []
    for (stream_name, data), (local_ms, rec), arrived in zip(frames, recorded, arrivals, strict=True):
        assert stream_name == rec["stream"]
        expected = dict(rec["data"])
        for key in ("E", "T"):  # venue times are mapped onto the server clock, nothing else changes
            if key in expected:
                assert data[key] == driver.server_time(expected[key]), key
                expected[key] = data[key]
        assert data == expected
        due = driver.server_time(local_ms - offset)
        assert arrived >= due - 5, (arrived - due, rec)  # never before its time
        late.append(arrived - due)
    late.sort()
    assert late[len(late) // 2] < 50 and late[-1] < 1000, (late[len(late) // 2], late[-1])  # and on time
    diffs = [d for s, d in frames if s.endswith("depth@100ms")]
    assert diffs[0]["U"] == recorded[0][1]["data"]["U"] and len(diffs) > 100


async def test_keep_times_publishes_the_recorded_payloads_byte_for_byte(tmp_path: Path) -> None:
    path, recorded = recorded_slice(tmp_path, 1500)
    async with MockServer(server_config()) as srv:
        stream = await collect_replay(srv, ReplayDriver(srv.state, path, speed="max", keep_times=True))
    assert [(s, d) for s, d in stream.frames] == [(r["stream"], r["data"]) for _, r in recorded]


async def test_rest_depth_and_books_kept_from_the_stream_are_the_replayed_book(tmp_path: Path) -> None:
    path, _ = recorded_slice(tmp_path, 3000)
    async with MockServer(server_config()) as srv, aiohttp.ClientSession() as session:
        driver = ReplayDriver(srv.state, path, speed=10)
        driver.start()
        tracker = OrderBookTracker(VenueConfig.custom(srv.base_url), ["BTC-USDT"], min_snapshot_interval_s=0.1,
                                   first_diff_wait_s=0.2)  # fmt: skip
        await tracker.start()
        ws = await session.ws_connect(f"ws://127.0.0.1:{srv.port}/stream?streams={STREAMS}")
        stream = Collector(ws)
        task = asyncio.create_task(driver.run())
        try:
            await stream.wait_for(lambda: driver.served["BTCUSDT"].loaded and driver.records > 200)
            snap = (await srv.anonymous().public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=5000)).json()
            await stream.wait_for(lambda: driver.done, timeout=30)
            await stream.settle()
            final = (await srv.anonymous().public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=5000)).json()
            # A book kept by the documented procedure from the stream and that snapshot.
            book = StreamBook(snap["lastUpdateId"], snap["bids"], snap["asks"])
            diffs = stream.of("depth@100ms")
            for d in diffs:
                book.apply(d)
            assert book.applied > 20 and book.last_id == final["lastUpdateId"] == diffs[-1]["u"]
            assert book.levels() == rest_levels(final)
            # The connector's tracker, synced the way it syncs against the venue.
            deadline = time.monotonic() + 10
            while tracker.last_update_id("BTC-USDT") != final["lastUpdateId"]:
                assert time.monotonic() < deadline, tracker.stats
                await asyncio.sleep(0.05)
            bids, asks = tracker.order_books["BTC-USDT"].snapshot
            assert ([(r.price, r.amount) for r in bids], [(r.price, r.amount) for r in asks]) == rest_levels(final)
            assert tracker.stats["BTC-USDT"].gaps == 0
        finally:
            task.cancel()
            await tracker.stop()
            await ws.close()
    assert_contiguous(diffs)  # as recorded (its first diffs predate its snapshot: the sync skips them)


async def test_max_speed_serves_everything_in_order_at_the_clients_pace(tmp_path: Path) -> None:
    path, recorded = recorded_slice(tmp_path, 12_000)
    async with MockServer(server_config()) as srv, aiohttp.ClientSession() as session:
        driver = ReplayDriver(srv.state, path, speed="max")
        ws = await session.ws_connect(f"ws://127.0.0.1:{srv.port}/stream?streams={STREAMS}")
        driver.start()
        task = asyncio.create_task(driver.run())
        got: list[dict[str, Any]] = []
        try:
            async for msg in ws:
                got.append(orjson.loads(msg.data))
                if len(got) == 500:
                    await asyncio.sleep(0.5)  # a client that stops reading for a while
                if len(got) == len(recorded):
                    break
        finally:
            task.cancel()
            await ws.close()
        hub = next(h.__self__ for h in srv.state.listeners if type(getattr(h, "__self__", None)).__name__ == "StreamHub")
        assert hub.dropped_slow == 0
    assert [g["stream"] for g in got] == [r["stream"] for _, r in recorded]
    trades = [g["data"]["t"] for g in got if g["stream"].endswith("@trade")]
    assert trades == sorted(trades) and trades == [r["data"]["t"] for _, r in recorded if r["stream"].endswith("@trade")]


def test_check_replay_reads_the_whole_file_and_names_a_bad_line(tmp_path: Path) -> None:
    path, recorded = recorded_slice(tmp_path, 400)
    summary = check_replay(path)
    assert summary.records == len(recorded) + 1 and summary.symbols == ["BTCUSDT"] and summary.span_s > 0.5
    lines = path.read_bytes().splitlines(keepends=True)
    lines[150] = lines[150][:40] + b"\n"  # a frame cut short
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"".join(lines))
    with pytest.raises(ReplayFormatError, match=rf"{re.escape(str(bad))}:151: "):
        check_replay(bad)


def test_mockex_serve_refuses_a_bad_replay_file_with_exit_code_2(tmp_path: Path) -> None:
    path, _ = recorded_slice(tmp_path, 200)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[120] = b"1723161254087891268 {\"stream\": \"btcusdt@trade\", \"data\": {\"e\": \"trade\"}}\n"
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"".join(lines))
    for args in (["--replay", str(bad)], ["--replay", str(tmp_path / "missing.gz")],
                 ["--replay", str(path), "--speed", "fast"]):  # fmt: skip
        proc = subprocess.run([sys.executable, "-m", "mock_exchange.cli", "serve", "--port", "0", *args],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
    assert f"{bad}:121:" in subprocess.run(
        [sys.executable, "-m", "mock_exchange.cli", "serve", "--port", "0", "--replay", str(bad)],
        capture_output=True, text=True, timeout=60).stderr  # fmt: skip


def test_mockex_serve_replay_serves_the_recorded_book(tmp_path: Path) -> None:
    path, _ = recorded_slice(tmp_path, 3000)
    proc, info = start_serve("--replay", str(path), "--speed", "max")
    try:
        url, market = info.get("url", ""), info.get("market", "")
        assert url and "replay" in market and "BTCUSDT" in market
        time.sleep(1.0)
        with urllib.request.urlopen(f"{url}/api/v3/depth?symbol=BTCUSDT&limit=5") as resp:
            depth = orjson.loads(resp.read())
        assert depth["lastUpdateId"] > 50_093_239_218  # the recorded ids, past the recorded snapshot
        assert Decimal(depth["bids"][0][0]) < Decimal(depth["asks"][0][0])
        with urllib.request.urlopen(f"{url}/api/v3/trades?symbol=BTCUSDT&limit=5") as resp:
            trades = orjson.loads(resp.read())
        assert trades and trades[-1]["id"] > 3_735_683_259
    finally:
        _, err = stop_serve(proc)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_a_scenario_replays_the_market_in_virtual_time_the_same_way_twice(tmp_path: Path) -> None:
    from scenarios.model import ClockSpec, MarketSpec, Scenario, StrategySpec
    from scenarios.runner import run_scenario

    path, _ = recorded_slice(tmp_path, 6000)
    scenario = Scenario(name="replay", clock=ClockSpec(duration_ms=20_000),
                        market=MarketSpec(kind="replay", file=str(path), speed=1.0),
                        strategy=StrategySpec(name="market_making", trading_pair="BTC-USDT"))  # fmt: skip
    first, second = run_scenario(scenario), run_scenario(scenario)
    assert first.passed, first.failure_text
    mids = [s.mid for s in first.record.samples]
    assert mids and all(Decimal("61700") < m < Decimal("61950") for m in mids)  # the recorded market's mid
    assert len(set(mids)) > 3  # and it moves with the recording
    assert first.record.orders and first.record.orders == second.record.orders
    assert first.record.samples == second.record.samples
