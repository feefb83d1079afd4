"""What the market tells a strategy, and how it is delivered.

Events are frozen dataclasses carrying Decimals; an ``EventBus`` calls the listeners registered
for a ``MarketEvent`` tag synchronously, in registration order, as the market learns something
(a listener that raises is logged and does not stop the others). ``EventLogger`` records every
event and lets async code wait for one (tests, simple scripts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, TypeVar

log = logging.getLogger(__name__)


class OrderType(StrEnum):
    """Order types the market places (values are the venue's names)."""

    LIMIT = "LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"
    MARKET = "MARKET"

    @property
    def is_limit_type(self) -> bool:
        return self is not OrderType.MARKET


class TradeType(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class MarketEvent(Enum):
    BUY_ORDER_CREATED = "BuyOrderCreated"
    SELL_ORDER_CREATED = "SellOrderCreated"
    ORDER_FILLED = "OrderFilled"
    BUY_ORDER_COMPLETED = "BuyOrderCompleted"
    SELL_ORDER_COMPLETED = "SellOrderCompleted"
    ORDER_CANCELLED = "OrderCancelled"
    ORDER_FAILURE = "OrderFailure"
    ORDER_EXPIRED = "OrderExpired"
    ORDER_LOST = "OrderLost"


@dataclass(frozen=True, slots=True)
class OrderCreatedEvent:
    """The venue accepted the order (once per order, before any of its fills)."""

    timestamp: float
    order_id: str  # client order id
    trading_pair: str
    trade_type: TradeType
    order_type: OrderType
    amount: Decimal
    price: Decimal | None
    exchange_order_id: int | None


@dataclass(frozen=True, slots=True)
class BuyOrderCreatedEvent(OrderCreatedEvent):
    pass


@dataclass(frozen=True, slots=True)
class SellOrderCreatedEvent(OrderCreatedEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrderFilledEvent:
    """One trade of one order (exactly once per venue trade id)."""

    timestamp: float
    order_id: str
    trading_pair: str
    trade_type: TradeType
    order_type: OrderType
    price: Decimal
    amount: Decimal
    fee_asset: str
    fee_amount: Decimal
    trade_id: int
    exchange_order_id: int | None
    is_maker: bool


@dataclass(frozen=True, slots=True)
class OrderCompletedEvent:
    """The order is fully filled and every fill has been reported."""

    timestamp: float
    order_id: str
    trading_pair: str
    base_asset: str
    quote_asset: str
    base_asset_amount: Decimal
    quote_asset_amount: Decimal
    order_type: OrderType
    exchange_order_id: int | None
    fees: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BuyOrderCompletedEvent(OrderCompletedEvent):
    pass


@dataclass(frozen=True, slots=True)
class SellOrderCompletedEvent(OrderCompletedEvent):
    pass


@dataclass(frozen=True, slots=True)
class OrderCancelledEvent:
    """Cancelled (by us or the venue); ``executed_amount`` was filled before (fills reported first)."""

    timestamp: float
    order_id: str
    trading_pair: str
    exchange_order_id: int | None
    executed_amount: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class MarketOrderFailureEvent:
    """The order was not placed. ``error_code``/``error_message`` are the venue's (``source``
    "venue"), or the same wording when the connector's own rule check caught it ("connector")."""

    timestamp: float
    order_id: str
    trading_pair: str
    order_type: OrderType
    error_code: int | None
    error_message: str
    source: str = "venue"


@dataclass(frozen=True, slots=True)
class OrderExpiredEvent:
    """The venue expired the order (IOC/FOK/MARKET remainder, STP, ...); fills reported first."""

    timestamp: float
    order_id: str
    trading_pair: str
    exchange_order_id: int | None
    executed_amount: Decimal = Decimal(0)
    reason: str = ""


@dataclass(frozen=True, slots=True)
class OrderLostEvent:
    """The venue repeatedly says it does not know the order. It stays watched (``Market.lost_orders``)
    and comes back to life if it ever shows up."""

    timestamp: float
    order_id: str
    trading_pair: str
    exchange_order_id: int | None
    reason: str
    last_state: str


EVENT_TAG: dict[type, MarketEvent] = {
    BuyOrderCreatedEvent: MarketEvent.BUY_ORDER_CREATED,
    SellOrderCreatedEvent: MarketEvent.SELL_ORDER_CREATED,
    OrderFilledEvent: MarketEvent.ORDER_FILLED,
    BuyOrderCompletedEvent: MarketEvent.BUY_ORDER_COMPLETED,
    SellOrderCompletedEvent: MarketEvent.SELL_ORDER_COMPLETED,
    OrderCancelledEvent: MarketEvent.ORDER_CANCELLED,
    MarketOrderFailureEvent: MarketEvent.ORDER_FAILURE,
    OrderExpiredEvent: MarketEvent.ORDER_EXPIRED,
    OrderLostEvent: MarketEvent.ORDER_LOST,
}

Listener = Callable[[Any], None]


class EventBus:
    """Synchronous publish/subscribe keyed by ``MarketEvent``."""

    def __init__(self) -> None:
        self._listeners: dict[MarketEvent, list[Listener]] = {}

    def add_listener(self, tag: MarketEvent, listener: Listener) -> None:
        self._listeners.setdefault(tag, []).append(listener)

    def remove_listener(self, tag: MarketEvent, listener: Listener) -> None:
        listeners = self._listeners.get(tag, [])
        if listener in listeners:
            listeners.remove(listener)

    def add_all(self, listener: Listener) -> None:
        """Register ``listener`` for every tag."""
        for tag in MarketEvent:
            self.add_listener(tag, listener)

    def listeners(self, tag: MarketEvent) -> list[Listener]:
        return list(self._listeners.get(tag, []))

    def trigger_event(self, tag: MarketEvent, event: Any) -> None:
        for listener in list(self._listeners.get(tag, [])):
            try:
                listener(event)
            except Exception:  # a strategy bug must not break order tracking
                log.exception("listener %r failed on %s", listener, tag.name)

    def emit(self, event: Any) -> None:
        """Trigger ``event`` under its own tag (``EVENT_TAG``)."""
        self.trigger_event(EVENT_TAG[type(event)], event)


E = TypeVar("E")


class EventLogger:
    """Keeps every event it hears, in order; ``wait_for`` awaits a matching one."""

    def __init__(self) -> None:
        self.event_log: list[Any] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Any) -> None:
        self.event_log.append(event)
        self._changed.set()

    def subscribe(self, bus: EventBus) -> EventLogger:
        bus.add_all(self)
        return self

    def of_type(self, event_type: type[E], order_id: str | None = None) -> list[E]:
        return [
            e for e in self.event_log
            if isinstance(e, event_type) and (order_id is None or getattr(e, "order_id", None) == order_id)
        ]

    def clear(self) -> None:
        self.event_log.clear()

    async def wait_for(self, event_type: type[E], predicate: Callable[[E], bool] | None = None,
                       timeout: float = 10.0, start: int = 0) -> E:
        """The first logged event (from index ``start``) of ``event_type`` matching ``predicate``,
        waiting up to ``timeout`` seconds for it (TimeoutError otherwise)."""

        async def scan() -> E:
            seen = start
            while True:
                for event in self.event_log[seen:]:
                    if isinstance(event, event_type) and (predicate is None or predicate(event)):
                        return event
                seen = len(self.event_log)
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), timeout)
