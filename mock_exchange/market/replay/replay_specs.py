"""Symbol specs for replayed symbols the server's config does not know.

Two sources, in this order:

1. an exchangeInfo response inside the replay files: a capture's ``rest`` frame for
   ``/api/v3/exchangeInfo``, or a cryptofeed ``<url> -> <t>: <body>`` line such as the one
   in ``BINANCE.0`` (pass that file with the others). Only the first ``HEAD_LINES`` lines of
   each file are searched, so a recording stays cheap to open;
2. otherwise filters inferred from the recorded numbers: ``tickSize`` = 10^-d for the most
   decimals seen in a price, ``stepSize`` = ``minQty`` = 10^-d for the most decimals seen in a
   quantity (recorded level sizes and trades), ``maxPrice``/``maxQty`` ten times the largest
   seen (at least the config defaults), ``minNotional`` 5 for a dollar quote, 0.0001 for BTC,
   0.001 for ETH/BNB, else 0; base and quote split at a known quote asset suffix (USDT, FDUSD,
   BTC ...; else the last 3 letters). Everything else is the current venue default filter set
   (``symbol_loader.load_symbols_config``).
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from mock_exchange.engine.symbol_loader import load_exchange_info, load_symbols_config
from mock_exchange.engine.symbols import SymbolSpec
from mock_exchange.market.readers.records import ReplayRecord

HEAD_LINES = 50
QUOTES = (
    "FDUSD", "USDT", "USDC", "TUSD", "BUSD", "USDP", "DAI", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL", "GBP",
    "AUD", "JPY", "RUB", "UAH", "ZAR", "IDR", "ARS", "MXN", "PLN", "RON", "XRP", "TRX", "DOGE", "USD",
)  # fmt: skip
_DOLLARS = frozenset(("FDUSD", "USDT", "USDC", "TUSD", "BUSD", "USDP", "DAI", "USD"))
_MIN_NOTIONAL = {"BTC": "0.0001", "ETH": "0.001", "BNB": "0.001"}


def split_symbol(symbol: str) -> tuple[str, str]:
    """(base, quote) by the longest known quote suffix; else the last three letters are the quote."""
    for quote in sorted(QUOTES, key=len, reverse=True):
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return symbol[:-3], symbol[-3:]


def _decimals(text: str) -> int:
    whole, dot, frac = text.partition(".")
    return len(frac.rstrip("0")) if dot else 0


class NumberStats:
    """The decimals and sizes of one symbol's recorded prices and quantities."""

    __slots__ = ("price_dp", "qty_dp", "max_price", "max_qty", "seen")

    def __init__(self) -> None:
        self.price_dp = 0
        self.qty_dp = 0
        self.max_price = 0.0
        self.max_qty = 0.0
        self.seen = 0

    def add(self, price: str, qty: str) -> None:
        self.seen += 1
        dp = _decimals(price)
        if dp > self.price_dp:
            self.price_dp = dp
        dq = _decimals(qty)
        if dq > self.qty_dp:
            self.qty_dp = dq
        p, q = float(price), float(qty)
        if p > self.max_price:
            self.max_price = p
        if q > self.max_qty:
            self.max_qty = q

    def observe(self, rec: ReplayRecord) -> None:
        """Take the numbers of one record (trades, depth rows, bookTickers)."""
        p = rec.payload
        kind = rec.kind
        if kind == "trade" or kind == "agg_trade":
            self.add(str(p["p"]), str(p["q"]))
        elif kind == "book_ticker":
            self.add(str(p["b"]), str(p["B"]))
            self.add(str(p["a"]), str(p["A"]))
        elif kind == "depth_diff" or kind == "depth_snapshot":
            for key in ("b", "a", "bids", "asks"):
                for row in p.get(key, ())[:50]:
                    if float(row[1]):
                        self.add(str(row[0]), str(row[1]))


def _grid(dp: int) -> str:
    return "1" if dp <= 0 else "0." + "0" * (min(dp, 8) - 1) + "1"


def _amount(value: float, floor: int) -> str:
    return str(max(floor, int(value * 10) + 1))


def inferred_spec(symbol: str, stats: NumberStats | None) -> SymbolSpec:
    """A spec with filters inferred from the recorded numbers (see the module docstring)."""
    base, quote = split_symbol(symbol)
    s = stats or NumberStats()
    step = _grid(s.qty_dp if s.seen else 8)
    entry: dict[str, Any] = {
        "symbol": symbol, "base": base, "quote": quote, "tickSize": _grid(s.price_dp if s.seen else 8),
        "stepSize": step, "minQty": step, "maxPrice": _amount(s.max_price, 1_000_000),
        "maxQty": _amount(s.max_qty, 9000), "marketMaxQty": _amount(s.max_qty, 9000),
        "minNotional": "5" if quote in _DOLLARS else _MIN_NOTIONAL.get(quote, "0"),
    }  # fmt: skip
    return load_symbols_config({"symbols": [entry]})[0]


def _head_lines(path: Path) -> list[bytes]:
    try:
        with path.open("rb") as fh:
            magic = fh.read(2)
        opener: Any = gzip.open if magic == b"\x1f\x8b" else open
        out: list[bytes] = []
        with opener(path, "rb") as fh:
            for line in fh:
                out.append(line)
                if len(out) >= HEAD_LINES:
                    break
        return out
    except (OSError, EOFError):
        return []


def _exchange_info_of(line: bytes) -> dict[str, Any] | None:
    text = line.decode("utf-8", "replace").strip()
    if text.startswith("{") and '"exchangeInfo' in text[:400]:  # capture rest frame
        try:
            frame = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        url = frame.get("url") if isinstance(frame, dict) else None
        if frame.get("src") == "rest" and isinstance(url, str) and urlsplit(url).path.endswith("/exchangeInfo"):
            data = frame.get("data")
            return data if isinstance(data, dict) else None
        return None
    head = text.split(": ", 1)[0]
    if " -> " in head:  # cryptofeed http line
        url, _, rest = text.partition(" -> ")
        if urlsplit(url).path.endswith("/exchangeInfo"):
            try:
                data = orjson.loads(rest.partition(": ")[2])
            except orjson.JSONDecodeError:
                return None
            return data if isinstance(data, dict) else None
    return None


def recorded_specs(paths: Sequence[Path]) -> dict[str, SymbolSpec]:
    """Specs from an exchangeInfo response found near the start of any of ``paths``."""
    out: dict[str, SymbolSpec] = {}
    for path in paths:
        for line in _head_lines(path):
            info = _exchange_info_of(line)
            if info is None or not isinstance(info.get("symbols"), list):
                continue
            try:
                specs = load_exchange_info(info)
            except ValueError:
                continue
            for spec in specs:
                out.setdefault(spec.symbol, spec)
    return out
