"""Run folders as a user opens them: a stable report.json, a self-contained report.html with its
plots, CSVs, a scrubbed journal, junit.xml, and reading a folder back to compare two runs."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal as D
from pathlib import Path

import pytest

from scenarios.record import (
    REPORT_SCHEMA_VERSION,
    WALL_CLOCK_FIELDS,
    ExpectationResult,
    FaultWindow,
    FillRow,
    JournalEntry,
    OrderRow,
    RunEvent,
    RunRecord,
    Sample,
)
from scenarios.report import RunFolderError, compare_runs, load_run, render_summary, write_run

T0 = 1_767_225_600_000
SIGNATURE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
LISTEN_KEY = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"


def make_record(*, wall_seconds: float = 2.0, wall_started: str = "2026-05-01T10:00:00Z") -> RunRecord:
    """A small but complete run: 30 s, a few orders and fills, two faults, one failed expectation."""
    rec = RunRecord(
        scenario={"name": "demo", "seed": 3, "expectations": [{"type": "max_used_weight", "params": {"per_minute": 50}}]},
        scenario_name="demo", seed=3, start_ms=T0, end_ms=T0 + 30_000, trading_pair="BTC-USDT",
        base_asset="BTC", quote_asset="USDT", wall_seconds=wall_seconds, wall_started=wall_started,
    )  # fmt: skip
    equity_peak = D(0)
    for i in range(31):
        mid = D("60000") + D(i % 7) * D("1.5")
        base = D("1") + D(i // 10) / D(100)
        equity = D("40000") + base * mid
        equity_peak = max(equity_peak, equity)
        rec.samples.append(Sample(T0 + i * 1000, None if i == 12 else mid, base, D("40000"), equity,
                                  equity - D("100000"), equity_peak - equity, 5 + 2 * i, 2))
    for i in range(6):
        side = "BUY" if i % 2 == 0 else "SELL"
        rec.orders.append(OrderRow(f"x-mm-{i}", "BTCUSDT", side, "LIMIT", D("0.01"), D("60000.5"), T0 + i * 4000,
                                   "FILLED" if i < 4 else "CANCELED", exchange_order_id=100 + i,
                                   executed=D("0.01") if i < 4 else D(0), updated_ms=T0 + i * 4000 + 900,
                                   journal_line=2 * i + 1))
    for i in range(4):
        rec.fills.append(FillRow(T0 + i * 4000 + 900, f"x-mm-{i}", "BTCUSDT", "BUY" if i % 2 == 0 else "SELL",
                                 D("60000.5"), D("0.01"), D("0.00001") if i % 2 == 0 else D("0.600005"),
                                 "BTC" if i % 2 == 0 else "USDT", 500 + i, journal_line=2 * i + 2))
    rec.orders.append(OrderRow("x-mm-mkt", "BTCUSDT", "SELL", "MARKET", D("0.02"), None, T0 + 25_000, "FAILED",
                               reason="Market is closed."))
    rec.faults = [
        FaultWindow(0, "drop_streams", "cut everything", T0 + 8000, None, {"type": "drop_streams", "target": "all"},
                    journal_line=15, book_resynced_ms=T0 + 9200, user_stream_back_ms=T0 + 8700,
                    tracker_converged_ms=T0 + 9500, reaction="reconnected both streams, resnapshot"),
        FaultWindow(1, "symbol_status", "halt", T0 + 20_000, T0 + 26_000,
                    {"type": "symbol_status", "symbol": "BTCUSDT", "status": "HALT"}, journal_line=30,
                    tracker_converged_ms=T0 + 20_400, reaction="orders refused with -2010, kept quoting"),
    ]  # fmt: skip
    rec.events = [
        RunEvent(T0 + 9200, "book_resync", {"symbol": "BTCUSDT", "last_update_id": 1234}, journal_line=20),
        RunEvent(T0 + 8700, "user_stream_connected", {"listenKey": LISTEN_KEY}, journal_line=18),
    ]
    rec.journal = [JournalEntry(T0 + i * 500, 0.01 * i, "runner", {"note": f"tick {i}"}) for i in range(40)]
    # Raw secrets, as if the runner had missed them: the writer must still keep them out.
    rec.journal[1] = JournalEntry(T0 + 500, 0.02, "rest_request", {
        "method": "POST", "path": "/api/v3/order", "body": "", "headers": {"X-MBX-APIKEY": API_KEY},
        "query": f"symbol=BTCUSDT&side=BUY&newClientOrderId=x-mm-0&signature={SIGNATURE}",
    })  # fmt: skip
    rec.journal[17] = JournalEntry(T0 + 8500, 0.3, "ws_in", {
        "frame": {"id": 7, "method": "userDataStream.subscribe.signature",
                  "params": {"apiKey": API_KEY, "timestamp": T0 + 8500, "signature": SIGNATURE}},
    })  # fmt: skip
    rec.journal[18] = JournalEntry(T0 + 8600, 0.31, "rest_response", {
        "method": "POST", "path": "/api/v3/userDataStream", "status": 200, "body": {"listenKey": LISTEN_KEY},
    })  # fmt: skip
    rec.journal[19] = JournalEntry(T0 + 8700, 0.32, "stream_out", {"conn": f"/ws/{LISTEN_KEY}", "kind": "frame",
                                                                   "frame": {"e": "outboundAccountPosition"}})
    rec.exchange_open_orders = []
    rec.tracker_open_orders = []
    rec.exchange_balances = {"BTC": D("1.02"), "USDT": D("40000")}
    rec.tracker_balances = {"BTC": D("1.02"), "USDT": D("40000")}
    rec.metrics = {"pnl": D("12.5"), "frames_in": 4200, "resyncs": 1}
    rec.versions = {"mockex": "0.1.0", "python": "3.11"}
    rec.expectations = [
        ExpectationResult("no orphans", "no_orphan_orders", True, "0 open orders on the exchange, all tracked",
                          source_line=21),
        ExpectationResult("book_resync", "book_resync", False,
                          "1 of 1 fault window: fault #0 drop_streams at t=8.000s: book resynced after 1.200 s "
                          "(limit 1.000 s, journal lines 15, 20)", [15, 20], source_line=24),
        ExpectationResult("fill_count", "fill_count", True, "4 fills within [1, -]", source_line=27),
    ]
    return rec


def written(tmp_path: Path, rec: RunRecord, name: str = "run", junit: bool = False) -> Path:
    out = tmp_path / name
    write_run(rec, out, junit=out / "junit.xml" if junit else None)
    return out


def test_run_folder_has_every_file(tmp_path: Path) -> None:
    out = written(tmp_path, make_record(), junit=True)
    names = {p.name for p in out.iterdir()}
    assert names == {"report.json", "report.md", "report.html", "orders.csv", "fills.csv", "equity.csv",
                     "journal.jsonl", "scenario.resolved.json", "junit.xml"}
    assert not (written(tmp_path, make_record(), "nojunit") / "junit.xml").exists()
    assert json.loads((out / "scenario.resolved.json").read_text())["seed"] == 3


def test_report_json_is_byte_identical_apart_from_wall_fields(tmp_path: Path) -> None:
    first = make_record(wall_seconds=2.0, wall_started="2026-05-01T10:00:00Z")
    second = make_record(wall_seconds=7.25, wall_started="2026-05-02T11:30:00Z")
    for entry in second.journal:
        entry.wall *= 3
    a = (written(tmp_path, first, "a") / "report.json").read_bytes()
    b = (written(tmp_path, second, "b") / "report.json").read_bytes()
    da, db = json.loads(a), json.loads(b)
    assert set(da["wall"]) == set(WALL_CLOCK_FIELDS)
    assert da["wall"] == {"wall_started": "2026-05-01T10:00:00Z", "wall_seconds": 2.0, "x_real_time": 15.0}
    assert db["wall"]["x_real_time"] == 4.1
    da.pop("wall"), db.pop("wall")
    assert json.dumps(da, sort_keys=True) == json.dumps(db, sort_keys=True)
    strip = re.compile(rb'  "wall": \{[^}]*\},?\n')
    assert strip.sub(b"", a) == strip.sub(b"", b)
    again = (written(tmp_path, make_record(), "c") / "report.json").read_bytes()
    assert again == a


def test_report_json_changes_when_a_fill_differs(tmp_path: Path) -> None:
    base = (written(tmp_path, make_record(), "a") / "report.json").read_bytes()
    other = make_record()
    other.fills[2].price = D("60001")
    assert (written(tmp_path, other, "b") / "report.json").read_bytes() != base


def test_report_json_schema(tmp_path: Path) -> None:
    doc = json.loads((written(tmp_path, make_record()) / "report.json").read_text())
    assert doc["schema"] == "mockex-report" and doc["version"] == REPORT_SCHEMA_VERSION
    assert (doc["scenario"], doc["seed"], doc["passed"], doc["error"]) == ("demo", 3, False, None)
    assert doc["time"]["duration_ms"] == 30_000 and doc["time"]["start_utc"] == "2026-01-01T00:00:00.000Z"
    assert [e["passed"] for e in doc["expectations"]] == [True, False, True]
    assert doc["expectations"][1]["journal_lines"] == [15, 20]
    assert doc["summary"]["fills"] == 4 and doc["summary"]["volume_quote"] == "2400.020"
    assert doc["summary"]["fees"] == {"BTC": "0.00002", "USDT": "1.200010"}
    assert doc["metrics"]["pnl"] == "12.5"  # Decimals are strings, never floats
    assert doc["counts"]["orders_by_state"] == {"CANCELED": 2, "FAILED": 1, "FILLED": 4}
    fault = doc["faults"][0]
    assert fault["recovery_after_ms"] == {"book_resynced": 1200, "user_stream_back": 700, "tracker_converged": 1500}
    assert fault["reaction"] == "reconnected both streams, resnapshot"
    assert doc["events"][1]["detail"] == {"listenKey": "***"}
    assert list(doc) == sorted(doc)


def test_html_is_self_contained_with_a_plot_each(tmp_path: Path) -> None:
    page = (written(tmp_path, make_record()) / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    plots = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(plots) == 4
    titles = [re.search(r"<title>(.*?)</title>", p).group(1) for p in plots]  # type: ignore[union-attr]
    assert titles == ["Price (mid) and the strategy&#x27;s fills, BTC-USDT", "Inventory (BTC)",
                      "PnL and drawdown (USDT)", "Used request weight (1 minute window)"]
    for plot in plots:  # fault windows shaded on every plot, labelled by their index
        assert plot.count('class="fault') == 2 and ">#0<" in plot and ">#1<" in plot
    assert plots[0].count('class="buy"') == 2 and plots[0].count('class="sell"') == 2
    assert plots[0].count("<polyline") == 2  # the mid line breaks where a sample had no mid
    assert "limit 50" in plots[3]  # the max_used_weight expectation's limit is drawn
    assert "FAIL" in page and "reconnected both streams, resnapshot" in page


def test_csv_headers_and_rows(tmp_path: Path) -> None:
    out = written(tmp_path, make_record())

    def rows(name: str) -> list[dict[str, str]]:
        with (out / name).open(newline="") as handle:
            return list(csv.DictReader(handle))

    orders, fills, equity = rows("orders.csv"), rows("fills.csv"), rows("equity.csv")
    assert list(orders[0]) == ["client_order_id", "exchange_order_id", "symbol", "side", "order_type", "amount",
                               "price", "executed", "state", "reason", "created_ms", "updated_ms", "journal_line"]
    assert list(fills[0]) == ["ts_ms", "client_order_id", "symbol", "side", "price", "amount", "fee", "fee_asset",
                              "trade_id", "journal_line"]
    assert list(equity[0]) == ["ts_ms", "mid", "base", "quote", "equity", "pnl", "drawdown", "used_weight_1m",
                               "open_orders"]
    assert (len(orders), len(fills), len(equity)) == (7, 4, 31)
    assert orders[6]["price"] == "" and orders[6]["reason"] == "Market is closed."
    assert fills[1]["fee"] == "0.600005" and equity[12]["mid"] == ""


def test_junit_counts_failures_and_run_errors(tmp_path: Path) -> None:
    rec = make_record()
    root = ET.parse(written(tmp_path, rec, "a", junit=True) / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    failed = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["book_resync"]
    failure = failed[0].find("failure")
    assert failure is not None and "journal lines: 15, 20" in (failure.text or "")
    rec.error = "Traceback (most recent call last):\n  File \"s.py\", line 3\x1b[0m\nRuntimeError: strategy blew up\n"
    root = ET.parse(written(tmp_path, rec, "b", junit=True) / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("errors")) == ("4", "1")
    error = suite.find("testcase[@name='run']/error")
    assert error is not None and error.get("message") == "RuntimeError: strategy blew up"


def test_secrets_never_reach_the_folder(tmp_path: Path) -> None:
    out = written(tmp_path, make_record(), junit=True)
    for path in out.iterdir():
        text = path.read_text()
        for secret in (SIGNATURE, API_KEY, LISTEN_KEY):
            assert secret not in text, (path.name, secret[:8])
    lines = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert lines[1]["query"].endswith("newClientOrderId=x-mm-0&signature=***")
    assert lines[1]["headers"]["X-MBX-APIKEY"] == "***"
    assert lines[17]["frame"]["params"] == {"apiKey": "***", "timestamp": T0 + 8500, "signature": "***"}
    assert lines[18]["body"] == {"listenKey": "***"}
    assert lines[19]["conn"] == "/ws/***"  # a listen key learnt elsewhere is blanked inside strings too


def test_journal_lines_carry_numbers_times_and_kind(tmp_path: Path) -> None:
    out = written(tmp_path, make_record())
    lines = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    assert len(lines) == 40
    assert list(lines[5])[:5] == ["line", "vt", "wall", "kind", "note"]
    assert lines[5] == {"line": 6, "vt": T0 + 2500, "wall": 0.05, "kind": "runner", "note": "tick 5"}
    assert lines[19]["kind"] == "stream_out" and lines[19]["_kind"] == "frame"  # a data key that collides is kept


def test_load_run_round_trips_and_compare_shows_a_changed_metric(tmp_path: Path) -> None:
    rec = make_record()
    a_dir = written(tmp_path, rec, "a")
    loaded = load_run(a_dir)
    assert (loaded.scenario_name, loaded.seed, len(loaded.orders), len(loaded.fills)) == ("demo", 3, 7, 4)
    assert loaded.fills[1].fee == D("0.600005") and loaded.samples[12].mid is None
    assert loaded.journal[19].data["kind"] == "frame" and loaded.metrics["pnl"] == D("12.5")
    rewritten = written(tmp_path, loaded, "again")
    assert (rewritten / "report.json").read_bytes() == (a_dir / "report.json").read_bytes()
    assert compare_runs(loaded, load_run(rewritten)).endswith("no differences in expectations, metrics, counts or PnL")
    other = make_record()
    other.metrics["pnl"] = D("10")
    other.metrics["resyncs"] = 3
    other.fills.pop()
    other.expectations[2] = ExpectationResult("fill_count", "fill_count", False, "3 fills, fewer than the minimum 4")
    diff = compare_runs(loaded, load_run(written(tmp_path, other, "b")))
    assert "pnl: 12.5 -> 10 (-2.5)" in diff
    assert "resyncs: 1 -> 3 (+2)" in diff
    assert "fills: 4 -> 3 (-1)" in diff
    assert "fill_count: PASS -> FAIL: 3 fills, fewer than the minimum 4" in diff


def test_load_run_refuses_what_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="not a run folder"):
        load_run(tmp_path)
    (tmp_path / "report.json").write_text('{"schema": "mockex-report", "version": 99}')
    with pytest.raises(RunFolderError, match="newer than this mockex reads"):
        load_run(tmp_path)
    (tmp_path / "report.json").write_text("{broken")
    with pytest.raises(RunFolderError, match="cannot read"):
        load_run(tmp_path)


def test_summary_says_what_a_user_needs_at_the_end_of_a_run() -> None:
    rec = make_record()
    text = render_summary(rec)
    assert text.splitlines()[0] == "scenario demo (seed 3): FAILED"
    assert "30.000 s virtual in 2.000 s wall (15.0× real time)" in text
    assert "expectations: 2 of 3 passed" in text
    assert "FAIL book_resync: 1 of 1 fault window" in text and "[journal 15, 20]" in text
    assert "orders: 7 (CANCELED 2, FAILED 1, FILLED 4); fills: 4 (BUY 2, SELL 2)" in text
    assert "PnL: 12.5 USDT" in text
    assert ("#0 drop_streams 'cut everything' at t=8.000s: reconnected both streams, resnapshot (book resynced "
            "after 1.200 s, user stream back after 0.700 s, tracker converged after 1.500 s)") in text
    assert "#1 symbol_status 'halt' at t=20.000s to t=26.000s" in text
    rec.error = "Traceback ...\nValueError: bad quote\n"
    assert render_summary(rec).endswith("error: ValueError: bad quote")


def test_markdown_tables(tmp_path: Path) -> None:
    md = (written(tmp_path, make_record()) / "report.md").read_text()
    assert md.startswith("# Scenario `demo`: FAILED")
    assert "| **FAIL** | book_resync | book_resync |" in md
    assert "| 0 | drop_streams | cut everything | t=8.000s | — | 1.200 s | 0.700 s | 1.500 s |" in md
    assert "| orders | 7 | CANCELED 2, FAILED 1, FILLED 4 |" in md


def test_a_run_that_raised_at_once_still_gets_a_complete_folder(tmp_path: Path) -> None:
    rec = RunRecord(scenario={}, scenario_name="early", seed=1, start_ms=T0, end_ms=T0, trading_pair="BTC-USDT",
                    base_asset="BTC", quote_asset="USDT", error="Traceback ...\nImportError: no module named 'mine'\n")
    out = written(tmp_path, rec, junit=True)
    assert json.loads((out / "report.json").read_text())["passed"] is False
    assert (out / "report.html").read_text().count("<svg") == 4
    assert "ImportError: no module named &#x27;mine&#x27;" in (out / "report.html").read_text()
    summary = render_summary(rec)
    assert "PnL: n/a; max drawdown n/a; inventory n/a" in summary
    assert summary.endswith("error: ImportError: no module named 'mine'")
    assert load_run(out).error == rec.error
