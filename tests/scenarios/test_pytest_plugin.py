"""The pytest plugin, driven through pytester: scenario files collect and run as tests, a broken
one is a collection error naming file, line and key, and the fixtures give a working exchange
and connector."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

# Imported here, not first inside pytester's in-process runs: those drop the modules they import
# afterwards, and numpy (under the connector's pandas) cannot be imported twice in one process.
import connector  # noqa: F401
import mock_exchange.testing  # noqa: F401
import scenarios.pytest_plugin  # noqa: F401

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
IDLE = "version: 1\nclock: {duration: 5s}\nmarket: {kind: static}\nstrategy: {name: idle}\n"


def plugin_args() -> list[str]:
    """Load the plugin by name unless the installed entry point already does."""
    names = {ep.name for ep in metadata.entry_points(group="pytest11")}
    return ["-p", "no:benchmark", "-p", "no:cacheprovider"] + ([] if "mockex" in names else
                                                               ["-p", "scenarios.pytest_plugin"])


@pytest.fixture(autouse=True)
def _inner_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


def fake_runner(monkeypatch: pytest.MonkeyPatch, passed: bool, calls: list[Any]) -> None:
    """Stand in for ``scenarios.runner`` so collection and reporting are tested on their own."""

    def run_scenario(scenario: Any, out_dir: Path | None = None, **_: Any) -> Any:
        calls.append((scenario, out_dir))
        text = "" if passed else "FAIL fill_count: 0 fills, fewer than the minimum 1 (journal lines 3, 4)"
        return SimpleNamespace(passed=passed, failure_text=text, out_dir=out_dir, summary="summary here", record=None)

    module = ModuleType("scenarios.runner")
    module.run_scenario = run_scenario  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "scenarios.runner", module)


def test_entry_point_is_declared() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"mockex": "scenarios.pytest_plugin"}


def test_scenario_file_is_collected_and_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    fake_runner(monkeypatch, True, calls)
    pytester.makefile(".scenario.yaml", quiet=IDLE)
    pytester.makefile(".yaml", compose="version: '3'\nservices: {web: {image: x}}\n")  # not a scenario
    pytester.makefile(".yaml", config="symbols: default\nseed: 3\n")  # not a scenario either
    result = pytester.runpytest(*plugin_args(), "-v")
    result.assert_outcomes(passed=1)
    assert any("quiet.scenario.yaml::quiet PASSED" in line for line in result.outlines)
    scenario, out_dir = calls[0]
    assert scenario.strategy.name == "idle" and scenario.clock.duration_ms == 5_000
    assert out_dir is not None and "mockex-quiet" in str(out_dir)


def test_failed_expectation_is_a_failed_test_with_the_explanation(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_runner(monkeypatch, False, [])
    pytester.makefile(".yaml", mm="version: 1\nstrategy: {name: idle}\nexpectations:\n  - {type: fill_count, min: 1}\n")
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(failed=1)
    text = "\n".join(result.outlines)
    assert "scenario mm failed" in text
    assert "FAIL fill_count: 0 fills, fewer than the minimum 1 (journal lines 3, 4)" in text
    assert "run folder:" in text


def test_broken_scenario_is_a_collection_error_naming_file_line_and_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_runner(monkeypatch, True, [])
    path = pytester.makefile(".scenario.yaml", broken="version: 1\nstrategy: {name: idle}\nfaults:\n"
                                                      "  - {at: 1s, type: http_error, code: oops}\n")
    result = pytester.runpytest(*plugin_args())
    result.assert_outcomes(errors=1)
    text = "\n".join(result.outlines)
    assert f"{path}:4: faults[0].code: expected an integer, got 'oops'" in text


def test_mockex_out_keeps_run_folders(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    fake_runner(monkeypatch, True, calls)
    pytester.mkdir("suite")
    (pytester.path / "suite" / "calm.yaml").write_text(IDLE)
    keep = pytester.path / "runs"
    result = pytester.runpytest(*plugin_args(), "--mockex-out", str(keep), "suite")
    result.assert_outcomes(passed=1)
    assert calls[0][1] == keep / "suite_calm-calm"


def test_collection_can_be_turned_off(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_runner(monkeypatch, True, [])
    pytester.makefile(".scenario.yaml", quiet=IDLE)
    pytester.makeini("[pytest]\nmockex_collect = false\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest(*plugin_args())
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


FIXTURE_TESTS = '''
from decimal import Decimal

import pytest

from connector import OrderType


@pytest.mark.asyncio
async def test_exchange_and_clock(mock_exchange, mockex_clock):
    client = mock_exchange.client()
    before = (await client.public("GET", "/api/v3/time")).json()["serverTime"]
    mockex_clock.advance(90_000)
    after = (await client.public("GET", "/api/v3/time")).json()["serverTime"]
    assert after - before == 90_000  # the server reads the fixture's clock

    fault_id = mock_exchange.faults.add({"type": "http_error", "path": "/api/v3/time", "status": 503})
    assert [f["id"] for f in mock_exchange.faults.active()] == [fault_id]
    assert (await client.public("GET", "/api/v3/time")).status == 503
    assert (await client.public("GET", "/api/v3/time")).status == 200  # count 1: used up
    mock_exchange.faults.add({"type": "clock_skew", "ms": 1000})
    mock_exchange.reset()
    assert mock_exchange.faults.active() == []


@pytest.mark.asyncio
async def test_connector_against_the_mock(connector_market, mock_exchange, connector_config):
    assert connector_config.rest_url == mock_exchange.base_url
    assert connector_market.ready
    assert connector_market.get_balance("USDT") == Decimal("100000")
    book = connector_market.get_order_book("BTC-USDT")
    bid = connector_market.quantize_order_price("BTC-USDT", Decimal(str(book.get_price(False))) * Decimal("0.9"))
    order_id = connector_market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid)
    for _ in range(200):
        opened = mock_exchange.state.engine.open_orders(mock_exchange.account.account_id)
        if opened:
            break
        await __import__("asyncio").sleep(0.01)
    assert [o.client_order_id for o in opened] == [order_id]
'''


def test_fixtures_give_a_running_exchange_and_a_connected_market(pytester: pytest.Pytester) -> None:
    if importlib.util.find_spec("pytest_asyncio") is None:
        pytest.skip("the async fixtures need pytest-asyncio")
    pytester.makepyfile(test_fixtures=FIXTURE_TESTS)
    result = pytester.runpytest(*plugin_args(), "-p", "asyncio")
    result.assert_outcomes(passed=2)


def test_real_runner_end_to_end(pytester: pytest.Pytester) -> None:
    """The real thing: scenario files run through the scenario runner, pass and fail."""
    try:
        importlib.import_module("scenarios.runner")
    except ImportError:
        pytest.skip("runner not available")
    pytester.makefile(".scenario.yaml", quiet=IDLE + "expectations:\n  - no_orphan_orders\n")
    pytester.makefile(".scenario.yaml", busy=IDLE + "expectations:\n  - {type: fill_count, min: 1}\n")
    result = pytester.runpytest(*plugin_args(), "-v")
    result.assert_outcomes(passed=1, failed=1)
    text = "\n".join(result.outlines)
    assert "quiet.scenario.yaml::quiet PASSED" in text
    assert "scenario busy failed" in text and "fill_count" in text and "fewer than the minimum 1" in text


def test_scenario_files_run_for_real_and_a_failed_expectation_fails_the_test(pytester: pytest.Pytester) -> None:
    """No stand-in runner: the real mock exchange, connector and strategy in virtual time."""
    pytester.makefile(".scenario.yaml", holds=IDLE + "expectations:\n  - {type: no_orphan_orders}\n")
    pytester.makefile(".scenario.yaml", fails=IDLE + "expectations:\n  - {type: fill_count, min: 1, name: wants fills}\n")
    result = pytester.runpytest_subprocess(*plugin_args(), "-v", "--mockex-out", str(pytester.path / "runs"))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*holds*PASSED*", "*fails*FAILED*", "*wants fills*"])
    assert (pytester.path / "runs").is_dir() and list((pytester.path / "runs").rglob("report.json"))
