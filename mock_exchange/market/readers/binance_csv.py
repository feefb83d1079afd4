"""Binance public-data CSVs (data.binance.vision): trades, aggTrades, klines, bookTicker.

Column layouts (binance/binance-public-data README; newer files and futures files add a header
row with these names, older spot files have none):

* trades:     id, price, qty, quote_qty, time, is_buyer_maker[, is_best_match]
* aggTrades:  agg_trade_id, price, quantity, first_trade_id, last_trade_id, transact_time,
              is_buyer_maker[, is_best_match]
* klines:     open_time, open, high, low, close, volume, close_time, quote_volume, count,
              taker_buy_volume, taker_buy_quote_volume, ignore
* bookTicker: update_id, best_bid_price, best_bid_qty, best_ask_price, best_ask_qty,
              transaction_time, event_time

Spot files from 2025-01-01 on carry µs timestamps; every timestamp is converted to ms by
magnitude. Each row becomes the stream payload the venue would have sent for it (trade,
aggTrade, a closed kline, a spot-shaped bookTicker), with decimals in the venue's 8-decimal
form. What the CSV lacks is filled in and documented: ``E`` = the trade/close/transaction time,
``M`` = true when there is no is_best_match column, kline ``f``/``L`` = -1 (first/last trade ids
are not in the file), ``B`` = "0". These files have no local receive time (``local_ns`` None).
The kind and symbol come from the file name (``BTCUSDT-aggTrades-2024-01-01.csv``,
``BTCUSDT-1m-2024-01.zip``) unless given; ``.zip`` archives are read directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from mock_exchange.market.readers.base import BadLine, PathArg, ReplayReader
from mock_exchange.market.readers.csvutil import epoch_ms, is_header, to_bool, to_int, venue_decimal
from mock_exchange.market.readers.records import RecordKind, ReplayFormatError, ReplayRecord
from mock_exchange.market.readers.sequence import DepthSequenceChecker

BinanceCsvKind = Literal["trades", "aggTrades", "klines", "bookTicker"]

# field -> accepted header names (lower case); the tuple order is the headerless column order
COLUMNS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "trades": (
        ("id", ("id", "trade_id")),
        ("price", ("price",)),
        ("qty", ("qty", "quantity")),
        ("quote_qty", ("quote_qty", "quoteqty")),
        ("time", ("time", "transact_time")),
        ("is_buyer_maker", ("is_buyer_maker", "isbuyermaker")),
        ("is_best_match", ("is_best_match", "isbestmatch")),
    ),
    "aggTrades": (
        ("id", ("agg_trade_id", "a")),
        ("price", ("price",)),
        ("qty", ("quantity", "qty")),
        ("first", ("first_trade_id",)),
        ("last", ("last_trade_id",)),
        ("time", ("transact_time", "time", "timestamp")),
        ("is_buyer_maker", ("is_buyer_maker", "was_the_buyer_the_maker")),
        ("is_best_match", ("is_best_match",)),
    ),
    "klines": (
        ("open_time", ("open_time",)),
        ("open", ("open",)),
        ("high", ("high",)),
        ("low", ("low",)),
        ("close", ("close",)),
        ("volume", ("volume",)),
        ("close_time", ("close_time",)),
        ("quote_volume", ("quote_volume", "quote_asset_volume")),
        ("count", ("count", "number_of_trades", "trades")),
        ("taker_buy_volume", ("taker_buy_volume", "taker_buy_base_asset_volume")),
        ("taker_buy_quote_volume", ("taker_buy_quote_volume", "taker_buy_quote_asset_volume")),
        ("ignore", ("ignore",)),
    ),
    "bookTicker": (
        ("update_id", ("update_id",)),
        ("bid", ("best_bid_price",)),
        ("bid_qty", ("best_bid_qty",)),
        ("ask", ("best_ask_price",)),
        ("ask_qty", ("best_ask_qty",)),
        ("time", ("transaction_time",)),
        ("event_time", ("event_time",)),
    ),
}
OPTIONAL = {"is_best_match", "ignore", "quote_qty", "event_time"}

_NAMED_KINDS: dict[str, BinanceCsvKind] = {"trades": "trades", "aggTrades": "aggTrades", "bookTicker": "bookTicker"}
_INTERVAL = re.compile(r"^(\d+)(s|m|h|d|w|mo|M)$")
_INTERVAL_MS = {
    1_000: "1s", 60_000: "1m", 180_000: "3m", 300_000: "5m", 900_000: "15m", 1_800_000: "30m",
    3_600_000: "1h", 7_200_000: "2h", 14_400_000: "4h", 21_600_000: "6h", 28_800_000: "8h",
    43_200_000: "12h", 86_400_000: "1d", 259_200_000: "3d", 604_800_000: "1w",
}


def parse_binance_name(path: PathArg) -> tuple[str | None, BinanceCsvKind | None, str | None]:
    """(symbol, kind, kline interval) from a data.binance.vision file name, None where unknown."""
    stem = Path(path).name.split(".", 1)[0]
    parts = stem.split("-")
    if len(parts) < 2:
        return None, None, None
    symbol = parts[0].upper() if parts[0].isalnum() else None
    tag = parts[1]
    named = _NAMED_KINDS.get(tag)
    if named is not None:
        return symbol, named, None
    if _INTERVAL.match(tag):
        return symbol, "klines", "1M" if tag == "1mo" else tag
    return symbol, None, None


class BinanceCsvReader(ReplayReader):
    """Records from one Binance public-data CSV (plain, gzip or the published .zip)."""

    def __init__(
        self,
        path: PathArg,
        *,
        kind: BinanceCsvKind | None = None,
        symbol: str | None = None,
        interval: str | None = None,
        strict: bool = True,
        checker: DepthSequenceChecker | None = None,
        max_errors: int = 1000,
    ) -> None:
        super().__init__(strict=strict, checker=checker, max_errors=max_errors)
        self.path = Path(path)
        name_symbol, name_kind, name_interval = parse_binance_name(self.path)
        found_kind = kind or name_kind
        found_symbol = symbol or name_symbol
        if found_kind is None:
            raise ReplayFormatError(str(path), 0, "cannot tell the file kind from its name: pass kind=")
        if found_kind not in COLUMNS:
            raise ReplayFormatError(str(path), 0, f"unknown kind {found_kind!r}: one of {sorted(COLUMNS)}")
        if not found_symbol:
            raise ReplayFormatError(str(path), 0, "cannot tell the symbol from the file name: pass symbol=")
        self.kind: BinanceCsvKind = found_kind
        self.symbol = found_symbol.upper()
        self.interval = interval or name_interval
        self.has_header = False

    def _columns(self, header: list[str] | None, lineno: int) -> dict[str, int]:
        spec = COLUMNS[self.kind]
        if header is None:
            return {key: i for i, (key, _) in enumerate(spec)}
        names = {h.strip().lower().replace(" ", "_"): i for i, h in enumerate(header)}
        cols: dict[str, int] = {}
        for key, aliases in spec:
            for alias in aliases:
                if alias in names:
                    cols[key] = names[alias]
                    break
            else:
                if key not in OPTIONAL:
                    raise ReplayFormatError(
                        str(self.path), lineno, f"{self.kind} header has no {aliases[0]!r} column (got {','.join(header)})"
                    )
        return cols

    def _records(self) -> Iterator[ReplayRecord]:
        name = str(self.path)
        build = self._builder()
        cols: dict[str, int] | None = None
        width = 0
        for lineno, line in self._lines(self.path):
            if not line.strip():
                continue
            fields = line.decode("utf-8", "replace").split(",")
            if cols is None:
                self.has_header = is_header(fields)
                cols = self._columns(fields if self.has_header else None, lineno)
                width = max(cols.values()) + 1
                if self.has_header:
                    continue
            if len(fields) < width:
                self._bad(name, lineno, f"{self.kind} row has {len(fields)} columns, expected {width}")
                continue
            try:
                yield build(fields, cols, f"{name}:{lineno}")
            except BadLine as exc:
                self._bad(name, lineno, str(exc), exc)

    def _builder(self) -> Callable[[list[str], dict[str, int], str], ReplayRecord]:
        return {
            "trades": self._trade,
            "aggTrades": self._agg_trade,
            "klines": self._kline,
            "bookTicker": self._book_ticker,
        }[self.kind]

    def _record(
        self, kind: RecordKind, venue_ms: int, payload: dict[str, Any], source: str, stream: str,
        update_id: int | None = None,
    ) -> ReplayRecord:
        return ReplayRecord(
            None, venue_ms, self.symbol, kind, payload, update_id, update_id, source,
            channel=f"{self.symbol.lower()}@{stream}",
        )

    def _trade(self, f: list[str], c: dict[str, int], source: str) -> ReplayRecord:
        t = epoch_ms(to_int(f[c["time"]], "time"))
        best = to_bool(f[c["is_best_match"]], "is_best_match") if "is_best_match" in c else True
        payload = {
            "e": "trade", "E": t, "s": self.symbol, "t": to_int(f[c["id"]], "trade id"),
            "p": venue_decimal(f[c["price"]], "price"), "q": venue_decimal(f[c["qty"]], "qty"),
            "T": t, "m": to_bool(f[c["is_buyer_maker"]], "is_buyer_maker"), "M": best,
        }
        return self._record("trade", t, payload, source, "trade")

    def _agg_trade(self, f: list[str], c: dict[str, int], source: str) -> ReplayRecord:
        t = epoch_ms(to_int(f[c["time"]], "transact_time"))
        best = to_bool(f[c["is_best_match"]], "is_best_match") if "is_best_match" in c else True
        payload = {
            "e": "aggTrade", "E": t, "s": self.symbol, "a": to_int(f[c["id"]], "agg_trade_id"),
            "p": venue_decimal(f[c["price"]], "price"), "q": venue_decimal(f[c["qty"]], "quantity"),
            "f": to_int(f[c["first"]], "first_trade_id"), "l": to_int(f[c["last"]], "last_trade_id"),
            "T": t, "m": to_bool(f[c["is_buyer_maker"]], "is_buyer_maker"), "M": best,
        }
        return self._record("agg_trade", t, payload, source, "aggTrade")

    def _kline(self, f: list[str], c: dict[str, int], source: str) -> ReplayRecord:
        open_ms = epoch_ms(to_int(f[c["open_time"]], "open_time"))
        close_ms = epoch_ms(to_int(f[c["close_time"]], "close_time"))
        interval = self.interval or _INTERVAL_MS.get(close_ms - open_ms + 1)
        if interval is None:
            raise BadLine(f"kline interval unknown (open {open_ms}, close {close_ms}): pass interval=")
        k = {
            "t": open_ms, "T": close_ms, "s": self.symbol, "i": interval, "f": -1, "L": -1,
            "o": venue_decimal(f[c["open"]], "open"), "c": venue_decimal(f[c["close"]], "close"),
            "h": venue_decimal(f[c["high"]], "high"), "l": venue_decimal(f[c["low"]], "low"),
            "v": venue_decimal(f[c["volume"]], "volume"), "n": to_int(f[c["count"]], "count"),
            "x": True, "q": venue_decimal(f[c["quote_volume"]], "quote_volume"),
            "V": venue_decimal(f[c["taker_buy_volume"]], "taker_buy_volume"),
            "Q": venue_decimal(f[c["taker_buy_quote_volume"]], "taker_buy_quote_volume"), "B": "0",
        }
        payload = {"e": "kline", "E": close_ms, "s": self.symbol, "k": k}
        return self._record("kline", close_ms, payload, source, f"kline_{interval}")

    def _book_ticker(self, f: list[str], c: dict[str, int], source: str) -> ReplayRecord:
        uid = to_int(f[c["update_id"]], "update_id")
        t = epoch_ms(to_int(f[c["time"]], "transaction_time"))
        payload = {
            "u": uid, "s": self.symbol,
            "b": venue_decimal(f[c["bid"]], "best_bid_price"), "B": venue_decimal(f[c["bid_qty"]], "best_bid_qty"),
            "a": venue_decimal(f[c["ask"]], "best_ask_price"), "A": venue_decimal(f[c["ask_qty"]], "best_ask_qty"),
        }
        return self._record("book_ticker", t, payload, source, "bookTicker", uid)
