"""report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched) that
shows how the run went: the verdicts, and the plots a reviewer looks at to see *why*."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from html import escape
from typing import Any

from scenarios.record import RunRecord, Sample
from scenarios.report import svg
from scenarios.report.metrics import counts, money, origin, rel_seconds, run_metrics
from scenarios.report.text import MAX_EVENTS, fault_title, recovery_text, speed_line, verdict

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:960px;color:#1f2328}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;margin:8px 0;width:100%}td,th{border:1px solid #d0d7de;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f6f8fa}.pass{color:#1a7f37;font-weight:600}
.fail{color:#cf222e;font-weight:600}pre{background:#f6f8fa;padding:10px;overflow:auto;font-size:12px}
.badge{padding:2px 8px;border-radius:10px;color:#fff}.badge.pass{background:#1a7f37}.badge.fail{background:#cf222e}
svg.chart{display:block;margin:10px 0;max-width:100%;height:auto;font-size:11px}
.plot{fill:#fff;stroke:#d0d7de}.grid{stroke:#eaeef2}.axis{stroke:#8c959f}.fault{fill:#f4a261;fill-opacity:.22}.at{fill-opacity:.7}
.fl{fill:#b35c00;font-size:10px}.yl{text-anchor:end;fill:#57606a}.xl{text-anchor:middle;fill:#57606a}
.ct{font-weight:600;font-size:13px}.lg{fill:#57606a}.limit{stroke:#cf222e;stroke-dasharray:5 4}
.ll{text-anchor:end;fill:#cf222e}.buy{fill:#1a7f37}.sell{fill:#cf222e}.unit{text-anchor:middle;fill:#57606a}
.muted{color:#57606a}
"""


def _x(record: RunRecord, ts_ms: int) -> float:
    return (ts_ms - record.start_ms) / 1000


def _segments(record: RunRecord, value: Callable[[Sample], Decimal | int | None]) -> list[list[svg.Point]]:
    """A sample series split wherever the value is missing (no mid while a book is empty)."""
    segments: list[list[svg.Point]] = [[]]
    for sample in record.samples:
        v = value(sample)
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((_x(record, sample.ts_ms), float(v)))
    return [s for s in segments if s]


def _bands(record: RunRecord) -> list[svg.Band]:
    return [
        svg.Band(_x(record, w.start_ms), None if w.end_ms is None else _x(record, w.end_ms), f"#{w.index}",
                 f"{fault_title(record, w)}: {recovery_text(w)}")
        for w in record.faults
    ]


def _weight_limit(record: RunRecord) -> tuple[float, str] | None:
    """The ``max_used_weight`` expectation's limit, drawn on the weight plot."""
    for spec in record.scenario.get("expectations", []) if isinstance(record.scenario, dict) else []:
        if isinstance(spec, dict) and spec.get("type") == "max_used_weight":
            limit = spec.get("params", {}).get("per_minute")
            if isinstance(limit, int | float | Decimal | str):
                try:
                    return float(limit), f"limit {limit}"
                except ValueError:
                    return None
    return None


def charts(record: RunRecord) -> list[svg.Chart]:
    """The four plots: price with fills, inventory, PnL with drawdown, used weight."""
    span = (0.0, max(_x(record, record.end_ms), 0.001))
    bands = _bands(record)
    fills = [
        svg.Marker(_x(record, f.ts_ms), float(f.price), f.side == "BUY",
                   f"{rel_seconds(record, f.ts_ms)} {f.side} {money(f.amount)} @ {money(f.price)} "
                   f"({f.client_order_id}, fee {money(f.fee)} {f.fee_asset})")
        for f in record.fills
    ]
    quote, base = record.quote_asset, record.base_asset
    return [
        svg.Chart(f"Price (mid) and the strategy's fills, {record.trading_pair}", span,
                  [svg.Series("mid", "#0969da", _segments(record, lambda s: s.mid))], fills, bands, unit=quote),
        svg.Chart(f"Inventory ({base})", span, [svg.Series(base or "base", "#8250df", _segments(record, lambda s: s.base))],
                  bands=bands, unit=base),
        svg.Chart(f"PnL and drawdown ({quote})", span, [
            svg.Series("PnL", "#0969da", _segments(record, lambda s: s.pnl)),
            svg.Series("drawdown (shown negative)", "#cf222e", _segments(record, lambda s: -s.drawdown)),
        ], bands=bands, unit=quote),
        svg.Chart("Used request weight (1 minute window)", span,
                  [svg.Series("used weight", "#bf8700", _segments(record, lambda s: s.used_weight_1m), step=True)],
                  bands=bands, limit=_weight_limit(record), unit="weight"),
    ]  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return escape(money(value))
    if isinstance(value, dict):
        return escape(", ".join(f"{k} {money(v) if isinstance(v, Decimal) else v}" for k, v in value.items())) or "—"
    return escape(str(value))


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _after(done: int | None, start: int) -> str:
    return "—" if done is None else f"{(done - start) / 1000:.3f} s"


def render_html(record: RunRecord) -> str:
    """The whole page as one string."""
    ok = record.passed
    tallies = counts(record)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>mockex run: {escape(record.scenario_name)} ({verdict(record)})</title>",
        f"<style>{CSS}</style></head><body>",
        f'<h1>Scenario <code>{escape(record.scenario_name)}</code> '
        f'<span class="badge {"pass" if ok else "fail"}">{verdict(record)}</span></h1>',
        f'<p class="muted">Seed {record.seed} · {escape(record.trading_pair)} · {escape(speed_line(record))}</p>',
    ]  # fmt: skip
    if record.error is not None:
        parts += ["<h2>Error</h2>", f"<pre>{escape(record.error)}</pre>"]
    parts.append("<h2>Expectations</h2>")
    parts.append(_table(["", "name", "type", "message", "journal lines"], [
        [f'<span class="{"pass" if e.passed else "fail"}">{"PASS" if e.passed else "FAIL"}</span>', escape(e.name),
         escape(e.type), escape(e.message), escape(", ".join(map(str, e.journal_lines))) or "—"]
        for e in record.expectations
    ]) if record.expectations else "<p>No expectations.</p>")  # fmt: skip
    parts.append("<h2>Plots</h2>")
    parts.extend(f"<figure>{svg.render(chart)}</figure>" for chart in charts(record))
    parts.append('<p class="muted">Shaded: fault windows (hover for the connector\'s reaction). '
                 "Triangles: the strategy's fills (up: buy, down: sell).</p>")
    parts.append("<h2>Orders and fills</h2>")
    parts.append(_table(["", "count", "by"], [
        ["orders", str(tallies["orders"]), _cell(tallies["orders_by_state"])],
        ["fills", str(tallies["fills"]), _cell(tallies["fills_by_side"])],
        ["events", str(tallies["events"]), _cell(tallies["events_by_kind"])],
        ["journal lines", str(tallies["journal_lines"]), _cell(tallies["journal_by_kind"])],
    ]))  # fmt: skip
    metrics = run_metrics(record)
    parts.append("<h2>Metrics</h2>")
    parts.append(_table(["metric", "value"], [[escape(k), _cell(metrics[k])] for k in sorted(metrics)]))
    parts.append("<h2>Faults</h2>")
    parts.append(_table(["#", "type", "label", "start", "end", "book resynced", "user stream back",
                         "tracker converged", "reaction", "journal line"], [
        [str(w.index), escape(w.type), escape(w.label) or "—", rel_seconds(record, w.start_ms),
         "—" if w.end_ms is None else rel_seconds(record, w.end_ms), _after(w.book_resynced_ms, origin(w)),
         _after(w.user_stream_back_ms, origin(w)), _after(w.tracker_converged_ms, origin(w)),
         escape(w.reaction) or "—", str(w.journal_line or "—")]
        for w in record.faults
    ]) if record.faults else "<p>No faults.</p>")  # fmt: skip
    parts.append("<h2>Events</h2>")
    parts.append(_table(["time", "kind", "detail", "journal line"], [
        [rel_seconds(record, e.ts_ms), escape(e.kind), escape(", ".join(f"{k}={v}" for k, v in e.detail.items())),
         str(e.journal_line or "—")]
        for e in record.events[:MAX_EVENTS]
    ]) if record.events else "<p>No events.</p>")  # fmt: skip
    if len(record.events) > MAX_EVENTS:
        parts.append(f"<p>{len(record.events) - MAX_EVENTS} more events in report.json.</p>")
    if record.versions:
        parts.append("<h2>Versions</h2>")
        parts.append(_table(["component", "version"], [[escape(k), escape(v)] for k, v in sorted(record.versions.items())]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
