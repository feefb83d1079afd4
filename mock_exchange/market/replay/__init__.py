"""Replay market: recorded books as the market, user orders matched against them (issue 5 §1).

``MarketFeed`` turns reader records into timed, parsed events (exchange and local clocks);
``ReplayExchange`` applies them and matches the user's orders with a queue-position model;
``ReplayRunner`` drives a ``Strategy`` through them with order-entry, response and feed
latency; ``ReplayDriver`` (``serving``) serves a recording from a running mock server.
``python -m mock_exchange.market.replay.acceptance`` prints the quoter study.
"""

from mock_exchange.market.replay.book import LevelSide, RecordedBook
from mock_exchange.market.replay.exchange import ReplayExchange, SymbolState
from mock_exchange.market.replay.feed import FeedReport, FeedTiming, MarketEvent, MarketFeed, OffsetEstimate
from mock_exchange.market.replay.latency import (
    ConstantLatency,
    FileLatency,
    LatencyModel,
    LognormalLatency,
    parse_latency,
)
from mock_exchange.market.replay.orders import (
    ACCEPTED,
    CANCEL_REJECTED,
    CANCELLED,
    EXPIRED,
    FILLED,
    REJECTED,
    OrderEvent,
    ReplayFill,
    ReplayOrder,
)
from mock_exchange.market.replay.queue import (
    NoQueue,
    ProbQueue,
    QueueModel,
    RiskAverseQueue,
    log_prob,
    power_prob,
    queue_model,
)
from mock_exchange.market.replay.runner import ReplayResult, ReplayRunner
from mock_exchange.market.replay.serving import ReplayDriver, check_replay
from mock_exchange.market.replay.strategy import NaiveQuoter, OrderApi, Strategy

__all__ = [
    "ACCEPTED",
    "CANCELLED",
    "CANCEL_REJECTED",
    "EXPIRED",
    "FILLED",
    "REJECTED",
    "ConstantLatency",
    "FeedReport",
    "FeedTiming",
    "FileLatency",
    "LatencyModel",
    "LevelSide",
    "LognormalLatency",
    "MarketEvent",
    "MarketFeed",
    "NaiveQuoter",
    "NoQueue",
    "OffsetEstimate",
    "OrderApi",
    "OrderEvent",
    "ProbQueue",
    "QueueModel",
    "RecordedBook",
    "ReplayDriver",
    "ReplayExchange",
    "ReplayFill",
    "ReplayOrder",
    "ReplayResult",
    "ReplayRunner",
    "RiskAverseQueue",
    "Strategy",
    "SymbolState",
    "check_replay",
    "log_prob",
    "parse_latency",
    "power_prob",
    "queue_model",
]
