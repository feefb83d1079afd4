"""Synthesized-market throughput: how many engine events the agent-based market produces per
second of wall (and CPU) time, in-process, in virtual time.

Plain script (no pytest): ``python benchmarks/bench_synth.py [--minutes N] [--preset calm]
[--seed S] [--symbols BTCUSDT,ETHUSDT] [--no-tune-gc] [--keep-agent-history] [--agent-reports]
[--profile]``.

The market runs in one-second steps with the engine's events drained after each step (as
the server's publish would); only that is timed, the counting below is not. Counted: orders and
cancels (the agents' engine orders and cancels, from ``SynthMarket.stats``: the engine emits no
execution reports for the agents, whose user data nobody can subscribe to) and trades (TradeEvent)
— the issue's "events" (target >= 50,000/s; ABIDES reports about 31,000 messages/s) — and,
separately, every engine event drained (book deltas and trades; with ``--agent-reports`` also the
agents' execution reports and balance changes, as before they were switched off). Simulated
seconds per wall second and frames per simulated second are printed too. A one-minute warm-up (the initial book build)
is excluded. GC thresholds are raised as ``mockex serve`` does unless ``--no-tune-gc``.

Memory: the process's resident set (``/proc/self/status`` VmRSS, after a full collection) is
printed before the market is built and after the run, with the peak, and how many orders the
engine still holds. The agents keep no finished orders (``KEEP_NONE``, as ``SynthMarket``
does by default); ``--keep-agent-history`` makes them keep everything, which is how the
engine behaved before it had a retention policy.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mock_exchange.engine import KEEP_ALL, KEEP_NONE, Engine  # noqa: E402
from mock_exchange.engine.types import TradeEvent  # noqa: E402
from mock_exchange.market.synth import PRESET_NAMES, FeedCounter, SynthMarket  # noqa: E402


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux), after a full collection."""
    gc.collect()
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def held_orders(engine: Engine) -> int:
    """Orders the engine still holds (open ones and finished ones it retains)."""
    return sum(len(engine.all_orders(a, s, limit=1 << 62)) for a in engine.accounts for s in engine.symbols)


def run(minutes: int, preset: str, seed: int, symbols: list[str], profile: bool, keep_agents: bool,
        agent_reports: bool = False) -> None:  # fmt: skip
    rss0 = rss_mb()
    t_build = time.perf_counter()
    market = SynthMarket(None, preset, seed, symbols=symbols, agent_retention=KEEP_ALL if keep_agents else KEEP_NONE,
                         agent_reports=agent_reports)  # fmt: skip
    engine = market.engine
    market.run_for(60_000)
    engine.drain_events()
    build_s = time.perf_counter() - t_build
    feeds = [FeedCounter(engine, s) for s in symbols]
    stats0 = market.stats()
    trades = events = 0
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    wall = cpu = 0.0
    for _ in range(minutes * 60):
        w0, c0 = time.perf_counter(), time.process_time()
        market.run_for(1000)
        batch = engine.drain_events()
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        events += len(batch)
        for ev in batch:
            if type(ev) is TradeEvent:
                trades += 1
        for f in feeds:
            f.feed(batch)
    if prof:
        prof.disable()
    sim_s = minutes * 60
    stats = market.stats()
    placed = {s: stats[s]["orders"] - stats0[s]["orders"] for s in symbols}
    canceled = {s: stats[s]["cancels"] - stats0[s]["cancels"] for s in symbols}
    orders, cancels = sum(placed.values()), sum(canceled.values())
    counted = orders + cancels + trades
    print(f"preset={preset} seed={seed} symbols={','.join(symbols)} simulated={sim_s}s "
          f"(after a 60 s warm-up; build+warm-up {build_s:.1f}s wall)")  # fmt: skip
    print(f"wall={wall:.2f}s cpu={cpu:.2f}s -> {sim_s / wall:,.0f}x real time (wall), {sim_s / cpu:,.0f}x (cpu)")
    print(f"orders={orders} cancels={cancels} trades={trades} -> {counted / wall:,.0f} events/s wall, "
          f"{counted / cpu:,.0f} events/s cpu (target >= 50,000)")  # fmt: skip
    print(f"all engine events={events} -> {events / wall:,.0f}/s wall, {events / cpu:,.0f}/s cpu")
    for f in feeds:
        print(f"{f.symbol}: per simulated second bookTicker={f.book_tickers / sim_s:.1f} "
              f"trades={f.trades / sim_s:.1f} depth@100ms={f.depth_frames / sim_s:.2f} "
              f"orders={placed[f.symbol] / sim_s:.1f} cancels={canceled[f.symbol] / sim_s:.1f}")  # fmt: skip
    rss1 = rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"memory ({'agents keep everything' if keep_agents else 'agents keep nothing'}): RSS {rss0:.0f} MB "
          f"before the market, {rss1:.0f} MB after {minutes + 1} simulated minutes (+{rss1 - rss0:.0f} MB), "
          f"peak {peak:.0f} MB; orders held {held_orders(engine):,}")  # fmt: skip
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--minutes", type=int, default=10)
    ap.add_argument("--preset", choices=PRESET_NAMES, default="calm")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--symbols", default="BTCUSDT")
    ap.add_argument("--no-tune-gc", action="store_true")
    ap.add_argument("--keep-agent-history", action="store_true",
                    help="agents keep every finished order and fill (the engine's behaviour before retention)")
    ap.add_argument("--agent-reports", action="store_true",
                    help="the engine emits the agents' execution reports and balance changes (as it did before)")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    if not args.no_tune_gc:
        gc.set_threshold(50_000, 20, 100)
    run(args.minutes, args.preset, args.seed, args.symbols.split(","), args.profile, args.keep_agent_history,
        args.agent_reports)


if __name__ == "__main__":
    main()
