"""The venue's rate limiters: request weight and raw requests per IP, new orders per account.

Windows are calendar-aligned like the venue's (a 1-minute window resets at :00, 10 seconds at
:00, :10, ..., 5 minutes at multiples of 5 minutes, a day at 00:00 UTC), counted on the
injected clock so scenarios on virtual time see the same limits.

Over a limit the request is answered 429 with ``Retry-After`` = seconds to the end of the
window. An IP that keeps sending while over the limit is banned (418): after
``ban_after_429s`` answers of 429 within one window, the next over-limit request starts a ban
of ``first_ban_ms`` (2 minutes), doubling with each further ban up to ``max_ban_ms`` (3 days).
During a ban every request is answered 418 with ``Retry-After`` = seconds to the ban's end.
Rejected requests still count their weight (the venue's 418 example shows a count above the
limit); an order refused with -1015 does not count as an order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mock_exchange.clock import wall_clock_ms
from mock_exchange.server import errors

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
DAY_MS = 24 * 60 * MINUTE_MS


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """Limits as exchangeInfo publishes them, plus the ban policy (ours: the venue's is unpublished)."""

    request_weight_per_minute: int = 6000
    orders_per_10s: int = 50
    orders_per_day: int = 160_000
    raw_requests_per_5min: int = 61_000
    ban_after_429s: int = 3
    first_ban_ms: int = 2 * MINUTE_MS
    max_ban_ms: int = 3 * DAY_MS
    enforce: bool = True  # False: count and report, never refuse


@dataclass(frozen=True, slots=True)
class _Limit:
    """One limiter: its exchangeInfo identity and window length."""

    rate_limit_type: str
    interval: str  # SECOND | MINUTE | HOUR | DAY
    interval_num: int
    limit: int

    @property
    def window_ms(self) -> int:
        unit = {"SECOND": SECOND_MS, "MINUTE": MINUTE_MS, "HOUR": 60 * MINUTE_MS, "DAY": DAY_MS}[
            self.interval
        ]
        return unit * self.interval_num

    @property
    def label(self) -> str:
        """'1 MINUTE', '10 SECOND': the form used in the venue's error messages."""
        return f"{self.interval_num} {self.interval}"

    @property
    def header_suffix(self) -> str:
        """'1M', '10S', '1D': the form used in X-MBX-* header names."""
        return f"{self.interval_num}{self.interval[0]}"

    def json(self, count: int | None = None) -> dict[str, object]:
        out: dict[str, object] = {
            "rateLimitType": self.rate_limit_type,
            "interval": self.interval,
            "intervalNum": self.interval_num,
            "limit": self.limit,
        }
        if count is not None:
            out["count"] = count
        return out


@dataclass(slots=True)
class _Window:
    """A counter for one calendar-aligned window; rolls over lazily when read after its end."""

    length_ms: int
    start: int = -1
    count: int = 0

    def value(self, now: int) -> int:
        if now - self.start >= self.length_ms or now < self.start:
            self.start = now - now % self.length_ms
            self.count = 0
        return self.count

    def add(self, now: int, n: int) -> int:
        self.value(now)
        self.count += n
        return self.count

    def end(self, now: int) -> int:
        self.value(now)
        return self.start + self.length_ms


@dataclass(slots=True)
class _IpState:
    weight: _Window
    raw: _Window
    strikes: int = 0
    strike_window: tuple[str, int] = ("", -1)
    ban_until: int = 0
    bans: int = 0


@dataclass(slots=True)
class _AccountState:
    ten_s: _Window
    day: _Window


def _seconds_until(target_ms: int, now_ms: int) -> int:
    """Whole seconds from now to target, rounded up, at least 1."""
    return max(1, -(-(target_ms - now_ms) // 1000))


@dataclass(slots=True)
class RateLimiter:
    """Counts and enforces the limits; one instance per exchange, keyed by IP and account id."""

    config: RateLimitConfig = field(default_factory=RateLimitConfig)
    clock: Callable[[], int] = wall_clock_ms
    _ips: dict[str, _IpState] = field(default_factory=dict, init=False)
    _accounts: dict[str, _AccountState] = field(default_factory=dict, init=False)

    # --- limiter identities ---------------------------------------------------------------

    @property
    def weight_limit(self) -> _Limit:
        return _Limit("REQUEST_WEIGHT", "MINUTE", 1, self.config.request_weight_per_minute)

    @property
    def raw_limit(self) -> _Limit:
        return _Limit("RAW_REQUESTS", "MINUTE", 5, self.config.raw_requests_per_5min)

    @property
    def orders_10s_limit(self) -> _Limit:
        return _Limit("ORDERS", "SECOND", 10, self.config.orders_per_10s)

    @property
    def orders_day_limit(self) -> _Limit:
        return _Limit("ORDERS", "DAY", 1, self.config.orders_per_day)

    def _ip(self, ip: str) -> _IpState:
        st = self._ips.get(ip)
        if st is None:
            st = _IpState(_Window(self.weight_limit.window_ms), _Window(self.raw_limit.window_ms))
            self._ips[ip] = st
        return st

    def _account(self, account_id: str) -> _AccountState:
        st = self._accounts.get(account_id)
        if st is None:
            st = _AccountState(
                _Window(self.orders_10s_limit.window_ms), _Window(self.orders_day_limit.window_ms)
            )
            self._accounts[account_id] = st
        return st

    # --- request weight ---------------------------------------------------------------------

    def charge_request(self, ip: str, weight: int = 1) -> None:
        """Count one request of ``weight``; raise 418 while banned, 429 over a limit."""
        now = self.clock()
        st = self._ip(ip)
        used = st.weight.add(now, weight)
        raw = st.raw.add(now, 1)
        if not self.config.enforce:
            return
        if st.ban_until > now:
            raise errors.ip_banned(st.ban_until, _seconds_until(st.ban_until, now))
        if used > self.weight_limit.limit:
            limit, window = self.weight_limit, st.weight
        elif raw > self.raw_limit.limit:
            limit, window = self.raw_limit, st.raw
        else:
            return
        key = (limit.rate_limit_type, window.start)
        if st.strike_window != key:
            st.strike_window, st.strikes = key, 0
        st.strikes += 1
        if st.strikes > self.config.ban_after_429s:
            until = self.ban(ip)
            raise errors.ip_banned(until, _seconds_until(until, now))
        end = window.end(now)
        make = (
            errors.too_much_weight if limit.rate_limit_type == "REQUEST_WEIGHT" else errors.too_many_requests
        )
        raise make(limit.limit, limit.label, _seconds_until(end, now), end)

    def ban(self, ip: str, duration_ms: int | None = None) -> int:
        """Ban ``ip`` (next escalation step unless ``duration_ms`` is given); returns the end in ms."""
        now = self.clock()
        st = self._ip(ip)
        if duration_ms is None:
            duration_ms = min(self.config.first_ban_ms * 2**st.bans, self.config.max_ban_ms)
            st.bans += 1
        st.ban_until = now + duration_ms
        st.strikes = 0
        return st.ban_until

    def banned_until(self, ip: str) -> int | None:
        st = self._ips.get(ip)
        if st is None or st.ban_until <= self.clock():
            return None
        return st.ban_until

    def used_weight(self, ip: str) -> int:
        st = self._ips.get(ip)
        return 0 if st is None else st.weight.value(self.clock())

    def raw_requests(self, ip: str) -> int:
        st = self._ips.get(ip)
        return 0 if st is None else st.raw.value(self.clock())

    def weight_headers(self, ip: str) -> dict[str, str]:
        used = str(self.used_weight(ip))
        return {"X-MBX-USED-WEIGHT": used, f"X-MBX-USED-WEIGHT-{self.weight_limit.header_suffix}": used}

    # --- orders -----------------------------------------------------------------------------

    def charge_order(self, account_id: str) -> None:
        """Count one new order; 429 -1015 (and no count) when a 10 s or daily limit is full."""
        now = self.clock()
        st = self._account(account_id)
        if self.config.enforce:
            for limit, window in ((self.orders_10s_limit, st.ten_s), (self.orders_day_limit, st.day)):
                if window.value(now) + 1 > limit.limit:
                    end = window.end(now)
                    raise errors.too_many_orders(limit.limit, limit.label, _seconds_until(end, now), end)
        st.ten_s.add(now, 1)
        st.day.add(now, 1)

    check_order = charge_order

    def refund_order(self, account_id: str, n: int = 1) -> None:
        """Take back ``n`` counted orders (e.g. rejected by the engine, or filled per the venue's FAQ)."""
        now = self.clock()
        st = self._account(account_id)
        for window in (st.ten_s, st.day):
            window.add(now, -min(n, window.value(now)))

    def order_counts(self, account_id: str) -> tuple[int, int]:
        """(count in the current 10 s window, count in the current day)."""
        st = self._accounts.get(account_id)
        if st is None:
            return 0, 0
        now = self.clock()
        return st.ten_s.value(now), st.day.value(now)

    def order_headers(self, account_id: str) -> dict[str, str]:
        ten_s, day = self.order_counts(account_id)
        return {
            f"X-MBX-ORDER-COUNT-{self.orders_10s_limit.header_suffix}": str(ten_s),
            f"X-MBX-ORDER-COUNT-{self.orders_day_limit.header_suffix}": str(day),
        }

    def order_limits_json(self, account_id: str) -> list[dict[str, object]]:
        """GET /api/v3/rateLimit/order (and WS ``account.rateLimits.orders``)."""
        ten_s, day = self.order_counts(account_id)
        return [self.orders_10s_limit.json(ten_s), self.orders_day_limit.json(day)]

    # --- JSON for exchangeInfo and WebSocket-API responses -----------------------------------

    def exchange_info_rate_limits(self) -> list[dict[str, object]]:
        """exchangeInfo ``rateLimits`` in the venue's order."""
        return [
            self.weight_limit.json(),
            self.orders_10s_limit.json(),
            self.orders_day_limit.json(),
            self.raw_limit.json(),
        ]

    def ws_rate_limits(self, ip: str, account_id: str | None = None) -> list[dict[str, object]]:
        """A WebSocket-API response's ``rateLimits``: ORDERS (when an order was placed) then weight."""
        out = self.order_limits_json(account_id) if account_id is not None else []
        out.append(self.weight_limit.json(self.used_weight(ip)))
        return out

    def reset(self) -> None:
        """Forget every count, strike and ban."""
        self._ips.clear()
        self._accounts.clear()
