"""Trading and account methods over the WebSocket API: same results, weights and errors as REST."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mock_exchange.clock import ManualClock
from mock_exchange.testing import MockServer
from tests.ws_api.conftest import two_accounts
from tests.ws_api.wsclient import WsApi, ws_api

DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC_TS = 1645423376532


def orders_limits(count: int) -> list[dict[str, Any]]:
    return [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100, "count": count},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 200000, "count": count},
    ]


async def far_bid(c: WsApi) -> str:
    book = (await c.call("ticker.book", {"symbol": "BTCUSDT"}))["result"]
    return str((Decimal(book["bidPrice"]) * Decimal("0.8")).quantize(Decimal("0.01")))


async def test_order_lifecycle_matches_rest(srv: MockServer) -> None:
    rest = srv.client()
    async with ws_api(srv) as c:
        price = await far_bid(c)
        placed = await c.signed("order.place", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.01", price=price, newClientOrderId="ws-1")
        assert placed["status"] == 200, placed
        o = placed["result"]
        assert o["clientOrderId"] == "ws-1" and o["status"] == "NEW" and o["fills"] == []
        assert o["price"] == f"{Decimal(price):.8f}" and o["origQty"] == "0.01000000" and o["orderListId"] == -1
        assert placed["rateLimits"][:2] == orders_limits(1)
        assert placed["rateLimits"][2]["rateLimitType"] == "REQUEST_WEIGHT"

        status = await c.signed("order.status", symbol="BTCUSDT", origClientOrderId="ws-1")
        http = await rest.signed("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="ws-1")
        assert status["result"] == http.json() and status["result"]["status"] == "NEW"
        opens = await c.signed("openOrders.status", symbol="BTCUSDT")
        assert [x["orderId"] for x in opens["result"]] == [o["orderId"]]
        assert "ORDERS" not in {r["rateLimitType"] for r in opens["rateLimits"]}

        acct = await c.signed("account.status")
        assert acct["result"] == (await rest.signed("GET", "/api/v3/account")).json()
        comm = await c.signed("account.commission", symbol="BTCUSDT")
        assert comm["result"] == (await rest.signed("GET", "/api/v3/account/commission", symbol="BTCUSDT")).json()
        limits = await c.signed("account.rateLimits.orders")
        assert limits["result"] == orders_limits(1)

        cancel = await c.signed("order.cancel", symbol="BTCUSDT", origClientOrderId="ws-1",
                                newClientOrderId="ws-cancel")
        assert cancel["status"] == 200
        assert cancel["result"]["clientOrderId"] == "ws-cancel"
        assert cancel["result"]["origClientOrderId"] == "ws-1" and cancel["result"]["status"] == "CANCELED"
        again = await c.signed("order.cancel", symbol="BTCUSDT", orderId=o["orderId"])
        assert again["status"] == 400 and again["error"] == {"code": -2011, "msg": "Unknown order sent."}
        gone = await c.signed("order.status", symbol="BTCUSDT", orderId=999_999)
        assert gone["error"] == {"code": -2013, "msg": "Order does not exist."}
        history = await c.signed("allOrders", symbol="BTCUSDT")
        assert [(x["clientOrderId"], x["status"]) for x in history["result"]] == [("ws-1", "CANCELED")]


async def test_test_orders_market_fill_trades_and_cancel_all(srv: MockServer) -> None:
    async with ws_api(srv) as c:
        assert (await c.signed("order.test", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001"))[
            "result"] == {}
        rates = await c.signed("order.test", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001",
                               computeCommissionRates=True)
        assert rates["result"]["standardCommissionForOrder"] == {"maker": "0.00100000", "taker": "0.00100000"}
        bad = await c.signed("order.test", symbol="BTCUSDT", side="BUY", type="LIMIT", quantity="0.001")
        assert bad["error"] == {"code": -1102,
                                "msg": "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."}

        fill = await c.signed("order.place", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.002")
        assert fill["result"]["status"] == "FILLED" and fill["result"]["fills"]
        trades = await c.signed("myTrades", symbol="BTCUSDT", orderId=fill["result"]["orderId"])
        assert [t["id"] for t in trades["result"]] == [f["tradeId"] for f in fill["result"]["fills"]]

        none_open = await c.signed("openOrders.cancelAll", symbol="BTCUSDT")
        assert none_open["error"] == {"code": -2011, "msg": "Unknown order sent."}
        price = await far_bid(c)
        for _ in range(2):
            await c.signed("order.place", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                           quantity="0.01", price=price)
        canceled = await c.signed("openOrders.cancelAll", symbol="BTCUSDT")
        assert [x["status"] for x in canceled["result"]] == ["CANCELED", "CANCELED"]


async def test_cancel_replace_success_partial_and_failure(srv: MockServer) -> None:
    async with ws_api(srv) as c:
        price = await far_bid(c)
        first = (await c.signed("order.place", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.01", price=price))["result"]
        new_order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                     "quantity": "0.02", "price": price}
        ok = await c.signed("order.cancelReplace", new_order, cancelReplaceMode="STOP_ON_FAILURE",
                            cancelOrderId=first["orderId"])
        assert ok["status"] == 200
        assert ok["result"]["cancelResult"] == "SUCCESS" and ok["result"]["newOrderResult"] == "SUCCESS"
        assert ok["result"]["cancelResponse"]["orderId"] == first["orderId"]
        assert ok["rateLimits"][0]["rateLimitType"] == "ORDERS"

        partial = await c.signed("order.cancelReplace", new_order, cancelReplaceMode="ALLOW_FAILURE",
                                 cancelOrderId=first["orderId"])
        assert partial["status"] == 409
        err = partial["error"]
        assert err["code"] == -2021 and err["msg"] == "Order cancel-replace partially failed."
        assert err["data"]["cancelResult"] == "FAILURE" and err["data"]["newOrderResult"] == "SUCCESS"
        assert err["data"]["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
        assert err["data"]["newOrderResponse"]["status"] == "NEW"

        failed = await c.signed("order.cancelReplace", new_order, cancelReplaceMode="STOP_ON_FAILURE",
                                cancelOrderId=first["orderId"])
        assert failed["status"] == 400
        assert failed["error"] == {
            "code": -2022, "msg": "Order cancel-replace failed.",
            "data": {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                     "cancelResponse": {"code": -2011, "msg": "Unknown order sent."}, "newOrderResponse": None},
        }


async def test_signed_request_errors(srv: MockServer) -> None:
    info = srv.state.accounts["trader"]
    now = srv.state.clock()
    async with ws_api(srv) as c:
        missing_key = await c.call("account.status", {"timestamp": now})
        assert missing_key["status"] == 400 and missing_key["error"] == {
            "code": -1102, "msg": "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed."}
        no_sig = await c.call("account.status", {"apiKey": info.api_key, "timestamp": now})
        assert no_sig["error"]["msg"] == "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
        wrong = await c.call("account.status", {"apiKey": info.api_key, "timestamp": now, "signature": "0" * 64})
        assert wrong["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}
        old = await c.signed("account.status", timestamp=now - 60_000)
        assert old["error"] == {"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}
        stranger = await c.call("account.status", {"apiKey": "Z" * 64, "timestamp": now, "signature": "0" * 64})
        assert stranger["status"] == 401
        assert stranger["error"] == {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
        poor = await c.signed("order.place", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                              quantity="5", price=await far_bid(c))
        assert poor["error"] == {"code": -2010, "msg": "Account has insufficient balance for requested action."}
        assert poor["rateLimits"][:2] == orders_limits(0)  # a rejected order does not count


async def test_reference_hmac_vectors_sign_live_orders() -> None:
    """web-socket-api.md's HMAC example (and the variant without newOrderRespType) as sent."""
    base = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.01000000", "price": "52000.00", "recvWindow": 100, "timestamp": DOC_TS,
            "apiKey": DOC_KEY}
    async with MockServer(two_accounts(), clock=ManualClock(DOC_TS + 50)) as srv:
        srv.state.keys.add_hmac(DOC_KEY, DOC_SECRET, "trader")
        async with ws_api(srv) as c:
            ack = await c.call("order.place", {**base, "newOrderRespType": "ACK",
                                               "signature": "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"})
            assert ack["status"] == 200, ack
            assert set(ack["result"]) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}
            full = await c.call("order.place", {**base, "signature":
                                                "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"})
            assert full["status"] == 200 and "fills" in full["result"]
            tampered = await c.call("order.place", {**base, "price": "52000.01", "signature":
                                                    "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"})
            assert tampered["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}
