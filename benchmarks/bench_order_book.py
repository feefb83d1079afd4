"""Order book benchmark for the connector's market-data side.

(a) Diffs applied per second on the real BTCUSDT diffs (2024-08-08/09 capture in ../shared/data,
    6,495 diffs of ~46 level changes each), loaded and parsed before timing, through the path
    the tracker uses for every diff: ``BookSync.on_diff`` (sequence checks) ->
    ``OrderBook.apply_raw_diffs``. Variants show what else costs: building the OrderBookMessage
    from the parsed payload, JSON parsing of the frame, reading the top of book after every diff
    (the worst case for the lazily sorted index), and the Decimal row path
    (ActiveOrderTracker -> OrderBook.apply_diffs). Target: >= 50,000 diffs/s for the tracker path.
(b) Frames per second from a mock exchange stream through OrderBookTrackerDataSource into
    OrderBookTracker: the mock runs in a child process with random order flow on BTCUSDT and
    ETHUSDT (engine operations published as REST requests publish them); the tracker follows
    both books (depth@100ms) and their trades over real sockets. At the end the flow stops and
    both books are checked against the mock's REST depth at the same update id.

    python benchmarks/bench_order_book.py [--rounds 5] [--seconds 6] [--part a|b|both]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import multiprocessing as mp
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.active_order_tracker import ActiveOrderTracker  # noqa: E402
from connector.config import VenueConfig  # noqa: E402
from connector.order_book import OrderBook  # noqa: E402
from connector.order_book_message import OrderBookMessage  # noqa: E402
from connector.order_book_tracker import BookSync, OrderBookTracker  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "binance-spot-btcusdt-2024-08-08"
FILES = ("btcusdt_20240808.gz", "btcusdt_20240809.gz")
PAIR = "BTC-USDT"


# ----------------------------------------------------------------------------- (a) captured diffs
def load_capture() -> tuple[dict[str, Any], list[bytes]]:
    """The REST snapshot and the raw depth frames (payload JSON only) in capture order."""
    snapshot: dict[str, Any] | None = None
    frames: list[bytes] = []
    for name in FILES:
        with gzip.open(DATA / name, "rb") as fh:
            for line in fh:
                raw = line.partition(b" ")[2]
                if raw.startswith(b'{"lastUpdateId"'):
                    snapshot = orjson.loads(raw)
                elif b"@depth" in raw[:40]:
                    frames.append(raw)
    if snapshot is None:
        raise SystemExit("no snapshot line in the capture")
    return snapshot, frames


def timed(rounds: int, run: Callable[[], int]) -> tuple[float, int]:
    """Best and median diffs/s over ``rounds`` runs of ``run`` (which returns the diffs done)."""
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        done = run()
        rates.append(done / (time.perf_counter() - t0))
    return max(rates), int(statistics.median(rates))


def bench_a(rounds: int) -> dict[str, tuple[float, int]]:
    if not DATA.exists():
        raise SystemExit(f"captured data not found: {DATA}")
    snapshot, frames = load_capture()
    payloads = [orjson.loads(f)["data"] for f in frames]
    lid = snapshot["lastUpdateId"]
    payloads = [p for p in payloads if p["u"] > lid]  # the ones a synced book applies
    messages = [OrderBookMessage.diff(p, PAIR, 1) for p in payloads]
    snap_msg = OrderBookMessage.snapshot(snapshot, PAIR, 0.0)
    n = len(messages)

    def fresh() -> BookSync:
        sync = BookSync(PAIR)
        sync.on_connection(1)
        sync.on_snapshot(snap_msg)
        return sync

    def tracker_path() -> int:
        sync = fresh()
        on_diff = sync.on_diff
        for m in messages:
            on_diff(m)
        assert sync.stats.diffs_applied == n
        return n

    def with_message_build() -> int:
        sync = fresh()
        on_diff, diff = sync.on_diff, OrderBookMessage.diff
        for p in payloads:
            on_diff(diff(p, PAIR, 1))
        return n

    raw = [f for f, p in zip(frames, (orjson.loads(f)["data"] for f in frames), strict=True) if p["u"] > lid]

    def with_json() -> int:
        sync = fresh()
        on_diff, diff, loads = sync.on_diff, OrderBookMessage.diff, orjson.loads
        for f in raw:
            on_diff(diff(loads(f)["data"], PAIR, 1))
        return n

    def read_every_diff() -> int:
        sync = fresh()
        book = sync.order_book
        for m in messages:
            sync.on_diff(m)
            _ = book.best_bid, book.best_ask
        return n

    def row_path() -> int:
        tracker = ActiveOrderTracker()
        book = OrderBook()
        book.apply_snapshot(*tracker.convert_snapshot_message_to_order_book_row(snap_msg), lid)
        for m in messages:
            bids, asks = tracker.convert_diff_message_to_order_book_row(m)
            book.apply_diffs(bids, asks, m.update_id)
        return n

    # The books all agree (checked once, outside the timing).
    a, b = fresh(), fresh()
    for m in messages:
        a.on_diff(m)
        b.on_diff(m)
        _ = b.order_book.best_bid
    assert a.order_book.snapshot == b.order_book.snapshot
    levels = sum(len(p["b"]) + len(p["a"]) for p in payloads)
    # The preloaded capture is millions of container objects that a running tracker would not
    # hold; keep the cyclic GC from rescanning them during the timed runs.
    gc.collect()
    gc.freeze()
    print(f"(a) {n} BTCUSDT diffs, {levels / n:.1f} level changes per diff on average")
    out = {}
    for name, fn in (("tracker path (BookSync -> OrderBook), no reads", tracker_path),
                     ("  + OrderBookMessage built from the parsed payload", with_message_build),
                     ("  + JSON parse of the frame (orjson)", with_json),
                     ("tracker path + top of book read after every diff", read_every_diff),
                     ("Decimal row path (ActiveOrderTracker -> apply_diffs)", row_path)):
        best, median = timed(rounds, fn)
        out[name] = (best, median)
        print(f"    {name:<55} {best:>10,.0f} diffs/s best, {median:>10,} median")
    return out


# ----------------------------------------------------------------------------- (b) mock stream
MOCK_SYMBOLS = {"BTCUSDT": ("65000", "0.00001"), "ETHUSDT": ("3500", "0.0001")}


def _server_main(conn: Any, seconds: float, seed: int) -> None:
    """Child process: the mock exchange plus random flow for ``seconds``, then idle."""
    from mock_exchange.config import ServerConfig
    from mock_exchange.engine import units
    from mock_exchange.engine.types import EngineError
    from mock_exchange.testing import MockServer

    async def main() -> None:
        cfg = ServerConfig()
        cfg.rate_limits.request_weight_per_minute = 10_000_000
        async with MockServer(cfg) as srv:
            state = srv.state
            eng = state.engine
            rng = random.Random(seed)
            accounts = [f"bench{i}" for i in range(8)]
            for a in accounts:
                eng.create_account(a, {"BTC": units.to_units("100000"), "ETH": units.to_units("1000000"),
                                       "USDT": units.to_units("10000000000")})
            open_orders: list[tuple[str, str, int]] = []
            loop = asyncio.get_running_loop()
            conn.send(srv.base_url)
            await loop.run_in_executor(None, conn.recv)  # the client is tracking: start the flow
            end = loop.time() + seconds
            ops = 0
            while loop.time() < end:
                for _ in range(50):
                    symbol = rng.choice(("BTCUSDT", "ETHUSDT"))
                    mid, step = (units.to_units(x) for x in MOCK_SYMBOLS[symbol])
                    acct = rng.choice(accounts)
                    r = rng.random()
                    try:
                        if r < 0.3 and open_orders:
                            a, s, oid = open_orders.pop(rng.randrange(len(open_orders)))
                            eng.cancel_order(a, s, order_id=oid)
                        elif r < 0.45:
                            eng.place_order(acct, symbol, rng.choice(("BUY", "SELL")), "MARKET",
                                            quantity=rng.randint(1, 200) * step)
                        else:
                            side = rng.choice(("BUY", "SELL"))
                            off = rng.randint(-20, 300) * units.to_units("0.01")
                            res = eng.place_order(acct, symbol, side, "LIMIT", quantity=rng.randint(5, 2000) * step,
                                                  price=mid - off if side == "BUY" else mid + off, time_in_force="GTC")
                            if res.order.is_open:
                                open_orders.append((acct, symbol, res.order.order_id))
                    except EngineError:
                        pass
                    state.publish()
                    ops += 1
                await asyncio.sleep(0)
            conn.send(ops)
            await loop.run_in_executor(None, conn.recv)  # serve until the client is done checking

    asyncio.run(main())


async def _client(base_url: str, conn: Any, seconds: float) -> dict[str, Any]:
    from connector.order_book_data_source import OrderBookTrackerDataSource

    pairs = ["BTC-USDT", "ETH-USDT"]
    config = VenueConfig.custom(base_url)
    tracker = OrderBookTracker(config, pairs, min_snapshot_interval_s=0.2, first_diff_wait_s=0.2)
    ds: OrderBookTrackerDataSource = tracker.data_source
    await tracker.start()
    await tracker.wait_ready(30)
    conn.send("go")
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    frames0 = ds.diff_stats.frames + ds.trade_stats.frames
    diffs0 = tracker.diffs_applied
    trades0 = sum(s.trades for s in tracker.stats.values())
    await asyncio.sleep(seconds)
    elapsed = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    frames = ds.diff_stats.frames + ds.trade_stats.frames - frames0
    diffs = tracker.diffs_applied - diffs0
    trades = sum(s.trades for s in tracker.stats.values()) - trades0
    ops = await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    # Flow stopped: the books must equal the mock's at the same update id.
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for pair in pairs:
            for _ in range(100):
                snap = await ds.get_snapshot(session, pair, 5000)
                if tracker.last_update_id(pair) == snap["lastUpdateId"]:
                    break
                await asyncio.sleep(0.1)
            book = tracker.order_books[pair]
            expected = ([(Decimal(p), Decimal(q)) for p, q in snap["bids"]],
                        [(Decimal(p), Decimal(q)) for p, q in snap["asks"]])
            got = tuple([(r.price, r.amount) for r in side] for side in book.snapshot)
            assert got == expected, f"{pair}: tracker book differs from the mock's"
    await tracker.stop()
    conn.send("done")
    return {"elapsed": elapsed, "frames": frames, "diffs": diffs, "trades": trades, "ops": ops,
            "resyncs": tracker.resyncs, "cpu": cpu}


def bench_b(seconds: float) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_server_main, args=(child, seconds, 3), daemon=True)
    proc.start()
    try:
        base_url = parent.recv()
        res = asyncio.run(_client(base_url, parent, seconds))
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
    el = res["elapsed"]
    print(f"(b) mock stream -> data source -> tracker, BTCUSDT + ETHUSDT, {el:.1f} s of flow "
          f"({res['ops'] / el:,.0f} engine ops/s in the mock process)")
    print(f"    {res['frames'] / el:>10,.0f} frames/s received and processed "
          f"({res['diffs'] / el:,.0f} diffs/s applied, {res['trades'] / el:,.0f} trades/s); "
          f"resyncs {res['resyncs']}; books equal the mock's at the end")
    cpu = res["cpu"]
    print(f"    client CPU {cpu / el:.0%} of one core: {res['frames'] / max(cpu, 1e-9):,.0f} frames per CPU-second "
          f"(the client's capacity; the rate above is what the mock's flow produced)")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--part", choices=("a", "b", "both"), default="both")
    args = ap.parse_args()
    if args.part in ("a", "both"):
        bench_a(args.rounds)
    if args.part in ("b", "both"):
        bench_b(args.seconds)


if __name__ == "__main__":
    main()
