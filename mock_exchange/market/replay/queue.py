"""Queue-position models: how much recorded quantity is ahead of a resting user order.

A recorded book tells the size of a price level, not where in it a newly placed order would
stand. The models here start the order at the back (everything recorded at the price when it
arrives is ahead) and move it forward:

* trades at the order's price take from the front: they reduce ``ahead`` one for one, and the
  part of a trade beyond ``ahead`` fills the order (every model does this);
* a recorded *decrease* of the level not explained by those trades is cancellations somewhere in
  the queue. ``RiskAverseQueue`` assumes they are all behind the order (only the level shrinking
  below ``ahead`` moves it); ``ProbQueue`` splits each decrease between ahead and behind with a
  probability that depends on the order's position: prob(ahead) = f(front) / (f(front) + f(back))
  with f(x) = x**n by default, so an order near the front sees most cancels behind it;
* ``NoQueue`` ignores queue position: nothing is ever ahead, so every trade at the price fills
  the order ("touch fills"), the optimistic baseline backtests are often run with.

Increases of the level join behind the order. The probabilistic split uses its expected value,
not a draw, so it needs no random numbers (deterministic by construction).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from mock_exchange.market.replay.orders import ReplayOrder

ProbFn = Callable[[float, float], float]


class QueueModel:
    """Base: everything recorded is ahead at arrival; only trades move the order forward."""

    name = "base"

    def initial(self, level_qty: int) -> int:
        """``ahead`` for an order arriving when ``level_qty`` is recorded at its price."""
        return level_qty

    def on_trade(self, order: ReplayOrder, qty: int) -> int:
        """A trade of ``qty`` at the order's price: advance it; return the quantity that reaches it."""
        ahead = order.ahead - qty
        if ahead >= 0:
            order.ahead = ahead
            return 0
        order.ahead = 0
        return -ahead

    def on_level_change(self, order: ReplayOrder, old: int, new: int, traded: int) -> None:
        """The recorded level went from ``old`` to ``new``; ``traded`` of it printed since ``old``."""
        if order.ahead > new:
            order.ahead = new


class RiskAverseQueue(QueueModel):
    """Only trades advance the order; cancels are all assumed to be behind it."""

    name = "risk_averse"


class NoQueue(QueueModel):
    """Queue position ignored: any trade at (or through) the price fills the order."""

    name = "none"

    def initial(self, level_qty: int) -> int:
        return 0

    def on_trade(self, order: ReplayOrder, qty: int) -> int:
        return qty

    def on_level_change(self, order: ReplayOrder, old: int, new: int, traded: int) -> None:
        return None


def power_prob(n: float = 3.0) -> ProbFn:
    """prob(ahead) = front**n / (front**n + back**n)."""

    def prob(front: float, back: float) -> float:
        if front <= 0.0:
            return 0.0
        if back <= 0.0:
            return 1.0
        return 1.0 / (1.0 + (back / front) ** n)

    return prob


def log_prob() -> ProbFn:
    """prob(ahead) = log(1+front) / (log(1+front) + log(1+back)): a flatter split than a power."""

    def prob(front: float, back: float) -> float:
        f = math.log1p(max(front, 0.0))
        b = math.log1p(max(back, 0.0))
        if f + b <= 0.0:
            return 0.0
        return f / (f + b)

    return prob


class ProbQueue(QueueModel):
    """Decreases not explained by trades are split ahead/behind by ``prob(front, back)``.

    ``front`` and ``back`` are in units of ``scale`` (1e8 = whole coins), which only matters for
    non-homogeneous functions such as ``log_prob``.
    """

    def __init__(self, prob: ProbFn | None = None, name: str = "prob", scale: int = 100_000_000) -> None:
        self.prob = prob if prob is not None else power_prob(3.0)
        self.name = name
        self.scale = float(scale)

    def on_level_change(self, order: ReplayOrder, old: int, new: int, traded: int) -> None:
        front = order.ahead
        cancelled = old - new - traded
        if cancelled > 0 and front > 0:
            back = old - traded - front
            if back < 0:
                back = 0
            share = self.prob(front / self.scale, back / self.scale)
            front -= int(cancelled * share)
            if front < 0:
                front = 0
        if front > new:
            front = new
        order.ahead = front


def queue_model(spec: str | QueueModel) -> QueueModel:
    """By name: ``none``/``touch``, ``risk_averse``, ``prob`` (power 3), ``prob_powerN``, ``prob_log``."""
    if isinstance(spec, QueueModel):
        return spec
    name = spec.strip().lower().replace("-", "_")
    if name in ("none", "touch", "no_queue"):
        return NoQueue()
    if name in ("risk_averse", "riskaverse", "trades"):
        return RiskAverseQueue()
    if name in ("prob", "probabilistic"):
        return ProbQueue(power_prob(3.0), "prob")
    if name.startswith("prob_power"):
        n = float(name.removeprefix("prob_power") or 3)
        return ProbQueue(power_prob(n), name)
    if name == "prob_log":
        return ProbQueue(log_prob(), name)
    raise ValueError(f"unknown queue model {spec!r} (none, risk_averse, prob, prob_powerN, prob_log)")
