"""The default market: venue-like symbols and a seeded book that absorbs a few-BTC MARKET order."""

from __future__ import annotations

import random

import pytest

from mock_exchange.default_market import (
    DEFAULT_SYMBOLS,
    LEVEL_NOTIONALS,
    REFERENCE_PRICES,
    _ladder,
    build_default_engine,
    default_symbols,
    seed_book,
)
from mock_exchange.engine import Engine, SymbolSpec, units
from mock_exchange.engine.filters import check_order
from mock_exchange.engine.symbol_loader import symbol_to_json
from mock_exchange.engine.symbols import LotSize, PriceFilter

U = units.to_units
CLOCK = 1_700_000_000_000


def test_default_symbols_have_the_venues_filters() -> None:
    by_name = {s.symbol: s for s in DEFAULT_SYMBOLS}
    assert list(by_name) == ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ETHBTC"]
    btc = by_name["BTCUSDT"]
    assert btc.price_filter == PriceFilter(U("0.01"), U("1000000"), U("0.01"))
    assert btc.lot_size == LotSize(U("0.00001"), U("9000"), U("0.00001"))
    assert btc.market_lot_size == LotSize(0, U("100"), 0)
    assert btc.notional is not None and btc.notional.min_notional == U("5")
    assert (btc.max_num_orders, btc.max_num_algo_orders) == (200, 5)
    assert [f["filterType"] for f in symbol_to_json(btc)["filters"]] == [
        "PRICE_FILTER", "LOT_SIZE", "ICEBERG_PARTS", "MARKET_LOT_SIZE", "TRAILING_DELTA", "PERCENT_PRICE_BY_SIDE",
        "NOTIONAL", "MAX_NUM_ORDERS", "MAX_NUM_ALGO_ORDERS",
    ]  # fmt: skip
    eth_btc = by_name["ETHBTC"]
    assert eth_btc.notional is not None and eth_btc.notional.min_notional == U("0.0001")
    assert eth_btc.price_filter is not None and eth_btc.price_filter.tick_size == U("0.00001")
    assert by_name["XRPUSDT"].lot_size == LotSize(U("0.1"), U("9222449"), U("0.1"))
    assert set(REFERENCE_PRICES) == set(by_name) == set(LEVEL_NOTIONALS)
    assert default_symbols() is not default_symbols()  # fresh specs for every engine


@pytest.mark.parametrize("spec", DEFAULT_SYMBOLS, ids=lambda s: s.symbol)
def test_every_seeded_order_passes_the_filters(spec: SymbolSpec) -> None:
    mid = REFERENCE_PRICES[spec.symbol]
    ladder = _ladder(spec, mid, LEVEL_NOTIONALS[spec.symbol], random.Random(7), 50)
    assert sum(side == "BUY" for side, _, _ in ladder) == 50
    assert sum(side == "SELL" for side, _, _ in ladder) == 50
    for side, price, qty in ladder:
        check_order(spec, side=side, type="LIMIT", price=price, quantity=qty, quote_order_qty=0, stop_price=0,
                    iceberg_qty=0, ref_price=mid, open_orders=0, open_algo_orders=0,
                    open_iceberg_orders=0)  # fmt: skip
        assert (price < mid) == (side == "BUY")


def _engine(seed: int = 1) -> Engine:
    return build_default_engine(seed=seed, clock=lambda: CLOCK)


def test_default_engine_has_a_two_sided_book_per_symbol() -> None:
    engine = _engine()
    assert engine.drain_events() == []  # seeding happened "before the open"
    for spec in DEFAULT_SYMBOLS:
        _, bids, asks = engine.depth(spec.symbol, 1000)
        assert len(bids) == 50 and len(asks) == 50
        tick = spec.price_filter.tick_size if spec.price_filter else 0
        mid = REFERENCE_PRICES[spec.symbol]
        assert (bids[0][0], asks[0][0]) == (mid - tick, mid + tick)
        assert all(a[0] > b[0] for a, b in zip(bids, bids[1:], strict=False))
        assert all(a[0] < b[0] for a, b in zip(asks, asks[1:], strict=False))


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_market_order_of_a_few_btc_fills(side: str) -> None:
    engine = _engine()
    engine.create_account("taker", {"USDT": U("1000000"), "BTC": U("10")})
    result = engine.place_order("taker", "BTCUSDT", side, "MARKET", quantity=U("3"))
    assert result.order.status == "FILLED"
    assert result.order.executed_qty == U("3")
    prices = [f.price for f in result.fills]
    mid = REFERENCE_PRICES["BTCUSDT"]
    assert all(abs(p - mid) < mid // 100 for p in prices)  # within 1 % of mid
    quote = engine.place_order("taker", "ETHUSDT", "BUY", "MARKET", quote_order_qty=U("50000"))
    assert quote.order.status == "FILLED"


def test_same_seed_same_book_other_seed_other_book() -> None:
    first, second, other = _engine(1), _engine(1), _engine(2)
    for spec in DEFAULT_SYMBOLS:
        assert first.depth(spec.symbol, 1000) == second.depth(spec.symbol, 1000)
    assert first.depth("BTCUSDT", 1000)[1] != other.depth("BTCUSDT", 1000)[1]


def test_seed_book_tops_up_an_existing_maker() -> None:
    engine = Engine(clock=lambda: CLOCK)
    for spec in default_symbols():
        engine.add_symbol(spec)
    engine.create_account("mm", {"USDT": U("1")})
    seed_book(engine, random.Random(3), levels=5, maker_account="mm", mids={"BTCUSDT": U("65000")})
    _, bids, asks = engine.depth("BTCUSDT", 100)
    assert len(bids) == len(asks) == 5
    assert engine.depth("ETHUSDT", 100)[1:] == ([], [])  # no mid given: not seeded
    assert len(engine.open_orders("mm", "BTCUSDT")) == 10


def test_levels_are_capped_by_max_num_orders() -> None:
    engine = build_default_engine(seed=1, clock=lambda: CLOCK, levels=150)
    _, bids, asks = engine.depth("BTCUSDT", 5000)
    assert len(bids) == len(asks) == 100  # MAX_NUM_ORDERS 200 per account and symbol
