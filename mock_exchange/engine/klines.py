"""Kline interval, ``timeZone`` and ``windowSize`` arithmetic (pure functions, UTC epoch ms).

Kept apart from ``market_data`` because the boundary rules are the fiddly part of the venue's
behaviour: fixed-width intervals are aligned to the epoch, ``1w`` opens on Monday 00:00, ``1M``
on the first day of the calendar month, and ``timeZone`` shifts every boundary by an offset
while the times that come in and go out stay UTC.
"""

from __future__ import annotations

import re
from datetime import date

SECOND = 1_000
MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
WEEK = 7 * DAY

# Fixed interval widths in ms; "1M" is calendar-based and has no fixed width (0 here).
INTERVALS: dict[str, int] = {
    "1s": SECOND,
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
    "3d": 3 * DAY,
    "1w": WEEK,
    "1M": 0,
}

# 1970-01-01 was a Thursday; weeks open on Monday 1970-01-05, four days after the epoch.
_WEEK_ANCHOR = 4 * DAY
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_TZ_RE = re.compile(r"([+-]?)(\d{1,2})(?::(\d{1,2}))?")
_WINDOW_RE = re.compile(r"([1-9]\d?)([mhd])")
_WINDOW_MAX = {"m": (59, MINUTE), "h": (23, HOUR), "d": (7, DAY)}


def check_interval(interval: str) -> str:
    """Return ``interval`` if the venue knows it (case-sensitive), else ``ValueError("interval")``."""
    if interval not in INTERVALS:
        raise ValueError("interval")
    return interval


def parse_time_zone(time_zone: str) -> int:
    """Offset in ms of a ``timeZone`` value ("0", "8", "-1:00", "05:45", "+14:00").

    The venue accepts hours or hours:minutes in [-12:00, +14:00]; anything else is
    ``ValueError("timeZone")`` so the server can answer -1130.
    """
    m = _TZ_RE.fullmatch(time_zone.strip()) if isinstance(time_zone, str) else None
    if m is None:
        raise ValueError("timeZone")
    hours = int(m.group(2))
    minutes = int(m.group(3)) if m.group(3) is not None else 0
    if minutes >= 60:
        raise ValueError("timeZone")
    total = hours * 60 + minutes
    if m.group(1) == "-":
        total = -total
    if not -12 * 60 <= total <= 14 * 60:
        raise ValueError("timeZone")
    return total * MINUTE


def parse_window(window: str) -> int:
    """Width in ms of a rolling-ticker ``windowSize`` (1m..59m, 1h..23h, 1d..7d)."""
    m = _WINDOW_RE.fullmatch(window) if isinstance(window, str) else None
    if m is None:
        raise ValueError("windowSize")
    count = int(m.group(1))
    most, unit = _WINDOW_MAX[m.group(2)]
    if count > most:
        raise ValueError("windowSize")
    return count * unit


def _day_to_date(day: int) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + day)


def _date_to_ms(d: date) -> int:
    return (d.toordinal() - _EPOCH_ORDINAL) * DAY


def kline_open(interval: str, t: int, offset: int) -> int:
    """UTC open time of the ``interval`` kline that contains ``t`` in a zone ``offset`` ms east."""
    local = t + offset
    if interval == "1M":
        d = _day_to_date(local // DAY)
        return _date_to_ms(d.replace(day=1)) - offset
    width = INTERVALS[interval]
    anchor = _WEEK_ANCHOR if interval == "1w" else 0
    return local - (local - anchor) % width - offset


def kline_next(interval: str, open_time: int, offset: int) -> int:
    """UTC open time of the kline after the one opening at ``open_time``."""
    if interval == "1M":
        d = _day_to_date((open_time + offset) // DAY)
        nxt = date(d.year + 1, 1, 1) if d.month == 12 else date(d.year, d.month + 1, 1)
        return _date_to_ms(nxt) - offset
    return open_time + INTERVALS[interval]


def scan_level(interval: str, offset: int) -> int:
    """Coarsest bucket level (0=1s, 1=1m, 2=1h, 3=1d) whose buckets never straddle a kline edge.

    Enumerating klines over coarser buckets touches fewer rows and survives the eviction of
    fine buckets for old history.
    """
    if interval == "1s":
        return 0
    daily = interval in ("1d", "3d", "1w", "1M")
    if daily and offset % DAY == 0:
        return 3
    if (daily or INTERVALS[interval] >= HOUR) and offset % HOUR == 0:
        return 2
    return 1
