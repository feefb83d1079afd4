"""Throttler: the venue's weights and windows, its headers, and 429/418 Retry-After, on a manual
clock whose sleeps advance time (no real waiting)."""

from __future__ import annotations

import pytest

from connector.clock import ManualClock
from connector.throttler import (
    ORDERS,
    REQUEST_WEIGHT,
    RateLimit,
    Throttler,
    endpoint_weight,
)
from connector.trading_rules import load_exchange_info
from tests.conftest import shared_file

MINUTE = 60_000


class FakeTime:
    """A manual clock plus a sleep that moves it, recording every sleep."""

    def __init__(self, start_ms: int) -> None:
        self.clock = ManualClock(start_ms)
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(int(round(seconds * 1000)))


def make(limits: list[RateLimit], start_ms: int = 100 * MINUTE) -> tuple[Throttler, FakeTime]:
    t = FakeTime(start_ms)
    return Throttler(t.clock, limits, sleep=t.sleep), t


def test_endpoint_weights_follow_the_documented_table() -> None:
    assert endpoint_weight("GET", "/api/v3/exchangeInfo") == 20
    assert endpoint_weight("GET", "/api/v3/depth", {"limit": "100"}) == 5
    assert endpoint_weight("GET", "/api/v3/depth", {"limit": "1000"}) == 50
    assert endpoint_weight("GET", "/api/v3/depth", {"limit": "5000"}) == 250
    assert endpoint_weight("GET", "/api/v3/ticker/24hr", {"symbol": "BTCUSDT"}) == 2
    assert endpoint_weight("GET", "/api/v3/ticker/24hr") == 80
    assert endpoint_weight("GET", "/api/v3/ticker/24hr", {"symbols": '["A","B"]'}) == 2
    assert endpoint_weight("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}) == 6
    assert endpoint_weight("GET", "/api/v3/openOrders") == 80
    assert endpoint_weight("GET", "/api/v3/myTrades", {"symbol": "X", "orderId": "1"}) == 5
    assert endpoint_weight("GET", "/api/v3/myTrades", {"symbol": "X"}) == 20
    assert endpoint_weight("post", "/api/v3/order") == 1
    assert endpoint_weight("GET", "/api/v3/order") == 4
    assert endpoint_weight("GET", "/api/v3/somethingNew") == 1


async def test_waits_for_the_next_window_when_the_weight_limit_would_be_exceeded() -> None:
    thr, t = make([RateLimit(REQUEST_WEIGHT, "MINUTE", 1, 10)], start_ms=100 * MINUTE + 15_000)
    assert await thr.acquire("GET", "/api/v3/order") == 0  # 4
    assert await thr.acquire("GET", "/api/v3/order") == 0  # 8
    waited = await thr.acquire("GET", "/api/v3/order")  # 12 > 10: wait for :00 of the next minute
    assert waited == pytest.approx(45.0)
    assert t.clock.now_ms() == 101 * MINUTE
    assert thr.used(REQUEST_WEIGHT) == 4


async def test_a_request_heavier_than_the_limit_still_goes_in_an_empty_window() -> None:
    thr, _ = make([RateLimit(REQUEST_WEIGHT, "MINUTE", 1, 10)])
    assert await thr.acquire("GET", "/api/v3/exchangeInfo") == 0  # weight 20, nothing used yet


async def test_used_weight_header_raises_the_local_count() -> None:
    thr, t = make([RateLimit(REQUEST_WEIGHT, "MINUTE", 1, 100)])
    thr.record_response(200, {"X-MBX-USED-WEIGHT-1M": "98", "X-MBX-USED-WEIGHT": "98"})
    assert thr.used(REQUEST_WEIGHT) == 98
    waited = await thr.acquire("GET", "/api/v3/order")
    assert waited == pytest.approx(60.0)  # the window was fresh (start of a minute)
    # a lower header value (our own count is higher) does not lower it
    thr.record_response(200, {"x-mbx-used-weight-1m": "1"})
    assert thr.used(REQUEST_WEIGHT) == 4
    assert t.sleeps


async def test_order_count_limit_and_header() -> None:
    thr, _ = make([RateLimit(ORDERS, "SECOND", 10, 3), RateLimit(REQUEST_WEIGHT, "MINUTE", 1, 6000)])
    for _ in range(3):
        assert await thr.acquire("POST", "/api/v3/order") == 0
    assert await thr.acquire("GET", "/api/v3/order") == 0  # not an order: not counted
    assert await thr.acquire("POST", "/api/v3/order") == pytest.approx(10.0)
    thr.record_response(200, {"X-MBX-ORDER-COUNT-10S": "3"})
    assert thr.used(ORDERS, "10S") == 3


@pytest.mark.parametrize("status", [429, 418])
async def test_429_and_418_block_every_request_for_retry_after(status: int) -> None:
    thr, t = make([RateLimit(REQUEST_WEIGHT, "MINUTE", 1, 6000)])
    thr.record_response(status, {"Retry-After": "7"})
    start = t.clock.now_ms()
    await thr.acquire("GET", "/api/v3/time")
    assert t.clock.now_ms() - start == 7000
    assert thr.backoffs == 1
    assert await thr.acquire("GET", "/api/v3/time") == 0  # the block is over


async def test_429_without_retry_after_still_pauses() -> None:
    thr, _ = make([RateLimit(REQUEST_WEIGHT, "MINUTE", 1, 6000)])
    thr.record_response(429, {})
    assert await thr.acquire("GET", "/api/v3/time") == pytest.approx(1.0)


def test_limits_from_the_2021_exchange_info() -> None:
    info = load_exchange_info(shared_file("binance-spot-2021-10-12", "BINANCE.0"))
    thr = Throttler(ManualClock(0))
    thr.update_from_exchange_info(info)
    assert RateLimit(REQUEST_WEIGHT, "MINUTE", 1, 1200) in thr.rate_limits
    assert RateLimit(ORDERS, "SECOND", 10, 50) in thr.rate_limits
    assert {lim.header_suffix for lim in thr.rate_limits} == {"1M", "10S", "1D", "5M"}
    thr.update_from_exchange_info({"rateLimits": []})  # nothing listed: keep what we have
    assert len(thr.rate_limits) == 4


async def test_limits_update_keeps_usage_of_unchanged_limiters() -> None:
    limit = RateLimit(REQUEST_WEIGHT, "MINUTE", 1, 100)
    thr, _ = make([limit])
    await thr.acquire("GET", "/api/v3/account")
    thr.set_rate_limits([limit, RateLimit(ORDERS, "SECOND", 10, 5)])
    assert thr.used(REQUEST_WEIGHT) == 20
