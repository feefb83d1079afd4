"""Time source for the connector.

Every part of the connector asks a Clock for the time instead of calling time.time() directly, so
that later issues can substitute a virtual clock (deterministic scenarios) without touching the code
that uses it. WallClock is the only place in connector/ that reads the system clock.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """What the connector needs from a clock: the current time in ms and in seconds."""

    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        ...

    def now(self) -> float:
        """Seconds since the Unix epoch (float)."""
        ...


class WallClock:
    """The real system clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now(self) -> float:
        return time.time()

    def __repr__(self) -> str:
        return "WallClock()"


class ManualClock:
    """A clock that only moves when told to; handy in tests and simulations."""

    def __init__(self, start_ms: int = 0) -> None:
        self._ms = start_ms

    def now_ms(self) -> int:
        return self._ms

    def now(self) -> float:
        return self._ms / 1000.0

    def advance(self, ms: int) -> None:
        """Move the clock forward by ms milliseconds."""
        if ms < 0:
            raise ValueError("a clock cannot go backwards")
        self._ms += ms

    def set_ms(self, ms: int) -> None:
        """Jump to an absolute time (ms)."""
        self._ms = ms

    def __repr__(self) -> str:
        return f"ManualClock(now_ms={self._ms})"
