"""python-binance's ``Client`` and ``AsyncClient`` against ``mockex serve``, only their URLs changed."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import pytest
from binance import async_client as binance_async
from binance import client as binance_client
from binance import exceptions as binance_exceptions

from tests.compat.helpers import Mockex, redirected_subclass

SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def client(mockex: Mockex) -> Iterator[Any]:
    cls = redirected_subclass(mockex, binance_client.Client, "MockexClient")
    c = cls(mockex.api_key, mockex.secret, requests_params={"timeout": 10})  # pings in __init__
    yield c
    c.close_connection()


@pytest.fixture
async def aclient(mockex: Mockex) -> AsyncIterator[Any]:
    cls = redirected_subclass(mockex, binance_async.AsyncClient, "MockexAsyncClient")
    c = await cls.create(mockex.api_key, mockex.secret)  # pings and reads the server time
    yield c
    await c.close_connection()


def _far_bid(book: dict[str, Any]) -> str:
    return str((Decimal(book["bids"][0][0]) / 2).quantize(Decimal("0.01")))


# ----------------------------------------------------------------------------- Client (sync)
def test_ping_and_server_time(client: Any) -> None:
    assert client.ping() == {}
    assert abs(client.get_server_time()["serverTime"] - time.time() * 1000) < 5_000


def test_exchange_info_and_symbol_info(client: Any) -> None:
    info = client.get_exchange_info()
    assert {s["symbol"] for s in info["symbols"]} >= {"BTCUSDT", "ETHUSDT", "ETHBTC"}
    sym = client.get_symbol_info(SYMBOL)
    assert (sym["baseAsset"], sym["quoteAsset"], sym["status"]) == ("BTC", "USDT", "TRADING")
    filters = {f["filterType"]: f for f in sym["filters"]}
    assert Decimal(filters["PRICE_FILTER"]["tickSize"]) == Decimal("0.01")
    assert Decimal(filters["LOT_SIZE"]["stepSize"]) == Decimal("0.00001")
    assert "MARKET" in sym["orderTypes"] and "LIMIT" in sym["orderTypes"]


def test_order_book(client: Any) -> None:
    book = client.get_order_book(symbol=SYMBOL, limit=20)
    bids = [Decimal(p) for p, _ in book["bids"]]
    asks = [Decimal(p) for p, _ in book["asks"]]
    assert len(bids) == len(asks) == 20
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0]
    assert isinstance(book["lastUpdateId"], int)


def test_recent_historical_and_aggregate_trades(client: Any, mockex: Mockex) -> None:
    buy = mockex.flow_order(SYMBOL, "BUY", "0.003")
    sell = mockex.flow_order(SYMBOL, "SELL", "0.002")
    recent = client.get_recent_trades(symbol=SYMBOL, limit=2)
    assert [(t["isBuyerMaker"], Decimal(t["qty"])) for t in recent] == [
        (False, Decimal("0.003")), (True, Decimal("0.002"))]
    assert Decimal(recent[0]["price"]) == Decimal(buy["fills"][-1]["price"])
    assert Decimal(recent[1]["price"]) == Decimal(sell["fills"][-1]["price"])
    hist = client.get_historical_trades(symbol=SYMBOL, fromId=recent[0]["id"])
    assert [t["id"] for t in hist] == [recent[0]["id"], recent[1]["id"]]
    agg = client.get_aggregate_trades(symbol=SYMBOL, limit=2)
    assert [(a["m"], Decimal(a["q"])) for a in agg] == [(False, Decimal("0.003")), (True, Decimal("0.002"))]
    assert agg[1]["a"] == agg[0]["a"] + 1 and agg[0]["f"] <= agg[0]["l"]
    since = int(time.time() * 1000) - 3_600_000
    walked = list(client.aggregate_trade_iter(symbol=SYMBOL, start_str=since))
    assert [a["a"] for a in walked][-2:] == [agg[0]["a"], agg[1]["a"]]


def test_klines_and_historical_klines(client: Any, mockex: Mockex) -> None:
    mockex.flow_order(SYMBOL, "BUY", "0.004")
    tape = client.get_recent_trades(symbol=SYMBOL, limit=1000)
    klines = client.get_klines(symbol=SYMBOL, interval=client.KLINE_INTERVAL_1MINUTE, limit=1000)
    assert sum(Decimal(k[5]) for k in klines) == sum(Decimal(t["qty"]) for t in tape)
    assert sum(k[8] for k in klines) == len(tape)
    assert Decimal(klines[-1][4]) == Decimal(tape[-1]["price"])
    hist = client.get_historical_klines(SYMBOL, client.KLINE_INTERVAL_1MINUTE, "1 hour ago UTC")
    assert hist[-1][0] == klines[-1][0]


def test_account_balances(client: Any) -> None:
    acct = client.get_account()
    assert acct["canTrade"] is True and acct["accountType"] == "SPOT"
    assert client.get_asset_balance(asset="BNB") == {"asset": "BNB", "free": "1000.00000000",
                                                     "locked": "0.00000000"}


def test_limit_order_far_from_market_placed_fetched_listed_cancelled(client: Any) -> None:
    price = _far_bid(client.get_order_book(symbol=SYMBOL, limit=5))
    order = client.order_limit_buy(symbol=SYMBOL, quantity="0.01", price=price)
    oid = order["orderId"]
    assert (order["status"], order["type"], Decimal(order["price"])) == ("NEW", "LIMIT", Decimal(price))
    got = client.get_order(symbol=SYMBOL, orderId=oid)
    assert (got["status"], got["clientOrderId"]) == ("NEW", order["clientOrderId"])
    assert oid in [o["orderId"] for o in client.get_open_orders(symbol=SYMBOL)]
    locked = Decimal(client.get_asset_balance(asset="USDT")["locked"])
    assert locked == Decimal(price) * Decimal("0.01")
    cancelled = client.cancel_order(symbol=SYMBOL, orderId=oid)
    assert (cancelled["status"], cancelled["origClientOrderId"]) == ("CANCELED", order["clientOrderId"])
    assert oid not in [o["orderId"] for o in client.get_open_orders(symbol=SYMBOL)]
    assert {o["orderId"]: o["status"] for o in client.get_all_orders(symbol=SYMBOL)}[oid] == "CANCELED"
    assert Decimal(client.get_asset_balance(asset="USDT")["locked"]) == 0


def test_market_order_fills_with_its_trades(client: Any) -> None:
    btc_before = Decimal(client.get_asset_balance(asset="BTC")["free"])
    order = client.order_market_buy(symbol=SYMBOL, quantity="0.5")
    assert (order["status"], Decimal(order["executedQty"])) == ("FILLED", Decimal("0.5"))
    fills = order["fills"]
    assert sum(Decimal(f["qty"]) for f in fills) == Decimal("0.5")
    assert sum(Decimal(f["commission"]) for f in fills) == Decimal("0.0005")
    trades = client.get_my_trades(symbol=SYMBOL, orderId=order["orderId"])
    assert [(Decimal(t["price"]), Decimal(t["qty"])) for t in trades] == [
        (Decimal(f["price"]), Decimal(f["qty"])) for f in fills]
    assert all(t["isBuyer"] and not t["isMaker"] and t["commissionAsset"] == "BTC" for t in trades)
    assert Decimal(client.get_asset_balance(asset="BTC")["free"]) == btc_before + Decimal("0.4995")


def test_errors_raise_binance_api_exception_with_venue_codes(client: Any) -> None:
    with pytest.raises(binance_exceptions.BinanceAPIException) as missing:
        client.get_order(symbol=SYMBOL, orderId=987654321)
    assert (missing.value.code, missing.value.message) == (-2013, "Order does not exist.")
    with pytest.raises(binance_exceptions.BinanceAPIException) as broke:
        client.order_limit_buy(symbol=SYMBOL, quantity="5", price="30000")
    assert broke.value.code == -2010


# ----------------------------------------------------------------------------- AsyncClient
async def test_async_market_data(aclient: Any, mockex: Mockex) -> None:
    assert abs((await aclient.get_server_time())["serverTime"] - time.time() * 1000) < 5_000
    info = await aclient.get_symbol_info("ETHUSDT")
    assert info["baseAsset"] == "ETH"
    book = await aclient.get_order_book(symbol="ETHUSDT", limit=5)
    assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0])
    mockex.flow_order("ETHUSDT", "BUY", "0.05")
    trades = await aclient.get_recent_trades(symbol="ETHUSDT", limit=1)
    agg = await aclient.get_aggregate_trades(symbol="ETHUSDT", limit=1)
    assert Decimal(trades[0]["qty"]) == Decimal(agg[0]["q"]) == Decimal("0.05")
    assert Decimal(trades[0]["price"]) == Decimal(book["asks"][0][0])
    klines = await aclient.get_klines(symbol="ETHUSDT", interval="1m", limit=1)
    assert Decimal(klines[-1][4]) == Decimal(trades[0]["price"])


async def test_async_orders_and_balances(aclient: Any) -> None:
    eth_before = Decimal((await aclient.get_asset_balance(asset="ETH"))["free"])
    price = _far_bid(await aclient.get_order_book(symbol="ETHUSDT", limit=5))
    order = await aclient.order_limit_buy(symbol="ETHUSDT", quantity="0.1", price=price)
    oid = order["orderId"]
    assert (await aclient.get_order(symbol="ETHUSDT", orderId=oid))["status"] == "NEW"
    assert [o["orderId"] for o in await aclient.get_open_orders(symbol="ETHUSDT")] == [oid]
    assert (await aclient.cancel_order(symbol="ETHUSDT", orderId=oid))["status"] == "CANCELED"
    assert await aclient.get_open_orders(symbol="ETHUSDT") == []
    filled = await aclient.order_market_buy(symbol="ETHUSDT", quantity="1")
    assert filled["status"] == "FILLED"
    mine = await aclient.get_my_trades(symbol="ETHUSDT", orderId=filled["orderId"])
    assert sum(Decimal(t["qty"]) for t in mine) == Decimal("1")
    eth_after = Decimal((await aclient.get_asset_balance(asset="ETH"))["free"])
    assert eth_after == eth_before + Decimal("0.999")
