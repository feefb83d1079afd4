"""The REST client's error surface over real sockets: venue errors keep code, message and status;
5xx/-1007 are flagged outcome-unknown; a slow reply is a distinct timeout; weights and
Retry-After reach the throttler."""

from __future__ import annotations

import asyncio

import pytest

from connector.rest import BinanceAPIError, BinanceRequestTimeout, RestClient
from connector.throttler import REQUEST_WEIGHT
from mock_exchange.testing import MockServer
from tests.connector.fault_helpers import add_fault, require_faults
from tests.connector.market_helpers import venue_config


async def test_venue_error_keeps_code_message_and_status(server: MockServer) -> None:
    async with RestClient(venue_config(server)) as rest:
        with pytest.raises(BinanceAPIError) as info:
            await rest.get("/api/v3/depth", {"symbol": "NOPE"})
        err = info.value
        assert (err.code, err.msg, err.status, err.outcome_unknown) == (-1121, "Invalid symbol.", 400, False)
        with pytest.raises(BinanceAPIError) as info:
            await rest.get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "nope"}, signed=True)
        assert (info.value.code, info.value.msg) == (-2013, "Order does not exist.")


async def test_used_weight_header_is_tracked(server: MockServer) -> None:
    async with RestClient(venue_config(server)) as rest:
        info = await rest.exchange_info()
        rest.throttler.update_from_exchange_info(info)
        await rest.get("/api/v3/account", signed=True)
        # exchangeInfo 20 + time 1 (first signed request syncs the clock) + account 20, as the venue counted
        assert rest.throttler.used(REQUEST_WEIGHT, "1M") >= 41


async def test_server_error_is_outcome_unknown_and_slow_reply_a_timeout(server: MockServer) -> None:
    require_faults()
    await add_fault(server, {"type": "http_error", "method": "GET", "path": "/api/v3/time", "status": 503,
                             "code": -1007})
    await add_fault(server, {"type": "delay", "method": "GET", "path": "/api/v3/ping", "ms": 1000})
    async with RestClient(venue_config(server, request_timeout_s=0.3)) as rest:
        with pytest.raises(BinanceAPIError) as info:
            await rest.server_time()
        assert (info.value.code, info.value.status, info.value.outcome_unknown) == (-1007, 503, True)
        assert "execution status unknown" in info.value.msg
        with pytest.raises(BinanceRequestTimeout):
            await rest.get("/api/v3/ping")
        assert await rest.get("/api/v3/ping") == {}  # the fault was used up


async def test_rate_limit_answer_pauses_every_following_request(server: MockServer) -> None:
    require_faults()
    await add_fault(server, {"type": "rate_limit", "status": 429, "retryAfter": 1, "path": "/api/v3/time"})
    async with RestClient(venue_config(server)) as rest:
        with pytest.raises(BinanceAPIError) as info:
            await rest.request("GET", "/api/v3/time", retry_rate_limited=False)
        assert (info.value.code, info.value.status, info.value.rate_limited) == (-1003, 429, True)
        assert info.value.retry_after_s == 1
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert await rest.get("/api/v3/ping") == {}  # another endpoint, still held back
        assert loop.time() - start >= 0.9
