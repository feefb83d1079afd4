"""``mockex run`` as a user runs it: a real process, the bundled default, exit codes, files."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def mockex(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mock_exchange.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_mockex_run_without_arguments_runs_the_default_scenario(tmp_path: Path) -> None:
    done = mockex("run", "--junit", str(tmp_path / "junit.xml"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "scenario default (seed 1): PASSED" in done.stdout
    assert "× real time" in done.stdout and "faults: 3" in done.stdout
    run = tmp_path / "mockex-runs" / "default-seed1"
    for name in ("report.json", "report.md", "report.html", "orders.csv", "fills.csv", "equity.csv",
                 "journal.jsonl", "scenario.resolved.json"):
        assert (run / name).stat().st_size > 0, name
    # the resolved scenario says what ran (defaults expanded, seed, versions) and loads back
    from scenarios.loader import load_scenario

    resolved = json.loads((run / "scenario.resolved.json").read_text())
    assert resolved["run"]["seed"] == 1 and resolved["run"]["versions"]["mockex"]
    assert resolved["strategy"]["params"]["spread_bps"]  # strategy defaults written out
    assert load_scenario(run / "scenario.resolved.json").faults == load_scenario(
        REPO / "scenarios" / "bundled" / "default.yaml").faults
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.iter("testcase") and not list(suite.iter("failure"))


def test_a_wrong_scenario_is_reported_with_file_line_and_key_and_nothing_runs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nstrategy: {name: idle}\nfaults:\n  - {at: 5s, type: http_error, code: -1007, status: teapot}\n")
    done = mockex("run", str(bad), "--seed", "3", cwd=tmp_path)
    assert done.returncode == 2
    assert f"{bad}:4: faults[0].status" in done.stderr
    assert not (tmp_path / "mockex-runs").exists()


def test_a_failed_expectation_exits_1_and_says_why(tmp_path: Path) -> None:
    scenario = tmp_path / "wants_fills.yaml"
    scenario.write_text("version: 1\nclock: {duration: 5s}\nmarket: {kind: static}\nstrategy: {name: idle}\n"
                        "expectations:\n  - {type: fill_count, min: 1}\n")
    done = mockex("run", str(scenario), "--quiet", cwd=tmp_path)
    assert done.returncode == 1
    assert "FAILED" in done.stdout and "fill_count" in done.stderr
