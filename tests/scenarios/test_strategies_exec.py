"""The TWAP executor and the signal taker against a real mock exchange (default market: BTCUSDT
best bid 64999.99, best ask 65000.01). Another account moves the book to make signals fire."""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal
from typing import Any

from connector import Market, VenueConfig
from mock_exchange.config import ServerConfig
from mock_exchange.testing import MockServer
from scenarios.strategies import (
    MarketMakingStrategy,
    StrategyContext,
    StrategyHost,
    TakerStrategy,
    TwapStrategy,
)
from scenarios.vtime import VirtualClock, new_virtual_loop
from tests.connector.market_helpers import create_account, eventually, start_market


def host_for(cls: type[TwapStrategy] | type[TakerStrategy], market: Market, **params: Any) -> StrategyHost:
    return StrategyHost(cls, StrategyContext(market, "BTC-USDT", market.clock, params=params))


async def venue_orders(server: MockServer, account: str | None = None) -> list[dict[str, Any]]:
    resp = await server.client(account).signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")
    assert resp.status == 200, resp.body
    orders = resp.json()
    assert isinstance(orders, list)
    return orders


async def venue_trades(server: MockServer, account: str | None = None) -> list[dict[str, Any]]:
    resp = await server.client(account).signed("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    assert resp.status == 200, resp.body
    trades = resp.json()
    assert isinstance(trades, list)
    return trades


async def run_until_done(host: StrategyHost, timeout: float) -> None:
    strategy = host.strategy
    assert isinstance(strategy, TwapStrategy)
    await host.start()
    await eventually(lambda: strategy.done or host.failed.is_set(), timeout, "the TWAP to finish")
    assert host.error is None, host.error


async def test_twap_with_market_children_executes_the_total_in_timed_slices(server: MockServer) -> None:
    market, _ = await start_market(server, track_order_books=True)
    host = host_for(TwapStrategy, market, side="buy", total_amount="0.05", duration_s="1.5s", slices=5,
                    order_type="market")
    try:
        await run_until_done(host, 4)
        orders = await venue_orders(server)
        assert [(o["type"], o["side"], o["executedQty"], o["status"]) for o in orders] == \
            [("MARKET", "BUY", "0.01000000", "FILLED")] * 5
        times = [o["time"] for o in orders]
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert all(200 <= gap <= 600 for gap in gaps), gaps  # one child per 300 ms slice
        assert sum(Decimal(t["qty"]) for t in await venue_trades(server)) == Decimal("0.05")
        metrics = host.metrics()
        assert metrics["twap_executed"] == Decimal("0.05") and metrics["twap_complete"] == 1
        assert metrics["twap_children"] == 5 and metrics["twap_avg_price"] == Decimal("65000.01")
    finally:
        await host.stop()
        await market.stop_network()


async def test_twap_limit_children_cross_with_a_positive_offset(server: MockServer) -> None:
    market, _ = await start_market(server, track_order_books=True)
    # sell at best ask * (1 - 5 bps) = 64967.51: below the best bid, so each child takes it
    host = host_for(TwapStrategy, market, side="sell", total_amount="0.03", duration_s=0.9, slices=3,
                    order_type="limit", price_offset_bps=5)
    try:
        await run_until_done(host, 4)
        orders = await venue_orders(server)
        assert [(o["type"], o["side"], o["price"], o["status"]) for o in orders] == \
            [("LIMIT", "SELL", "64967.51000000", "FILLED")] * 3
        trades = await venue_trades(server)
        assert {t["price"] for t in trades} == {"64999.99000000"}
        assert host.metrics()["twap_executed"] == Decimal("0.03")
    finally:
        await host.stop()
        await market.stop_network()


async def test_twap_cancels_unfilled_children_and_carries_the_remainder(server: MockServer) -> None:
    market, _ = await start_market(server, track_order_books=True)
    # 10 bps under the best bid: nobody sells down there, so nothing fills
    host = host_for(TwapStrategy, market, side="buy", total_amount="0.03", duration_s=0.9, slices=3,
                    price_offset_bps=-10)
    try:
        await run_until_done(host, 4)
        orders = await venue_orders(server)
        assert [(o["origQty"], o["price"], o["status"]) for o in orders] == [
            ("0.01000000", "64934.99000000", "CANCELED"),
            ("0.02000000", "64934.99000000", "CANCELED"),
            ("0.03000000", "64934.99000000", "CANCELED"),
        ]
        metrics = host.metrics()
        assert metrics["twap_executed"] == 0 and metrics["twap_complete"] == 0
        assert metrics["twap_remaining"] == Decimal("0.03")
    finally:
        await host.stop()
        await market.stop_network()


async def test_taker_crosses_when_the_moving_averages_cross(server: MockServer) -> None:
    market, _ = await start_market(server, track_order_books=True)
    mover = await create_account(server, "mover", {"BTC": "20", "USDT": "2000000"})
    host = host_for(TakerStrategy, market, order_amount="0.001", fast=2, slow=4, tick_interval=0.1,
                    cooldown_s=0.3, max_position="0.001")
    strategy = host.strategy
    assert isinstance(strategy, TakerStrategy)

    async def move(side: str, quantity: str) -> None:
        resp = await mover.signed("POST", "/api/v3/order", symbol="BTCUSDT", side=side, type="MARKET",
                                  quantity=quantity)
        assert resp.status == 200, resp.body

    try:
        await host.start()
        await eventually(lambda: len(strategy.mids) == 4, 3, "a full slow window")
        await asyncio.sleep(0.5)
        assert strategy.signals == 0 and await venue_trades(server) == []  # a flat market: no signal
        await move("BUY", "2")  # lifts the offers: the mid rises, the fast average crosses above
        await eventually(lambda: strategy.trades == 1, 3, "the taker to buy")
        [bought] = await venue_trades(server)
        assert (bought["isBuyer"], bought["qty"], bought["isMaker"]) == (True, "0.00100000", False)
        await asyncio.sleep(0.8)  # the averages meet again
        await move("BUY", "2")  # another rise: a signal, but one more buy would exceed max_position
        await eventually(lambda: strategy.skipped_position == 1, 3, "the position limit to hold")
        assert strategy.trades == 1
        await asyncio.sleep(0.8)
        await move("SELL", "6")  # hits the bids: the mid falls, the fast average crosses below
        await eventually(lambda: strategy.trades == 2, 3, "the taker to sell")
        sides = [(t["isBuyer"], t["qty"]) for t in await venue_trades(server)]
        assert sides == [(True, "0.00100000"), (False, "0.00100000")]
        metrics = host.metrics()
        assert metrics["taker_position"] == 0 and metrics["taker_signals"] == 3
    finally:
        await host.stop()
        await market.stop_network()


def test_strategies_run_on_the_scenario_loop_in_virtual_time() -> None:
    """The same strategies on the runner's virtual-time loop: ten minutes of TWAP and two of
    market making take well under a wall second each, on the injected clock alone."""
    start = 1_700_000_000_000
    loop = new_virtual_loop()
    clock = VirtualClock(loop, start)

    async def scenario() -> tuple[list[int], dict[str, Any], dict[str, Any]]:
        async with MockServer(ServerConfig(), clock=clock) as server:
            info = next(iter(server.state.accounts.values()))
            config = VenueConfig.custom(server.base_url, api_key=info.api_key, api_secret=info.secret_key,
                                        clock=clock)
            market = Market(config, ["BTC-USDT"])
            await market.start_network()
            await market.wait_until_ready(30)
            try:
                twap = StrategyHost(TwapStrategy, StrategyContext(
                    market, "BTC-USDT", clock, random.Random(1),
                    {"side": "buy", "total_amount": "0.1", "duration_s": "10m", "slices": 10,
                     "order_type": "market"}))
                await twap.run(duration_s=610)
                times = [o["time"] - start for o in await venue_orders(server)]
                mm = StrategyHost(MarketMakingStrategy, StrategyContext(
                    market, "BTC-USDT", clock, random.Random(1), {"order_refresh_s": "10s"}))
                await mm.run(duration_s=120)
                assert twap.error is None and mm.error is None, (twap.error, mm.error)
                return times, twap.metrics(), mm.metrics()
            finally:
                await market.stop_network()

    wall = time.monotonic()
    try:
        times, twap_metrics, mm_metrics = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert time.monotonic() - wall < 10
    assert len(times) == 10 and [b - a for a, b in zip(times, times[1:], strict=False)] == [60_000] * 9
    assert twap_metrics["twap_executed"] == Decimal("0.1") and twap_metrics["twap_complete"] == 1
    assert 10 <= mm_metrics["refreshes"] <= 12  # every 10 s for 120 s
