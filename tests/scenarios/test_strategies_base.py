"""The strategy API over a real mock exchange: what the host delivers, how a failing strategy is
stopped and reported, how strategies and their parameters are loaded."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import pytest

from connector import (
    BuyOrderCreatedEvent,
    Market,
    MarketEvent,
    OrderBook,
    OrderBookMessage,
    OrderType,
    TradeType,
)
from mock_exchange.testing import MockServer
from scenarios.strategies import (
    BUILTIN_STRATEGIES,
    IdleStrategy,
    MarketMakingStrategy,
    Strategy,
    StrategyContext,
    StrategyHost,
    StrategyParamError,
    TakerStrategy,
    TwapStrategy,
    load_strategy,
)
from tests.connector.market_helpers import create_account, eventually, start_market


class RecorderStrategy(Strategy):
    """Places one far-away bid at start and writes down everything it is told."""

    tick_interval_s = 0.05
    book_poll_interval_s = 0.02

    def __init__(self, ctx: StrategyContext) -> None:
        super().__init__(ctx)
        self.ticks = 0
        self.books: list[tuple[Decimal | None, Decimal | None]] = []
        self.trades: list[tuple[Decimal, Decimal, str]] = []
        self.events: list[tuple[MarketEvent, Any]] = []
        self.order_id: str | None = None

    async def on_start(self) -> None:
        self.order_id = await self.place_order(TradeType.BUY, Decimal("0.001"), Decimal("60000"))

    async def on_tick(self) -> None:
        self.ticks += 1

    def on_order_book(self, book: OrderBook) -> None:
        self.books.append((book.best_bid, book.best_ask))

    def on_trade(self, trade: OrderBookMessage) -> None:
        self.trades.append((trade.price, trade.amount, trade.trade_type))

    def on_order_event(self, tag: MarketEvent, event: Any) -> None:
        self.events.append((tag, event))

    def metrics(self) -> dict[str, int | float | Decimal]:
        return {"recorded_trades": len(self.trades)}


class FailingTickStrategy(Strategy):
    """Places a bid, then raises on its third tick."""

    tick_interval_s = 0.05

    def __init__(self, ctx: StrategyContext) -> None:
        super().__init__(ctx)
        self.ticks = 0

    async def on_start(self) -> None:
        await self.place_order(TradeType.BUY, Decimal("0.001"), Decimal("60000"))

    async def on_tick(self) -> None:
        self.ticks += 1
        if self.ticks == 3:
            explode_in_helper()


def explode_in_helper() -> None:
    raise ValueError("boom in the strategy")


class FailingEventStrategy(Strategy):
    async def on_start(self) -> None:
        await self.place_order(TradeType.BUY, Decimal("0.001"), Decimal("60000"))

    def on_order_event(self, tag: MarketEvent, event: Any) -> None:
        raise KeyError(f"cannot handle {tag.name}")


class SlowStartStrategy(Strategy):
    async def on_start(self) -> None:
        await asyncio.sleep(30)


class StuckStopStrategy(Strategy):
    async def on_stop(self) -> None:
        await asyncio.sleep(30)


class BrokenInitStrategy(Strategy):
    def __init__(self, ctx: StrategyContext) -> None:
        super().__init__(ctx)
        raise RuntimeError("constructor bug")


def context(market: Market, params: dict[str, Any] | None = None,
            log: list[tuple[str, dict[str, Any]]] | None = None) -> StrategyContext:
    def journal(message: str, **data: Any) -> None:
        if log is not None:
            log.append((message, data))

    return StrategyContext(market, "BTC-USDT", market.clock, params=params or {}, log=journal)


async def venue_open_orders(server: MockServer, account: str | None = None) -> list[dict[str, Any]]:
    resp = await server.client(account).signed("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert resp.status == 200, resp.body
    orders = resp.json()
    assert isinstance(orders, list)
    return orders


async def test_host_delivers_ticks_book_changes_trades_and_order_events(server: MockServer) -> None:
    market, _ = await start_market(server, track_order_books=True)
    mover = await create_account(server, "mover", {"BTC": "10", "USDT": "1000000"})
    try:
        host = StrategyHost(RecorderStrategy, context(market))
        strategy = host.strategy
        assert isinstance(strategy, RecorderStrategy)
        await host.start()
        assert strategy.order_id is not None
        assert [o["clientOrderId"] for o in await venue_open_orders(server)] == [strategy.order_id]
        await eventually(lambda: strategy.ticks >= 3 and len(strategy.books) >= 1, 3, "ticks and a book")
        assert strategy.books[0] == (Decimal("64999.99"), Decimal("65000.01"))
        # another account takes liquidity: the book changes and the trade is reported
        resp = await mover.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                  quantity="0.5")
        assert resp.status == 200, resp.body
        await eventually(lambda: bool(strategy.trades) and strategy.books[-1][1] != Decimal("65000.01"), 3,
                         "the trade and the changed book")
        assert strategy.trades[0][0] == Decimal("65000.01") and strategy.trades[0][2] == "BUY"
        created = [e for tag, e in strategy.events if tag is MarketEvent.BUY_ORDER_CREATED]
        assert isinstance(created[0], BuyOrderCreatedEvent) and created[0].order_id == strategy.order_id
        metrics = host.metrics()
        assert metrics["strategy_ticks"] >= 3 and metrics["recorded_trades"] >= 1
        assert metrics["strategy_market_trades"] >= 1 and metrics["strategy_book_updates"] >= 2
        await host.stop()
        # the default on_stop cancelled what the strategy left open
        assert await venue_open_orders(server) == []
        ticks = strategy.ticks
        await asyncio.sleep(0.2)
        assert strategy.ticks == ticks and host.error is None and not host.failed.is_set()
    finally:
        await market.stop_network()


async def test_a_strategy_raising_in_on_tick_is_stopped_with_its_traceback(server: MockServer) -> None:
    market, _ = await start_market(server)
    journal: list[tuple[str, dict[str, Any]]] = []
    try:
        host = StrategyHost(FailingTickStrategy, context(market, log=journal))
        before = market.clock.now_ms()
        await host.start()
        await asyncio.wait_for(host.failed.wait(), 3)
        assert host.error is not None
        assert "strategy FailingTickStrategy failed in on_tick" in host.error
        assert "Traceback (most recent call last)" in host.error
        assert "explode_in_helper" in host.error and "ValueError: boom in the strategy" in host.error
        assert host.error_at_ms is not None and before <= host.error_at_ms <= market.clock.now_ms()
        assert ("strategy failed", {"where": "on_tick", "error": "ValueError: boom in the strategy"}) in journal
        strategy = host.strategy
        assert isinstance(strategy, FailingTickStrategy)
        await asyncio.sleep(0.2)
        assert strategy.ticks == 3  # no tick after the failure
        started = time.monotonic()
        await host.stop(timeout_s=5)
        assert time.monotonic() - started < 2
        assert await venue_open_orders(server) == []  # its bid was still cancelled
    finally:
        await market.stop_network()


async def test_failures_in_other_callbacks_never_hang_the_caller(server: MockServer) -> None:
    market, _ = await start_market(server)
    try:
        events = StrategyHost(FailingEventStrategy, context(market))
        await events.start()
        await asyncio.wait_for(events.failed.wait(), 3)
        assert events.error is not None and "failed in on_order_event" in events.error
        assert "KeyError: 'cannot handle BUY_ORDER_CREATED'" in events.error
        await events.stop()

        slow = StrategyHost(SlowStartStrategy, context(market))
        started = time.monotonic()
        await slow.start(start_timeout_s=0.2)
        assert time.monotonic() - started < 2 and slow.failed.is_set()
        assert slow.error is not None and "TimeoutError: on_start did not return within 0.2 s" in slow.error
        await slow.stop()

        stuck = StrategyHost(StuckStopStrategy, context(market))
        await stuck.start()
        started = time.monotonic()
        await stuck.stop(timeout_s=0.2)
        assert time.monotonic() - started < 2
        assert stuck.stop_timed_out and stuck.error is None

        broken = StrategyHost(BrokenInitStrategy, context(market))
        assert broken.failed.is_set() and broken.error is not None
        assert "failed in __init__" in broken.error and "RuntimeError: constructor bug" in broken.error
        await broken.start()
        await broken.stop()
    finally:
        await market.stop_network()


async def test_bad_parameters_raise_and_an_unlisted_pair_fails_the_start(server: MockServer) -> None:
    market, _ = await start_market(server)
    try:
        ctx = StrategyContext(market, "DOGE-USDT", market.clock)
        with pytest.raises(StrategyParamError, match=r"params\.cooldown_s: must be >= 0"):
            StrategyHost(TakerStrategy, StrategyContext(market, "BTC-USDT", market.clock, params={"cooldown_s": -1}))
        resolved = StrategyHost(MarketMakingStrategy, StrategyContext(market, "BTC-USDT", market.clock,
                                                                      params={"spread_bps": 2.5})).params
        assert resolved["spread_bps"] == "2.5" and resolved["order_amount"] == "0.001"  # JSON-shaped
        assert resolved["order_refresh_s"] == 10.0 and resolved["tick_interval"] is None
        host = StrategyHost(IdleStrategy, ctx)
        await host.start()
        assert host.failed.is_set() and host.error is not None
        assert "the venue does not list trading pair 'DOGE-USDT'" in host.error
        await host.stop()
    finally:
        await market.stop_network()


def test_load_strategy_by_builtin_name_and_module_class() -> None:
    assert load_strategy("market_making") is MarketMakingStrategy
    assert load_strategy("twap") is TwapStrategy and load_strategy("taker") is TakerStrategy
    assert load_strategy("idle") is IdleStrategy
    assert set(BUILTIN_STRATEGIES) == {"market_making", "twap", "taker", "idle"}
    assert load_strategy(f"{__name__}:RecorderStrategy") is RecorderStrategy
    assert load_strategy("scenarios.strategies.twap:TwapStrategy") is TwapStrategy
    with pytest.raises(ValueError, match=r"unknown strategy 'market_maker'.*market_making, twap, taker, idle"):
        load_strategy("market_maker")
    with pytest.raises(ValueError, match=r"cannot import module 'no_such_module_xyz'"):
        load_strategy("no_such_module_xyz:Thing")
    with pytest.raises(ValueError, match=r"has no attribute 'Missing'"):
        load_strategy(f"{__name__}:Missing")
    with pytest.raises(ValueError, match=r"explode_in_helper is not a subclass"):
        load_strategy(f"{__name__}:explode_in_helper")


def test_parameters_are_validated_with_the_bad_key_named() -> None:
    defaults = MarketMakingStrategy.validate_params({})
    assert defaults["spread_bps"] == Decimal("2") and defaults["order_refresh_s"] == 10.0
    given = MarketMakingStrategy.validate_params({"spread_bps": 2.5, "order_refresh_s": "250ms",
                                                  "order_amount": "0.01", "tick_interval": "2s"})
    assert given["spread_bps"] == Decimal("2.5") and given["order_refresh_s"] == 0.25
    assert given["order_amount"] == Decimal("0.01") and given["tick_interval"] == 2.0
    with pytest.raises(StrategyParamError, match=r"params\.spreed_bps: unknown parameter \(known: .*spread_bps"):
        MarketMakingStrategy.validate_params({"spreed_bps": 5})
    with pytest.raises(StrategyParamError, match=r"params\.spread_bps: must be > 0, got -1"):
        MarketMakingStrategy.validate_params({"spread_bps": -1})
    with pytest.raises(StrategyParamError, match=r"params\.target_base_pct: must be <= 100"):
        MarketMakingStrategy.validate_params({"target_base_pct": 150})
    with pytest.raises(StrategyParamError, match=r"strategy twap: params\.total_amount: required"):
        TwapStrategy.validate_params({"side": "buy"})
    with pytest.raises(StrategyParamError, match=r"params\.side: must be one of buy, sell, got 'hold'"):
        TwapStrategy.validate_params({"total_amount": 1, "side": "hold"})
    with pytest.raises(StrategyParamError, match=r"params\.slices: expected a whole number"):
        TwapStrategy.validate_params({"total_amount": 1, "slices": 2.5})
    with pytest.raises(StrategyParamError, match=r"params\.duration_s: expected a duration"):
        TwapStrategy.validate_params({"total_amount": 1, "duration_s": "soon"})
    with pytest.raises(StrategyParamError, match=r"params\.fast: must be smaller than slow \(3\), got 5"):
        TakerStrategy.validate_params({"fast": 5, "slow": 3})
    with pytest.raises(StrategyParamError, match=r"params\.order_amount: expected a number, got True"):
        TakerStrategy.validate_params({"order_amount": True})
    assert IdleStrategy.validate_params({}) == {"tick_interval": None, "book_poll_interval": None}
    # a user strategy without declared parameters gets them as given
    assert RecorderStrategy.validate_params({"anything": [1, 2]})["anything"] == [1, 2]


async def test_place_order_skips_amounts_under_the_minimum_notional(server: MockServer) -> None:
    market, _ = await start_market(server)
    journal: list[tuple[str, dict[str, Any]]] = []
    try:
        strategy = Strategy(context(market, log=journal))
        assert await strategy.place_order(TradeType.BUY, Decimal("0.00005"), Decimal("60000")) is None
        assert journal and journal[0][0] == "order skipped: under the minimum size or notional"
        assert await venue_open_orders(server) == []
        order_id = await strategy.place_order(TradeType.SELL, Decimal("0.0012345"), Decimal("70000.004"))
        assert order_id is not None
        [order] = await venue_open_orders(server)
        # on the lot grid, and the sell price rounded up (away from the touch)
        assert (order["origQty"], order["price"], order["type"]) == ("0.00123000", "70000.01000000", "LIMIT")
        assert strategy.open_orders(TradeType.SELL)[0].client_order_id == order_id
        assert await strategy.cancel_all_orders(2) == 0
        assert await venue_open_orders(server) == []
        assert OrderType.LIMIT.is_limit_type
    finally:
        await market.stop_network()
