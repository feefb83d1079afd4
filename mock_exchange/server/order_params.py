"""The venue's request-level rules for new orders and cancels, shared by REST and the WebSocket API.

The engine enforces market rules (filters, balances, triggers); this module enforces what the
API gateway does before that: mandatory and forbidden parameters per order type, enum spellings,
client order id syntax. Each failure is the venue's code and message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mock_exchange.engine.types import (
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    ORDER_TYPES,
    SIDES,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    STP_MODES,
    TAKE_PROFIT,
    TAKE_PROFIT_LIMIT,
    TIME_IN_FORCES,
)
from mock_exchange.server import errors
from mock_exchange.server.params import Params

CLIENT_ID_RE = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
CLIENT_ID_LEGAL = "^[\\.A-Z\\:/a-z0-9_-]{1,36}$"
RESP_TYPES = ("ACK", "RESULT", "FULL")

# (needs timeInForce, needs price, needs stopPrice) per type; quantity is always needed except MARKET.
_RULES: dict[str, tuple[bool, bool, bool]] = {
    LIMIT: (True, True, False),
    MARKET: (False, False, False),
    LIMIT_MAKER: (False, True, False),
    STOP_LOSS: (False, False, True),
    STOP_LOSS_LIMIT: (True, True, True),
    TAKE_PROFIT: (False, False, True),
    TAKE_PROFIT_LIMIT: (True, True, True),
}
_ICEBERG_TYPES = (LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT)


@dataclass(slots=True)
class NewOrder:
    symbol: str
    side: str
    type: str
    resp_type: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def client_order_id(p: Params, name: str) -> str:
    """An optional client order id; present-but-empty and bad characters are errors."""
    value = p.get(name)
    if value is None:
        return ""
    if value == "":
        raise errors.empty_new_client_order_id() if name != "origClientOrderId" else errors.empty_orig_client_order_id()
    if not CLIENT_ID_RE.match(value):
        raise errors.illegal_chars(name, CLIENT_ID_LEGAL)
    return value


def parse_new_order(p: Params, names: dict[str, str] | None = None) -> NewOrder:
    """Read a new order's parameters (``names`` renames keys, e.g. for cancelReplace)."""

    def n(key: str) -> str:
        return names.get(key, key) if names else key

    symbol = p.symbol()
    side = p.req(n("side"))
    if side not in SIDES:
        raise errors.invalid_side()
    otype = p.req(n("type"))
    if otype not in ORDER_TYPES:
        raise errors.invalid_type()
    needs_tif, needs_price, needs_stop = _RULES[otype]

    tif = p.get(n("timeInForce"))
    if tif is not None:
        if tif not in TIME_IN_FORCES:
            raise errors.invalid_tif()
        if not needs_tif:
            raise errors.tif_not_required()
    elif needs_tif:
        raise errors.mandatory("timeInForce")

    quantity = p.opt_units(n("quantity"))
    quote_qty = p.opt_units(n("quoteOrderQty"))
    if otype == MARKET:
        if quantity is None and quote_qty is None:
            raise errors.either_or("quantity", "quoteOrderQty")
        if quantity is not None and quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
    else:
        if quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
        if quantity is None:
            raise errors.mandatory("quantity")

    price = p.opt_units(n("price"))
    if needs_price and price is None:
        raise errors.mandatory("price")
    if not needs_price and price is not None:
        raise errors.not_required("price")

    stop_price = p.opt_units(n("stopPrice"))
    if p.has(n("trailingDelta")):
        raise errors.order_rejected("Trailing stop orders are not supported for this symbol.")
    if needs_stop and stop_price is None:
        raise errors.mandatory("stopPrice")
    if not needs_stop and stop_price is not None:
        raise errors.not_required("stopPrice")

    iceberg = p.opt_units(n("icebergQty"))
    if iceberg is not None and otype not in _ICEBERG_TYPES:
        raise errors.not_required("icebergQty")
    for peg in ("pegPriceType", "pegOffsetValue", "pegOffsetType"):
        if p.has(n(peg)):
            raise errors.order_rejected("Pegged orders are not supported for this symbol.")

    resp_type = p.get(n("newOrderRespType"))
    if resp_type is None:
        resp_type = "FULL" if otype in (LIMIT, MARKET) else "ACK"
    elif resp_type not in RESP_TYPES:
        raise errors.invalid_parameter("newOrderRespType")

    stp = p.get(n("selfTradePreventionMode")) or ""
    if stp and stp not in STP_MODES:
        raise errors.invalid_parameter("selfTradePreventionMode")

    strategy_id = p.opt_int(n("strategyId"))
    strategy_type = p.opt_int(n("strategyType"))
    if strategy_type is not None and strategy_type < 1_000_000:
        raise errors.bad_strategy_type()

    kwargs: dict[str, Any] = {
        "quantity": quantity or 0,
        "quote_order_qty": quote_qty or 0,
        "price": price or 0,
        "time_in_force": tif or "",
        "stop_price": stop_price or 0,
        "iceberg_qty": iceberg or 0,
        "client_order_id": client_order_id(p, n("newClientOrderId")),
        "stp_mode": stp,
        "strategy_id": strategy_id,
        "strategy_type": strategy_type,
    }
    return NewOrder(symbol, side, otype, resp_type, kwargs)


@dataclass(slots=True)
class CancelTarget:
    order_id: int | None
    orig_client_order_id: str | None
    new_client_order_id: str
    cancel_restrictions: str


def parse_cancel(p: Params, id_key: str = "orderId", orig_key: str = "origClientOrderId",
                 new_key: str = "newClientOrderId") -> CancelTarget:
    order_id = p.opt_int(id_key)
    orig = client_order_id(p, orig_key) if p.has(orig_key) else None
    if order_id is None and orig is None:
        raise errors.either_or(orig_key, id_key)
    restrictions = p.get("cancelRestrictions") or ""
    if restrictions and restrictions not in ("ONLY_NEW", "ONLY_PARTIALLY_FILLED"):
        raise errors.invalid_cancel_restrictions()
    return CancelTarget(order_id, orig, client_order_id(p, new_key), restrictions)
