"""The ``mockex serve --replay`` options: parse, check the recording, build the driver.

Kept out of ``cli.py`` so the command line only wires it in. The whole recording is read once
before the server starts, so a bad file is refused up front (exit code 2, with its name, line
and what is wrong) instead of stopping the replay halfway through.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from mock_exchange.market.readers import ReplayFormatError
from mock_exchange.market.replay.latency import parse_latency
from mock_exchange.market.replay.serving import ReplayDriver, ReplaySummary, check_replay, parse_speed

if TYPE_CHECKING:
    from mock_exchange.server.state import ExchangeState

QUEUES = ("risk_averse", "prob", "prob_log", "none")


def add_replay_arguments(serve: argparse.ArgumentParser) -> None:
    """Add the replay options to the ``serve`` subcommand."""
    serve.add_argument("--replay", nargs="+", metavar="FILE",
                       help="serve a recorded market: a mockex capture, the hftbacktest/cryptofeed line files, "
                            "Binance public-data or tardis CSVs (several files of one format are one recording)")
    serve.add_argument("--speed", default="1",
                       help="replay speed in times real time (default 1); max or 0: as fast as the stream clients "
                            "read (the replay waits while a client has 256 KiB unread)")
    serve.add_argument("--symbols", metavar="LIST",
                       help="replay only these symbols, comma-separated (default: every symbol in the recording)")
    serve.add_argument("--queue", default="risk_averse", choices=QUEUES,
                       help="queue-position model for your resting orders (default risk_averse: only trades move "
                            "you forward; prob: cancels too, split by position; none: every print at your price fills)")
    serve.add_argument("--order-latency", default="0", metavar="MS",
                       help="replay-time delay before a resting order joins its queue: ms, "
                            "lognormal:median=20,sigma=0.5 or file:PATH (default 0)")
    serve.add_argument("--keep-times", action="store_true",
                       help="publish the recorded E/T times instead of mapping them onto the server clock")


def _fail(message: str) -> int:
    print(f"mockex: {message}", file=sys.stderr)
    return 2


def prepare_replay(args: argparse.Namespace, state: ExchangeState) -> ReplayDriver | int:
    """The driver for ``args.replay`` on ``state``, or an exit code after printing why not."""
    if getattr(args, "synth", None):
        return _fail("--replay and --synth are two market sources: choose one")
    try:
        speed = parse_speed(args.speed)
        latency = parse_latency(args.order_latency)
    except ValueError as exc:
        return _fail(str(exc))
    symbols = [s.strip().upper() for s in args.symbols.split(",") if s.strip()] if args.symbols else None
    try:
        summary = check_replay(args.replay)
    except ReplayFormatError as exc:
        return _fail(f"bad replay file: {exc}")
    if summary.records == 0:
        return _fail(f"bad replay file: {args.replay[0]}: no market data in it")
    for d in summary.damage:
        print(f"mockex: warning: {d} (replaying what comes before it)", file=sys.stderr)
    missing = [s for s in symbols or () if s not in summary.symbols]
    if missing:
        return _fail(f"--symbols: {', '.join(missing)} not in the recording (it has {', '.join(summary.symbols)})")
    try:
        driver = ReplayDriver(state, args.replay, speed=speed, symbols=symbols or summary.symbols, queue=args.queue,
                              seed=state.config.seed, latency=latency, keep_times=args.keep_times)  # fmt: skip
    except ReplayFormatError as exc:
        return _fail(f"bad replay file: {exc}")
    driver.summary = summary  # type: ignore[attr-defined]
    return driver


def describe(driver: ReplayDriver) -> str:
    """The banner's market line."""
    summary: ReplaySummary | None = getattr(driver, "summary", None)
    speed = "max (as fast as clients read)" if driver.speed is None else f"{float(driver.speed):g}x"
    what = f"{summary.records} records, {summary.span_s:.0f} s" if summary is not None else ""
    files = ", ".join(p.name for p in driver.paths)
    return f"replay of {files} ({what}), symbols {', '.join(driver.symbols)}, speed {speed}, queue {driver.queue.name}"
