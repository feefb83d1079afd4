"""``mockex check FILE|DIR...``: validate scenario files without running anything.

Every problem of every file is printed as ``file:line: key.path: message`` (the form editors
and CI logs turn into links), so one pass fixes a whole file. A folder means every scenario
YAML in it, recursively (``scenarios.loader.looks_like_scenario`` tells them from other YAML).
Exit status: 0 all load, 1 any problem (or nothing to check).
"""

from __future__ import annotations

import argparse
import sys

from scenarios.loader import ScenarioError, ScenarioIssue, load_scenario, scenario_files


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="FILE",
                        help="scenario files, or folders (every scenario YAML in them, recursively)")  # fmt: skip


def check_main(args: argparse.Namespace) -> int:
    files = scenario_files(args.paths)
    if not files:
        print(f"mockex check: no scenario files in {', '.join(args.paths)}", file=sys.stderr)
        return 1
    issues: list[ScenarioIssue] = []
    failed = 0
    for path in files:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            issues.extend(exc.errors)
            failed += 1
    for issue in issues:
        print(issue)
    if issues:
        print(f"mockex check: {_count(len(issues), 'error')} in {failed} of {_count(len(files), 'scenario')}",
              file=sys.stderr)  # fmt: skip
        return 1
    print(f"ok: {_count(len(files), 'scenario')}")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
