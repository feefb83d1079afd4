"""The scenario runner end to end: mock server, real connector over loopback, strategy, faults,
virtual time, reports. Every bundled scenario passes and reruns byte-identically."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from scenarios.loader import load_scenario, load_scenario_text
from scenarios.run_cli import bundled_scenarios
from scenarios.runner import run_scenario

BUNDLED = bundled_scenarios()


def report_without_wall(folder: Path) -> bytes:
    doc = json.loads((folder / "report.json").read_bytes())
    assert set(doc["wall"]) == {"wall_started", "wall_seconds", "x_real_time"}
    doc.pop("wall")
    return json.dumps(doc, sort_keys=True).encode()


def test_every_fault_type_has_a_bundled_scenario() -> None:
    from mock_exchange.server.fault_specs import TYPES

    covered = set()
    for path in BUNDLED:
        covered.update(step.spec["type"] for step in load_scenario(path).faults)
    assert set(TYPES) <= covered, f"no bundled scenario for {sorted(set(TYPES) - covered)}"


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_scenario_passes_and_reruns_byte_identically(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    first = run_scenario(scenario, tmp_path / "a")
    assert first.passed, first.failure_text
    assert first.record.faults and all(w.start_ms >= first.record.start_ms for w in first.record.faults)
    second = run_scenario(scenario, tmp_path / "b")
    assert report_without_wall(tmp_path / "a") == report_without_wall(tmp_path / "b")
    for name in ("orders.csv", "fills.csv", "equity.csv", "scenario.resolved.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert second.passed


def test_minutes_of_synthesized_market_take_seconds_and_trade(tmp_path: Path) -> None:
    scenario = load_scenario_text("""
version: 1
clock: {duration: 3m}
market: {kind: synth, preset: calm}
strategy: {name: market_making, params: {spread_bps: 1}}
expectations:
  - {type: fill_count, min: 1}
  - {type: no_orphan_orders}
""", "ten-minutes.yaml")
    t0 = time.perf_counter()
    result = run_scenario(scenario, tmp_path)
    wall = time.perf_counter() - t0
    assert result.passed, result.failure_text
    assert wall < 120  # a loose guard against sleeping in real time; the benchmark measures speed
    samples = result.record.samples
    assert samples[-1].ts_ms - samples[0].ts_ms >= 180_000 - 1_000
    assert len({s.mid for s in samples}) > 30  # the market moved


class Boom(Exception):
    pass


def test_a_strategy_that_raises_fails_the_run_with_its_traceback(tmp_path: Path) -> None:
    scenario = load_scenario_text("""
version: 1
clock: {duration: 30s}
market: {kind: static}
strategy: {name: "tests.scenarios.raising_strategy:RaisesOnThirdTick"}
""", "raises.yaml")
    result = run_scenario(scenario, tmp_path, wall_timeout_s=120)
    assert not result.passed
    assert "third tick went wrong" in result.failure_text and "Traceback" in result.failure_text
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["passed"] is False and "third tick went wrong" in doc["error"]
    # it stopped at the failure, not at the end of the clock
    failure = [e for e in result.record.events if e.kind == "strategy_error"]
    assert failure and failure[0].ts_ms - result.record.start_ms < 10_000


def test_a_strategy_that_never_returns_is_stopped_by_the_watchdog(tmp_path: Path) -> None:
    scenario = load_scenario_text("""
version: 1
clock: {duration: 1h}
market: {kind: static}
strategy: {name: "tests.scenarios.raising_strategy:BlocksTheLoop"}
""", "blocks.yaml")
    t0 = time.perf_counter()
    result = run_scenario(scenario, tmp_path, wall_timeout_s=3)
    assert time.perf_counter() - t0 < 60
    assert not result.passed and "watchdog" in (result.record.error or "")


def test_the_journal_holds_the_wire_messages_without_secrets(tmp_path: Path) -> None:
    scenario = load_scenario(next(p for p in BUNDLED if p.stem == "fault_unknown_placed"))
    result = run_scenario(scenario, tmp_path)
    text = (tmp_path / "journal.jsonl").read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    kinds = {entry["kind"] for entry in lines}
    assert {"rest_request", "rest_response", "ws_in", "ws_out", "fault"} <= kinds
    assert "signature=***" in text
    from mock_exchange.testing import MockServer
    from scenarios.runner import server_config

    # the funded key and its secret are derived from the seed: rebuild them and look for them
    info = next(iter(MockServer(server_config(scenario)).state.accounts.values()))
    assert info.secret_key not in text and info.api_key not in text
    # a failed expectation would name journal lines; the -1007 fault is journaled where it acted
    fault_lines = [entry for entry in lines if entry["kind"] == "fault"]
    assert fault_lines[0]["vt"] == result.record.start_ms + 20_000
    assert any(entry.get("status") == 503 for entry in lines if entry["kind"] == "rest_response")
