"""Virtual time for scenarios (DESIGN D3): an asyncio loop whose clock jumps when it is idle.

``VirtualTimeLoop`` is a selector event loop whose ``time()`` is virtual. Each iteration
first polls the real sockets without blocking; when nothing is runnable and no socket has
data waiting, it does not sleep but moves the virtual time to the next scheduled timer. Real
loopback traffic between the mock server and the connector is therefore untouched, while
every ``asyncio.sleep``/timeout/``call_later`` costs no wall time. Work that happens off the
loop (executor threads) pauses the jumps until it finishes, so a thread is never overtaken
by virtual time.

``VirtualClock`` reads the loop's time as epoch milliseconds: the mock exchange's clock
(``ExchangeState(clock=...)``) and the connector's (``VenueConfig(clock=...)``) are the same
object, so every part of a scenario sees one time.
"""

from __future__ import annotations

import asyncio
import os
import selectors
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar, TypeVarTuple, Unpack

T = TypeVar("T")
Ts = TypeVarTuple("Ts")



class _VirtualSelector(selectors.BaseSelector):
    """Wraps the loop's real selector: never blocks while a timer is pending; jumps instead."""

    def __init__(self, real: selectors.BaseSelector, loop: VirtualTimeLoop) -> None:
        self._real = real
        self._loop = loop

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_key(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.get_key(fileobj)

    def get_map(self) -> Any:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self._loop
        loop.iterations += 1
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if loop.wall_deadline is not None and time.monotonic() > loop.wall_deadline:
            loop.on_wall_timeout()
            return []
        if loop.threads_busy:
            # A worker thread will call back: wait for it for real (briefly, then re-check).
            return self._real.select(0.01 if timeout is None else min(timeout, 0.01))
        # Let the kernel finish any loopback delivery it started before we decide we are idle.
        os.sched_yield()
        ready = self._real.select(0)
        if ready:
            return ready
        if timeout is None:
            # Nothing scheduled, nothing ready: only another thread or a signal can wake us.
            loop.idle_waits += 1
            return self._real.select(0.05)
        loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop with a virtual clock that starts at ``0.0`` seconds."""

    def __init__(self) -> None:
        real = selectors.DefaultSelector()
        self._vt = 0.0
        self.jumps = 0
        self.iterations = 0
        self.idle_waits = 0
        self.threads_busy = 0
        self.wall_deadline: float | None = None
        self.on_wall_timeout: Callable[[], None] = lambda: None
        super().__init__(_VirtualSelector(real, self))

    def time(self) -> float:
        return self._vt

    def advance(self, seconds: float) -> None:
        """Move virtual time forward (the selector does this when the loop is idle)."""
        if seconds > 0:
            self._vt += seconds
            self.jumps += 1

    def run_in_executor(self, executor: Executor | None, func: Callable[[Unpack[Ts]], T],
                        *args: *Ts) -> asyncio.Future[T]:
        fut = super().run_in_executor(executor, func, *args)
        self.threads_busy += 1

        def done(_: asyncio.Future[T]) -> None:
            self.threads_busy -= 1

        fut.add_done_callback(done)
        return fut


class VirtualClock:
    """Epoch milliseconds on a ``VirtualTimeLoop``: ``start_ms`` at loop time 0.

    Callable (the mock exchange's ``Clock``: ``() -> int`` ms) and a connector ``Clock``
    (``now_ms()``, ``now()``), so both sides read the same virtual time.
    """

    def __init__(self, loop: VirtualTimeLoop, start_ms: int) -> None:
        self.loop = loop
        self.start_ms = start_ms

    def __call__(self) -> int:
        # The loop's clock read directly: the engine asks for the time on every order.
        return self.start_ms + round(self.loop._vt * 1000)

    def now_ms(self) -> int:
        return self()

    def now(self) -> float:
        return self() / 1000.0

    def __repr__(self) -> str:
        return f"VirtualClock(now_ms={self()})"


def new_virtual_loop() -> VirtualTimeLoop:
    loop = VirtualTimeLoop()
    loop.set_debug(False)
    return loop
