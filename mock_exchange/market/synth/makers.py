"""Liquidity providers: fast market makers at the touch and slow ladders behind them.

Fast makers quote one or two levels a side around the fair price, shifted against their
inventory. They requote after a reaction latency whenever the fair price changes or a fill
leaves their quote short, and on a timer otherwise; a requote cancels the quotes whose price
or size is stale and places new ones (plain GTC limits: a quote that crosses another maker's
stale quote takes it, which is how stale liquidity gets picked off). Ladder providers keep
orders spread over a band of distances from the fair price (sizes growing with distance,
which gives the book its depth profile) and only replace orders that drifted out of the band
or outlived a random lifetime (without lifetimes, far orders would never turn over while near
ones are taken or cancelled all the time, and the book would hollow out near the touch).
Between refreshes they watch the fair price like the makers and, after a reaction latency,
pull the orders a move left inside the band's inner edge: left there until the next refresh,
those stale orders held the touch back and the mid followed the fair price about a second
late, which showed as a lag-1 autocorrelation of 1-second returns of about +0.15.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator
from typing import Any

import simpy

from mock_exchange.engine.types import BUY, GTC, LIMIT, SELL
from mock_exchange.market.synth.presets import CrashParams, DepthParams, MakerParams
from mock_exchange.market.synth.venue import Agent, Venue

_BP = 1e-4
_NO_ASK = 1 << 62
_NEVER = float("inf")


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi))) if lo > 0 and hi > lo else lo


class MarketMaker(Agent):
    """Quotes the touch around the fair price with inventory skew; cancel/replace on changes."""

    kind = "maker"

    def __init__(self, venue: Venue, account_id: str, rng: random.Random, p: MakerParams,
                 crash: CrashParams | None, activity: float, aggressive: bool = False) -> None:  # fmt: skip
        super().__init__(venue, account_id, rng)
        self.p = p
        self.aggressive = aggressive
        self.crash = crash
        self.half_spread = rng.randint(*p.half_spread_ticks)
        self.level2_bps = rng.uniform(*p.second_level_bps) if p.second_level_bps[1] > 0 else 0.0
        self.notional = _log_uniform(rng, *p.notional) * activity
        self.reaction_ms = rng.uniform(*p.reaction_ms)
        self.refresh_ms = p.refresh_s * 1000.0
        self.level2_tol = 0
        # Slots: bid L1, bid L2, ask L1, ask L2 -> order id; per order [price, remaining, target].
        self.slots: list[int] = [0, 0, 0, 0]
        self.live: dict[int, list[int]] = {}
        self.base0 = 0
        self._due = 0.0  # simulated time of the next timed requote
        self._timer_at = _NEVER  # when the live refresh timer fires (_NEVER: none)
        self._pending = False

    def run(self) -> Generator[simpy.Event, Any, None]:
        """Quote at the start; from then on timers drive the maker (see ``_refresh``)."""
        self.base0 = self.inventory()
        self.venue.fair.listeners.append(self.poke)
        self._requote()
        yield from ()

    def _requote(self) -> None:
        """Requote now; the next timed requote is a random refresh interval later.

        Why not a process waiting on a wake event with a fresh timer per requote: a maker
        requotes every ~200 ms and each time left a dead timer and a wake event in simpy's
        queue. One live timer suffices: when the new refresh time is later than it, the timer
        fires early and sleeps on (``_refresh``); only an earlier one needs a new timer.
        """
        self._pending = False
        self.requote()
        env = self.env
        delay = self.refresh_ms * (0.5 + self.rng.random())
        due = self._due = env.now + delay
        if due < self._timer_at:
            self._timer_at = due  # the time simpy computes for the timer below
            env.timeout(delay).callbacks.append(self._refresh)

    def _refresh(self, _ev: simpy.Event) -> None:
        env = self.env
        now = env.now
        if now != self._timer_at:
            return  # superseded by an earlier timer
        if now >= self._due:
            self._timer_at = _NEVER
            self._requote()
            return
        delay = self._due - now
        self._timer_at = now + delay
        env.timeout(delay).callbacks.append(self._refresh)

    def poke(self) -> None:
        """Something changed (fair price, a fill): requote after this maker's reaction time."""
        if self._pending:
            return
        self._pending = True
        self.env.timeout(self.reaction_ms * (0.5 + self.rng.random())).callbacks.append(self._fire)

    def _fire(self, _ev: simpy.Event) -> None:
        self._requote()

    def on_fill(self, order_id: int, qty: int) -> None:
        rec = self.live.get(order_id)
        if rec is None:
            return
        rec[1] -= qty
        if rec[1] <= 0:
            del self.live[order_id]
            self.venue.resting.pop(order_id, None)
            self.poke()
        elif rec[1] < rec[2] * self.p.refill_fraction:
            self.poke()

    def targets(self) -> list[tuple[int, float]]:
        """(price, USD notional) per slot (notional 0 = no order) for the current fair price
        and inventory; quantities are worked out only for the orders actually placed."""
        v = self.venue
        fair = v.fair.price
        hs = float(self.half_spread * v.tick)
        size = self.notional
        c = self.crash
        if c is not None and v.fair.in_crash(self.env.now):
            hs *= c.maker_spread_factor
            size *= c.maker_size_factor
        inv_usd = (self.inventory() - self.base0) * fair / 1e16 * v.usd_per_quote
        center = fair * (1.0 - self.p.skew_bps_per_m * _BP * inv_usd / 1_000_000.0)
        bid1 = v.bid_price(center - hs)
        ask1 = v.ask_price(center + hs)
        if ask1 <= bid1:
            ask1 = bid1 + v.tick
        out = [(bid1, size), (0, 0.0), (ask1, size), (0, 0.0)]
        if self.level2_bps:
            gap = center * self.level2_bps * _BP
            size2 = size * self.p.second_level_mult
            bid2 = v.bid_price(center - hs - gap)
            ask2 = v.ask_price(center + hs + gap)
            out[1] = (bid2, size2) if bid2 < bid1 else (0, 0.0)
            out[3] = (ask2, size2) if ask2 > ask1 else (0, 0.0)
            self.level2_tol = int(gap * self.p.level2_tolerance)
        return out

    def requote(self) -> None:
        v = self.venue
        acct = self.account_id
        want = self.targets()
        slots, live = self.slots, self.live
        refill = self.p.refill_fraction
        place: list[int] = []
        for i, (price, size) in enumerate(want):
            oid = slots[i]
            if oid:
                rec = live.get(oid)
                tol = self.level2_tol if i & 1 else 0
                if rec is not None and size and abs(rec[0] - price) <= tol and rec[1] >= rec[2] * refill:
                    continue  # still right: keep its queue position
                if rec is not None:
                    del live[oid]
                    v.cancel(acct, oid)
                slots[i] = 0
            if size:
                place.append(i)
        if not place:
            return
        if not self.aggressive:
            # Post-only with a slide: never cross the opposite touch (other makers' quotes
            # may be stale for a few ms), rest one tick behind it instead.
            bp, _, ap, _ = v.engine.best_bid_ask(v.symbol)
            tick = v.tick
            for i in place:
                price, size = want[i]
                if i < 2 and ap and price >= ap:
                    want[i] = (ap - tick, size)
                elif i >= 2 and bp and price <= bp:
                    want[i] = (bp + tick, size)
        for i in place:
            price, size = want[i]
            qty = v.qty_for(size, price)
            if not qty:
                continue
            res = v.place(acct, BUY if i < 2 else SELL, LIMIT, qty, price, GTC)
            if res is None:
                continue
            o = res.order
            left = o.orig_qty - o.executed_qty
            if o.status == "NEW" or o.status == "PARTIALLY_FILLED":
                slots[i] = o.order_id
                live[o.order_id] = [price, left, qty]
                v.resting[o.order_id] = self


class DepthProvider(Agent):
    """Keeps ``orders_per_side`` orders a side spread over a band of distances from the fair."""

    kind = "depth"

    def __init__(self, venue: Venue, account_id: str, rng: random.Random, p: DepthParams,
                 crash: CrashParams | None, activity: float) -> None:  # fmt: skip
        super().__init__(venue, account_id, rng)
        self.p = p
        self.crash = crash
        self.activity = activity
        self.live: dict[int, list[int]] = {}  # order id -> [is_buy, price, remaining, expiry ms]
        self.life_ms = p.lifetime_s * 1000.0
        self._pending = False
        self.inner_bid = 0  # highest live bid price (or higher), see ``_edges``
        self.inner_ask = _NO_ASK  # lowest live ask price (or lower)

    def run(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        ms = self.p.refresh_s * 1000.0
        if self.p.pull_reaction_ms[1] > 0:
            self.venue.fair.listeners.append(self.poke)
        while True:
            self.refresh()
            yield env.timeout(ms * (0.5 + self.rng.random()))

    def _inner_edge(self) -> tuple[float, float]:
        """The highest bid and lowest ask price the band allows at the current fair price."""
        v = self.venue
        fair = v.fair.price
        lo = self.p.band_bps[0]
        c = self.crash
        if c is not None and v.fair.in_crash(self.env.now):
            lo *= c.maker_spread_factor
        return fair * (1.0 - lo * _BP), fair * (1.0 + lo * _BP)

    def poke(self) -> None:
        """The fair price moved: if that left orders on the wrong side of the band's inner edge
        (they would only be picked off), pull them after a reaction time."""
        if self._pending:
            return
        bid_max, ask_min = self._inner_edge()
        if self.inner_bid <= bid_max and self.inner_ask >= ask_min:
            return  # nothing stale (the common case: most moves are smaller than the edge)
        self._pending = True
        lo, hi = self.p.pull_reaction_ms
        self.env.timeout(self.rng.uniform(lo, hi)).callbacks.append(self._pull)

    def _pull(self, _ev: simpy.Event) -> None:
        self._pending = False
        bid_max, ask_min = self._inner_edge()
        live = self.live
        stale = [oid for oid, (is_buy, price, _left, _exp) in live.items()
                 if (price > bid_max if is_buy else price < ask_min)]  # fmt: skip
        for oid in stale:
            del live[oid]
            self.venue.cancel(self.account_id, oid)
        self._edges()

    def _edges(self) -> None:
        """Recompute the innermost bid and ask of the live orders (``poke``'s quick check).

        Between recomputations they may only overstate how far in the live orders reach: a new
        order pushes them in, one that leaves does not pull them back (at worst a needless scan).
        """
        bids = [rec[1] for rec in self.live.values() if rec[0]]
        asks = [rec[1] for rec in self.live.values() if not rec[0]]
        self.inner_bid = max(bids) if bids else 0
        self.inner_ask = min(asks) if asks else _NO_ASK

    def on_fill(self, order_id: int, qty: int) -> None:
        rec = self.live.get(order_id)
        if rec is not None:
            rec[2] -= qty
            if rec[2] <= 0:
                del self.live[order_id]
                self.venue.resting.pop(order_id, None)

    def refresh(self) -> None:
        v, p, rng = self.venue, self.p, self.rng
        fair = v.fair.price
        lo, hi = p.band_bps
        size = p.notional * self.activity
        c = self.crash
        if c is not None and v.fair.in_crash(self.env.now):
            lo, hi = lo * c.maker_spread_factor, hi * 3.0
            size *= c.maker_size_factor
        lo_px, hi_px = fair * lo * _BP, fair * hi * _BP
        now = self.env.now
        live = self.live
        # Bids must stay in [fair - hi, fair - lo], asks in [fair + lo, fair + hi].
        bid_lo, bid_hi, ask_lo, ask_hi = fair - hi_px, fair - lo_px, fair + lo_px, fair + hi_px
        drop = [
            oid for oid, (is_buy, price, _left, expiry) in live.items()
            if now >= expiry or (not bid_lo <= price <= bid_hi if is_buy else not ask_lo <= price <= ask_hi)
        ]  # fmt: skip
        for oid in drop:
            del live[oid]
            v.cancel(self.account_id, oid)
        self._edges()
        n_bids = sum(rec[0] for rec in live.values())
        counts = [len(live) - n_bids, n_bids]
        for is_buy in (1, 0):
            for _ in range(p.orders_per_side - counts[is_buy]):
                bps = lo + (hi - lo) * rng.random() ** 1.3  # denser near the touch
                notional = size * (1.0 + p.growth * bps) * math.exp(rng.gauss(0.0, p.size_sigma))
                if is_buy:
                    price = v.bid_price(fair * (1.0 - bps * _BP))
                else:
                    price = v.ask_price(fair * (1.0 + bps * _BP))
                qty = v.qty_for(notional, price)
                if not qty:
                    continue
                res = v.place(self.account_id, BUY if is_buy else SELL, LIMIT, qty, price, GTC)
                if res is None:
                    continue
                o = res.order
                if o.status == "NEW" or o.status == "PARTIALLY_FILLED":
                    life = rng.expovariate(1.0 / self.life_ms) if self.life_ms > 0 else 1e18
                    self.live[o.order_id] = [is_buy, price, o.orig_qty - o.executed_qty, int(now + life)]
                    v.resting[o.order_id] = self
                    if is_buy:
                        if price > self.inner_bid:
                            self.inner_bid = price
                    elif price < self.inner_ask:
                        self.inner_ask = price
