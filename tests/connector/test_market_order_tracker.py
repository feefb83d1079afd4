"""The order state machine without a venue: reports from the order answer, the user stream and
REST polling in any order and any number of times give the same events, each once."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from connector.clock import ManualClock
from connector.events import (
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    EventBus,
    EventLogger,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderExpiredEvent,
    OrderFilledEvent,
    OrderLostEvent,
    OrderType,
    SellOrderCreatedEvent,
    TradeType,
)
from connector.in_flight_order import InFlightOrder, OrderState
from connector.order_tracker import OrderTracker


def setup(lost_after: int = 3) -> tuple[OrderTracker, EventLogger, InFlightOrder]:
    bus = EventBus()
    log = EventLogger().subscribe(bus)
    tracker = OrderTracker(bus, ManualClock(1_000_000), lost_after=lost_after)
    order = InFlightOrder("c1", "BTC-USDT", "BTCUSDT", "BTC", "USDT", OrderType.LIMIT, TradeType.BUY,
                          Decimal("0.3"), Decimal("100"), 1000.0)
    tracker.start_tracking(order)
    return tracker, log, order


def report(x: str, status: str, z: str, trade_id: int = -1, qty: str = "0", price: str = "100",
           client_id: str = "c1", orig: str = "") -> dict[str, Any]:
    return {"e": "executionReport", "c": client_id, "C": orig, "x": x, "X": status, "i": 7, "l": qty, "z": z,
            "L": price, "n": "0.0001" if trade_id >= 0 else "0", "N": "BTC" if trade_id >= 0 else None,
            "T": 5, "t": trade_id, "m": True}


def trade(trade_id: int, qty: str, price: str = "100") -> dict[str, Any]:
    return {"id": trade_id, "orderId": 7, "price": price, "qty": qty, "commission": "0.0001",
            "commissionAsset": "BTC", "time": 5, "isMaker": True}


def names(log: EventLogger) -> list[str]:
    return [type(e).__name__ for e in log.event_log]


def test_filled_status_waits_for_its_fills() -> None:
    tracker, log, order = setup()
    # polling sees FILLED before any trade arrived: created, but no completed yet
    tracker.process_order_json(order, {"orderId": 7, "status": "FILLED", "executedQty": "0.3"})
    assert names(log) == ["BuyOrderCreatedEvent"]
    assert tracker.awaiting_fills() == [order]
    assert tracker.process_trade_json(order, trade(1, "0.1"))
    assert names(log)[-1] == "OrderFilledEvent"
    # the same trade again, from the user stream: nothing new
    tracker.process_execution_report(report("TRADE", "PARTIALLY_FILLED", "0.1", trade_id=1, qty="0.1"))
    assert names(log).count("OrderFilledEvent") == 1
    tracker.process_execution_report(report("TRADE", "FILLED", "0.3", trade_id=2, qty="0.2", price="101"))
    assert names(log) == ["BuyOrderCreatedEvent", "OrderFilledEvent", "OrderFilledEvent", "BuyOrderCompletedEvent"]
    done = log.event_log[-1]
    assert isinstance(done, BuyOrderCompletedEvent)
    assert (done.base_asset_amount, done.quote_asset_amount) == (Decimal("0.3"), Decimal("30.2"))
    assert done.fees == {"BTC": Decimal("0.0002")}
    assert order.state is OrderState.FILLED and "c1" not in tracker.in_flight and tracker.get("c1") is order
    # late duplicates after the end change nothing
    tracker.process_execution_report(report("TRADE", "FILLED", "0.3", trade_id=2, qty="0.2"))
    tracker.process_order_json(order, {"orderId": 7, "status": "FILLED", "executedQty": "0.3"})
    assert len(log.event_log) == 4


@pytest.mark.parametrize("perm", list(itertools.permutations(range(4))))
def test_any_arrival_order_gives_the_same_events(perm: tuple[int, ...]) -> None:
    tracker, log, order = setup()
    sources = [
        lambda: tracker.process_order_json(order, {"orderId": 7, "status": "NEW", "executedQty": "0"}),
        lambda: tracker.process_execution_report(report("TRADE", "PARTIALLY_FILLED", "0.1", 1, "0.1")),
        lambda: tracker.process_execution_report(report("TRADE", "FILLED", "0.3", 2, "0.2")),
        lambda: tracker.process_trade_json(order, trade(1, "0.1")),
    ]
    for i in perm:
        sources[i]()
    tracker.process_trade_json(order, trade(2, "0.2"))  # polling catches up at the end
    assert names(log) == ["BuyOrderCreatedEvent", "OrderFilledEvent", "OrderFilledEvent", "BuyOrderCompletedEvent"]
    fills = [e for e in log.event_log if isinstance(e, OrderFilledEvent)]
    assert sorted(f.trade_id for f in fills) == [1, 2]


def test_cancel_report_uses_the_original_client_id_and_waits_for_fills() -> None:
    tracker, log, order = setup()
    tracker.process_order_json(order, {"orderId": 7, "status": "NEW", "executedQty": "0"})
    tracker.cancel_sent(order)
    assert order.state is OrderState.PENDING_CANCEL
    # the cancel answer says 0.1 was executed, but that trade has not been seen yet
    tracker.process_execution_report(report("CANCELED", "CANCELED", "0.1", client_id="cancel-id", orig="c1"))
    assert not log.of_type(OrderCancelledEvent)
    tracker.process_trade_json(order, trade(9, "0.1"))
    cancelled = log.event_log[-1]
    assert isinstance(cancelled, OrderCancelledEvent) and cancelled.executed_amount == Decimal("0.1")
    assert names(log) == ["BuyOrderCreatedEvent", "OrderFilledEvent", "OrderCancelledEvent"]


def test_expired_market_order_reports_reason() -> None:
    tracker, log, order = setup()
    tracker.process_order_json(order, {"orderId": 7, "status": "EXPIRED", "executedQty": "0.1",
                                       "expiryReason": "INSUFFICIENT_LIQUIDITY",
                                       "fills": [{"price": "100", "qty": "0.1", "commission": "0",
                                                  "commissionAsset": "BTC", "tradeId": 3}]})
    expired = log.event_log[-1]
    assert isinstance(expired, OrderExpiredEvent)
    assert (expired.executed_amount, expired.reason) == (Decimal("0.1"), "INSUFFICIENT_LIQUIDITY")
    filled = log.of_type(OrderFilledEvent)[0]
    assert filled.is_maker is False  # fills in an order answer are the taker's


def test_failure_carries_code_and_message_and_ends_the_order() -> None:
    tracker, log, order = setup()
    tracker.fail(order, -2010, "Order would immediately match and take.")
    tracker.fail(order, -1, "again")  # no second event
    assert len(log.event_log) == 1
    failure = log.event_log[0]
    assert isinstance(failure, MarketOrderFailureEvent)
    assert (failure.error_code, failure.error_message, failure.source) == (
        -2010, "Order would immediately match and take.", "venue")
    assert order.state is OrderState.FAILED


def test_unknown_placement_the_venue_never_knows_fails_and_can_revive() -> None:
    tracker, log, order = setup(lost_after=3)
    tracker.mark_unknown(order, "placement answered 503 -1007")
    assert order.state is OrderState.UNKNOWN
    assert not tracker.not_found(order, "-2013 Order does not exist.")
    assert not tracker.not_found(order, "-2013 Order does not exist.")
    assert tracker.not_found(order, "-2013 Order does not exist.")
    failed = log.event_log[-1]
    assert isinstance(failed, MarketOrderFailureEvent) and failed.source == "reconciliation"
    assert failed.error_message.startswith("not placed: not found 3 times") and "503 -1007" in failed.error_message
    assert order.state is OrderState.FAILED
    assert "c1" in tracker.lost and "c1" not in tracker.in_flight  # still watched
    assert not tracker.not_found(order, "-2013")  # no second event
    # the venue reports it after all: tracked again, created, and it can finish normally
    tracker.process_execution_report(report("NEW", "NEW", "0"))
    assert "c1" in tracker.in_flight and "c1" not in tracker.lost
    assert names(log) == ["MarketOrderFailureEvent", "BuyOrderCreatedEvent"]


def test_acknowledged_order_the_venue_stops_knowing_is_lost() -> None:
    tracker, log, order = setup(lost_after=2)
    tracker.process_order_json(order, {"orderId": 7, "status": "NEW", "executedQty": "0"})
    tracker.mark_unknown(order, "cancel answered 503 -1007")
    assert not tracker.not_found(order, "-2013 Order does not exist.")
    assert tracker.not_found(order, "-2013 Order does not exist.")
    lost = log.event_log[-1]
    assert isinstance(lost, OrderLostEvent) and lost.last_state == "OPEN"
    assert order.state is OrderState.LOST and "c1" in tracker.lost


def test_found_resets_the_not_found_count() -> None:
    tracker, _, order = setup(lost_after=2)
    tracker.not_found(order, "-2013")
    tracker.process_order_json(order, {"orderId": 7, "status": "NEW", "executedQty": "0"})
    assert not tracker.not_found(order, "-2013")


def test_sell_created_event_and_unknown_client_ids_ignored() -> None:
    tracker, log, _ = setup()
    sell = InFlightOrder("s1", "BTC-USDT", "BTCUSDT", "BTC", "USDT", OrderType.MARKET, TradeType.SELL,
                         Decimal("1"), None, 1000.0)
    tracker.start_tracking(sell)
    assert tracker.process_execution_report(report("NEW", "NEW", "0", client_id="someone-else")) is None
    tracker.process_execution_report(report("NEW", "NEW", "0", client_id="s1"))
    assert isinstance(log.event_log[-1], SellOrderCreatedEvent)
    assert not log.of_type(BuyOrderCreatedEvent)


def test_in_flight_order_json_round_trip() -> None:
    tracker, _, order = setup()
    tracker.process_execution_report(report("TRADE", "PARTIALLY_FILLED", "0.1", 1, "0.1"))
    copy = InFlightOrder.from_json(order.to_json())
    assert copy == order
