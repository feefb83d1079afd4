"""Market stream names (``btcusdt@depth@100ms``, ``!miniTicker@arr`` ...) parsed into specs.

Kept apart from the connection code because the grammar decides two user-visible things: which
SUBSCRIBE parameters the venue rejects ("Invalid request: invalid stream") and which it accepts
silently. A well-formed name whose symbol is unknown (or written in upper case, while the venue
only knows lowercase stream names) is accepted and simply never delivers anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mock_exchange.engine.klines import INTERVALS

# Stream kinds.
TRADE = "trade"
AGG_TRADE = "aggTrade"
BOOK_TICKER = "bookTicker"
DIFF_DEPTH = "depth"
PARTIAL_DEPTH = "partialDepth"
KLINE = "kline"
TICKER = "ticker"
MINI_TICKER = "miniTicker"
ROLLING_TICKER = "rollingTicker"
AVG_PRICE = "avgPrice"
BLOCK_TRADE = "blockTrade"
ALL_MINI_TICKERS = "allMiniTickers"
ALL_ROLLING_TICKERS = "allRollingTickers"

EVENT_DRIVEN = frozenset({TRADE, AGG_TRADE, BOOK_TICKER, DIFF_DEPTH})
ROLLING_WINDOWS = ("1h", "4h", "1d")
PARTIAL_LEVELS = (5, 10, 20)
KLINE_TIME_ZONES = ("+08:00",)

_SIMPLE = {
    "trade": TRADE,
    "aggTrade": AGG_TRADE,
    "bookTicker": BOOK_TICKER,
    "ticker": TICKER,
    "miniTicker": MINI_TICKER,
    "avgPrice": AVG_PRICE,
    "blockTrade": BLOCK_TRADE,
}
_SPEEDS = {"": 1000, "@100ms": 100, "@1000ms": 1000}
_SYMBOL = re.compile(r"[A-Za-z0-9]+")
_LOWER_SYMBOL = re.compile(r"[a-z0-9]+")
_PARTIAL = re.compile(r"depth(5|10|20)(@100ms|@1000ms)?")
_DIFF = re.compile(r"depth(@100ms|@1000ms)?")
_KLINE = re.compile(r"kline_([0-9]+[smhdwM])(?:@([+-][0-9]{2}:[0-9]{2}))?")
_ROLLING = re.compile(r"ticker_(1h|4h|1d)")
_ALL_ROLLING = re.compile(r"!ticker_(1h|4h|1d)@arr")


@dataclass(slots=True, frozen=True)
class StreamSpec:
    """One parsed stream name.

    ``symbol`` is the venue symbol (upper case) the stream follows, or "" for an all-market
    stream and for a name that can never deliver (a symbol written in upper case).
    ``speed_ms`` is the push cadence of the periodic kinds (diff and partial depth).
    """

    name: str
    kind: str
    symbol: str = ""
    speed_ms: int = 0
    levels: int = 0
    interval: str = ""
    time_zone: str = "0"
    window: str = ""

    @property
    def silent(self) -> bool:
        """True when the name is well formed but can never match a symbol's data."""
        return self.symbol == "" and self.kind not in (ALL_MINI_TICKERS, ALL_ROLLING_TICKERS)


def parse(name: str) -> StreamSpec | None:
    """The spec of a well-formed stream name, or None when the venue would reject it."""
    if not isinstance(name, str) or not name:
        return None
    if name[0] == "!":
        if name == "!miniTicker@arr":
            return StreamSpec(name, ALL_MINI_TICKERS)
        m = _ALL_ROLLING.fullmatch(name)
        if m is not None:
            return StreamSpec(name, ALL_ROLLING_TICKERS, window=m.group(1))
        return None
    sym, sep, rest = name.partition("@")
    if not sep or _SYMBOL.fullmatch(sym) is None:
        return None
    # Stream names are lowercase on the venue: an upper-case symbol is accepted but silent.
    symbol = sym.upper() if _LOWER_SYMBOL.fullmatch(sym) is not None else ""
    kind = _SIMPLE.get(rest)
    if kind is not None:
        return StreamSpec(name, kind, symbol)
    m = _DIFF.fullmatch(rest)
    if m is not None:
        return StreamSpec(name, DIFF_DEPTH, symbol, speed_ms=_SPEEDS[m.group(1) or ""])
    m = _PARTIAL.fullmatch(rest)
    if m is not None:
        return StreamSpec(name, PARTIAL_DEPTH, symbol, speed_ms=_SPEEDS[m.group(2) or ""], levels=int(m.group(1)))
    m = _KLINE.fullmatch(rest)
    if m is not None:
        interval, tz = m.group(1), m.group(2)
        if interval not in INTERVALS or (tz is not None and tz not in KLINE_TIME_ZONES):
            return None
        return StreamSpec(name, KLINE, symbol, interval=interval, time_zone=tz or "0")
    m = _ROLLING.fullmatch(rest)
    if m is not None:
        return StreamSpec(name, ROLLING_TICKER, symbol, window=m.group(1))
    return None


def split_path(tail: str) -> list[str]:
    """Stream names of a ``/ws/<s1>/<s2>`` path tail or a ``streams=a/b/c`` value (empties dropped)."""
    return [part for part in tail.split("/") if part]
