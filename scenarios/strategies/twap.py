"""TWAP: execute ``total_amount`` on one side over ``duration_s`` in ``slices`` equal slices.

Slice ``i`` starts at ``start + i * duration / slices`` (on the strategy's clock, from
``on_start``) and aims for a cumulative ``total * (i + 1) / slices`` executed. Within a slice
the strategy keeps one child order working for what is still missing: a MARKET order, or a
LIMIT at the touch moved by ``price_offset_bps`` toward the other side (buys at
``best_bid * (1 + offset)``, sells at ``best_ask * (1 - offset)``: 0 joins the touch, a
positive offset bigger than the spread crosses it). With ``cancel_unfilled`` the slice's
unfilled child is cancelled when the slice ends and the remainder carries into the next
slice; without it the child keeps working and counts toward later slices. A child that
failed (rejected, venue error) is retried on the next tick of the same slice. Executed
amounts come from the connector's fill events, once per trade.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, ClassVar

from connector import MarketEvent, OrderType, TradeType
from scenarios.strategies.base import BPS, Number, Strategy, StrategyContext
from scenarios.strategies.params import Param

ZERO = Decimal(0)
ONE = Decimal(1)


class TwapStrategy(Strategy):
    """Built-in ``twap``."""

    name: ClassVar[str] = "twap"
    PARAMS: ClassVar[dict[str, Param]] = {
        "side": Param("choice", "buy", choices=("buy", "sell"), help="buy or sell"),
        "total_amount": Param("decimal", minimum=0, min_exclusive=True, help="base amount to execute in total"),
        "duration_s": Param("seconds", 60, minimum=0, min_exclusive=True, help="time over which to execute"),
        "slices": Param("int", 10, minimum=1, help="number of equal child slices"),
        "order_type": Param("choice", "limit", choices=("limit", "market"), help="child order type"),
        "price_offset_bps": Param("decimal", "0", minimum=-9999,
                                  help="LIMIT price: touch moved this many bps toward the other side"),
        "cancel_unfilled": Param("bool", True, help="cancel a slice's unfilled child when the slice ends"),
    }

    def __init__(self, ctx: StrategyContext) -> None:
        super().__init__(ctx)
        p = self.params
        self.side = TradeType.BUY if p["side"] == "buy" else TradeType.SELL
        self.total: Decimal = p["total_amount"]
        self.duration_ms = max(1, round(float(p["duration_s"]) * 1000))
        self.slices: int = p["slices"]
        self.order_type = OrderType.MARKET if p["order_type"] == "market" else OrderType.LIMIT
        self.offset: Decimal = p["price_offset_bps"] / BPS
        self.cancel_unfilled: bool = p["cancel_unfilled"]
        if p.get("tick_interval") is None:
            slice_s = self.duration_ms / 1000 / self.slices
            self.tick_interval_s = max(0.01, min(1.0, slice_s / 4))
        self.start_ms: int | None = None
        self.current_slice = -1
        self.done = False
        self.children: list[str] = []
        self.executed = ZERO
        self.executed_quote = ZERO

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        slice_ms = float(params["duration_s"]) * 1000 / params["slices"]
        if slice_ms < 1:
            raise cls.param_error("slices", f"{params['slices']} slices leave less than 1 ms per slice")

    # --- hooks ----------------------------------------------------------------------------------------

    async def on_start(self) -> None:
        self.start_ms = self.clock.now_ms()
        self.log("twap: started", side=self.side.value, total=str(self.total), slices=self.slices,
                 duration_ms=self.duration_ms, order_type=self.order_type.value)

    def on_order_event(self, tag: MarketEvent, event: Any) -> None:
        fill = self.own_fill(tag, event)
        if fill is not None:
            self.executed += fill.amount
            self.executed_quote += fill.amount * fill.price

    async def on_tick(self) -> None:
        if self.done or self.start_ms is None:
            return
        elapsed = self.clock.now_ms() - self.start_ms
        index = min(self.slices, elapsed * self.slices // self.duration_ms)
        if index > self.current_slice:
            if self.cancel_unfilled and self.current_slice >= 0:
                await self._cancel_children()
            self.current_slice = index
            if index >= self.slices:
                self.done = True
                self.log("twap: finished", executed=str(self.executed), target=str(self.total))
                return
        await self._work_slice(index)

    # --- slices ---------------------------------------------------------------------------------------

    def _open_children(self) -> list[Any]:
        return [o for o in self.open_orders(self.side) if o.client_order_id in self.placed_order_ids]

    async def _cancel_children(self) -> None:
        orders = self._open_children()
        if orders:
            await asyncio.gather(*(self.cancel_order(o.client_order_id) for o in orders))

    def target_for(self, index: int) -> Decimal:
        """Cumulative amount that should be executed by the end of slice ``index``."""
        return self.total * (index + 1) / self.slices

    async def _work_slice(self, index: int) -> None:
        working = sum((o.amount - o.executed_amount_base for o in self._open_children()), ZERO)
        want = self.target_for(index) - self.executed - working
        if want <= 0:
            return
        price = self._child_price()
        if price is None:
            return
        if self.side is TradeType.SELL:
            want = min(want, self.market.get_available_balance(self.base_asset))
        else:
            want = min(want, self.market.get_available_balance(self.quote_asset) / price)
        limit_price = None if self.order_type is OrderType.MARKET else price
        # under the minimum size/notional (a rounding remainder): nothing to do, and nothing to log
        if self.market.quantize_order_amount(self.trading_pair, want, price, self.order_type) <= 0:
            return
        order_id = await self.place_order(self.side, want, limit_price, self.order_type)
        if order_id is not None:
            self.children.append(order_id)
            self.log("twap: child order", slice=index, order_id=order_id, amount=str(want),
                     price=None if limit_price is None else str(limit_price))

    def _child_price(self) -> Decimal | None:
        """The LIMIT price, or for MARKET children the touch they will take (sizing and notional)."""
        book = self.book
        if book is None:
            return None
        bid, ask = book.best_bid, book.best_ask
        if self.order_type is OrderType.MARKET:
            return ask if self.side is TradeType.BUY else bid
        if self.side is TradeType.BUY:
            return None if bid is None else bid * (ONE + self.offset)
        return None if ask is None else ask * (ONE - self.offset)

    def metrics(self) -> dict[str, Number]:
        avg = self.executed_quote / self.executed if self.executed > 0 else ZERO
        rule = self.rule if self.market.trading_rules else None
        step = max(rule.min_base_amount_increment, rule.min_order_size) if rule is not None else ZERO
        return {
            "twap_target": self.total,
            "twap_executed": self.executed,
            "twap_remaining": max(ZERO, self.total - self.executed),
            "twap_children": len(self.children),
            "twap_slices_started": max(0, min(self.current_slice + 1, self.slices)),
            "twap_avg_price": avg,
            "twap_complete": int(self.total - self.executed <= step),
        }
