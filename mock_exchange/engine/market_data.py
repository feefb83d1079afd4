"""Public market data for the REST and stream layers: trades, agg trades, klines, tickers, avgPrice.

The engine owns one ``MarketData`` and calls ``on_trade`` for every fill, in order; the
per-symbol storage and range arithmetic live in ``trade_tape``, the interval/timeZone rules in
``klines`` and the ticker field sets in ``tickers``. All amounts are ints in 1e-8 units; the
``*_json`` methods return the venue's JSON-ready objects (decimal strings, integer ids and
times) so the server can dump them as they are. Unknown symbols give empty answers: checking
the symbol (-1121) is the server's job.
"""

from __future__ import annotations

from typing import Any

from mock_exchange.engine import klines as kl
from mock_exchange.engine import tickers as tk
from mock_exchange.engine.tickers import Acc
from mock_exchange.engine.trade_tape import AggTrade, SymbolTape
from mock_exchange.engine.types import TradeEvent
from mock_exchange.engine.units import fmt

__all__ = ["AggTrade", "MarketData"]

_MAX_LIMIT = 1000


def _clamp(limit: int) -> int:
    return max(0, min(limit, _MAX_LIMIT))


class MarketData:
    """Trade-derived market data of every symbol (pure, synchronous, bounded memory)."""

    def __init__(
        self,
        max_trades: int = 100_000,
        max_second_buckets: int = 100_000,
        max_minute_buckets: int = 200_000,
        max_hour_buckets: int = 200_000,
        max_day_buckets: int = 100_000,
    ) -> None:
        """Caps are per symbol. Keep coarse caps >= fine ones so coarse history outlives fine."""
        self._caps = (max_trades, max_second_buckets, max_minute_buckets, max_hour_buckets, max_day_buckets)
        self._tapes: dict[str, SymbolTape] = {}

    # ------------------------------------------------------------------ registration
    def register_symbol(self, symbol: str, base_precision: int = 8, quote_precision: int = 8) -> None:
        """Declare a symbol (idempotent; updates the display precisions if already known)."""
        s = self._tapes.get(symbol)
        if s is None:
            self._tapes[symbol] = SymbolTape(base_precision, quote_precision, self._caps)
        else:
            s.base_prec = base_precision
            s.quote_prec = quote_precision

    @property
    def symbols(self) -> list[str]:
        return list(self._tapes)

    def reset(self, symbol: str | None = None) -> None:
        """Forget all trades (of one symbol, or of all), keeping registrations and precisions."""
        for name in [symbol] if symbol is not None else list(self._tapes):
            old = self._tapes.get(name)
            if old is not None:
                self._tapes[name] = SymbolTape(old.base_prec, old.quote_prec, self._caps)

    def retained(self, symbol: str) -> dict[str, int]:
        """How much history is held for ``symbol`` (control-plane state, memory checks)."""
        s = self._tapes.get(symbol)
        if s is None:
            return {}
        s.flush()
        out = {"trades": len(s.tape) - s.t_off, "aggTrades": len(s.aggs) - s.a_off}
        for name, lv in zip(("1s", "1m", "1h", "1d"), s.levels, strict=True):
            out["buckets_" + name] = len(lv.keys) - lv.off
        return out

    # ------------------------------------------------------------------ ingest
    def on_trade(self, ev: TradeEvent) -> None:
        """Record one public trade (auto-registers the symbol with 8/8 precisions)."""
        s = self._tapes.get(ev.symbol)
        if s is None:
            s = self._tapes[ev.symbol] = SymbolTape(8, 8, self._caps)
        s.add(ev)

    # ------------------------------------------------------------------ typed accessors
    def last_trade(self, symbol: str) -> TradeEvent | None:
        s = self._tapes.get(symbol)
        return s.last if s is not None else None

    def last_price(self, symbol: str) -> int | None:
        s = self._tapes.get(symbol)
        return s.last.price if s is not None and s.last is not None else None

    def trades(self, symbol: str, limit: int = 500, from_id: int | None = None) -> list[TradeEvent]:
        """The most recent ``limit`` trades, or ``limit`` trades from id ``from_id`` on; oldest first."""
        s = self._tapes.get(symbol)
        limit = _clamp(limit)
        return s.trades(limit, from_id) if s is not None and limit else []

    def agg_trades(
        self,
        symbol: str,
        from_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 500,
    ) -> list[AggTrade]:
        """Aggregate trades, oldest first, selected like the venue (times inclusive).

        No bound: the most recent ``limit``. ``from_id`` and/or ``start_time``: the oldest
        ``limit`` from there on, bounded by ``end_time``. ``end_time`` alone: the most recent
        ``limit`` up to it.
        """
        s = self._tapes.get(symbol)
        limit = _clamp(limit)
        return s.agg_trades(from_id, start_time, end_time, limit) if s is not None and limit else []

    def avg_price(self, symbol: str, mins: int, now_ms: int) -> int | None:
        """VWAP of the trades in the last ``mins`` minutes; the last price when ``mins`` is 0 or
        the window is empty; None if the symbol never traded (cached per trade count and time)."""
        s = self._tapes.get(symbol)
        if s is None or s.last is None:
            return None
        return s.avg_price(mins, now_ms)

    # ------------------------------------------------------------------ JSON: trades
    def trades_json(self, symbol: str, limit: int = 500, from_id: int | None = None) -> list[dict[str, Any]]:
        """``/api/v3/trades`` (no ``from_id``) and ``/api/v3/historicalTrades`` rows."""
        s = self._tapes.get(symbol)
        if s is None:
            return []
        bp, qp = s.base_prec, s.quote_prec
        return [
            {
                "id": ev.trade_id,
                "price": fmt(ev.price, qp),
                "qty": fmt(ev.qty, bp),
                "quoteQty": fmt(ev.quote_qty, qp),
                "time": ev.time,
                "isBuyerMaker": ev.is_buyer_maker,
                "isBestMatch": True,
            }
            for ev in self.trades(symbol, limit, from_id)
        ]

    def agg_trades_json(
        self,
        symbol: str,
        from_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 500,
    ) -> list[dict[str, Any]]:
        """``/api/v3/aggTrades`` rows (also the ``@aggTrade`` stream body without e/E/s).

        A stream can publish finished aggregates with ``from_id`` = last published id + 1
        after each engine operation (an aggregate never spans two operations).
        """
        s = self._tapes.get(symbol)
        if s is None:
            return []
        bp, qp = s.base_prec, s.quote_prec
        return [
            {
                "a": g.agg_id,
                "p": fmt(g.price, qp),
                "q": fmt(g.qty, bp),
                "f": g.first_id,
                "l": g.last_id,
                "T": g.time,
                "m": g.is_buyer_maker,
                "M": True,
            }
            for g in self.agg_trades(symbol, from_id, start_time, end_time, limit)
        ]

    # ------------------------------------------------------------------ JSON: klines
    def klines_json(
        self,
        symbol: str,
        interval: str,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 500,
        time_zone: str = "0",
        now_ms: int | None = None,
    ) -> list[list[Any]]:
        """``/api/v3/klines`` rows of the intervals that have trades, oldest first.

        Selected on open time (UTC): none -> the most recent ``limit``; ``start_time`` -> the
        first ``limit`` opening at or after it (and at or before ``end_time``); ``end_time``
        alone -> the last ``limit`` opening at or before it. ``now_ms`` caps ``end_time``.
        Raises ValueError("interval") / ValueError("timeZone") for -1120 / -1130.
        """
        kl.check_interval(interval)
        offset = kl.parse_time_zone(time_zone)
        s = self._tapes.get(symbol)
        limit = _clamp(limit)
        if s is None or limit == 0:
            return []
        if now_ms is not None and (end_time is None or end_time > now_ms):
            end_time = now_ms
        bp, qp = s.base_prec, s.quote_prec
        rows: list[list[Any]] = []
        for o, nxt, level in s.kline_opens(interval, offset, start_time, end_time, limit):
            acc = s.range(o, nxt, level)
            rows.append(
                [
                    o,
                    fmt(acc.o, qp),
                    fmt(acc.h, qp),
                    fmt(acc.l, qp),
                    fmt(acc.c, qp),
                    fmt(acc.v, bp),
                    nxt - 1,
                    fmt(acc.qv, qp),
                    acc.n,
                    fmt(acc.tbv, bp),
                    fmt(acc.tbq, qp),
                    "0",
                ]
            )
        return rows

    ui_klines_json = klines_json

    def kline_stream_json(
        self, symbol: str, interval: str, at_ms: int, now_ms: int, time_zone: str = "0"
    ) -> dict[str, Any]:
        """The ``k`` object of an ``@kline_<interval>`` event for the kline containing ``at_ms``.

        ``x`` (closed) is true once ``now_ms`` is past its close time. An interval without
        trades repeats the previous close as o/h/l/c with zero volumes and f = L = -1.
        """
        kl.check_interval(interval)
        offset = kl.parse_time_zone(time_zone)
        o = kl.kline_open(interval, at_ms, offset)
        nxt = kl.kline_next(interval, o, offset)
        s = self._tapes.get(symbol)
        bp, qp = (s.base_prec, s.quote_prec) if s is not None else (8, 8)
        acc = s.range(o, nxt, kl.scan_level(interval, offset)) if s is not None else Acc()
        if acc.n == 0:
            acc.o = acc.h = acc.l = acc.c = s.close_before(o) if s is not None else 0
        return {
            "t": o,
            "T": nxt - 1,
            "s": symbol,
            "i": interval,
            "f": acc.fid,
            "L": acc.lid,
            "o": fmt(acc.o, qp),
            "c": fmt(acc.c, qp),
            "h": fmt(acc.h, qp),
            "l": fmt(acc.l, qp),
            "v": fmt(acc.v, bp),
            "n": acc.n,
            "x": now_ms >= nxt,
            "q": fmt(acc.qv, qp),
            "V": fmt(acc.tbv, bp),
            "Q": fmt(acc.tbq, qp),
            "B": "0",
        }

    # ------------------------------------------------------------------ JSON: prices and tickers
    def avg_price_json(self, symbol: str, now_ms: int, mins: int = 5) -> dict[str, Any]:
        """``/api/v3/avgPrice``; closeTime is the last trade's time (``now_ms`` before any trade)."""
        s = self._tapes.get(symbol)
        if s is None or s.last is None:
            return {"mins": mins, "price": fmt(0, s.quote_prec if s else 8), "closeTime": now_ms}
        return {"mins": mins, "price": fmt(s.avg_price(mins, now_ms), s.quote_prec), "closeTime": s.last.time}

    def price_json(self, symbol: str) -> dict[str, Any]:
        """``/api/v3/ticker/price`` ("0.00000000" before the first trade)."""
        s = self._tapes.get(symbol)
        qp = s.quote_prec if s is not None else 8
        return {"symbol": symbol, "price": fmt(self.last_price(symbol) or 0, qp)}

    def ticker_24hr_json(
        self, symbol: str, now_ms: int, best: tuple[int, int, int, int] = (0, 0, 0, 0), full: bool = True
    ) -> dict[str, Any]:
        """``/api/v3/ticker/24hr`` FULL or MINI over ``[now - 24h, now]``; ``best`` is the book top
        (bidPrice, bidQty, askPrice, askQty). No trade in the window: every statistic is zero
        (prevClosePrice and lastQty too) and firstId/lastId are -1."""
        open_time = now_ms - kl.DAY
        s = self._tapes.get(symbol)
        acc = s.range(open_time, now_ms + 1) if s is not None else Acc()
        bp, qp = (s.base_prec, s.quote_prec) if s is not None else (8, 8)
        if not full:
            return tk.mini_json(symbol, acc, bp, qp, open_time, now_ms)
        prev = last_qty = 0
        if s is not None and acc.n:
            prev = s.close_before(open_time)
            last_qty = s.qty_of(acc.lid)
        return tk.ticker_24hr_full_json(symbol, acc, bp, qp, open_time, now_ms, prev, last_qty, best)

    def rolling_ticker_json(
        self, symbol: str, now_ms: int, window: str = "1d", full: bool = True
    ) -> dict[str, Any]:
        """``/api/v3/ticker`` rolling window (ValueError("windowSize") if bad): openTime is
        minute-aligned (``floor(now, 1m) - window``), closeTime is ``now_ms``."""
        width = kl.parse_window(window)
        open_time = now_ms - now_ms % kl.MINUTE - width
        return self._stats(symbol, open_time, now_ms, now_ms, full)

    def trading_day_ticker_json(
        self, symbol: str, now_ms: int, time_zone: str = "0", full: bool = True
    ) -> dict[str, Any]:
        """``/api/v3/ticker/tradingDay``: the current day in ``time_zone`` so far; closeTime is
        the day's last millisecond."""
        open_time = kl.kline_open("1d", now_ms, kl.parse_time_zone(time_zone))
        return self._stats(symbol, open_time, now_ms, open_time + kl.DAY - 1, full)

    def _stats(self, symbol: str, open_time: int, now_ms: int, close_time: int, full: bool) -> dict[str, Any]:
        s = self._tapes.get(symbol)
        acc = s.range(open_time, now_ms + 1) if s is not None else Acc()
        bp, qp = (s.base_prec, s.quote_prec) if s is not None else (8, 8)
        build = tk.full_json if full else tk.mini_json
        return build(symbol, acc, bp, qp, open_time, close_time)
