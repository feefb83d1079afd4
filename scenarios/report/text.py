"""The human-readable renderings: the terminal summary, report.md and the diff of two runs."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from scenarios.record import FaultWindow, RunRecord
from scenarios.report.metrics import counts, duration, money, origin, rel_seconds, run_metrics, to_decimal
from scenarios.report.serialize import wall_fields

SHORT = 110  # passed expectations' messages are cut to this in the terminal


def verdict(record: RunRecord) -> str:
    return "PASSED" if record.passed else "FAILED"


def speed_line(record: RunRecord) -> str:
    wall = wall_fields(record)
    ratio = wall["x_real_time"]
    times = f" ({ratio}× real time)" if ratio is not None else ""
    return f"{record.virtual_seconds:.3f} s virtual in {record.wall_seconds:.3f} s wall{times}"


def _tally(groups: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in groups.items())


def recovery_text(window: FaultWindow) -> str:
    """How the connector came back from one fault, as one line (times from the fault's end)."""
    parts = []
    for label, done in (("book resynced", window.book_resynced_ms), ("user stream back", window.user_stream_back_ms),
                        ("tracker converged", window.tracker_converged_ms)):
        if done is not None:
            parts.append(f"{label} during the fault" if done < origin(window)
                         else f"{label} after {duration(done - origin(window))}")
    reaction = window.reaction.strip()
    if reaction and parts:
        return f"{reaction} ({', '.join(parts)})"
    return reaction or ", ".join(parts) or "no reaction observed"


def fault_title(record: RunRecord, window: FaultWindow) -> str:
    label = f" '{window.label}'" if window.label else ""
    until = f" to {rel_seconds(record, window.end_ms)}" if window.end_ms is not None and window.end_ms > window.start_ms else ""
    return f"#{window.index} {window.type}{label} at {rel_seconds(record, window.start_ms)}{until}"


def _last_line(text: str) -> str:
    return next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), "error")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _lines(numbers: list[int]) -> str:
    return f" [journal {', '.join(map(str, numbers[:10]))}{' …' if len(numbers) > 10 else ''}]" if numbers else ""


def render_summary(record: RunRecord) -> str:
    """The short summary printed at the end of ``mockex run``."""
    metrics = run_metrics(record)
    tallies = counts(record)
    out = [f"scenario {record.scenario_name} (seed {record.seed}): {verdict(record)}", f"  {speed_line(record)}"]
    passed = sum(1 for e in record.expectations if e.passed)
    out.append(f"  expectations: {passed} of {len(record.expectations)} passed")
    for result in record.expectations:
        if result.passed:
            out.append(f"    PASS {result.name}: {_cut(result.message, SHORT)}")
        else:
            out.append(f"    FAIL {result.name}: {result.message}{_lines(result.journal_lines)}")
    by_state = f" ({_tally(tallies['orders_by_state'])})" if record.orders else ""
    by_side = f" ({_tally(tallies['fills_by_side'])})" if record.fills else ""
    out.append(f"  orders: {len(record.orders)}{by_state}; fills: {len(record.fills)}{by_side}")
    quote, base = record.quote_asset, record.base_asset
    pct = f" ({metrics['max_drawdown_pct']} %)" if metrics.get("max_drawdown_pct") is not None else ""
    out.append(f"  PnL: {_amount(metrics.get('pnl'), quote)}; max drawdown {_amount(metrics.get('max_drawdown'), quote)}"
               f"{pct}; inventory {_amount(metrics.get('final_base'), base)}")
    if record.faults:
        out.append(f"  faults: {len(record.faults)}")
        out.extend(f"    {fault_title(record, w)}: {recovery_text(w)}" for w in record.faults)
    else:
        out.append("  faults: none")
    if record.error is not None:
        out.append(f"  error: {_last_line(record.error)}")
    return "\n".join(out)


def _amount(value: Any, asset: str) -> str:
    number = to_decimal(value)
    return "n/a" if number is None else f"{money(number)} {asset}".rstrip()


# -- report.md ----------------------------------------------------------------------------


def _md(value: Any) -> str:
    text = str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out.extend("| " + " | ".join(_md(c) for c in row) + " |" for row in rows)
    return out + [""]


def _after(done: int | None, start: int) -> str:
    return "—" if done is None else duration(done - start)


def _metric_rows(metrics: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    for key in sorted(metrics):
        value = metrics[key]
        if isinstance(value, dict):
            value = ", ".join(f"{k} {money(v) if isinstance(v, Decimal) else v}" for k, v in value.items()) or "—"
        elif isinstance(value, Decimal):
            value = money(value)
        rows.append([key, "—" if value is None else value])
    return rows


MAX_EVENTS = 500


def render_markdown(record: RunRecord) -> str:
    """report.md: what a reviewer reads first."""
    tallies = counts(record)
    out = [f"# Scenario `{record.scenario_name}`: {verdict(record)}", ""]
    out.append(f"Seed {record.seed}, {record.trading_pair}, {speed_line(record)}.  ")
    out.append(f"Virtual time {record.start_ms} → {record.end_ms} ms.")
    out.append("")
    if record.error is not None:
        out += ["## Error", "", "```text", record.error.rstrip(), "```", ""]
    out += ["## Expectations", ""]
    out += _table(["", "name", "type", "message", "journal lines", "line in scenario"], [
        ["PASS" if e.passed else "**FAIL**", e.name, e.type, e.message, ", ".join(map(str, e.journal_lines)) or "—",
         e.source_line or "—"]
        for e in record.expectations
    ]) if record.expectations else ["No expectations.", ""]
    out += ["## Orders and fills", ""]
    out += _table(["", "count", "by"], [
        ["orders", tallies["orders"], _tally(tallies["orders_by_state"]) or "—"],
        ["fills", tallies["fills"], _tally(tallies["fills_by_side"]) or "—"],
        ["events", tallies["events"], _tally(tallies["events_by_kind"]) or "—"],
        ["journal lines", tallies["journal_lines"], _tally(tallies["journal_by_kind"]) or "—"],
    ])  # fmt: skip
    out += ["## Metrics", "", f"PnL and equity in {record.quote_asset}, inventory in {record.base_asset}.", ""]
    out += _table(["metric", "value"], _metric_rows(run_metrics(record)))
    out += ["## Faults", ""]
    out += _table(["#", "type", "label", "start", "end", "book resynced", "user stream back", "tracker converged",
                   "reaction", "journal line"], [
        [w.index, w.type, w.label or "—", rel_seconds(record, w.start_ms),
         "—" if w.end_ms is None else rel_seconds(record, w.end_ms), _after(w.book_resynced_ms, origin(w)),
         _after(w.user_stream_back_ms, origin(w)), _after(w.tracker_converged_ms, origin(w)),
         w.reaction or "—", w.journal_line or "—"]
        for w in record.faults
    ]) if record.faults else ["No faults.", ""]  # fmt: skip
    out += ["## Events", ""]
    shown = record.events[:MAX_EVENTS]
    out += _table(["time", "kind", "detail", "journal line"], [
        [rel_seconds(record, e.ts_ms), e.kind, ", ".join(f"{k}={v}" for k, v in e.detail.items()) or "—",
         e.journal_line or "—"]
        for e in shown
    ]) if shown else ["No events.", ""]  # fmt: skip
    if len(record.events) > MAX_EVENTS:
        out += [f"({len(record.events) - MAX_EVENTS} more events in report.json)", ""]
    if record.versions:
        out += ["## Versions", ""] + _table(["component", "version"], [[k, v] for k, v in sorted(record.versions.items())])
    out.append("Files: report.json, report.html, orders.csv, fills.csv, equity.csv, journal.jsonl, "
               "scenario.resolved.json.")
    return "\n".join(out) + "\n"


# -- compare ------------------------------------------------------------------------------


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, out)
    else:
        out[prefix] = value


def _delta(a: Any, b: Any) -> str:
    da, db = to_decimal(a), to_decimal(b)
    if da is None or db is None:
        return ""
    diff = db - da
    return f" ({'+' if diff >= 0 else ''}{money(diff)})"


def _show(value: Any) -> str:
    if value is None:
        return "—"
    return money(value) if isinstance(value, Decimal) else str(value)


def _diff_section(title: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    fa: dict[str, Any] = {}
    fb: dict[str, Any] = {}
    _flatten("", a, fa)
    _flatten("", b, fb)
    lines = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key), fb.get(key)
        if va != vb:
            lines.append(f"  {key}: {_show(va)} -> {_show(vb)}{_delta(va, vb)}")
    return [f"{title}:"] + lines if lines else []


def compare_runs(a: RunRecord, b: RunRecord) -> str:
    """What changed from run ``a`` to run ``b``: verdicts, expectations, metrics, counts, PnL."""
    out = [f"A: {a.scenario_name} seed {a.seed}: {verdict(a)}", f"B: {b.scenario_name} seed {b.seed}: {verdict(b)}"]
    changes: list[str] = []
    if a.error != b.error:
        changes += ["error:", f"  {_last_line(a.error) if a.error else 'none'} -> "
                              f"{_last_line(b.error) if b.error else 'none'}"]
    ea, eb = {e.name: e for e in a.expectations}, {e.name: e for e in b.expectations}
    exp_lines = []
    for name in list(ea) + [n for n in eb if n not in ea]:
        ra, rb = ea.get(name), eb.get(name)
        if ra is None and rb is not None:
            exp_lines.append(f"  {name}: only in B ({'PASS' if rb.passed else 'FAIL'}: {rb.message})")
        elif rb is None and ra is not None:
            exp_lines.append(f"  {name}: only in A ({'PASS' if ra.passed else 'FAIL'})")
        elif ra is not None and rb is not None and (ra.passed, ra.message) != (rb.passed, rb.message):
            exp_lines.append(f"  {name}: {'PASS' if ra.passed else 'FAIL'} -> {'PASS' if rb.passed else 'FAIL'}: "
                             f"{rb.message}")
    if exp_lines:
        changes += ["expectations:"] + exp_lines
    ma, mb = run_metrics(a), run_metrics(b)
    money_keys = ("pnl", "max_drawdown", "max_drawdown_pct", "final_equity", "final_base", "final_quote")
    changes += _diff_section("PnL", {k: ma.get(k) for k in money_keys}, {k: mb.get(k) for k in money_keys})
    changes += _diff_section("metrics", {k: v for k, v in ma.items() if k not in money_keys},
                             {k: v for k, v in mb.items() if k not in money_keys})
    changes += _diff_section("counts", counts(a), counts(b))
    fa = {w.index: recovery_text(w) for w in a.faults}
    fb = {w.index: recovery_text(w) for w in b.faults}
    changes += _diff_section("fault reactions", {f"#{k}": v for k, v in fa.items()}, {f"#{k}": v for k, v in fb.items()})
    return "\n".join(out + (changes or ["no differences in expectations, metrics, counts or PnL"]))
