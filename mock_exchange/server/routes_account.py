"""Account endpoints (USER_DATA): account, myTrades, rateLimit/order, account/commission."""

from __future__ import annotations

from typing import Any

from mock_exchange.engine import units
from mock_exchange.engine.types import EngineError
from mock_exchange.server import errors
from mock_exchange.server.endpoint import USER_DATA, Ctx, Registry
from mock_exchange.server.params import Params
from mock_exchange.server.responses import bips, my_trade_json, rate_json
from mock_exchange.server.routes_market import spec_of
from mock_exchange.server.routes_trade import _list_limit, _time_range, engine_error

reg = Registry()


@reg.route("GET", "/api/v3/account", 20, USER_DATA)
def account(ctx: Ctx) -> Any:
    omit_zero = ctx.params.opt_bool("omitZeroBalances") or False
    key = ctx.key
    assert key is not None
    acct = ctx.state.engine.account(key.account_id)
    balances = []
    for asset in sorted(acct.balances):
        free, locked = acct.balances[asset]
        if omit_zero and free == 0 and locked == 0:
            continue
        balances.append({"asset": asset, "free": units.fmt(free), "locked": units.fmt(locked)})
    can_trade = acct.can_trade and key.can_trade
    return {
        "makerCommission": bips(acct.maker_rate),
        "takerCommission": bips(acct.taker_rate),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": rate_json(acct.maker_rate),
            "taker": rate_json(acct.taker_rate),
            "buyer": rate_json(0),
            "seller": rate_json(0),
        },
        "canTrade": can_trade,
        "canWithdraw": True,
        "canDeposit": True,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": acct.update_time,
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": ctx.state.uid_of(key.account_id),
    }


def _trades_weight(params: Params) -> int:
    return 5 if params.has("orderId") else 20


@reg.route("GET", "/api/v3/myTrades", _trades_weight, USER_DATA)
def my_trades(ctx: Ctx) -> Any:
    p = ctx.params
    symbol = p.symbol()
    spec_of(ctx, symbol)
    order_id, from_id = p.opt_int("orderId"), p.opt_int("fromId")
    start, end = _time_range(p)
    if from_id is not None and (start is not None or end is not None):
        raise errors.bad_combo()
    if order_id is not None and (start is not None or end is not None):
        raise errors.bad_combo()
    try:
        fills = ctx.state.engine.my_trades(
            ctx.account_id, symbol, order_id=order_id, start_time=start, end_time=end, from_id=from_id,
            limit=_list_limit(p),
        )
    except EngineError as exc:  # an unknown (or archived) orderId: -2013, as the venue answers
        raise engine_error(exc) from exc
    return [my_trade_json(f) for f in fills]


@reg.route("GET", "/api/v3/rateLimit/order", 40, USER_DATA)
def rate_limit_order(ctx: Ctx) -> Any:
    return ctx.state.limiter.order_limits_json(ctx.account_id)


@reg.route("GET", "/api/v3/account/commission", 20, USER_DATA)
def account_commission(ctx: Ctx) -> Any:
    symbol = ctx.params.symbol()
    spec_of(ctx, symbol)
    acct = ctx.state.engine.account(ctx.account_id)
    zero = rate_json(0)
    return {
        "symbol": symbol,
        "standardCommission": {
            "maker": rate_json(acct.maker_rate),
            "taker": rate_json(acct.taker_rate),
            "buyer": zero,
            "seller": zero,
        },
        "specialCommission": {"maker": zero, "taker": zero, "buyer": zero, "seller": zero},
        "taxCommission": {"maker": zero, "taker": zero, "buyer": zero, "seller": zero},
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": rate_json(25_000_000),
        },
    }
