"""The latent fair price every agent trades around.

A log-price random walk updated at Poisson times. Its variance is the product of three parts:
a base level, a Markov regime (calm / normal / stressed, held for minutes) and a GARCH-like
factor that each squared shock pushes up and that decays back to 1; on top come Poisson jumps
(Laplace sizes) that feed the same factor, so big moves are followed by busy minutes. This
gives what real 1-minute returns show and a plain random walk does not: heavy tails and
volatility clustering, with no autocorrelation of the returns themselves.

The model is pure (no simpy, no engine) so its statistics can be checked over many hours
cheaply; ``SynthMarket`` steps it from a simpy process on the market's clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from mock_exchange.market.synth.presets import CrashParams, FairParams

_MS_PER_MIN = 60_000.0
_MS_PER_HOUR = 3_600_000.0
_BP = 1e-4


class FairModel:
    """State and one-step dynamics of the latent log price (times in ms since the start)."""

    __slots__ = ("p", "crash", "rng", "log_price", "transient", "regime", "garch", "version", "_var_ms",
                 "_drift_ms", "_decay_ms", "_alpha_ms", "_jump_rate_ms", "_jump_scale", "_switch_ms",
                 "_crash_log", "_transient_decay_ms", "listeners")  # fmt: skip

    def __init__(self, params: FairParams, price: float, rng: random.Random, crash: CrashParams | None = None) -> None:
        if price <= 0:
            raise ValueError("the fair price must be positive")
        self.p = params
        self.crash = crash
        self.rng = rng
        self.log_price = math.log(price)
        # Decaying log offset of the quoted reference after outside flow (temporary impact).
        self.transient = 0.0
        n = len(params.regime_mults)
        if n == 0 or n != len(params.regime_minutes):
            raise ValueError("regime_mults and regime_minutes must be non-empty and of equal length")
        self.regime = min(1, n - 1)
        self.garch = 1.0
        self.version = 0  # bumped at every change, so agents can tell a fresh price from a seen one
        self._var_ms = (params.vol_1m_bps * _BP) ** 2 / _MS_PER_MIN
        self._drift_ms = params.drift_bps_per_hour * _BP / _MS_PER_HOUR
        self._decay_ms = math.log(2.0) / (params.garch_halflife_s * 1000.0)
        self._alpha_ms = params.garch_alpha / 1000.0
        self._jump_rate_ms = params.jumps_per_hour / _MS_PER_HOUR
        self._jump_scale = params.jump_bps * _BP
        self._switch_ms = tuple(1.0 / (m * _MS_PER_MIN) for m in params.regime_minutes)
        self._transient_decay_ms = math.log(2.0) / (params.transient_halflife_s * 1000.0)
        self._crash_log = math.log(1.0 - crash.drop) if crash is not None else 0.0
        # Called (no arguments) after every change of the price: market makers requote on it.
        self.listeners: list[Callable[[], None]] = []

    @property
    def price(self) -> float:
        """The price agents quote and trade around, in engine units (float; agents round it
        to their tick): the latent price shifted by the decaying temporary impact."""
        return math.exp(self.log_price + self.transient)

    @property
    def latent(self) -> float:
        """The latent price alone (no temporary impact), in engine units."""
        return math.exp(self.log_price)

    def step(self, t0_ms: float, t1_ms: float) -> float:
        """Advance from ``t0_ms`` to ``t1_ms``; returns the log return of this step."""
        dt = t1_ms - t0_ms
        if dt <= 0:
            return 0.0
        rng = self.rng
        p = self.p
        n = len(p.regime_mults)
        if n > 1 and rng.random() < 1.0 - math.exp(-dt * self._switch_ms[self.regime]):
            nxt = rng.randrange(n - 1)
            self.regime = nxt if nxt < self.regime else nxt + 1
        mult = p.regime_mults[self.regime]
        var = self._var_ms * mult * mult * dt
        shock = math.sqrt(var * self.garch) * rng.gauss(0.0, 1.0)
        if self._jump_rate_ms and rng.random() < 1.0 - math.exp(-dt * self._jump_rate_ms):
            size = rng.expovariate(1.0 / self._jump_scale)
            shock += size if rng.random() < 0.5 else -size
        # GARCH-like feedback: the squared shock, measured against this regime's variance,
        # pulls the factor up; the factor decays back to 1 with the configured half-life.
        u = min(shock * shock / var, p.shock_cap)
        g = 1.0 + (self.garch - 1.0) * math.exp(-dt * self._decay_ms) + self._alpha_ms * dt * (u - self.garch)
        self.garch = min(max(g, 0.25), 10.0)
        ret = shock + self._drift_ms * dt + self._crash_drift(t0_ms, t1_ms)
        self.log_price += ret
        if self.transient:
            self.transient *= math.exp(-dt * self._transient_decay_ms)
        self.version += 1
        return ret

    def _crash_drift(self, t0: float, t1: float) -> float:
        """The crash's deterministic part of the log move over [t0, t1)."""
        c = self.crash
        if c is None:
            return 0.0
        fall0 = c.at_s * 1000.0
        fall1 = fall0 + c.fall_s * 1000.0
        rec1 = fall1 + c.recover_s * 1000.0
        out = 0.0
        overlap = min(t1, fall1) - max(t0, fall0)
        if overlap > 0:
            out += self._crash_log * overlap / (fall1 - fall0)
        overlap = min(t1, rec1) - max(t0, fall1)
        if overlap > 0:
            out -= c.recover * self._crash_log * overlap / (rec1 - fall1)
        return out

    def in_crash(self, t_ms: float) -> bool:
        """True while the scripted crash is falling or recovering (makers pull liquidity)."""
        c = self.crash
        if c is None:
            return False
        start = c.at_s * 1000.0
        return start <= t_ms < start + (c.fall_s + c.recover_s * 0.5) * 1000.0

    def apply_flow(self, signed_usd: float) -> None:
        """Impact of taker flow that did not come from the synthesized agents (the user's
        orders): buying ``signed_usd`` (> 0) worth moves the latent price up for good and the
        quoted reference up by more, the excess decaying with ``transient_halflife_s``."""
        p = self.p
        if signed_usd and (p.impact_bps_per_m or p.transient_bps_per_m):
            m = _BP * signed_usd / 1_000_000.0
            self.log_price += p.impact_bps_per_m * m
            self.transient += p.transient_bps_per_m * m
            self.version += 1
            for notify in self.listeners:
                notify()

    def next_gap_ms(self) -> float:
        """Time to the next update (exponential, mean 1 / updates_per_s)."""
        return self.rng.expovariate(self.p.updates_per_s / 1000.0)


def simulate_minutes(params: FairParams, minutes: int, seed: int, price: float = 65_000.0,
                     crash: CrashParams | None = None) -> list[float]:
    """Log fair prices at each whole minute (``minutes + 1`` values), without the book.

    The same dynamics as inside the market; used to check the stylized facts over many hours.
    """  # fmt: skip
    model = FairModel(params, price, random.Random(seed), crash)
    out = [model.log_price]
    t = 0.0
    nxt = model.next_gap_ms()
    for m in range(1, minutes + 1):
        end = m * _MS_PER_MIN
        while nxt < end:
            model.step(t, nxt)
            t = nxt
            nxt = t + model.next_gap_ms()
        out.append(model.log_price)
    return out
