"""``mockex check``: every problem as file:line: key.path: message, and the exit status CI reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mock_exchange.cli import main
from scenarios.loader import check_files

GOOD = "version: 1\nclock: {duration: 30s}\nstrategy: {name: idle}\n"
BAD = "version: 1\nstrategy: {name: idel}\nfaults:\n  - {at: 40s, type: drop_streams}\nclock: {duration: 30s}\n"


def test_good_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    assert main(["check", str(tmp_path / "good.yaml")]) == 0
    assert capsys.readouterr().out == "ok: 1 scenario\n"


def test_every_error_of_every_file_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "also_bad.scenario.yaml").write_text("strategy: {name: idle}\nseed: -3\n")
    assert main(["check", str(tmp_path / "good.yaml"), str(tmp_path / "bad.yaml"),
                 str(tmp_path / "also_bad.scenario.yaml")]) == 1  # fmt: skip
    out, err = capsys.readouterr()
    bad = tmp_path / "bad.yaml"
    assert out.splitlines() == [
        f"{bad}:2: strategy.name: unknown strategy 'idel': use a built-in (market_making, twap, taker, idle) "
        "or 'package.module:Class' (did you mean 'idle'?)",
        f"{bad}:4: faults[0].at: at 40s is not before the end of the run (clock.duration 30s)",
        f"{tmp_path / 'also_bad.scenario.yaml'}:2: seed: must be >= 0, got -3",
    ]
    assert "3 errors in 2 of 3 scenarios" in err


def test_folders_hold_scenarios_and_other_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nested = tmp_path / "suite" / "more"
    nested.mkdir(parents=True)
    (tmp_path / "suite" / "a.yaml").write_text(GOOD)
    (nested / "b.yml").write_text(GOOD)
    # Not scenarios: a compose file and a symbols config are left alone.
    (tmp_path / "suite" / "docker-compose.yaml").write_text("version: '3'\nservices: {}\n")
    (tmp_path / "suite" / "symbols.yaml").write_text("symbols: []\n")
    assert main(["check", str(tmp_path / "suite")]) == 0
    assert capsys.readouterr().out == "ok: 2 scenarios\n"


def test_nothing_to_check_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path)]) == 1
    assert "no scenario files" in capsys.readouterr().err


def test_missing_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "gone.yaml")]) == 1
    assert f"{tmp_path / 'gone.yaml'}:1: <root>: cannot read" in capsys.readouterr().out


def test_check_files_api(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    assert [(i.line, i.key_path) for i in check_files([tmp_path])] == [(2, "strategy.name"), (4, "faults[0].at")]


def test_bundled_scenarios_pass_through_the_installed_command() -> None:
    bundled = Path(__file__).resolve().parents[2] / "scenarios" / "bundled"
    proc = subprocess.run([sys.executable, "-m", "mock_exchange.cli", "check", str(bundled)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok: ") and proc.stdout.rstrip().endswith("scenarios")
