"""Trading endpoints (security TRADE / USER_DATA): order, order/test, cancelReplace, openOrders, allOrders."""

from __future__ import annotations

from typing import Any

from mock_exchange.engine.types import EngineError
from mock_exchange.server import errors
from mock_exchange.server.endpoint import TRADE, USER_DATA, Ctx, Registry, Reply
from mock_exchange.server.order_params import client_order_id, parse_cancel, parse_new_order
from mock_exchange.server.params import Params
from mock_exchange.server.responses import cancel_response, new_order_response, order_query, rate_json
from mock_exchange.server.routes_market import spec_of

reg = Registry()
DAY_MS = 24 * 3600 * 1000


def engine_error(exc: EngineError) -> errors.BinanceError:
    """An engine rejection on the wire: same code and message, HTTP 400."""
    return errors.BinanceError(exc.code, exc.msg)


def _place(ctx: Ctx, params: Params, names: dict[str, str] | None = None) -> Any:
    req = parse_new_order(params, names)
    spec_of(ctx, req.symbol)
    ctx.state.limiter.charge_order(ctx.account_id)  # -1015 before the engine sees the order
    try:
        result = ctx.state.engine.place_order(ctx.account_id, req.symbol, req.side, req.type, **req.kwargs)
    except EngineError as exc:
        ctx.state.limiter.refund_order(ctx.account_id)
        raise engine_error(exc) from exc
    ctx.placed_order = True
    return new_order_response(result.order, result.fills, req.resp_type, result.order.time)


@reg.route("POST", "/api/v3/order", 1, TRADE, counts_order=True)
def new_order(ctx: Ctx) -> Any:
    faults = ctx.state.faults
    if faults.rejects:  # reject_orders fault: refused before anything is counted or changed
        faults.reject_order(ctx.params.get("symbol"))
    return _place(ctx, ctx.params)


def _test_weight(params: Params) -> int:
    return 20 if (params.get("computeCommissionRates") or "").lower() == "true" else 1


def commission_block(maker: int, taker: int) -> dict[str, Any]:
    zero = rate_json(0)
    return {
        "standardCommissionForOrder": {"maker": rate_json(maker), "taker": rate_json(taker)},
        "specialCommissionForOrder": {"maker": zero, "taker": zero},
        "taxCommissionForOrder": {"maker": zero, "taker": zero},
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": rate_json(25_000_000),
        },
    }


@reg.route("POST", "/api/v3/order/test", _test_weight, TRADE)
def test_order(ctx: Ctx) -> Any:
    compute = ctx.params.opt_bool("computeCommissionRates")
    req = parse_new_order(ctx.params)
    spec_of(ctx, req.symbol)
    try:
        ctx.state.engine.place_order(ctx.account_id, req.symbol, req.side, req.type, test=True, **req.kwargs)
    except EngineError as exc:
        raise engine_error(exc) from exc
    if not compute:
        return {}
    acct = ctx.state.engine.account(ctx.account_id)
    return commission_block(acct.maker_rate, acct.taker_rate)


def _order_lookup(ctx: Ctx) -> tuple[str, int | None, str | None]:
    p = ctx.params
    symbol = p.symbol()
    spec_of(ctx, symbol)
    order_id = p.opt_int("orderId")
    orig = client_order_id(p, "origClientOrderId") if p.has("origClientOrderId") else None
    if order_id is None and orig is None:
        raise errors.either_or("origClientOrderId", "orderId")
    return symbol, order_id, orig


@reg.route("GET", "/api/v3/order", 4, USER_DATA)
def get_order(ctx: Ctx) -> Any:
    symbol, order_id, orig = _order_lookup(ctx)
    try:
        order = ctx.state.engine.get_order(ctx.account_id, symbol, order_id=order_id, orig_client_order_id=orig)
    except EngineError as exc:
        raise engine_error(exc) from exc
    return order_query(order)


def _cancel_one(ctx: Ctx, symbol: str, order_id: int | None, orig: str | None, new_id: str,
                restrictions: str) -> dict[str, Any]:
    cancel_id = new_id or ctx.state.new_client_id()
    order = ctx.state.engine.cancel_order(
        ctx.account_id,
        symbol,
        order_id=order_id,
        orig_client_order_id=orig,
        new_client_order_id=cancel_id,
        cancel_restrictions=restrictions,
    )
    return cancel_response(order, order.client_order_id, cancel_id, ctx.state.clock())


@reg.route("DELETE", "/api/v3/order", 1, TRADE)
def cancel_order(ctx: Ctx) -> Any:
    symbol = ctx.params.symbol()
    spec_of(ctx, symbol)
    target = parse_cancel(ctx.params)
    try:
        return _cancel_one(
            ctx, symbol, target.order_id, target.orig_client_order_id, target.new_client_order_id,
            target.cancel_restrictions,
        )
    except EngineError as exc:
        raise engine_error(exc) from exc


def _open_weight(params: Params) -> int:
    return 6 if params.has("symbol") else 80


@reg.route("GET", "/api/v3/openOrders", _open_weight, USER_DATA)
def open_orders(ctx: Ctx) -> Any:
    symbol = None
    if ctx.params.has("symbol"):
        symbol = ctx.params.symbol()
        spec_of(ctx, symbol)
    return [order_query(o) for o in ctx.state.engine.open_orders(ctx.account_id, symbol)]


@reg.route("DELETE", "/api/v3/openOrders", 1, TRADE)
def cancel_open_orders(ctx: Ctx) -> Any:
    symbol = ctx.params.symbol()
    spec_of(ctx, symbol)
    orders = ctx.state.engine.open_orders(ctx.account_id, symbol)
    if not orders:
        raise errors.unknown_order()
    out = []
    for order in orders:
        try:
            out.append(_cancel_one(ctx, symbol, order.order_id, None, "", ""))
        except EngineError:  # filled by a stop trigger in between: nothing left to cancel
            continue
    return out


def _time_range(p: Params) -> tuple[int | None, int | None]:
    start, end = p.opt_time_ms("startTime"), p.opt_time_ms("endTime")
    if start is not None and end is not None:
        if end < start:
            raise errors.invalid_parameter("endTime")
        if end - start > DAY_MS:
            raise errors.more_than_hours(24)
    return start, end


def _list_limit(p: Params) -> int:
    limit = p.opt_int("limit")
    if limit is None:
        return 500
    if limit <= 0:
        raise errors.illegal_chars("limit", "^[1-9][0-9]*$")
    return min(limit, 1000)


@reg.route("GET", "/api/v3/allOrders", 20, USER_DATA)
def all_orders(ctx: Ctx) -> Any:
    p = ctx.params
    symbol = p.symbol()
    spec_of(ctx, symbol)
    start, end = _time_range(p)
    orders = ctx.state.engine.all_orders(
        ctx.account_id, symbol, order_id=p.opt_int("orderId"), start_time=start, end_time=end, limit=_list_limit(p)
    )
    return [order_query(o) for o in orders]


@reg.route("POST", "/api/v3/order/cancelReplace", 1, TRADE, counts_order=True)
def cancel_replace(ctx: Ctx) -> Any:
    p = ctx.params
    mode = p.req("cancelReplaceMode")
    if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
        raise errors.invalid_parameter("cancelReplaceMode")
    req = parse_new_order(p)
    spec_of(ctx, req.symbol)
    target = parse_cancel(p, "cancelOrderId", "cancelOrigClientOrderId", "cancelNewClientOrderId")
    cancel_id = target.new_client_order_id or ctx.state.new_client_id()
    ctx.state.limiter.charge_order(ctx.account_id)
    result = ctx.state.engine.cancel_replace(
        ctx.account_id,
        req.symbol,
        side=req.side,
        type=req.type,
        cancel_order_id=target.order_id,
        cancel_orig_client_order_id=target.orig_client_order_id,
        cancel_new_client_order_id=cancel_id,
        cancel_restrictions=target.cancel_restrictions,
        mode=mode,
        **req.kwargs,
    )
    now = ctx.state.clock()
    if result.canceled is not None:
        cancel_result, cancel_body = "SUCCESS", cancel_response(
            result.canceled, result.canceled.client_order_id, cancel_id, now
        )
    elif result.cancel_error is not None:
        cancel_result, cancel_body = "FAILURE", {"code": result.cancel_error.code, "msg": result.cancel_error.msg}
    else:
        cancel_result, cancel_body = "NOT_ATTEMPTED", None
    new_body: Any
    if result.placed is None:
        ctx.state.limiter.refund_order(ctx.account_id)
    if result.placed is not None:
        ctx.placed_order = True
        new_result = "SUCCESS"
        new_body = new_order_response(result.placed.order, result.placed.fills, req.resp_type, result.placed.order.time)
    elif result.new_error is not None:
        new_result, new_body = "FAILURE", {"code": result.new_error.code, "msg": result.new_error.msg}
    else:
        new_result, new_body = "NOT_ATTEMPTED", None
    body = {
        "cancelResult": cancel_result,
        "newOrderResult": new_result,
        "cancelResponse": cancel_body,
        "newOrderResponse": new_body,
    }
    if cancel_result == "SUCCESS" and new_result == "SUCCESS":
        return body
    if cancel_result == "SUCCESS" or new_result == "SUCCESS":
        return Reply(409, {"code": -2021, "msg": "Order cancel-replace partially failed.", "data": body})
    return Reply(400, {"code": -2022, "msg": "Order cancel-replace failed.", "data": body})
