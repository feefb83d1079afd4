"""ccxt's synchronous ``ccxt.binance`` against ``mockex serve``, only its URLs changed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import ccxt
import pytest

from tests.compat.helpers import Mockex, ccxt_config, point_ccxt

SYMBOL = "BTC/USDT"


@pytest.fixture(scope="module")
def ex(mockex: Mockex) -> Iterator[Any]:
    exchange = point_ccxt(mockex, ccxt.binance(ccxt_config(mockex)))
    yield exchange
    exchange.close()


def test_fetch_time_is_the_servers_clock(ex: Any) -> None:
    server_ms = ex.fetch_time()
    assert abs(server_ms - time.time() * 1000) < 5_000


def test_load_markets_parses_exchange_info_filters(ex: Any) -> None:
    markets = ex.load_markets(reload=True)
    assert set(markets) == {"BTC/USDT", "ETH/USDT", "BNB/USDT", "SOL/USDT", "XRP/USDT", "ETH/BTC"}
    m = markets[SYMBOL]
    assert (m["id"], m["base"], m["quote"], m["type"], m["spot"], m["active"]) == (
        "BTCUSDT", "BTC", "USDT", "spot", True, True)
    assert m["precision"]["price"] == pytest.approx(0.01)
    assert m["precision"]["amount"] == pytest.approx(0.00001)
    assert m["limits"]["amount"]["min"] == pytest.approx(0.00001)
    assert m["limits"]["cost"]["min"] == pytest.approx(5)
    assert ex.amount_to_precision(SYMBOL, 0.123456789) == "0.12345"
    assert ex.price_to_precision(SYMBOL, 65000.123) == "65000.12"


def test_fetch_order_book_matches_the_venue_snapshot(ex: Any, mockex: Mockex) -> None:
    ob = ex.fetch_order_book(SYMBOL, 10)
    raw = mockex.depth("BTCUSDT", 10)
    assert ob["nonce"] == raw["lastUpdateId"]
    assert ob["bids"] == [[float(p), float(q)] for p, q in raw["bids"]]
    assert ob["asks"] == [[float(p), float(q)] for p, q in raw["asks"]]
    assert len(ob["bids"]) == len(ob["asks"]) == 10
    assert [p for p, _ in ob["bids"]] == sorted((p for p, _ in ob["bids"]), reverse=True)
    assert [p for p, _ in ob["asks"]] == sorted(p for p, _ in ob["asks"])
    assert ob["bids"][0][0] < ob["asks"][0][0]


def test_fetch_trades_from_agg_trades_and_trades(ex: Any, mockex: Mockex) -> None:
    buy = mockex.flow_order("BTCUSDT", "BUY", "0.003")
    sell = mockex.flow_order("BTCUSDT", "SELL", "0.002")
    for method in ("publicGetAggTrades", "publicGetTrades"):
        trades = ex.fetch_trades(SYMBOL, params={"fetchTradesMethod": method})
        assert len(trades) >= 2, method
        last_two = trades[-2:]
        assert [t["side"] for t in last_two] == ["buy", "sell"], method
        assert last_two[0]["price"] == pytest.approx(float(buy["fills"][-1]["price"]))
        assert last_two[1]["price"] == pytest.approx(float(sell["fills"][-1]["price"]))
        assert last_two[0]["amount"] == pytest.approx(0.003)
        assert last_two[1]["amount"] == pytest.approx(0.002)
        assert all(t["symbol"] == SYMBOL for t in trades)
        assert trades == sorted(trades, key=lambda t: t["timestamp"])


def test_fetch_ohlcv_sums_the_tape(ex: Any, mockex: Mockex) -> None:
    mockex.flow_order("BTCUSDT", "BUY", "0.004")
    tape = ex.fetch_trades(SYMBOL, limit=1000, params={"fetchTradesMethod": "publicGetTrades"})
    candles = ex.fetch_ohlcv(SYMBOL, "1m", limit=1000)
    assert candles, "no klines after trades"
    assert sum(c[5] for c in candles) == pytest.approx(sum(t["amount"] for t in tape))
    for ts, o, h, low, c, _v in candles:
        assert ts % 60_000 == 0
        assert low <= min(o, c) <= max(o, c) <= h
    assert candles[-1][4] == pytest.approx(tape[-1]["price"])


def test_fetch_balance_of_the_funded_account(ex: Any) -> None:
    bal = ex.fetch_balance()
    assert bal["BNB"] == {"free": 1000.0, "used": 0.0, "total": 1000.0}
    assert bal["USDT"]["total"] == pytest.approx(bal["USDT"]["free"] + bal["USDT"]["used"])
    assert bal["free"]["USDT"] > 0


def test_limit_order_far_from_market_placed_fetched_listed_cancelled(ex: Any) -> None:
    best_bid = ex.fetch_order_book(SYMBOL, 5)["bids"][0][0]
    price = float(ex.price_to_precision(SYMBOL, best_bid * 0.5))
    before = ex.fetch_balance()["USDT"]
    order = ex.create_order(SYMBOL, "limit", "buy", 0.01, price)
    oid = order["id"]
    assert (order["status"], order["type"], order["side"]) == ("open", "limit", "buy")
    assert (order["price"], order["amount"], order["filled"]) == (pytest.approx(price), 0.01, 0.0)

    fetched = ex.fetch_order(oid, SYMBOL)
    assert (fetched["id"], fetched["status"], fetched["remaining"]) == (oid, "open", 0.01)
    assert fetched["clientOrderId"] == order["clientOrderId"]
    assert oid in [o["id"] for o in ex.fetch_open_orders(SYMBOL)]
    held = ex.fetch_balance()["USDT"]
    assert held["used"] == pytest.approx(before["used"] + price * 0.01)
    assert held["free"] == pytest.approx(before["free"] - price * 0.01)
    assert [price, 0.01] in ex.fetch_order_book(SYMBOL, 100)["bids"]

    cancelled = ex.cancel_order(oid, SYMBOL)
    assert (cancelled["id"], cancelled["status"]) == (oid, "canceled")
    assert oid not in [o["id"] for o in ex.fetch_open_orders(SYMBOL)]
    assert ex.fetch_order(oid, SYMBOL)["status"] == "canceled"
    assert {o["id"]: o["status"] for o in ex.fetch_orders(SYMBOL)}[oid] == "canceled"
    assert ex.fetch_balance()["USDT"]["used"] == pytest.approx(before["used"])


def test_market_order_fills_against_resting_liquidity_with_its_trades(ex: Any) -> None:
    book = ex.fetch_order_book(SYMBOL, 20)
    before = ex.fetch_balance()
    amount = round(book["asks"][0][1] + book["asks"][1][1] / 2, 5)  # takes more than one level
    order = ex.create_order(SYMBOL, "market", "buy", amount)
    oid = order["id"]
    assert (order["status"], order["filled"], order["remaining"]) == ("closed", pytest.approx(amount), 0.0)
    assert len(order["trades"]) >= 2
    assert order["trades"][0]["price"] == pytest.approx(book["asks"][0][0])
    assert order["trades"][1]["price"] == pytest.approx(book["asks"][1][0])
    assert order["average"] == pytest.approx(order["cost"] / amount)
    assert order["fee"]["currency"] == "BTC"
    assert order["fee"]["cost"] == pytest.approx(amount * 0.001)

    mine = [t for t in ex.fetch_my_trades(SYMBOL, limit=1000) if t["order"] == oid]
    assert sum(t["amount"] for t in mine) == pytest.approx(amount)
    assert sum(t["cost"] for t in mine) == pytest.approx(order["cost"])
    assert {(t["side"], t["takerOrMaker"], t["fee"]["currency"]) for t in mine} == {("buy", "taker", "BTC")}
    assert ex.fetch_order(oid, SYMBOL)["status"] == "closed"
    assert oid not in [o["id"] for o in ex.fetch_open_orders(SYMBOL)]

    after = ex.fetch_balance()
    assert after["BTC"]["total"] == pytest.approx(before["BTC"]["total"] + amount * 0.999)
    assert after["USDT"]["total"] == pytest.approx(before["USDT"]["total"] - order["cost"])


def test_market_sell_and_buy_by_quote_cost(ex: Any) -> None:
    sell = ex.create_order(SYMBOL, "market", "sell", 0.01)
    assert (sell["status"], sell["filled"]) == ("closed", pytest.approx(0.01))
    assert sell["fee"]["currency"] == "USDT"
    assert sell["fee"]["cost"] == pytest.approx(sell["cost"] * 0.001)
    buy = ex.create_market_buy_order_with_cost(SYMBOL, 100)
    assert buy["status"] == "closed"
    assert buy["cost"] == pytest.approx(100, abs=0.7)  # rounded down to the 0.00001 BTC step
    assert buy["cost"] <= 100


def test_venue_errors_become_ccxt_exceptions(ex: Any) -> None:
    with pytest.raises(ccxt.InsufficientFunds):
        ex.create_order(SYMBOL, "limit", "buy", 5, 30000)  # 150k USDT > balance
    with pytest.raises(ccxt.OrderNotFound):
        ex.fetch_order("999999", SYMBOL)
    with pytest.raises(ccxt.OrderNotFound):
        ex.cancel_order("999999", SYMBOL)
    with pytest.raises(ccxt.BadRequest, match="Filter failure: NOTIONAL"):  # ccxt maps -1013 so
        ex.create_order(SYMBOL, "limit", "buy", 0.00001, 30000)  # 0.3 USDT < NOTIONAL min 5
