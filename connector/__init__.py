"""The Binance Spot connector (Hummingbot architecture), the same code live, on testnet and on the mock.

What differs between venues is only a ``VenueConfig`` (URLs, credentials, clock)::

    from connector import Market, VenueConfig
    market = Market(VenueConfig.custom("http://127.0.0.1:8765", api_key=K, api_secret=S), ["BTC-USDT"])
    await market.start_network()
"""

from connector.active_order_tracker import ActiveOrderTracker
from connector.auth import Auth
from connector.clock import Clock, ManualClock, WallClock
from connector.config import VenueConfig
from connector.events import (
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    EventBus,
    EventLogger,
    MarketEvent,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderExpiredEvent,
    OrderFilledEvent,
    OrderLostEvent,
    OrderType,
    SellOrderCompletedEvent,
    SellOrderCreatedEvent,
    TradeType,
)
from connector.in_flight_order import InFlightOrder, OrderState
from connector.market import CancellationResult, Market, TradeFee
from connector.order_book import EmptyOrderBookError, OrderBook, OrderBookQueryResult
from connector.order_book_data_source import (
    MarketDataError,
    OrderBookTrackerDataSource,
    OrderBookTrackerEntry,
)
from connector.order_book_message import OrderBookMessage, OrderBookMessageType, OrderBookRow
from connector.order_book_tracker import BookSyncStats, OrderBookTracker
from connector.rest import BinanceAPIError, BinanceNetworkError, BinanceRequestTimeout, RestClient
from connector.throttler import RateLimit, Throttler
from connector.time_sync import TimeSynchronizer
from connector.trading_pairs import (
    TradingPairMap,
    convert_from_exchange_trading_pair,
    convert_to_exchange_trading_pair,
)
from connector.trading_rules import TradingRule, load_exchange_info, trading_rules_from_exchange_info
from connector.user_stream import UserStreamTracker, UserStreamTrackerDataSource

__all__ = [
    "ActiveOrderTracker",
    "Auth",
    "BinanceAPIError",
    "BinanceNetworkError",
    "BinanceRequestTimeout",
    "BookSyncStats",
    "BuyOrderCompletedEvent",
    "BuyOrderCreatedEvent",
    "CancellationResult",
    "Clock",
    "EmptyOrderBookError",
    "EventBus",
    "EventLogger",
    "InFlightOrder",
    "ManualClock",
    "Market",
    "MarketDataError",
    "MarketEvent",
    "MarketOrderFailureEvent",
    "OrderBook",
    "OrderBookMessage",
    "OrderBookMessageType",
    "OrderBookQueryResult",
    "OrderBookRow",
    "OrderBookTracker",
    "OrderBookTrackerDataSource",
    "OrderBookTrackerEntry",
    "OrderCancelledEvent",
    "OrderExpiredEvent",
    "OrderFilledEvent",
    "OrderLostEvent",
    "OrderState",
    "OrderType",
    "RateLimit",
    "RestClient",
    "SellOrderCompletedEvent",
    "SellOrderCreatedEvent",
    "Throttler",
    "TimeSynchronizer",
    "TradeFee",
    "TradeType",
    "TradingPairMap",
    "TradingRule",
    "UserStreamTracker",
    "UserStreamTrackerDataSource",
    "VenueConfig",
    "WallClock",
    "convert_from_exchange_trading_pair",
    "convert_to_exchange_trading_pair",
    "load_exchange_info",
    "trading_rules_from_exchange_info",
]
