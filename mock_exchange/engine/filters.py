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


# ----------------------------------------------------------------------------- quick accept
_NO_LIMIT = 1 << 126  # an upper bound no amount reaches


class QuickBounds:
    """A symbol's filters folded into a few integer bounds, for ``limit_passes``/``market_passes``.

    Why: ``check_order`` walks every filter object (and is called with a dozen keywords) on
    every order; for the two common shapes, a plain LIMIT / LIMIT_MAKER and a MARKET by
    quantity (no stop, no iceberg, no quoteOrderQty), the same rules reduce to a handful of
    comparisons against constants. The quick tests say only "passes for sure": on False the
    engine runs ``check_order``, which names the failing filter, so errors never change.
    Built once per spec (``Engine.add_symbol``); a disabled rule gets a bound that always holds.
    """

    __slots__ = (
        "p_min", "p_max", "tick", "q_min", "q_max", "q_step", "m_min", "m_max", "m_step",
        "bid_up", "bid_down", "ask_up", "ask_down", "n_min", "n_max", "mkt_n_min", "mkt_n_max",
        "max_orders", "band_ref", "bid_lo", "bid_hi", "ask_lo", "ask_hi",
    )  # fmt: skip

    def __init__(self, spec: SymbolSpec) -> None:
        pf = spec.price_filter
        self.p_min = pf.min_price if pf is not None else 0
        self.p_max = pf.max_price if pf is not None and pf.max_price else _NO_LIMIT
        self.tick = pf.tick_size if pf is not None and pf.tick_size else 1
        self.q_min, self.q_max, self.q_step = _lot_bounds(spec.lot_size)
        self.m_min, self.m_max, self.m_step = _lot_bounds(spec.market_lot_size)
        # PERCENT_PRICE and PERCENT_PRICE_BY_SIDE as one band per side: the tightest up
        # multiplier (0 = none) and the largest down multiplier (0 never fails).
        ups: tuple[list[int], list[int]] = ([], [])
        downs: tuple[list[int], list[int]] = ([0], [0])
        pp = spec.percent_price
        if pp is not None:
            for side in (0, 1):
                ups[side].append(pp.multiplier_up)
                downs[side].append(pp.multiplier_down)
        ps = spec.percent_price_by_side
        if ps is not None:
            ups[0].append(ps.bid_multiplier_up)
            downs[0].append(ps.bid_multiplier_down)
            ups[1].append(ps.ask_multiplier_up)
            downs[1].append(ps.ask_multiplier_down)
        self.bid_up = min((u for u in ups[0] if u), default=0)
        self.ask_up = min((u for u in ups[1] if u), default=0)
        self.bid_down = max(downs[0])
        self.ask_down = max(downs[1])
        # Notional bounds (times SCALE, as check_order compares them) for priced orders and
        # for MARKET orders valued at the reference price.
        mn, nt = spec.min_notional, spec.notional
        lows, mkt_lows = [0], [0]
        self.n_max = self.mkt_n_max = _NO_LIMIT
        if mn is not None:
            lows.append(mn.min_notional * SCALE)
            if mn.apply_to_market:
                mkt_lows.append(mn.min_notional * SCALE)
        if nt is not None:
            lows.append(nt.min_notional * SCALE)
            if nt.apply_min_to_market:
                mkt_lows.append(nt.min_notional * SCALE)
            if nt.max_notional:
                self.n_max = nt.max_notional * SCALE
                if nt.apply_max_to_market:
                    self.mkt_n_max = nt.max_notional * SCALE
        self.n_min = max(lows)
        self.mkt_n_min = max(mkt_lows)
        self.max_orders = spec.max_num_orders if spec.max_num_orders is not None else _NO_LIMIT
        self.band_ref = -1
        self.bid_lo = self.ask_lo = self.p_min
        self.bid_hi = self.ask_hi = self.p_max

    def set_ref(self, ref: int) -> None:
        """Price bands (PRICE_FILTER range within the percent bands) for reference price ``ref``.

        ``price * SCALE <= ref * up`` holds exactly when ``price <= ref * up // SCALE``, and
        ``price * SCALE >= ref * down`` when ``price >= ceil(ref * down / SCALE)``: the bands
        are computed once per reference price and an order compares small ints.
        """
        self.band_ref = ref
        p_min, p_max = self.p_min, self.p_max
        self.bid_lo = max(p_min, -(-ref * self.bid_down // SCALE))
        self.ask_lo = max(p_min, -(-ref * self.ask_down // SCALE))
        self.bid_hi = min(p_max, ref * self.bid_up // SCALE) if self.bid_up else p_max
        self.ask_hi = min(p_max, ref * self.ask_up // SCALE) if self.ask_up else p_max


def _lot_bounds(lot: LotSize | None) -> tuple[int, int, int]:
    if lot is None:
        return 0, _NO_LIMIT, 1
    return lot.min_qty, lot.max_qty or _NO_LIMIT, lot.step_size or 1


def limit_passes(b: QuickBounds, buy: bool, price: int, qty: int, ref: int | None, open_orders: int) -> bool:
    """True if a LIMIT / LIMIT_MAKER (price and qty > 0, no stop, no iceberg) passes every filter."""
    if ref is None:
        lo, hi = b.p_min, b.p_max
    else:
        if ref != b.band_ref:
            b.set_ref(ref)
        lo, hi = (b.bid_lo, b.bid_hi) if buy else (b.ask_lo, b.ask_hi)
    return (
        lo <= price <= hi
        and not price % b.tick
        and b.q_min <= qty <= b.q_max
        and not (qty - b.q_min) % b.q_step
        and b.n_min <= price * qty <= b.n_max
        and open_orders < b.max_orders
    )


def market_passes(b: QuickBounds, qty: int, ref: int | None, open_orders: int) -> bool:
    """True if a MARKET order by quantity (qty > 0) passes every filter."""
    if qty < b.q_min or qty > b.q_max or (qty - b.q_min) % b.q_step:
        return False
    if qty < b.m_min or qty > b.m_max or (qty - b.m_min) % b.m_step:
        return False
    if ref is not None:
        notional = ref * qty
        if notional < b.mkt_n_min or notional > b.mkt_n_max:
            return False
    return open_orders < b.max_orders
