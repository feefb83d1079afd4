"""Shared bits for the market reader tests: the captured files and a label-following book."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from mock_exchange.market.readers import ReplayRecord
from tests.conftest import shared_file

BTCUSDT_DIR = "binance-spot-btcusdt-2024-08-08"
CF_DIR = "binance-spot-2021-10-12"


def btcusdt_files() -> list[Path]:
    return [shared_file(BTCUSDT_DIR, "btcusdt_20240808.gz"), shared_file(BTCUSDT_DIR, "btcusdt_20240809.gz")]


def cryptofeed_files() -> list[Path]:
    return [shared_file(CF_DIR, "BINANCE.ws.1.0"), shared_file(CF_DIR, "BINANCE.http.0.0")]


class LabelBook:
    """The book a consumer keeps by following the readers' sync labels (and nothing else)."""

    def __init__(self, use_bridge: bool = True) -> None:
        self.use_bridge = use_bridge
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.loaded = False

    def _apply(self, payload: dict[str, Any]) -> None:
        for key, book in (("b", self.bids), ("a", self.asks)):
            for price, qty in payload[key]:
                if Decimal(qty) == 0:
                    book.pop(price, None)
                else:
                    book[price] = qty

    def feed(self, rec: ReplayRecord) -> bool:
        """Take one record; True when it changed the book."""
        if rec.kind == "depth_snapshot" and rec.sync == "ok":
            self.bids = {p: q for p, q in rec.payload["bids"]}
            self.asks = {p: q for p, q in rec.payload["asks"]}
            if self.use_bridge:
                for diff in rec.bridge:
                    self._apply(diff.payload)
            self.loaded = True
            return True
        if rec.kind == "depth_diff" and rec.sync == "ok":
            self._apply(rec.payload)
            return True
        return False

    def top(self) -> tuple[str, str, str, str]:
        bid = max(self.bids, key=Decimal)
        ask = min(self.asks, key=Decimal)
        return bid, self.bids[bid], ask, self.asks[ask]
