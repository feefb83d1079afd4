"""The market under the mock's injected faults (/_mock/faults): unknown outcomes on placement
and cancel are reconciled to the venue's truth, rate limits and clock skew are survived, and
the user stream comes back after drops, terminations and shutdowns without losing a fill.
Each test ends with the same audit: no order lost, duplicated or in the wrong state; balances
equal the venue's."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from connector.events import (
    BuyOrderCreatedEvent,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderFilledEvent,
    OrderType,
    SellOrderCompletedEvent,
    SellOrderCreatedEvent,
)
from connector.in_flight_order import OrderState
from connector.market import Market
from mock_exchange.testing import MockServer, SignedClient
from tests.connector.fault_helpers import add_fault, applied, audit, require_faults
from tests.connector.market_helpers import book_top, create_account, eventually, start_market

pytestmark = pytest.mark.usefixtures("_faults_available")
TIMEOUT_S = 0.5  # the client's request timeout in these tests


@pytest.fixture
def _faults_available() -> None:
    require_faults()


@pytest.mark.parametrize("stream", [True, False], ids=["with-stream", "rest-only"])
@pytest.mark.parametrize("status,code", [(503, -1007), (500, -1000), (400, -1007)])
async def test_placement_error_but_executed_is_reconciled(server: MockServer, client: SignedClient,
                                                          stream: bool, status: int, code: int) -> None:
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S)
    try:
        if not stream:
            assert market.user_stream_tracker is not None
            await market.user_stream_tracker.stop()
        await add_fault(server, {"type": "http_error", "method": "POST", "path": "/api/v3/order",
                                 "status": status, "code": code, "count": 2, "execute": True})
        bid, _ = await book_top(server)
        resting = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        taker = market.sell("BTC-USDT", Decimal("0.3"), OrderType.MARKET)
        await log.wait_for(BuyOrderCreatedEvent, lambda e: e.order_id == resting)
        await log.wait_for(SellOrderCompletedEvent, lambda e: e.order_id == taker)
        assert await applied(server, "http_error") == 2
        await eventually(lambda: market.in_flight_orders[resting].state is OrderState.OPEN, what="resting open")
        market.cancel("BTC-USDT", resting)
        await log.wait_for(OrderCancelledEvent, lambda e: e.order_id == resting)
        await audit(market, log, client, [resting, taker])
    finally:
        await market.stop_network()


async def test_placement_error_not_executed_becomes_a_failed_order(server: MockServer, client: SignedClient) -> None:
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S)
    try:
        await add_fault(server, {"type": "http_error", "method": "POST", "path": "/api/v3/order", "status": 503,
                                 "code": -1007, "count": 1, "execute": False})
        bid, _ = await book_top(server)
        oid = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        failed = await log.wait_for(MarketOrderFailureEvent, lambda e: e.order_id == oid, timeout=5)
        assert "-2013" in failed.error_message and "-1007" in failed.error_message
        assert failed.source == "reconciliation" and failed.error_message.startswith("not placed")
        assert market.get_order(oid).state is OrderState.FAILED  # type: ignore[union-attr]
        assert oid not in market.lost_orders and oid not in market.in_flight_orders
        await audit(market, log, client, [oid])
        # the market keeps working afterwards
        again = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        await log.wait_for(BuyOrderCreatedEvent, lambda e: e.order_id == again)
        await audit(market, log, client, [oid, again])
    finally:
        await market.stop_network()


@pytest.mark.parametrize("stream", [True, False], ids=["with-stream", "rest-only"])
async def test_reply_delayed_past_the_client_timeout_is_reconciled(server: MockServer, client: SignedClient,
                                                                   stream: bool) -> None:
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S)
    try:
        if not stream:
            assert market.user_stream_tracker is not None
            await market.user_stream_tracker.stop()
        await add_fault(server, {"type": "delay", "method": "POST", "path": "/api/v3/order", "ms": 1200,
                                 "count": 2})
        bid, _ = await book_top(server)
        resting = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        taker = market.sell("BTC-USDT", Decimal("0.2"), OrderType.MARKET)
        await log.wait_for(SellOrderCompletedEvent, lambda e: e.order_id == taker, timeout=5)
        await log.wait_for(BuyOrderCreatedEvent, lambda e: e.order_id == resting, timeout=5)
        await asyncio.sleep(1.0)  # the late replies arrive (the client stopped listening): nothing changes
        await audit(market, log, client, [resting, taker])
    finally:
        await market.stop_network()


@pytest.mark.parametrize("execute", [True, False])
async def test_cancel_with_unknown_outcome_ends_cancelled(server: MockServer, client: SignedClient,
                                                          execute: bool) -> None:
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S)
    try:
        bid, _ = await book_top(server)
        oid = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        await log.wait_for(BuyOrderCreatedEvent, lambda e: e.order_id == oid)
        await add_fault(server, {"type": "http_error", "method": "DELETE", "path": "/api/v3/order", "status": 503,
                                 "code": -1007, "count": 1, "execute": execute})
        market.cancel("BTC-USDT", oid)
        await log.wait_for(OrderCancelledEvent, lambda e: e.order_id == oid, timeout=5)
        assert await applied(server, "http_error") == 1
        order = market.get_order(oid)
        assert order is not None and order.cancel_attempts == (1 if execute else 2)
        await audit(market, log, client, [oid])
    finally:
        await market.stop_network()


async def test_cancel_timeout_is_reconciled(server: MockServer, client: SignedClient) -> None:
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S)
    try:
        bid, _ = await book_top(server)
        oid = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        await log.wait_for(BuyOrderCreatedEvent, lambda e: e.order_id == oid)
        await add_fault(server, {"type": "delay", "method": "DELETE", "path": "/api/v3/order", "ms": 1500})
        market.cancel("BTC-USDT", oid)
        await log.wait_for(OrderCancelledEvent, lambda e: e.order_id == oid, timeout=5)
        await audit(market, log, client, [oid])
    finally:
        await market.stop_network()


@pytest.mark.parametrize("status", [429, 418])
async def test_rate_limited_placement_waits_retry_after_then_succeeds(server: MockServer, client: SignedClient,
                                                                      status: int) -> None:
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S)
    try:
        await add_fault(server, {"type": "rate_limit", "status": status, "retryAfter": 1, "count": 1,
                                 "method": "POST", "path": "/api/v3/order"})
        bid, _ = await book_top(server)
        loop = asyncio.get_running_loop()
        start = loop.time()
        oid = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        await log.wait_for(BuyOrderCreatedEvent, lambda e: e.order_id == oid, timeout=5)
        assert loop.time() - start >= 0.95  # nothing was sent before Retry-After had passed
        assert market.throttler.backoffs == 1
        await audit(market, log, client, [oid])
    finally:
        await market.stop_network()


@pytest.mark.parametrize("skew_ms", [-4000, 8000])
async def test_clock_skew_triggers_resync_and_success(server: MockServer, client: SignedClient,
                                                      skew_ms: int) -> None:
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S)
    try:
        offset_before, syncs = market.time_sync.offset_ms, market.time_sync.sync_count
        await add_fault(server, {"type": "clock_skew", "ms": skew_ms})
        bid, _ = await book_top(server)
        oid = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        await log.wait_for(BuyOrderCreatedEvent, lambda e: e.order_id == oid, timeout=5)
        assert market.time_sync.sync_count > syncs
        assert abs(market.time_sync.offset_ms - offset_before - skew_ms) < 500
        await audit(market, log, client, [oid])
    finally:
        await market.stop_network()


async def _fill_while_stream_is_cut(server: MockServer, client: SignedClient, fault: dict[str, object]) -> None:
    other = await create_account(server, "other", {"USDT": "1000000", "BTC": "100"})
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S, poll_interval_s=60.0)
    try:
        source = market.user_stream_tracker.data_source if market.user_stream_tracker else None
        assert source is not None and source.subscriptions == 1
        _, ask = await book_top(server)
        price = ask - Decimal("0.01")  # both become the best ask, first ahead of second
        first = market.sell("BTC-USDT", Decimal("0.2"), OrderType.LIMIT, price)
        await log.wait_for(SellOrderCreatedEvent, lambda e: e.order_id == first)
        second = market.sell("BTC-USDT", Decimal("0.2"), OrderType.LIMIT, price)
        await log.wait_for(SellOrderCreatedEvent, lambda e: e.order_id == second)
        await add_fault(server, fault)
        # fills happen right away, while the connector is (re)connecting
        assert (await other.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                   quantity="0.3")).status == 200
        await log.wait_for(SellOrderCompletedEvent, lambda e: e.order_id == first, timeout=5)
        await log.wait_for(OrderFilledEvent, lambda e: e.order_id == second, timeout=5)
        await eventually(lambda: source.subscriptions >= 2 and source.is_subscribed, what="resubscribed")
        # and after the reconnect the stream delivers again
        assert (await other.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                   quantity="0.1")).status == 200
        await log.wait_for(SellOrderCompletedEvent, lambda e: e.order_id == second, timeout=5)
        assert len(log.of_type(SellOrderCompletedEvent)) == 2
        await audit(market, log, client, [first, second])
    finally:
        await market.stop_network()


async def test_user_stream_dropped_reconnects_without_losing_fills(server: MockServer,
                                                                   client: SignedClient) -> None:
    await _fill_while_stream_is_cut(server, client, {"type": "drop_streams", "target": "user"})


async def test_user_stream_terminated_resubscribes_without_losing_fills(server: MockServer,
                                                                        client: SignedClient) -> None:
    await _fill_while_stream_is_cut(server, client, {"type": "terminate_user_streams"})


async def test_server_shutdown_reconnects_without_losing_fills(server: MockServer, client: SignedClient) -> None:
    await _fill_while_stream_is_cut(server, client, {"type": "server_shutdown"})


async def test_stalled_user_stream_polling_fills_in_and_late_events_are_deduplicated(
        server: MockServer, client: SignedClient) -> None:
    other = await create_account(server, "other", {"USDT": "1000000", "BTC": "100"})
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S, poll_interval_s=0.3)
    try:
        _, ask = await book_top(server)
        oid = market.sell("BTC-USDT", Decimal("0.2"), OrderType.LIMIT, ask - Decimal("0.01"))
        await log.wait_for(SellOrderCreatedEvent, lambda e: e.order_id == oid)
        await add_fault(server, {"type": "stall_streams", "target": "user", "ms": 1500})
        assert (await other.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                   quantity="0.2")).status == 200
        loop = asyncio.get_running_loop()
        start = loop.time()
        await log.wait_for(SellOrderCompletedEvent, lambda e: e.order_id == oid, timeout=5)
        assert loop.time() - start < 1.4  # REST polling found the fill while the stream was held
        before = len(log.event_log)
        await asyncio.sleep(1.5)  # the held executionReports arrive now
        assert len(log.event_log) == before
        await audit(market, log, client, [oid])
    finally:
        await market.stop_network()


def settled(market: Market, order_id: str) -> bool:
    """The venue's answer about the order is known: created, found never placed, or declared lost."""
    order = market.get_order(order_id)
    return order is not None and (order.created_reported or order.state is OrderState.FAILED
                                  or order_id in market.lost_orders)


async def test_mixed_faults_leave_every_order_in_the_venues_state(server: MockServer, client: SignedClient) -> None:
    other = await create_account(server, "other", {"USDT": "1000000", "BTC": "100"})
    market, log = await start_market(server, request_timeout_s=TIMEOUT_S)
    try:
        bid, ask = await book_top(server)
        await add_fault(server, {"type": "http_error", "method": "POST", "path": "/api/v3/order", "status": 503,
                                 "code": -1007, "count": 2, "execute": True})
        await add_fault(server, {"type": "http_error", "method": "POST", "path": "/api/v3/order", "status": 502,
                                 "code": -1007, "count": 1, "execute": False})
        ids = [
            market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100)),
            market.sell("BTC-USDT", Decimal("0.05"), OrderType.MARKET),
            market.sell("BTC-USDT", Decimal("0.3"), OrderType.LIMIT, ask - Decimal("0.01")),
            market.buy("BTC-USDT", Decimal("0.05"), OrderType.MARKET),
        ]
        await eventually(lambda: all(settled(market, i) for i in ids), timeout=5, what="settled")
        await add_fault(server, {"type": "delay", "method": "POST", "path": "/api/v3/order", "ms": 1000})
        ids.append(market.sell("BTC-USDT", Decimal("0.02"), OrderType.LIMIT, ask + Decimal(300)))
        ids.append(market.buy("BTC-USDT", Decimal("0.02"), OrderType.LIMIT_MAKER, bid - Decimal(300)))
        await add_fault(server, {"type": "drop_streams", "target": "user"})
        assert (await other.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                   quantity="0.1")).status == 200
        await asyncio.sleep(0.3)
        await add_fault(server, {"type": "http_error", "method": "DELETE", "path": "/api/v3/order", "status": 503,
                                 "code": -1007, "count": 1, "execute": False})
        await eventually(lambda: all(settled(market, i) for i in ids), timeout=5, what="all settled")
        results = await market.cancel_all(5)
        assert results and all(r.success for r in results), results
        never_placed = [i for i in ids if market.get_order(i).state is OrderState.FAILED]  # type: ignore[union-attr]
        assert len(never_placed) == 1 and not market.lost_orders and not market.in_flight_orders
        await audit(market, log, client, ids)
    finally:
        await market.stop_network()
