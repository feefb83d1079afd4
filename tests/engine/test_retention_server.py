"""An archived order as a client of the running server sees it: the venue's "unknown order"
answers over real loopback HTTP, while the account's recent history stays as it was."""

from __future__ import annotations

from decimal import Decimal

from mock_exchange.engine import Retention
from mock_exchange.testing import MockServer, SignedClient


async def _cancelled_bid(client: SignedClient, cid: str) -> int:
    """Place a bid 10 % under the touch and cancel it; its order id."""
    book = (await client.public("GET", "/api/v3/ticker/bookTicker", symbol="BTCUSDT")).json()
    price = str((Decimal(book["bidPrice"]) * Decimal("0.9")).quantize(Decimal("0.01")))
    r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                            timeInForce="GTC", quantity="0.01", price=price, newClientOrderId=cid)  # fmt: skip
    assert r.status == 200, r.body
    oid: int = r.json()["orderId"]
    c = await client.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=oid)
    assert c.status == 200, c.body
    return oid


async def test_archived_orders_answer_order_does_not_exist_over_rest(server: MockServer) -> None:
    client = server.client()
    account = next(iter(server.state.accounts))
    server.state.engine.set_retention(account, Retention(unfilled_orders=2))
    ids = [await _cancelled_bid(client, f"q{i}") for i in range(3)]
    bought = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                 quantity="0.01")  # fmt: skip
    assert bought.status == 200 and bought.json()["status"] == "FILLED"

    gone = await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", orderId=ids[0])
    assert gone.status == 400 and gone.json() == {"code": -2013, "msg": "Order does not exist."}
    gone = await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="q0")
    assert gone.json() == {"code": -2013, "msg": "Order does not exist."}
    kept = await client.signed("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="q1")
    assert kept.status == 200 and kept.json()["status"] == "CANCELED"
    hist = (await client.signed("GET", "/api/v3/allOrders", symbol="BTCUSDT")).json()
    assert [(o["orderId"], o["status"]) for o in hist] == [
        (ids[1], "CANCELED"), (ids[2], "CANCELED"), (bought.json()["orderId"], "FILLED"),
    ]  # fmt: skip
    mine = (await client.signed("GET", "/api/v3/myTrades", symbol="BTCUSDT")).json()
    assert {t["orderId"] for t in mine} == {bought.json()["orderId"]}


async def test_my_trades_of_an_archived_order_answer_order_does_not_exist(server: MockServer) -> None:
    client = server.client()
    server.state.engine.set_retention(next(iter(server.state.accounts)), Retention(unfilled_orders=0))
    oid = await _cancelled_bid(client, "gone")
    trades = await client.signed("GET", "/api/v3/myTrades", symbol="BTCUSDT", orderId=oid)
    assert trades.json() == {"code": -2013, "msg": "Order does not exist."}
