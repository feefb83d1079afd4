"""The one place the mock exchange reads the wall clock (DESIGN D3): everything else is handed a clock."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]
"""A clock returns the current time in integer milliseconds since the epoch."""


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class ManualClock:
    """A clock tests and scenarios move by hand."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms
