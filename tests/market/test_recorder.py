"""``mockex record`` against a running mock over real sockets: what it writes must rebuild the
mock's book and trades exactly, and gaps/disconnects must be repaired by fresh snapshots."""

from __future__ import annotations

import argparse
import asyncio
import io
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from mock_exchange.cli import main
from mock_exchange.engine import units
from mock_exchange.market.capture import CaptureReader, CaptureWriter
from mock_exchange.market.readers.records import SYNC_OK, ReplayRecord
from mock_exchange.market.recorder import (
    Recorder,
    RecordError,
    RecordStats,
    parse_duration,
    parse_symbols,
    venue_urls,
)
from mock_exchange.testing import MockServer, SignedClient, ThreadedMockServer

SYMBOLS = ["BTCUSDT", "ETHUSDT"]
Book = dict[str, dict[Decimal, Decimal]]


class Recording:
    """A recorder running as a task on the test's loop, writing to ``path``."""

    def __init__(self, srv: MockServer, path: Path, now_ns: Callable[[], int] = time.time_ns,
                 progress: io.StringIO | None = None) -> None:
        rest, ws = venue_urls(srv.base_url)
        self.writer = CaptureWriter(path, srv.base_url, SYMBOLS, started_ns=now_ns())
        self.recorder = Recorder(SYMBOLS, self.writer, rest, ws, now_ns=now_ns, progress=progress,
                                 min_backoff_s=0.05, max_backoff_s=0.2)
        self.stop = asyncio.Event()
        self.task: asyncio.Task[RecordStats] = asyncio.create_task(self.recorder.run(30.0, self.stop))

    async def wait_for(self, cond: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not cond():
            assert not self.task.done(), self.task.result()
            assert asyncio.get_running_loop().time() < deadline, self.recorder.stats
            await asyncio.sleep(0.02)

    async def finish(self) -> RecordStats:
        self.stop.set()
        stats = await self.task
        self.writer.close()
        return stats


async def order(client: SignedClient, **params: Any) -> dict[str, Any]:
    r = await client.signed("POST", "/api/v3/order", **params)
    assert r.status == 200, r.body
    body: dict[str, Any] = r.json()
    return body


async def trade_some(srv: MockServer, client: SignedClient, symbol: str, rounds: int) -> None:
    """MARKET orders that take liquidity and LIMIT orders that add and then lift levels."""
    for i in range(rounds):
        bid, _, ask, _ = srv.state.engine.best_bid_ask(symbol)
        await order(client, symbol=symbol, side="BUY" if i % 2 else "SELL", type="MARKET", quantity="0.01")
        inside = units.fmt(bid + units.to_units("0.01"))
        await order(client, symbol=symbol, side="BUY", type="LIMIT", timeInForce="GTC", price=inside,
                    quantity="0.02")
        away = units.fmt(ask + units.to_units("5"))
        await order(client, symbol=symbol, side="SELL", type="LIMIT", timeInForce="GTC", price=away,
                    quantity="0.03")
        await asyncio.sleep(0.12)  # let a depth@100ms tick go out between rounds


async def venue_trades(client: SignedClient, symbol: str) -> list[dict[str, Any]]:
    r = await client.public("GET", "/api/v3/trades", symbol=symbol, limit=1000)
    assert r.status == 200, r.body
    trades: list[dict[str, Any]] = r.json()
    return trades


def rebuild(records: list[ReplayRecord]) -> Book:
    """The book a replay keeps by following the reader's sync labels (snapshot + bridge + diffs)."""
    books: Book = {}

    def apply(book: dict[Decimal, Decimal], levels: list[list[str]], side: str) -> None:
        for p, q in levels:
            key = Decimal(p) if side == "b" else -Decimal(p)
            if Decimal(q) == 0:
                book.pop(key, None)
            else:
                book[key] = Decimal(q)

    state: dict[str, tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}
    for rec in records:
        if rec.sync != SYNC_OK:
            continue
        if rec.kind == "depth_snapshot":
            bids: dict[Decimal, Decimal] = {}
            asks: dict[Decimal, Decimal] = {}
            apply(bids, rec.payload["bids"], "b")
            apply(asks, rec.payload["asks"], "a")
            state[rec.symbol] = (bids, asks)
            for d in rec.bridge:
                apply(bids, d.payload["b"], "b")
                apply(asks, d.payload["a"], "a")
        elif rec.kind == "depth_diff":
            bids, asks = state[rec.symbol]
            apply(bids, rec.payload["b"], "b")
            apply(asks, rec.payload["a"], "a")
    for sym, (bids, asks) in state.items():
        books[sym + ":bids"] = bids
        books[sym + ":asks"] = {-k: v for k, v in asks.items()}
    return books


def engine_book(srv: MockServer, symbol: str) -> Book:
    _, bids, asks = srv.state.engine.depth(symbol, 5000)
    return {
        symbol + ":bids": {units.to_decimal(p): units.to_decimal(q) for p, q in bids},
        symbol + ":asks": {units.to_decimal(p): units.to_decimal(q) for p, q in asks},
    }


def snapshots(records: list[ReplayRecord], symbol: str) -> list[ReplayRecord]:
    return [r for r in records if r.kind == "depth_snapshot" and r.symbol == symbol]


async def test_recording_rebuilds_the_mocks_book_and_trades(tmp_path: Path) -> None:
    path = tmp_path / "cap.jsonl.gz"
    ticks = iter(range(1_700_000_000_000_000_000, 1_800_000_000_000_000_000, 1000))
    progress = io.StringIO()
    async with MockServer() as srv:
        client = srv.client()
        before = {s: {t["id"] for t in await venue_trades(client, s)} for s in SYMBOLS}
        rec = Recording(srv, path, now_ns=lambda: next(ticks), progress=progress)
        await rec.wait_for(lambda: rec.recorder.stats.snapshots >= 2)
        await trade_some(srv, client, "BTCUSDT", 6)
        await trade_some(srv, client, "ETHUSDT", 3)
        await asyncio.sleep(0.6)  # the last diffs and the progress line go out
        stats = await rec.finish()
        after = {s: [t for t in await venue_trades(client, s) if t["id"] not in before[s]] for s in SYMBOLS}
        final = {**engine_book(srv, "BTCUSDT"), **engine_book(srv, "ETHUSDT")}

    assert path.read_bytes()[:2] == b"\x1f\x8b"  # gzip because of the .gz name
    reader = CaptureReader(path)
    records = reader.read_all()
    assert reader.headers[0]["symbols"] == SYMBOLS
    assert reader.headers[0]["started"] == 1_700_000_000_000_000_000
    for sym in SYMBOLS:
        assert len(snapshots(records, sym)) == 1
        assert snapshots(records, sym)[0].channel.endswith(f"/api/v3/depth?symbol={sym}&limit=1000")
    assert reader.gaps == [] and reader.anchor_failures == []
    assert {a.symbol for a in reader.anchors} == set(SYMBOLS)
    assert all(r.local_ns is not None and r.local_ns >= 1_700_000_000_000_000_000 for r in records)

    for sym in SYMBOLS:
        recorded = [r.payload for r in records if r.kind == "trade" and r.symbol == sym]
        assert recorded, f"no trades recorded for {sym}"
        assert [(t["t"], Decimal(t["p"]), Decimal(t["q"])) for t in recorded] == [
            (t["id"], Decimal(t["price"]), Decimal(t["qty"])) for t in after[sym]]
        diffs = [r for r in records if r.kind == "depth_diff" and r.symbol == sym]
        assert len(diffs) >= 3
        assert any(r.kind == "book_ticker" and r.symbol == sym for r in records)
    assert rebuild(records) == final

    assert stats.frames == sum(stats.per_stream.values()) == len(
        [r for r in records if r.kind != "depth_snapshot"])
    assert stats.per_stream["btcusdt@trade"] == len([r for r in records if r.kind == "trade" and r.symbol == "BTCUSDT"])
    lines = progress.getvalue()
    assert lines.startswith("\r") and lines.endswith("\n")
    assert f"frames {stats.frames}" in lines.rsplit("\r", 1)[-1]
    assert "btcusdt@depth@100ms" in lines


async def test_a_forced_gap_makes_the_recorder_resnapshot(tmp_path: Path) -> None:
    path = tmp_path / "gap.jsonl"
    async with MockServer() as srv:
        client = srv.client()
        rec = Recording(srv, path)
        await rec.wait_for(lambda: rec.recorder.stats.snapshots >= 2)
        await trade_some(srv, client, "BTCUSDT", 2)
        r = await srv.anonymous().raw("POST", "/_mock/faults",
                                      body=orjson.dumps({"type": "skip_depth", "symbol": "BTCUSDT"}).decode(),
                                      headers={"Content-Type": "application/json"})
        assert r.status == 200, r.body
        await trade_some(srv, client, "BTCUSDT", 4)
        await rec.wait_for(lambda: rec.recorder.stats.snapshots >= 3)
        await trade_some(srv, client, "BTCUSDT", 2)
        await asyncio.sleep(0.3)
        stats = await rec.finish()
        final = engine_book(srv, "BTCUSDT")

    assert path.read_bytes()[:1] == b"{"  # plain text without .gz
    assert stats.gaps == 1
    reader = CaptureReader(path)
    records = reader.read_all()
    snaps = snapshots(records, "BTCUSDT")
    assert len(snaps) == 2 and len(snapshots(records, "ETHUSDT")) == 1
    assert [g.symbol for g in reader.gaps] == ["BTCUSDT"]
    assert reader.anchor_failures == []
    assert [a.symbol for a in reader.anchors].count("BTCUSDT") == 2
    # the re-snapshot was taken after the gap was seen, and the book is whole again after it
    gap_line = int(reader.gaps[0].source.rsplit(":", 1)[1])
    assert int(snaps[1].source.rsplit(":", 1)[1]) > gap_line
    notes = [orjson.loads(line) for line in path.read_bytes().splitlines()[1:]]
    assert any(n["src"] == "note" and n["data"]["event"] == "gap" for n in notes)
    assert {k: v for k, v in rebuild(records).items() if k.startswith("BTCUSDT")} == final


async def test_a_dropped_stream_reconnects_and_resnapshots(tmp_path: Path) -> None:
    path = tmp_path / "drop.jsonl"
    async with MockServer() as srv:
        client = srv.client()
        rec = Recording(srv, path)
        await rec.wait_for(lambda: rec.recorder.stats.snapshots >= 2)
        r = await srv.anonymous().raw("POST", "/_mock/faults", body='{"type":"drop_streams"}',
                                      headers={"Content-Type": "application/json"})
        assert r.status == 200, r.body
        await rec.wait_for(lambda: rec.recorder.stats.connects >= 2 and rec.recorder.stats.snapshots >= 4)
        await trade_some(srv, client, "BTCUSDT", 3)
        await asyncio.sleep(0.3)
        await rec.finish()
        final = engine_book(srv, "BTCUSDT")

    records = CaptureReader(path).read_all()
    assert len(snapshots(records, "BTCUSDT")) == 2 and len(snapshots(records, "ETHUSDT")) == 2
    events = [orjson.loads(line)["data"].get("event") for line in path.read_bytes().splitlines()[1:]
              if b'"src":"note"' in line]
    assert events[0] == "connect" and "disconnect" in events and "reconnect" in events
    assert {k: v for k, v in rebuild(records).items() if k.startswith("BTCUSDT")} == final


async def test_an_unknown_symbol_stops_the_recording_with_an_error(tmp_path: Path) -> None:
    async with MockServer() as srv:
        rest, ws = venue_urls(srv.base_url)
        with CaptureWriter(tmp_path / "x.jsonl", srv.base_url, ["NOPEUSDT"]) as writer:
            recorder = Recorder(["NOPEUSDT"], writer, rest, ws, now_ns=time.time_ns)
            with pytest.raises(RecordError, match="NOPEUSDT"):
                await asyncio.wait_for(recorder.run(10.0), 5.0)


def test_duration_symbols_and_venue_parsing() -> None:
    assert parse_duration("30s") == 30 and parse_duration("10m") == 600 and parse_duration("1h") == 3600
    assert parse_duration("1.5s") == 1.5
    for bad in ("10", "5x", "-1m", "0s", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_duration(bad)
    assert parse_symbols("btcusdt, ETHUSDT,btcusdt") == ["BTCUSDT", "ETHUSDT"]
    for bad in ("", ",", "BTC-USDT"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_symbols(bad)
    assert venue_urls("live") == ("https://api.binance.com", "wss://stream.binance.com:9443")
    assert venue_urls("testnet") == ("https://testnet.binance.vision", "wss://stream.testnet.binance.vision")
    assert venue_urls("http://127.0.0.1:8765/") == ("http://127.0.0.1:8765", "ws://127.0.0.1:8765")
    assert venue_urls("https://example.com") == ("https://example.com", "wss://example.com")
    with pytest.raises(argparse.ArgumentTypeError):
        venue_urls("ftp://x")


@pytest.mark.parametrize("argv, complaint", [
    (["record", "--out", "f.jsonl"], "--symbols"),
    (["record", "--symbols", "BTCUSDT"], "--out"),
    (["record", "--symbols", "BTCUSDT", "--out", "f", "--duration", "ten"], "bad duration"),
    (["record", "--symbols", "BTC/USDT", "--out", "f"], "bad symbol"),
    (["record", "--symbols", "BTCUSDT", "--out", "f", "--venue", "mainnet"], "bad venue"),
])
def test_bad_arguments_exit_2_with_a_clear_message(argv: list[str], complaint: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert complaint in capsys.readouterr().err


def test_cli_records_for_the_duration_and_closes_the_file(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``mockex record`` end to end against a mock on its own thread: stops by itself after
    --duration, leaves a complete gzip file, and prints progress and a summary on stderr."""
    out = tmp_path / "cap.jsonl.gz"
    with ThreadedMockServer() as srv:
        started = time.monotonic()
        code = main(["record", "--symbols", "btcusdt,ethusdt", "--out", str(out), "--duration", "1.2s",
                     "--venue", srv.base_url])
        took = time.monotonic() - started
    assert code == 0
    assert 1.2 <= took < 5
    reader = CaptureReader(out)
    records = reader.read_all()
    assert not reader.damaged  # the gzip stream was closed properly
    assert reader.headers[0]["symbols"] == SYMBOLS and reader.headers[0]["venue"] == srv.base_url
    assert {r.symbol for r in records if r.kind == "depth_snapshot"} == set(SYMBOLS)
    err = capsys.readouterr().err
    assert "\rrecording" in err and "snapshots 2" in err and f"to {out}" in err


def test_cli_unwritable_output_exits_2_naming_the_file(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "missing-dir" / "cap.jsonl"
    code = main(["record", "--symbols", "BTCUSDT", "--out", str(out), "--duration", "1s",
                 "--venue", "http://127.0.0.1:9"])
    assert code == 2
    assert str(out) in capsys.readouterr().err
    assert not out.exists()
