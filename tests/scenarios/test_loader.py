"""Scenario files that load: defaults, spellings (durations, times, money), paths, round trips."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from mock_exchange.server import fault_specs
from scenarios.loader import (
    ScenarioError,
    load_scenario,
    load_scenario_text,
    parse_duration,
    parse_money,
    parse_time,
    scenario_schema,
)
from scenarios.model import DEFAULT_START_MS, AccountSpec, MarketSpec, Scenario

REPO = Path(__file__).resolve().parents[2]
BUNDLED = sorted((REPO / "scenarios" / "bundled").glob("*.yaml"))

FULL = """\
version: 1
name: mm-calm
description: market making on a calm market
seed: 42
clock:
  start: 2026-03-01T12:00:00Z
  duration: 10m
accounts:
  - name: maker
    balances: {USDT: "25000.5", BTC: 0.5}
    maker_rate: 0.0002
    taker_rate: "0.0004"
market:
  kind: synth
  preset: volatile
  params: {noise: {orders_per_s: 10}, makers: {half_spread_ticks: [1, 3]}}
latency: {order: 20ms, jitter: 5ms, market_data: 0}
strategy:
  name: market_making
  trading_pair: BTCUSDT
  params: {spread_bps: 12}
faults:
  - {at: 5m, type: symbol_status, symbol: btcusdt, status: HALT, duration: 30s}
  - {at: 30s, type: http_error, path: /api/v3/order, status: 503, label: unknown outcome}
  - {at: 2m, type: stall_streams, target: market, ms: 1500}
expectations:
  - no_orphan_orders
  - {type: book_resync, within: 5s, name: book back quickly}
  - {type: fill_count, min: 1}
report: {journal_market_data: true, sample_interval: 250ms, junit: true}
"""


def line_of(text: str, snippet: str) -> int:
    """1-based line of the first line containing ``snippet``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if snippet in line)


def write(tmp_path: Path, text: str, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_minimal_file_loads_with_every_default(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, "strategy: {name: idle}\n", "quiet.scenario.yaml"))
    assert sc.name == "quiet"  # the file name without .scenario.yaml
    assert sc.version == 1 and sc.seed == 1
    assert (sc.clock.start_ms, sc.clock.duration_ms) == (DEFAULT_START_MS, 60_000)
    assert sc.symbols == "default"
    assert sc.accounts == [AccountSpec()]
    assert sc.market == MarketSpec()
    assert (sc.strategy.name, sc.strategy.trading_pair) == ("idle", "BTC-USDT")
    assert sc.faults == [] and sc.expectations == []
    assert sc.report.sample_interval_ms == 1_000 and not sc.report.junit
    assert sc.source == str(tmp_path / "quiet.scenario.yaml")


def test_full_file_is_read_as_written(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, FULL))
    assert (sc.name, sc.seed, sc.description) == ("mm-calm", 42, "market making on a calm market")
    assert sc.clock.start_ms == parse_time("2026-03-01T12:00:00Z") and sc.clock.duration_ms == 600_000
    account = sc.accounts[0]
    assert account.name == "maker"
    assert account.balances == {"USDT": Decimal("25000.5"), "BTC": Decimal("0.5")}
    assert (account.maker_rate, account.taker_rate) == (Decimal("0.0002"), Decimal("0.0004"))
    assert sc.market.preset == "volatile" and sc.market.params["noise"] == {"orders_per_s": 10}
    assert (sc.latency.order_ms, sc.latency.jitter_ms, sc.latency.market_data_ms) == (20, 5, 0)
    assert sc.strategy.trading_pair == "BTC-USDT"  # the venue's BTCUSDT, in the connector's spelling
    assert sc.strategy.params == {"spread_bps": 12}
    assert sc.report.journal_market_data and sc.report.junit and sc.report.sample_interval_ms == 250


def test_faults_are_sorted_by_time_and_normalised_by_the_control_plane(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, FULL))
    assert [f.at_ms for f in sc.faults] == [30_000, 120_000, 300_000]
    http, stall, halt = sc.faults
    # The control plane's defaults are filled in: a 503 means -1007 and its venue text.
    assert http.spec["code"] == -1007 and http.spec["msg"] == fault_specs.DEFAULT_MSG[-1007]
    assert http.spec["type"] == "http_error" and http.spec["count"] == 1 and "label" not in http.spec
    assert http.label == "unknown outcome" and http.duration_ms is None
    assert stall.spec == {"type": "stall_streams", "target": "market", "ms": 1500}
    assert halt.spec["symbol"] == "BTCUSDT" and halt.duration_ms == 30_000
    # Each keeps the line it was written on, for the journal and the report.
    assert [f.source_line for f in sc.faults] == [line_of(FULL, "http_error"), line_of(FULL, "stall_streams"),
                                                  line_of(FULL, "symbol_status")]


def test_expectations_short_and_long_forms(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, FULL))
    orphan, resync, fills = sc.expectations
    assert (orphan.type, orphan.params) == ("no_orphan_orders", {})
    assert orphan.source_line == line_of(FULL, "- no_orphan_orders")
    assert resync.params == {"within": 5_000} and resync.name == "book back quickly"  # 5s -> ms
    assert fills.params == {"min": 1}


@pytest.mark.parametrize(("text", "ms"), [
    ("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("1h", 3_600_000), ("1m30s", 90_000),
    ("1.5s", 1_500), (1500, 1500), (0, 0),
])  # fmt: skip
def test_duration_spellings(text: str | int, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize("bad", ["30", "10x", "1.0005s", -5, 1.5, True, None, "s"])
def test_bad_durations_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_start_time_spellings() -> None:
    assert parse_time("2026-01-01T00:00:00Z") == DEFAULT_START_MS
    assert parse_time("2026-01-01T01:00:00+01:00") == DEFAULT_START_MS
    assert parse_time("2026-01-01") == DEFAULT_START_MS  # a bare date is midnight UTC
    assert parse_time("2026-01-01T00:00:00.250") == DEFAULT_START_MS + 250  # no offset: UTC
    assert parse_time(DEFAULT_START_MS) == DEFAULT_START_MS


def test_money_spellings() -> None:
    assert parse_money("100000") == Decimal("100000")
    assert parse_money(0.1) == Decimal("0.1")  # a YAML float as written, not its binary value
    assert parse_money(5) == Decimal(5)
    assert str(parse_money(1e20)) == "100000000000000000000"  # never an exponent in the resolved file
    for bad in ("0.000000001", 1.000000001, 0.12345678901234567, "-1", "abc", True):
        with pytest.raises(ValueError):
            parse_money(bad)
    with pytest.raises(ValueError, match="below 1"):
        parse_money("1", below_one=True)


def test_relative_files_resolve_against_the_scenario_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "symbols.yaml").write_text(
        "symbols:\n  - {symbol: DOGEUSDT, base: DOGE, quote: USDT, tickSize: '0.00001', stepSize: '1', "
        "minNotional: '1'}\n")  # fmt: skip
    (data / "capture.jsonl").write_text("")
    sub = tmp_path / "scenarios"
    sub.mkdir()
    text = ("symbols: ../data/symbols.yaml\nmarket: {kind: replay, file: ../data/capture.jsonl, speed: 10}\n"
            "strategy: {name: idle, trading_pair: DOGE-USDT}\n")  # fmt: skip
    sc = load_scenario(write(sub, text))
    assert sc.symbols == str((data / "symbols.yaml").resolve())
    assert sc.market.file == str((data / "capture.jsonl").resolve()) and sc.market.speed == 10


def test_inline_symbols_are_kept_as_written_and_checked(tmp_path: Path) -> None:
    text = ("symbols:\n  - {symbol: ABCUSDT, base: ABC, quote: USDT, tickSize: '0.01', stepSize: '0.1', "
            "minNotional: '5'}\nstrategy: {name: idle, trading_pair: ABC-USDT}\n"
            "faults:\n  - {at: 1s, type: skip_depth, symbol: ABCUSDT}\n")  # fmt: skip
    sc = load_scenario(write(tmp_path, text))
    assert isinstance(sc.symbols, list) and sc.symbols[0]["symbol"] == "ABCUSDT"
    assert sc.faults[0].spec["symbol"] == "ABCUSDT"


def test_user_strategy_by_module_and_class(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my_strats_for_loader.py").write_text(
        "from scenarios.strategies import Strategy\n\n\nclass Quiet(Strategy):\n    pass\n\n\nclass NotOne:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sc = load_scenario(write(tmp_path, "strategy: {name: 'my_strats_for_loader:Quiet'}\n"))
    assert sc.strategy.name == "my_strats_for_loader:Quiet"
    with pytest.raises(ScenarioError, match="strategy.name: .*not a subclass"):
        load_scenario(write(tmp_path, "strategy: {name: 'my_strats_for_loader:NotOne'}\n"))


def test_keys_are_taken_as_written_and_timestamps_stay_text() -> None:
    sc = load_scenario_text("clock: {start: 2026-01-01T00:00:00Z}\nstrategy: {name: idle}\n")
    assert sc.clock.start_ms == DEFAULT_START_MS  # YAML did not turn it into a datetime first


def test_resolved_form_round_trips(tmp_path: Path) -> None:
    original = load_scenario(write(tmp_path, FULL))
    resolved = original.resolved()
    json.dumps(resolved)  # JSON-shaped
    again = load_scenario_text(yaml.safe_dump(resolved, sort_keys=False), str(tmp_path / "resolved.yaml"))
    assert again == original


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_scenarios_load_and_round_trip(path: Path) -> None:
    original = load_scenario(path)
    again = load_scenario_text(json.dumps(original.resolved()), "resolved.json")  # JSON is YAML too
    assert again == original


def test_shipped_schema_matches_the_code() -> None:
    """The JSON Schema ships with the package and names exactly the fault and expectation types
    (and each fault type's keys) the control plane and the expectations know."""
    from scenarios.expectations import EXPECTATION_TYPES, PARAMS

    schema = scenario_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == {f for f in Scenario.__dataclass_fields__} | {"run"}  # run: metadata a run adds
    faults = schema["properties"]["faults"]["items"]["else"]
    assert faults["properties"]["type"]["enum"] == list(fault_specs.TYPES)
    for branch in faults["allOf"]:
        kind = branch["if"]["properties"]["type"]["const"]
        assert set(branch["then"]["properties"]) == set(fault_specs.KEYS[kind])
    assert schema["$defs"]["expectationType"]["enum"] == list(EXPECTATION_TYPES)
    expectations = schema["properties"]["expectations"]["items"]["else"]["allOf"]
    assert {b["if"]["properties"]["type"]["const"]: set(b["then"]["properties"]) for b in expectations} == PARAMS
