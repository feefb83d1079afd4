"""tardis.dev downloadable CSVs: incremental_book_L2, trades, book_snapshot_25 (or _5), quotes.

Layouts (docs.tardis.dev "Data Types"; every file has a header row; timestamps are µs since
epoch, ``timestamp`` = exchange time, ``local_timestamp`` = tardis' receive time):

* incremental_book_L2: exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
* trades:              exchange,symbol,timestamp,local_timestamp,id,side,price,amount
* book_snapshot_25:    exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,
                       bids[0].price,bids[0].amount, ... asks[24].*, bids[24].*
* quotes:              exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount

The file type is recognised from the header. incremental_book_L2 rows are grouped into venue
messages: a run of ``is_snapshot=true`` rows becomes one depth snapshot (zero amounts dropped,
bids best first), consecutive ``false`` rows with the same ``local_timestamp`` become one
depthUpdate. **tardis keeps no venue update ids**, so the reader synthesizes contiguous ones per
symbol (a snapshot takes the next id as its lastUpdateId, each update the next as U = u):
records say so with ``synthetic_ids=True``, and a sequence gap can never be seen in such a
file (only a re-snapshot, which tardis writes after a reconnect, re-anchors the book). quotes
and book snapshots get synthetic ids the same way (bookTicker ``u``, partial-depth
``lastUpdateId``). Trades: ``m`` (buyer is maker) = the aggressor side is ``sell``; tardis'
``unknown`` side gives ``m`` false and is counted in ``unknown_sides``. Decimals are rendered
the venue's 8-decimal way.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from mock_exchange.market.readers.base import BadLine, PathArg, ReplayReader
from mock_exchange.market.readers.csvutil import epoch_ms, to_int, venue_decimal
from mock_exchange.market.readers.records import ReplayFormatError, ReplayRecord
from mock_exchange.market.readers.sequence import DepthSequenceChecker

_ZERO = "0.00000000"
L2_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
TRADES_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
QUOTES_HEADER = "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"


def tardis_kind(header: str) -> str | None:
    """'incremental_book_L2', 'trades', 'book_snapshot' or 'quotes' from a header line."""
    h = header.strip()
    if h == L2_HEADER:
        return "incremental_book_L2"
    if h == TRADES_HEADER:
        return "trades"
    if h == QUOTES_HEADER:
        return "quotes"
    if h.startswith("exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,bids[0].price"):
        return "book_snapshot"
    return None


def _times(f: list[str]) -> tuple[int, int]:
    """(local receive ns, exchange ms) from a row's timestamp columns."""
    venue_us = to_int(f[2], "timestamp")
    local_us = to_int(f[3], "local_timestamp")
    return local_us * 1000, epoch_ms(venue_us)


class TardisCsvReader(ReplayReader):
    """Records from one tardis.dev CSV (plain or .csv.gz); several symbols may share a file."""

    def __init__(
        self,
        path: PathArg,
        *,
        strict: bool = True,
        checker: DepthSequenceChecker | None = None,
        max_errors: int = 1000,
    ) -> None:
        super().__init__(strict=strict, checker=checker, max_errors=max_errors)
        self.path = Path(path)
        self.kind: str | None = None
        self.unknown_sides = 0
        self._ids: dict[str, int] = {}

    def _next_id(self, symbol: str) -> int:
        n = self._ids.get(symbol, 0) + 1
        self._ids[symbol] = n
        return n

    def _records(self) -> Iterator[ReplayRecord]:
        self._ids.clear()
        self.unknown_sides = 0
        name = str(self.path)
        lines = self._lines(self.path)
        for lineno, line in lines:
            if not line.strip():
                continue
            self.kind = tardis_kind(line.decode("utf-8", "replace"))
            if self.kind is None:
                raise ReplayFormatError(name, lineno, f"not a known tardis.dev CSV header: {line[:120]!r}")
            break
        else:
            return
        if self.kind == "incremental_book_L2":
            yield from self._book(lines)
            return
        row = {"trades": self._trade, "quotes": self._quote, "book_snapshot": self._levels}[self.kind]
        for lineno, line in lines:
            if not line:
                continue
            fields = line.decode("utf-8", "replace").split(",")
            try:
                if len(fields) < 8:
                    raise BadLine(f"{self.kind} row has {len(fields)} columns, expected at least 8")
                yield row(fields, f"{name}:{lineno}")
            except BadLine as exc:
                self._bad(name, lineno, str(exc), exc)

    # -- trades / quotes / book snapshots: one row, one record --------------------------------
    def _trade(self, f: list[str], source: str) -> ReplayRecord:
        local_ns, t = _times(f)
        symbol = f[1].upper()
        side = f[5]
        if side not in ("buy", "sell"):
            if side != "unknown":
                raise BadLine(f"trade side {side!r} is not buy/sell/unknown")
            self.unknown_sides += 1
        raw_id = f[4]
        trade_id: int | str = int(raw_id) if raw_id.isdigit() else raw_id
        payload = {
            "e": "trade", "E": t, "s": symbol, "t": trade_id, "p": venue_decimal(f[6], "price"),
            "q": venue_decimal(f[7], "amount"), "T": t, "m": side == "sell", "M": True,
        }
        return ReplayRecord(local_ns, t, symbol, "trade", payload, source=source, channel=f"{symbol.lower()}@trade")

    def _quote(self, f: list[str], source: str) -> ReplayRecord:
        local_ns, t = _times(f)
        symbol = f[1].upper()
        uid = self._next_id(symbol)
        payload = {
            "u": uid, "s": symbol,
            "b": venue_decimal(f[6], "bid_price") if f[6] else _ZERO,
            "B": venue_decimal(f[7], "bid_amount") if f[7] else _ZERO,
            "a": venue_decimal(f[5], "ask_price") if f[5] else _ZERO,
            "A": venue_decimal(f[4], "ask_amount") if f[4] else _ZERO,
        }
        return ReplayRecord(
            local_ns, t, symbol, "book_ticker", payload, uid, uid, source,
            synthetic_ids=True, channel=f"{symbol.lower()}@bookTicker",
        )

    def _levels(self, f: list[str], source: str) -> ReplayRecord:
        local_ns, t = _times(f)
        symbol = f[1].upper()
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        depth = (len(f) - 4) // 4
        for i in range(depth):
            base = 4 + 4 * i
            ap, aq, bp, bq = f[base], f[base + 1], f[base + 2], f[base + 3]
            if ap and aq:
                asks.append([venue_decimal(ap, f"asks[{i}].price"), venue_decimal(aq, f"asks[{i}].amount")])
            if bp and bq:
                bids.append([venue_decimal(bp, f"bids[{i}].price"), venue_decimal(bq, f"bids[{i}].amount")])
        uid = self._next_id(symbol)
        payload: dict[str, Any] = {"lastUpdateId": uid, "bids": bids, "asks": asks}
        return ReplayRecord(
            local_ns, t, symbol, "partial_depth", payload, uid, uid, source,
            synthetic_ids=True, channel=f"{symbol.lower()}@depth{depth}",
        )

    # -- incremental_book_L2: rows grouped into messages --------------------------------------
    def _book(self, lines: Iterator[tuple[int, bytes]]) -> Iterator[ReplayRecord]:
        name = str(self.path)
        key: tuple[str, bool, int] | None = None  # (symbol, is_snapshot, local_timestamp or 0)
        rows: list[tuple[bool, str, str]] = []  # (is bid, price, amount)
        head: tuple[int, int, int] = (0, 0, 0)  # (line, local ns, venue ms) of the group's first row
        for lineno, line in lines:
            if not line:
                continue
            f = line.decode("utf-8", "replace").split(",")
            try:
                if len(f) != 8:
                    raise BadLine(f"incremental_book_L2 row has {len(f)} columns, expected 8")
                snap = f[4]
                if snap not in ("true", "false"):
                    raise BadLine(f"is_snapshot {snap!r} is not true/false")
                side = f[5]
                if side not in ("bid", "ask"):
                    raise BadLine(f"side {side!r} is not bid/ask")
                local_ns, t = _times(f)
                level = (side == "bid", venue_decimal(f[6], "price"), venue_decimal(f[7], "amount"))
            except BadLine as exc:
                self._bad(name, lineno, str(exc), exc)
                continue
            is_snap = snap == "true"
            row_key = (f[1].upper(), is_snap, 0 if is_snap else local_ns)
            if row_key != key:
                if key is not None and rows:
                    yield self._message(key, rows, head)
                key, rows, head = row_key, [], (lineno, local_ns, t)
            rows.append(level)
        if key is not None and rows:
            yield self._message(key, rows, head)

    def _message(
        self, key: tuple[str, bool, int], rows: list[tuple[bool, str, str]], head: tuple[int, int, int]
    ) -> ReplayRecord:
        symbol, is_snap, _ = key
        lineno, local_ns, t = head
        source = f"{self.path}:{lineno}"
        uid = self._next_id(symbol)
        if is_snap:
            bids = sorted(([p, q] for bid, p, q in rows if bid and q != _ZERO), key=lambda lv: -Decimal(lv[0]))
            asks = sorted(([p, q] for bid, p, q in rows if not bid and q != _ZERO), key=lambda lv: Decimal(lv[0]))
            payload: dict[str, Any] = {"lastUpdateId": uid, "bids": bids, "asks": asks}
            return ReplayRecord(
                local_ns, t, symbol, "depth_snapshot", payload, uid, uid, source, synthetic_ids=True
            )
        payload = {
            "e": "depthUpdate", "E": t, "s": symbol, "U": uid, "u": uid,
            "b": [[p, q] for bid, p, q in rows if bid],
            "a": [[p, q] for bid, p, q in rows if not bid],
        }
        return ReplayRecord(
            local_ns, t, symbol, "depth_diff", payload, uid, uid, source,
            synthetic_ids=True, channel=f"{symbol.lower()}@depth",
        )
