"""Property tests: random order flow on two symbols from three accounts keeps the books balanced.

After every operation: the book is never crossed at rest; per asset, free + locked over all
accounts plus fees collected is conserved; each account's locked equals what its open orders
need; each order's executed quantity equals the sum of its fills; no order is both open and
terminal; order, trade, update and execution ids only increase; rejections change nothing.
"""

from __future__ import annotations

import contextlib
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_exchange.engine import EngineError
from tests.engine.engine_fixtures import IdTracker, U, check_invariants, make_engine, make_spec, totals

SYMBOLS = {
    # symbol: (tick as a decimal string, first price, step)
    "BTCUSDT": ("0.5", U("95"), U("0.1")),
    "ETHBTC": ("0.001", U("0.04"), U("0.01")),
}
ACCOUNTS = ("a", "b", "c")
STP = ("", "NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH", "DECREMENT")

acct_s = st.sampled_from(ACCOUNTS)
sym_s = st.sampled_from(tuple(SYMBOLS))
side_s = st.sampled_from(("BUY", "SELL"))
tick_s = st.integers(0, 20)
lots_s = st.integers(1, 30)

limit_s = st.tuples(
    st.just("limit"), acct_s, sym_s, side_s, tick_s, lots_s, st.sampled_from(("GTC", "GTC", "IOC", "FOK")),
    st.sampled_from(STP), st.integers(0, 3),
)  # fmt: skip
ops = st.one_of(
    limit_s,
    limit_s,
    limit_s,
    limit_s,
    st.tuples(st.just("market"), acct_s, sym_s, side_s, lots_s, st.booleans(), st.sampled_from(STP)),
    st.tuples(st.just("maker"), acct_s, sym_s, side_s, tick_s, lots_s),
    st.tuples(st.just("stop"), acct_s, sym_s, side_s, tick_s, lots_s,
              st.sampled_from(("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"))),
    st.tuples(st.just("cancel"), acct_s, sym_s, st.integers(0, 50)),
    st.tuples(st.just("cancel_all"), acct_s, sym_s),
    st.tuples(st.just("replace"), acct_s, sym_s, st.integers(0, 50), tick_s, lots_s),
    st.tuples(st.just("tick"), st.integers(1, 400_000)),
)  # fmt: skip


def _price(symbol: str, ticks: int) -> int:
    tick, first, _step = SYMBOLS[symbol]
    return first + ticks * U(tick)


def _apply(eng: Any, clock: Any, op: tuple[Any, ...]) -> None:
    kind = op[0]
    if kind == "tick":
        clock.advance(op[1])
        return
    acct, sym = op[1], op[2]
    step = SYMBOLS[sym][2]
    if kind == "limit":
        _, _, _, side, ticks, lots, tif, stp, ice_parts = op
        qty = lots * step
        ice = qty // (ice_parts + 1) // step * step if ice_parts and tif == "GTC" and lots > ice_parts else 0
        eng.place_order(acct, sym, side, "LIMIT", quantity=qty, price=_price(sym, ticks), time_in_force=tif,
                        stp_mode=stp, iceberg_qty=ice)  # fmt: skip
    elif kind == "market":
        _, _, _, side, lots, by_quote, stp = op
        if by_quote:
            eng.place_order(acct, sym, side, "MARKET", quote_order_qty=lots * step * SYMBOLS[sym][1] // U(1),
                            stp_mode=stp)  # fmt: skip
        else:
            eng.place_order(acct, sym, side, "MARKET", quantity=lots * step, stp_mode=stp)
    elif kind == "maker":
        _, _, _, side, ticks, lots = op
        eng.place_order(acct, sym, side, "LIMIT_MAKER", quantity=lots * step, price=_price(sym, ticks))
    elif kind == "stop":
        _, _, _, side, ticks, lots, otype = op
        kw: dict[str, Any] = {"quantity": lots * step, "stop_price": _price(sym, ticks)}
        if otype.endswith("_LIMIT"):
            kw.update(price=_price(sym, ticks), time_in_force="GTC")
        eng.place_order(acct, sym, side, otype, **kw)
    elif kind in ("cancel", "replace"):
        mine = eng.open_orders(acct, sym)
        target = mine[op[3] % len(mine)].order_id if mine else 10_000
        if kind == "cancel":
            eng.cancel_order(acct, sym, target)
        else:
            _, _, _, _, ticks, lots = op
            eng.cancel_replace(acct, sym, cancel_order_id=target, side="BUY", type="LIMIT", quantity=lots * step,
                               price=_price(sym, ticks), time_in_force="GTC")  # fmt: skip
    else:
        eng.cancel_all(acct, sym)


def _engine() -> tuple[Any, Any]:
    specs = [
        make_spec("BTCUSDT", "BTC", "USDT", lot_size=None),
        make_spec("ETHBTC", "ETH", "BTC", lot_size=None, price_filter=None),
    ]
    eng, clock = make_engine(accounts=(), specs=specs)
    for acct in ACCOUNTS:
        eng.create_account(acct, {"BTC": U("40"), "USDT": U("1500"), "ETH": U("300")}, maker_rate=U("0.001"),
                           taker_rate=U("0.0025"))  # fmt: skip
    return eng, clock


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ops, min_size=5, max_size=60))
def test_random_flow_keeps_every_invariant(flow: list[tuple[Any, ...]]) -> None:
    eng, clock = _engine()
    expected = totals(eng)
    ids = IdTracker()
    for op in flow:
        before = len(eng._events)
        try:
            _apply(eng, clock, op)
        except EngineError:
            if op[0] != "replace":
                assert len(eng._events) == before  # a rejection emits nothing
        ids.feed(eng.drain_events())
        check_invariants(eng, expected)


def _random_op(rnd: random.Random) -> tuple[Any, ...]:
    """One op of a realistic flow: prices cluster around a mid so orders cross often."""
    acct = rnd.choice(ACCOUNTS)
    sym = "BTCUSDT" if rnd.random() < 0.7 else "ETHBTC"
    side = rnd.choice(("BUY", "SELL"))
    ticks = max(0, min(20, 10 + int(rnd.gauss(0, 4)) + (-2 if side == "BUY" else 2)))
    lots = rnd.randint(1, 30)
    stp = rnd.choice(STP)
    r = rnd.random()
    if r < 0.50:
        return ("limit", acct, sym, side, ticks, lots, rnd.choice(("GTC", "GTC", "GTC", "IOC", "FOK")), stp,
                rnd.choice((0, 0, 0, 2, 3)))  # fmt: skip
    if r < 0.60:
        return ("market", acct, sym, side, lots, rnd.random() < 0.4, stp)
    if r < 0.65:
        return ("maker", acct, sym, side, ticks, lots)
    if r < 0.75:
        otype = rnd.choice(("STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"))
        return ("stop", acct, sym, side, ticks + rnd.randint(-4, 4), lots, otype)
    if r < 0.88:
        return ("cancel", acct, sym, rnd.randrange(50))
    if r < 0.90:
        return ("cancel_all", acct, sym)
    if r < 0.95:
        return ("replace", acct, sym, rnd.randrange(50), ticks, lots)
    return ("tick", rnd.randint(1, 5000))


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(10, 120))
def test_realistic_random_flow_keeps_every_invariant(rnd: random.Random, n: int) -> None:
    eng, clock = _engine()
    expected = totals(eng)
    ids = IdTracker()
    for _ in range(n):
        op = _random_op(rnd)
        if op[0] == "stop":
            op = op[:4] + (max(0, op[4]),) + op[5:]
        before = len(eng._events)
        try:
            _apply(eng, clock, op)
        except EngineError:
            if op[0] != "replace":
                assert len(eng._events) == before
        ids.feed(eng.drain_events())
        check_invariants(eng, expected)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(acct_s, side_s, tick_s, lots_s, st.booleans()), min_size=1, max_size=60))
def test_depth_matches_the_resting_orders(flow: list[tuple[str, str, int, int, bool]]) -> None:
    eng, _ = _engine()
    for acct, side, ticks, lots, ioc in flow:
        with contextlib.suppress(EngineError):
            eng.place_order(acct, "BTCUSDT", side, "LIMIT", quantity=lots * U("0.1"), price=_price("BTCUSDT", ticks),
                            time_in_force="IOC" if ioc else "GTC", stp_mode="NONE")  # fmt: skip
        want_bids: dict[int, int] = {}
        want_asks: dict[int, int] = {}
        for acct_id in ACCOUNTS:
            for o in eng.open_orders(acct_id, "BTCUSDT"):
                book = want_bids if o.side == "BUY" else want_asks
                book[o.price] = book.get(o.price, 0) + o.orig_qty - o.executed_qty
        _, bids, asks = eng.depth("BTCUSDT", 1000)
        assert bids == sorted(want_bids.items(), reverse=True)
        assert asks == sorted(want_asks.items())
