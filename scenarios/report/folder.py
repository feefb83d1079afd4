"""A run folder: writing every file of a finished run, and reading one back to re-render or
compare it later (``mockex report``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from scenarios.record import FillRow, OrderRow, RunRecord, Sample
from scenarios.report.html import render_html
from scenarios.report.junit import junit_xml
from scenarios.report.scrub import collect_secrets, scrub
from scenarios.report.serialize import (
    ReportFormatError,
    dumps,
    journal_entry,
    journal_lines,
    record_from_document,
    report_json,
)
from scenarios.report.tables import read_rows, write_tables
from scenarios.report.text import render_markdown

REPORT_FILES = (
    "report.json", "report.md", "report.html", "orders.csv", "fills.csv", "equity.csv", "journal.jsonl",
    "scenario.resolved.json",
)  # fmt: skip


class RunFolderError(ValueError):
    """A folder that is not a readable run (no report.json, or one we cannot read)."""


def _scrubbed(record: RunRecord) -> tuple[RunRecord, list[bytes]]:
    """A shallow copy whose report-facing parts carry no secrets, and the scrubbed journal."""
    secrets: set[str] = set()
    collect_secrets(record.scenario, secrets)
    for event in record.events:
        collect_secrets(event.detail, secrets)
    journal = journal_lines(record.journal, secrets)  # adds the journal's secrets to the set
    clean = dataclasses.replace(
        record,
        scenario=scrub(record.scenario, secrets),
        events=[dataclasses.replace(e, detail=scrub(e.detail, secrets)) for e in record.events],
        faults=[dataclasses.replace(w, spec=scrub(w.spec, secrets)) for w in record.faults],
        error=None if record.error is None else scrub(record.error, secrets),
    )
    return clean, journal


def write_views(record: RunRecord, out_dir: Path) -> None:
    """report.md and report.html (the renderings ``mockex report`` refreshes)."""
    (out_dir / "report.md").write_text(render_markdown(record), encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(record), encoding="utf-8")


def write_run(record: RunRecord, out_dir: Path, *, junit: Path | None = None) -> None:
    """Write the whole run folder (and ``junit`` when given)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clean, journal = _scrubbed(record)
    (out_dir / "report.json").write_text(report_json(clean), encoding="utf-8")
    resolved = {**clean.scenario, "run": {"seed": record.seed, "versions": dict(record.versions)}}
    (out_dir / "scenario.resolved.json").write_text(dumps(resolved), encoding="utf-8")
    write_tables(out_dir, clean.orders, clean.fills, clean.samples)
    with (out_dir / "journal.jsonl").open("wb") as handle:
        for line in journal:
            handle.write(line + b"\n")
    write_views(clean, out_dir)
    if junit is not None:
        junit = Path(junit)
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(junit_xml(clean), encoding="utf-8")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path}: cannot read: {exc}") from None


def load_run(run_dir: Path | str) -> RunRecord:
    """A run folder back as a RunRecord: everything the report files need to be re-rendered
    (report.json, the CSVs, the journal and the resolved scenario)."""
    folder = Path(run_dir)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a directory")
    report = folder / "report.json"
    if not report.is_file():
        raise RunFolderError(f"{folder}: not a run folder (no report.json)")
    scenario_file = folder / "scenario.resolved.json"
    scenario = _read_json(scenario_file) if scenario_file.is_file() else {}
    if isinstance(scenario, dict):
        scenario.pop("run", None)  # what the run added (seed used, versions), not the scenario
    try:
        record = record_from_document(_read_json(report), scenario if isinstance(scenario, dict) else {})
        record.orders = read_rows(folder / "orders.csv", OrderRow)
        record.fills = read_rows(folder / "fills.csv", FillRow)
        record.samples = read_rows(folder / "equity.csv", Sample)
        journal = folder / "journal.jsonl"
        if journal.is_file():
            with journal.open(encoding="utf-8") as handle:
                record.journal = [journal_entry(line) for line in handle if line.strip()]
    except ReportFormatError as exc:
        raise RunFolderError(f"{report}: {exc}") from None
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise RunFolderError(f"{folder}: damaged run folder: {type(exc).__name__}: {exc}") from None
    return record
