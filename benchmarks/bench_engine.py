"""Engine throughput: a seeded mixed order flow on one symbol, reported as orders/s.

Plain script (no pytest): ``python benchmarks/bench_engine.py [--ops N] [--seed S]
[--filters none|basic|full] [--gc default|tuned|both] [--profile]``. The flow is 60 % passive
limit orders around a fixed mid, 25 % cancels of random resting orders, 15 % crossing orders
(IOC limits and MARKETs) from 10 accounts, with the symbol's default STP mode (so some
crossings are self-trade prevented). Events are drained after every operation, as a server
would. Timing covers engine calls only; the random draws are prepared beforehand. Both wall
and process CPU time are reported (the CPU figure is the fairer one on a shared machine; the
load average is printed with it); conservation of every asset is checked at the end.

Garbage collection: ``--gc default`` runs with the interpreter's thresholds; ``--gc tuned``
raises them (``gc.set_threshold(100_000, 50, 1000)``, as a server can: ``mockex serve`` freezes
and raises them too); ``--gc both`` runs the flow once each way. Every result line says which
it is. The engine itself never touches the collector.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mock_exchange.clock import ManualClock  # noqa: E402
from mock_exchange.engine import (  # noqa: E402
    Engine,
    EngineError,
    LotSize,
    Notional,
    PercentPriceBySide,
    PriceFilter,
    SymbolSpec,
)
from mock_exchange.engine.units import to_units  # noqa: E402

TICK = to_units("0.01")
STEP = to_units("0.00001")
MID = to_units("30000")


def make_spec(filters: str) -> SymbolSpec:
    """The benchmark symbol; ``filters`` picks how much of the venue's filter set it carries.

    none: no filters. basic: PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL (not applied to
    MARKET orders), MAX_NUM_ORDERS: every check that needs no reference price. full: today's
    USDT-pair set, NOTIONAL applied to MARKET and PERCENT_PRICE_BY_SIDE, so most orders also
    ask ``market_data.avg_price`` for the reference price.
    """
    spec = SymbolSpec("BTCUSDT", "BTC", "USDT")
    if filters in ("basic", "full"):
        spec.price_filter = PriceFilter(TICK, to_units("1000000"), TICK)
        spec.lot_size = LotSize(STEP, to_units("9000"), STEP)
        spec.market_lot_size = LotSize(0, to_units("100"), 0)
        spec.notional = Notional(to_units("5"), filters == "full", to_units("9000000"), False, 5)
        spec.max_num_orders = 200_000
    if filters == "full":
        spec.percent_price_by_side = PercentPriceBySide(
            to_units("5"), to_units("0.2"), to_units("5"), to_units("0.2"), 5
        )
    return spec


def build_ops(n: int, seed: int) -> list[tuple[int, int, int, int, int]]:
    """(kind, account, side, price ticks offset, qty lots): kind 0 passive, 1 cancel, 2 cross."""
    rng = random.Random(seed)
    ops = []
    for _ in range(n):
        r = rng.random()
        kind = 0 if r < 0.60 else 1 if r < 0.85 else 2
        ops.append((kind, rng.randrange(10), rng.randrange(2), rng.randint(1, 50), rng.randint(1, 200)))
    return ops


def _totals(eng: Engine) -> dict[str, int]:
    tot: dict[str, int] = {}
    for acct in eng.accounts.values():
        for asset, (free, locked) in acct.balances.items():
            tot[asset] = tot.get(asset, 0) + free + locked
    for asset, fee in eng.fees.items():
        tot[asset] = tot.get(asset, 0) + fee
    return tot


GC_TUNED = (100_000, 50, 1000)


def run(n: int, seed: int, filters: str, profile: bool, gc_label: str = "default") -> None:
    clock = ManualClock()
    eng = Engine(clock=clock)
    eng.add_symbol(make_spec(filters))
    accounts = [f"acct{i}" for i in range(10)]
    for a in accounts:
        eng.create_account(a, {"USDT": to_units("1000000000"), "BTC": to_units("100000")})
    ops = build_ops(n, seed)
    before = _totals(eng)
    rng = random.Random(seed + 1)
    resting: list[tuple[str, int]] = []
    counts = {"passive": 0, "cancel": 0, "cancel_miss": 0, "cross_ioc": 0, "cross_market": 0}
    place = eng.place_order
    cancel = eng.cancel_order
    drain = eng.drain_events
    orders = eng._states["BTCUSDT"].orders
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    t0 = time.perf_counter()
    c0 = time.process_time()
    for i, (kind, ai, side_i, off, lots) in enumerate(ops):
        acct = accounts[ai]
        if i % 64 == 0:
            clock.advance(1)
        if kind == 0:
            if side_i:
                res = place(acct, "BTCUSDT", "BUY", "LIMIT", quantity=lots * 1000 * STEP,
                            price=MID - off * TICK, time_in_force="GTC")  # fmt: skip
            else:
                res = place(acct, "BTCUSDT", "SELL", "LIMIT", quantity=lots * 1000 * STEP,
                            price=MID + off * TICK, time_in_force="GTC")  # fmt: skip
            resting.append((acct, res.order.order_id))
            counts["passive"] += 1
        elif kind == 1:
            # Cancel a random resting order; ids of orders filled meanwhile are dropped on the
            # way (a peek at the engine's order table, as a client would know from its fills).
            target = None
            while resting and target is None:
                j = rng.randrange(len(resting))
                resting[j], resting[-1] = resting[-1], resting[j]
                owner, oid = resting.pop()
                o = orders.get(oid)  # finished orders may be gone (retention)
                if o is not None and o.status in ("NEW", "PARTIALLY_FILLED"):
                    target = (owner, oid)
            if target is None:
                counts["cancel_miss"] += 1
                continue
            try:
                cancel(target[0], "BTCUSDT", target[1])
                counts["cancel"] += 1
            except EngineError:
                counts["cancel_miss"] += 1
        else:
            side = "BUY" if side_i else "SELL"
            if off % 3:
                price = MID + 60 * TICK if side_i else MID - 60 * TICK
                place(acct, "BTCUSDT", side, "LIMIT", quantity=lots * 2000 * STEP, price=price,
                      time_in_force="IOC")  # fmt: skip
                counts["cross_ioc"] += 1
            else:
                place(acct, "BTCUSDT", side, "MARKET", quantity=lots * 2000 * STEP)
                counts["cross_market"] += 1
        drain()
    drain()
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if prof:
        prof.disable()
    total = sum(counts.values())
    st = eng._states["BTCUSDT"]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"ops={total} wall={elapsed:.3f}s cpu={cpu:.3f}s -> {total / elapsed:,.0f} orders/s wall, "
          f"{total / cpu:,.0f} orders/s cpu (filters={filters}, gc={gc_label}, load average {load})")  # fmt: skip
    print("mix: " + ", ".join(f"{k}={v} ({v / total:.1%})" for k, v in counts.items()))
    print(f"trades={st.next_trade_id - 1} update_ids={st.update_id} open_orders="
          f"{sum(len(d) for d in st.open_by_account.values())} bid_levels={len(st.bid_prices)} "
          f"ask_levels={len(st.ask_prices)}")  # fmt: skip
    assert _totals(eng) == before, "balances not conserved"
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--filters", choices=("none", "basic", "full"), default="basic")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument(
        "--gc", choices=("default", "tuned", "both"), default="default",
        help="collector thresholds: the interpreter's, raised (as a server could), or one run each",
    )  # fmt: skip
    ap.add_argument("--tune-gc", action="store_true", help="same as --gc tuned")
    args = ap.parse_args()
    modes = ["tuned"] if args.tune_gc else ["default", "tuned"] if args.gc == "both" else [args.gc]
    default_thresholds = gc.get_threshold()
    for mode in modes:
        gc.collect()
        if mode == "tuned":
            gc.set_threshold(*GC_TUNED)
            label = "tuned" + str(GC_TUNED).replace(" ", "")
        else:
            gc.set_threshold(*default_thresholds)
            label = "default"
        run(args.ops, args.seed, args.filters, args.profile, label)


if __name__ == "__main__":
    main()
