"""The order state machine behind ``Market``: every venue report goes in, each event comes out once.

Reports arrive from three places in any order — the order/cancel REST answers, the user
stream's executionReports and REST polling (order status, myTrades) — and may repeat. The
tracker makes the result independent of that order:

* the created event is emitted once, before the order's first fill;
* a fill is emitted once per venue trade id;
* a terminal status (FILLED, CANCELED, EXPIRED, REJECTED) ends the order only when the fills
  add up to the venue's cumulative quantity, so the completed/cancelled/expired event always
  comes after the fills it covers;
* an order the venue does not know ``lost_after`` times in a row becomes lost (an event), and
  is watched in ``lost`` so a late report can bring it back.

Synchronous and network-free, so it is tested without a venue.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connector.clock import Clock
from connector.events import (
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    EventBus,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderExpiredEvent,
    OrderFilledEvent,
    OrderLostEvent,
    SellOrderCompletedEvent,
    SellOrderCreatedEvent,
)
from connector.in_flight_order import VENUE_TERMINAL, InFlightOrder, OrderState, TradeFill

log = logging.getLogger(__name__)

_OPEN_STATES = frozenset({OrderState.PENDING_CREATE, OrderState.UNKNOWN, OrderState.OPEN,
                          OrderState.PARTIALLY_FILLED})


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(0)


class OrderTracker:
    """In-flight, lost and recently finished orders of one market."""

    def __init__(self, bus: EventBus, clock: Clock, *, lost_after: int = 3, history_size: int = 1000) -> None:
        self.bus = bus
        self.clock = clock
        self.lost_after = lost_after
        self.history_size = history_size
        self.in_flight: dict[str, InFlightOrder] = {}
        self.lost: dict[str, InFlightOrder] = {}
        self.lost_since: dict[str, float] = {}
        self.finished: OrderedDict[str, InFlightOrder] = OrderedDict()

    # --- bookkeeping ----------------------------------------------------------------------------

    def start_tracking(self, order: InFlightOrder) -> None:
        order.last_update_ms = self.clock.now_ms()
        self.in_flight[order.client_order_id] = order

    def get(self, client_order_id: str) -> InFlightOrder | None:
        return (self.in_flight.get(client_order_id) or self.lost.get(client_order_id)
                or self.finished.get(client_order_id))

    def active(self, client_order_id: str) -> InFlightOrder | None:
        """An order a venue report may still change (in flight, or lost and now seen again)."""
        order = self.in_flight.get(client_order_id)
        if order is None and client_order_id in self.lost:
            order = self.lost.pop(client_order_id)
            self.lost_since.pop(client_order_id, None)
            log.warning("lost order %s reappeared at the venue; tracking it again", client_order_id)
            order.state = OrderState.UNKNOWN
            self.in_flight[client_order_id] = order
        return order

    def _finish(self, order: InFlightOrder, state: OrderState) -> None:
        order.state = state
        order.last_update_ms = self.clock.now_ms()
        self.in_flight.pop(order.client_order_id, None)
        self.finished[order.client_order_id] = order
        while len(self.finished) > self.history_size:
            self.finished.popitem(last=False)

    # --- state changes the market decides ------------------------------------------------------------

    def fail(self, order: InFlightOrder, code: int | None, msg: str, source: str = "venue") -> None:
        """The order was not placed."""
        if order.is_done:
            return
        self._finish(order, OrderState.FAILED)
        self.bus.emit(MarketOrderFailureEvent(self.clock.now(), order.client_order_id, order.trading_pair,
                                              order.order_type, code, msg, source))

    def mark_unknown(self, order: InFlightOrder, reason: str) -> None:
        """The placement's outcome is unknown; the market reconciles it."""
        if order.state is OrderState.PENDING_CREATE:
            order.state = OrderState.UNKNOWN
        order.unknown_reason = reason

    def cancel_sent(self, order: InFlightOrder) -> None:
        order.cancel_attempts += 1
        if order.state in (OrderState.OPEN, OrderState.PARTIALLY_FILLED):
            order.state = OrderState.PENDING_CANCEL

    def cancel_failed(self, order: InFlightOrder) -> None:
        """The cancel did not happen (or its outcome turned out to be 'still open')."""
        if order.state is OrderState.PENDING_CANCEL:
            order.state = self._open_state(order)

    def not_found(self, order: InFlightOrder, reason: str) -> bool:
        """The venue answered 'Order does not exist.'; True when that made the order lost."""
        if order.client_order_id in self.lost:
            return False
        order.not_found_count += 1
        if order.not_found_count < self.lost_after or order.is_done:
            return False
        previous = order.state
        # A placement whose outcome was unknown and that the venue keeps not knowing was never
        # placed: it failed. An order the venue once acknowledged and no longer knows is lost.
        never_placed = previous is OrderState.UNKNOWN and order.exchange_order_id is None
        order.state = OrderState.FAILED if never_placed else OrderState.LOST
        self.in_flight.pop(order.client_order_id, None)
        # Both stay watched: a late venue report revives the order (see ``active``).
        self.lost[order.client_order_id] = order
        self.lost_since[order.client_order_id] = self.clock.now()
        detail = f" after {order.unknown_reason}" if order.unknown_reason else ""
        text = f"not found {order.not_found_count} times ({reason}){detail}"
        if never_placed:
            self.bus.emit(MarketOrderFailureEvent(self.clock.now(), order.client_order_id, order.trading_pair,
                                                  order.order_type, None, f"not placed: {text}", "reconciliation"))
        else:
            self.bus.emit(OrderLostEvent(self.clock.now(), order.client_order_id, order.trading_pair,
                                         order.exchange_order_id, text, previous.value))
        return True

    def forget_lost(self, client_order_id: str) -> None:
        self.lost.pop(client_order_id, None)
        self.lost_since.pop(client_order_id, None)

    # --- venue reports ------------------------------------------------------------------------------

    def process_order_json(self, order: InFlightOrder, data: Mapping[str, Any], *, fills_are_taker: bool = True) -> None:
        """An order object from REST: the placement answer (ACK/RESULT/FULL), GET /order, an
        openOrders item or a cancel answer."""
        order.not_found_count = 0
        if "orderId" in data:
            order.exchange_order_id = int(data["orderId"])
        status = str(data.get("status", ""))
        if status and status != "REJECTED":
            self._report_created(order)
        when = int(data.get("transactTime") or data.get("updateTime") or self.clock.now_ms())
        for f in data.get("fills") or ():
            fee = _dec(f.get("commission"))
            self.add_fill(order, TradeFill(int(f["tradeId"]), _dec(f["price"]), _dec(f["qty"]),
                                           str(f.get("commissionAsset") or order.quote_asset), fee, when,
                                           not fills_are_taker))
        executed = _dec(data["executedQty"]) if "executedQty" in data else None
        self._apply_status(order, status, executed, str(data.get("expiryReason") or ""))

    def process_trade_json(self, order: InFlightOrder, trade: Mapping[str, Any]) -> bool:
        """One ``GET /api/v3/myTrades`` item; True if it was new."""
        fill = TradeFill(int(trade["id"]), _dec(trade["price"]), _dec(trade["qty"]),
                         str(trade.get("commissionAsset") or order.quote_asset), _dec(trade.get("commission")),
                         int(trade.get("time") or 0), bool(trade.get("isMaker", False)))
        new = self.add_fill(order, fill)
        self.maybe_finish(order)
        return new

    def process_execution_report(self, ev: Mapping[str, Any]) -> InFlightOrder | None:
        """One ``executionReport``; returns the order it concerned (None if not ours)."""
        exec_type = ev.get("x")
        client_id = str(ev.get("C") or "") if exec_type == "CANCELED" else ""
        client_id = client_id or str(ev.get("c", ""))
        order = self.active(client_id)
        if order is None:
            return None
        order.not_found_count = 0
        if ev.get("i") is not None:
            order.exchange_order_id = int(ev["i"])
        status = str(ev.get("X", ""))
        if status != "REJECTED":
            self._report_created(order)
        if exec_type == "TRADE" and int(ev.get("t", -1)) >= 0:
            fee_asset = ev.get("N") or order.quote_asset
            self.add_fill(order, TradeFill(int(ev["t"]), _dec(ev.get("L")), _dec(ev.get("l")), str(fee_asset),
                                           _dec(ev.get("n")), int(ev.get("T") or 0), bool(ev.get("m", False))))
        self._apply_status(order, status, _dec(ev["z"]) if "z" in ev else None, str(ev.get("eR") or ""))
        return order

    # --- internals ----------------------------------------------------------------------------------

    def _report_created(self, order: InFlightOrder) -> None:
        if order.created_reported or order.is_done:
            return
        order.created_reported = True
        if order.state in (OrderState.PENDING_CREATE, OrderState.UNKNOWN):
            order.state = OrderState.OPEN
        cls = BuyOrderCreatedEvent if order.is_buy else SellOrderCreatedEvent
        self.bus.emit(cls(self.clock.now(), order.client_order_id, order.trading_pair, order.trade_type,
                          order.order_type, order.amount, order.price, order.exchange_order_id))

    def add_fill(self, order: InFlightOrder, fill: TradeFill) -> bool:
        """Record and report one trade (once per trade id)."""
        self._report_created(order)
        if not order.add_fill(fill):
            return False
        order.last_update_ms = self.clock.now_ms()
        if order.state in _OPEN_STATES:
            order.state = self._open_state(order)
        self.bus.emit(OrderFilledEvent(self.clock.now(), order.client_order_id, order.trading_pair,
                                       order.trade_type, order.order_type, fill.price, fill.amount,
                                       fill.fee_asset, fill.fee_amount, fill.trade_id, order.exchange_order_id,
                                       fill.is_maker))
        return True

    @staticmethod
    def _open_state(order: InFlightOrder) -> OrderState:
        if order.venue_executed > 0 or order.fills:
            return OrderState.PARTIALLY_FILLED
        return OrderState.OPEN

    def _apply_status(self, order: InFlightOrder, status: str, executed: Decimal | None, expiry: str) -> None:
        order.update_venue_status(status, executed)
        if expiry and expiry != "NONE":
            order.expiry_reason = expiry
        if status == "REJECTED":
            self.fail(order, None, f"rejected by the venue ({expiry or 'no reason given'})")
            return
        if order.state in _OPEN_STATES and order.created_reported and not order.venue_terminal:
            order.state = self._open_state(order)
        self.maybe_finish(order)

    def maybe_finish(self, order: InFlightOrder) -> None:
        """End the order if the venue says it ended and every fill is in."""
        if order.is_done or not order.venue_terminal or not order.fills_complete:
            return
        if order.client_order_id in self.lost:
            return
        state = VENUE_TERMINAL[order.venue_status]
        now = self.clock.now()
        self._finish(order, state)
        if state is OrderState.FILLED:
            cls = BuyOrderCompletedEvent if order.is_buy else SellOrderCompletedEvent
            self.bus.emit(cls(now, order.client_order_id, order.trading_pair, order.base_asset, order.quote_asset,
                              order.executed_amount_base, order.executed_amount_quote, order.order_type,
                              order.exchange_order_id, order.fees))
        elif state is OrderState.CANCELED:
            self.bus.emit(OrderCancelledEvent(now, order.client_order_id, order.trading_pair,
                                              order.exchange_order_id, order.executed_amount_base))
        elif state is OrderState.EXPIRED:
            self.bus.emit(OrderExpiredEvent(now, order.client_order_id, order.trading_pair, order.exchange_order_id,
                                            order.executed_amount_base, order.expiry_reason))

    def awaiting_fills(self) -> list[InFlightOrder]:
        """Orders the venue reported more fills for than have arrived (fetch their trades)."""
        return [o for o in self.in_flight.values() if not o.fills_complete]
