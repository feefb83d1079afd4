"""Trading over real loopback HTTP: place, query, list, cancel, fills, balances, errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mock_exchange.testing import MockServer, SignedClient


async def _best(client: SignedClient, symbol: str = "BTCUSDT") -> tuple[Decimal, Decimal]:
    b = (await client.public("GET", "/api/v3/ticker/bookTicker", symbol=symbol)).json()
    return Decimal(b["bidPrice"]), Decimal(b["askPrice"])


def _balances(acct: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal]]:
    return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in acct["balances"]}


async def test_limit_order_lifecycle(client: SignedClient) -> None:
    bid, _ = await _best(client)
    price = (bid * Decimal("0.8")).quantize(Decimal("0.01"))
    before = _balances((await client.signed("GET", "/api/v3/account")).json())
    r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                            timeInForce="GTC", quantity="0.01", price=str(price), newClientOrderId="my-order-1")
    assert r.status == 200, r.body
    o = r.json()
    assert o["status"] == "NEW" and o["fills"] == [] and o["clientOrderId"] == "my-order-1"
    assert o["orderListId"] == -1 and isinstance(o["orderId"], int) and isinstance(o["transactTime"], int)
    assert o["price"] == f"{price:.8f}" and o["origQty"] == "0.01000000"
    assert o["cummulativeQuoteQty"] == "0.00000000" and o["timeInForce"] == "GTC"
    assert r.headers["X-MBX-ORDER-COUNT-10S"] == "1" and r.headers["X-MBX-ORDER-COUNT-1D"] == "1"

    after = _balances((await client.signed("GET", "/api/v3/account")).json())
    assert after["USDT"][1] - before["USDT"][1] == price * Decimal("0.01")
    assert after["USDT"][0] + after["USDT"][1] == before["USDT"][0] + before["USDT"][1]

    q = (await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", orderId=o["orderId"])).json()
    assert q["status"] == "NEW" and q["isWorking"] is True and q["stopPrice"] == "0.00000000"
    q2 = (await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="my-order-1")).json()
    assert q2["orderId"] == o["orderId"]
    opens = (await client.signed("GET", "/api/v3/openOrders", symbol="BTCUSDT")).json()
    assert [x["orderId"] for x in opens] == [o["orderId"]]
    every = (await client.signed("GET", "/api/v3/openOrders")).json()
    assert [x["orderId"] for x in every] == [o["orderId"]]

    c = await client.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="my-order-1",
                            newClientOrderId="cancel-1")
    assert c.status == 200, c.body
    cj = c.json()
    assert cj["status"] == "CANCELED" and cj["origClientOrderId"] == "my-order-1"
    assert cj["clientOrderId"] == "cancel-1"
    restored = _balances((await client.signed("GET", "/api/v3/account")).json())
    assert restored["USDT"] == before["USDT"]
    again = await client.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=o["orderId"])
    assert again.status == 400 and again.json() == {"code": -2011, "msg": "Unknown order sent."}
    missing = await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", orderId=999999)
    assert missing.json() == {"code": -2013, "msg": "Order does not exist."}
    hist = (await client.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")).json()
    assert [(x["orderId"], x["status"]) for x in hist] == [(o["orderId"], "CANCELED")]


async def test_market_order_fills_and_trades(client: SignedClient) -> None:
    before = _balances((await client.signed("GET", "/api/v3/account")).json())
    r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                            quantity="0.5")
    o = r.json()
    assert o["status"] == "FILLED" and o["executedQty"] == "0.50000000"
    assert o["fills"], "a FULL response lists the fills"
    qty = sum(Decimal(f["qty"]) for f in o["fills"])
    quote = sum(Decimal(f["price"]) * Decimal(f["qty"]) for f in o["fills"])
    fee = sum(Decimal(f["commission"]) for f in o["fills"])
    assert qty == Decimal("0.5") and Decimal(o["cummulativeQuoteQty"]) == quote
    assert {f["commissionAsset"] for f in o["fills"]} == {"BTC"}
    after = _balances((await client.signed("GET", "/api/v3/account")).json())
    assert after["BTC"][0] - before["BTC"][0] == qty - fee
    assert before["USDT"][0] - after["USDT"][0] == quote
    trades = (await client.signed("GET", "/api/v3/myTrades", symbol="BTCUSDT")).json()
    assert sorted(t["id"] for t in trades) == sorted(f["tradeId"] for f in o["fills"])
    assert all(t["isBuyer"] and not t["isMaker"] for t in trades)
    by_order = (await client.signed("GET", "/api/v3/myTrades", symbol="BTCUSDT", orderId=o["orderId"])).json()
    assert len(by_order) == len(trades)

    sell = (await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="MARKET",
                                quoteOrderQty="1000")).json()
    assert sell["status"] == "FILLED" and Decimal(sell["cummulativeQuoteQty"]) <= Decimal("1000")
    assert Decimal(sell["origQuoteOrderQty"]) == Decimal("1000")
    assert {f["commissionAsset"] for f in sell["fills"]} == {"USDT"}


async def test_response_types(client: SignedClient) -> None:
    bid, _ = await _best(client)
    price = str((bid * Decimal("0.9")).quantize(Decimal("0.01")))
    ack = (await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                               timeInForce="GTC", quantity="0.001", price=price, newOrderRespType="ACK")).json()
    assert set(ack) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    res = (await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                               timeInForce="GTC", quantity="0.001", price=price, newOrderRespType="RESULT")).json()
    assert "fills" not in res and res["status"] == "NEW" and "workingTime" in res
    maker = (await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER",
                                 quantity="0.001", price=price)).json()
    assert set(maker) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    stop = (await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="STOP_LOSS_LIMIT",
                                timeInForce="GTC", quantity="0.001", price=price, stopPrice=price)).json()
    assert set(stop) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
    st = (await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", orderId=stop["orderId"])).json()
    assert st["isWorking"] is False and st["stopPrice"] == f"{Decimal(price):.8f}"
    cancelled = (await client.signed("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")).json()
    assert len(cancelled) == 4 and {c["status"] for c in cancelled} == {"CANCELED"}
    none_left = await client.signed("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
    assert none_left.json()["code"] == -2011


async def test_engine_rejections_use_venue_messages(client: SignedClient) -> None:
    bid, ask = await _best(client)
    r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER",
                            quantity="0.001", price=str(ask))
    assert r.json() == {"code": -2010, "msg": "Order would immediately match and take."}
    r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                            timeInForce="GTC", quantity="100", price=str(bid))
    assert r.json() == {"code": -2010, "msg": "Account has insufficient balance for requested action."}
    r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                            timeInForce="GTC", quantity="0.001", price=str(bid - Decimal("0.005")))
    assert r.json() == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                            timeInForce="GTC", quantity="0.0000001", price=str(bid))
    assert r.json() == {"code": -1013, "msg": "Filter failure: LOT_SIZE"}
    r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                            timeInForce="GTC", quantity="0.00001", price="1.00")
    assert r.json()["msg"] in ("Filter failure: NOTIONAL", "Filter failure: PERCENT_PRICE_BY_SIDE")
    ok = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                             timeInForce="GTC", quantity="0.001", price=str(bid), newClientOrderId="dup")
    assert ok.status == 200
    dup = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                              timeInForce="GTC", quantity="0.001", price=str(bid), newClientOrderId="dup")
    assert dup.json() == {"code": -2010, "msg": "Duplicate order sent."}
    assert "X-MBX-ORDER-COUNT-10S" not in dup.headers


async def test_request_level_rejections(client: SignedClient) -> None:
    async def place(**kw: Any) -> dict[str, Any]:
        return (await client.signed("POST", "/api/v3/order", **kw)).json()

    base = {"symbol": "BTCUSDT", "quantity": "0.001"}
    assert (await place(**base, side="BUY"))["msg"] == (
        "Mandatory parameter 'type' was not sent, was empty/null, or malformed.")
    assert await place(**base, side="UP", type="LIMIT") == {"code": -1117, "msg": "Invalid side."}
    assert await place(**base, side="BUY", type="LIMITED") == {"code": -1116, "msg": "Invalid orderType."}
    assert await place(**base, side="BUY", type="LIMIT", timeInForce="GTX", price="1") == {
        "code": -1115, "msg": "Invalid timeInForce."}
    assert (await place(**base, side="BUY", type="LIMIT", price="60000"))["msg"] == (
        "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.")
    assert (await place(symbol="BTCUSDT", side="BUY", type="MARKET"))["msg"] == (
        "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!")
    assert (await place(**base, side="BUY", type="MARKET", price="1"))["code"] == -1106
    assert (await place(**base, side="BUY", type="MARKET", timeInForce="GTC"))["code"] == -1114
    assert (await place(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", price="60000",
                        quantity="0.000000001"))["code"] == -1111
    assert (await place(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", price="6e4",
                        quantity="0.001"))["code"] == -1100
    assert (await place(**base, side="BUY", type="LIMIT", timeInForce="GTC", price="60000",
                        newClientOrderId="bad id!"))["code"] == -1100
    assert (await place(**base, side="BUY", type="STOP_LOSS"))["msg"] == (
        "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed.")
    assert await place(symbol="NOPE", quantity="0.001", side="BUY", type="MARKET") == {
        "code": -1121, "msg": "Invalid symbol."}


async def test_query_and_body_mixed_query_wins(client: SignedClient, server: MockServer) -> None:
    bid, _ = await _best(client)
    price = str((bid * Decimal("0.9")).quantize(Decimal("0.01")))
    ts = str(server.state.clock())
    query = f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&price={price}"
    body = f"quantity=0.002&price=1.00&timestamp={ts}"
    payload = query + body
    r = await client.raw("POST", "/api/v3/order", query, f"{body}&signature={client.sign(payload)}",
                         {"X-MBX-APIKEY": client.api_key or ""})
    assert r.status == 200, r.body
    o = r.json()
    assert Decimal(o["price"]) == Decimal(price) and o["origQty"] == "0.00200000"


async def test_order_test_and_commission(client: SignedClient) -> None:
    bid, _ = await _best(client)
    kw = dict(symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price=str(bid))
    r = await client.signed("POST", "/api/v3/order/test", **kw)
    assert r.status == 200 and r.json() == {}
    assert "X-MBX-ORDER-COUNT-10S" not in r.headers
    assert (await client.signed("GET", "/api/v3/openOrders")).json() == []
    c = await client.signed("POST", "/api/v3/order/test", computeCommissionRates="true", **kw)
    body = c.json()
    assert body["standardCommissionForOrder"] == {"maker": "0.00100000", "taker": "0.00100000"}
    assert int(c.headers["X-MBX-USED-WEIGHT-1M"]) >= 20
    bad = await client.signed("POST", "/api/v3/order/test", **{**kw, "quantity": "0.0000001"})
    assert bad.json() == {"code": -1013, "msg": "Filter failure: LOT_SIZE"}
    com = (await client.signed("GET", "/api/v3/account/commission", symbol="BTCUSDT")).json()
    assert com["symbol"] == "BTCUSDT" and com["standardCommission"]["taker"] == "0.00100000"
    acct = (await client.signed("GET", "/api/v3/account")).json()
    assert acct["makerCommission"] == 10 and acct["commissionRates"]["maker"] == "0.00100000"
    assert acct["canTrade"] is True and acct["accountType"] == "SPOT"
    omit = (await client.signed("GET", "/api/v3/account", omitZeroBalances="true")).json()
    assert all(Decimal(b["free"]) + Decimal(b["locked"]) > 0 for b in omit["balances"])
    limits = (await client.signed("GET", "/api/v3/rateLimit/order")).json()
    assert {(x["interval"], x["intervalNum"]) for x in limits} == {("SECOND", 10), ("DAY", 1)}
    assert all(isinstance(x["count"], int) for x in limits)


async def test_cancel_replace(client: SignedClient) -> None:
    bid, _ = await _best(client)
    p1 = str((bid * Decimal("0.9")).quantize(Decimal("0.01")))
    p2 = str((bid * Decimal("0.91")).quantize(Decimal("0.01")))
    o = (await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                             timeInForce="GTC", quantity="0.001", price=p1)).json()
    r = await client.signed("POST", "/api/v3/order/cancelReplace", symbol="BTCUSDT", side="BUY", type="LIMIT",
                            timeInForce="GTC", quantity="0.002", price=p2, cancelReplaceMode="STOP_ON_FAILURE",
                            cancelOrderId=o["orderId"])
    assert r.status == 200, r.body
    body = r.json()
    assert body["cancelResult"] == "SUCCESS" and body["newOrderResult"] == "SUCCESS"
    assert body["cancelResponse"]["status"] == "CANCELED"
    assert body["newOrderResponse"]["origQty"] == "0.00200000"
    fail = await client.signed("POST", "/api/v3/order/cancelReplace", symbol="BTCUSDT", side="BUY", type="LIMIT",
                               timeInForce="GTC", quantity="0.002", price=p2, cancelReplaceMode="STOP_ON_FAILURE",
                               cancelOrderId=o["orderId"])
    assert fail.status == 400
    fj = fail.json()
    assert fj["code"] == -2022 and fj["msg"] == "Order cancel-replace failed."
    assert fj["data"]["cancelResult"] == "FAILURE" and fj["data"]["newOrderResult"] == "NOT_ATTEMPTED"
    assert fj["data"]["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    partial = await client.signed("POST", "/api/v3/order/cancelReplace", symbol="BTCUSDT", side="BUY",
                                  type="LIMIT", timeInForce="GTC", quantity="0.002", price=p2,
                                  cancelReplaceMode="ALLOW_FAILURE", cancelOrderId=o["orderId"])
    assert partial.status == 409 and partial.json()["code"] == -2021
    assert partial.json()["data"]["newOrderResult"] == "SUCCESS"
    opens = (await client.signed("GET", "/api/v3/openOrders", symbol="BTCUSDT")).json()
    assert len(opens) == 2
