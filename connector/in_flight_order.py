"""One order the market is responsible for, from the moment it is recorded (before the request is
sent) until its last event.

Fills are keyed by the venue's trade id, so the same trade arriving from the order response,
the user stream and REST polling counts once. ``venue_executed`` is the highest cumulative
filled quantity the venue has reported in any status; a terminal status is only acted on once
the fills add up to it (``fills_complete``), so a FILLED seen by polling waits for its trades.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from connector.events import OrderType, TradeType

ZERO = Decimal(0)


class OrderState(StrEnum):
    PENDING_CREATE = "PENDING_CREATE"  # recorded, request sent, no answer yet
    UNKNOWN = "UNKNOWN"  # the placement's outcome is unknown (timeout, 5xx, -1007): being reconciled
    OPEN = "OPEN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"  # a cancel was sent and its outcome is not known yet
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"
    LOST = "LOST"  # the venue repeatedly did not know it (still watched)


TERMINAL_STATES = frozenset({OrderState.FILLED, OrderState.CANCELED, OrderState.EXPIRED, OrderState.FAILED})
# Venue order statuses that end an order, and the state each one means.
VENUE_TERMINAL = {
    "FILLED": OrderState.FILLED,
    "CANCELED": OrderState.CANCELED,
    "EXPIRED": OrderState.EXPIRED,
    "EXPIRED_IN_MATCH": OrderState.EXPIRED,
    "REJECTED": OrderState.FAILED,
}


@dataclass(frozen=True, slots=True)
class TradeFill:
    trade_id: int
    price: Decimal
    amount: Decimal
    fee_asset: str
    fee_amount: Decimal
    timestamp_ms: int
    is_maker: bool

    @property
    def quote_amount(self) -> Decimal:
        return self.price * self.amount


@dataclass
class InFlightOrder:
    client_order_id: str
    trading_pair: str
    symbol: str
    base_asset: str
    quote_asset: str
    order_type: OrderType
    trade_type: TradeType
    amount: Decimal
    price: Decimal | None
    creation_timestamp: float
    exchange_order_id: int | None = None
    state: OrderState = OrderState.PENDING_CREATE
    fills: dict[int, TradeFill] = field(default_factory=dict)
    venue_status: str = ""
    venue_executed: Decimal = ZERO
    created_reported: bool = False
    not_found_count: int = 0
    cancel_attempts: int = 0
    expiry_reason: str = ""
    unknown_reason: str = ""
    estimated_fee_rate: Decimal = ZERO
    last_update_ms: int = 0

    # --- derived views ----------------------------------------------------------------------------

    @property
    def executed_amount_base(self) -> Decimal:
        return sum((f.amount for f in self.fills.values()), ZERO)

    @property
    def executed_amount_quote(self) -> Decimal:
        return sum((f.quote_amount for f in self.fills.values()), ZERO)

    @property
    def average_executed_price(self) -> Decimal | None:
        base = self.executed_amount_base
        return self.executed_amount_quote / base if base > 0 else None

    @property
    def fees(self) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        for f in self.fills.values():
            if f.fee_amount:
                out[f.fee_asset] = out.get(f.fee_asset, ZERO) + f.fee_amount
        return out

    @property
    def is_buy(self) -> bool:
        return self.trade_type is TradeType.BUY

    @property
    def is_done(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def is_open(self) -> bool:
        """Possibly live on the venue (including while its outcome is being reconciled)."""
        return not self.is_done and self.state is not OrderState.LOST

    @property
    def venue_terminal(self) -> bool:
        return self.venue_status in VENUE_TERMINAL

    @property
    def fills_complete(self) -> bool:
        """Every fill the venue reported (cumulative qty) has been received trade by trade."""
        return self.executed_amount_base >= self.venue_executed

    # --- updates ------------------------------------------------------------------------------------

    def add_fill(self, fill: TradeFill) -> bool:
        """Record a trade; False when that trade id was already counted."""
        if fill.trade_id in self.fills:
            return False
        self.fills[fill.trade_id] = fill
        if self.executed_amount_base > self.venue_executed:
            self.venue_executed = self.executed_amount_base
        return True

    def update_venue_status(self, status: str, executed: Decimal | None) -> None:
        """Remember the venue's latest status; cumulative quantity never goes back."""
        # a terminal status is final; a late open status from a slower source must not undo it
        if status and not (self.venue_terminal and status not in VENUE_TERMINAL):
            self.venue_status = status
        if executed is not None and executed > self.venue_executed:
            self.venue_executed = executed

    # --- persistence (Hummingbot keeps in-flight orders across restarts) -----------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "client_order_id": self.client_order_id,
            "trading_pair": self.trading_pair,
            "symbol": self.symbol,
            "base_asset": self.base_asset,
            "quote_asset": self.quote_asset,
            "order_type": self.order_type.value,
            "trade_type": self.trade_type.value,
            "amount": str(self.amount),
            "price": None if self.price is None else str(self.price),
            "creation_timestamp": self.creation_timestamp,
            "exchange_order_id": self.exchange_order_id,
            "state": self.state.value,
            "venue_status": self.venue_status,
            "venue_executed": str(self.venue_executed),
            "created_reported": self.created_reported,
            "not_found_count": self.not_found_count,
            "cancel_attempts": self.cancel_attempts,
            "expiry_reason": self.expiry_reason,
            "unknown_reason": self.unknown_reason,
            "estimated_fee_rate": str(self.estimated_fee_rate),
            "last_update_ms": self.last_update_ms,
            "fills": [
                {"trade_id": f.trade_id, "price": str(f.price), "amount": str(f.amount), "fee_asset": f.fee_asset,
                 "fee_amount": str(f.fee_amount), "timestamp_ms": f.timestamp_ms, "is_maker": f.is_maker}
                for f in self.fills.values()
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InFlightOrder:
        order = cls(
            client_order_id=data["client_order_id"],
            trading_pair=data["trading_pair"],
            symbol=data["symbol"],
            base_asset=data["base_asset"],
            quote_asset=data["quote_asset"],
            order_type=OrderType(data["order_type"]),
            trade_type=TradeType(data["trade_type"]),
            amount=Decimal(data["amount"]),
            price=None if data.get("price") is None else Decimal(data["price"]),
            creation_timestamp=float(data["creation_timestamp"]),
            exchange_order_id=data.get("exchange_order_id"),
            state=OrderState(data.get("state", OrderState.PENDING_CREATE.value)),
            venue_status=data.get("venue_status", ""),
            venue_executed=Decimal(data.get("venue_executed", "0")),
            created_reported=bool(data.get("created_reported", False)),
            not_found_count=int(data.get("not_found_count", 0)),
            cancel_attempts=int(data.get("cancel_attempts", 0)),
            expiry_reason=str(data.get("expiry_reason", "")),
            unknown_reason=str(data.get("unknown_reason", "")),
            estimated_fee_rate=Decimal(data.get("estimated_fee_rate", "0")),
            last_update_ms=int(data.get("last_update_ms", 0)),
        )
        for f in data.get("fills", []):
            order.add_fill(TradeFill(int(f["trade_id"]), Decimal(f["price"]), Decimal(f["amount"]), f["fee_asset"],
                                     Decimal(f["fee_amount"]), int(f["timestamp_ms"]), bool(f["is_maker"])))
        return order
