"""Misbehaving strategies the runner must survive (loaded by ``module:Class`` in scenarios)."""

from __future__ import annotations

from scenarios.strategies.base import Strategy


class RaisesOnThirdTick(Strategy):
    ticks = 0

    async def on_tick(self) -> None:
        self.ticks += 1
        if self.ticks == 3:
            raise RuntimeError("third tick went wrong")


class BlocksTheLoop(Strategy):
    """Never gives the event loop back: only the wall-clock watchdog can end the run."""

    async def on_tick(self) -> None:
        n = 0
        while True:
            n += 1
