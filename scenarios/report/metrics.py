"""Figures derived from a ``RunRecord``: one place, so expectations, the summary, report.json
and ``compare_runs`` all quote the same PnL, drawdown and counts.

Everything here is exact (Decimal/int) and depends only on the record's virtual-time data,
never on wall-clock fields, so it is safe inside the byte-identical part of report.json.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal, InvalidOperation
from typing import Any

from scenarios.record import FaultWindow, RunRecord, Sample

PCT_PLACES = Decimal("0.0001")


def to_decimal(value: Any) -> Decimal | None:
    """A metric value as a Decimal (floats through their repr), or None when not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def exchange_symbol(record: RunRecord) -> str:
    """``BTC-USDT`` as the venue spells it (``BTCUSDT``)."""
    return f"{record.base_asset}{record.quote_asset}" if record.base_asset else record.trading_pair.replace("-", "")


def final_pnl(record: RunRecord) -> Decimal | None:
    """The runner's ``metrics["pnl"]`` when it gave one, else the last sample's PnL."""
    if "pnl" in record.metrics:
        number = to_decimal(record.metrics["pnl"])
        if number is not None:
            return number
    if record.samples:
        return record.samples[-1].pnl
    return None


def drawdown_pct(sample: Sample) -> Decimal | None:
    """Drawdown as a percentage of the peak equity it fell from."""
    peak = sample.equity + sample.drawdown
    if peak <= 0:
        return None
    return (sample.drawdown * 100 / peak).quantize(PCT_PLACES)


def worst_drawdown(record: RunRecord) -> Sample | None:
    """The sample with the deepest absolute drawdown (the earliest one on ties)."""
    worst: Sample | None = None
    for sample in record.samples:
        if worst is None or sample.drawdown > worst.drawdown:
            worst = sample
    return worst


def worst_drawdown_pct(record: RunRecord) -> tuple[Sample, Decimal] | None:
    """The sample with the deepest relative drawdown and that percentage."""
    worst: tuple[Sample, Decimal] | None = None
    for sample in record.samples:
        pct = drawdown_pct(sample)
        if pct is not None and (worst is None or pct > worst[1]):
            worst = (sample, pct)
    return worst


def peak_weight(record: RunRecord) -> Sample | None:
    """The sample with the highest used request weight (the earliest one on ties)."""
    worst: Sample | None = None
    for sample in record.samples:
        if worst is None or sample.used_weight_1m > worst.used_weight_1m:
            worst = sample
    return worst


def derived_metrics(record: RunRecord) -> dict[str, Any]:
    """The standard figures of a run, computed from its rows."""
    fills = record.fills
    fees: dict[str, Decimal] = {}
    for fill in fills:
        fees[fill.fee_asset] = fees.get(fill.fee_asset, Decimal(0)) + fill.fee
    last = record.samples[-1] if record.samples else None
    deepest = worst_drawdown(record)
    deepest_pct = worst_drawdown_pct(record)
    busiest = peak_weight(record)
    open_exchange, open_tracker = set(record.exchange_open_orders), set(record.tracker_open_orders)
    return {
        "orders": len(record.orders),
        "fills": len(fills),
        "buy_fills": sum(1 for f in fills if f.side == "BUY"),
        "sell_fills": sum(1 for f in fills if f.side == "SELL"),
        "volume_base": sum((f.amount for f in fills), Decimal(0)),
        "volume_quote": sum((f.amount * f.price for f in fills), Decimal(0)),
        "fees": dict(sorted(fees.items())),
        "pnl": final_pnl(record),
        "max_drawdown": deepest.drawdown if deepest else None,
        "max_drawdown_pct": deepest_pct[1] if deepest_pct else None,
        "final_base": last.base if last else None,
        "final_quote": last.quote if last else None,
        "final_equity": last.equity if last else None,
        "max_used_weight_1m": busiest.used_weight_1m if busiest else None,
        "faults": len(record.faults),
        "events": len(record.events),
        "lost_orders": sum(1 for o in record.orders if o.state == "LOST"),
        "orphan_orders": len(open_exchange ^ open_tracker),
        "duration_ms": record.end_ms - record.start_ms,
    }


def run_metrics(record: RunRecord) -> dict[str, Any]:
    """Derived figures overlaid with the runner's own ``record.metrics`` (the runner wins)."""
    merged = derived_metrics(record)
    for key, value in record.metrics.items():
        number = to_decimal(value) if isinstance(value, str) else None
        merged[key] = value if number is None else number  # "12.5" from the runner reads as 12.5
    return merged


def counts(record: RunRecord) -> dict[str, Any]:
    """How many of each thing the run saw, grouped for the report's counts table."""
    return {
        "orders": len(record.orders),
        "orders_by_state": dict(sorted(Counter(o.state for o in record.orders).items())),
        "fills": len(record.fills),
        "fills_by_side": dict(sorted(Counter(f.side for f in record.fills).items())),
        "faults": len(record.faults),
        "faults_by_type": dict(sorted(Counter(f.type for f in record.faults).items())),
        "events": len(record.events),
        "events_by_kind": dict(sorted(Counter(e.kind for e in record.events).items())),
        "journal_lines": len(record.journal),
        "journal_by_kind": dict(sorted(Counter(j.kind for j in record.journal).items())),
        "samples": len(record.samples),
    }


def money(value: Decimal | None, places: int = 8) -> str:
    """A Decimal for humans: at most ``places`` decimals, no trailing zeros, no exponent."""
    if value is None:
        return "n/a"
    try:
        text = format(value.quantize(Decimal(1).scaleb(-places)), "f")
    except InvalidOperation:  # more digits than the context holds: show it whole
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def rel_seconds(record: RunRecord, ts_ms: int) -> str:
    """A virtual time as seconds since the run began: ``t=12.345s``."""
    return f"t={(ts_ms - record.start_ms) / 1000:.3f}s"


def duration(ms: int | None) -> str:
    return "n/a" if ms is None else f"{ms / 1000:.3f} s"


def origin(window: FaultWindow) -> int:
    """Where recovery times count from: the fault's end (its last application for a counted
    fault, its lifting for one with a duration), or its start while it has no end."""
    return window.end_ms if window.end_ms is not None else window.start_ms
