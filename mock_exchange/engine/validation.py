"""Order validation for ``Engine.place_order`` / ``cancel_replace``: static rules, filters, locks.

Split from the facade so order entry reads as a sequence of steps. ``_check_params`` holds the
venue's parameter rules with their exact error codes and messages; ``_check_filters`` feeds
``filters.check_order`` the reference (average) price and the account's open-order counts,
after trying the quick bound checks that accept the common orders for a few comparisons;
``_lock_need`` says what an accepted order must lock.
"""

from __future__ import annotations

from mock_exchange.engine.core import SymbolState
from mock_exchange.engine.filters import check_order, limit_passes, market_passes
from mock_exchange.engine.matching import MatchingMixin
from mock_exchange.engine.symbols import SymbolSpec
from mock_exchange.engine.types import (
    BUY,
    GTC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    ORDER_TYPES,
    SELL,
    STOP_LOSS,
    STOP_LOSS_LIMIT,
    STOP_TYPES,
    TAKE_PROFIT,
    TAKE_PROFIT_LIMIT,
    TIME_IN_FORCES,
    EngineError,
    Order,
)
from mock_exchange.engine.units import SCALE

INSUFFICIENT = "Account has insufficient balance for requested action."
_UNSUPPORTED_TYPE_MSG = {
    MARKET: "Market orders are not supported for this symbol.",
    STOP_LOSS: "Stop loss orders are not supported for this symbol.",
    STOP_LOSS_LIMIT: "Stop loss limit orders are not supported for this symbol.",
    TAKE_PROFIT: "Take profit orders are not supported for this symbol.",
    TAKE_PROFIT_LIMIT: "Take profit limit orders are not supported for this symbol.",
}
_ORDER_TYPE_SET = frozenset(ORDER_TYPES)
STOP_TYPE_SET = frozenset(STOP_TYPES)
LIMIT_PRICED = frozenset((LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT))
_NEEDS_TIF = frozenset((LIMIT, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT))
TIF_SET = frozenset(TIME_IN_FORCES)


def _mandatory(name: str) -> EngineError:
    return EngineError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def _not_required(name: str) -> EngineError:
    return EngineError(-1106, f"Parameter '{name}' sent when not required.")


class ValidationMixin(MatchingMixin):
    """The checks an order passes before anything changes."""

    def _check_params(
        self,
        spec: SymbolSpec,
        side: str,
        otype: str,
        quantity: int,
        quote_order_qty: int,
        price: int,
        time_in_force: str,
        stop_price: int,
        iceberg_qty: int,
        stp_mode: str,
        strategy_type: int | None,
    ) -> tuple[str, str]:
        """Static rules of the order itself; returns (stored timeInForce, effective STP mode)."""
        if side != BUY and side != SELL:
            raise EngineError(-1117, "Invalid side.")
        if otype not in _ORDER_TYPE_SET:
            raise EngineError(-1116, "Invalid orderType.")
        if otype not in spec.order_types:
            raise EngineError(-2010, _UNSUPPORTED_TYPE_MSG.get(otype, "Unsupported order combination"))
        if (quantity | quote_order_qty | price | stop_price | iceberg_qty) < 0:  # any negative
            name = ("quantity" if quantity < 0 else "quoteOrderQty" if quote_order_qty < 0
                    else "price" if price < 0 else "stopPrice" if stop_price < 0 else "icebergQty")  # fmt: skip
            raise _mandatory(name)
        if otype == MARKET:
            if time_in_force:
                raise EngineError(-1114, "TimeInForce parameter sent when not required.")
            if price:
                raise _not_required("price")
            if stop_price:
                raise _not_required("stopPrice")
            if iceberg_qty:
                raise _not_required("icebergQty")
            if quantity and quote_order_qty:
                raise _not_required("quoteOrderQty")
            if not quantity and not quote_order_qty:
                raise EngineError(
                    -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
                )
            if quote_order_qty and not spec.quote_order_qty_market_allowed:
                raise EngineError(-2010, "Quote order qty market orders are not support for this symbol.")
            tif = ""
        else:
            if quote_order_qty:
                raise _not_required("quoteOrderQty")
            if not quantity:
                raise _mandatory("quantity")
            if otype in LIMIT_PRICED:
                if not price:
                    raise _mandatory("price")
            elif price:
                raise _not_required("price")
            if otype in STOP_TYPE_SET:
                if not stop_price:
                    raise _mandatory("stopPrice")
            elif stop_price:
                raise _not_required("stopPrice")
            if otype in _NEEDS_TIF:
                if not time_in_force:
                    raise _mandatory("timeInForce")
                if time_in_force not in TIF_SET:
                    raise EngineError(-1115, "Invalid timeInForce.")
                tif = time_in_force
            elif otype == LIMIT_MAKER:
                if time_in_force and time_in_force != GTC:
                    raise EngineError(-1114, "TimeInForce parameter sent when not required.")
                tif = GTC
            else:
                if time_in_force:
                    raise EngineError(-1114, "TimeInForce parameter sent when not required.")
                tif = ""
            if iceberg_qty:
                if otype not in LIMIT_PRICED:
                    raise _not_required("icebergQty")
                if not spec.iceberg_allowed:
                    raise EngineError(-2010, "Iceberg orders are not supported for this symbol.")
                if tif != GTC:
                    raise EngineError(-2010, "Unsupported order combination")
                if iceberg_qty >= quantity:
                    raise EngineError(-2010, "IcebergQty exceeds QTY.")
        stp = stp_mode or spec.default_stp_mode
        if stp not in spec.allowed_stp_modes:
            raise EngineError(-1013, "This symbol does not allow the specified self-trade prevention mode.")
        if strategy_type is not None and strategy_type < 1_000_000:
            raise EngineError(-1134, "strategyType was less than 1000000.")
        return tif, stp

    def _check_filters(
        self,
        st: SymbolState,
        account_id: str,
        side: str,
        otype: str,
        quantity: int,
        quote_order_qty: int,
        price: int,
        stop_price: int,
        iceberg_qty: int,
        now: int,
        replacing: Order | None = None,
    ) -> None:
        """filters.check_order with the reference price and this account's open-order counts.

        The common shapes first try the quick bound checks (``filters.limit_passes`` /
        ``market_passes``); only an order they cannot accept pays for ``check_order``, which
        then reports the failing filter. Algo and iceberg counts are only taken when the
        order is of the kind their filters limit.
        """
        ref: int | None = None
        mins = (
            st.ref_priced if otype in LIMIT_PRICED else st.ref_market if otype == MARKET and quantity else -1
        )
        if mins >= 0:
            ref = self._ref_price(st, mins, now)
        opened = st.open_by_account.get(account_id)
        n_open = len(opened) if opened else 0
        if replacing is not None and n_open:
            n_open -= 1
        if not (stop_price or iceberg_qty or quote_order_qty):
            if otype == LIMIT or otype == LIMIT_MAKER:
                if limit_passes(st.quick, side == BUY, price, quantity, ref, n_open):
                    return
            elif otype == MARKET and market_passes(st.quick, quantity, ref, n_open):
                return
        spec = st.spec
        n_algo = n_ice = 0
        count_algo = spec.max_num_algo_orders is not None and otype in STOP_TYPE_SET
        count_ice = spec.max_num_iceberg_orders is not None and iceberg_qty > 0
        if opened and (count_algo or count_ice):
            for o in opened.values():
                if o is replacing:
                    continue
                if o.type in STOP_TYPE_SET:
                    n_algo += 1
                if o.iceberg_qty:
                    n_ice += 1
        check_order(
            spec, side=side, type=otype, price=price, quantity=quantity, quote_order_qty=quote_order_qty,
            stop_price=stop_price, iceberg_qty=iceberg_qty, ref_price=ref, open_orders=n_open,
            open_algo_orders=n_algo, open_iceberg_orders=n_ice,
        )  # fmt: skip

    def _ref_price(self, st: SymbolState, mins: int, now: int) -> int | None:
        """The symbol's average price over ``mins`` minutes (None before any trade), cached per
        (mins, now, trades so far)."""
        key_tid = st.next_trade_id
        c_mins, c_now, c_tid, c_ref = st.ref_cache
        if c_mins == mins and c_now == now and c_tid == key_tid:
            return c_ref
        ref = self.market_data.avg_price(st.symbol, mins, now)
        st.ref_cache = (mins, now, key_tid, ref)
        return ref

    def _lock_need(
        self,
        st: SymbolState,
        account_id: str,
        side: str,
        otype: str,
        quantity: int,
        quote_order_qty: int,
        price: int,
        stop_price: int,
        stp: str,
    ) -> int:
        """Funds the order must lock: quote for BUY, base for SELL (MARKET: from a book walk)."""
        if side == BUY:
            if otype == MARKET:
                if quote_order_qty:
                    return quote_order_qty
                return self._buy_cost_bound(st, quantity, account_id, stp)
            if otype == STOP_LOSS or otype == TAKE_PROFIT:
                return stop_price * quantity // SCALE
            return price * quantity // SCALE
        if otype == MARKET and quote_order_qty:
            return self._sell_base_for_quote(st, quote_order_qty, account_id, stp)
        return quantity
