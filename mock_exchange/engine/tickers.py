"""Range totals (``Acc``) and the venue's ticker JSON shapes built from them.

Split from ``market_data`` so the field lists and their order (which clients sometimes parse
positionally or compare in fixtures) sit in one short, readable place.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mock_exchange.engine.types import TradeEvent
from mock_exchange.engine.units import SCALE, fmt

_PCT_STEP = Decimal("0.001")


class Acc:
    """Running OHLCV totals of a time range, fed buckets and raw trades in time order."""

    __slots__ = ("o", "h", "l", "c", "v", "qv", "n", "tbv", "tbq", "fid", "lid")

    def __init__(self) -> None:
        self.o = self.h = self.l = self.c = 0
        self.v = self.qv = self.n = self.tbv = self.tbq = 0
        self.fid = self.lid = -1

    def add_row(self, r: list[int]) -> None:
        """Merge one bucket row laid out as trade_tape's (O, H, L, C, V, QV, N, TBV, TBQ, FID, LID)."""
        if self.n == 0:
            self.o, self.h, self.l, self.fid = r[0], r[1], r[2], r[9]
        else:
            if r[1] > self.h:
                self.h = r[1]
            if r[2] < self.l:
                self.l = r[2]
        self.c = r[3]
        self.v += r[4]
        self.qv += r[5]
        self.n += r[6]
        self.tbv += r[7]
        self.tbq += r[8]
        self.lid = r[10]

    def add_trade(self, ev: TradeEvent) -> None:
        p = ev.price
        if self.n == 0:
            self.o = self.h = self.l = p
            self.fid = ev.trade_id
        elif p > self.h:
            self.h = p
        elif p < self.l:
            self.l = p
        self.c = p
        self.v += ev.qty
        self.qv += ev.quote_qty
        self.n += 1
        if not ev.is_buyer_maker:
            self.tbv += ev.qty
            self.tbq += ev.quote_qty
        self.lid = ev.trade_id

    def vwap(self) -> int:
        """quoteVolume / volume in units (0 for an empty range), truncated like every display."""
        return self.qv * SCALE // self.v if self.v > 0 else 0


def price_change_percent(open_price: int, last_price: int) -> str:
    """``priceChangePercent``: percent with three decimals, half-up ("-95.960"); "0.000" if no open."""
    if open_price == 0:
        return "0.000"
    pct = (Decimal(last_price - open_price) * 100 / Decimal(open_price)).quantize(_PCT_STEP, ROUND_HALF_UP)
    return "0.000" if pct == 0 else str(pct)


def _ids(acc: Acc) -> tuple[int, int]:
    return (acc.fid, acc.lid) if acc.n else (-1, -1)


def mini_json(symbol: str, acc: Acc, bp: int, qp: int, open_time: int, close_time: int) -> dict[str, Any]:
    """MINI field set (24hr, rolling and tradingDay tickers)."""
    first_id, last_id = _ids(acc)
    return {
        "symbol": symbol,
        "openPrice": fmt(acc.o, qp),
        "highPrice": fmt(acc.h, qp),
        "lowPrice": fmt(acc.l, qp),
        "lastPrice": fmt(acc.c, qp),
        "volume": fmt(acc.v, bp),
        "quoteVolume": fmt(acc.qv, qp),
        "openTime": open_time,
        "closeTime": close_time,
        "firstId": first_id,
        "lastId": last_id,
        "count": acc.n,
    }


def full_json(symbol: str, acc: Acc, bp: int, qp: int, open_time: int, close_time: int) -> dict[str, Any]:
    """FULL field set of the rolling and tradingDay tickers (no prevClose/lastQty/bid/ask)."""
    first_id, last_id = _ids(acc)
    return {
        "symbol": symbol,
        "priceChange": fmt(acc.c - acc.o, qp),
        "priceChangePercent": price_change_percent(acc.o, acc.c),
        "weightedAvgPrice": fmt(acc.vwap(), qp),
        "openPrice": fmt(acc.o, qp),
        "highPrice": fmt(acc.h, qp),
        "lowPrice": fmt(acc.l, qp),
        "lastPrice": fmt(acc.c, qp),
        "volume": fmt(acc.v, bp),
        "quoteVolume": fmt(acc.qv, qp),
        "openTime": open_time,
        "closeTime": close_time,
        "firstId": first_id,
        "lastId": last_id,
        "count": acc.n,
    }


def ticker_24hr_full_json(
    symbol: str,
    acc: Acc,
    bp: int,
    qp: int,
    open_time: int,
    close_time: int,
    prev_close: int,
    last_qty: int,
    best: tuple[int, int, int, int],
) -> dict[str, Any]:
    """``/api/v3/ticker/24hr`` FULL: statistics, previous close, last qty and the book top."""
    first_id, last_id = _ids(acc)
    return {
        "symbol": symbol,
        "priceChange": fmt(acc.c - acc.o, qp),
        "priceChangePercent": price_change_percent(acc.o, acc.c),
        "weightedAvgPrice": fmt(acc.vwap(), qp),
        "prevClosePrice": fmt(prev_close, qp),
        "lastPrice": fmt(acc.c, qp),
        "lastQty": fmt(last_qty, bp),
        "bidPrice": fmt(best[0], qp),
        "bidQty": fmt(best[1], bp),
        "askPrice": fmt(best[2], qp),
        "askQty": fmt(best[3], bp),
        "openPrice": fmt(acc.o, qp),
        "highPrice": fmt(acc.h, qp),
        "lowPrice": fmt(acc.l, qp),
        "volume": fmt(acc.v, bp),
        "quoteVolume": fmt(acc.qv, qp),
        "openTime": open_time,
        "closeTime": close_time,
        "firstId": first_id,
        "lastId": last_id,
        "count": acc.n,
    }
