"""``mockex report RUN [--compare OTHER]``: refresh a run folder's report.md/report.html (after
an upgrade, or to read an old run with today's renderer), or show what changed between runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scenarios.report import RunFolderError, compare_runs, load_run, render_summary, write_views


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN", help="a run folder (the one `mockex run --out` wrote)")
    parser.add_argument("--compare", metavar="OTHER",
                        help="another run folder: print what changed from RUN to OTHER instead of re-rendering")


def report_main(args: argparse.Namespace) -> int:
    """0 when done, 2 when a folder is not a run (the message says which and why)."""
    try:
        record = load_run(Path(args.run))
        other = load_run(Path(args.compare)) if args.compare else None
    except RunFolderError as exc:
        print(f"mockex report: {exc}", file=sys.stderr)
        return 2
    if other is not None:
        print(compare_runs(record, other))
        return 0
    folder = Path(args.run)
    try:
        write_views(record, folder)
    except OSError as exc:
        print(f"mockex report: cannot write into {folder}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(render_summary(record))
    print(f"re-rendered {folder / 'report.md'} and {folder / 'report.html'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockex report", description=__doc__)
    add_report_arguments(parser)
    return report_main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
