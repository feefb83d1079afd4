"""Rate limits: calendar-aligned windows, 429 then 418 escalation, Retry-After, order counts."""

from __future__ import annotations

from typing import Any

import pytest

from mock_exchange.clock import ManualClock
from mock_exchange.server.errors import BinanceError
from mock_exchange.server.ratelimit import DAY_MS, MINUTE_MS, RateLimitConfig, RateLimiter

# 2023-11-14 22:13:20 UTC: 20 s into a minute, 0 s into a 10 s window.
T0 = 1_700_000_000_000
MINUTE_START = T0 - T0 % MINUTE_MS
IP = "10.0.0.1"


def make(**overrides: Any) -> tuple[RateLimiter, ManualClock]:
    clock = ManualClock(T0)
    return RateLimiter(RateLimitConfig(**overrides), clock), clock


def test_defaults_and_exchange_info_shape() -> None:
    rl, _ = make()
    assert rl.exchange_info_rate_limits() == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ]


def test_weight_accumulates_and_headers() -> None:
    rl, _ = make()
    assert rl.weight_headers(IP) == {"X-MBX-USED-WEIGHT": "0", "X-MBX-USED-WEIGHT-1M": "0"}
    rl.charge_request(IP, 20)
    rl.charge_request(IP, 5)
    rl.charge_request("10.0.0.2", 7)
    assert rl.used_weight(IP) == 25
    assert rl.weight_headers(IP) == {"X-MBX-USED-WEIGHT": "25", "X-MBX-USED-WEIGHT-1M": "25"}
    assert rl.used_weight("10.0.0.2") == 7


def test_minute_window_resets_at_the_calendar_minute_not_60s_after_first_use() -> None:
    rl, clock = make()
    clock.now = MINUTE_START + 59_999
    rl.charge_request(IP, 100)
    clock.now = MINUTE_START + 60_000  # one ms later: a new minute
    assert rl.used_weight(IP) == 0
    rl.charge_request(IP, 1)
    clock.now = MINUTE_START + 119_999
    assert rl.used_weight(IP) == 1


def test_429_with_retry_after_to_the_window_end() -> None:
    rl, clock = make(request_weight_per_minute=10)
    clock.now = MINUTE_START + 20_500
    rl.charge_request(IP, 10)  # exactly at the limit is fine
    with pytest.raises(BinanceError) as exc:
        rl.charge_request(IP, 1)
    e = exc.value
    assert (e.http_status, e.code) == (429, -1003)
    assert e.msg == (
        "Too much request weight used; current limit is 10 request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API."
    )
    assert e.headers == {"Retry-After": "40"}  # 39.5 s to :00, rounded up
    assert e.retry_at_ms == MINUTE_START + MINUTE_MS
    assert rl.used_weight(IP) == 11  # rejected requests still count
    clock.now = MINUTE_START + MINUTE_MS
    rl.charge_request(IP, 10)  # new window: allowed again


def test_retry_after_is_at_least_one_second() -> None:
    rl, clock = make(request_weight_per_minute=1)
    clock.now = MINUTE_START + 59_999
    rl.charge_request(IP)
    with pytest.raises(BinanceError) as exc:
        rl.charge_request(IP)
    assert exc.value.headers["Retry-After"] == "1"


def test_continuing_after_429s_escalates_to_418_ban() -> None:
    rl, clock = make(request_weight_per_minute=5, ban_after_429s=3)
    clock.now = MINUTE_START + 10_000
    rl.charge_request(IP, 5)
    for _ in range(3):
        with pytest.raises(BinanceError) as exc:
            rl.charge_request(IP)
        assert exc.value.http_status == 429
    with pytest.raises(BinanceError) as exc:
        rl.charge_request(IP)
    e = exc.value
    until = clock.now + 2 * MINUTE_MS
    assert (e.http_status, e.code) == (418, -1003)
    assert e.msg == (
        f"Way too much request weight used; IP banned until {until}. "
        "Please use WebSocket Streams for live updates to avoid bans."
    )
    assert e.headers == {"Retry-After": "120"}
    assert e.retry_at_ms == until
    assert rl.banned_until(IP) == until

    # every request during the ban is 418, with a shrinking Retry-After; other IPs are unaffected
    clock.now += 90_000
    with pytest.raises(BinanceError) as exc:
        rl.charge_request(IP)
    assert exc.value.http_status == 418 and exc.value.headers == {"Retry-After": "30"}
    rl.charge_request("10.9.9.9")

    # the ban ends: requests pass again
    clock.now = until
    assert rl.banned_until(IP) is None
    rl.charge_request(IP)


def test_ban_durations_double_up_to_three_days() -> None:
    rl, clock = make(request_weight_per_minute=1, ban_after_429s=0)
    durations = []
    for _ in range(14):
        clock.now = clock.now - clock.now % MINUTE_MS + MINUTE_MS  # a fresh window
        rl.charge_request(IP)
        with pytest.raises(BinanceError) as exc:
            rl.charge_request(IP)
        assert exc.value.http_status == 418
        assert exc.value.retry_at_ms is not None
        durations.append(exc.value.retry_at_ms - clock.now)
        clock.now = exc.value.retry_at_ms
    assert durations[:4] == [2 * MINUTE_MS, 4 * MINUTE_MS, 8 * MINUTE_MS, 16 * MINUTE_MS]
    assert durations[-1] == 3 * DAY_MS
    assert max(durations) == 3 * DAY_MS


def test_a_client_that_backs_off_after_each_429_is_never_banned() -> None:
    rl, clock = make(request_weight_per_minute=2, ban_after_429s=1)
    for _ in range(10):
        rl.charge_request(IP, 2)
        with pytest.raises(BinanceError) as exc:
            rl.charge_request(IP)
        assert exc.value.http_status == 429
        clock.now += int(exc.value.headers["Retry-After"]) * 1000


def test_raw_requests_limit_on_a_5_minute_window() -> None:
    rl, clock = make(raw_requests_per_5min=3)
    start = T0 - T0 % (5 * MINUTE_MS)
    clock.now = start + 4 * MINUTE_MS
    for _ in range(3):
        rl.charge_request(IP, 0)
    with pytest.raises(BinanceError) as exc:
        rl.charge_request(IP, 0)
    assert (exc.value.http_status, exc.value.code) == (429, -1003)
    assert "3 requests per 5 MINUTE" in exc.value.msg
    assert exc.value.headers == {"Retry-After": "60"}
    clock.now = start + 5 * MINUTE_MS
    rl.charge_request(IP, 0)
    assert rl.raw_requests(IP) == 1


def test_manual_ban_for_fault_injection() -> None:
    rl, clock = make()
    until = rl.ban(IP, 5000)
    with pytest.raises(BinanceError) as exc:
        rl.charge_request(IP)
    assert exc.value.http_status == 418 and exc.value.headers == {"Retry-After": "5"}
    clock.now = until
    rl.charge_request(IP)


def test_enforce_false_counts_but_never_refuses() -> None:
    rl, _ = make(request_weight_per_minute=1, orders_per_10s=1, enforce=False)
    for _ in range(5):
        rl.charge_request(IP, 10)
        rl.charge_order("acct")
    assert rl.used_weight(IP) == 50
    assert rl.order_counts("acct") == (5, 5)


# --- orders ---------------------------------------------------------------------------------


def test_order_counts_headers_and_10s_alignment() -> None:
    rl, clock = make()
    assert rl.order_headers("acct") == {"X-MBX-ORDER-COUNT-10S": "0", "X-MBX-ORDER-COUNT-1D": "0"}
    clock.now = T0 + 9_999
    rl.charge_order("acct")
    rl.charge_order("acct")
    assert rl.order_headers("acct") == {"X-MBX-ORDER-COUNT-10S": "2", "X-MBX-ORDER-COUNT-1D": "2"}
    clock.now = T0 + 10_000  # :30 — a new 10 s window, same day
    rl.charge_order("acct")
    assert rl.order_headers("acct") == {"X-MBX-ORDER-COUNT-10S": "1", "X-MBX-ORDER-COUNT-1D": "3"}
    assert rl.order_limits_json("acct") == [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50, "count": 1},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 160000, "count": 3},
    ]
    assert rl.order_counts("other") == (0, 0)


def test_too_many_orders_in_10s() -> None:
    rl, clock = make(orders_per_10s=3)
    clock.now = T0 + 2_300
    for _ in range(3):
        rl.check_order("acct")
    with pytest.raises(BinanceError) as exc:
        rl.charge_order("acct")
    e = exc.value
    assert (e.http_status, e.code) == (429, -1015)
    assert e.msg == "Too many new orders; current limit is 3 orders per 10 SECOND."
    assert e.headers == {"Retry-After": "8"}  # 7.7 s to the next 10 s boundary
    assert rl.order_counts("acct") == (3, 3)  # the refused order did not count
    rl.charge_order("other")  # per account
    clock.now = T0 + 10_000
    rl.charge_order("acct")
    assert rl.order_counts("acct") == (1, 4)


def test_daily_order_limit_resets_at_midnight_utc() -> None:
    rl, clock = make(orders_per_day=2)
    day_start = T0 - T0 % DAY_MS
    clock.now = day_start + DAY_MS - 30_000
    rl.charge_order("acct")
    clock.now += 10_000
    rl.charge_order("acct")
    clock.now += 10_000
    with pytest.raises(BinanceError) as exc:
        rl.charge_order("acct")
    assert exc.value.msg == "Too many new orders; current limit is 2 orders per 1 DAY."
    assert exc.value.headers == {"Retry-After": "10"}
    clock.now = day_start + DAY_MS
    rl.charge_order("acct")
    assert rl.order_counts("acct") == (1, 1)


def test_refund_order() -> None:
    rl, _ = make()
    rl.charge_order("acct")
    rl.refund_order("acct")
    rl.refund_order("acct")
    assert rl.order_counts("acct") == (0, 0)


def test_ws_rate_limits_and_reset() -> None:
    rl, _ = make()
    rl.charge_request(IP, 3)
    rl.charge_order("acct")
    assert rl.ws_rate_limits(IP) == [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000, "count": 3}
    ]
    assert [x["rateLimitType"] for x in rl.ws_rate_limits(IP, "acct")] == [
        "ORDERS",
        "ORDERS",
        "REQUEST_WEIGHT",
    ]
    rl.reset()
    assert rl.used_weight(IP) == 0 and rl.order_counts("acct") == (0, 0)
