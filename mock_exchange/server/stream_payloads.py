"""Market-stream payloads as the venue sends them, plus the microsecond variant of each.

Pure builders (no I/O, no state): the hub calls one per stream event and serialises the result
once for every subscriber. Field order and JSON types follow the venue: decimals as strings
padded like the REST answers, ids and times as integers, flags as booleans. Statistics come
from ``engine.market_data`` (the same numbers the REST endpoints answer with).
"""

from __future__ import annotations

from typing import Any

from mock_exchange.engine.types import TradeEvent
from mock_exchange.engine.units import SCALE, fmt

Levels = list[tuple[int, int]] | tuple[tuple[int, int], ...]

# Time fields (ms, or µs with timeUnit=MICROSECOND) per event type ("e"); the kline's own
# times sit in its nested "k" object.
_TIME_KEYS: dict[str, tuple[str, ...]] = {
    "trade": ("E", "T"),
    "aggTrade": ("E", "T"),
    "depthUpdate": ("E",),
    "kline": ("E",),
    "24hrTicker": ("E", "O", "C"),
    "24hrMiniTicker": ("E",),
    "1hTicker": ("E", "O", "C"),
    "4hTicker": ("E", "O", "C"),
    "1dTicker": ("E", "O", "C"),
    "avgPrice": ("E", "T"),
    "serverShutdown": ("E",),
    "executionReport": ("E", "T", "O", "W"),
    "outboundAccountPosition": ("E", "u"),
    "balanceUpdate": ("E", "T"),
    "externalLockUpdate": ("E", "T"),
    "listStatus": ("E", "T"),
    "listenKeyExpired": ("E",),
}


_F8_CACHE: dict[int, str] = {}
_F8_CACHE_MAX = 200_000


def f8(units: int) -> str:
    """``units.fmt(units)`` (8 decimals), memoised: the hot streams format the same prices and
    sizes over and over, and a dict hit is far cheaper than the arithmetic."""
    text = _F8_CACHE.get(units)
    if text is None:
        if units < 0:
            return fmt(units)
        text = f"{units // SCALE}.{units % SCALE:08d}"
        if len(_F8_CACHE) >= _F8_CACHE_MAX:
            _F8_CACHE.clear()
        _F8_CACHE[units] = text
    return text


def _fmt(units: int, decimals: int) -> str:
    return f8(units) if decimals == 8 else fmt(units, decimals)


def trade(ev: TradeEvent, now: int, base_prec: int, quote_prec: int) -> dict[str, Any]:
    """``<s>@trade`` (no buyer/seller order ids since 2024-06-18)."""
    return {
        "e": "trade",
        "E": now,
        "s": ev.symbol,
        "t": ev.trade_id,
        "p": _fmt(ev.price, quote_prec),
        "q": _fmt(ev.qty, base_prec),
        "T": ev.time,
        "m": ev.is_buyer_maker,
        "M": True,
    }


def agg_trade(symbol: str, now: int, row: dict[str, Any]) -> dict[str, Any]:
    """``<s>@aggTrade`` from one ``MarketData.agg_trades_json`` row (a, p, q, f, l, T, m, M)."""
    out: dict[str, Any] = {"e": "aggTrade", "E": now, "s": symbol}
    out.update(row)
    return out


def _levels(levels: Levels) -> list[list[str]]:
    return [[f8(p), f8(q)] for p, q in levels]


def depth_update(symbol: str, now: int, first_id: int, last_id: int, bids: Levels, asks: Levels) -> dict[str, Any]:
    """``<s>@depth[@100ms]``: absolute quantities, "0" removes the level."""
    return {
        "e": "depthUpdate",
        "E": now,
        "s": symbol,
        "U": first_id,
        "u": last_id,
        "b": _levels(bids),
        "a": _levels(asks),
    }


def partial_depth(last_update_id: int, bids: Levels, asks: Levels) -> dict[str, Any]:
    """``<s>@depth<N>[@100ms]``: the top N levels, without e/E/s (spot)."""
    return {"lastUpdateId": last_update_id, "bids": _levels(bids), "asks": _levels(asks)}


def book_ticker(update_id: int, symbol: str, best: tuple[int, int, int, int]) -> dict[str, Any]:
    """``<s>@bookTicker``: no e/E on spot; ``u`` is the book's update id of this change."""
    bp, bq, ap, aq = best
    return {"u": update_id, "s": symbol, "b": f8(bp), "B": f8(bq), "a": f8(ap), "A": f8(aq)}


def kline(symbol: str, now: int, k: dict[str, Any]) -> dict[str, Any]:
    """``<s>@kline_<i>`` around a ``MarketData.kline_stream_json`` object."""
    return {"e": "kline", "E": now, "s": symbol, "k": k}


def ticker(now: int, t: dict[str, Any]) -> dict[str, Any]:
    """``<s>@ticker`` from a FULL ``ticker_24hr_json`` answer."""
    return {
        "e": "24hrTicker",
        "E": now,
        "s": t["symbol"],
        "p": t["priceChange"],
        "P": t["priceChangePercent"],
        "w": t["weightedAvgPrice"],
        "x": t["prevClosePrice"],
        "c": t["lastPrice"],
        "Q": t["lastQty"],
        "b": t["bidPrice"],
        "B": t["bidQty"],
        "a": t["askPrice"],
        "A": t["askQty"],
        "o": t["openPrice"],
        "h": t["highPrice"],
        "l": t["lowPrice"],
        "v": t["volume"],
        "q": t["quoteVolume"],
        "O": t["openTime"],
        "C": t["closeTime"],
        "F": t["firstId"],
        "L": t["lastId"],
        "n": t["count"],
    }


def mini_ticker(now: int, t: dict[str, Any]) -> dict[str, Any]:
    """``<s>@miniTicker`` (and the items of ``!miniTicker@arr``) from a MINI ticker answer."""
    return {
        "e": "24hrMiniTicker",
        "E": now,
        "s": t["symbol"],
        "c": t["lastPrice"],
        "o": t["openPrice"],
        "h": t["highPrice"],
        "l": t["lowPrice"],
        "v": t["volume"],
        "q": t["quoteVolume"],
    }


def rolling_ticker(window: str, now: int, t: dict[str, Any]) -> dict[str, Any]:
    """``<s>@ticker_<1h|4h|1d>`` from a FULL ``rolling_ticker_json`` answer."""
    return {
        "e": f"{window}Ticker",
        "E": now,
        "s": t["symbol"],
        "p": t["priceChange"],
        "P": t["priceChangePercent"],
        "o": t["openPrice"],
        "h": t["highPrice"],
        "l": t["lowPrice"],
        "c": t["lastPrice"],
        "w": t["weightedAvgPrice"],
        "v": t["volume"],
        "q": t["quoteVolume"],
        "O": t["openTime"],
        "C": t["closeTime"],
        "F": t["firstId"],
        "L": t["lastId"],
        "n": t["count"],
    }


def avg_price(symbol: str, now: int, avg: dict[str, Any]) -> dict[str, Any]:
    """``<s>@avgPrice`` from an ``avg_price_json`` answer (mins, price, closeTime)."""
    return {"e": "avgPrice", "E": now, "s": symbol, "i": f"{avg['mins']}m", "w": avg["price"], "T": avg["closeTime"]}


def server_shutdown(now: int) -> dict[str, Any]:
    return {"e": "serverShutdown", "E": now}


def stats_key(payload: dict[str, Any]) -> tuple[Any, ...]:
    """What makes a ticker "changed" for the all-market arrays: everything but the times."""
    return tuple(v for k, v in payload.items() if k not in ("E", "O", "C"))


def to_micro(payload: Any) -> Any:
    """The payload with its times in microseconds (``timeUnit=MICROSECOND``); the same object
    when it carries no time (partial depth, bookTicker), so callers can reuse its bytes."""
    if isinstance(payload, list):
        return [to_micro(item) for item in payload]
    if not isinstance(payload, dict):
        return payload
    keys = _TIME_KEYS.get(payload.get("e", ""))
    if keys is None:
        return payload
    out = dict(payload)
    for key in keys:
        v = out.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            out[key] = v * 1000
    k = out.get("k")
    if isinstance(k, dict):
        k2 = dict(k)
        k2["t"] = k["t"] * 1000
        k2["T"] = k["T"] * 1000 + 999
        out["k"] = k2
    return out
