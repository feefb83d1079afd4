"""Pure market making: one bid and one ask around the mid, refreshed, skewed by inventory.

Each tick the strategy makes sure it has at most one order per side. Quotes sit
``spread_bps`` away from a reference price on each side (so the quoted spread is twice that).
The reference is the book's mid shifted by the inventory skew: when the account holds more
base (by value) than ``target_base_pct`` of its portfolio, both quotes move down and the ask
grows while the bid shrinks, so fills pull the inventory back toward the target; the other
way round when it holds too little. ``inventory_skew`` scales both effects (0 turns them off;
1 shifts by up to one ``spread_bps`` and resizes by up to 100 % at the extremes).

Quotes are cancelled and replaced together when the oldest is ``order_refresh_s`` old or the
mid has moved more than ``refresh_tolerance_bps`` from the mid they were placed at. An order
whose cancel is still unresolved keeps its side occupied, so faults never double a side.
Prices are put on the tick grid away from the touch and never cross it; amounts on the lot
grid, capped by the free balance, and a side under the minimum size or notional is skipped.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import ClassVar

from connector import InFlightOrder, TradeType
from scenarios.strategies.base import BPS, Number, Strategy, StrategyContext
from scenarios.strategies.params import Param

ZERO = Decimal(0)
ONE = Decimal(1)
TWO = Decimal(2)
HUNDRED = Decimal(100)


def _clamp(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return max(low, min(high, value))


class MarketMakingStrategy(Strategy):
    """Built-in ``market_making``."""

    name: ClassVar[str] = "market_making"
    PARAMS: ClassVar[dict[str, Param]] = {
        "spread_bps": Param("decimal", "2", minimum=0, min_exclusive=True,
                            help="distance of each quote from the (skewed) mid, in basis points"),
        "order_amount": Param("decimal", "0.001", minimum=0, min_exclusive=True,
                              help="base amount of each quote before the inventory skew"),
        "order_refresh_s": Param("seconds", 10, minimum=0, min_exclusive=True,
                                 help="replace quotes older than this"),
        "refresh_tolerance_bps": Param("decimal", "5", minimum=0,
                                       help="replace quotes when the mid moved more than this since they were placed"),
        "target_base_pct": Param("decimal", "50", minimum=0, maximum=100,
                                 help="wanted share of the portfolio value held in the base asset, in percent"),
        "inventory_skew": Param("decimal", "1", minimum=0,
                                help="strength of the inventory skew on prices and sizes (0 = off)"),
    }

    def __init__(self, ctx: StrategyContext) -> None:
        super().__init__(ctx)
        p = self.params
        self.spread: Decimal = p["spread_bps"] / BPS
        self.order_amount: Decimal = p["order_amount"]
        self.refresh_ms = round(float(p["order_refresh_s"]) * 1000)
        self.tolerance: Decimal = p["refresh_tolerance_bps"] / BPS
        self.target: Decimal = p["target_base_pct"] / HUNDRED
        self.skew: Decimal = p["inventory_skew"]
        self.quote_mid: dict[str, Decimal] = {}  # client order id -> mid when it was placed
        self.quotes_placed = 0
        self.refreshes = 0
        self.last_base_pct: Decimal | None = None
        self.last_deviation = ZERO

    # --- the loop ------------------------------------------------------------------------------------

    async def on_tick(self) -> None:
        mid = self.mid_price()
        if mid is None or mid <= 0:
            return
        reason = self._refresh_reason(mid)
        if reason is not None:
            self.refreshes += 1
            self.log("market making: refreshing quotes", reason=reason, mid=str(mid))
            await asyncio.gather(*(self.cancel_order(o.client_order_id) for o in self.open_orders()
                                   if o.client_order_id in self.quote_mid))
        has_bid = bool(self.open_orders(TradeType.BUY))
        has_ask = bool(self.open_orders(TradeType.SELL))
        if has_bid and has_ask:
            return
        bid, ask, bid_amount, ask_amount = self.proposal(mid)
        jobs = []
        if not has_bid and bid_amount > 0:
            jobs.append(self._quote(TradeType.BUY, bid_amount, bid, mid))
        if not has_ask and ask_amount > 0:
            jobs.append(self._quote(TradeType.SELL, ask_amount, ask, mid))
        if jobs:
            await asyncio.gather(*jobs)
            self.log("market making: quotes", mid=str(mid), bid=str(bid), ask=str(ask),
                     bid_amount=str(bid_amount), ask_amount=str(ask_amount),
                     base_pct=None if self.last_base_pct is None else str(self.last_base_pct * HUNDRED))

    def _refresh_reason(self, mid: Decimal) -> str | None:
        """Why the current quotes should be replaced (None: keep them)."""
        mine: list[InFlightOrder] = [o for o in self.open_orders() if o.client_order_id in self.quote_mid]
        live = {o.client_order_id for o in self.open_orders()}
        for order_id in [i for i in self.quote_mid if i not in live]:
            del self.quote_mid[order_id]  # finished (filled, cancelled, failed): forget it
        if not mine:
            return None
        now_ms = self.clock.now_ms()
        oldest_ms = min(round(o.creation_timestamp * 1000) for o in mine)
        if now_ms - oldest_ms >= self.refresh_ms:
            return "stale"
        for order in mine:
            placed_mid = self.quote_mid[order.client_order_id]
            if abs(mid - placed_mid) > placed_mid * self.tolerance:
                return "mid moved"
        return None

    async def _quote(self, side: TradeType, amount: Decimal, price: Decimal, mid: Decimal) -> None:
        order_id = await self.place_order(side, amount, price)
        if order_id is not None:
            self.quote_mid[order_id] = mid
            self.quotes_placed += 1

    # --- pricing ---------------------------------------------------------------------------------------

    def inventory_deviation(self, mid: Decimal) -> Decimal:
        """How far the base share of the portfolio is from the target, in [-1, 1]
        (1: all base while the target is lower; -1: no base while the target is higher)."""
        base_value = self.market.get_balance(self.base_asset) * mid
        total = base_value + self.market.get_balance(self.quote_asset)
        if total <= 0:
            self.last_base_pct = None
            return ZERO
        pct = base_value / total
        self.last_base_pct = pct
        room = ONE - self.target if pct > self.target else self.target
        return ZERO if room == 0 else _clamp((pct - self.target) / room, -ONE, ONE)

    def proposal(self, mid: Decimal) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(bid price, ask price, bid amount, ask amount) for the current mid and inventory,
        on the symbol's grids, never crossing the touch, within the free balances."""
        deviation = self.inventory_deviation(mid) * self.skew
        self.last_deviation = deviation
        reference = mid * (ONE - deviation * self.spread)
        bid = reference * (ONE - self.spread)
        ask = reference * (ONE + self.spread)
        book = self.book
        tick = self.rule.min_price_increment
        if book is not None:
            best_bid, best_ask = book.best_bid, book.best_ask
            if best_ask is not None and bid >= best_ask:
                bid = best_ask - tick if tick > 0 else best_ask * (ONE - self.spread)
            if best_bid is not None and ask <= best_bid:
                ask = best_bid + tick if tick > 0 else best_bid * (ONE + self.spread)
        bid = self.quantize_price(bid, TradeType.BUY)
        ask = self.quantize_price(ask, TradeType.SELL)
        bid_amount = self.order_amount * _clamp(ONE - deviation, ZERO, TWO)
        ask_amount = self.order_amount * _clamp(ONE + deviation, ZERO, TWO)
        if bid > 0:
            bid_amount = min(bid_amount, self.market.get_available_balance(self.quote_asset) / bid)
        ask_amount = min(ask_amount, self.market.get_available_balance(self.base_asset))
        pair = self.trading_pair
        bid_amount = self.market.quantize_order_amount(pair, bid_amount, bid) if bid > 0 else ZERO
        ask_amount = self.market.quantize_order_amount(pair, ask_amount, ask)
        return bid, ask, bid_amount, ask_amount

    def metrics(self) -> dict[str, Number]:
        out: dict[str, Number] = {"quotes_placed": self.quotes_placed, "refreshes": self.refreshes,
                                  "inventory_deviation": self.last_deviation}
        if self.last_base_pct is not None:
            out["base_pct"] = self.last_base_pct * HUNDRED
        return out
