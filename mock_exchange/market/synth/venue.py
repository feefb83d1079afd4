"""One symbol of the synthesized market: the agents' view of the engine and the base agent.

Agents never talk to the engine directly: they go through ``Venue`` so every order is on the
symbol's grids, every rejection is counted instead of raised, and every trade is seen once.
Seeing trades matters twice: a resting agent order that was hit tells its owner (market
makers requote after fills), and taker flow that did not come from an agent — the user's
orders — moves the latent fair price (permanent impact). Trades are read from the engine's
public tape (``market_data.trades``) right after each agent order that filled (those are the
agent's own) and at the start of each ``run_until`` (everything new then came from outside).
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from mock_exchange.engine import units
from mock_exchange.engine.types import EngineError, PlaceResult
from mock_exchange.market.synth.fair import FairModel

if TYPE_CHECKING:
    from mock_exchange.engine import Engine, SymbolSpec

SAMPLE_MS = 250.0  # cadence of the mid samples momentum traders look back on
_SQ = units.SCALE * units.SCALE


class Venue:
    """Grids, order entry, trade watching and mid history of one symbol."""

    def __init__(self, env: simpy.Environment, engine: Engine, spec: SymbolSpec, fair: FairModel,
                 history_ms: float, usd_per_quote: float = 1.0) -> None:  # fmt: skip
        self.env = env
        self.engine = engine
        self.md = engine.market_data
        self.symbol = spec.symbol
        self.base = spec.base_asset
        self.quote = spec.quote_asset
        # Presets size orders in USD; this converts them for a quote asset that is not a dollar.
        self.usd_per_quote = usd_per_quote
        self.fair = fair
        pf, lot, mlot = spec.price_filter, spec.lot_size, spec.market_lot_size
        self.tick = pf.tick_size if pf is not None and pf.tick_size else 1
        self.min_price = max(pf.min_price if pf is not None else 0, self.tick)
        self.step = lot.step_size if lot is not None and lot.step_size else 1
        self.min_qty = max(lot.min_qty if lot is not None else 0, self.step)
        self.max_qty = lot.max_qty if lot is not None and lot.max_qty else 1 << 62
        self.market_max = mlot.max_qty if mlot is not None and mlot.max_qty else self.max_qty
        self.min_notional = max(
            spec.min_notional.min_notional if spec.min_notional is not None else 0,
            spec.notional.min_notional if spec.notional is not None else 0,
        )
        # Maker order id -> the agent that owns it, for fill notifications.
        self.resting: dict[int, Agent] = {}
        last = self.md.last_trade(self.symbol)
        self.last_trade_id = last.trade_id if last is not None else 0
        self.mids: deque[float] = deque(maxlen=int(history_ms / SAMPLE_MS) + 2)
        self.orders = 0
        self.cancels = 0
        self.rejects = 0
        self.external_flow = 0.0  # signed quote notional of non-agent taker flow seen so far

    # ------------------------------------------------------------------ grids
    def bid_price(self, price: float) -> int:
        """``price`` rounded down to the tick (a bid never rounds toward the ask)."""
        tick = self.tick
        return max(int(price // tick) * tick, self.min_price)

    def ask_price(self, price: float) -> int:
        """``price`` rounded up to the tick."""
        tick = self.tick
        return max(int(-(-price // tick)) * tick, self.min_price)

    def qty_for(self, notional: float, price: int, cap: int = 0) -> int:
        """Quantity worth ``notional`` USD at ``price`` on the LOT_SIZE grid, at least the
        minimum quantity and minimum notional; 0 if no valid quantity exists."""
        if price <= 0:
            return 0
        step, min_qty = self.step, self.min_qty
        qty = int(notional / self.usd_per_quote * _SQ) // price
        qty = min_qty + (qty - min_qty) // step * step if qty > min_qty else min_qty
        if qty * price < self.min_notional * units.SCALE:
            need = -(-self.min_notional * units.SCALE // price)
            qty = min_qty + -(-(need - min_qty) // step) * step if need > min_qty else min_qty
        cap = min(cap or self.max_qty, self.max_qty)
        if qty > cap:
            qty = min_qty + (cap - min_qty) // step * step if cap >= min_qty else 0
        return qty

    def mid(self) -> float:
        """Mid of the engine's book; the fair price when a side is empty."""
        bp, _, ap, _ = self.engine.best_bid_ask(self.symbol)
        if bp and ap:
            return (bp + ap) * 0.5
        return self.fair.price

    def mid_return(self, lookback_ms: float) -> float | None:
        """Log return of the sampled mid over ``lookback_ms`` (None until enough history)."""
        k = int(lookback_ms / SAMPLE_MS)
        mids = self.mids
        if k <= 0 or len(mids) <= k:
            return None
        return math.log(mids[-1] / mids[-1 - k])

    def sampler(self) -> Generator[simpy.Event, Any, None]:
        """Process: record the mid every ``SAMPLE_MS``."""
        env, mids = self.env, self.mids
        while True:
            mids.append(self.mid())
            yield env.timeout(SAMPLE_MS)

    # ------------------------------------------------------------------ order entry
    def place(self, account_id: str, side: str, otype: str, qty: int, price: int = 0, tif: str = "") -> PlaceResult | None:
        """Place one order; None (counted) when the engine rejects it."""
        try:
            res = self.engine.place_order(account_id, self.symbol, side, otype, quantity=qty, price=price,
                                          time_in_force=tif)  # fmt: skip
        except EngineError:
            self.rejects += 1
            return None
        self.orders += 1
        if res.fills:
            self.scan(own=True)
        return res

    def cancel(self, account_id: str, order_id: int) -> bool:
        """Cancel one order; False when it is no longer open (filled meanwhile)."""
        self.resting.pop(order_id, None)
        try:
            self.engine.cancel_order(account_id, self.symbol, order_id)
        except EngineError:
            self.rejects += 1
            return False
        self.cancels += 1
        return True

    def scan(self, own: bool) -> None:
        """Read the trades printed since the last scan: tell makers of their fills, and apply
        the permanent impact of flow that is not ``own`` (did not come from an agent)."""
        md, symbol = self.md, self.symbol
        last = md.last_trade(symbol)
        if last is None or last.trade_id <= self.last_trade_id:
            return
        resting = self.resting
        flow = 0
        while True:
            batch = md.trades(symbol, 1000, self.last_trade_id + 1)
            if not batch:
                break
            for t in batch:
                if t.is_buyer_maker:
                    maker = t.buyer_order_id
                    flow -= t.quote_qty
                else:
                    maker = t.seller_order_id
                    flow += t.quote_qty
                owner = resting.get(maker)
                if owner is not None:
                    owner.on_fill(maker, t.qty)
            self.last_trade_id = batch[-1].trade_id
            if len(batch) < 1000:
                break
        if not own and flow:
            quote_flow = flow / units.SCALE
            self.external_flow += quote_flow
            self.fair.apply_flow(quote_flow * self.usd_per_quote)


class Agent:
    """A trader of the synthesized market: one engine account, one random stream, one process."""

    kind = "agent"

    def __init__(self, venue: Venue, account_id: str, rng: random.Random) -> None:
        self.venue = venue
        self.env = venue.env
        self.account_id = account_id
        self.rng = rng

    def run(self) -> Generator[simpy.Event, Any, None]:
        """The agent's simpy process."""
        yield self.env.timeout(0)

    def on_fill(self, order_id: int, qty: int) -> None:
        """One of this agent's resting orders traded ``qty`` (units)."""

    def inventory(self) -> int:
        """Base asset held (free + locked) in units."""
        free, locked = self.venue.engine.account(self.account_id).balance(self.venue.base)
        return free + locked
