"""Client-side rate limiting with the venue's own numbers (binance-spot-api.md §4, §5).

Limits come from ``exchangeInfo.rateLimits`` (REQUEST_WEIGHT, ORDERS, RAW_REQUESTS with their
calendar-aligned windows); each request costs its documented weight (``ENDPOINT_WEIGHTS``).
The venue's view wins when it is higher: ``X-MBX-USED-WEIGHT-1M`` / ``X-MBX-ORDER-COUNT-10S``
headers raise the local counters (other clients may share the IP). A 429/418 answer blocks every
request until its ``Retry-After`` has passed, because continuing after a 429 earns an IP ban.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from connector.clock import Clock

log = logging.getLogger(__name__)

REQUEST_WEIGHT = "REQUEST_WEIGHT"
ORDERS = "ORDERS"
RAW_REQUESTS = "RAW_REQUESTS"
INTERVAL_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
_LETTER = {"SECOND": "S", "MINUTE": "M", "HOUR": "H", "DAY": "D"}
_HEADER_RE = re.compile(r"x-mbx-(used-weight|order-count)-(\d+)([smhd])$")
DEFAULT_RETRY_AFTER_S = 1.0  # a 429/418 without Retry-After still pauses us this long

Sleep = Callable[[float], Awaitable[Any]]
WeightRule = int | Callable[[Mapping[str, str]], int]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One limiter as exchangeInfo lists it."""

    limit_type: str
    interval: str
    interval_num: int
    limit: int

    @property
    def window_ms(self) -> int:
        return INTERVAL_MS[self.interval] * self.interval_num

    @property
    def header_suffix(self) -> str:
        """``1M``, ``10S``, ``1D`` as in ``X-MBX-USED-WEIGHT-1M``."""
        return f"{self.interval_num}{_LETTER[self.interval]}"

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> RateLimit:
        return cls(str(obj["rateLimitType"]), str(obj["interval"]), int(obj["intervalNum"]), int(obj["limit"]))


DEFAULT_RATE_LIMITS: tuple[RateLimit, ...] = (
    RateLimit(REQUEST_WEIGHT, "MINUTE", 1, 6000),
    RateLimit(ORDERS, "SECOND", 10, 50),
    RateLimit(ORDERS, "DAY", 1, 160_000),
    RateLimit(RAW_REQUESTS, "MINUTE", 5, 61_000),
)


def _symbols_count(params: Mapping[str, str]) -> int | None:
    raw = params.get("symbols")
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return 1
    return len(value) if isinstance(value, list) else 1


def _depth_weight(params: Mapping[str, str]) -> int:
    try:
        limit = int(params.get("limit", "100"))
    except ValueError:
        limit = 100
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def _ticker_24hr_weight(params: Mapping[str, str]) -> int:
    if "symbol" in params:
        return 2
    n = _symbols_count(params)
    if n is None or n >= 101:
        return 80
    return 2 if n <= 20 else 40


def _symbol_or_all(single: int, many: int) -> Callable[[Mapping[str, str]], int]:
    return lambda params: single if "symbol" in params else many


def _per_symbol(params: Mapping[str, str]) -> int:
    n = 1 if "symbol" in params else (_symbols_count(params) or 1)
    return min(4 * n, 200)


ENDPOINT_WEIGHTS: dict[tuple[str, str], WeightRule] = {
    ("GET", "/api/v3/ping"): 1,
    ("GET", "/api/v3/time"): 1,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/depth"): _depth_weight,
    ("GET", "/api/v3/trades"): 25,
    ("GET", "/api/v3/historicalTrades"): 25,
    ("GET", "/api/v3/aggTrades"): 4,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/uiKlines"): 2,
    ("GET", "/api/v3/avgPrice"): 2,
    ("GET", "/api/v3/ticker/24hr"): _ticker_24hr_weight,
    ("GET", "/api/v3/ticker/price"): _symbol_or_all(2, 4),
    ("GET", "/api/v3/ticker/bookTicker"): _symbol_or_all(2, 4),
    ("GET", "/api/v3/ticker"): _per_symbol,
    ("GET", "/api/v3/ticker/tradingDay"): _per_symbol,
    ("POST", "/api/v3/order"): 1,
    ("POST", "/api/v3/order/test"): lambda p: 20 if p.get("computeCommissionRates") == "true" else 1,
    ("DELETE", "/api/v3/order"): 1,
    ("DELETE", "/api/v3/openOrders"): 1,
    ("POST", "/api/v3/order/cancelReplace"): 1,
    ("PUT", "/api/v3/order/amend/keepPriority"): 4,
    ("GET", "/api/v3/account"): 20,
    ("GET", "/api/v3/order"): 4,
    ("GET", "/api/v3/openOrders"): _symbol_or_all(6, 80),
    ("GET", "/api/v3/allOrders"): 20,
    ("GET", "/api/v3/myTrades"): lambda p: 5 if "orderId" in p else 20,
    ("GET", "/api/v3/rateLimit/order"): 40,
    ("GET", "/api/v3/account/commission"): 20,
    ("POST", "/api/v3/userDataStream"): 2,
    ("PUT", "/api/v3/userDataStream"): 2,
    ("DELETE", "/api/v3/userDataStream"): 2,
}
ORDER_ENDPOINTS = {("POST", "/api/v3/order"), ("POST", "/api/v3/order/cancelReplace")}


def endpoint_weight(method: str, path: str, params: Mapping[str, str] | None = None) -> int:
    """The REQUEST_WEIGHT of one REST call (1 for endpoints not in the table)."""
    rule = ENDPOINT_WEIGHTS.get((method.upper(), path), 1)
    return rule(params or {}) if callable(rule) else rule


class _Window:
    """Usage of one limiter in its current calendar-aligned window."""

    __slots__ = ("limit", "start_ms", "used")

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.start_ms = -1
        self.used = 0

    def roll(self, now_ms: int) -> None:
        start = now_ms - now_ms % self.limit.window_ms
        if start != self.start_ms:
            self.start_ms = start
            self.used = 0

    def wait_ms(self, now_ms: int, cost: int) -> int:
        """0 if ``cost`` fits now, else ms until the window resets. A cost larger than the whole
        limit is let through in a fresh window rather than blocking forever."""
        self.roll(now_ms)
        if cost <= 0 or self.used + cost <= self.limit.limit or self.used == 0:
            return 0
        return self.start_ms + self.limit.window_ms - now_ms


class Throttler:
    """Waits before a request would exceed a limit or while the venue asked us to back off."""

    def __init__(self, clock: Clock, rate_limits: Sequence[RateLimit] = DEFAULT_RATE_LIMITS,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.clock = clock
        self._sleep = sleep
        self._windows: list[_Window] = []
        self.blocked_until_ms = 0
        self.total_waited_s = 0.0
        self.backoffs = 0  # 429/418 answers seen
        self.set_rate_limits(rate_limits)

    @property
    def rate_limits(self) -> list[RateLimit]:
        return [w.limit for w in self._windows]

    def set_rate_limits(self, rate_limits: Sequence[RateLimit]) -> None:
        """Replace the limits, keeping the usage of limiters that did not change."""
        old = {w.limit: w for w in self._windows}
        self._windows = [old.get(limit) or _Window(limit) for limit in rate_limits]

    def update_from_exchange_info(self, exchange_info: Mapping[str, Any]) -> None:
        """Adopt ``exchangeInfo.rateLimits`` (kept unchanged when the venue lists none)."""
        raw = exchange_info.get("rateLimits") or []
        limits = [RateLimit.from_json(obj) for obj in raw if obj.get("interval") in INTERVAL_MS]
        if limits:
            self.set_rate_limits(limits)

    def used(self, limit_type: str, header_suffix: str | None = None) -> int:
        """Current usage of the first matching limiter (0 if none)."""
        now = self.clock.now_ms()
        for w in self._windows:
            if w.limit.limit_type == limit_type and (header_suffix is None or w.limit.header_suffix == header_suffix):
                w.roll(now)
                return w.used
        return 0

    def _costs(self, weight: int, is_order: bool) -> list[tuple[_Window, int]]:
        out = []
        for w in self._windows:
            kind = w.limit.limit_type
            cost = weight if kind == REQUEST_WEIGHT else 1 if kind == RAW_REQUESTS else int(is_order)
            out.append((w, cost))
        return out

    async def acquire(self, method: str, path: str, params: Mapping[str, str] | None = None,
                      *, weight: int | None = None, is_order: bool | None = None) -> float:
        """Wait until the request fits every limiter, then charge it. Returns seconds waited."""
        w = endpoint_weight(method, path, params) if weight is None else weight
        order = (method.upper(), path) in ORDER_ENDPOINTS if is_order is None else is_order
        costs = self._costs(w, order)
        waited = 0.0
        while True:
            now = self.clock.now_ms()
            wait = max(0, self.blocked_until_ms - now)
            if wait == 0:
                wait = max((win.wait_ms(now, cost) for win, cost in costs), default=0)
            if wait == 0:
                break
            seconds = wait / 1000
            log.debug("throttled %s %s for %.3f s", method, path, seconds)
            await self._sleep(seconds)
            waited += seconds
        for win, cost in costs:
            win.used += cost
        self.total_waited_s += waited
        return waited

    def block_for(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from now (extends, never shortens, a running block)."""
        until = self.clock.now_ms() + int(seconds * 1000)
        self.blocked_until_ms = max(self.blocked_until_ms, until)

    def record_response(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from a REST answer: the venue's counters and any 429/418 back-off."""
        now = self.clock.now_ms()
        lowered = {k.lower(): v for k, v in headers.items()}
        for name, value in lowered.items():
            m = _HEADER_RE.match(name)
            if m is None:
                continue
            kind = REQUEST_WEIGHT if m.group(1) == "used-weight" else ORDERS
            suffix = f"{m.group(2)}{m.group(3).upper()}"
            try:
                count = int(value)
            except ValueError:
                continue
            for win in self._windows:
                if win.limit.limit_type == kind and win.limit.header_suffix == suffix:
                    win.roll(now)
                    win.used = max(win.used, count)
        if status in (418, 429):
            self.backoffs += 1
            retry_after = DEFAULT_RETRY_AFTER_S
            raw = lowered.get("retry-after")
            if raw is not None:
                with contextlib.suppress(ValueError):
                    retry_after = max(0.0, float(raw))
            log.warning("venue answered %d: pausing requests for %.1f s", status, retry_after)
            self.block_for(retry_after)
