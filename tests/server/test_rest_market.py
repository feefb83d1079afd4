"""Public REST endpoints over a real loopback socket: shapes, JSON types, errors, weights."""

from __future__ import annotations

import re
from decimal import Decimal

from mock_exchange.testing import MockServer, SignedClient

DEC8 = re.compile(r"^\d+\.\d{8}$")


async def test_ping_time_and_weight_headers(anon: SignedClient, server: MockServer) -> None:
    r = await anon.public("GET", "/api/v3/ping")
    assert r.status == 200 and r.json() == {}
    assert r.headers["Content-Type"].startswith("application/json")
    assert int(r.headers["X-MBX-USED-WEIGHT-1M"]) >= 1
    r2 = await anon.public("GET", "/api/v3/time")
    body = r2.json()
    assert isinstance(body["serverTime"], int)
    assert abs(body["serverTime"] - server.state.clock()) < 5000
    assert int(r2.headers["X-MBX-USED-WEIGHT-1M"]) == int(r.headers["X-MBX-USED-WEIGHT-1M"]) + 1


async def test_exchange_info_shapes_and_selection(anon: SignedClient) -> None:
    r = await anon.public("GET", "/api/v3/exchangeInfo")
    info = r.json()
    assert info["timezone"] == "UTC"
    names = [s["symbol"] for s in info["symbols"]]
    assert {"BTCUSDT", "ETHUSDT", "ETHBTC"} <= set(names)
    kinds = {rl["rateLimitType"] for rl in info["rateLimits"]}
    assert kinds == {"REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"}
    btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
    filters = {f["filterType"]: f for f in btc["filters"]}
    assert {"PRICE_FILTER", "LOT_SIZE", "NOTIONAL"} <= set(filters)
    assert DEC8.match(filters["PRICE_FILTER"]["tickSize"])
    assert btc["baseAsset"] == "BTC" and btc["quoteAsset"] == "USDT"

    one = (await anon.public("GET", "/api/v3/exchangeInfo", symbol="BTCUSDT")).json()
    assert [s["symbol"] for s in one["symbols"]] == ["BTCUSDT"]
    two = (await anon.raw("GET", "/api/v3/exchangeInfo", 'symbols=["BTCUSDT","ETHUSDT"]')).json()
    assert [s["symbol"] for s in two["symbols"]] == ["BTCUSDT", "ETHUSDT"]
    enc = (await anon.raw("GET", "/api/v3/exchangeInfo", "symbols=%5B%22ETHBTC%22%5D")).json()
    assert [s["symbol"] for s in enc["symbols"]] == ["ETHBTC"]
    no_sets = (await anon.public("GET", "/api/v3/exchangeInfo", symbol="BTCUSDT",
                                 showPermissionSets="false")).json()
    assert no_sets["symbols"][0]["permissionSets"] == []
    spot = (await anon.raw("GET", "/api/v3/exchangeInfo", "permissions=SPOT")).json()
    assert len(spot["symbols"]) == len(info["symbols"])


async def test_exchange_info_errors(anon: SignedClient) -> None:
    r = await anon.public("GET", "/api/v3/exchangeInfo", symbol="NOPEUSDT")
    assert r.status == 400 and r.json() == {"code": -1121, "msg": "Invalid symbol."}
    r = await anon.raw("GET", "/api/v3/exchangeInfo", 'symbols=["BTCUSDT","BTCUSDT"]')
    assert r.json()["code"] == -1151
    r = await anon.raw("GET", "/api/v3/exchangeInfo", "symbol=BTCUSDT&permissions=SPOT")
    assert r.json()["code"] == -1128


async def test_depth_snapshot_is_sorted_and_typed(anon: SignedClient) -> None:
    r = await anon.public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=10)
    d = r.json()
    assert isinstance(d["lastUpdateId"], int) and d["lastUpdateId"] > 0
    assert len(d["bids"]) == 10 and len(d["asks"]) == 10
    bids = [Decimal(p) for p, _ in d["bids"]]
    asks = [Decimal(p) for p, _ in d["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0]
    assert all(DEC8.match(p) and DEC8.match(q) for p, q in d["bids"] + d["asks"])
    assert r.headers["X-MBX-USED-WEIGHT-1M"] == "5"
    big = await anon.public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=1000)
    assert big.headers["X-MBX-USED-WEIGHT-1M"] == str(5 + 50)


async def test_depth_errors(anon: SignedClient) -> None:
    r = await anon.public("GET", "/api/v3/depth")
    assert r.json() == {
        "code": -1102,
        "msg": "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
    }
    r = await anon.public("GET", "/api/v3/depth", symbol="BTCUSDT", limit="abc")
    assert r.status == 400 and r.json()["code"] == -1100


async def test_trades_klines_tickers_after_a_trade(server: MockServer, client: SignedClient) -> None:
    r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                            quantity="0.01")
    assert r.status == 200, r.body
    trades = (await client.public("GET", "/api/v3/trades", symbol="BTCUSDT", limit=5)).json()
    assert trades, "the market order should have printed trades"
    t = trades[-1]
    assert set(t) == {"id", "price", "qty", "quoteQty", "time", "isBuyerMaker", "isBestMatch"}
    assert isinstance(t["id"], int) and isinstance(t["time"], int) and t["isBuyerMaker"] is False
    hist = (await client.public("GET", "/api/v3/historicalTrades", symbol="BTCUSDT", fromId=trades[0]["id"])).json()
    assert hist[0]["id"] == trades[0]["id"]
    agg = (await client.public("GET", "/api/v3/aggTrades", symbol="BTCUSDT")).json()
    assert agg and set(agg[0]) == {"a", "p", "q", "f", "l", "T", "m", "M"}
    kl = (await client.public("GET", "/api/v3/klines", symbol="BTCUSDT", interval="1m")).json()
    assert kl and len(kl[-1]) == 12
    row = kl[-1]
    assert isinstance(row[0], int) and isinstance(row[6], int) and isinstance(row[8], int)
    assert all(isinstance(row[i], str) for i in (1, 2, 3, 4, 5, 7, 9, 10, 11))
    ui = (await client.public("GET", "/api/v3/uiKlines", symbol="BTCUSDT", interval="1m")).json()
    assert len(ui[-1]) == 12
    bad = await client.public("GET", "/api/v3/klines", symbol="BTCUSDT", interval="7m")
    assert bad.json() == {"code": -1120, "msg": "Invalid interval."}
    avg = (await client.public("GET", "/api/v3/avgPrice", symbol="BTCUSDT")).json()
    assert set(avg) == {"mins", "price", "closeTime"} and Decimal(avg["price"]) > 0
    t24 = (await client.public("GET", "/api/v3/ticker/24hr", symbol="BTCUSDT")).json()
    assert t24["symbol"] == "BTCUSDT" and t24["count"] >= 1 and isinstance(t24["firstId"], int)
    assert Decimal(t24["lastPrice"]) == Decimal(t["price"])
    mini = (await client.public("GET", "/api/v3/ticker/24hr", symbol="BTCUSDT", type="MINI")).json()
    assert "bidPrice" not in mini and "lastPrice" in mini
    all24 = (await client.public("GET", "/api/v3/ticker/24hr")).json()
    assert isinstance(all24, list) and len(all24) == len(server.state.engine.symbols)
    price = (await client.public("GET", "/api/v3/ticker/price", symbol="BTCUSDT")).json()
    assert price == {"symbol": "BTCUSDT", "price": t["price"]}
    book = (await client.public("GET", "/api/v3/ticker/bookTicker", symbol="BTCUSDT")).json()
    assert Decimal(book["bidPrice"]) < Decimal(book["askPrice"])
    roll = (await client.public("GET", "/api/v3/ticker", symbol="BTCUSDT", windowSize="1h")).json()
    assert roll["symbol"] == "BTCUSDT" and "prevClosePrice" not in roll
    bad_type = await client.public("GET", "/api/v3/ticker/24hr", symbol="BTCUSDT", type="HUGE")
    assert bad_type.json() == {"code": -1139, "msg": "Invalid ticker type."}
    bad_win = await client.public("GET", "/api/v3/ticker", symbol="BTCUSDT", windowSize="9x")
    assert bad_win.json()["code"] == -1130
    missing = await client.public("GET", "/api/v3/ticker")
    assert missing.json()["code"] == -1102


async def test_symbol_status_filter(anon: SignedClient, server: MockServer) -> None:
    r = await anon.public("GET", "/api/v3/ticker/price", symbol="BTCUSDT", symbolStatus="HALT")
    assert r.json() == {"code": -1220, "msg": "The symbol's status does not match the requested symbolStatus."}
    server.state.engine.set_symbol_status("XRPUSDT", "HALT")
    halted = (await anon.public("GET", "/api/v3/exchangeInfo", symbolStatus="HALT")).json()
    assert [s["symbol"] for s in halted["symbols"]] == ["XRPUSDT"]


async def test_unknown_path_and_method(anon: SignedClient) -> None:
    r = await anon.public("GET", "/api/v3/nothing")
    assert r.status == 404
    r = await anon.raw("PATCH", "/api/v3/order")
    assert r.status in (404, 405)
    assert b"Traceback" not in r.body


async def test_microsecond_time_unit(anon: SignedClient) -> None:
    ms = (await anon.public("GET", "/api/v3/time")).json()["serverTime"]
    r = await anon.raw("GET", "/api/v3/time", headers={"X-MBX-TIME-UNIT": "MICROSECOND"})
    us = r.json()["serverTime"]
    assert us > ms * 999 and us < (ms + 10_000) * 1000
    bad = await anon.raw("GET", "/api/v3/time", headers={"X-MBX-TIME-UNIT": "SECOND"})
    assert bad.json()["code"] == -1194
