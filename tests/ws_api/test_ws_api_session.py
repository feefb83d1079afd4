"""session.logon / status / logout (Ed25519 only) and userDataStream.subscribe on a logged-on session."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mock_exchange.testing import MockServer
from tests.ws_api.conftest import ED_API_KEY
from tests.ws_api.wsclient import ed_sign, hmac_sign, ws_api


async def test_logon_flow_unsigned_requests_and_logon_subscription(srv: MockServer,
                                                                 ed_key: Ed25519PrivateKey) -> None:
    trader = srv.state.accounts["trader"]
    async with ws_api(srv) as c:
        before = await c.call("session.status")
        connected = before["result"]["connectedSince"]
        assert before["result"] == {"apiKey": None, "authorizedSince": None, "connectedSince": connected,
                                    "returnRateLimits": True, "serverTime": before["result"]["serverTime"],
                                    "userDataStream": False}
        not_yet = await c.call("userDataStream.subscribe")
        assert not_yet["status"] == 401
        assert not_yet["error"] == {"code": -1002, "msg": "You are not authorized to execute this request."}
        hmac_logon = await c.call("session.logon", hmac_sign({}, trader.api_key, trader.secret_key,
                                                             srv.state.clock()))
        assert hmac_logon["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}
        forged = ed_sign({}, ED_API_KEY, Ed25519PrivateKey.generate(), srv.state.clock())
        assert (await c.call("session.logon", forged))["error"]["code"] == -1022

        now = srv.state.clock()
        logon = await c.call("session.logon", ed_sign({}, ED_API_KEY, ed_key, now))
        assert logon["status"] == 200, logon
        assert logon["result"]["apiKey"] == ED_API_KEY and logon["result"]["authorizedSince"] >= now
        assert logon["result"]["connectedSince"] == connected and logon["result"]["userDataStream"] is False

        # After logon, SIGNED requests need only a timestamp.
        acct = await c.call("account.status", {"timestamp": srv.state.clock()})
        assert acct["status"] == 200 and acct["result"]["uid"] == trader.uid
        no_ts = await c.call("account.status", {})
        assert no_ts["error"]["code"] == -1102 and "'timestamp'" in no_ts["error"]["msg"]
        placed = await c.call("order.place", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                              "quantity": "0.001", "timestamp": srv.state.clock()})
        assert placed["status"] == 200 and placed["result"]["status"] == "FILLED"

        sub = await c.call("userDataStream.subscribe")
        assert sub["status"] == 200 and sub["result"] == {"subscriptionId": 0}
        assert sub["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
        twice = await c.call("userDataStream.subscribe")
        assert twice["error"] == {"code": -2035, "msg": "User Data Stream subscription already active."}
        assert (await c.call("session.subscriptions"))["result"] == [{"subscriptionId": 0}]
        assert (await c.call("session.status"))["result"]["userDataStream"] is True

        out = await c.call("session.logout")
        assert out["result"]["apiKey"] is None and out["result"]["userDataStream"] is False
        ended = await c.next_event()
        assert ended["subscriptionId"] == 0 and ended["event"]["e"] == "eventStreamTerminated"
        assert isinstance(ended["event"]["E"], int)
        assert (await c.call("session.subscriptions"))["result"] == []
        after = await c.call("account.status", {"timestamp": srv.state.clock()})
        assert after["error"]["code"] == -1102 and "'apiKey'" in after["error"]["msg"]


async def test_explicit_signature_overrides_the_session_key(srv: MockServer, ed_key: Ed25519PrivateKey) -> None:
    maker = srv.state.accounts["maker"]
    async with ws_api(srv) as c:
        assert (await c.call("session.logon", ed_sign({}, ED_API_KEY, ed_key, srv.state.clock())))["status"] == 200
        other = await c.call("account.status", hmac_sign({}, maker.api_key, maker.secret_key, srv.state.clock()))
        assert other["result"]["uid"] == maker.uid
        mine = await c.call("account.status", {"timestamp": srv.state.clock()})
        assert mine["result"]["uid"] == srv.state.accounts["trader"].uid


async def test_a_revoked_session_key_ends_the_session(srv: MockServer, ed_key: Ed25519PrivateKey) -> None:
    async with ws_api(srv) as c:
        assert (await c.call("session.logon", ed_sign({}, ED_API_KEY, ed_key, srv.state.clock())))["status"] == 200
        srv.state.keys.remove(ED_API_KEY)
        revoked = await c.call("account.status", {"timestamp": srv.state.clock()})
        assert revoked["status"] == 401
        assert revoked["error"] == {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
        assert (await c.call("session.status"))["result"]["apiKey"] is None
