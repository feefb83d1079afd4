"""User-data events on WebSocket-API subscriptions: payloads field by field and their order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mock_exchange.testing import MockServer, SignedClient
from tests.ws_api.conftest import ED_API_KEY
from tests.ws_api.wsclient import WsApi, ed_sign, hmac_sign, ws_api

ZERO = "0.00000000"
REPORT_KEYS = ["e", "E", "s", "c", "S", "o", "f", "q", "p", "P", "F", "g", "C", "x", "X", "r", "i", "l", "z", "L",
               "n", "N", "T", "t", "I", "w", "m", "M", "O", "Z", "Y", "Q", "W", "V"]


async def subscribe(c: WsApi, srv: MockServer, account: str = "trader") -> int:
    info = srv.state.accounts[account]
    r = await c.call("userDataStream.subscribe.signature",
                     hmac_sign({}, info.api_key, info.secret_key, srv.state.clock()))
    assert r["status"] == 200, r
    sub_id: int = r["result"]["subscriptionId"]
    return sub_id


async def events(c: WsApi, n: int) -> list[dict[str, Any]]:
    return [await c.next_event() for _ in range(n)]


def balances(acct: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {b["asset"]: (b["free"], b["locked"]) for b in acct["balances"]}


async def best(rest: SignedClient) -> tuple[Decimal, Decimal]:
    b = (await rest.public("GET", "/api/v3/ticker/bookTicker", symbol="BTCUSDT")).json()
    return Decimal(b["bidPrice"]), Decimal(b["askPrice"])


async def test_resting_limit_new_report_has_every_field(srv: MockServer) -> None:
    rest = srv.client("trader")
    async with ws_api(srv) as c:
        sub = await subscribe(c, srv)
        assert sub == 0
        bid, _ = await best(rest)
        price = (bid * Decimal("0.8")).quantize(Decimal("0.01"))
        r = (await rest.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                               timeInForce="GTC", quantity="0.01", price=str(price),
                               newClientOrderId="rest-1")).json()
        new, position = await events(c, 2)
        assert new["subscriptionId"] == 0 and position["subscriptionId"] == 0
        ev = new["event"]
        assert list(ev) == REPORT_KEYS
        assert ev == {
            "e": "executionReport", "E": ev["E"], "s": "BTCUSDT", "c": "rest-1", "S": "BUY", "o": "LIMIT",
            "f": "GTC", "q": "0.01000000", "p": f"{price:.8f}", "P": ZERO, "F": ZERO, "g": -1, "C": "",
            "x": "NEW", "X": "NEW", "r": "NONE", "i": r["orderId"], "l": ZERO, "z": ZERO, "L": ZERO,
            "n": "0", "N": None, "T": r["transactTime"], "t": -1, "I": ev["I"], "w": True, "m": False,
            "M": False, "O": r["transactTime"], "Z": ZERO, "Y": ZERO, "Q": ZERO, "W": r["workingTime"],
            "V": r["selfTradePreventionMode"],
        }
        assert isinstance(ev["I"], int) and ev["E"] >= ev["T"]
        pos = position["event"]
        assert pos["e"] == "outboundAccountPosition" and isinstance(pos["u"], int) and isinstance(pos["E"], int)
        acct = balances((await rest.signed("GET", "/api/v3/account")).json())
        assert pos["B"] == [{"a": "USDT", "f": acct["USDT"][0], "l": acct["USDT"][1]}]
        assert Decimal(pos["B"][0]["l"]) == price * Decimal("0.01")


async def test_taker_market_fill_order_of_events(srv: MockServer) -> None:
    rest = srv.client("trader")
    async with ws_api(srv) as c:
        await subscribe(c, srv)
        r = (await rest.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                               quantity="0.5")).json()
        fills = r["fills"]
        assert len(fills) >= 2  # sweeps more than one level
        got = [f["event"] for f in await events(c, len(fills) + 2)]
        assert [e["e"] for e in got] == ["executionReport"] * (len(fills) + 1) + ["outboundAccountPosition"]
        new, trades, pos = got[0], got[1:-1], got[-1]
        assert (new["x"], new["X"], new["o"], new["w"], new["N"], new["n"]) == ("NEW", "NEW", "MARKET", False,
                                                                                  None, "0")
        assert new["f"] == "GTC" and new["q"] == "0.50000000"
        assert [(t["x"], t["L"], t["l"], t["n"], t["N"], t["t"], t["m"]) for t in trades] == [
            ("TRADE", f["price"], f["qty"], f["commission"], f["commissionAsset"], f["tradeId"], False)
            for f in fills]
        assert [t["X"] for t in trades] == ["PARTIALLY_FILLED"] * (len(fills) - 1) + ["FILLED"]
        for t in trades:
            assert Decimal(t["Y"]) == (Decimal(t["L"]) * Decimal(t["l"])).quantize(Decimal("1e-8"), "ROUND_DOWN")
            assert t["c"] == r["clientOrderId"] and t["C"] == "" and t["i"] == r["orderId"] and t["w"] is False
        assert trades[-1]["z"] == r["executedQty"] and trades[-1]["Z"] == r["cummulativeQuoteQty"]
        assert len({t["I"] for t in got[:-1]}) == len(got) - 1  # execution ids are unique
        acct = balances((await rest.signed("GET", "/api/v3/account")).json())
        assert {b["a"]: (b["f"], b["l"]) for b in pos["B"]} == {"BTC": acct["BTC"], "USDT": acct["USDT"]}


async def test_maker_fill_reaches_the_makers_subscription(srv: MockServer) -> None:
    taker, maker = srv.client("trader"), srv.client("maker")
    async with ws_api(srv) as c:
        assert await subscribe(c, srv, "trader") == 0
        assert await subscribe(c, srv, "maker") == 1
        bid, ask = await best(taker)
        inside = str(ask - Decimal("0.01"))
        assert Decimal(inside) > bid
        m = (await maker.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="LIMIT",
                                timeInForce="GTC", quantity="0.01", price=inside, newClientOrderId="mk")).json()
        resting = await events(c, 2)
        assert [(f["subscriptionId"], f["event"]["e"]) for f in resting] == [
            (1, "executionReport"), (1, "outboundAccountPosition")]
        assert resting[0]["event"]["w"] is True and resting[0]["event"]["i"] == m["orderId"]
        t = (await taker.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                quantity="0.004")).json()
        got = await events(c, 5)
        assert [(f["subscriptionId"], f["event"]["e"], f["event"].get("x")) for f in got] == [
            (0, "executionReport", "NEW"),
            (1, "executionReport", "TRADE"),
            (0, "executionReport", "TRADE"),
            (0, "outboundAccountPosition", None),
            (1, "outboundAccountPosition", None),
        ]
        mk = got[1]["event"]
        assert (mk["c"], mk["X"], mk["m"], mk["w"], mk["N"]) == ("mk", "PARTIALLY_FILLED", True, True, "USDT")
        assert (mk["L"], mk["l"], mk["z"]) == (f"{Decimal(inside):.8f}", "0.00400000", "0.00400000")
        assert mk["t"] == t["fills"][0]["tradeId"] == got[2]["event"]["t"]
        assert got[2]["event"]["m"] is False and got[2]["event"]["N"] == "BTC"


async def test_cancel_report_carries_cancel_id_and_original_id(srv: MockServer) -> None:
    rest = srv.client("trader")
    async with ws_api(srv) as c:
        await subscribe(c, srv)
        bid, _ = await best(rest)
        price = str((bid * Decimal("0.8")).quantize(Decimal("0.01")))
        for _ in range(2):
            await rest.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                              timeInForce="GTC", quantity="0.01", price=price, newClientOrderId=f"keep-{_}")
        await events(c, 4)
        await rest.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="keep-0",
                          newClientOrderId="cancel-me")
        report, pos = (f["event"] for f in await events(c, 2))
        assert (report["x"], report["X"], report["c"], report["C"]) == ("CANCELED", "CANCELED", "cancel-me", "keep-0")
        assert report["w"] is False and report["N"] is None and pos["e"] == "outboundAccountPosition"
        gen = (await rest.signed("DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="keep-1")).json()
        report = (await c.next_event())["event"]
        assert report["c"] == gen["clientOrderId"] and len(report["c"]) == 22 and report["C"] == "keep-1"


async def test_mock_balance_emits_balance_update_then_position(srv: MockServer) -> None:
    rest = srv.client("trader")
    async with ws_api(srv) as c:
        await subscribe(c, srv)
        for delta, shown in (("25.5", "25.50000000"), ("-1", "-1.00000000")):
            r = await rest.raw("POST", "/_mock/balance",
                               body=orjson.dumps({"account": "trader", "asset": "USDT", "delta": delta}).decode())
            assert r.status == 200, r.body
            upd, pos = (f["event"] for f in await events(c, 2))
            assert upd == {"e": "balanceUpdate", "E": upd["E"], "a": "USDT", "d": shown, "T": upd["T"]}
            assert pos["e"] == "outboundAccountPosition"
            assert pos["B"] == [{"a": "USDT", "f": r.json()["balances"]["USDT"]["free"], "l": ZERO}]


async def test_unsubscribe_terminates_and_stops_events(srv: MockServer) -> None:
    rest = srv.client("trader")
    async with ws_api(srv) as c:
        await subscribe(c, srv, "trader")
        await subscribe(c, srv, "maker")
        unknown = await c.call("userDataStream.unsubscribe", {"subscriptionId": 7})
        assert unknown["error"] == {"code": -2036, "msg": "User Data Stream subscription not active."}
        one = await c.call("userDataStream.unsubscribe", {"subscriptionId": 0})
        assert one["status"] == 200 and one["result"] == {}
        ended = await c.next_event()
        assert ended["subscriptionId"] == 0 and ended["event"]["e"] == "eventStreamTerminated"
        await rest.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        await c.no_event()
        assert (await c.call("session.subscriptions"))["result"] == [{"subscriptionId": 1}]
        assert (await c.call("userDataStream.unsubscribe"))["result"] == {}
        assert (await c.next_event())["subscriptionId"] == 1
        again = await subscribe(c, srv, "trader")
        assert again == 2  # ids are never reused on a connection


async def test_subscribe_signature_with_ed25519_and_errors(srv: MockServer, ed_key: Ed25519PrivateKey) -> None:
    async with ws_api(srv) as c:
        ok = await c.call("userDataStream.subscribe.signature", ed_sign({}, ED_API_KEY, ed_key, srv.state.clock()))
        assert ok["result"] == {"subscriptionId": 0}
        dup = await c.call("userDataStream.subscribe.signature", ed_sign({}, ED_API_KEY, ed_key, srv.state.clock()))
        assert dup["error"] == {"code": -2035, "msg": "User Data Stream subscription already active."}
        forged = ed_sign({}, ED_API_KEY, Ed25519PrivateKey.generate(), srv.state.clock())
        bad = await c.call("userDataStream.subscribe.signature", forged)
        assert bad["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}
        nokey = await c.call("userDataStream.subscribe.signature", {"timestamp": srv.state.clock()})
        assert nokey["error"]["code"] == -1102 and "'apiKey'" in nokey["error"]["msg"]
        await srv.client("trader").signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                          quantity="0.001")
        assert (await c.next_event())["event"]["x"] == "NEW"


async def test_ws_order_response_comes_before_its_events(srv: MockServer) -> None:
    async with ws_api(srv) as c:
        await subscribe(c, srv)
        info = srv.state.accounts["trader"]
        params = hmac_sign({"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.001"},
                           info.api_key, info.secret_key, srv.state.clock())
        await c.ws.send_str(orjson.dumps({"id": "o1", "method": "order.place", "params": params}).decode())
        first, second = await events(c, 2)
        assert first["id"] == "o1" and first["status"] == 200
        assert second["event"]["x"] == "NEW" and second["event"]["i"] == first["result"]["orderId"]


async def test_subscriptions_survive_a_control_plane_reset(srv: MockServer) -> None:
    rest = srv.client("trader")
    async with ws_api(srv) as c:
        await subscribe(c, srv)
        assert (await rest.raw("POST", "/_mock/reset")).status == 200
        await rest.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
        assert (await c.next_event())["event"]["x"] == "NEW"


async def test_self_trade_prevention_report_carries_stp_fields(srv: MockServer) -> None:
    rest = srv.client("trader")
    async with ws_api(srv) as c:
        await subscribe(c, srv)
        bid, ask = await best(rest)
        inside = str(ask - Decimal("0.01"))
        maker = (await rest.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="SELL", type="LIMIT",
                                   timeInForce="GTC", quantity="0.01", price=inside)).json()
        await events(c, 2)
        taker = (await rest.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT",
                                   timeInForce="GTC", quantity="0.02", price=inside,
                                   selfTradePreventionMode="EXPIRE_TAKER")).json()
        new, prevented = (f["event"] for f in await events(c, 2))
        assert new["x"] == "NEW" and "v" not in new and "U" not in new
        assert (prevented["x"], prevented["X"], prevented["i"]) == ("TRADE_PREVENTION", "EXPIRED_IN_MATCH",
                                                                    taker["orderId"])
        assert prevented["v"] == taker["preventedMatchId"] and prevented["U"] == maker["orderId"]
        assert (prevented["A"], prevented["B"], prevented["Cs"], prevented["u"]) == (
            "0.02000000", "0.02000000", "BTCUSDT", -1)
        assert prevented["w"] is False and prevented["V"] == "EXPIRE_TAKER"
