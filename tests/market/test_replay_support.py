"""Builders shared by the replay tests (no tests here): market events and venue-shaped records."""

from __future__ import annotations

from typing import Any

from mock_exchange.engine.units import to_units
from mock_exchange.market.readers.records import ReplayRecord
from mock_exchange.market.replay.feed import K_SNAPSHOT, K_TICKER, K_TRADE, MarketEvent, split_diff

SYMBOL = "BTCUSDT"
MS = 1_000_000
T0 = 1_723_161_300_000 * MS  # a replay-time origin (ns)
_seq = [0]


def u(text: str) -> int:
    return to_units(text)


def _levels(rows: list[tuple[str, str]]) -> list[tuple[int, int]]:
    return [(u(p), u(q)) for p, q in rows]


def _event(t_ms: float, kind: int, data: Any, symbol: str = SYMBOL) -> MarketEvent:
    _seq[0] += 1
    t = T0 + round(t_ms * MS)
    return MarketEvent(t, t, _seq[0], symbol, kind, data, None)


def snap(
    bids: list[tuple[str, str]],
    asks: list[tuple[str, str]],
    last_id: int = 100,
    t_ms: float = 0.0,
    symbol: str = SYMBOL,
) -> MarketEvent:
    return _event(t_ms, K_SNAPSHOT, (last_id, _levels(bids), _levels(asks), ()), symbol)


def diff(
    first: int, last: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]], t_ms: float = 0.0
) -> MarketEvent:
    return _event(t_ms, 0, split_diff(first, last, _levels(bids), _levels(asks)))


def tick(uid: int, bid: str, bid_qty: str, ask: str, ask_qty: str, t_ms: float = 0.0) -> MarketEvent:
    return _event(t_ms, K_TICKER, (uid, u(bid), u(bid_qty), u(ask), u(ask_qty)))


def trade(price: str, qty: str, buyer_maker: bool, t_ms: float = 0.0, symbol: str = SYMBOL) -> MarketEvent:
    return _event(t_ms, K_TRADE, (u(price), u(qty), buyer_maker, 1), symbol)


# -- ReplayRecords shaped like the readers' output (for runner / feed tests) -------------------------
def _fmt(x: str) -> str:
    whole, _, frac = x.partition(".")
    return f"{whole}.{frac:0<8}"


def rec_snapshot(
    local_ms: float, last_id: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]], line: int = 1
) -> ReplayRecord:
    payload = {
        "lastUpdateId": last_id,
        "bids": [[_fmt(p), _fmt(q)] for p, q in bids],
        "asks": [[_fmt(p), _fmt(q)] for p, q in asks],
    }
    return ReplayRecord(
        round(local_ms * MS), None, SYMBOL, "depth_snapshot", payload, last_id, last_id, f"cap.gz:{line}"
    )


def rec_diff(
    local_ms: float,
    venue_ms: int,
    first: int,
    last: int,
    bids: list[tuple[str, str]],
    asks: list[tuple[str, str]],
    sync: str = "ok",
    line: int = 1,
) -> ReplayRecord:
    payload = {
        "e": "depthUpdate", "E": venue_ms, "s": SYMBOL, "U": first, "u": last,
        "b": [[_fmt(p), _fmt(q)] for p, q in bids], "a": [[_fmt(p), _fmt(q)] for p, q in asks],
    }
    return ReplayRecord(
        round(local_ms * MS), venue_ms, SYMBOL, "depth_diff", payload, first, last, f"cap.gz:{line}", sync=sync
    )


def rec_ticker(local_ms: float, uid: int, bid: str, bid_qty: str, ask: str, ask_qty: str, line: int = 1) -> ReplayRecord:
    payload = {"u": uid, "s": SYMBOL, "b": _fmt(bid), "B": _fmt(bid_qty), "a": _fmt(ask), "A": _fmt(ask_qty)}
    return ReplayRecord(round(local_ms * MS), None, SYMBOL, "book_ticker", payload, uid, uid, f"cap.gz:{line}")


def rec_trade(
    local_ms: float, venue_ms: int, price: str, qty: str, buyer_maker: bool, trade_ms: int | None = None, line: int = 1
) -> ReplayRecord:
    payload = {
        "e": "trade", "E": venue_ms, "s": SYMBOL, "t": 7, "p": _fmt(price), "q": _fmt(qty),
        "T": venue_ms if trade_ms is None else trade_ms, "m": buyer_maker, "M": True,
    }
    return ReplayRecord(round(local_ms * MS), venue_ms, SYMBOL, "trade", payload, None, None, f"cap.gz:{line}")
