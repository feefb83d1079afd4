"""When a served replay plays its records (``serving.ReplayDriver``): the recording read in order
with each record's time, that time on the server clock, and the run loop's wake-ups.

Times. A record's recorded time is its local receive time corrected by the recorder's clock
offset (or its venue time for files without receive times), never decreasing, so receive order
is kept; at speed N it is due at server time ``t0 + (t - start) / N`` (``t0``: when the replay
(re)started), at ``max`` speed at ``t0``.

Wake-ups. Waking at every record's due time and every ``poll_ms`` between them is what the
driver would do without ``plan``; ``plan`` gives the next of those wake-ups at which something
can be seen (a record that is not quiet), or every one of them when told to, and
``sleep_until``/``wake_earlier`` carry it out so that a hook can bring the wake-up forward.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Container, Iterable, Iterator
from fractions import Fraction

from mock_exchange.market.readers import ReplayFormatError, ReplayRecord


def parse_speed(value: float | int | str | Fraction | None) -> Fraction | None:
    """N (> 0) times real time as an exact fraction; None for ``max``/0/None (as fast as
    clients read)."""
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("max", "0", "0.0"):
        return None
    try:
        speed = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"bad replay speed {value!r}: use a number > 0 (1 = real time) or max") from None
    if speed <= 0:
        raise ValueError(f"bad replay speed {value!r}: use a number > 0 (1 = real time) or max")
    return speed


def record_ms(rec: ReplayRecord) -> int | None:
    """A record's own time (ms): its local receive time, else its venue time."""
    if rec.local_ns is not None:
        return rec.local_ns // 1_000_000
    return rec.venue_ms


class Timeline:
    """The records of one recording in order, with their due times (see the module docstring).

    ``head``/``head_t``: the next record to play and its recorded time; ``ahead``: the records
    read after it (``next_loud`` looks past quiet ones); ``read_error``: a bad record met while
    reading, kept until play reaches it. ``t0``: the server time of the (re)start; ``anchor``:
    the server time of the last wake-up of the per-record schedule (``plan``), set by the player.
    """

    def __init__(self, records: Iterable[ReplayRecord], clock_offset: int, start_ms: int,
                 speed: Fraction | None) -> None:  # fmt: skip
        self.records = records
        self.clock_offset = clock_offset
        self.start_ms = start_ms
        self.speed = speed
        self._num, self._den = (1, 1) if speed is None else (speed.numerator, speed.denominator)
        self._iter: Iterator[ReplayRecord] = iter(())
        self.head: ReplayRecord | None = None
        self.head_t = 0
        self.ahead: deque[tuple[ReplayRecord, int]] = deque()
        self.read_error: ReplayFormatError | None = None
        self._last_t = 0
        self.t0 = 0
        self.anchor = 0
        self._sleeper: asyncio.Future[None] | None = None  # the run loop's sleep, and when it ends
        self._wake: asyncio.TimerHandle | None = None
        self._wake_at = 0

    def restart(self, t0: int) -> None:
        """From the first record again, ``t0`` being the server time now."""
        self._iter = iter(self.records)
        self.head = None
        self.ahead.clear()
        self.read_error = None
        self._last_t = -(1 << 62)
        self.t0 = self.anchor = t0

    def due(self, recorded_ms: int) -> int:
        """When (server clock, unskewed) the record at ``recorded_ms`` is due."""
        if self.speed is None:
            return self.t0
        return self.t0 + (recorded_ms - self.start_ms) * self._den // self._num

    def due_before(self, server_ms: int) -> int | None:
        """The recorded times due by ``server_ms`` are those below this (None: all of them), so
        a player compares one int per record: ``due(t) <= server_ms`` iff ``t < due_before``."""
        if self.speed is None:
            return None if self.t0 <= server_ms else -(1 << 62)
        k = (server_ms - self.t0 + 1) * self._num  # due(t) <= server_ms iff (t - start) * den < k
        return self.start_ms - (-k // self._den)

    # ------------------------------------------------------------------ reading
    def read(self) -> tuple[ReplayRecord, int] | None:
        """The next record from the file and its recorded time; None at the end or at a bad
        record (kept in ``read_error``)."""
        if self.read_error is not None:
            return None
        try:
            rec = next(self._iter)
        except StopIteration:
            return None
        except ReplayFormatError as exc:
            self.read_error = exc
            return None
        local_ns = rec.local_ns  # as ``record_ms``, inlined (once per record)
        if local_ns is not None:
            t = local_ns // 1_000_000 - self.clock_offset
        else:
            venue_ms = rec.venue_ms
            t = self._last_t if venue_ms is None else venue_ms
        if t < self._last_t:
            t = self._last_t
        self._last_t = t
        return rec, t

    def peek(self) -> ReplayRecord | None:
        """The next record to play (None: none left, or ``read_error`` reached)."""
        if self.head is not None:
            return self.head
        item = self.ahead.popleft() if self.ahead else self.read()
        if item is None:
            return None
        self.head, self.head_t = item
        return item[0]

    def pop(self) -> int:
        """Take the head (``peek`` first); returns its recorded time."""
        self.head = None
        return self.head_t

    # ------------------------------------------------------------------ wake-ups
    def plan(self, now: int, poll_ms: int, every: bool, served: Container[str], listened: Container[str]) -> int:
        """The next wake-up after ``now`` (server time). ``every``: each one of the per-record
        schedule; else only those where a record that is not quiet is due (``next_loud``), or
        the ``poll_ms`` ticks."""
        anchor = self.anchor
        tick = anchor + ((now - anchor) // poll_ms + 1) * poll_ms if now >= anchor else now + poll_ms
        if self.peek() is None:
            return tick
        due = self.due(self.head_t)
        if due >= tick or every:
            return min(due, tick)
        loud = self.next_loud(tick, served, listened)
        return tick if loud is None else loud

    def next_loud(self, limit: int, served: Container[str], listened: Container[str]) -> int | None:
        """Due time of the first record due before ``limit`` that is not quiet, reading ahead.
        Quiet: a symbol not ``served``, or a bookTicker of a symbol not ``listened`` to."""
        t0, start, num, den = self.t0, self.start_ms, self._num, self._den
        ahead = self.ahead
        i, n = -1, len(ahead)
        rec, t = self.head, self.head_t
        while rec is not None:
            due = t0 + (t - start) * den // num
            if due >= limit:
                return None
            name = rec.symbol
            if name in served and (rec.kind != "book_ticker" or name in listened):
                return due
            i += 1
            if i < n:
                rec, t = ahead[i]
                continue
            item = self.read()
            if item is None:
                return None
            ahead.append(item)
            n += 1
            rec, t = item
        return None

    async def sleep_until(self, at: int, now: int) -> None:
        """Sleep from server time ``now`` to ``at`` (``wake_earlier`` may shorten it)."""
        wait = at - now
        if wait <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._sleeper, self._wake_at = fut, at
        self._wake = loop.call_later(wait / 1000, _wake_up, fut)
        try:
            await fut
        finally:
            self._sleeper = None
            if self._wake is not None:
                self._wake.cancel()
                self._wake = None

    @property
    def asleep(self) -> bool:
        fut = self._sleeper
        return fut is not None and not fut.done() and self._wake is not None

    def wake_earlier(self, at: int, now: int) -> None:
        """End the current sleep at server time ``at`` instead, if that is sooner."""
        fut = self._sleeper
        if fut is None or fut.done() or self._wake is None or at >= self._wake_at:
            return
        self._wake.cancel()
        self._wake_at = at
        self._wake = asyncio.get_running_loop().call_later(max(at - now, 0) / 1000, _wake_up, fut)


def _wake_up(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
