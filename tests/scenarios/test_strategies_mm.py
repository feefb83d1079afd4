"""The market-making strategy against a real mock exchange (default market: BTCUSDT best levels
64999.99 / 65000.01, so the mid is 65000.00): one bid and one ask around the mid, replaced
when stale or when the mid moves, skewed toward the inventory target."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from connector import Market
from mock_exchange.testing import MockServer
from scenarios.strategies import MarketMakingStrategy, StrategyContext, StrategyHost
from tests.connector.market_helpers import book_top, create_account, start_market


async def venue_quotes(server: MockServer, account: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The account's open BTCUSDT orders on the venue, by side."""
    resp = await server.client(account).signed("GET", "/api/v3/openOrders", symbol="BTCUSDT")
    assert resp.status == 200, resp.body
    out: dict[str, list[dict[str, Any]]] = {"BUY": [], "SELL": []}
    for order in resp.json():
        out[order["side"]].append(order)
    return out


def mm_host(market: Market, **params: Any) -> StrategyHost:
    return StrategyHost(MarketMakingStrategy, StrategyContext(market, "BTC-USDT", market.clock, params=params))


async def one_each_side(server: MockServer, account: str | None = None,
                        timeout: float = 3.0) -> tuple[dict[str, Any], dict[str, Any]]:
    """Wait for exactly one bid and one ask on the venue; return them."""
    quotes: dict[str, list[dict[str, Any]]] = {}

    async def both() -> None:
        nonlocal quotes
        while True:
            quotes = await venue_quotes(server, account)
            if len(quotes["BUY"]) == 1 and len(quotes["SELL"]) == 1:
                return
            assert len(quotes["BUY"]) <= 1 and len(quotes["SELL"]) <= 1, quotes
            await asyncio.sleep(0.03)

    await asyncio.wait_for(both(), timeout)
    return quotes["BUY"][0], quotes["SELL"][0]


async def test_quotes_one_bid_and_one_ask_around_the_mid_and_follow_it(server: MockServer) -> None:
    market, _ = await start_market(server, track_order_books=True)
    mover = await create_account(server, "mover", {"BTC": "10", "USDT": "2000000"})
    host = mm_host(market, spread_bps=10, order_amount="0.01", inventory_skew=0, order_refresh_s=60,
                   refresh_tolerance_bps=2, tick_interval=0.1)
    try:
        await host.start()
        bid, ask = await one_each_side(server)
        assert (bid["price"], bid["origQty"]) == ("64935.00000000", "0.01000000")  # 65000 * (1 - 10 bps)
        assert (ask["price"], ask["origQty"]) == ("65065.00000000", "0.01000000")  # 65000 * (1 + 10 bps)
        await asyncio.sleep(0.5)  # several ticks: the same two quotes, nothing added
        again = await venue_quotes(server)
        assert [o["clientOrderId"] for o in again["BUY"] + again["SELL"]] == [bid["clientOrderId"],
                                                                             ask["clientOrderId"]]
        # another account lifts the offers up to 65040 and leaves a bid there: the mid is now
        # (65040 + 65040.80) / 2 = 65040.40, 6.2 bps up, beyond the 2 bps tolerance
        resp = await mover.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                                  timeInForce="GTC", quantity="20", price="65040")
        assert resp.status == 200, resp.body
        assert await book_top(server) == (Decimal("65040"), Decimal("65040.8"))

        async def moved() -> tuple[dict[str, Any], dict[str, Any]]:
            while True:
                new_bid, new_ask = await one_each_side(server)
                if new_bid["clientOrderId"] != bid["clientOrderId"] and new_ask["clientOrderId"] != ask["clientOrderId"]:
                    return new_bid, new_ask
                await asyncio.sleep(0.03)

        new_bid, new_ask = await asyncio.wait_for(moved(), 3)
        assert new_bid["price"] == "64975.35000000"  # 65040.40 * 0.999 = 64975.3596, down to the tick
        assert new_ask["price"] == "65105.45000000"  # 65040.40 * 1.001 = 65105.4404, up to the tick
        metrics = host.metrics()
        assert metrics["refreshes"] == 1 and metrics["quotes_placed"] == 4
    finally:
        await host.stop()
        await market.stop_network()
    assert await venue_quotes(server) == {"BUY": [], "SELL": []}


async def test_stale_quotes_are_replaced_and_never_doubled(server: MockServer) -> None:
    market, _ = await start_market(server, track_order_books=True)
    host = mm_host(market, order_amount="0.01", order_refresh_s="400ms", tick_interval="100ms")
    seen_bids: set[str] = set()
    seen_asks: set[str] = set()
    try:
        await host.start()
        await one_each_side(server)
        loop = asyncio.get_running_loop()
        end = loop.time() + 1.5
        while loop.time() < end:
            quotes = await venue_quotes(server)
            assert len(quotes["BUY"]) <= 1 and len(quotes["SELL"]) <= 1, quotes
            seen_bids.update(o["clientOrderId"] for o in quotes["BUY"])
            seen_asks.update(o["clientOrderId"] for o in quotes["SELL"])
            await asyncio.sleep(0.05)
        assert len(seen_bids) >= 3 and len(seen_asks) >= 3
        assert host.metrics()["refreshes"] >= 2
    finally:
        await host.stop()
        await market.stop_network()


async def test_quotes_skew_toward_the_inventory_target(server: MockServer) -> None:
    # "quoteheavy" holds 0.5 BTC (32 500 USDT) and 100 000 USDT: 24.5 % base, under the 50 % target.
    # The default account holds 10 BTC (650 000 USDT) and 100 000 USDT: 86.7 % base, over it.
    await create_account(server, "quoteheavy", {"BTC": "0.5", "USDT": "100000"})
    light, _ = await start_market(server, account="quoteheavy", track_order_books=True)
    heavy, _ = await start_market(server, track_order_books=True)
    params: dict[str, Any] = {"spread_bps": 10, "order_amount": "0.01", "target_base_pct": 50,
                              "inventory_skew": 1, "tick_interval": 0.1}
    hosts = [mm_host(light, **params), mm_host(heavy, **params)]
    try:
        for host in hosts:
            await host.start()
        mid = Decimal("65000")
        bid, ask = await one_each_side(server, "quoteheavy")
        # short of base: quotes move up (bid nearer the mid than the ask) and the bid is bigger
        assert mid - Decimal(bid["price"]) < Decimal(ask["price"]) - mid
        assert Decimal(bid["origQty"]) > Decimal("0.01") > Decimal(ask["origQty"])
        assert (bid["price"], bid["origQty"]) == ("64968.08000000", "0.01509000")
        bid, ask = await one_each_side(server)
        # long of base: the other way round
        assert mid - Decimal(bid["price"]) > Decimal(ask["price"]) - mid
        assert Decimal(bid["origQty"]) < Decimal("0.01") < Decimal(ask["origQty"])
        light_metrics, heavy_metrics = hosts[0].metrics(), hosts[1].metrics()
        assert round(Decimal(light_metrics["base_pct"]), 1) == Decimal("24.5")
        assert round(Decimal(heavy_metrics["base_pct"]), 1) == Decimal("86.7")
        assert Decimal(light_metrics["inventory_deviation"]) < 0 < Decimal(heavy_metrics["inventory_deviation"])
    finally:
        for host in hosts:
            await host.stop()
        await light.stop_network()
        await heavy.stop_network()
