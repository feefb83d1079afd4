"""Market-stream benchmark: frames/s delivered over real sockets under heavy synthetic order flow.

The server runs in a child process (the full aiohttp app from ``build_app``) with a flow task on
its own event loop that places, cancels and crosses orders through the engine and publishes
after every operation, as a REST request would. Clients run in other processes (aiohttp) and
count the frames they receive; every client checks that its depth diffs are contiguous.

(a) one client on ``btcusdt@depth@100ms`` + ``btcusdt@trade`` + ``btcusdt@bookTicker``;
(a, stream layer) the same client while the server replays batches recorded beforehand from a
    twin exchange: the stream layer's own capacity without the engine's cost per operation;
(b) ``--clients`` connections (default 100, half raw, half combined) on the same streams, spread
    over ``--procs`` client processes.

Figures: frames/s received (a: by the one client, b: summed over all clients), the flow's
engine operations/s, and the CPU the server process used (``resource.getrusage``; 100 % = one
core). The symbol is configured with PRICE_FILTER and LOT_SIZE only: filters that need the
average price (NOTIONAL, PERCENT_PRICE) make each order pay a market-data scan that grows with
the trades of the current second, which would measure the engine rather than the streams.

    python benchmarks/bench_streams.py [--seconds 8] [--clients 100] [--procs 4] [--scenario a|b|both]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
from pathlib import Path
from typing import Any

import aiohttp
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STREAMS = ["btcusdt@depth@100ms", "btcusdt@trade", "btcusdt@bookTicker"]
SYMBOLS = {
    "symbols": [{
        "symbol": "BTCUSDT", "base": "BTC", "quote": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
        ],
    }]
}  # fmt: skip


# ----------------------------------------------------------------------------- server process
class Flow:
    """Heavy synthetic flow on BTCUSDT from 20 accounts, publishing after every operation:
    70 % passive orders at or near the touch (many move the best bid/ask), 5 % cancels and
    25 % taker orders (IOC) that sweep two or three resting orders each. Passive and taker
    volumes balance, so the book neither drains nor grows without bound."""

    def __init__(self, state: Any, seed: int = 1) -> None:
        from mock_exchange.engine import units

        self.state = state
        self.eng = state.engine
        self.rng = random.Random(seed)
        self.tick = units.to_units("0.01")
        self.lot = units.to_units("0.00001")
        self.mid = units.to_units("65000")
        self.accounts = [f"f{i}" for i in range(20)]
        for a in self.accounts:
            self.eng.create_account(a, {"BTC": units.to_units("100000"), "USDT": units.to_units("10000000000")})
        self.open: list[tuple[str, int]] = []
        self.ops = 0
        for i in range(1, 201):  # a 200-level book each side
            for side, sign in (("BUY", -1), ("SELL", 1)):
                self._place(self.rng.choice(self.accounts), side, self.mid + sign * i * self.tick, "GTC",
                            self.rng.randint(100, 1500) * self.lot)
        self.state.publish()

    def _place(self, acct: str, side: str, price: int, tif: str, qty: int) -> None:
        res = self.eng.place_order(acct, "BTCUSDT", side, "LIMIT", quantity=qty, price=price, time_in_force=tif)
        if res.order.is_open:
            self.open.append((acct, res.order.order_id))

    def step(self) -> None:
        from mock_exchange.engine.types import EngineError

        rng, eng = self.rng, self.eng
        r = rng.random()
        acct = self.accounts[int(r * 1000) % 20]
        side = "BUY" if rng.random() < 0.5 else "SELL"
        try:
            if r < 0.70:
                bp, _, ap, _ = eng.best_bid_ask("BTCUSDT")
                off = rng.randint(-1, 6) * self.tick  # -1 improves the touch, 0 joins it
                if side == "BUY":
                    price = (bp or self.mid) - off
                    if ap and price >= ap:
                        price = ap - self.tick
                else:
                    price = (ap or self.mid) + off
                    if bp and price <= bp:
                        price = bp + self.tick
                self._place(acct, side, price, "GTC", rng.randint(100, 1500) * self.lot)
            elif r < 0.75 and self.open:
                i = rng.randrange(len(self.open))
                self.open[i], self.open[-1] = self.open[-1], self.open[i]
                owner, oid = self.open.pop()
                eng.cancel_order(owner, "BTCUSDT", order_id=oid)
            else:
                bp, _, ap, _ = eng.best_bid_ask("BTCUSDT")
                px = (ap + 50 * self.tick) if side == "BUY" else (bp - 50 * self.tick)
                if ap and bp:
                    self._place(acct, side, px, "IOC", rng.randint(1000, 3000) * self.lot)
        except EngineError:
            pass
        self.ops += 1
        self.state.publish()
        if len(self.open) > 20_000:  # keep the bookkeeping bounded: forget the oldest ids
            del self.open[:5000]

    async def run(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            for _ in range(40):
                self.step()
            await asyncio.sleep(0)


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def server_main(port_q: Any, symbols_path: str) -> None:
    from aiohttp import web

    from mock_exchange.config import ServerConfig, WebSocketSettings
    from mock_exchange.server import build_app
    from mock_exchange.server.state import ExchangeState
    from mock_exchange.server.streams import HUB
    from mock_exchange.testing import bound_port

    async def main() -> None:
        cfg = ServerConfig(symbols=symbols_path, book_levels=0)
        cfg.websocket = WebSocketSettings(max_incoming_per_s=1000)
        state = ExchangeState(cfg)
        flow = Flow(state)
        app = build_app(state)
        tasks: set[asyncio.Task[None]] = set()
        done = asyncio.Event()

        recorded: list[list[Any]] = []

        async def prepare(request: web.Request) -> web.Response:
            """Record the batches a twin exchange (same config and seed, so the same book and
            update ids) publishes under ``ops`` flow operations."""
            twin = ExchangeState(cfg)
            twin_flow = Flow(twin)
            twin.listeners.append(recorded.append)
            for i in range(int(request.query["ops"])):
                twin_flow.step()
                if i % 1000 == 0:
                    await asyncio.sleep(0)
            return web.json_response({"batches": len(recorded)})

        async def replay(request: web.Request) -> web.Response:
            """Hand the recorded batches to the live listeners (the stream hub) as fast as the
            loop allows: the stream layer's own capacity, without the engine's cost."""
            t0 = time.perf_counter()
            for i, batch in enumerate(recorded):
                for listener in state.listeners:
                    listener(batch)
                if i % 40 == 39:
                    await asyncio.sleep(0)
            wall = time.perf_counter() - t0
            recorded.clear()
            return web.json_response({"wall": wall})

        async def start(request: web.Request) -> web.Response:
            task = asyncio.create_task(flow.run(float(request.query["seconds"])))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            return web.json_response({"ok": True})

        async def stats(request: web.Request) -> web.Response:
            hub = request.app[HUB]
            ru = resource.getrusage(resource.RUSAGE_SELF)
            return web.json_response({"cpu": _cpu(), "ops": flow.ops, "conns": len(hub.conns),
                                      "dropped": hub.dropped_slow, "time": time.perf_counter(),
                                      "vcsw": ru.ru_nvcsw, "ivcsw": ru.ru_nivcsw})

        async def stop(request: web.Request) -> web.Response:
            done.set()
            return web.json_response({"ok": True})

        app.router.add_post("/_bench/prepare", prepare)
        app.router.add_post("/_bench/replay", replay)
        app.router.add_post("/_bench/start", start)
        app.router.add_get("/_bench/stats", stats)
        app.router.add_post("/_bench/stop", stop)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_q.put(bound_port(site))
        await done.wait()
        await runner.cleanup()

    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(asyncio.run, main())
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    else:
        asyncio.run(main())


# ----------------------------------------------------------------------------- client processes
def client_main(idx: int, urls: list[str], counts: SynchronizedArray[int], gaps: SynchronizedArray[int],
                cpu: SynchronizedArray[float], ready: Synchronized[int], stop: Any) -> None:
    async def reader(ws: aiohttp.ClientWebSocketResponse, tally: list[int]) -> None:
        last_u = 0
        async for msg in ws:
            tally[0] += 1
            data = msg.data
            if data.startswith('{"e":"depthUpdate"') or data.startswith('{"stream":"btcusdt@depth@100ms"'):
                d = orjson.loads(data)
                d = d.get("data", d)
                if last_u and d["U"] != last_u + 1:
                    tally[1] += 1
                last_u = d["u"]

    async def main() -> None:
        tally = [0, 0]
        async with aiohttp.ClientSession() as s:
            conns = [await s.ws_connect(u, max_msg_size=0) for u in urls]
            tasks = [asyncio.create_task(reader(ws, tally)) for ws in conns]
            with ready.get_lock():
                ready.value += 1
            while not stop.is_set():
                counts[idx] = tally[0]
                gaps[idx] = tally[1]
                cpu[idx] = _cpu()
                await asyncio.sleep(0.05)
            counts[idx] = tally[0]
            for t in tasks:
                t.cancel()

    asyncio.run(main())


# ----------------------------------------------------------------------------- driver
async def _get(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as r:
        return await r.json()


async def measure(base: str, seconds: float, warmup: float, counts: Any, cpu: Any) -> dict[str, float]:
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/_bench/start?seconds={warmup + seconds + 0.5}") as r:
            await r.read()
        await asyncio.sleep(warmup)
        s0, c0, k0 = await _get(s, f"{base}/_bench/stats"), sum(counts[:]), list(cpu[:])
        t0 = time.perf_counter()
        await asyncio.sleep(seconds)
        s1, c1, k1 = await _get(s, f"{base}/_bench/stats"), sum(counts[:]), list(cpu[:])
        wall = time.perf_counter() - t0
        await asyncio.sleep(0.7)
    return {
        "frames_per_s": (c1 - c0) / wall,
        "ops_per_s": (s1["ops"] - s0["ops"]) / wall,
        "server_cpu_pct": 100 * (s1["cpu"] - s0["cpu"]) / (s1["time"] - s0["time"]),
        "clients_cpu_pct": 100 * sum(b - a for a, b in zip(k0, k1, strict=True)) / wall,
        "dropped": s1["dropped"],
        "waits_per_s": (s1["vcsw"] - s0["vcsw"]) / wall,
        "preempted_per_s": (s1["ivcsw"] - s0["ivcsw"]) / wall,
    }


async def measure_replay(base: str, ops: int, counts: Any, cpu: Any) -> dict[str, float]:
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{base}/_bench/prepare?ops={ops}") as r:
            await r.read()
        s0, c0, k0 = await _get(s, f"{base}/_bench/stats"), sum(counts[:]), list(cpu[:])
        t0 = time.perf_counter()
        async with s.post(f"{base}/_bench/replay") as r:
            await r.read()
        s1 = await _get(s, f"{base}/_bench/stats")
        last, t_last = sum(counts[:]), time.perf_counter()
        while time.perf_counter() - t_last < 0.3:  # until the client has read everything
            await asyncio.sleep(0.02)
            now = sum(counts[:])
            if now != last:
                last, t_last = now, time.perf_counter()
        k1 = list(cpu[:])
    wall = t_last - t0
    return {
        "frames_per_s": (last - c0) / wall,
        "ops_per_s": ops / wall,
        "server_cpu_pct": 100 * (s1["cpu"] - s0["cpu"]) / (s1["time"] - s0["time"]),
        "clients_cpu_pct": 100 * sum(b - a for a, b in zip(k0, k1, strict=True)) / wall,
        "dropped": s1["dropped"],
        "waits_per_s": (s1["vcsw"] - s0["vcsw"]) / wall,
        "preempted_per_s": (s1["ivcsw"] - s0["ivcsw"]) / wall,
    }


def run_scenario(label: str, base_ws: str, base_http: str, n_clients: int, n_procs: int, seconds: float,
                 ctx: Any, replay_ops: int = 0) -> None:
    urls = []
    for i in range(n_clients):
        if i % 2 == 0:
            urls.append(f"{base_ws}/ws/" + "/".join(STREAMS))
        else:
            urls.append(f"{base_ws}/stream?streams=" + "/".join(STREAMS))
    n_procs = max(1, min(n_procs, n_clients))
    counts = ctx.Array("q", n_procs)
    gaps = ctx.Array("q", n_procs)
    cpu = ctx.Array("d", n_procs)
    ready = ctx.Value("i", 0)
    stop = ctx.Event()
    procs = [
        ctx.Process(target=client_main, args=(i, urls[i::n_procs], counts, gaps, cpu, ready, stop), daemon=True)
        for i in range(n_procs)
    ]
    for p in procs:
        p.start()
    deadline = time.time() + 60
    while ready.value < n_procs and time.time() < deadline:
        time.sleep(0.05)
    if replay_ops:
        res = asyncio.run(measure_replay(base_http, replay_ops, counts, cpu))
    else:
        res = asyncio.run(measure(base_http, seconds, 1.0, counts, cpu))
    stop.set()
    for p in procs:
        p.join(10)
    how = f"replay of {replay_ops:,} recorded operations" if replay_ops else "live flow"
    print(f"({label}) {n_clients} client(s) in {n_procs} process(es), {how}; streams {', '.join(STREAMS)}")
    print(f"    frames received     {res['frames_per_s']:>12,.0f} /s")
    print(f"    per client          {res['frames_per_s'] / n_clients:>12,.0f} /s")
    what = "batches replayed" if replay_ops else "engine operations"
    print(f"    {what:<19} {res['ops_per_s']:>12,.0f} /s (in the server process)")
    print(f"    server CPU          {res['server_cpu_pct']:>12.0f} % of one core "
          f"(context switches/s: {res['waits_per_s']:,.0f} waiting, {res['preempted_per_s']:,.0f} preempted)")
    if res["server_cpu_pct"] > 0:
        per_cpu = res["frames_per_s"] / (res["server_cpu_pct"] / 100)
        print(f"    frames / server CPU-s {per_cpu:>10,.0f}")
    print(f"    client CPU (all)    {res['clients_cpu_pct']:>12.0f} % of one core")
    print(f"    depth diff gaps     {sum(gaps[:]):>12d}   slow clients dropped {int(res['dropped'])}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--scenario", choices=("a", "b", "both"), default="both")
    ap.add_argument("--replay-ops", type=int, default=120_000,
                    help="operations recorded for the replay variant of (a); 0 skips it")
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "wb") as fh:
        fh.write(orjson.dumps(SYMBOLS))
    port_q = ctx.Queue()
    server = ctx.Process(target=server_main, args=(port_q, path), daemon=True)
    server.start()
    try:
        port = port_q.get(timeout=60)
        print(f"mockex stream benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
        base_http, base_ws = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
        if args.scenario in ("a", "both"):
            if args.replay_ops:  # first: it needs the server's book as the twin starts from
                run_scenario("a, stream layer", base_ws, base_http, 1, 1, args.seconds, ctx, args.replay_ops)
            run_scenario("a", base_ws, base_http, 1, 1, args.seconds, ctx)
        if args.scenario in ("b", "both"):
            run_scenario("b", base_ws, base_http, args.clients, args.procs, args.seconds, ctx)
        print(f"load average {os.getloadavg()[0]:.2f} at end")
    finally:
        async def _stop() -> None:
            async with aiohttp.ClientSession() as s, s.post(f"http://127.0.0.1:{port}/_bench/stop") as r:
                await r.read()

        with contextlib.suppress(Exception):
            asyncio.run(_stop())
        server.join(10)
        if server.is_alive():
            server.terminate()
        os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
