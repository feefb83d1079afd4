"""Scenario benchmark (issue 6 §7): the full stack in virtual time.

1. ``replay``: the shared BTCUSDT recording (both files, ~650 s of real data) served by the
   mock server over loopback sockets to the real connector, with the market-making strategy
   quoting against it, in virtual time.
2. ``synth``: a synthesized BTCUSDT hour (preset ``calm``) with the same strategy.

Prints, per run: virtual seconds, wall seconds, CPU seconds, market frames sent to the
connector, frames/s (wall) and × real time (virtual / wall). Targets: ≥ 500× real time for
the replay. Usage::

    python benchmarks/bench_scenario.py [--only replay|synth] [--synth-duration 1h]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scenarios.loader import load_scenario_text  # noqa: E402
from scenarios.runner import run_scenario  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "binance-spot-btcusdt-2024-08-08"
REPLAY = """
version: 1
name: bench-replay
clock: {{duration: 660s}}
market: {{kind: replay, file: [{a}, {b}]}}
strategy: {{name: market_making, params: {{spread_bps: 1}}}}
expectations:
  - {{type: no_orphan_orders}}
"""
SYNTH = """
version: 1
name: bench-synth
clock: {{duration: {duration}}}
market: {{kind: synth, preset: calm}}
strategy: {{name: market_making}}
expectations:
  - {{type: no_orphan_orders}}
"""


def _measure(label: str, text: str) -> None:
    scenario = load_scenario_text(text, f"<{label}>")
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    result = run_scenario(scenario, None, wall_timeout_s=3600)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    rec = result.record
    frames = int(rec.metrics.get("market_frames", 0))
    virtual = rec.virtual_seconds
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {virtual:.0f} s virtual in {wall:.2f} s wall ({cpu:.2f} s CPU): "
          f"{virtual / wall:.0f}x real time, {frames} market frames -> {frames / wall:,.0f} frames/s; "
          f"orders {rec.metrics.get('orders')}, fills {rec.metrics.get('fills')}, "
          f"passed={result.passed}, peak RSS {rss_mb:.0f} MB", flush=True)  # fmt: skip
    if not result.passed:
        print(result.failure_text, file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("replay", "synth"))
    parser.add_argument("--synth-duration", default="1h")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    if args.only in (None, "replay"):
        files = sorted(DATA.glob("btcusdt_*.gz"))
        if len(files) != 2:
            print(f"replay: skipped, the shared data is not at {DATA}", file=sys.stderr)
        else:
            _measure("replay", REPLAY.format(a=files[0], b=files[1]))
    if args.only in (None, "synth"):
        _measure("synth", SYNTH.format(duration=args.synth_duration))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
