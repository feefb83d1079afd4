"""The venue's symbol filters, checked on every new order (filters.md rules, exact integers).

Runs on the hot path (every order), so it reads the parsed filters on ``SymbolSpec`` directly
and allocates nothing unless it rejects. Notionals are compared as exact products in 1e-16
(``price * qty`` against ``min_notional * SCALE``): no truncation can let an order slip under
a minimum. A failed filter raises ``EngineError(-1013, "Filter failure: NAME")``; filters are
checked in the order of a current venue symbol's filter list.
"""

from __future__ import annotations

from mock_exchange.engine.symbols import LotSize, PriceFilter, SymbolSpec
from mock_exchange.engine.types import EngineError
from mock_exchange.engine.units import SCALE

_ALGO_TYPES = frozenset(("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"))
# Types that execute at the market (no limit price): notional uses a reference price.
_MARKET_TYPES = frozenset(("MARKET", "STOP_LOSS", "TAKE_PROFIT"))


def _fail(name: str) -> EngineError:
    return EngineError(-1013, "Filter failure: " + name)


def _price_ok(pf: PriceFilter, price: int) -> bool:
    """minPrice <= price <= maxPrice and price % tickSize == 0; a 0 disables its rule."""
    if pf.min_price and price < pf.min_price:
        return False
    if pf.max_price and price > pf.max_price:
        return False
    return not (pf.tick_size and price % pf.tick_size)


def _qty_ok(lot: LotSize, qty: int) -> bool:
    """minQty <= qty <= maxQty and (qty - minQty) % stepSize == 0; a 0 disables its rule."""
    if qty < lot.min_qty:
        return False
    if lot.max_qty and qty > lot.max_qty:
        return False
    return not (lot.step_size and (qty - lot.min_qty) % lot.step_size)


def check_order(
    spec: SymbolSpec,
    *,
    side: str,
    type: str,
    price: int,
    quantity: int,
    quote_order_qty: int,
    stop_price: int,
    iceberg_qty: int,
    ref_price: int | None,
    open_orders: int,
    open_algo_orders: int,
    open_iceberg_orders: int,
) -> None:
    """Raise ``EngineError(-1013, "Filter failure: NAME")`` for the first filter the order fails.

    Amounts are units (1e-8); 0 means "not sent". ``ref_price`` is the symbol's reference
    (average) price, None when there is none yet: the rules that need it are then skipped.
    ``open_*`` count the account's open orders on the symbol before this one.
    """
    by_quote = type == "MARKET" and quantity == 0 and quote_order_qty > 0
    pf = spec.price_filter
    if pf is not None and ((price and not _price_ok(pf, price)) or (stop_price and not _price_ok(pf, stop_price))):
        raise _fail("PRICE_FILTER")
    lot = spec.lot_size
    if lot is not None and ((not by_quote and not _qty_ok(lot, quantity)) or (iceberg_qty and not _qty_ok(lot, iceberg_qty))):
        raise _fail("LOT_SIZE")
    if iceberg_qty and spec.iceberg_parts is not None and -(-quantity // iceberg_qty) > spec.iceberg_parts:
        raise _fail("ICEBERG_PARTS")
    if type == "MARKET" and not by_quote:
        mls = spec.market_lot_size
        if mls is not None and not _qty_ok(mls, quantity):
            raise _fail("MARKET_LOT_SIZE")
    at_market = type in _MARKET_TYPES
    if price and not at_market and ref_price is not None:
        scaled = price * SCALE
        pp = spec.percent_price
        if pp is not None and not _within(scaled, ref_price, pp.multiplier_down, pp.multiplier_up):
            raise _fail("PERCENT_PRICE")
        ps = spec.percent_price_by_side
        if ps is not None:
            if side == "BUY":
                ok = _within(scaled, ref_price, ps.bid_multiplier_down, ps.bid_multiplier_up)
            else:
                ok = _within(scaled, ref_price, ps.ask_multiplier_down, ps.ask_multiplier_up)
            if not ok:
                raise _fail("PERCENT_PRICE_BY_SIDE")
    mn, nt = spec.min_notional, spec.notional
    if mn is not None or nt is not None:
        notional = _notional_x(at_market, by_quote, price, quantity, quote_order_qty, stop_price, ref_price)
        if notional is not None:
            if mn is not None and (not at_market or mn.apply_to_market) and notional < mn.min_notional * SCALE:
                raise _fail("MIN_NOTIONAL")
            if nt is not None:
                if (not at_market or nt.apply_min_to_market) and notional < nt.min_notional * SCALE:
                    raise _fail("NOTIONAL")
                if nt.max_notional and (not at_market or nt.apply_max_to_market) and notional > nt.max_notional * SCALE:
                    raise _fail("NOTIONAL")
    if spec.max_num_orders is not None and open_orders + 1 > spec.max_num_orders:
        raise _fail("MAX_NUM_ORDERS")
    if spec.max_num_algo_orders is not None and type in _ALGO_TYPES and open_algo_orders + 1 > spec.max_num_algo_orders:
        raise _fail("MAX_NUM_ALGO_ORDERS")
    if spec.max_num_iceberg_orders is not None and iceberg_qty and open_iceberg_orders + 1 > spec.max_num_iceberg_orders:
        raise _fail("MAX_NUM_ICEBERG_ORDERS")


def _within(scaled_price: int, ref: int, down: int, up: int) -> bool:
    """ref * down <= price <= ref * up, with multipliers in units (0 disables a bound)."""
    if up and scaled_price > ref * up:
        return False
    return not (down and scaled_price < ref * down)


def _notional_x(
    at_market: bool,
    by_quote: bool,
    price: int,
    quantity: int,
    quote_order_qty: int,
    stop_price: int,
    ref_price: int | None,
) -> int | None:
    """The order's notional times SCALE (exact), or None when it cannot be known yet.

    A priced order: price * qty. MARKET by quoteOrderQty: that amount. MARKET by quantity: at
    the reference price. STOP_LOSS / TAKE_PROFIT (market once triggered): at the stop price.
    """
    if not at_market:
        return price * quantity
    if by_quote:
        return quote_order_qty * SCALE
    if stop_price:
        return stop_price * quantity
    if ref_price is None:
        return None
    return ref_price * quantity
