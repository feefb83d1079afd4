"""Play a scenario: the mock exchange, the real connector and a strategy on one virtual clock.

``run_scenario`` builds a fresh virtual-time loop (``scenarios.vtime``), starts the mock
exchange on a loopback port with the scenario's symbols, accounts and market source, starts
the connector against it with only a ``VenueConfig`` pointing there (the connector does not
know it is in a simulation), runs the strategy, plays the fault timeline, watches the
connector recover, and at the end reconciles orders and balances, judges the expectations
and writes the run folder. It never hangs: a wall-clock watchdog ends a stuck run, and a
strategy that raises fails its run with the traceback in the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import platform
import random
import sys
import threading
import time
import traceback
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector import Market, VenueConfig
from mock_exchange.config import AccountConfig, ServerConfig
from mock_exchange.engine import units
from mock_exchange.testing import MockServer
from scenarios.journal import Journal
from scenarios.model import Scenario
from scenarios.observe import Observer
from scenarios.record import OrderRow, RunEvent, RunRecord
from scenarios.sources import start_source
from scenarios.vtime import VirtualClock, VirtualTimeLoop, new_virtual_loop

SETTLE_S = 3.0  # virtual seconds after the strategy stops, for cancels and reports to land
READY_TIMEOUT_S = 60.0
DEFAULT_WALL_TIMEOUT_S = 900.0


@dataclass(slots=True)
class RunResult:
    record: RunRecord
    out_dir: Path | None
    passed: bool
    summary: str
    failure_text: str


class _Timeout(Exception):
    pass


def run_scenario(scenario: Scenario, out_dir: Path | None = None, *, seed: int | None = None,
                 junit: Path | None = None, progress: bool = False,
                 wall_timeout_s: float = DEFAULT_WALL_TIMEOUT_S) -> RunResult:  # fmt: skip
    """Run ``scenario`` to the end of its clock (synchronous: it owns its event loop)."""
    from scenarios.expectations import evaluate
    from scenarios.report import render_summary, write_run

    if seed is not None:
        scenario = replace(scenario, seed=seed)
    loop = new_virtual_loop()
    clock = VirtualClock(loop, scenario.clock.start_ms)
    record = _new_record(scenario)
    wall0 = time.perf_counter()
    record.wall_started = datetime.now(UTC).isoformat(timespec="seconds")
    watchdog = _Watchdog(loop, wall_timeout_s)
    # The market allocates many short-lived objects per order: collect young objects less often
    # (as ``mockex serve`` does); the thresholds are restored afterwards.
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)
    try:
        watchdog.start()
        main = loop.create_task(_play(scenario, loop, clock, record, progress))
        watchdog.task = main
        loop.run_until_complete(main)
    except asyncio.CancelledError:
        record.error = f"watchdog: the run exceeded {wall_timeout_s:.0f} s of wall time and was stopped"
    except WatchdogTimeout:
        watchdog.stop()
        record.error = f"watchdog: the run exceeded {wall_timeout_s:.0f} s of wall time (a callback never returned)"
    except Exception:
        record.error = traceback.format_exc()
    finally:
        watchdog.stop()
        _close_loop(loop)
        gc.set_threshold(*thresholds)
    record.wall_seconds = round(time.perf_counter() - wall0, 3)
    record.expectations = evaluate(record, scenario.expectations)
    if out_dir is not None:
        write_run(record, Path(out_dir), junit=junit)
    summary = render_summary(record)
    return RunResult(record, Path(out_dir) if out_dir is not None else None, record.passed, summary,
                     failure_text(record))


def failure_text(record: RunRecord) -> str:
    """Every failed expectation with its message and journal lines, then any error."""
    lines = []
    for e in record.expectations:
        if not e.passed:
            where = f" (journal lines {', '.join(map(str, e.journal_lines[:10]))})" if e.journal_lines else ""
            lines.append(f"expectation {e.name or e.type} failed: {e.message}{where}")
    if record.error:
        lines.append("the run failed with an error:\n" + record.error)
    return "\n".join(lines)


def _new_record(scenario: Scenario) -> RunRecord:
    pair = scenario.strategy.trading_pair
    base, _, quote = pair.partition("-")
    start = scenario.clock.start_ms
    from importlib.metadata import PackageNotFoundError, version

    try:
        mockex_version = version("mockex")
    except PackageNotFoundError:
        mockex_version = "unknown"
    return RunRecord(
        scenario=scenario.resolved(), scenario_name=scenario.name, seed=scenario.seed, start_ms=start,
        end_ms=start + scenario.clock.duration_ms, trading_pair=pair, base_asset=base, quote_asset=quote,
        versions={"mockex": mockex_version, "python": platform.python_version().rsplit(".", 1)[0],
                  "scenario_format": str(scenario.version)},
    )  # fmt: skip


def server_config(scenario: Scenario) -> ServerConfig:
    """The mock exchange's configuration for ``scenario`` (symbols, accounts, seed)."""
    accounts = [
        AccountConfig(name=a.name, balances={k: units.to_units(v) for k, v in a.balances.items()},
                      maker_rate=units.to_units(a.maker_rate), taker_rate=units.to_units(a.taker_rate))
        for a in scenario.accounts
    ]  # fmt: skip
    cfg = ServerConfig(seed=scenario.seed, accounts=accounts, source=scenario.source,
                       market_data_latency_ms=scenario.latency.market_data_ms)
    if isinstance(scenario.symbols, str):
        cfg.symbols = scenario.symbols
    else:
        cfg.inline_symbols = list(scenario.symbols)
    if scenario.market.kind == "replay":
        cfg.book_levels = 0
    return cfg


async def _play(scenario: Scenario, loop: VirtualTimeLoop, clock: VirtualClock, record: RunRecord,
                progress: bool) -> None:  # fmt: skip
    from scenarios.strategies import StrategyContext, StrategyHost, load_strategy

    server = MockServer(server_config(scenario), clock=clock)
    await server.start()
    state = server.state
    journal = Journal(clock)
    state.wire_taps.append(journal.tap)
    if scenario.report.journal_market_data:
        state.stream_taps.append(journal.tap)
    tasks: list[asyncio.Task[Any]] = []
    market: Market | None = None
    host: Any = None
    observer: Observer | None = None
    try:
        source = start_source(state, scenario)
        if source is not None:
            tasks.append(asyncio.create_task(source, name="market-source"))
        lat = scenario.latency
        if lat.order_ms or lat.jitter_ms:
            state.faults.add({"type": "delay", "ms": lat.order_ms, "jitterMs": lat.jitter_ms, "count": None,
                              "label": "scenario reply latency"})
        if lat.entry_ms:
            state.faults.add({"type": "delay", "stage": "entry", "ms": lat.entry_ms, "jitterMs": lat.jitter_ms,
                              "count": None, "label": "scenario entry latency"})
        account = scenario.accounts[0]
        info = state.accounts[account.name]
        venue = VenueConfig.custom(server.base_url, api_key=info.api_key, api_secret=info.secret_key, clock=clock)
        pair = scenario.strategy.trading_pair
        symbol = pair.replace("-", "")
        market = Market(venue, [pair])
        journal.add("runner", {"event": "connector_start"})
        await market.start_network()
        await market.wait_until_ready(READY_TIMEOUT_S)
        journal.add("runner", {"event": "connector_ready"})
        observer = Observer(state, market, journal, account=account.name, trading_pair=pair, symbol=symbol,
                            base=record.base_asset, quote=record.quote_asset, start_ms=record.start_ms,
                            sample_interval_ms=scenario.report.sample_interval_ms)  # fmt: skip
        observer.attach()
        strategy_cls = load_strategy(scenario.strategy.name)

        def log(message: str, **data: Any) -> None:
            journal.add("strategy", {"message": message, **data})

        ctx = StrategyContext(market=market, trading_pair=pair, clock=clock,
                              rng=random.Random(scenario.seed * 1_000_003 + 17),
                              params=dict(scenario.strategy.params), log=log)  # fmt: skip
        host = StrategyHost(strategy_cls, ctx)
        record.scenario["strategy"]["params"] = host.params  # defaults expanded, as the strategy runs
        tasks.append(asyncio.create_task(observer.monitor(), name="observer"))
        tasks.append(asyncio.create_task(observer.play_faults(scenario.faults), name="faults"))
        if progress and sys.stderr.isatty():
            tasks.append(asyncio.create_task(_progress(clock, record), name="progress"))
        await host.start()
        remaining = (record.end_ms - clock()) / 1000
        if remaining > 0:
            failed = asyncio.create_task(host.failed.wait())
            await asyncio.wait([failed], timeout=remaining)
            failed.cancel()
        await host.stop(10.0)
        if host.error:
            record.error = str(host.error)
            at = host.error_at_ms or clock()
            line = journal.add("event", {"event": "strategy_error"})
            record.events.append(RunEvent(at, "strategy_error", {"strategy": scenario.strategy.name}, line))
        await asyncio.sleep(SETTLE_S)
        observer.sample(clock())
        _finish(record, observer, market, host)
    finally:
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if market is not None:
            with contextlib.suppress(Exception):
                await market.stop_network()
        await server.stop()
        record.journal = journal.entries
        if observer is not None:
            _collect(record, observer)
        if progress and sys.stderr.isatty():
            print(file=sys.stderr)


def _finish(record: RunRecord, observer: Observer, market: Market, host: Any) -> None:
    """End-of-run reconciliation and metrics (while the connector is still up)."""
    record.exchange_open_orders = observer.exchange_open_orders()
    record.tracker_open_orders = observer.tracker_open_orders()
    acct = observer.state.engine.account(observer.account)
    record.exchange_balances = {a: units.to_decimal(f + lk) for a, (f, lk) in sorted(acct.balances.items())
                                if f + lk}  # fmt: skip
    record.tracker_balances = {a: v for a, v in sorted(market.get_all_balances().items()) if v}
    metrics: dict[str, Any] = {}
    with contextlib.suppress(Exception):
        metrics.update(sorted(host.metrics().items()))  # the runner's own figures win a name clash
    record.metrics.update(metrics)


def _collect(record: RunRecord, obs: Observer) -> None:
    record.fills = obs.fills
    record.samples = obs.samples
    record.faults = obs.faults
    for w in record.faults:
        if w.end_ms is None and not w.reaction:
            w.reaction = "still acting at the end (no matching traffic used up its count)"
    record.events = sorted(record.events + obs.events, key=lambda e: (e.ts_ms, e.journal_line))
    rows = []
    for cid, o in obs.orders.items():
        rows.append(OrderRow(
            client_order_id=cid, symbol=o.symbol, side=o.trade_type.name, order_type=o.order_type.value,
            amount=o.amount, price=o.price, created_ms=int(round(o.creation_timestamp * 1000)),
            state=o.state.value, exchange_order_id=o.exchange_order_id, executed=o.executed_amount_base,
            updated_ms=o.last_update_ms, reason=obs.reasons.get(cid) or o.expiry_reason or o.unknown_reason,
            journal_line=obs.journal.order_lines.get(cid, 0)))  # fmt: skip
    record.orders = sorted(rows, key=lambda r: (r.created_ms, r.client_order_id))
    last = obs.samples[-1] if obs.samples else None
    m = record.metrics
    m.update({
        "orders": len(rows),
        "fills": len(obs.fills),
        "filled_orders": sum(1 for r in rows if r.state == "FILLED"),
        "cancelled_orders": sum(1 for r in rows if r.state == "CANCELED"),
        "failed_orders": sum(1 for r in rows if r.state == "FAILED"),
        "lost_orders": sum(1 for r in rows if r.state == "LOST"),
        "volume_base": str(sum((f.amount for f in obs.fills), Decimal(0))),
        "volume_quote": str(sum((f.amount * f.price for f in obs.fills), Decimal(0))),
        "pnl": str(last.pnl) if last else "0",
        "max_drawdown": str(max((s.drawdown for s in obs.samples), default=Decimal(0))),
        "final_equity": str(last.equity) if last else "0",
        "max_used_weight_1m": obs.max_used_weight,
        "book_resyncs": sum(1 for e in obs.events if e.kind == "book_resync"),
        "user_stream_reconnects": sum(1 for e in obs.events if e.kind == "user_stream_connected"),
        "faults": len(obs.faults),
        "market_frames": obs.state.frames_out,
        "journal_lines": len(record.journal),
    })


async def _progress(clock: VirtualClock, record: RunRecord) -> None:
    total = max(1, record.end_ms - record.start_ms)
    width = 30
    while True:
        done = min(1.0, (clock() - record.start_ms) / total)
        bar = "#" * int(done * width)
        print(f"\r  {record.scenario_name} [{bar:<{width}}] {done * 100:5.1f}% "
              f"{(clock() - record.start_ms) / 1000:8.1f} s virtual", end="", file=sys.stderr, flush=True)  # fmt: skip
        await asyncio.sleep(total / 1000 / 50)


class WatchdogTimeout(BaseException):
    """Raised in the runner's thread when a callback never gives the event loop back."""


class _Watchdog:
    """Ends a run that overstays its wall-clock budget: first by cancelling the main task from
    the loop; if the loop itself is stuck in a callback, by raising ``WatchdogTimeout`` in the
    runner's thread (again every half second until the run acknowledges it, since an
    asynchronous exception can land in a place that swallows it, such as a gc callback)."""

    def __init__(self, loop: VirtualTimeLoop, limit_s: float) -> None:
        self.loop = loop
        self.limit_s = limit_s
        self.task: asyncio.Task[None] | None = None
        self.fired = False
        self._done = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._ident = threading.get_ident()
        self._thread = threading.Thread(target=self._watch, name="mockex-watchdog", daemon=True)

    def start(self) -> None:
        self.loop.wall_deadline = time.monotonic() + self.limit_s
        self.loop.on_wall_timeout = self._cancel
        self._thread.start()

    def _cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.fired = True
            self.task.cancel()
            self.loop.wall_deadline = None

    def _watch(self) -> None:
        if self._wake.wait(self.limit_s + 5):
            return
        while True:
            with self._lock:
                if self._done:
                    return
                self.fired = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._ident),
                                                           ctypes.py_object(WatchdogTimeout))
            if self._wake.wait(0.5):
                return

    def stop(self) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
            if self.fired:  # drop an exception raised but not delivered yet
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._ident), None)
        self._wake.set()


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    with contextlib.suppress(Exception):
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
