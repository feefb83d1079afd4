"""Market against the mock over real sockets: orders of every kind, fills and fees, cancels and
rejections arrive as the right events with the venue's reasons, and balances follow the venue."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from connector.events import (
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderFilledEvent,
    OrderType,
    SellOrderCompletedEvent,
    SellOrderCreatedEvent,
)
from connector.in_flight_order import OrderState
from mock_exchange.testing import MockServer, SignedClient
from tests.connector.market_helpers import (
    assert_lifecycle,
    balances_match,
    book_top,
    create_account,
    eventually,
    mock_order,
    mock_trades,
    start_market,
)

ASSETS = ("BTC", "USDT")


def order_is(oid: str) -> Callable[[MarketOrderFailureEvent | BuyOrderCreatedEvent | OrderCancelledEvent], bool]:
    return lambda e: e.order_id == oid


async def test_start_network_loads_rules_balances_and_subscribes(server: MockServer, client: SignedClient) -> None:
    market, _ = await start_market(server, pairs=("BTC-USDT", "ETH-BTC"))
    try:
        assert market.ready
        assert market.status_dict == {"trading_rule_initialized": True, "order_books_initialized": True,
                                      "account_balance": True, "user_stream_initialized": True}
        rule = market.trading_rule("BTC-USDT")
        assert market.trading_rule("BTCUSDT") is rule
        assert (rule.min_price_increment, rule.min_base_amount_increment, rule.min_notional_size) == (
            Decimal("0.01"), Decimal("0.00001"), Decimal("5"))
        assert set(market.trading_rules) == {"BTC-USDT", "ETH-BTC"}
        assert market.quantize_order_price("BTC-USDT", Decimal("65000.019")) == Decimal("65000.01")
        assert market.quantize_order_amount("BTC-USDT", Decimal("0.123456789")) == Decimal("0.12345")
        assert market.quantize_order_amount("BTC-USDT", Decimal("0.00001"), Decimal("100")) == 0  # notional < 5
        await balances_match(market, client, ("BTC", "USDT", "ETH"))
        assert market.get_balance("USDT") == Decimal("100000")
    finally:
        await market.stop_network()


async def test_limit_buy_rests_then_cancel(server: MockServer, client: SignedClient) -> None:
    market, log = await start_market(server)
    try:
        bid, _ = await book_top(server)
        price = bid - Decimal("100")
        oid = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, price)
        await log.wait_for(BuyOrderCreatedEvent, lambda e: e.order_id == oid, 5)
        await eventually(lambda: market.in_flight_orders.get(oid) is not None
                         and market.in_flight_orders[oid].state is OrderState.OPEN, what="open")
        venue = await mock_order(client, "BTCUSDT", oid)
        assert venue is not None and venue["status"] == "NEW" and Decimal(venue["price"]) == price
        await balances_match(market, client, ASSETS)
        assert market.get_available_balance("USDT") == Decimal("100000") - price * Decimal("0.01")
        market.cancel("BTC-USDT", oid)
        await log.wait_for(OrderCancelledEvent, lambda e: e.order_id == oid)
        assert_lifecycle(log, oid, OrderCancelledEvent)
        assert oid not in market.in_flight_orders
        venue = await mock_order(client, "BTCUSDT", oid)
        assert venue is not None and venue["status"] == "CANCELED"
        await balances_match(market, client, ASSETS)
        assert market.get_available_balance("USDT") == Decimal("100000")
    finally:
        await market.stop_network()


@pytest.mark.parametrize("side", ["buy", "sell"])
async def test_market_orders_fill_with_fees_and_balances_follow(server: MockServer, client: SignedClient,
                                                                side: str) -> None:
    market, log = await start_market(server)
    try:
        amount = Decimal("1.5")  # walks several seeded levels
        oid = (market.buy if side == "buy" else market.sell)("BTC-USDT", amount, OrderType.MARKET)
        final = BuyOrderCompletedEvent if side == "buy" else SellOrderCompletedEvent
        done = await log.wait_for(final, lambda e: e.order_id == oid)
        events = assert_lifecycle(log, oid, final)
        fills = [e for e in events if isinstance(e, OrderFilledEvent)]
        assert len(fills) > 1 and all(not f.is_maker for f in fills)
        assert done.base_asset_amount == amount == sum(f.amount for f in fills)
        assert done.quote_asset_amount == sum(f.price * f.amount for f in fills)
        venue = await mock_order(client, "BTCUSDT", oid)
        assert venue is not None and venue["status"] == "FILLED"
        trades = await mock_trades(client, "BTCUSDT", venue["orderId"])
        assert {t["id"]: (Decimal(t["qty"]), Decimal(t["commission"]), t["commissionAsset"]) for t in trades} == {
            f.trade_id: (f.amount, f.fee_amount, f.fee_asset) for f in fills}
        fee_asset = "BTC" if side == "buy" else "USDT"
        assert set(done.fees) == {fee_asset}
        assert done.fees[fee_asset] > 0
        await balances_match(market, client, ASSETS)
        if side == "buy":
            assert market.get_balance("BTC") == Decimal("10") + amount - done.fees["BTC"]
            assert market.get_balance("USDT") == Decimal("100000") - done.quote_asset_amount
        else:
            assert market.get_balance("BTC") == Decimal("10") - amount
            assert market.get_balance("USDT") == Decimal("100000") + done.quote_asset_amount - done.fees["USDT"]
    finally:
        await market.stop_network()


async def test_crossing_limit_sell_fills_as_taker(server: MockServer, client: SignedClient) -> None:
    market, log = await start_market(server)
    try:
        bid, _ = await book_top(server)
        oid = market.sell("BTC-USDT", Decimal("0.2"), OrderType.LIMIT, bid - Decimal("50"))
        done = await log.wait_for(SellOrderCompletedEvent, lambda e: e.order_id == oid)
        assert_lifecycle(log, oid, SellOrderCompletedEvent)
        assert done.base_asset_amount == Decimal("0.2")
        assert done.quote_asset_amount / done.base_asset_amount >= bid - Decimal("50")
        await balances_match(market, client, ASSETS)
    finally:
        await market.stop_network()


async def test_partial_fill_by_another_account_then_full(server: MockServer, client: SignedClient) -> None:
    other = await create_account(server, "other", {"USDT": "1000000", "BTC": "100"})
    market, log = await start_market(server)
    try:
        bid, ask = await book_top(server)
        price = ask - Decimal("0.01")  # our sell becomes the best ask
        assert price > bid
        oid = market.sell("BTC-USDT", Decimal("0.3"), OrderType.LIMIT, price)
        await eventually(lambda: oid in market.in_flight_orders and market.in_flight_orders[oid].state
                         is OrderState.OPEN, what="sell open")
        resp = await other.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                  quantity="0.1")
        assert resp.status == 200, resp.body
        fill = await log.wait_for(OrderFilledEvent, lambda e: e.order_id == oid)
        assert (fill.amount, fill.price, fill.is_maker, fill.fee_asset) == (Decimal("0.1"), price, True, "USDT")
        assert fill.fee_amount == price * Decimal("0.1") * Decimal("0.001")
        await eventually(lambda: market.in_flight_orders[oid].state is OrderState.PARTIALLY_FILLED,
                         what="partially filled")
        await balances_match(market, client, ASSETS)
        resp = await other.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                  quantity="0.2")
        assert resp.status == 200, resp.body
        done = await log.wait_for(SellOrderCompletedEvent, lambda e: e.order_id == oid)
        assert done.base_asset_amount == Decimal("0.3")
        assert done.quote_asset_amount == price * Decimal("0.3")
        assert_lifecycle(log, oid, SellOrderCompletedEvent)
        await balances_match(market, client, ASSETS)
    finally:
        await market.stop_network()


async def test_partially_filled_order_cancelled_reports_executed_amount(server: MockServer,
                                                                       client: SignedClient) -> None:
    other = await create_account(server, "other", {"USDT": "1000000", "BTC": "100"})
    market, log = await start_market(server)
    try:
        bid, _ = await book_top(server)
        price = bid + Decimal("0.01")  # our buy becomes the best bid
        oid = market.buy("BTC-USDT", Decimal("0.4"), OrderType.LIMIT, price)
        await eventually(lambda: oid in market.in_flight_orders and market.in_flight_orders[oid].created_reported,
                         what="buy created")
        resp = await other.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="MARKET",
                                  quantity="0.15")
        assert resp.status == 200, resp.body
        await log.wait_for(OrderFilledEvent, lambda e: e.order_id == oid)
        market.cancel("BTC-USDT", oid)
        cancelled = await log.wait_for(OrderCancelledEvent, lambda e: e.order_id == oid)
        assert cancelled.executed_amount == Decimal("0.15")
        assert_lifecycle(log, oid, OrderCancelledEvent)
        await balances_match(market, client, ASSETS)
    finally:
        await market.stop_network()


async def test_rejections_carry_the_venues_code_and_message(server: MockServer, client: SignedClient) -> None:
    other = await create_account(server, "other", {"USDT": "1000000"})
    # a trade gives the symbol an average price, which PERCENT_PRICE_BY_SIDE needs
    assert (await other.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                               quantity="0.001")).status == 200
    market, log = await start_market(server)
    try:
        bid, ask = await book_top(server)
        cases = {
            # LIMIT_MAKER that would take
            market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT_MAKER, ask + Decimal("10")):
                (-2010, "Order would immediately match and take.", "venue"),
            # far more than the account holds
            market.buy("BTC-USDT", Decimal("100"), OrderType.LIMIT, bid - Decimal("1000")):
                (-2010, "Account has insufficient balance for requested action.", "venue"),
            market.sell("BTC-USDT", Decimal("11"), OrderType.MARKET):
                (-2010, "Account has insufficient balance for requested action.", "venue"),
            # filters the venue checks with market data (price too far from the average)
            market.sell("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid * 10):
                (-1013, "Filter failure: PERCENT_PRICE_BY_SIDE", "venue"),
            # filters the connector's rules already know: same code and text as the venue's
            market.buy("BTC-USDT", Decimal("0.00001"), OrderType.LIMIT, bid - Decimal("1000")):
                (-1013, "Filter failure: NOTIONAL", "connector"),
            market.buy("BTC-USDT", Decimal("0.000001"), OrderType.MARKET):
                (-1013, "Filter failure: LOT_SIZE", "connector"),
            market.buy("NOPE-USDT", Decimal("1"), OrderType.MARKET): (-1121, "Invalid symbol.", "connector"),
        }
        for oid, (code, msg, source) in cases.items():
            failure = await log.wait_for(MarketOrderFailureEvent, order_is(oid))
            assert (failure.error_code, failure.error_message, failure.source) == (code, msg, source), oid
            assert_lifecycle(log, oid, MarketOrderFailureEvent)
            assert oid not in market.in_flight_orders
            order = market.get_order(oid)
            assert order is not None and order.state is OrderState.FAILED
        await balances_match(market, client, ASSETS)
        assert market.get_balance("USDT") == Decimal("100000")
    finally:
        await market.stop_network()


async def test_cancel_all_and_quiet_reconcile(server: MockServer, client: SignedClient) -> None:
    market, log = await start_market(server, pairs=("BTC-USDT", "ETH-USDT"))
    try:
        bid, _ = await book_top(server)
        ebid, _ = await book_top(server, "ETHUSDT")
        ids = [market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100 + i)) for i in range(3)]
        ids.append(market.sell("ETH-USDT", Decimal("0.1"), OrderType.LIMIT, ebid + Decimal(200)))
        await eventually(lambda: all(i in market.in_flight_orders and market.in_flight_orders[i].created_reported
                                     for i in ids), what="all created")
        before = len(log.event_log)
        await market.poll_once()  # a REST reconcile of unchanged orders reports nothing new
        assert len(log.event_log) == before
        results = await market.cancel_all(5)
        assert sorted(r.order_id for r in results) == sorted(ids) and all(r.success for r in results)
        for i in ids:
            assert_lifecycle(log, i, OrderCancelledEvent)
        assert not market.in_flight_orders
        resp = await client.signed("GET", "/api/v3/openOrders")
        assert resp.json() == []
        await balances_match(market, client, ("BTC", "USDT", "ETH"))
    finally:
        await market.stop_network()


async def test_rest_polling_keeps_orders_and_balances_right_without_the_user_stream(
        server: MockServer, client: SignedClient) -> None:
    other = await create_account(server, "other", {"USDT": "1000000", "BTC": "100"})
    market, log = await start_market(server, short_poll_interval_s=0.2)
    try:
        assert market.user_stream_tracker is not None
        await market.user_stream_tracker.stop()  # the stream is down: polling is all we have
        _, ask = await book_top(server)
        price = ask - Decimal("0.01")
        oid = market.sell("BTC-USDT", Decimal("0.25"), OrderType.LIMIT, price)
        await log.wait_for(SellOrderCreatedEvent, lambda e: e.order_id == oid)
        resp = await other.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                  quantity="0.25")
        assert resp.status == 200
        await log.wait_for(SellOrderCompletedEvent, lambda e: e.order_id == oid, timeout=5)
        events = assert_lifecycle(log, oid, SellOrderCompletedEvent)
        assert [type(e).__name__ for e in events] == ["SellOrderCreatedEvent", "OrderFilledEvent",
                                                      "SellOrderCompletedEvent"]
        await balances_match(market, client, ASSETS)
    finally:
        await market.stop_network()


async def test_timestamp_rejected_then_resynced(server: MockServer, client: SignedClient) -> None:
    market, log = await start_market(server)
    try:
        syncs = market.time_sync.sync_count
        market.time_sync.offset_ms += 30_000  # our idea of the server clock is now 30 s fast: -1021
        bid, _ = await book_top(server)
        oid = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        await log.wait_for(BuyOrderCreatedEvent, order_is(oid), timeout=5)
        assert market.time_sync.sync_count == syncs + 1
        assert abs(market.time_sync.offset_ms) < 5_000
        assert not log.of_type(MarketOrderFailureEvent)
    finally:
        await market.stop_network()


async def test_cancel_before_the_venue_answered_is_sent_once_it_did(server: MockServer,
                                                                    client: SignedClient) -> None:
    market, log = await start_market(server)
    try:
        bid, _ = await book_top(server)
        oid = market.buy("BTC-USDT", Decimal("0.01"), OrderType.LIMIT, bid - Decimal(100))
        market.cancel("BTC-USDT", oid)  # same tick: the placement has not even been sent
        await log.wait_for(OrderCancelledEvent, order_is(oid), timeout=5)
        assert_lifecycle(log, oid, OrderCancelledEvent)
        venue = await mock_order(client, "BTCUSDT", oid)
        assert venue is not None and venue["status"] == "CANCELED"
    finally:
        await market.stop_network()


async def test_order_book_prices_from_the_tracked_book(server: MockServer) -> None:
    market, _ = await start_market(server, track_order_books=True)
    try:
        assert market.status_dict["order_books_initialized"]
        bid, ask = await book_top(server)
        assert market.get_price("BTC-USDT", True) == ask
        assert market.get_price("BTCUSDT", False) == bid
        assert market.get_order_book("BTC-USDT").best_bid == bid
    finally:
        await market.stop_network()
