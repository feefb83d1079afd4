"""Expectations judged on hand-built run records: each type passes on a good run and fails on a
bad one with a message naming the order/fault and the journal lines a user should read."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from scenarios.expectations import EXPECTATION_TYPES, PARAMS, evaluate
from scenarios.model import ExpectationSpec
from scenarios.record import (
    ExpectationResult,
    FaultWindow,
    FillRow,
    JournalEntry,
    OrderRow,
    RunEvent,
    RunRecord,
    Sample,
)

T0 = 1_767_225_600_000


def record(**fields: Any) -> RunRecord:
    rec = RunRecord(scenario={}, scenario_name="t", seed=1, start_ms=T0, end_ms=T0 + 120_000,
                    trading_pair="BTC-USDT", base_asset="BTC", quote_asset="USDT")
    for name, value in fields.items():
        setattr(rec, name, value)
    return rec


def order(cid: str, state: str = "FILLED", line: int = 0, reason: str = "") -> OrderRow:
    return OrderRow(cid, "BTCUSDT", "BUY", "LIMIT", D("0.01"), D("60000"), T0, state, journal_line=line, reason=reason)


def fill(i: int, line: int = 0) -> FillRow:
    return FillRow(T0 + i * 1000, f"c{i}", "BTCUSDT", "BUY" if i % 2 else "SELL", D("60000"), D("0.01"), D("0.6"),
                   "USDT", i + 1, journal_line=line)


def sample(i: int, *, equity: str = "100", pnl: str = "0", drawdown: str = "0", weight: int = 10) -> Sample:
    return Sample(T0 + i * 1000, D("60000"), D("1"), D("40"), D(equity), D(pnl), D(drawdown), weight, 0)


def window(index: int, kind: str, at_s: float, *, line: int = 0, spec: dict[str, Any] | None = None,
           **recovered: int | None) -> FaultWindow:
    start = T0 + int(at_s * 1000)
    fw = FaultWindow(index, kind, "", start, None, {"type": kind, **(spec or {})}, journal_line=line)
    for name, after in recovered.items():
        setattr(fw, name, None if after is None else start + after)
    return fw


def journal(n: int) -> list[JournalEntry]:
    return [JournalEntry(T0 + i * 100, 0.0, "runner", {"i": i}) for i in range(n)]


def judge(rec: RunRecord, kind: str, **params: Any) -> ExpectationResult:
    [result] = evaluate(rec, [ExpectationSpec(kind, params, source_line=7)])
    return result


def test_every_type_lists_its_params() -> None:
    assert set(PARAMS) == set(EXPECTATION_TYPES)
    assert PARAMS["tracker_converges"] >= {"within"}
    assert PARAMS["max_drawdown"] == {"max", "max_pct"}


def test_no_orphan_orders_names_both_directions_with_journal_lines() -> None:
    good = record(exchange_open_orders=["a", "b"], tracker_open_orders=["b", "a"])
    assert judge(good, "no_orphan_orders").passed
    bad = record(orders=[order("a", "OPEN", line=12), order("ghost", "OPEN", line=40)],
                 exchange_open_orders=["a", "stray"], tracker_open_orders=["a", "ghost"],
                 journal=journal(60))
    bad.journal[33].data = {"method": "order.place", "params": {"newClientOrderId": "stray"}}
    result = judge(bad, "no_orphan_orders")
    assert not result.passed
    assert "order stray open on the exchange but not tracked" in result.message
    assert "order ghost tracked as open but not open on the exchange" in result.message
    assert "journal line 40" in result.message and "journal line 34" in result.message
    assert result.journal_lines == [34, 40]
    assert result.source_line == 7


def test_no_lost_orders_from_states_and_events() -> None:
    assert judge(record(orders=[order("a"), order("b", "CANCELED")]), "no_lost_orders").passed
    bad = record(orders=[order("a", "LOST", line=5, reason="not found after -1007")],
                 events=[RunEvent(T0 + 9000, "order_lost", {"client_order_id": "b"}, journal_line=77)])
    result = judge(bad, "no_lost_orders")
    assert not result.passed
    assert "order a ended LOST: not found after -1007 (journal line 5)" in result.message
    assert "order_lost event for order b at t=9.000s (journal line 77)" in result.message
    assert result.journal_lines == [5, 77]


def test_tracker_converges_checks_every_fault_window() -> None:
    ok = record(faults=[window(0, "http_error", 10, tracker_converged_ms=800),
                        window(1, "clock_skew", 50, tracker_converged_ms=2000)])
    result = judge(ok, "tracker_converges", within=2000)
    assert result.passed and "2 fault windows" in result.message
    slow = record(faults=[window(0, "http_error", 10, line=21, tracker_converged_ms=800),
                          window(1, "delay", 50, line=90, tracker_converged_ms=3500),
                          window(2, "reject_orders", 70, line=95, tracker_converged_ms=None)])
    result = judge(slow, "tracker_converges", within=2000)
    assert not result.passed
    assert "fault #1 delay at t=50.000s: tracker converged after 3.500 s (limit 2.000 s, journal line 90)" in result.message
    assert "fault #2 reject_orders at t=70.000s: tracker never converged" in result.message
    assert "#0" not in result.message
    assert result.journal_lines == [90, 95]


def test_tracker_converges_measures_from_the_end_of_a_window_or_its_start() -> None:
    halted = window(0, "symbol_status", 10, line=3, tracker_converged_ms=31_000)
    halted.end_ms = halted.start_ms + 30_000
    rec = record(faults=[halted])
    assert judge(rec, "tracker_converges", within=5000).passed
    assert not judge(rec, "tracker_converges", within=5000, **{"from": "start"}).passed


def test_book_resync_only_for_faults_that_disturb_the_book() -> None:
    rec = record(faults=[
        window(0, "skip_depth", 5, line=10, spec={"symbol": "BTCUSDT"}, book_resynced_ms=1200),
        window(1, "rate_limit", 20, line=20),  # the book is not disturbed: not checked
        window(2, "drop_streams", 30, line=30, spec={"target": "user"}),  # user streams only: not checked
        window(3, "skip_depth", 40, line=40, spec={"symbol": "ETHUSDT"}),  # another symbol: not checked
        window(4, "stale_snapshot", 50, line=50, book_resynced_ms=None),
        window(5, "drop_streams", 60, line=60, spec={"target": "market"}, book_resynced_ms=6000),
    ])  # fmt: skip
    result = judge(rec, "book_resync", within=2000)
    assert not result.passed
    assert "2 of 3 fault windows" in result.message
    assert "fault #4 stale_snapshot at t=50.000s: book never resynced by the end of the run" in result.message
    assert "fault #5 drop_streams at t=60.000s: book resynced after 6.000 s" in result.message
    assert result.journal_lines == [50, 60]
    everything = judge(rec, "book_resync", within=10_000, faults="all")
    assert not everything.passed and "#1 rate_limit" in everything.message and "#3 skip_depth" in everything.message


def test_book_resync_names_the_resync_event_line() -> None:
    rec = record(faults=[window(0, "skip_depth", 5, line=10, book_resynced_ms=9000)],
                 events=[RunEvent(T0 + 14_000, "book_resync", {"symbol": "BTCUSDT"}, journal_line=55)])
    result = judge(rec, "book_resync", within=2000)
    assert not result.passed and result.journal_lines == [10, 55]
    assert judge(record(), "book_resync", within=1).passed  # no faults: nothing to recover from


def test_user_stream_recovers() -> None:
    rec = record(faults=[
        window(0, "terminate_user_streams", 5, line=8, user_stream_back_ms=300),
        window(1, "server_shutdown", 20, line=9, spec={"target": "market"}),  # market only: not checked
        window(2, "drop_streams", 40, line=11, spec={"target": "all"}, user_stream_back_ms=None),
    ])  # fmt: skip
    result = judge(rec, "user_stream_recovers", within=1000)
    assert not result.passed
    assert "1 of 2 fault windows" in result.message
    assert "fault #2 drop_streams at t=40.000s: user stream never came back" in result.message
    assert result.journal_lines == [11]
    rec.faults[2].user_stream_back_ms = rec.faults[2].start_ms + 900
    assert judge(rec, "user_stream_recovers", within=1000).passed


def test_no_duplicate_client_order_ids_in_orders_and_placements() -> None:
    assert judge(record(orders=[order("a"), order("b")]), "no_duplicate_client_order_ids").passed
    twice = record(orders=[order("a", line=3), order("a", line=9), order("b")])
    result = judge(twice, "no_duplicate_client_order_ids")
    assert not result.passed
    assert "client order id a used by 2 orders (journal lines 3, 9)" in result.message
    sent = record(orders=[order("x", line=2)], journal=journal(10))
    sent.journal[1].kind = "rest_request"  # the journal's shape: REST query/body kept urlencoded
    sent.journal[1].data = {"method": "POST", "path": "/api/v3/order", "body": "",
                            "query": "symbol=BTCUSDT&side=BUY&newClientOrderId=x&signature=***"}
    sent.journal[4].kind = "rest_request"  # a cancel names the id too, but places nothing
    sent.journal[4].data = {"method": "DELETE", "path": "/api/v3/order", "query": "origClientOrderId=x", "body": ""}
    sent.journal[6].kind = "ws_in"  # WebSocket-API requests as the server received them
    sent.journal[6].data = {"frame": {"id": 4, "method": "order.place", "params": {"newClientOrderId": "x"}}}
    result = judge(sent, "no_duplicate_client_order_ids")
    assert not result.passed and result.journal_lines == [2, 7]
    assert "client order id x used by 2 orders (journal lines 2, 7)" in result.message


def test_max_used_weight_names_the_peak() -> None:
    rec = record(samples=[sample(i, weight=w) for i, w in enumerate([100, 900, 1300, 1250, 200])], journal=journal(50))
    assert judge(rec, "max_used_weight", per_minute=1300).passed
    result = judge(rec, "max_used_weight", per_minute=1200)
    assert not result.passed
    assert "used weight 1300/min at t=2.000s above the limit 1200" in result.message
    assert "2 samples over" in result.message
    assert result.journal_lines == [21]  # the last message at or before t=2 s (first over and peak)


def test_max_used_weight_points_at_the_replies_that_reported_it() -> None:
    rec = record(samples=[sample(0, weight=100)], journal=journal(12))
    for line, weight in ((3, 900), (5, 1250), (8, 1400), (9, 1210)):
        rec.journal[line - 1].kind = "rest_response"
        rec.journal[line - 1].data = {"method": "GET", "path": "/api/v3/depth", "status": 200, "usedWeight1m": weight}
    rec.journal[10].kind = "ws_out"
    rec.journal[10].data = {"frame": {"id": 3, "status": 200, "rateLimits": [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000, "count": 1500}]}}
    result = judge(rec, "max_used_weight", per_minute=1200)
    assert not result.passed
    assert result.message == ("used weight 1500/min above the limit 1200: first reported over it at journal line 5 "
                              "(1250), highest at journal line 11; 4 replies over the limit")
    assert result.journal_lines == [5, 11]


def test_fill_count_bounds() -> None:
    rec = record(fills=[fill(i, line=10 + i) for i in range(5)])
    assert judge(rec, "fill_count", min=5, max=5).passed
    low = judge(rec, "fill_count", min=6)
    assert not low.passed and "5 fills, fewer than the minimum 6" in low.message
    high = judge(rec, "fill_count", max=3)
    assert not high.passed
    assert "fill 4 was BUY 0.01 @ 60000 of order c3 at t=3.000s (journal line 13)" in high.message
    assert high.journal_lines == [13]


def test_pnl_bounds_use_the_final_pnl() -> None:
    rec = record(samples=[sample(0, pnl="0"), sample(1, pnl="-12.5")])
    result = judge(rec, "pnl", min=-10)
    assert not result.passed and result.message == "PnL -12.5 USDT below the minimum -10"
    assert judge(rec, "pnl", min="-20", max=D(0)).passed
    rec.metrics["pnl"] = D("3")  # the runner's final figure wins over the last sample
    assert not judge(rec, "pnl", max=1).passed
    assert not judge(record(), "pnl", min=0).passed  # nothing measured is not a pass


def test_max_drawdown_absolute_and_percent() -> None:
    rec = record(samples=[sample(0, equity="1000"), sample(1, equity="950", drawdown="50"), sample(2, equity="990",
                                                                                                  drawdown="10")],
                 journal=journal(30))
    assert judge(rec, "max_drawdown", max=50).passed
    result = judge(rec, "max_drawdown", max=40)
    assert not result.passed and "drawdown 50 USDT at t=1.000s above the maximum 40" in result.message
    pct = judge(rec, "max_drawdown", max_pct=4)
    assert not pct.passed and "drawdown 5.0000 % at t=1.000s above the maximum 4 %" in pct.message
    assert pct.journal_lines == [11]
    assert judge(rec, "max_drawdown", max_pct="5").passed


def test_balances_match() -> None:
    same = record(exchange_balances={"BTC": D("1.5"), "USDT": D("100")},
                  tracker_balances={"USDT": D("100.00"), "BTC": D("1.5")})
    assert judge(same, "balances_match").passed
    off = record(exchange_balances={"BTC": D("1.5"), "USDT": D("100")}, tracker_balances={"BTC": D("1.49")})
    result = judge(off, "balances_match")
    assert not result.passed
    assert "BTC: exchange 1.5, tracker 1.49" in result.message and "USDT: exchange 100, tracker n/a" in result.message


def test_no_error() -> None:
    assert judge(record(), "no_error").passed
    failed = judge(record(error="Traceback (most recent call last):\n  ...\nZeroDivisionError: division by zero\n"),
                   "no_error")
    assert not failed.passed and failed.message == "the run failed: ZeroDivisionError: division by zero"


def test_expr_over_metrics() -> None:
    rec = record(fills=[fill(i) for i in range(4)], samples=[sample(0, pnl="2.5")], metrics={"frames": 1200})
    assert judge(rec, "expr", expr="fills >= 4 and pnl > 0").passed
    assert judge(rec, "expr", expr="metrics['frames'] / fills == 300").passed
    assert judge(rec, "expr", expr="abs(pnl - 2.5) < 0.001 and max(fills, 1) == 4 and round(pnl) == 2").passed
    result = judge(rec, "expr", expr="pnl > 10")
    assert not result.passed and result.message == "expr `pnl > 10` is false (pnl = 2.5)"
    rec.metrics["drawdown_s"] = "7.5"  # the runner writes some figures as strings: they still compare as numbers
    assert judge(rec, "expr", expr="drawdown_s < 10 and metrics['drawdown_s'] * 2 == 15").passed
    unknown = judge(rec, "expr", expr="sharpe > 1")
    assert not unknown.passed and "unknown name 'sharpe'" in unknown.message and "frames" in unknown.message


@pytest.mark.parametrize("text, complaint", [
    ("__import__('os')", "call to '__import__' is not allowed"),
    ("fills.__class__", "attribute access is not allowed"),
    ("(lambda: 1)()", "call to"),
    ("[x for x in (1, 2)]", "comprehensions are not allowed"),
    ("open('/etc/passwd')", "call to 'open' is not allowed"),
    ("__builtins__", "name '__builtins__' is not allowed"),
    ("fills +", "syntax error"),
    ("", "non-empty"),
])  # fmt: skip
def test_expr_refuses_anything_but_plain_expressions(text: str, complaint: str) -> None:
    result = judge(record(), "expr", expr=text)
    assert not result.passed
    assert result.message.startswith("bad parameters: expr: ") and complaint in result.message


def test_expr_runtime_errors_fail_clearly() -> None:
    rec = record()
    assert "'orders / 0': division by zero" in judge(rec, "expr", expr="orders / 0").message
    assert "arithmetic needs numbers" in judge(rec, "expr", expr="'a' * 1000000").message
    assert "exponent above" in judge(rec, "expr", expr="2 ** 100000").message


@pytest.mark.parametrize("kind, params, complaint", [
    ("tracker_converges", {}, "missing parameter 'within'"),
    ("tracker_converges", {"within": "5s"}, "within: expected a duration in milliseconds"),
    ("book_resync", {"within": 10, "faults": ["nope"]}, "faults: unknown fault type 'nope'"),
    ("fill_count", {}, "min/max: give at least one bound"),
    ("fill_count", {"min": 5, "max": 2}, "min: 5 is above max 2"),
    ("pnl", {"min": "lots"}, "min: expected a number"),
    ("max_drawdown", {}, "max/max_pct"),
    ("no_lost_orders", {"strict": True}, "unknown parameter 'strict'"),
    ("sharpe_ratio", {}, "unknown expectation type 'sharpe_ratio'"),
])  # fmt: skip
def test_bad_params_fail_with_a_message_instead_of_raising(kind: str, params: dict[str, Any], complaint: str) -> None:
    result = judge(record(), kind, **params)
    assert not result.passed and complaint in result.message


def test_a_malformed_record_fails_the_expectation_not_the_run() -> None:
    rec = record(samples=[sample(0)])
    rec.samples[0].pnl = "oops"  # type: ignore[assignment]
    result = judge(rec, "pnl", min=0)
    assert not result.passed and result.message.startswith("could not be checked: ")


def test_results_keep_scenario_order_and_names() -> None:
    specs = [ExpectationSpec("no_error", name="clean run"), ExpectationSpec("fill_count", {"max": 0})]
    results = evaluate(record(fills=[fill(0)]), specs)
    assert [(r.name, r.type, r.passed) for r in results] == [("clean run", "no_error", True),
                                                             ("fill_count", "fill_count", False)]
