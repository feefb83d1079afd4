"""Expectations: what a scenario says must hold, judged against a finished ``RunRecord``.

Each checker takes the record and the spec's params and returns a verdict whose message names
the offending order, event or fault and the journal lines to read. ``evaluate`` never raises:
an unknown type, a bad parameter or a checker that trips over a malformed record becomes a
failed ``ExpectationResult`` saying so, because a scenario run must always end in a report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from mock_exchange.server import fault_specs
from scenarios.model import ExpectationSpec
from scenarios.record import BOOK_FAULTS, USER_STREAM_FAULTS, ExpectationResult, FaultWindow, RunRecord
from scenarios.report import expr as safe_expr
from scenarios.report.metrics import (
    duration,
    exchange_symbol,
    final_pnl,
    money,
    peak_weight,
    rel_seconds,
    run_metrics,
    to_decimal,
    worst_drawdown,
    worst_drawdown_pct,
)

FAULT_TYPES = fault_specs.TYPES
_STREAM_TARGETED = ("drop_streams", "stall_streams", "server_shutdown")
_WINDOW_PARAMS = {"within", "faults", "from"}
MAX_NAMED = 20  # offending items named in one message; the rest are counted


@dataclass(slots=True)
class Verdict:
    passed: bool
    message: str
    journal_lines: list[int] = field(default_factory=list)


Checker = Callable[[RunRecord, Mapping[str, Any]], Verdict]


class ParamError(ValueError):
    """A parameter the checker cannot use; the message starts with the parameter's name."""


# -- parameters ---------------------------------------------------------------------------


def _duration(params: Mapping[str, Any], key: str) -> int:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParamError(f"{key}: expected a duration in milliseconds (int >= 0), got {value!r}")
    return value


def _count(params: Mapping[str, Any], key: str) -> int | None:
    if key not in params or params[key] is None:
        return None
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParamError(f"{key}: expected a whole number >= 0, got {value!r}")
    return value


def _amount(params: Mapping[str, Any], key: str) -> Decimal | None:
    if key not in params or params[key] is None:
        return None
    number = to_decimal(params[key])
    if number is None:
        raise ParamError(f"{key}: expected a number, got {params[key]!r}")
    return number


def _bounds(params: Mapping[str, Any], read: Callable[[Mapping[str, Any], str], Any]) -> tuple[Any, Any]:
    low, high = read(params, "min"), read(params, "max")
    if low is None and high is None:
        raise ParamError("min/max: give at least one bound")
    if low is not None and high is not None and low > high:
        raise ParamError(f"min: {low} is above max {high}")
    return low, high


def _fault_filter(params: Mapping[str, Any]) -> str | tuple[str, ...] | None:
    """``faults``: ``all`` or a list of fault types; None keeps the checker's default."""
    value = params.get("faults")
    if value is None:
        return None
    if value == "all":
        return "all"
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ParamError(f"faults: expected 'all' or a list of fault types, got {value!r}")
    unknown = [v for v in value if v not in FAULT_TYPES]
    if unknown:
        raise ParamError(f"faults: unknown fault type {unknown[0]!r} (known: {', '.join(FAULT_TYPES)})")
    return tuple(value)


def _reference(params: Mapping[str, Any]) -> str:
    value = params.get("from", "end")
    if value not in ("start", "end"):
        raise ParamError(f"from: expected 'start' or 'end' (of the fault window), got {value!r}")
    return str(value)


# -- helpers ------------------------------------------------------------------------------


def _lines_text(lines: Iterable[int]) -> str:
    shown = sorted({n for n in lines if n > 0})
    if not shown:
        return "no journal line"
    return ("journal line " if len(shown) == 1 else "journal lines ") + ", ".join(map(str, shown))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _join(items: list[str]) -> str:
    head = "; ".join(items[:MAX_NAMED])
    return head + (f"; and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def _mentions(record: RunRecord, wanted: set[str], limit: int = 3) -> dict[str, list[int]]:
    """Journal lines whose data carries one of ``wanted`` as a value (client order ids)."""
    found: dict[str, list[int]] = {w: [] for w in wanted}
    if not wanted:
        return found

    def walk(value: Any, line: int) -> None:
        if isinstance(value, str):
            hits = found.get(value)
            if hits is not None and len(hits) < limit and (not hits or hits[-1] != line):
                hits.append(line)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item, line)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, line)

    for index, entry in enumerate(record.journal):
        walk(entry.data, record.journal_line(index))
    return found


def _line_before(record: RunRecord, ts_ms: int) -> int:
    """The last journal line at or before a virtual time (0 when there is none)."""
    line = 0
    for index, entry in enumerate(record.journal):
        if entry.vt_ms > ts_ms:
            break
        line = record.journal_line(index)
    return line


def _fault_name(record: RunRecord, window: FaultWindow) -> str:
    label = f" '{window.label}'" if window.label else ""
    return f"fault #{window.index}{label} {window.type} at {rel_seconds(record, window.start_ms)}"


def _event_line(record: RunRecord, kinds: tuple[str, ...], after_ms: int) -> int:
    for event in record.events:
        if event.kind in kinds and event.ts_ms >= after_ms and event.journal_line:
            return event.journal_line
    return 0


# -- checkers -----------------------------------------------------------------------------


def check_no_orphan_orders(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    on_exchange, tracked = set(record.exchange_open_orders), set(record.tracker_open_orders)
    untracked = sorted(on_exchange - tracked)
    ghosts = sorted(tracked - on_exchange)
    if not untracked and not ghosts:
        return Verdict(True, f"{len(on_exchange)} open orders on the exchange, all tracked, none extra")
    rows = {o.client_order_id: o for o in record.orders}
    mentions = _mentions(record, {c for c in untracked + ghosts if c not in rows or not rows[c].journal_line})
    items: list[str] = []
    lines: list[int] = []
    for cid, problem in [(c, "open on the exchange but not tracked") for c in untracked] + [
        (c, "tracked as open but not open on the exchange") for c in ghosts
    ]:
        row = rows.get(cid)
        own = [row.journal_line] if row and row.journal_line else mentions.get(cid, [])
        lines.extend(own)
        state = f", tracker state {row.state}" if row else ", not among the strategy's orders"
        items.append(f"order {cid} {problem}{state} ({_lines_text(own)})")
    return Verdict(False, f"{_plural(len(untracked) + len(ghosts), 'orphan order')}: " + _join(items), lines)


def check_no_lost_orders(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    items: list[str] = []
    lines: list[int] = []
    named: set[str] = set()
    for order in record.orders:
        if order.state == "LOST":
            named.add(order.client_order_id)
            lines.append(order.journal_line)
            reason = f": {order.reason}" if order.reason else ""
            items.append(f"order {order.client_order_id} ended LOST{reason} ({_lines_text([order.journal_line])})")
    for event in record.events:
        if event.kind != "order_lost":
            continue
        cid = str(event.detail.get("client_order_id") or event.detail.get("clientOrderId") or "?")
        lines.append(event.journal_line)
        if cid in named:
            continue
        named.add(cid)
        items.append(f"order_lost event for order {cid} at {rel_seconds(record, event.ts_ms)} "
                     f"({_lines_text([event.journal_line])})")
    if not items:
        return Verdict(True, f"no lost orders among {len(record.orders)}")
    return Verdict(False, f"{_plural(len(items), 'lost order')}: " + _join(items), lines)


def _windows(record: RunRecord, chosen: str | tuple[str, ...] | None, default: tuple[str, ...] | None,
             target: str) -> list[FaultWindow]:
    """Fault windows a recovery check applies to; by default (``default`` None: every window)
    only faults that reach the connector's book (``target`` market) or user stream (``user``)."""
    if chosen == "all" or (chosen is None and default is None):
        return list(record.faults)
    if chosen is not None:
        return [w for w in record.faults if w.type in chosen]
    assert default is not None
    symbol = exchange_symbol(record)
    picked = []
    for window in record.faults:
        if window.type not in default:
            continue
        if window.type in _STREAM_TARGETED and window.spec.get("target", "all") not in (target, "all"):
            continue
        if window.spec.get("symbol") not in (None, "", symbol):
            continue
        picked.append(window)
    return picked


def _recovery(record: RunRecord, params: Mapping[str, Any], *, attr: str, what: str, never: str,
              default: tuple[str, ...] | None, target: str, event_kinds: tuple[str, ...]) -> Verdict:
    within = _duration(params, "within")
    reference = _reference(params)
    windows = _windows(record, _fault_filter(params), default, target)
    if not windows:
        return Verdict(True, f"no fault windows to check for {what}")
    items: list[str] = []
    lines: list[int] = []
    slowest: tuple[int, FaultWindow] | None = None
    for window in windows:
        origin = window.end_ms if reference == "end" and window.end_ms is not None else window.start_ms
        done: int | None = getattr(window, attr)
        took = None if done is None else done - origin
        if took is not None and took <= within:
            if slowest is None or took > slowest[0]:
                slowest = (took, window)
            continue
        own = [window.journal_line, _event_line(record, event_kinds, window.start_ms)]
        lines.extend(n for n in own if n)
        outcome = f"{never} by the end of the run" if took is None else f"{what} after {duration(took)}"
        items.append(f"{_fault_name(record, window)}: {outcome} (limit {duration(within)}, {_lines_text(own)})")
    if items:
        return Verdict(False, f"{len(items)} of {_plural(len(windows), 'fault window')}: " + _join(items), lines)
    assert slowest is not None
    return Verdict(True, f"{_plural(len(windows), 'fault window')}; slowest: {what} {duration(slowest[0])} after "
                         f"{_fault_name(record, slowest[1])} (limit {duration(within)})")


def check_tracker_converges(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    return _recovery(
        record, params, attr="tracker_converged_ms", what="tracker converged", never="tracker never converged",
        default=None, target="all", event_kinds=("tracker_converged", "reconciled"),
    )


def check_book_resync(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    return _recovery(
        record, params, attr="book_resynced_ms", what="book resynced", never="book never resynced",
        default=BOOK_FAULTS, target="market", event_kinds=("book_resync",),
    )


def check_user_stream_recovers(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    return _recovery(
        record, params, attr="user_stream_back_ms", what="user stream back", never="user stream never came back",
        default=USER_STREAM_FAULTS, target="user", event_kinds=("user_stream_connected",),
    )


def _request_params(frame: dict[str, Any]) -> dict[str, Any]:
    """A request's parameters: the WebSocket API's ``params`` object, or a REST request's query
    string and form body (urlencoded, as the journal keeps them)."""
    merged: dict[str, Any] = {}
    for key in ("query", "body", "params"):
        value = frame.get(key)
        if isinstance(value, dict):
            merged.update(value)
        elif isinstance(value, str) and "=" in value:
            merged.update(parse_qsl(value))
    return merged


def _placements(record: RunRecord) -> dict[str, list[int]]:
    """Client order ids of every order placement in the journal (REST ``POST /api/v3/order``
    and cancel-replace; WebSocket API ``order.place``/``order.cancelReplace`` frames, journaled
    as ``ws_in`` from the server's side), with their journal lines."""
    seen: dict[str, list[int]] = {}
    for index, entry in enumerate(record.journal):
        if entry.kind not in ("rest_request", "ws_in", "ws_out"):
            continue
        inner = entry.data.get("frame")
        frame: dict[str, Any] = inner if isinstance(inner, dict) else entry.data
        method = str(frame.get("method", ""))
        path = str(frame.get("path", "")).split("?", 1)[0]
        placing = method in ("order.place", "order.cancelReplace") or (
            method.upper() == "POST" and path.endswith(("/api/v3/order", "/api/v3/order/cancelReplace"))
        )
        cid = _request_params(frame).get("newClientOrderId") if placing else None
        if cid:
            seen.setdefault(str(cid), []).append(record.journal_line(index))
    return seen


def check_no_duplicate_client_order_ids(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    rows: dict[str, list[int]] = {}
    for order in record.orders:
        rows.setdefault(order.client_order_id, []).append(order.journal_line)
    sent = _placements(record)
    items: list[str] = []
    lines: list[int] = []
    for cid in sorted(set(rows) | set(sent)):
        orders, requests = len(rows.get(cid, [])), len(sent.get(cid, []))
        if orders <= 1 and requests <= 1:
            continue
        own = rows.get(cid, []) + sent.get(cid, [])
        lines.extend(own)
        items.append(f"client order id {cid} used by {max(orders, requests)} orders ({_lines_text(own)})")
    if items:
        return Verdict(False, f"{_plural(len(items), 'duplicate client order id')}: " + _join(items), lines)
    return Verdict(True, f"{len(rows)} orders, every client order id unique")


def _weight_readings(record: RunRecord) -> list[tuple[int, int]]:
    """(journal line, used weight) from REST replies (``usedWeight1m``, the
    X-MBX-USED-WEIGHT-1M header) and WebSocket API replies (``rateLimits`` REQUEST_WEIGHT)."""
    readings = []
    for index, entry in enumerate(record.journal):
        data = entry.data
        if entry.kind == "rest_response" and isinstance(data.get("usedWeight1m"), int):
            readings.append((record.journal_line(index), int(data["usedWeight1m"])))
        elif entry.kind == "ws_out" and isinstance(data.get("frame"), dict):
            for limit in data["frame"].get("rateLimits") or []:
                if not isinstance(limit, dict) or not isinstance(limit.get("count"), int):
                    continue
                if limit.get("rateLimitType") == "REQUEST_WEIGHT" and limit.get("interval") == "MINUTE":
                    readings.append((record.journal_line(index), int(limit["count"])))
    return readings


def check_max_used_weight(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    limit = _count(params, "per_minute")
    if limit is None:
        raise ParamError("per_minute: required (the most REQUEST_WEIGHT allowed in one minute)")
    busiest = peak_weight(record)
    readings = _weight_readings(record)
    if busiest is None and not readings:
        return Verdict(False, "used weight was never measured (no samples, no replies reporting it)")
    over = [s for s in record.samples if s.used_weight_1m > limit]
    replies = [(line, weight) for line, weight in readings if weight > limit]
    if not over and not replies:
        if busiest is None:
            return Verdict(True, f"peak used weight {max(w for _, w in readings)}/min (limit {limit})")
        return Verdict(True, f"peak used weight {busiest.used_weight_1m}/min at "
                             f"{rel_seconds(record, busiest.ts_ms)} (limit {limit})")
    if replies:  # the replies that reported it: the first over the limit and the highest
        peak = max(replies, key=lambda r: r[1])
        lines = sorted({replies[0][0], peak[0]})
        return Verdict(False, f"used weight {peak[1]}/min above the limit {limit}: first reported over it at "
                              f"journal line {replies[0][0]} ({replies[0][1]}), highest at journal line {peak[0]}; "
                              f"{len(replies)} replies over the limit", lines)
    first = over[0]
    assert busiest is not None  # there are samples over the limit
    lines = [_line_before(record, first.ts_ms), _line_before(record, busiest.ts_ms)]
    return Verdict(False, f"used weight {busiest.used_weight_1m}/min at {rel_seconds(record, busiest.ts_ms)} "
                          f"above the limit {limit}; first over at {rel_seconds(record, first.ts_ms)} "
                          f"({first.used_weight_1m}), {len(over)} samples over ({_lines_text(lines)})",
                   [n for n in lines if n])


def check_fill_count(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    low, high = _bounds(params, _count)
    count = len(record.fills)
    if low is not None and count < low:
        return Verdict(False, f"{count} fills, fewer than the minimum {low}")
    if high is not None and count > high:
        extra = record.fills[high]
        return Verdict(False, f"{count} fills, more than the maximum {high}; fill {high + 1} was "
                              f"{extra.side} {money(extra.amount)} @ {money(extra.price)} of order "
                              f"{extra.client_order_id} at {rel_seconds(record, extra.ts_ms)} "
                              f"({_lines_text([extra.journal_line])})", [extra.journal_line])
    return Verdict(True, f"{count} fills within [{'-' if low is None else low}, {'-' if high is None else high}]")


def check_pnl(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    low, high = _bounds(params, _amount)
    pnl = final_pnl(record)
    if pnl is None:
        return Verdict(False, "no PnL measured (no samples and no pnl metric)")
    text = f"PnL {money(pnl)} {record.quote_asset}".rstrip()
    if low is not None and pnl < low:
        return Verdict(False, f"{text} below the minimum {money(low)}")
    if high is not None and pnl > high:
        return Verdict(False, f"{text} above the maximum {money(high)}")
    return Verdict(True, f"{text} within bounds")


def check_max_drawdown(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    limit, limit_pct = _amount(params, "max"), _amount(params, "max_pct")
    if limit is None and limit_pct is None:
        raise ParamError("max/max_pct: give the largest drawdown allowed (quote amount or percent)")
    deepest = worst_drawdown(record)
    if deepest is None:
        return Verdict(False, "no samples: drawdown was never measured")
    failures: list[str] = []
    lines: list[int] = []
    if limit is not None and deepest.drawdown > limit:
        lines.append(_line_before(record, deepest.ts_ms))
        failures.append(f"drawdown {money(deepest.drawdown)} {record.quote_asset} at "
                        f"{rel_seconds(record, deepest.ts_ms)} above the maximum {money(limit)}")
    relative = worst_drawdown_pct(record)
    if limit_pct is not None and relative is not None and relative[1] > limit_pct:
        lines.append(_line_before(record, relative[0].ts_ms))
        failures.append(f"drawdown {relative[1]} % at {rel_seconds(record, relative[0].ts_ms)} above the "
                        f"maximum {limit_pct} %")
    if failures:
        return Verdict(False, "; ".join(failures) + f" ({_lines_text(lines)})", [n for n in lines if n])
    pct = f" ({relative[1]} %)" if relative else ""
    return Verdict(True, f"max drawdown {money(deepest.drawdown)} {record.quote_asset}{pct}")


def check_balances_match(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    exchange, tracker = record.exchange_balances, record.tracker_balances
    if not exchange and not tracker:
        return Verdict(False, "no balances recorded to compare")
    items = []
    for asset in sorted(set(exchange) | set(tracker)):
        ours, theirs = tracker.get(asset), exchange.get(asset)
        if ours is None or theirs is None or ours != theirs:
            items.append(f"{asset}: exchange {money(theirs)}, tracker {money(ours)}")
    if items:
        return Verdict(False, "balances differ: " + _join(items))
    return Verdict(True, f"{len(exchange)} asset balances match")


def check_no_error(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    if record.error is None:
        return Verdict(True, "the run finished without an error")
    last = next((ln.strip() for ln in reversed(record.error.splitlines()) if ln.strip()), "error")
    return Verdict(False, f"the run failed: {last}")


def check_expr(record: RunRecord, params: Mapping[str, Any]) -> Verdict:
    text = params.get("expr")
    try:
        tree = safe_expr.parse(text)  # type: ignore[arg-type]  # parse refuses non-strings
    except safe_expr.ExprError as exc:
        raise ParamError(f"expr: {exc}") from None
    metrics = run_metrics(record)
    names: dict[str, Any] = {k: v for k, v in metrics.items() if isinstance(k, str)}
    names["metrics"] = metrics
    try:
        value = safe_expr.evaluate(tree, names)
    except safe_expr.ExprError as exc:
        return Verdict(False, f"expr `{text}`: {exc}")
    shown = ", ".join(f"{n} = {_show(names[n])}" for n in safe_expr.names_used(tree) if n != "metrics")
    where = f" ({shown})" if shown else ""
    if value:
        return Verdict(True, f"expr `{text}` holds{where}")
    return Verdict(False, f"expr `{text}` is false{where}")


def _show(value: Any) -> str:
    return money(value) if isinstance(value, Decimal) else repr(value)


EXPECTATION_TYPES: dict[str, Checker] = {
    "no_orphan_orders": check_no_orphan_orders,
    "no_lost_orders": check_no_lost_orders,
    "tracker_converges": check_tracker_converges,
    "book_resync": check_book_resync,
    "user_stream_recovers": check_user_stream_recovers,
    "no_duplicate_client_order_ids": check_no_duplicate_client_order_ids,
    "max_used_weight": check_max_used_weight,
    "fill_count": check_fill_count,
    "pnl": check_pnl,
    "max_drawdown": check_max_drawdown,
    "balances_match": check_balances_match,
    "no_error": check_no_error,
    "expr": check_expr,
}
PARAMS: dict[str, set[str]] = {
    "no_orphan_orders": set(),
    "no_lost_orders": set(),
    "tracker_converges": set(_WINDOW_PARAMS),
    "book_resync": set(_WINDOW_PARAMS),
    "user_stream_recovers": set(_WINDOW_PARAMS),
    "no_duplicate_client_order_ids": set(),
    "max_used_weight": {"per_minute"},
    "fill_count": {"min", "max"},
    "pnl": {"min", "max"},
    "max_drawdown": {"max", "max_pct"},
    "balances_match": set(),
    "no_error": set(),
    "expr": {"expr"},
}
REQUIRED_PARAMS: dict[str, set[str]] = {
    "tracker_converges": {"within"},
    "book_resync": {"within"},
    "user_stream_recovers": {"within"},
    "max_used_weight": {"per_minute"},
    "expr": {"expr"},
}
"""Params that must be present (``fill_count``/``pnl`` need min or max, ``max_drawdown`` max or max_pct)."""


def evaluate_one(record: RunRecord, spec: ExpectationSpec) -> ExpectationResult:
    """Judge one expectation; every problem ends as a failed result, never an exception."""
    name = spec.name or spec.type
    result = ExpectationResult(name=name, type=spec.type, passed=False, message="", source_line=spec.source_line)
    checker = EXPECTATION_TYPES.get(spec.type)
    params = spec.params if isinstance(spec.params, Mapping) else {}
    if checker is None:
        result.message = f"unknown expectation type {spec.type!r} (known: {', '.join(sorted(EXPECTATION_TYPES))})"
        return result
    if not isinstance(spec.params, Mapping):
        result.message = f"bad parameters: expected a mapping, got {spec.params!r}"
        return result
    unknown = sorted(str(k) for k in params if k not in PARAMS[spec.type])
    missing = sorted(REQUIRED_PARAMS.get(spec.type, set()) - set(params))
    if unknown or missing:
        allowed = ", ".join(sorted(PARAMS[spec.type])) or "none"
        problem = f"unknown parameter {unknown[0]!r}" if unknown else f"missing parameter {missing[0]!r}"
        result.message = f"bad parameters: {problem} (allowed: {allowed})"
        return result
    try:
        verdict = checker(record, params)
    except ParamError as exc:
        result.message = f"bad parameters: {exc}"
        return result
    except Exception as exc:  # a checker must not take the report down with it
        result.message = f"could not be checked: {type(exc).__name__}: {exc}"
        return result
    result.passed = verdict.passed
    result.message = verdict.message
    result.journal_lines = sorted({n for n in verdict.journal_lines if n > 0})
    return result


def evaluate(record: RunRecord, specs: Iterable[ExpectationSpec]) -> list[ExpectationResult]:
    """Judge every expectation of a scenario against the finished run, in scenario order."""
    return [evaluate_one(record, spec) for spec in specs]
