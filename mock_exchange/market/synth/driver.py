"""Run the synthesized market on the wall clock inside ``mockex serve`` (DESIGN D3: outside
clients cannot share a virtual clock, so here simulated time follows the server's clock).

A loop callback (started and awaited by ``WallClockDriver.run``, an asyncio task) steps the
simpy environment up to the server's time every ``tick_ms`` and publishes the engine's events
to the streams. The engine keeps the server's clock, so agent
events carry wall times (at most a tick after their simulated time). When the control plane
resets the exchange (a new engine), the market is rebuilt on the new engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mock_exchange.market.synth.market import SynthMarket, priced_symbols
from mock_exchange.market.synth.presets import SynthParams, get_preset

if TYPE_CHECKING:
    from mock_exchange.server.state import ExchangeState

log = logging.getLogger(__name__)

LAG_WARN_MS = 5_000


def start_market(state: ExchangeState, preset: str | SynthParams, seed: int,
                 symbols: Sequence[str] | None = None) -> SynthMarket:
    """A market on the state's engine: every priced TRADING symbol unless ``symbols`` is given;
    the default market's static seeded book on those symbols is replaced by the agents."""  # fmt: skip
    names = list(symbols) if symbols is not None else priced_symbols(state.engine)
    market = SynthMarket(state, preset, seed, symbols=names)
    state.publish()
    return market


class WallClockDriver:
    """Steps a ``SynthMarket`` on ``state`` along the server's clock (``run`` until cancelled).

    ``market`` is the market currently driven (a new one after each exchange reset).
    Each tick advances simulated time to the server's (unskewed) clock, by at most
    ``max_step_ms`` so a stall (a debugger, a suspended laptop) is caught up gradually while
    the server keeps answering; a lag above ``LAG_WARN_MS`` is logged once per episode.
    """

    def __init__(self, state: ExchangeState, preset: str | SynthParams, seed: int = 1, *,
                 symbols: Sequence[str] | None = None, tick_ms: int = 10, max_step_ms: int = 1_000) -> None:  # fmt: skip
        get_preset(preset)  # fail here, not on the first tick, on an unknown name
        self.state = state
        self.preset = preset
        self.seed = seed
        self.symbols = symbols
        self.tick_ms = tick_ms
        self.max_step_ms = max_step_ms
        self.market: SynthMarket | None = None
        self._lagging = False

    async def run(self) -> None:
        """Drive the market until cancelled (re-raises what stops it, after logging it)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._lagging = False
        self._timer: asyncio.TimerHandle | None = None
        try:
            self.market = start_market(self.state, self.preset, self.seed, self.symbols)
            self._tick()
            await self._stopped
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the synthesized market stopped")
            raise
        finally:
            if self._timer is not None:
                self._timer.cancel()

    def _tick(self) -> None:
        """One step: advance the market to the server's clock, publish, plan the next step.

        Ticks are loop callbacks rather than a task sleeping between them: in virtual time a
        scenario runs 360,000 ticks per hour, and a task's sleep-and-wake cost as much as a
        short market step. The next tick runs where the task's wake-up would have (a timer,
        then a ``call_soon``), so the market interleaves with the other tasks as it did.
        """
        if self._stopped.done():
            return  # cancelled (or failed) since this tick was planned
        try:
            state = self.state
            market = self.market
            if market is None or state.engine is not market.engine:
                log.info("exchange reset: rebuilding the synthesized market")
                market = self.market = start_market(state, self.preset, self.seed, self.symbols)
            now = state.base_clock()
            market.run_until(min(now, market.now_ms + self.max_step_ms))
            state.publish()
            lag = now - market.now_ms
            if lag > LAG_WARN_MS and not self._lagging:
                log.warning("synthesized market is %.1f s behind the clock", lag / 1000)
            self._lagging = lag > LAG_WARN_MS
        except Exception as exc:  # handed to the awaiting ``run``, which logs and re-raises it
            if not self._stopped.done():
                self._stopped.set_exception(exc)
            return
        self._timer = self._loop.call_later(self.tick_ms / 1000, self._wake)

    def _wake(self) -> None:
        self._timer = None
        if not self._stopped.done():
            self._loop.call_soon(self._tick)


async def run_wall_clock(state: ExchangeState, preset: str | SynthParams, seed: int = 1, *,
                         symbols: Sequence[str] | None = None, tick_ms: int = 10) -> None:
    """Drive the synthesized market inside a running server until cancelled (``mockex serve
    --synth PRESET``)."""  # fmt: skip
    await WallClockDriver(state, preset, seed, symbols=symbols, tick_ms=tick_ms).run()
