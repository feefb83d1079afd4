"""The user's orders are real participants of the synthesized market: they take the agents'
liquidity, get filled by the agents, and move the price.

Impact is measured as a paired experiment: two markets with the same seed, one of which gets
a large user MARKET order; every random draw is the same in both, so the difference of their
mids is the order's effect, not the market's own noise.
"""

from __future__ import annotations

import math

import pytest

from mock_exchange.engine import units
from mock_exchange.engine.types import BUY, SELL
from mock_exchange.market.synth import SynthMarket

pytestmark = pytest.mark.timeout(300)

SYMBOL = "BTCUSDT"
T0 = 120_000  # ms of market time before the user acts
CHECKPOINTS = (0, 200, 1_000, 3_000, 10_000, 30_000, 60_000, 120_000)


def _market(seed: int) -> SynthMarket:
    m = SynthMarket(None, "calm", seed)
    m.engine.create_account("user", {"USDT": units.to_units("10000000"), "BTC": units.to_units("1000")})
    return m


def _mid(m: SynthMarket) -> float:
    bp, _, ap, _ = m.engine.best_bid_ask(SYMBOL)
    return (bp + ap) / 2


def _mid_path(seed: int, side: str | None, qty: int) -> list[float]:
    m = _market(seed)
    m.run_for(T0)
    start = m.now_ms
    out = [_mid(m)]
    if side is not None:
        res = m.engine.place_order("user", SYMBOL, side, "MARKET", quantity=qty)
        assert res.order.executed_qty == qty
    for dt in CHECKPOINTS:
        m.run_until(start + dt)
        out.append(_mid(m))
    return out


@pytest.mark.parametrize(("side", "seed"), [(BUY, 1), (SELL, 2), (BUY, 3)])
def test_a_large_market_order_moves_the_mid_which_then_partially_reverts(side: str, seed: int) -> None:
    qty = units.to_units("10")  # about 650,000 USDT
    base = _mid_path(seed, None, qty)
    hit = _mid_path(seed, side, qty)
    sign = 1 if side == BUY else -1
    impact = [sign * (h / b - 1) * 1e4 for h, b in zip(hit, base, strict=True)]  # bps, per checkpoint
    print(f"\n{side} 10 BTC, impact in bps at {('before',) + CHECKPOINTS} ms: {[round(x, 2) for x in impact]}")
    assert impact[0] == 0  # same market before the order
    peak = max(impact[1:5])  # within the first 3 s
    assert peak > 2.0  # visibly in the order's direction
    final = impact[-1]  # two minutes later
    assert 0.3 < final < 0.6 * peak  # a permanent part stays, most of the move reverts


def test_a_resting_user_order_is_filled_by_the_agents() -> None:
    m = _market(4)
    m.run_for(60_000)
    bp, _, _, _ = m.engine.best_bid_ask(SYMBOL)
    res = m.engine.place_order("user", SYMBOL, BUY, "LIMIT", quantity=units.to_units("0.01"), price=bp,
                               time_in_force="GTC")  # fmt: skip
    oid = res.order.order_id
    for _ in range(120):
        m.run_for(1000)
        if m.engine.get_order("user", SYMBOL, oid).status == "FILLED":
            break
    assert m.engine.get_order("user", SYMBOL, oid).status in ("FILLED", "PARTIALLY_FILLED")
    trades = m.engine.my_trades("user", SYMBOL)
    assert trades and all(t.is_maker and t.price == bp for t in trades)


def test_user_flow_is_seen_by_the_market_and_agent_flow_is_not() -> None:
    m = _market(5)
    m.run_for(30_000)
    assert m.stats()[SYMBOL]["external_flow"] == 0  # agents trade all the time, none of it counts
    latent = m.venues[SYMBOL].fair.latent
    res = m.engine.place_order("user", SYMBOL, SELL, "MARKET", quantity=units.to_units("2"))
    m.run_until(m.now_ms)  # reads the tape without advancing time
    flow = m.stats()[SYMBOL]["external_flow"]
    assert flow == pytest.approx(-res.order.cum_quote_qty / units.SCALE)  # quote notional sold, signed
    impact_bps = m.params.fair.impact_bps_per_m * flow / 1e6
    assert math.log(m.venues[SYMBOL].fair.latent / latent) == pytest.approx(impact_bps * 1e-4, rel=1e-6)
