"""Order book messages: one type for REST snapshots, stream diffs and trades.

A message keeps the venue's level lists as they arrived (lists of ["price", "qty"] strings) in
``content``, so building one costs no per-level work; ``bids``/``asks`` convert to Decimal rows
when someone asks. Timestamps are seconds (float) of the venue's event time where it gives one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple

RawLevels = Sequence[Sequence[str]]


class OrderBookMessageType(Enum):
    SNAPSHOT = 1
    DIFF = 2
    TRADE = 3


class OrderBookRow(NamedTuple):
    """One price level: absolute amount at ``price`` as of ``update_id`` (amount 0 = removed)."""

    price: Decimal
    amount: Decimal
    update_id: int


def rows_from_levels(levels: RawLevels, update_id: int) -> list[OrderBookRow]:
    """Decimal rows from the venue's [["price", "qty"], ...] lists."""
    return [OrderBookRow(Decimal(p), Decimal(q), update_id) for p, q in levels]


class OrderBookMessage:
    """A snapshot, diff or trade for one trading pair.

    content keys: "trading_pair", "symbol", "update_id", "first_update_id" (diffs), "bids"/"asks"
    (raw venue levels) for books; "trade_id", "price", "amount" (strings), "trade_type"
    ("BUY"/"SELL", the taker's side) for trades. ``connection_id`` numbers the stream connection
    a diff arrived on (0 for REST), so a consumer can tell that the stream was re-established.
    """

    __slots__ = ("type", "content", "timestamp", "update_id", "first_update_id", "trading_pair", "connection_id")

    def __init__(
        self,
        message_type: OrderBookMessageType,
        content: dict[str, Any],
        timestamp: float,
        connection_id: int = 0,
    ) -> None:
        self.type = message_type
        self.content = content
        self.timestamp = timestamp
        self.update_id: int = int(content.get("update_id", 0))
        self.first_update_id: int = int(content.get("first_update_id", self.update_id))
        self.trading_pair: str = str(content.get("trading_pair", ""))
        self.connection_id = connection_id

    # ------------------------------------------------------------------ factories
    @classmethod
    def snapshot(cls, data: Mapping[str, Any], trading_pair: str, timestamp: float, symbol: str = "") -> OrderBookMessage:
        """From a REST /api/v3/depth body ({"lastUpdateId", "bids", "asks"})."""
        uid = int(data["lastUpdateId"])
        content = {
            "trading_pair": trading_pair, "symbol": symbol, "update_id": uid, "first_update_id": uid,
            "bids": data["bids"], "asks": data["asks"],
        }  # fmt: skip
        return cls(OrderBookMessageType.SNAPSHOT, content, timestamp)

    @classmethod
    def diff(cls, data: Mapping[str, Any], trading_pair: str, connection_id: int = 0) -> OrderBookMessage:
        """From a depthUpdate payload ({"e":"depthUpdate","E","s","U","u","b","a"})."""
        content = {
            "trading_pair": trading_pair, "symbol": data.get("s", ""), "update_id": data["u"],
            "first_update_id": data["U"], "bids": data["b"], "asks": data["a"],
        }  # fmt: skip
        return cls(OrderBookMessageType.DIFF, content, data.get("E", 0) / 1000, connection_id)

    @classmethod
    def trade(cls, data: Mapping[str, Any], trading_pair: str, connection_id: int = 0) -> OrderBookMessage:
        """From a trade payload ({"e":"trade","t","p","q","T","m"}) or an aggTrade ({"a", ...})."""
        trade_id = data["t"] if "t" in data else data["a"]
        content = {
            "trading_pair": trading_pair, "symbol": data.get("s", ""), "trade_id": trade_id,
            "update_id": trade_id, "price": data["p"], "amount": data["q"],
            "trade_type": "SELL" if data.get("m") else "BUY",
        }  # fmt: skip
        return cls(OrderBookMessageType.TRADE, content, data.get("T", data.get("E", 0)) / 1000, connection_id)

    # ------------------------------------------------------------------ views
    @property
    def bids(self) -> list[OrderBookRow]:
        return rows_from_levels(self.content.get("bids", ()), self.update_id)

    @property
    def asks(self) -> list[OrderBookRow]:
        return rows_from_levels(self.content.get("asks", ()), self.update_id)

    @property
    def raw_bids(self) -> RawLevels:
        levels: RawLevels = self.content.get("bids", ())
        return levels

    @property
    def raw_asks(self) -> RawLevels:
        levels: RawLevels = self.content.get("asks", ())
        return levels

    @property
    def trade_id(self) -> int:
        return int(self.content.get("trade_id", -1))

    @property
    def price(self) -> Decimal:
        """A trade's price."""
        return Decimal(self.content["price"])

    @property
    def amount(self) -> Decimal:
        """A trade's base amount."""
        return Decimal(self.content["amount"])

    @property
    def trade_type(self) -> str:
        """"BUY" or "SELL": the taker's side of a trade."""
        return str(self.content.get("trade_type", ""))

    @property
    def has_update_id(self) -> bool:
        return self.type in (OrderBookMessageType.SNAPSHOT, OrderBookMessageType.DIFF)

    @property
    def has_trade_id(self) -> bool:
        return self.type is OrderBookMessageType.TRADE

    def __repr__(self) -> str:
        extra = (
            f"trade_id={self.trade_id}" if self.type is OrderBookMessageType.TRADE
            else f"U={self.first_update_id} u={self.update_id}"
        )  # fmt: skip
        return f"OrderBookMessage({self.type.name}, {self.trading_pair}, {extra}, t={self.timestamp})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OrderBookMessage):
            return NotImplemented
        return (self.type, self.content, self.timestamp) == (other.type, other.content, other.timestamp)

    __hash__ = None  # type: ignore[assignment]
