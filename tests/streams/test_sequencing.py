"""Depth diffs, REST snapshots, partial depth and bookTicker share one update-id sequence: a
client following the venue's local-order-book procedure rebuilds exactly the engine's book
under heavy random order flow, and bookTicker reports every change of the best levels."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from mock_exchange.engine import units
from mock_exchange.testing import MockServer
from tests.streams.flow import Collector, DeltaRecorder, LocalBook, RandomFlow, best, snapshot

SYMBOL = "BTCUSDT"


def depth_frames(c: Collector, key: str = "e") -> list[dict[str, Any]]:
    out = []
    for f in c.frames:
        data = f.get("data", f) if isinstance(f, dict) else f
        if isinstance(data, dict) and data.get(key) == "depthUpdate":
            out.append(data)
    return out


async def catch_up(book: LocalBook, c: Collector, engine_id: int, timeout: float = 5.0) -> None:
    """Apply buffered diffs until the local book reaches ``engine_id``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    done = 0
    while True:
        frames = depth_frames(c)
        for ev in frames[done:]:
            book.apply(ev)
        done = len(frames)
        if book.last_id >= engine_id:
            assert book.last_id == engine_id
            return
        assert loop.time() < deadline, f"diffs stopped at {book.last_id}, engine at {engine_id}"
        await asyncio.sleep(0.02)


async def test_rebuild_book_from_diffs_under_heavy_flow(server: MockServer, session: aiohttp.ClientSession) -> None:
    state = server.state
    base = f"ws://127.0.0.1:{server.port}"
    fast = Collector(await session.ws_connect(f"{base}/ws/btcusdt@depth@100ms"))
    slow = Collector(await session.ws_connect(f"{base}/stream?streams=btcusdt@depth"))
    recorder = DeltaRecorder(state, SYMBOL)
    flow = RandomFlow(state)
    await asyncio.sleep(0.05)

    # Flow first, so the streams are mid-sequence when the client starts (as on the venue).
    await flow.run(1000)
    running = asyncio.create_task(flow.run(6000, pause_every=100))
    books = {"fast": LocalBook(), "slow": LocalBook()}
    collectors = {"fast": fast, "slow": slow}
    for name, book in books.items():
        c = collectors[name]
        first = await c.wait_for(lambda f: f.get("data", f).get("e") == "depthUpdate")
        first = first.get("data", first)
        snap = await snapshot(server)
        while snap["lastUpdateId"] < first["U"]:  # step 3: the snapshot is older than the first event
            snap = await snapshot(server)
        book.load(snap)

    # While the flow runs: apply what arrives and keep copies of the fast book now and then.
    seen: list[tuple[int, Any]] = []
    done = 0
    while not running.done():
        frames = depth_frames(fast)
        for ev in frames[done:]:
            books["fast"].apply(ev)
        done = len(frames)
        seen.append((books["fast"].last_id, books["fast"].as_units()))
        await asyncio.sleep(0.15)
    await running

    for phase in range(2):
        target = state.engine.last_update_id(SYMBOL)
        expected = state.engine.depth(SYMBOL, 5000)
        for name, book in books.items():
            await catch_up(book, collectors[name], target)
            bids, asks = book.as_units()
            assert (book.last_id, bids, asks) == expected, f"{name} book differs after flow phase {phase}"
        if phase == 0:
            await flow.run(2000, pause_every=100)
    assert flow.ops == 9000
    # Many frames were applied (not one big catch-up); the exact count depends on machine speed.
    assert books["fast"].applied >= 5 and books["slow"].applied >= 2

    # The copies taken mid-flow equal the engine's book at the same update id.
    checked = 0
    wanted = dict(seen)
    for uid, bids, asks in recorder.replay():
        if uid in wanted:
            assert wanted.pop(uid) == (sorted(bids.items(), reverse=True), sorted(asks.items()))
            checked += 1
    assert checked >= 3
    # Coalescing: 100 ms frames cover many engine updates each.
    assert len(depth_frames(fast)) * 5 < state.engine.last_update_id(SYMBOL) - recorder.start_id


async def test_book_ticker_and_partial_depth_follow_every_change(
    server: MockServer, session: aiohttp.ClientSession
) -> None:
    state = server.state
    base = f"ws://127.0.0.1:{server.port}"
    recorder = DeltaRecorder(state, SYMBOL)
    combined = Collector(await session.ws_connect(
        f"{base}/stream?streams=btcusdt@bookTicker/btcusdt@depth5@100ms/btcusdt@depth20"))
    await asyncio.sleep(0.05)
    flow = RandomFlow(state, seed=11)
    await flow.run(3000)
    final_id = state.engine.last_update_id(SYMBOL)
    await combined.wait_for(lambda f: f["stream"] == "btcusdt@bookTicker" and f["data"]["u"] == final_id
                            or f["stream"] == "btcusdt@depth5@100ms" and f["data"]["lastUpdateId"] == final_id)
    await asyncio.sleep(1.2)  # one more 1000 ms partial-depth push

    # Expected bookTicker frames: one per change of (bid, bid qty, ask, ask qty), u = that update.
    expected_bt = []
    partial_at: dict[int, tuple[list[list[str]], list[list[str]], list[list[str]], list[list[str]]]] = {}
    wanted = {f["data"]["lastUpdateId"] for f in combined.frames if "lastUpdateId" in f["data"]}
    prev = best(recorder.start_bids, recorder.start_asks)
    for uid, bids, asks in recorder.replay():
        now = best(bids, asks)
        if now != prev:
            expected_bt.append((uid, now))
            prev = now
        if uid in wanted:
            top_b = sorted(bids.items(), reverse=True)
            top_a = sorted(asks.items())
            partial_at[uid] = tuple(  # type: ignore[assignment]
                [[units.fmt(p), units.fmt(q)] for p, q in side[:n]] for n in (5, 20) for side in (top_b, top_a)
            )
    got_bt = [
        (f["data"]["u"], (units.to_units(f["data"]["b"]), units.to_units(f["data"]["B"]),
                          units.to_units(f["data"]["a"]), units.to_units(f["data"]["A"])))
        for f in combined.frames if f["stream"] == "btcusdt@bookTicker"
    ]  # fmt: skip
    assert len(expected_bt) > 100
    assert got_bt == expected_bt
    assert all(f["data"]["s"] == SYMBOL for f in combined.frames if f["stream"] == "btcusdt@bookTicker")

    partials = [f for f in combined.frames if f["stream"] != "btcusdt@bookTicker"]
    assert len(partials) > 5
    for f in partials:
        d = f["data"]
        b5, a5, b20, a20 = partial_at[d["lastUpdateId"]]
        if f["stream"] == "btcusdt@depth5@100ms":
            assert (d["bids"], d["asks"]) == (b5, a5)
        else:
            assert (d["bids"], d["asks"]) == (b20, a20)
    last = [f["data"] for f in partials if f["stream"] == "btcusdt@depth20"][-1]
    assert last["lastUpdateId"] == final_id
