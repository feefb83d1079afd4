"""The pure matching engine: books, matching, stops, STP, balances, fees, ids and events.

Synchronous, no asyncio, no I/O; amounts are ints of 1e-8 units (``units``) and times are
int milliseconds. The server and the market sources drive it through ``Engine``.
"""

from mock_exchange.engine import units
from mock_exchange.engine.accounts import Account, required_lock
from mock_exchange.engine.engine import CancelReplaceResult, Engine
from mock_exchange.engine.retention import DEFAULT_RETENTION, KEEP_ALL, KEEP_NONE, Retention
from mock_exchange.engine.symbols import (
    LotSize,
    MinNotional,
    Notional,
    PercentPrice,
    PercentPriceBySide,
    PriceFilter,
    SymbolSpec,
)
from mock_exchange.engine.types import (
    BalanceChange,
    BookDelta,
    EngineError,
    Event,
    Fill,
    Order,
    OrderUpdate,
    PlaceResult,
    TradeEvent,
)

__all__ = [
    "DEFAULT_RETENTION",
    "KEEP_ALL",
    "KEEP_NONE",
    "Account",
    "BalanceChange",
    "BookDelta",
    "CancelReplaceResult",
    "Engine",
    "EngineError",
    "Event",
    "Fill",
    "LotSize",
    "MinNotional",
    "Notional",
    "Order",
    "OrderUpdate",
    "PercentPrice",
    "PercentPriceBySide",
    "PlaceResult",
    "PriceFilter",
    "Retention",
    "SymbolSpec",
    "TradeEvent",
    "required_lock",
    "units",
]
