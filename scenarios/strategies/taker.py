"""Taker: crosses the spread with a MARKET order when a moving-average signal fires.

Each tick samples the book's mid. Once ``slow`` samples exist, the signal compares the mean of
the last ``fast`` mids with the mean of the last ``slow``: the fast average crossing above the
slow one buys ``order_amount``, crossing below sells it. A signal is ignored (and counted)
within ``cooldown_s`` of the previous trade, while an earlier order is still unresolved, or
when the trade would take the strategy's own net position (fills since start, base asset)
beyond ``max_position`` either way.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any, ClassVar

from connector import MarketEvent, OrderType, TradeType
from scenarios.strategies.base import Number, Strategy, StrategyContext
from scenarios.strategies.params import Param

ZERO = Decimal(0)


class TakerStrategy(Strategy):
    """Built-in ``taker``."""

    name: ClassVar[str] = "taker"
    PARAMS: ClassVar[dict[str, Param]] = {
        "order_amount": Param("decimal", "0.001", minimum=0, min_exclusive=True,
                              help="base amount of each MARKET order"),
        "fast": Param("int", 5, minimum=1, help="ticks in the fast moving average of the mid"),
        "slow": Param("int", 20, minimum=2, help="ticks in the slow moving average of the mid"),
        "cooldown_s": Param("seconds", 10, minimum=0, help="minimum time between two trades"),
        "max_position": Param("decimal", "0.01", minimum=0, min_exclusive=True,
                              help="largest net base position (long or short) the strategy may build"),
    }

    def __init__(self, ctx: StrategyContext) -> None:
        super().__init__(ctx)
        p = self.params
        self.order_amount: Decimal = p["order_amount"]
        self.fast: int = p["fast"]
        self.slow: int = p["slow"]
        self.cooldown_ms = round(float(p["cooldown_s"]) * 1000)
        self.max_position: Decimal = p["max_position"]
        self.mids: deque[Decimal] = deque(maxlen=self.slow)
        self.prev_diff: Decimal | None = None
        self.position = ZERO
        self.last_trade_ms: int | None = None
        self.signals = 0
        self.trades = 0
        self.skipped_cooldown = 0
        self.skipped_position = 0
        self.skipped_busy = 0

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        if params["fast"] >= params["slow"]:
            raise cls.param_error("fast", f"must be smaller than slow ({params['slow']}), got {params['fast']}")
        if params["max_position"] < params["order_amount"]:
            raise cls.param_error("max_position", f"must be >= order_amount ({params['order_amount']}), "
                                                  f"got {params['max_position']}")

    def on_order_event(self, tag: MarketEvent, event: Any) -> None:
        fill = self.own_fill(tag, event)
        if fill is not None:
            self.position += fill.amount if fill.trade_type is TradeType.BUY else -fill.amount

    def signal(self) -> TradeType | None:
        """The side of a crossing that happened at this sample, if any."""
        if len(self.mids) < self.slow:
            return None
        mids = list(self.mids)
        fast_ma = sum(mids[-self.fast:], ZERO) / self.fast
        slow_ma = sum(mids, ZERO) / self.slow
        diff = fast_ma - slow_ma
        prev, self.prev_diff = self.prev_diff, diff
        if prev is None:
            return None
        if prev <= 0 < diff:
            return TradeType.BUY
        if prev >= 0 > diff:
            return TradeType.SELL
        return None

    async def on_tick(self) -> None:
        mid = self.mid_price()
        if mid is None:
            return
        self.mids.append(mid)
        side = self.signal()
        if side is None:
            return
        self.signals += 1
        now = self.clock.now_ms()
        if self.last_trade_ms is not None and now - self.last_trade_ms < self.cooldown_ms:
            self.skipped_cooldown += 1
            self.log("taker: signal ignored (cooldown)", side=side.value, mid=str(mid))
            return
        if self.open_orders():
            self.skipped_busy += 1
            self.log("taker: signal ignored (an order is still unresolved)", side=side.value)
            return
        amount = self.market.quantize_order_amount(self.trading_pair, self.order_amount, mid, OrderType.MARKET)
        after = self.position + (amount if side is TradeType.BUY else -amount)
        if amount <= 0 or abs(after) > self.max_position:
            self.skipped_position += 1
            self.log("taker: signal ignored (position limit)", side=side.value, position=str(self.position))
            return
        self.last_trade_ms = now
        order_id = await self.place_order(side, amount, None, OrderType.MARKET)
        if order_id is not None:
            self.trades += 1
            self.log("taker: crossed", side=side.value, order_id=order_id, amount=str(amount), mid=str(mid))

    def metrics(self) -> dict[str, Number]:
        return {
            "taker_signals": self.signals,
            "taker_trades": self.trades,
            "taker_position": self.position,
            "taker_skipped_cooldown": self.skipped_cooldown,
            "taker_skipped_position": self.skipped_position,
            "taker_skipped_busy": self.skipped_busy,
        }
