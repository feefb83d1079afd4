"""Engine objects rendered as the venue's JSON: key order, string decimals, integer ids/times.

Every decimal is padded to 8 places, as Binance Spot does for order, trade and balance fields.
"""

from __future__ import annotations

from typing import Any

from mock_exchange.engine import units
from mock_exchange.engine.types import STOP_TYPES, Fill, Order

fmt = units.fmt
ZERO = fmt(0)


def _tif(order: Order) -> str:
    return order.time_in_force or "GTC"


def _conditional(order: Order, out: dict[str, Any], *, query: bool) -> None:
    """Fields the venue shows only when relevant (rest-api 'Conditional fields')."""
    if not query:
        if order.iceberg_qty:
            out["icebergQty"] = fmt(order.iceberg_qty)
        if order.type in STOP_TYPES:
            out["stopPrice"] = fmt(order.stop_price)
    if order.strategy_id is not None:
        out["strategyId"] = order.strategy_id
    if order.strategy_type is not None:
        out["strategyType"] = order.strategy_type
    if order.prevented_match_id:
        out["preventedMatchId"] = order.prevented_match_id
        out["preventedQuantity"] = fmt(order.prevented_qty)
    if order.expiry_reason:
        out["expiryReason"] = order.expiry_reason


def order_ack(order: Order, transact_time: int) -> dict[str, Any]:
    return {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "transactTime": transact_time,
    }


def order_result(order: Order, transact_time: int) -> dict[str, Any]:
    out = order_ack(order, transact_time)
    out.update(
        {
            "price": fmt(order.price),
            "origQty": fmt(order.orig_qty),
            "executedQty": fmt(order.executed_qty),
            "origQuoteOrderQty": fmt(order.orig_quote_qty),
            "cummulativeQuoteQty": fmt(order.cum_quote_qty),
            "status": order.status,
            "timeInForce": _tif(order),
            "type": order.type,
            "side": order.side,
            "workingTime": order.working_time,
            "selfTradePreventionMode": order.stp_mode,
        }
    )
    _conditional(order, out, query=False)
    return out


def fill_json(fill: Fill) -> dict[str, Any]:
    return {
        "price": fmt(fill.price),
        "qty": fmt(fill.qty),
        "commission": fmt(fill.commission),
        "commissionAsset": fill.commission_asset,
        "tradeId": fill.trade_id,
    }


def order_full(order: Order, transact_time: int, fills: list[Fill]) -> dict[str, Any]:
    out = order_result(order, transact_time)
    out["fills"] = [fill_json(f) for f in fills]
    return out


def default_resp_type(order_type: str) -> str:
    """FULL for LIMIT and MARKET, ACK for every other type (the venue's default)."""
    return "FULL" if order_type in ("LIMIT", "MARKET") else "ACK"


def new_order_response(order: Order, fills: list[Fill], resp_type: str, transact_time: int) -> dict[str, Any]:
    if resp_type == "ACK":
        return order_ack(order, transact_time)
    if resp_type == "RESULT":
        return order_result(order, transact_time)
    return order_full(order, transact_time, fills)


def order_query(order: Order) -> dict[str, Any]:
    """GET /order, openOrders and allOrders items."""
    out: dict[str, Any] = {
        "symbol": order.symbol,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": order.client_order_id,
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "cummulativeQuoteQty": fmt(order.cum_quote_qty),
        "status": order.status,
        "timeInForce": _tif(order),
        "type": order.type,
        "side": order.side,
        "stopPrice": fmt(order.stop_price),
        "icebergQty": fmt(order.iceberg_qty),
        "time": order.time,
        "updateTime": order.update_time,
        "isWorking": order.is_working,
        "workingTime": order.working_time,
        "origQuoteOrderQty": fmt(order.orig_quote_qty),
        "selfTradePreventionMode": order.stp_mode,
    }
    _conditional(order, out, query=True)
    return out


def cancel_response(order: Order, orig_client_order_id: str, cancel_client_order_id: str, now: int) -> dict[str, Any]:
    """DELETE /order: ``clientOrderId`` is the cancel's own id, the order's is ``origClientOrderId``."""
    out: dict[str, Any] = {
        "symbol": order.symbol,
        "origClientOrderId": orig_client_order_id,
        "orderId": order.order_id,
        "orderListId": -1,
        "clientOrderId": cancel_client_order_id,
        "transactTime": now,
        "price": fmt(order.price),
        "origQty": fmt(order.orig_qty),
        "executedQty": fmt(order.executed_qty),
        "origQuoteOrderQty": fmt(order.orig_quote_qty),
        "cummulativeQuoteQty": fmt(order.cum_quote_qty),
        "status": order.status,
        "timeInForce": _tif(order),
        "type": order.type,
        "side": order.side,
    }
    if order.iceberg_qty:
        out["icebergQty"] = fmt(order.iceberg_qty)
    if order.type in STOP_TYPES:
        out["stopPrice"] = fmt(order.stop_price)
    out["selfTradePreventionMode"] = order.stp_mode
    return out


def my_trade_json(fill: Fill, *, is_best_match: bool = True) -> dict[str, Any]:
    return {
        "symbol": fill.symbol,
        "id": fill.trade_id,
        "orderId": fill.order_id,
        "orderListId": -1,
        "price": fmt(fill.price),
        "qty": fmt(fill.qty),
        "quoteQty": fmt(fill.quote_qty),
        "commission": fmt(fill.commission),
        "commissionAsset": fill.commission_asset,
        "time": fill.time,
        "isBuyer": fill.side == "BUY",
        "isMaker": fill.is_maker,
        "isBestMatch": is_best_match,
    }


def rate_json(rate: int) -> str:
    return fmt(rate)


def bips(rate: int) -> int:
    """A commission rate in units (1e-8) as the venue's integer basis points (0.001 -> 10)."""
    return rate * 10_000 // units.SCALE


def depth_json(last_update_id: int, bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> dict[str, Any]:
    return {
        "lastUpdateId": last_update_id,
        "bids": [[fmt(p), fmt(q)] for p, q in bids],
        "asks": [[fmt(p), fmt(q)] for p, q in asks],
    }


def book_ticker_json(symbol: str, best: tuple[int, int, int, int]) -> dict[str, Any]:
    bp, bq, ap, aq = best
    return {"symbol": symbol, "bidPrice": fmt(bp), "bidQty": fmt(bq), "askPrice": fmt(ap), "askQty": fmt(aq)}
