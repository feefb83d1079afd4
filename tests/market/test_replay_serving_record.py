"""Issue 5 §3 acceptance: record a running mock's synthesized market with ``mockex record``'s
recorder, replay the recording into a second mock, and find the first mock's book and trades
there: in the engine, in the REST depth and in a book kept from the second mock's stream."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from mock_exchange.config import ServerConfig
from mock_exchange.engine import units
from mock_exchange.market.capture import CaptureWriter
from mock_exchange.market.recorder import Recorder, venue_urls
from mock_exchange.market.replay.serving import ReplayDriver
from mock_exchange.market.synth import WallClockDriver
from mock_exchange.testing import MockServer
from tests.market.replay_serving_support import STREAMS, Collector, StreamBook, assert_contiguous, rest_levels

pytestmark = pytest.mark.timeout(90)


def decimal_book(depth: tuple[int, list[tuple[int, int]], list[tuple[int, int]]]) -> tuple[object, ...]:
    last_id, bids, asks = depth
    to = units.to_decimal
    return last_id, [(to(p), to(q)) for p, q in bids], [(to(p), to(q)) for p, q in asks]


async def test_a_recorded_synth_market_replays_into_the_same_book_and_trades(tmp_path: Path) -> None:
    path = tmp_path / "synth.capture.gz"
    async with MockServer(ServerConfig()) as src:
        synth = WallClockDriver(src.state, "calm", seed=5, symbols=["BTCUSDT"])
        market = asyncio.create_task(synth.run())
        rest, ws = venue_urls(src.base_url)
        writer = CaptureWriter(path, src.base_url, ["BTCUSDT"], started_ns=time.time_ns())
        recorder = Recorder(["BTCUSDT"], writer, rest, ws, now_ns=time.time_ns)
        stop = asyncio.Event()
        recording = asyncio.create_task(recorder.run(30.0, stop))
        deadline = time.monotonic() + 20
        while recorder.stats.snapshots < 1 or recorder.stats.per_stream["btcusdt@trade"] < 30:
            assert time.monotonic() < deadline, recorder.stats
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        market.cancel()  # the market stands still from here
        await asyncio.gather(market, return_exceptions=True)
        await asyncio.sleep(0.35)  # its last depth@100ms diff goes out and is recorded
        stop.set()
        stats = await recording
        writer.close()
        expected = decimal_book(src.state.engine.depth("BTCUSDT", 5000))
        src_trades = {t.trade_id: t for t in src.state.engine.market_data.trades("BTCUSDT", 1000)}
    assert stats.gaps == 0 and stats.snapshots == 1
    assert 0 < len(expected[1]) < 1000 and 0 < len(expected[2]) < 1000  # the recorded snapshot holds it all

    async with MockServer(ServerConfig()) as dst, aiohttp.ClientSession() as session:
        stream = Collector(await session.ws_connect(f"ws://127.0.0.1:{dst.port}/stream?streams={STREAMS}"))
        driver = ReplayDriver(dst.state, path, speed="max")
        driver.start()
        while not (driver.served["BTCUSDT"].loaded and driver.records > 20):
            driver.play_until(None, 5)
            await asyncio.sleep(0)
        snap = (await dst.anonymous().public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=5000)).json()
        runner = asyncio.create_task(driver.run())
        await stream.wait_for(lambda: driver.done, timeout=30)
        await stream.settle()
        final = (await dst.anonymous().public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=5000)).json()
        replayed_trades = (await dst.anonymous().public("GET", "/api/v3/trades", symbol="BTCUSDT", limit=1000)).json()
        runner.cancel()
        await stream.ws.close()

    assert decimal_book(dst.state.engine.depth("BTCUSDT", 5000)) == expected  # ids included
    assert (final["lastUpdateId"], *rest_levels(final)) == expected
    book = StreamBook(snap["lastUpdateId"], snap["bids"], snap["asks"])
    diffs = stream.of("depth@100ms")
    assert_contiguous(diffs)
    for d in diffs:
        book.apply(d)
    assert (book.last_id, *book.levels()) == expected
    assert len(replayed_trades) >= 30
    for t in replayed_trades:  # every recorded print, with the first mock's ids and numbers
        mine = src_trades[t["id"]]
        assert (Decimal(t["price"]), Decimal(t["qty"]), t["isBuyerMaker"]) == (
            units.to_decimal(mine.price), units.to_decimal(mine.qty), mine.is_buyer_maker)
    ids = [t["id"] for t in replayed_trades]
    assert ids == list(range(ids[0], ids[0] + len(ids))) and ids[-1] == max(src_trades)
    assert len(stream.of("@trade")) == len(ids)
