"""Liquidity takers: noise traders, momentum traders, informed traders and the crash liquidator.

Noise traders arrive as Poisson processes with heavy-tailed sizes (log-normal body, Pareto
tail) and send market orders or marketable limits; some of the limits are GTC, so their
remainder rests for a while and is then cancelled. Momentum traders follow the mid's recent
return. Informed traders know the fair price and take the book when the mid strays from it,
which is what pulls the traded price back to the latent one after a shock (for example a big
user order) once the makers' temporary liquidity is gone.
"""

from __future__ import annotations

import random
from collections.abc import Generator
from functools import partial
from typing import Any

import simpy

from mock_exchange.engine.types import BUY, GTC, IOC, LIMIT, MARKET, SELL
from mock_exchange.market.synth.presets import CrashParams, InformedParams, MomentumParams, NoiseParams
from mock_exchange.market.synth.venue import Agent, Venue

_BP = 1e-4


class NoiseTrader(Agent):
    """Uninformed: random side, heavy-tailed size, market or marketable-limit orders."""

    kind = "noise"

    def __init__(self, venue: Venue, account_id: str, rng: random.Random, p: NoiseParams, rate_per_s: float) -> None:
        super().__init__(venue, account_id, rng)
        self.p = p
        self.mean_gap_ms = 1000.0 / rate_per_s if rate_per_s > 0 else 0.0
        self.gtc: dict[int, int] = {}  # resting GTC order id -> remaining quantity

    def size(self) -> float:
        """Quote notional of one order: log-normal body, Pareto tail, capped."""
        p, rng = self.p, self.rng
        if rng.random() < p.tail_prob:
            n = p.tail_min * rng.paretovariate(p.tail_alpha)
        else:
            n = p.notional_median * rng.lognormvariate(0.0, p.notional_sigma)
        return min(n, p.max_notional)

    def run(self) -> Generator[simpy.Event, Any, None]:
        if not self.mean_gap_ms:
            return
        env, rng = self.env, self.rng
        rate = 1.0 / self.mean_gap_ms
        while True:
            yield env.timeout(rng.expovariate(rate))
            self.trade()

    def trade(self) -> None:
        v, p, rng = self.venue, self.p, self.rng
        buy = rng.random() < 0.5
        notional = self.size()
        u = rng.random()
        bp, _, ap, _ = v.engine.best_bid_ask(v.symbol)
        touch = ap if buy else bp
        if not touch:
            return
        side = BUY if buy else SELL
        if u < p.p_market:
            qty = v.qty_for(notional, touch, v.market_max)
            if qty:
                v.place(self.account_id, side, MARKET, qty)
            return
        through = rng.randint(0, p.through_ticks) * v.tick
        price = touch + through if buy else max(touch - through, v.min_price)
        qty = v.qty_for(notional, price)
        if not qty:
            return
        if u < p.p_market + p.p_ioc:
            v.place(self.account_id, side, LIMIT, qty, price, IOC)
            return
        res = v.place(self.account_id, side, LIMIT, qty, price, GTC)
        if res is not None and (res.order.status == "NEW" or res.order.status == "PARTIALLY_FILLED"):
            oid = res.order.order_id
            self.gtc[oid] = res.order.orig_qty - res.order.executed_qty
            v.resting[oid] = self
            life = rng.expovariate(1.0 / (p.gtc_life_s * 1000.0))
            self.env.timeout(life).callbacks.append(partial(self._expire, oid))

    def _expire(self, order_id: int, _ev: simpy.Event) -> None:
        if self.gtc.pop(order_id, None) is not None:
            self.venue.cancel(self.account_id, order_id)

    def on_fill(self, order_id: int, qty: int) -> None:
        left = self.gtc.get(order_id)
        if left is None:
            return
        if left > qty:
            self.gtc[order_id] = left - qty
        else:
            del self.gtc[order_id]
            self.venue.resting.pop(order_id, None)


class MomentumTrader(Agent):
    """Buys after the mid rose by more than a threshold over the lookback, sells after a fall."""

    kind = "momentum"

    def __init__(self, venue: Venue, account_id: str, rng: random.Random, p: MomentumParams, activity: float) -> None:
        super().__init__(venue, account_id, rng)
        self.p = p
        self.activity = activity
        self.lookback_ms = p.lookback_s * 1000.0 * rng.uniform(0.5, 1.5)
        self.threshold = p.threshold_bps * rng.uniform(0.7, 1.4)

    def run(self) -> Generator[simpy.Event, Any, None]:
        env, rng = self.env, self.rng
        rate = 1.0 / (self.p.check_s * 1000.0)
        while True:
            yield env.timeout(rng.expovariate(rate))
            self.check()

    def check(self) -> None:
        v, p = self.venue, self.p
        ret = v.mid_return(self.lookback_ms)
        if ret is None:
            return
        bps = ret / _BP
        if abs(bps) < self.threshold:
            return
        notional = min(p.max_notional, p.notional * abs(bps) / self.threshold) * self.activity
        buy = bps > 0
        bp, _, ap, _ = v.engine.best_bid_ask(v.symbol)
        touch = ap if buy else bp
        qty = v.qty_for(notional, touch, v.market_max) if touch else 0
        if qty:
            v.place(self.account_id, BUY if buy else SELL, MARKET, qty)


class InformedTrader(Agent):
    """Takes the book toward the fair price when the touch is more than a threshold away."""

    kind = "informed"

    def __init__(self, venue: Venue, account_id: str, rng: random.Random, p: InformedParams, activity: float) -> None:
        super().__init__(venue, account_id, rng)
        self.p = p
        self.activity = activity
        self.threshold = p.threshold_bps * rng.uniform(0.8, 1.3)

    def run(self) -> Generator[simpy.Event, Any, None]:
        env, rng = self.env, self.rng
        rate = 1.0 / (self.p.check_s * 1000.0)
        while True:
            yield env.timeout(rng.expovariate(rate))
            self.check()

    def check(self) -> None:
        v, p = self.venue, self.p
        fair = v.fair.price
        bp, _, ap, _ = v.engine.best_bid_ask(v.symbol)
        thr = self.threshold
        if ap and fair > ap * (1.0 + thr * _BP):
            gap = (fair / ap - 1.0) / _BP
            price = v.bid_price(fair * (1.0 - 0.5 * thr * _BP))
            side = BUY
        elif bp and fair < bp * (1.0 - thr * _BP):
            gap = (1.0 - fair / bp) / _BP
            price = v.ask_price(fair * (1.0 + 0.5 * thr * _BP))
            side = SELL
        else:
            return
        notional = min(p.max_notional, p.notional_per_bp * gap) * self.activity
        qty = v.qty_for(notional, price)
        if qty:
            v.place(self.account_id, side, LIMIT, qty, price, IOC)


class Liquidator(Agent):
    """The flash crash's forced seller: market sells spread evenly over the fall."""

    kind = "liquidator"

    def __init__(self, venue: Venue, account_id: str, rng: random.Random, c: CrashParams, activity: float) -> None:
        super().__init__(venue, account_id, rng)
        self.c = c
        self.activity = activity

    def run(self) -> Generator[simpy.Event, Any, None]:
        c, env, v = self.c, self.env, self.venue
        n = max(1, c.liquidation_orders)
        gap = c.fall_s * 1000.0 / n
        yield env.timeout(max(0.0, c.at_s * 1000.0 - env.now))
        each = c.liquidation_notional * self.activity / n
        for _ in range(n):
            bp = v.engine.best_bid_ask(v.symbol)[0]
            qty = v.qty_for(each * self.rng.uniform(0.5, 1.5), bp, v.market_max) if bp else 0
            if qty:
                v.place(self.account_id, SELL, MARKET, qty)
            yield env.timeout(gap * self.rng.uniform(0.5, 1.5))
