"""report.json and journal.jsonl: the machine-readable side of a run folder.

report.json is a stable, versioned document. Every key is sorted, Decimals are strings and
the only values that may differ between two runs of the same seed (the wall-clock ones named
in ``record.WALL_CLOCK_FIELDS``) sit together under ``"wall"``, so two reruns compare
byte-for-byte once that one key is set aside.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson

from scenarios.record import (
    REPORT_SCHEMA_VERSION,
    ExpectationResult,
    FaultWindow,
    JournalEntry,
    RunEvent,
    RunRecord,
)
from scenarios.report.metrics import counts, derived_metrics, origin
from scenarios.report.scrub import collect_secrets, may_hold_secrets, scrub

SCHEMA_NAME = "mockex-report"
_RESERVED = ("line", "vt", "wall", "kind")
_ESCAPED = re.compile(r"^_*(line|vt|wall|kind)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


class ReportFormatError(ValueError):
    """A report.json this version cannot read (not ours, or from a newer schema)."""


def plain(value: Any) -> Any:
    """JSON-shaped data: Decimals as strings, tuples as lists, keys as strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def dumps(value: Any) -> str:
    """The one JSON spelling of every file we write: sorted keys, two-space indent, UTF-8."""
    return json.dumps(plain(value), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _after(done: int | None, start: int) -> int | None:
    return None if done is None else done - start


def fault_json(window: FaultWindow) -> dict[str, Any]:
    return {
        "index": window.index, "type": window.type, "label": window.label, "start_ms": window.start_ms,
        "end_ms": window.end_ms, "spec": scrub(window.spec), "journal_line": window.journal_line,
        "book_resynced_ms": window.book_resynced_ms, "user_stream_back_ms": window.user_stream_back_ms,
        "tracker_converged_ms": window.tracker_converged_ms, "reaction": window.reaction,
        "recovery_after_ms": {
            "book_resynced": _after(window.book_resynced_ms, origin(window)),
            "user_stream_back": _after(window.user_stream_back_ms, origin(window)),
            "tracker_converged": _after(window.tracker_converged_ms, origin(window)),
        },
    }  # fmt: skip


def wall_fields(record: RunRecord) -> dict[str, Any]:
    """The wall-clock fields (``WALL_CLOCK_FIELDS``): the only ones allowed to vary."""
    ratio = round(record.virtual_seconds / record.wall_seconds, 1) if record.wall_seconds > 0 else None
    return {"wall_started": record.wall_started, "wall_seconds": round(record.wall_seconds, 3), "x_real_time": ratio}


def report_document(record: RunRecord) -> dict[str, Any]:
    """report.json as data (see the README's "Run reports" for the schema)."""
    return plain({
        "schema": SCHEMA_NAME,
        "version": REPORT_SCHEMA_VERSION,
        "scenario": record.scenario_name,
        "seed": record.seed,
        "passed": record.passed,
        "error": record.error,
        "trading_pair": record.trading_pair,
        "base_asset": record.base_asset,
        "quote_asset": record.quote_asset,
        "time": {
            "start_ms": record.start_ms, "end_ms": record.end_ms, "duration_ms": record.end_ms - record.start_ms,
            "virtual_seconds": record.virtual_seconds, "start_utc": _utc(record.start_ms), "end_utc": _utc(record.end_ms),
        },
        "expectations": [
            {"name": e.name, "type": e.type, "passed": e.passed, "message": e.message,
             "journal_lines": list(e.journal_lines), "source_line": e.source_line}
            for e in record.expectations
        ],
        "summary": derived_metrics(record),
        "metrics": record.metrics,
        "counts": counts(record),
        "faults": [fault_json(w) for w in record.faults],
        "events": [
            {"ts_ms": e.ts_ms, "kind": e.kind, "detail": scrub(e.detail), "journal_line": e.journal_line}
            for e in record.events
        ],
        "reconciliation": {
            "exchange_open_orders": sorted(record.exchange_open_orders),
            "tracker_open_orders": sorted(record.tracker_open_orders),
            "exchange_balances": record.exchange_balances,
            "tracker_balances": record.tracker_balances,
        },
        "versions": record.versions,
        "wall": wall_fields(record),
    })  # fmt: skip


def report_json(record: RunRecord) -> str:
    return dumps(report_document(record))


def _decimal_or(value: Any) -> Any:
    """Metric strings that are plain numbers come back as Decimals (report.json wrote them so)."""
    if isinstance(value, str) and _NUMBER.match(value):
        return Decimal(value)
    if isinstance(value, dict):
        return {k: _decimal_or(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal_or(v) for v in value]
    return value


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def record_from_document(doc: Any, scenario: dict[str, Any] | None = None) -> RunRecord:
    """The RunRecord fields report.json holds (rows come from the CSVs and the journal)."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_NAME:
        raise ReportFormatError("not a mockex run report (no \"schema\": \"mockex-report\")")
    version = doc.get("version")
    if not isinstance(version, int) or version > REPORT_SCHEMA_VERSION:
        raise ReportFormatError(f"report schema version {version!r} is newer than this mockex reads "
                                f"({REPORT_SCHEMA_VERSION})")
    time, recon, wall = doc.get("time", {}), doc.get("reconciliation", {}), doc.get("wall", {})
    record = RunRecord(
        scenario=scenario or {}, scenario_name=str(doc.get("scenario", "")), seed=int(doc.get("seed", 0)),
        start_ms=int(time.get("start_ms", 0)), end_ms=int(time.get("end_ms", 0)),
        trading_pair=str(doc.get("trading_pair", "")), base_asset=str(doc.get("base_asset", "")),
        quote_asset=str(doc.get("quote_asset", "")),
    )  # fmt: skip
    record.faults = [
        FaultWindow(
            index=int(f["index"]), type=str(f["type"]), label=str(f.get("label", "")), start_ms=int(f["start_ms"]),
            end_ms=_opt_int(f.get("end_ms")), spec=dict(f.get("spec", {})), journal_line=int(f.get("journal_line", 0)),
            book_resynced_ms=_opt_int(f.get("book_resynced_ms")),
            user_stream_back_ms=_opt_int(f.get("user_stream_back_ms")),
            tracker_converged_ms=_opt_int(f.get("tracker_converged_ms")), reaction=str(f.get("reaction", "")),
        )
        for f in doc.get("faults", [])
    ]  # fmt: skip
    record.events = [
        RunEvent(ts_ms=int(e["ts_ms"]), kind=str(e["kind"]), detail=dict(e.get("detail", {})),
                 journal_line=int(e.get("journal_line", 0)))
        for e in doc.get("events", [])
    ]
    record.expectations = [
        ExpectationResult(name=str(e["name"]), type=str(e["type"]), passed=bool(e["passed"]),
                          message=str(e.get("message", "")), journal_lines=[int(n) for n in e.get("journal_lines", [])],
                          source_line=int(e.get("source_line", 0)))
        for e in doc.get("expectations", [])
    ]  # fmt: skip
    record.exchange_open_orders = [str(c) for c in recon.get("exchange_open_orders", [])]
    record.tracker_open_orders = [str(c) for c in recon.get("tracker_open_orders", [])]
    record.exchange_balances = {str(a): Decimal(str(v)) for a, v in recon.get("exchange_balances", {}).items()}
    record.tracker_balances = {str(a): Decimal(str(v)) for a, v in recon.get("tracker_balances", {}).items()}
    record.metrics = _decimal_or(dict(doc.get("metrics", {})))
    record.error = doc.get("error")
    record.versions = {str(k): str(v) for k, v in doc.get("versions", {}).items()}
    record.wall_started = str(wall.get("wall_started", ""))
    record.wall_seconds = float(wall.get("wall_seconds") or 0.0)
    return record


# -- journal.jsonl ------------------------------------------------------------------------


def _escape(key: str) -> str:
    """Data keys that collide with the line's own fields get one more leading underscore."""
    return "_" + key if _ESCAPED.match(key) else key


def _unescape(key: str) -> str:
    return key[1:] if key.startswith("_") and _ESCAPED.match(key) else key


def _encode(value: Any) -> bytes:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS)


def journal_lines(journal: list[JournalEntry], secrets: set[str]) -> list[bytes]:
    """One JSON object per entry: ``{"line", "vt", "wall", "kind", ...data}``, scrubbed.

    ``secrets`` gains every value found under a secret key, and those values are blanked
    wherever they appear (a listen key in a stream path)."""
    encoded = [_encode(entry.data) for entry in journal]
    suspects = [may_hold_secrets(text) for text in encoded]
    for entry, suspect in zip(journal, suspects, strict=True):
        if suspect:
            collect_secrets(entry.data, secrets)
    needles = [s.encode() for s in secrets]
    out = []
    for index, entry in enumerate(journal):
        data: Any = entry.data
        obj: dict[str, Any] = {"line": index + 1, "vt": entry.vt_ms, "wall": round(entry.wall, 6), "kind": entry.kind}
        clean = not suspects[index] and not any(n in encoded[index] for n in needles)
        if clean and isinstance(data, dict) and not any(_ESCAPED.match(str(k)) for k in data):
            head = _encode(obj)  # splice the data's own encoding in: large replies are encoded once
            out.append(head[:-1] + b"," + encoded[index][1:] if data else head)
            continue
        if not clean:
            data = scrub(plain(data), secrets)
        if isinstance(data, dict):
            for key, value in data.items():
                obj[_escape(str(key))] = value
        else:
            obj["_data"] = data
        out.append(_encode(obj))
    return out


def journal_entry(line: str) -> JournalEntry:
    obj = json.loads(line)
    if not isinstance(obj, dict) or "vt" not in obj or "kind" not in obj:
        raise ReportFormatError(f"journal line is not a journal entry: {line[:80]!r}")
    data = {_unescape(k): v for k, v in obj.items() if k not in _RESERVED}
    return JournalEntry(vt_ms=int(obj["vt"]), wall=float(obj.get("wall", 0.0)), kind=str(obj["kind"]), data=data)
