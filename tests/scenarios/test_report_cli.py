"""`mockex report RUN [--compare OTHER]` as a user types it."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from mock_exchange.cli import main
from scenarios.record import ExpectationResult, FillRow, RunRecord, Sample
from scenarios.report import write_run

T0 = 1_767_225_600_000


def run_folder(tmp_path: Path, name: str, pnl: str) -> Path:
    rec = RunRecord(scenario={"name": "cli"}, scenario_name="cli", seed=5, start_ms=T0, end_ms=T0 + 10_000,
                    trading_pair="BTC-USDT", base_asset="BTC", quote_asset="USDT", wall_seconds=0.5)
    rec.samples = [Sample(T0 + i * 1000, D("60000"), D("1"), D("100"), D("60100"), D(pnl) * i / 10, D(0), 10, 0)
                   for i in range(11)]
    rec.fills = [FillRow(T0 + 4000, "c1", "BTCUSDT", "BUY", D("60000"), D("0.01"), D("0.00001"), "BTC", 1)]
    rec.expectations = [ExpectationResult("pnl", "pnl", D(pnl) >= 0, f"PnL {pnl} USDT")]
    out = tmp_path / name
    write_run(rec, out)
    return out


def test_report_rerenders_the_views(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = run_folder(tmp_path, "run", "4")
    (run / "report.md").unlink()
    (run / "report.html").write_text("stale")
    assert main(["report", str(run)]) == 0
    out = capsys.readouterr().out
    assert "scenario cli (seed 5): PASSED" in out and "20.0× real time" in out
    assert f"re-rendered {run / 'report.md'}" in out
    assert (run / "report.md").read_text().startswith("# Scenario `cli`: PASSED")
    assert (run / "report.html").read_text().count("<svg") == 4


def test_report_compare_prints_the_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = run_folder(tmp_path, "a", "4"), run_folder(tmp_path, "b", "-2")
    assert main(["report", str(a), "--compare", str(b)]) == 0
    out = capsys.readouterr().out
    assert "A: cli seed 5: PASSED" in out and "B: cli seed 5: FAILED" in out
    assert "pnl: 4 -> -2 (-6)" in out
    assert "pnl: PASS -> FAIL: PnL -2 USDT" in out


@pytest.mark.parametrize("compare", [False, True])
def test_report_on_a_folder_that_is_not_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              compare: bool) -> None:
    good = run_folder(tmp_path, "good", "1")
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["report", str(good), "--compare", str(empty)] if compare else ["report", str(empty)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"mockex report: {empty}: not a run folder (no report.json)"
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "not a directory" in capsys.readouterr().err
