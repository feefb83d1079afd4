"""``mockex run [SCENARIO...] [--seed N] [--out DIR] [--junit FILE]``.

With no scenario it runs the bundled default (a synthesized BTCUSDT market, the market-making
strategy through the real connector, a few faults). Exit status: 0 every expectation held,
1 a run failed, 2 a scenario file is wrong (nothing ran).
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from scenarios.model import Scenario

DEFAULT_SCENARIO = "default.yaml"


def bundled_dir() -> Path:
    """The folder of scenarios shipped with the package."""
    return Path(str(resources.files("scenarios") / "bundled"))


def bundled_scenarios() -> list[Path]:
    return sorted(bundled_dir().glob("*.yaml"))


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help="scenario files or folders (default: the bundled default scenario; "
                             "'bundled' runs every bundled scenario)")  # fmt: skip
    parser.add_argument("--seed", type=int, help="override every scenario's seed")
    parser.add_argument("--out", default="mockex-runs", help="folder for the run folders (default: ./mockex-runs)")
    parser.add_argument("--junit", metavar="FILE", help="also write JUnit XML (one file; several scenarios: one per run folder)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, summary only")


def _expand(names: list[str]) -> list[Path]:
    if not names:
        return [bundled_dir() / DEFAULT_SCENARIO]
    paths: list[Path] = []
    for name in names:
        if name == "bundled":
            paths.extend(bundled_scenarios())
            continue
        p = Path(name)
        if p.is_dir():
            paths.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        else:
            paths.append(p)
    return paths


def run_main(args: argparse.Namespace) -> int:
    from scenarios.loader import ScenarioError, load_scenario
    from scenarios.runner import run_scenario

    paths = _expand(list(args.scenarios))
    loaded: list[Scenario] = []
    bad = False
    for path in paths:
        try:
            loaded.append(load_scenario(path))
        except ScenarioError as exc:
            print(str(exc), file=sys.stderr)
            bad = True
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            bad = True
    if bad:
        return 2
    out_root = Path(args.out)
    failed = 0
    for scenario in loaded:
        seed = args.seed if args.seed is not None else scenario.seed
        out_dir = out_root / f"{scenario.name}-seed{seed}"
        junit = None
        if args.junit:
            junit = Path(args.junit) if len(loaded) == 1 else out_dir / "junit.xml"
        result = run_scenario(scenario, out_dir, seed=args.seed, junit=junit, progress=not args.quiet)
        print(result.summary)
        print(f"  report: {out_dir / 'report.html'}")
        if not result.passed:
            failed += 1
            print(result.failure_text, file=sys.stderr)
    if len(loaded) > 1:
        print(f"{len(loaded) - failed} of {len(loaded)} scenarios passed")
    return 1 if failed else 0
