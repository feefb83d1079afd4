"""Filter checks at their boundaries: exactly at a limit passes, one tick/step past it fails."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_exchange.engine import units
from mock_exchange.engine.filters import QuickBounds, check_order, limit_passes, market_passes
from mock_exchange.engine.symbol_loader import load_symbols_config
from mock_exchange.engine.symbols import (
    LotSize,
    MinNotional,
    Notional,
    PercentPrice,
    PercentPriceBySide,
    PriceFilter,
    SymbolSpec,
)
from mock_exchange.engine.types import EngineError

U = units.to_units

# A current BTCUSDT-like symbol: tick 0.01, step 0.00001, NOTIONAL 5..9,000,000, market max 100.
BTC = load_symbols_config(
    {"symbols": [{"symbol": "BTCUSDT", "base": "BTC", "quote": "USDT", "tickSize": "0.01", "minPrice": "0.01",
                  "maxPrice": "1000000", "stepSize": "0.00001", "minQty": "0.00001", "maxQty": "9000",
                  "marketMaxQty": "100", "minNotional": "5", "maxNotional": "9000000", "icebergParts": 10,
                  "maxNumIcebergOrders": 2}]}
)[0]  # fmt: skip
SHAPE_ONLY = dataclasses.replace(BTC, notional=None)  # price/qty rules without the notional ones
# A 2021 ETHBTC-like symbol: MIN_NOTIONAL + PERCENT_PRICE, MARKET_LOT_SIZE step disabled.
OLD = SymbolSpec(
    "ETHBTC", "ETH", "BTC",
    price_filter=PriceFilter(U("0.000001"), U("922327"), U("0.000001")),
    lot_size=LotSize(U("0.0001"), U("100000"), U("0.0001")),
    market_lot_size=LotSize(0, U("873.90727776"), 0),
    min_notional=MinNotional(U("0.0001"), True, 5),
    percent_price=PercentPrice(U("5"), U("0.2"), 5),
    iceberg_parts=10, max_num_orders=200, max_num_algo_orders=5,
)  # fmt: skip


def check(spec: SymbolSpec = BTC, **kw: Any) -> str | None:
    """The filter an order fails ("" message part after 'Filter failure: '), or None if it passes."""
    args: dict[str, Any] = {
        "side": "BUY", "type": "LIMIT", "price": U("65000"), "quantity": U("0.001"), "quote_order_qty": 0,
        "stop_price": 0, "iceberg_qty": 0, "ref_price": None, "open_orders": 0, "open_algo_orders": 0,
        "open_iceberg_orders": 0,
    }  # fmt: skip
    args.update(kw)
    try:
        check_order(spec, **args)
    except EngineError as exc:
        assert exc.code == -1013
        assert exc.msg.startswith("Filter failure: ")
        return exc.msg.removeprefix("Filter failure: ")
    return None


def test_error_is_the_venues() -> None:
    with pytest.raises(EngineError) as err:
        check_order(BTC, side="BUY", type="LIMIT", price=U("0.005"), quantity=U("1"), quote_order_qty=0,
                    stop_price=0, iceberg_qty=0, ref_price=None, open_orders=0, open_algo_orders=0,
                    open_iceberg_orders=0)  # fmt: skip
    assert (err.value.code, err.value.msg) == (-1013, "Filter failure: PRICE_FILTER")


# ----------------------------------------------------------------------------- PRICE_FILTER
@pytest.mark.parametrize(
    ("price", "result"),
    [("0.01", None), ("0.00999999", "PRICE_FILTER"), ("1000000", None), ("1000000.01", "PRICE_FILTER"),
     ("65000.01", None), ("65000.015", "PRICE_FILTER"), ("65000.00000001", "PRICE_FILTER")],
)  # fmt: skip
def test_price_filter_bounds_and_tick(price: str, result: str | None) -> None:
    assert check(SHAPE_ONLY, price=U(price), quantity=U("1")) == result


def test_price_filter_applies_to_stop_price() -> None:
    assert check(type="STOP_LOSS_LIMIT", stop_price=U("64000.00"), price=U("63999.99")) is None
    assert check(type="STOP_LOSS_LIMIT", stop_price=U("64000.001"), price=U("63999.99")) == "PRICE_FILTER"
    assert check(type="STOP_LOSS", price=0, stop_price=U("0.001")) == "PRICE_FILTER"


def test_price_filter_tick_rule_is_price_mod_tick_not_offset_from_min() -> None:
    spec = SymbolSpec("X", "A", "B", price_filter=PriceFilter(U("0.015"), 0, U("0.01")))
    assert check(spec, price=U("0.02")) is None
    assert check(spec, price=U("0.025")) == "PRICE_FILTER"  # on the minPrice grid, off the tick grid


def test_price_filter_zero_disables_each_rule() -> None:
    spec = SymbolSpec("X", "A", "B", price_filter=PriceFilter(0, 0, 0))
    assert check(spec, price=1) is None and check(spec, price=U("99999999")) is None
    only_tick = SymbolSpec("X", "A", "B", price_filter=PriceFilter(0, 0, U("0.5")))
    assert check(only_tick, price=U("0.5")) is None and check(only_tick, price=U("0.7")) == "PRICE_FILTER"


# ----------------------------------------------------------------------------- LOT_SIZE
@pytest.mark.parametrize(
    ("qty", "result"),
    [("0.00001", None), ("0.00000999", "LOT_SIZE"), ("9000", None), ("9000.00001", "LOT_SIZE"),
     ("0.000015", "LOT_SIZE"), ("0", "LOT_SIZE")],
)  # fmt: skip
def test_lot_size_bounds_and_step(qty: str, result: str | None) -> None:
    assert check(SHAPE_ONLY, quantity=U(qty)) == result


def test_lot_size_step_counts_from_min_qty() -> None:
    spec = SymbolSpec("X", "A", "B", lot_size=LotSize(U("0.15"), U("10"), U("0.1")))
    assert check(spec, quantity=U("0.25")) is None
    assert check(spec, quantity=U("0.3")) == "LOT_SIZE"


def test_lot_size_applies_to_iceberg_qty() -> None:
    assert check(quantity=U("1"), iceberg_qty=U("0.1")) is None
    assert check(quantity=U("1"), iceberg_qty=U("0.100001")) == "LOT_SIZE"


# ----------------------------------------------------------------------------- MARKET orders
def test_market_checked_against_lot_size_and_market_lot_size() -> None:
    assert check(type="MARKET", price=0, quantity=U("100")) is None
    assert check(type="MARKET", price=0, quantity=U("100.00001")) == "MARKET_LOT_SIZE"
    assert check(type="MARKET", price=0, quantity=U("0.000001")) == "LOT_SIZE"
    assert check(type="LIMIT", quantity=U("100.00001")) is None  # MARKET_LOT_SIZE is for MARKET only


def test_market_lot_size_step_zero_is_disabled() -> None:
    assert check(OLD, type="MARKET", price=0, quantity=U("873.9")) is None
    assert check(OLD, type="MARKET", price=0, quantity=U("873.9073")) == "MARKET_LOT_SIZE"


def test_quote_order_qty_market_skips_quantity_filters() -> None:
    assert check(type="MARKET", price=0, quantity=0, quote_order_qty=U("5")) is None
    assert check(type="MARKET", price=0, quantity=0, quote_order_qty=U("4.99999999")) == "NOTIONAL"


# ----------------------------------------------------------------------------- notional
def test_notional_boundaries_for_priced_orders() -> None:
    assert check(price=U("5000"), quantity=U("0.001")) is None  # exactly 5
    assert check(price=U("4999.99"), quantity=U("0.001")) == "NOTIONAL"
    assert check(price=U("1000000"), quantity=U("9")) is None  # exactly 9,000,000
    assert check(price=U("1000000"), quantity=U("9.00001")) == "NOTIONAL"


def test_notional_for_market_uses_reference_price_and_flags() -> None:
    assert check(type="MARKET", price=0, quantity=U("0.0001"), ref_price=U("50000")) is None
    assert check(type="MARKET", price=0, quantity=U("0.0001"), ref_price=U("49999.99")) == "NOTIONAL"
    assert check(type="MARKET", price=0, quantity=U("0.0001"), ref_price=None) is None  # no reference yet
    # applyMaxToMarket is false: a huge MARKET order passes the max.
    assert check(type="MARKET", price=0, quantity=U("100"), ref_price=U("1000000")) is None


def test_notional_market_flags_can_be_switched() -> None:
    spec = SymbolSpec("X", "A", "B", notional=Notional(U("5"), False, U("100"), True, 5))
    assert check(spec, type="MARKET", price=0, quantity=U("0.0001"), ref_price=U("1")) is None
    assert check(spec, type="MARKET", price=0, quantity=U("2"), ref_price=U("50.00000001")) == "NOTIONAL"
    assert check(spec, type="MARKET", price=0, quantity=0, quote_order_qty=U("100.00000001")) == "NOTIONAL"


def test_min_notional_boundaries() -> None:
    assert check(OLD, price=U("0.01"), quantity=U("0.01")) is None  # exactly 0.0001
    assert check(OLD, price=U("0.009999"), quantity=U("0.01")) == "MIN_NOTIONAL"
    assert check(OLD, type="MARKET", price=0, quantity=U("0.01"), ref_price=U("0.009999")) == "MIN_NOTIONAL"
    no_market = SymbolSpec("X", "A", "B", min_notional=MinNotional(U("0.0001"), False, 5))
    assert check(no_market, type="MARKET", price=0, quantity=U("0.01"), ref_price=1) is None
    assert check(no_market, type="LIMIT", price=U("0.009999"), quantity=U("0.01")) == "MIN_NOTIONAL"


def test_stop_market_notional_uses_stop_price() -> None:
    assert check(type="STOP_LOSS", price=0, stop_price=U("5000"), quantity=U("0.001")) is None
    assert check(type="STOP_LOSS", price=0, stop_price=U("4999.99"), quantity=U("0.001")) == "NOTIONAL"


def test_notional_is_exact_not_rounded() -> None:
    spec = SymbolSpec("X", "A", "B", notional=Notional(U("5"), True, 0, False, 5))
    # 0.00000003 * 166666666.66666667 = 5.0000000000000001 ; one unit less is 4.99999999999999998.
    assert check(spec, price=3, quantity=16666666666666667) is None
    assert check(spec, price=3, quantity=16666666666666666) == "NOTIONAL"


@given(price=st.integers(1, 10**15), qty=st.integers(1, 10**15), minimum=st.integers(0, 10**12))
def test_min_notional_matches_exact_decimal_arithmetic(price: int, qty: int, minimum: int) -> None:
    spec = SymbolSpec("X", "A", "B", min_notional=MinNotional(minimum, True, 5))
    exact = units.to_decimal(price) * units.to_decimal(qty) >= units.to_decimal(minimum)
    assert (check(spec, price=price, quantity=qty) is None) == exact


# ----------------------------------------------------------------------------- percent price
def test_percent_price_boundaries() -> None:
    ref = U("0.05")
    assert check(OLD, price=U("0.25"), quantity=U("1"), ref_price=ref) is None  # 5x
    assert check(OLD, price=U("0.250001"), quantity=U("1"), ref_price=ref) == "PERCENT_PRICE"
    assert check(OLD, price=U("0.01"), quantity=U("1"), ref_price=ref) is None  # 0.2x
    assert check(OLD, price=U("0.009999"), quantity=U("1"), ref_price=ref) == "PERCENT_PRICE"
    assert check(OLD, price=U("0.009999"), quantity=U("1"), ref_price=None) is None  # no reference yet
    assert check(OLD, type="MARKET", price=0, quantity=U("1"), ref_price=U("1000")) is None  # MARKET skipped


def test_percent_price_by_side_uses_the_orders_side() -> None:
    spec = SymbolSpec("X", "A", "B", percent_price_by_side=PercentPriceBySide(U("1.1"), U("0.5"), U("2"), U("0.9"), 5))
    ref = U("100")
    assert check(spec, side="BUY", price=U("110"), ref_price=ref) is None
    assert check(spec, side="BUY", price=U("110.00000001"), ref_price=ref) == "PERCENT_PRICE_BY_SIDE"
    assert check(spec, side="BUY", price=U("50"), ref_price=ref) is None
    assert check(spec, side="BUY", price=U("49.99999999"), ref_price=ref) == "PERCENT_PRICE_BY_SIDE"
    assert check(spec, side="SELL", price=U("200"), ref_price=ref) is None
    assert check(spec, side="SELL", price=U("200.00000001"), ref_price=ref) == "PERCENT_PRICE_BY_SIDE"
    assert check(spec, side="SELL", price=U("90"), ref_price=ref) is None
    assert check(spec, side="SELL", price=U("89.99999999"), ref_price=ref) == "PERCENT_PRICE_BY_SIDE"


def test_default_config_percent_price_by_side() -> None:
    assert check(price=U("325000"), quantity=U("0.001"), ref_price=U("65000")) is None
    assert check(price=U("325000.01"), quantity=U("0.001"), ref_price=U("65000")) == "PERCENT_PRICE_BY_SIDE"
    assert check(side="SELL", price=U("12999.99"), ref_price=U("65000")) == "PERCENT_PRICE_BY_SIDE"


# ----------------------------------------------------------------------------- iceberg, counts
def test_iceberg_parts() -> None:
    assert check(quantity=U("1"), iceberg_qty=U("0.1")) is None  # exactly 10 parts
    assert check(quantity=U("1.00001"), iceberg_qty=U("0.1")) == "ICEBERG_PARTS"  # 11 parts


def test_max_num_orders() -> None:
    assert check(open_orders=199) is None
    assert check(open_orders=200) == "MAX_NUM_ORDERS"


def test_max_num_algo_orders_counts_stop_types_only() -> None:
    for kind in ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"):
        assert check(type=kind, stop_price=U("64000"), open_algo_orders=4) is None
        assert check(type=kind, stop_price=U("64000"), open_algo_orders=5) == "MAX_NUM_ALGO_ORDERS"
    for kind in ("STOP_LOSS", "TAKE_PROFIT"):
        assert check(type=kind, price=0, stop_price=U("64000"), open_algo_orders=5) == "MAX_NUM_ALGO_ORDERS"
    assert check(type="LIMIT", open_algo_orders=5) is None


def test_max_num_iceberg_orders() -> None:
    assert check(quantity=U("1"), iceberg_qty=U("0.1"), open_iceberg_orders=1) is None
    assert check(quantity=U("1"), iceberg_qty=U("0.1"), open_iceberg_orders=2) == "MAX_NUM_ICEBERG_ORDERS"
    assert check(quantity=U("1"), open_iceberg_orders=2) is None


def test_first_failing_filter_is_reported_in_venue_order() -> None:
    assert check(price=U("0.001"), quantity=U("0.000001"), open_orders=500) == "PRICE_FILTER"
    assert check(quantity=U("0.000001"), open_orders=500) == "LOT_SIZE"
    assert check(quantity=U("0.00001"), open_orders=500) == "NOTIONAL"


def test_no_filters_means_everything_passes() -> None:
    assert check(SymbolSpec("X", "A", "B"), price=1, quantity=1, open_orders=10**6) is None


def test_check_is_fast() -> None:
    kw: dict[str, Any] = {"side": "BUY", "type": "LIMIT", "price": U("65000"), "quantity": U("0.001"),
                          "quote_order_qty": 0, "stop_price": 0, "iceberg_qty": 0, "ref_price": U("65000"),
                          "open_orders": 3, "open_algo_orders": 0, "open_iceberg_orders": 0}  # fmt: skip
    n = 20_000
    start = time.perf_counter()
    for _ in range(n):
        check_order(BTC, **kw)
    per_call = (time.perf_counter() - start) / n
    assert per_call < 50e-6, f"{per_call * 1e6:.1f} us per check"


# ----------------------------------------------------------------------------- quick accept
_amount = st.sampled_from([0, 1, 3, 7, 10, 100, 999, 1000, 10**4, 10**6, 10**8, 5 * 10**8, 10**10, 10**12])
_mult = st.sampled_from([0, 1, 10**7, 2 * 10**7, 10**8, 11 * 10**7, 5 * 10**8])


@st.composite
def _specs(draw: st.DrawFn) -> SymbolSpec:
    def maybe(strategy: st.SearchStrategy[Any]) -> Any:
        return draw(st.one_of(st.none(), strategy))

    lot = st.builds(LotSize, _amount, _amount, _amount)
    return SymbolSpec(
        "X", "A", "B",
        price_filter=maybe(st.builds(PriceFilter, _amount, _amount, _amount)),
        lot_size=maybe(lot), market_lot_size=maybe(lot),
        min_notional=maybe(st.builds(MinNotional, _amount, st.booleans(), st.just(5))),
        notional=maybe(st.builds(Notional, _amount, st.booleans(), _amount, st.booleans(), st.just(5))),
        percent_price=maybe(st.builds(PercentPrice, _mult, _mult, st.just(5))),
        percent_price_by_side=maybe(st.builds(PercentPriceBySide, _mult, _mult, _mult, _mult, st.just(5))),
        max_num_orders=maybe(st.integers(1, 5)),
    )  # fmt: skip


@settings(max_examples=1500)
@given(
    spec=_specs(),
    side=st.sampled_from(["BUY", "SELL"]),
    otype=st.sampled_from(["LIMIT", "LIMIT_MAKER", "MARKET"]),
    price=_amount.filter(bool),
    qty=_amount.filter(bool),
    ref=st.one_of(st.none(), _amount.filter(bool)),
    earlier_ref=st.one_of(st.none(), _amount.filter(bool)),
    n_open=st.integers(0, 6),
)
def test_quick_checks_accept_exactly_what_check_order_accepts(
    spec: SymbolSpec,
    side: str,
    otype: str,
    price: int,
    qty: int,
    ref: int | None,
    earlier_ref: int | None,
    n_open: int,
) -> None:
    """The engine's shortcut for plain LIMIT / MARKET-by-quantity orders never disagrees with the filters."""
    bounds = QuickBounds(spec)
    limit_passes(bounds, side == "SELL", price, qty, earlier_ref, n_open)  # bands cached for another price
    if otype == "MARKET":
        quick = market_passes(bounds, qty, ref, n_open)
        price = 0
    else:
        quick = limit_passes(bounds, side == "BUY", price, qty, ref, n_open)
    failed = check(spec, side=side, type=otype, price=price, quantity=qty, ref_price=ref, open_orders=n_open)
    assert quick == (failed is None), failed
