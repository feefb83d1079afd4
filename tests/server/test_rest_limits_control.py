"""Rate limits (429 -> 418, Retry-After, order counts) and the /_mock control plane."""

from __future__ import annotations

from decimal import Decimal

import aiohttp

from mock_exchange.config import RateLimitSettings, ServerConfig
from mock_exchange.testing import MockServer


async def test_weight_limit_429_then_418() -> None:
    cfg = ServerConfig(rate_limits=RateLimitSettings(request_weight_per_minute=10))
    async with MockServer(cfg) as srv:
        c = srv.anonymous()
        statuses = []
        last = None
        for _ in range(20):
            last = await c.public("GET", "/api/v3/ping")
            statuses.append(last.status)
        assert statuses[:10] == [200] * 10
        assert 429 in statuses and statuses[-1] == 418
        r429 = last
        assert r429 is not None
        assert int(r429.headers["Retry-After"]) >= 1
        body = r429.json()
        assert body["code"] == -1003 and "banned" in body["msg"]


async def test_429_message_and_retry_after() -> None:
    cfg = ServerConfig(rate_limits=RateLimitSettings(request_weight_per_minute=5))
    async with MockServer(cfg) as srv:
        c = srv.anonymous()
        r = await c.public("GET", "/api/v3/depth", symbol="BTCUSDT")  # weight 5
        assert r.status == 200 and r.headers["X-MBX-USED-WEIGHT-1M"] == "5"
        r = await c.public("GET", "/api/v3/ping")
        assert r.status == 429
        assert r.json()["msg"].startswith("Too much request weight used; current limit is 5 request weight per 1 MINUTE.")
        assert 1 <= int(r.headers["Retry-After"]) <= 60


async def test_order_count_limit() -> None:
    cfg = ServerConfig(rate_limits=RateLimitSettings(orders_per_10s=3))
    async with MockServer(cfg) as srv:
        c = srv.client()
        book = (await c.public("GET", "/api/v3/ticker/bookTicker", symbol="BTCUSDT")).json()
        price = str((Decimal(book["bidPrice"]) * Decimal("0.9")).quantize(Decimal("0.01")))
        counts = []
        for _ in range(4):
            r = await c.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                               timeInForce="GTC", quantity="0.001", price=price)
            counts.append((r.status, r.headers.get("X-MBX-ORDER-COUNT-10S")))
        assert counts[:3] == [(200, "1"), (200, "2"), (200, "3")]
        assert counts[3][0] == 429
        r = await c.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                           timeInForce="GTC", quantity="0.001", price=price)
        assert r.json()["code"] == -1015 and "Retry-After" in r.headers
        opens = (await c.signed("GET", "/api/v3/openOrders", symbol="BTCUSDT")).json()
        assert len(opens) == 3


async def test_control_plane(server: MockServer) -> None:
    base = f"{server.base_url}/_mock"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/health") as r:
            assert r.status == 200 and (await r.json())["status"] == "ok"
        async with http.post(f"{base}/accounts", json={"name": "alice", "balances": {"USDT": "250.5"}}) as r:
            alice = await r.json()
            assert r.status == 200 and len(alice["apiKey"]) == 64
        async with http.post(f"{base}/accounts", json={"name": "alice"}) as r:
            assert r.status == 409
        async with http.post(f"{base}/accounts", json={"balances": {"USDT": "1.123456789"}}) as r:
            assert r.status == 400 and "USDT" in (await r.json())["error"]
        async with http.post(f"{base}/accounts", data=b"{not json") as r:
            assert r.status == 400
        async with http.post(f"{base}/balance", json={"account": "alice", "asset": "BTC", "delta": "0.5"}) as r:
            assert (await r.json())["balances"]["BTC"] == {"free": "0.50000000", "locked": "0.00000000"}
        async with http.post(f"{base}/balance", json={"account": "alice", "asset": "BTC", "delta": "-1"}) as r:
            assert r.status == 400
        async with http.post(f"{base}/balance", json={"account": "bob", "asset": "BTC", "delta": "1"}) as r:
            assert r.status == 404
        async with http.get(f"{base}/state", params={"depth": "3"}) as r:
            st = await r.json()
            assert len(st["books"]["BTCUSDT"]["bids"]) == 3
            assert st["accounts"]["alice"]["balances"]["USDT"]["free"] == "250.50000000"
        async with http.get(f"{base}/accounts") as r:
            assert {a["accountId"] for a in await r.json()} >= {"trader", "alice"}
        async with http.post(f"{base}/reset") as r:
            assert r.status == 200
        async with http.get(f"{base}/accounts") as r:
            assert "alice" not in {a["accountId"] for a in await r.json()}
