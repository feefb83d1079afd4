"""Accounts: per-asset [free, locked] balances, fee rates, and what an open order must keep locked.

Balances are plain two-item lists so the matching loop can update them in place without
allocating; ``required_lock`` is the single definition of "what an order needs locked", used
both by the engine when it releases funds and by tests that check the books balance.
"""

from __future__ import annotations

from mock_exchange.engine.retention import DEFAULT_RETENTION, Retention
from mock_exchange.engine.types import (
    BUY,
    MARKET,
    STOP_LOSS,
    TAKE_PROFIT,
    Order,
)
from mock_exchange.engine.units import SCALE

DEFAULT_RATE = 100_000  # 0.001 == 0.1 % in 1e-8 units


class Account:
    """One trading account; ``balances[asset] == [free, locked]`` in units."""

    __slots__ = (
        "account_id", "balances", "maker_rate", "taker_rate", "can_trade", "update_time", "retention", "reports",
    )  # fmt: skip

    def __init__(
        self,
        account_id: str,
        balances: dict[str, list[int]] | None = None,
        maker_rate: int = DEFAULT_RATE,
        taker_rate: int = DEFAULT_RATE,
        can_trade: bool = True,
        update_time: int = 0,
        retention: Retention = DEFAULT_RETENTION,
        reports: bool = True,
    ) -> None:
        self.account_id = account_id
        self.balances: dict[str, list[int]] = balances if balances is not None else {}
        self.maker_rate = maker_rate
        self.taker_rate = taker_rate
        self.can_trade = can_trade
        self.update_time = update_time
        # What the engine keeps of this account's finished orders and fills (set it through
        # ``Engine.set_retention``, which applies a tighter policy at once).
        self.retention = retention
        # Whether the engine emits this account's execution reports and balance changes
        # (``OrderUpdate``/``BalanceChange``). Off for accounts nobody can listen to, such as
        # the synthesized market's agents: building those events was a third of their cost.
        self.reports = reports

    def balance(self, asset: str) -> tuple[int, int]:
        """(free, locked) of ``asset``; zeros for an asset never held."""
        bal = self.balances.get(asset)
        return (bal[0], bal[1]) if bal is not None else (0, 0)

    def entry(self, asset: str) -> list[int]:
        """The mutable [free, locked] pair of ``asset``, created at zero when missing."""
        bal = self.balances.get(asset)
        if bal is None:
            bal = self.balances[asset] = [0, 0]
        return bal

    def __repr__(self) -> str:
        return f"Account({self.account_id!r}, {self.balances!r})"


def required_lock(order: Order) -> int:
    """What an open (resting or untriggered) order must keep locked, in units.

    SELL orders lock their remaining base quantity. BUY orders lock quote: remaining * limit
    price, or remaining * stop price for a stop-market order that has not triggered yet.
    A MARKET order never rests, so it needs nothing once the operation that placed it ends.
    """
    remaining = order.orig_qty - order.executed_qty - order.prevented_qty
    if order.side != BUY:
        return remaining
    otype = order.type
    if otype == MARKET:
        return 0
    if otype == STOP_LOSS or otype == TAKE_PROFIT:
        return order.stop_price * remaining // SCALE if not order.is_working else 0
    return order.price * remaining // SCALE
