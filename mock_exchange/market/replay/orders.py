"""The user's orders in a replay, and what the replay exchange says about them.

Kept apart from the engine's ``Order``/``OrderUpdate``: a replayed order carries a queue
position against *recorded* liquidity and lives on a nanosecond replay clock, neither of which
the engine knows about. Field values reuse the venue's spelling (BUY/SELL, NEW/FILLED ...) so a
server can translate events into execution reports without a table.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_exchange.engine.types import BUY

# OrderEvent.kind values
ACCEPTED = "accepted"  # the order is working (resting, or about to take liquidity)
FILLED = "filled"  # one fill (partial or final; ``remaining`` tells which)
CANCELLED = "cancelled"  # cancelled on request
REJECTED = "rejected"  # the order never worked (LIMIT_MAKER that would take, bad arguments ...)
EXPIRED = "expired"  # the unfilled rest of an IOC/FOK/MARKET order
CANCEL_REJECTED = "cancel_rejected"  # a cancel for an order that is not open (-2011)

# Venue error codes and messages used in rejections.
CODE_WOULD_TAKE = -2010
MSG_WOULD_TAKE = "Order would immediately match and take."
CODE_DUPLICATE = -2010
MSG_DUPLICATE = "Duplicate order sent."
CODE_UNKNOWN = -2011
MSG_UNKNOWN = "Unknown order sent."
CODE_BAD_PARAM = -1013
CODE_NO_BOOK = -2010
MSG_NO_BOOK = "No recorded book for this symbol yet."


class ReplayOrder:
    """One user order while it is open. ``ahead`` is its queue position in recorded quantity."""

    __slots__ = (
        "order_id",
        "client_id",
        "symbol",
        "side",
        "is_buy",
        "type",
        "time_in_force",
        "price",
        "qty",
        "executed",
        "ahead",
        "status",
        "time_ns",
    )

    def __init__(
        self,
        order_id: int,
        client_id: str,
        symbol: str,
        side: str,
        type_: str,
        time_in_force: str,
        price: int,
        qty: int,
        time_ns: int,
    ) -> None:
        self.order_id = order_id
        self.client_id = client_id
        self.symbol = symbol
        self.side = side
        self.is_buy = side == BUY
        self.type = type_
        self.time_in_force = time_in_force
        self.price = price
        self.qty = qty
        self.executed = 0
        self.ahead = 0
        self.status = "NEW"
        self.time_ns = time_ns

    @property
    def remaining(self) -> int:
        return self.qty - self.executed

    def __repr__(self) -> str:
        return (
            f"ReplayOrder({self.client_id!r} {self.side} {self.type} {self.qty}@{self.price} "
            f"exec={self.executed} ahead={self.ahead} {self.status})"
        )


@dataclass(slots=True)
class OrderEvent:
    """One state change of one order, stamped with the exchange time it happened at.

    For ``filled`` events ``price``/``qty`` are the fill's; otherwise the order's. ``executed``
    and ``remaining`` are the order's totals after the event. ``fee`` is in quote units
    (negative: a rebate). ``code``/``reason`` explain rejections.
    """

    kind: str
    time_ns: int
    symbol: str
    client_id: str
    order_id: int
    side: str
    order_type: str
    price: int
    qty: int
    executed: int
    remaining: int
    status: str
    is_maker: bool = False
    fee: int = 0
    code: int = 0
    reason: str = ""


@dataclass(slots=True, frozen=True)
class ReplayFill:
    """One fill of a user order: what a backtest report counts and compares across runs."""

    time_ns: int
    symbol: str
    client_id: str
    order_id: int
    side: str
    price: int
    qty: int
    is_maker: bool
    fee: int
