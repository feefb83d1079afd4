"""The ``mockex`` command line: ``mockex serve`` starts a Binance-Spot-compatible mock exchange."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiohttp import web

from mock_exchange.config import ConfigError, ServerConfig, load_config
from mock_exchange.server import build_app
from mock_exchange.server.state import ExchangeState
from mock_exchange.testing import bound_port

if TYPE_CHECKING:
    from mock_exchange.market.replay.serving import ReplayDriver


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockex", description="A Binance Spot mock exchange and test harness.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the mock exchange server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free port (default 8765)")
    serve.add_argument("--config", help="YAML or JSON server config (symbols, accounts, rate limits, seed)")
    serve.add_argument("--seed", type=int, help="override the config's random seed")
    serve.add_argument("--listen-key", choices=("on", "off"),
                       help="legacy REST listenKey user streams: on (default, for older clients) or off "
                            "(answer as production does since 2026-02-20)")
    serve.add_argument("--synth", metavar="PRESET",
                       help="run the synthesized agent-based market on the wall clock (presets: calm, volatile, "
                            "trending, flash_crash, thin_book); your orders trade with its agents")
    from mock_exchange.market.replay.serve_cli import add_replay_arguments

    add_replay_arguments(serve)
    from mock_exchange.market.recorder import add_record_arguments

    record = sub.add_parser("record", help="record a venue's market data (streams + depth snapshots) to a capture file")
    add_record_arguments(record)
    from scenarios.run_cli import add_run_arguments

    add_run_arguments(sub.add_parser("run", help="run scenarios in virtual time and write their reports "
                                                 "(no argument: the bundled default scenario)"))
    from scenarios.check_cli import add_check_arguments

    add_check_arguments(sub.add_parser("check", help="validate scenario files (every error: file:line: key.path)"))
    from scenarios.report_cli import add_report_arguments

    add_report_arguments(sub.add_parser("report", help="re-render a run folder's report, or --compare two runs"))
    return parser


async def _serve(state: ExchangeState, host: str, port: int, synth: str | None = None,
                 replay: ReplayDriver | None = None) -> None:
    app = build_app(state)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = bound_port(site)
    base = f"http://{host}:{bound}"
    info = next(iter(state.accounts.values()))
    print("mockex serve: Binance Spot mock exchange", flush=True)
    print(f"  REST base URL   {base}  (paths /api/v3/...)", flush=True)
    ws_base = base.replace("http://", "ws://", 1)
    print(f"  streams         {ws_base}/ws  and  {ws_base}/stream?streams=...", flush=True)
    print(f"  WebSocket API   {ws_base}/ws-api/v3", flush=True)
    print(f"  control plane   {base}/_mock", flush=True)
    print(f"  symbols         {', '.join(list(state.engine.symbols)[:8])}"
          f"{' ...' if len(state.engine.symbols) > 8 else ''}", flush=True)
    print(f"  account         {info.account_id}", flush=True)
    print(f"  API key         {info.api_key}", flush=True)
    print(f"  API secret      {info.secret_key}", flush=True)
    synth_task: asyncio.Task[None] | None = None
    if synth is not None:
        from mock_exchange.market.synth import run_wall_clock

        synth_task = asyncio.create_task(run_wall_clock(state, synth, state.config.seed))
        print(f"  market          synthesized, preset {synth}, seed {state.config.seed}", flush=True)
    if replay is not None:
        from mock_exchange.market.replay.serve_cli import describe

        synth_task = asyncio.create_task(replay.run())  # the market source's task, cancelled below
        print(f"  market          {describe(replay)}", flush=True)
    print("Press Ctrl-C to stop.", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        if synth_task is not None:
            synth_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # the driver logged it
                await synth_task
        await runner.cleanup()
        print("mockex serve: stopped", flush=True)


def serve(args: argparse.Namespace) -> int:
    if args.synth is not None:
        from mock_exchange.market.synth import get_preset

        try:
            get_preset(args.synth)
        except ValueError as exc:  # the message lists the preset names
            print(f"mockex: {exc}", file=sys.stderr)
            return 2
    try:
        config = load_config(args.config) if args.config else ServerConfig()
        if args.seed is not None:
            config.seed = args.seed
        if args.listen_key is not None:
            config.listen_key = args.listen_key == "on"
        state = ExchangeState(config)
    except ConfigError as exc:
        print(f"mockex: config error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"mockex: {exc}", file=sys.stderr)
        return 2
    replay: ReplayDriver | None = None
    if args.replay:
        from mock_exchange.market.replay.serve_cli import prepare_replay

        prepared = prepare_replay(args, state)
        if isinstance(prepared, int):
            return prepared
        replay = prepared
    # The engine allocates many short-lived objects per order; with the books and keys built,
    # move them out of the collector's view and collect young objects less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        asyncio.run(_serve(state, args.host, args.port, args.synth, replay))
    except OSError as exc:
        print(f"mockex: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "run":
        from scenarios.run_cli import run_main

        return run_main(args)
    if args.command == "check":
        from scenarios.check_cli import check_main

        return check_main(args)
    if args.command == "record":
        from mock_exchange.market.recorder import record_main

        return record_main(args)
    if args.command == "report":
        from scenarios.report_cli import report_main

        return report_main(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
