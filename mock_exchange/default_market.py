"""The market ``mockex`` starts with when nothing else is configured: six venue-like symbols
and a seeded book deep enough that a MARKET order of a few BTC fills.

The symbol definitions go through ``load_symbols_config`` like any user config, so they get
the current venue filter set (values as the venue shows them for these pairs, to our best
knowledge). Seeding uses only the public Engine API and integer arithmetic, so one seed
always gives the same book.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mock_exchange.engine import units
from mock_exchange.engine.symbol_loader import load_symbols_config
from mock_exchange.engine.symbols import SymbolSpec

if TYPE_CHECKING:
    from mock_exchange.engine import Engine

_SPOT_MARGIN: dict[str, Any] = {"isMarginTradingAllowed": True, "permissionSets": [["SPOT", "MARGIN"]]}

DEFAULT_MARKET_CONFIG: dict[str, Any] = {
    "symbols": [
        {"symbol": "BTCUSDT", "base": "BTC", "quote": "USDT", "tickSize": "0.01", "maxPrice": "1000000",
         "stepSize": "0.00001", "minQty": "0.00001", "maxQty": "9000", "marketMaxQty": "100",
         "minNotional": "5", "maxNotional": "9000000", **_SPOT_MARGIN},
        {"symbol": "ETHUSDT", "base": "ETH", "quote": "USDT", "tickSize": "0.01", "maxPrice": "1000000",
         "stepSize": "0.0001", "minQty": "0.0001", "maxQty": "9000", "marketMaxQty": "2000",
         "minNotional": "5", "maxNotional": "9000000", **_SPOT_MARGIN},
        {"symbol": "BNBUSDT", "base": "BNB", "quote": "USDT", "tickSize": "0.01", "maxPrice": "100000",
         "stepSize": "0.001", "minQty": "0.001", "maxQty": "9000", "marketMaxQty": "1000",
         "minNotional": "5", "maxNotional": "9000000", **_SPOT_MARGIN},
        {"symbol": "SOLUSDT", "base": "SOL", "quote": "USDT", "tickSize": "0.01", "maxPrice": "10000",
         "stepSize": "0.001", "minQty": "0.001", "maxQty": "9000", "marketMaxQty": "5000",
         "minNotional": "5", "maxNotional": "9000000", **_SPOT_MARGIN},
        {"symbol": "XRPUSDT", "base": "XRP", "quote": "USDT", "tickSize": "0.0001", "maxPrice": "10000",
         "stepSize": "0.1", "minQty": "0.1", "maxQty": "9222449", "marketMaxQty": "2000000",
         "minNotional": "5", "maxNotional": "9000000", **_SPOT_MARGIN},
        {"symbol": "ETHBTC", "base": "ETH", "quote": "BTC", "tickSize": "0.00001", "maxPrice": "922327",
         "stepSize": "0.0001", "minQty": "0.0001", "maxQty": "100000", "marketMaxQty": "1000",
         "minNotional": "0.0001", "maxNotional": "9000000", **_SPOT_MARGIN},
    ]
}  # fmt: skip

# Reference mid price per symbol (units) and the quote notional of one seeded level.
REFERENCE_PRICES: dict[str, int] = {
    s: units.to_units(p)
    for s, p in (("BTCUSDT", "65000"), ("ETHUSDT", "3500"), ("BNBUSDT", "600"), ("SOLUSDT", "150"),
                 ("XRPUSDT", "0.6"), ("ETHBTC", "0.054"))
}  # fmt: skip
LEVEL_NOTIONALS: dict[str, int] = {
    s: units.to_units(q)
    for s, q in (("BTCUSDT", "30000"), ("ETHUSDT", "20000"), ("BNBUSDT", "8000"), ("SOLUSDT", "8000"),
                 ("XRPUSDT", "5000"), ("ETHBTC", "0.3"))
}  # fmt: skip


def default_symbols() -> list[SymbolSpec]:
    """Fresh SymbolSpecs of the default market (an Engine may change a spec's status)."""
    return load_symbols_config(DEFAULT_MARKET_CONFIG)


DEFAULT_SYMBOLS: list[SymbolSpec] = default_symbols()


def _ceil_to_grid(qty: int, min_qty: int, step: int) -> int:
    """Smallest quantity >= ``qty`` on the LOT_SIZE grid min_qty + k * step."""
    if qty <= min_qty:
        return min_qty
    return min_qty + -(-(qty - min_qty) // step) * step


def _ladder(spec: SymbolSpec, mid: int, level_notional: int, rng: random.Random, levels: int) -> list[tuple[str, int, int]]:
    """(side, price, qty) for one symbol: bids and asks alternating from the inside out.

    The best levels sit one tick either side of ``mid``; deeper gaps grow quadratically
    with jitter, so each side spans roughly 0.5 % of mid (more when ticks are coarse).
    Sizes are random around ``level_notional`` and grow with depth; every order passes the
    symbol's PRICE_FILTER, LOT_SIZE and (MIN_)NOTIONAL filters.
    """
    pf, lot = spec.price_filter, spec.lot_size
    tick = pf.tick_size if pf is not None and pf.tick_size else 1
    min_price = pf.min_price if pf is not None and pf.min_price else tick
    max_price = pf.max_price if pf is not None and pf.max_price else 0
    min_qty = lot.min_qty if lot is not None else 0
    max_qty = lot.max_qty if lot is not None and lot.max_qty else 0
    step = lot.step_size if lot is not None and lot.step_size else 1
    min_notional = max(
        spec.min_notional.min_notional if spec.min_notional is not None else 0,
        spec.notional.min_notional if spec.notional is not None else 0,
    )
    mid_ticks = max(mid // tick, 2)
    if spec.max_num_orders is not None:
        levels = min(levels, spec.max_num_orders // 2)
    # Gap before level i: 1 + extra * i^2 / sum(i^2), so the ladder spans ~0.5 % of mid (at
    # least one tick per level), dense at the top like a real book.
    extra = max(0, mid_ticks // 200 - levels)
    squares = max(1, (levels - 1) * levels * (2 * levels - 1) // 6)
    out: list[tuple[str, int, int]] = []
    offsets = {"BUY": 0, "SELL": 0}
    for i in range(levels):
        for side, sign in (("BUY", -1), ("SELL", 1)):
            gap = 1 + extra * i * i // squares
            gap += rng.randint(0, gap // 3)
            offsets[side] += gap
            price = (mid_ticks + sign * offsets[side]) * tick
            if price < min_price or (max_price and price > max_price):
                continue
            qty = level_notional * units.SCALE // price * (rng.randint(50, 150) + 4 * i) // 100
            qty = min_qty + units.floor_to_step(max(qty - min_qty, 0), step)
            qty = max(qty, _ceil_to_grid(-(-min_notional * units.SCALE // price), min_qty, step))
            if max_qty and qty > max_qty:
                qty = min_qty + units.floor_to_step(max_qty - min_qty, step)
            if qty > 0:
                out.append((side, price, qty))
    return out


def seed_book(
    engine: Engine,
    rng: random.Random,
    *,
    levels: int = 50,
    maker_account: str = "market-maker",
    mids: Mapping[str, int] | None = None,
) -> None:
    """Rest GTC LIMIT orders of ``maker_account`` on both sides of every TRADING symbol that
    has a reference mid (``mids``, default ``REFERENCE_PRICES``), ``levels`` per side.

    The maker account is created (zero fees) with ten times the balances its orders lock, or
    topped up to that if it already exists with less.
    """
    mids = REFERENCE_PRICES if mids is None else mids
    plan: list[tuple[SymbolSpec, str, int, int]] = []
    for symbol, spec in engine.symbols.items():
        mid = mids.get(symbol)
        if mid is None or mid <= 0 or spec.status != "TRADING":
            continue
        notional = LEVEL_NOTIONALS.get(symbol) or 50 * units.mul(mid, spec.lot_size.min_qty if spec.lot_size else 0)
        plan.extend((spec, side, p, q) for side, p, q in _ladder(spec, mid, notional or mid, rng, levels))
    need: dict[str, int] = {}
    for spec, side, price, qty in plan:
        if side == "BUY":
            need[spec.quote_asset] = need.get(spec.quote_asset, 0) + -(-price * qty // units.SCALE)
        else:
            need[spec.base_asset] = need.get(spec.base_asset, 0) + qty
    target = {asset: amount * 10 for asset, amount in need.items()}
    try:
        account = engine.account(maker_account)
    except KeyError:
        engine.create_account(maker_account, balances=target, maker_rate=0, taker_rate=0)
    else:
        for asset, amount in target.items():
            free = account.balance(asset)[0]
            if free < amount:
                engine.adjust_balance(maker_account, asset, amount - free)
    counts: dict[tuple[str, str], int] = {}
    for spec, side, price, qty in plan:
        n = counts[spec.symbol, side] = counts.get((spec.symbol, side), 0) + 1
        engine.place_order(
            maker_account, spec.symbol, side, "LIMIT", quantity=qty, price=price, time_in_force="GTC",
            client_order_id=f"seed-{spec.symbol}-{side[0]}{n:03d}",
        )  # fmt: skip


def build_default_engine(seed: int = 1, clock: Callable[[], int] | None = None, *, levels: int = 50) -> Engine:
    """An Engine with the default symbols and a seeded book; the seeding's events are drained,
    so the engine starts with an empty event queue."""
    from mock_exchange.engine import Engine

    engine = Engine(clock=clock)
    for spec in default_symbols():
        engine.add_symbol(spec)
    seed_book(engine, random.Random(seed), levels=levels)
    engine.drain_events()
    return engine
