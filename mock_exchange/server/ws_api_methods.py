"""The WebSocket-API method table: REST handlers reused as-is, plus session and user-stream methods.

A method mapped to a REST endpoint runs that endpoint's handler with a ``Ctx`` built from the
request's ``params`` (``Params.from_dict``), so results, weights and errors are the REST ones;
only authentication differs (``apiKey``/``signature`` inside params, or the logged-on key).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_exchange.server import errors
from mock_exchange.server.auth import ED25519
from mock_exchange.server.endpoint import NONE, TRADE, Ctx, Endpoint, Reply, Weight
from mock_exchange.server.errors import BinanceError
from mock_exchange.server.params import Params
from mock_exchange.server.user_data import hub_of
from mock_exchange.server.ws_session import WsSession


@dataclass(slots=True)
class Call:
    """One request being served: its connection, parameters and arrival time."""

    sess: WsSession
    params: Params
    now: int
    order_account: str | None = None  # set by order-placing methods: rateLimits then show ORDERS


MethodFn = Callable[[Call], Any]


@dataclass(slots=True, frozen=True)
class Method:
    name: str
    weight: Weight
    run: MethodFn
    legacy: bool = False  # listenKey management: served only while config.listen_key is on

    def weight_for(self, params: Params) -> int:
        if callable(self.weight):
            try:
                return self.weight(params)
            except Exception:  # a malformed parameter is reported by the handler
                return 1
        return self.weight


# method -> (HTTP method, REST path)
REST_METHODS: dict[str, tuple[str, str]] = {
    "ping": ("GET", "/api/v3/ping"),
    "time": ("GET", "/api/v3/time"),
    "exchangeInfo": ("GET", "/api/v3/exchangeInfo"),
    "depth": ("GET", "/api/v3/depth"),
    "trades.recent": ("GET", "/api/v3/trades"),
    "trades.historical": ("GET", "/api/v3/historicalTrades"),
    "trades.aggregate": ("GET", "/api/v3/aggTrades"),
    "klines": ("GET", "/api/v3/klines"),
    "uiKlines": ("GET", "/api/v3/uiKlines"),
    "avgPrice": ("GET", "/api/v3/avgPrice"),
    "ticker.24hr": ("GET", "/api/v3/ticker/24hr"),
    "ticker.price": ("GET", "/api/v3/ticker/price"),
    "ticker.book": ("GET", "/api/v3/ticker/bookTicker"),
    "ticker": ("GET", "/api/v3/ticker"),
    "order.place": ("POST", "/api/v3/order"),
    "order.test": ("POST", "/api/v3/order/test"),
    "order.status": ("GET", "/api/v3/order"),
    "order.cancel": ("DELETE", "/api/v3/order"),
    "order.cancelReplace": ("POST", "/api/v3/order/cancelReplace"),
    "openOrders.status": ("GET", "/api/v3/openOrders"),
    "openOrders.cancelAll": ("DELETE", "/api/v3/openOrders"),
    "allOrders": ("GET", "/api/v3/allOrders"),
    "myTrades": ("GET", "/api/v3/myTrades"),
    "account.status": ("GET", "/api/v3/account"),
    "account.commission": ("GET", "/api/v3/account/commission"),
    "account.rateLimits.orders": ("GET", "/api/v3/rateLimit/order"),
}


def reply_error(reply: Reply) -> BinanceError:
    """A REST ``Reply`` with an error body (cancelReplace's 409/400) as a WebSocket-API error."""
    body = reply.body if isinstance(reply.body, dict) else {}
    data = body.get("data")
    return BinanceError(
        int(body.get("code", -1000)),
        str(body.get("msg", "")),
        reply.status,
        data=data if isinstance(data, dict) else None,
    )


def _rest(ep: Endpoint) -> MethodFn:
    def run(call: Call) -> Any:
        sess = call.sess
        ctx = Ctx(sess.state, call.params, call.now, sess.ip)
        if ep.security != NONE:
            ctx.key = sess.authenticate(call.params, call.now, need_trade=ep.security == TRADE)
            if ep.counts_order:
                call.order_account = ctx.key.account_id
        result = ep.handler(ctx)
        if isinstance(result, Reply):
            if result.status != 200:
                raise reply_error(result)
            return result.body
        return result

    return run


# --- session --------------------------------------------------------------------------------


def session_logon(call: Call) -> Any:
    """Authenticate the connection (Ed25519 keys only; others fail their signature check, as
    observed on the venue)."""
    sess = call.sess
    key = sess.state.keys.verify_ws(call.params, call.now, need_trade=False)
    if key.kind != ED25519:
        raise errors.invalid_signature()
    sess.logon(key, call.now)
    return sess.status(call.now)


def session_status(call: Call) -> Any:
    sess = call.sess
    if sess.session_key is not None and sess.state.keys.get(sess.session_key.api_key) is None:
        sess.logout(call.now)  # the key was removed (e.g. a reset): the session is no longer valid
    return sess.status(call.now)


def session_logout(call: Call) -> Any:
    call.sess.logout(call.now)
    return call.sess.status(call.now)


def session_subscriptions(call: Call) -> Any:
    return [{"subscriptionId": sub_id} for sub_id in sorted(call.sess.subs)]


# --- user data stream --------------------------------------------------------------------------


def user_stream_subscribe(call: Call) -> Any:
    """Subscribe the logged-on account (needs ``session.logon``)."""
    sess = call.sess
    if sess.session_key is None:
        raise errors.unauthorized()
    key = sess.authenticate_key_only(call.now)
    return {"subscriptionId": sess.subscribe(key.account_id, via_logon=True)}


def user_stream_subscribe_signature(call: Call) -> Any:
    """Subscribe any account by a signed request (HMAC, RSA or Ed25519), no logon needed."""
    key = call.sess.state.keys.verify_ws(call.params, call.now, need_trade=False)
    return {"subscriptionId": call.sess.subscribe(key.account_id, via_logon=False)}


def user_stream_unsubscribe(call: Call) -> Any:
    """End one subscription (``subscriptionId``) or all of them."""
    sess = call.sess
    sub_id = call.params.opt_int("subscriptionId")
    if sub_id is None:
        sess.end_subscriptions(call.now)
    elif sub_id in sess.subs:
        sess.end_subscription(sub_id, call.now)
    else:
        raise errors.subscription_inactive()
    return {}


def _stream_key_account(call: Call) -> str:
    """USER_STREAM (legacy): the ``apiKey`` param, or the logged-on key, must be valid."""
    api_key = call.params.get("apiKey")
    sess = call.sess
    if not api_key:
        if sess.session_key is None:
            raise errors.mandatory("apiKey")
        api_key = sess.session_key.api_key
    return sess.state.keys.require(api_key).account_id


def user_stream_start(call: Call) -> Any:
    account = _stream_key_account(call)
    return {"listenKey": hub_of(call.sess.state).create_listen_key(account, call.now)}


def user_stream_ping(call: Call) -> Any:
    listen_key = call.params.req("listenKey")
    account = _stream_key_account(call)
    if not hub_of(call.sess.state).keepalive(listen_key, account, call.now):
        raise errors.listen_key_missing()
    return {}


def user_stream_stop(call: Call) -> Any:
    listen_key = call.params.req("listenKey")
    account = _stream_key_account(call)
    if not hub_of(call.sess.state).close_listen_key(listen_key, account, call.now):
        raise errors.listen_key_missing()
    return {}


_CUSTOM: tuple[Method, ...] = (
    Method("session.logon", 2, session_logon),
    Method("session.status", 2, session_status),
    Method("session.logout", 2, session_logout),
    Method("session.subscriptions", 2, session_subscriptions),
    Method("userDataStream.subscribe", 2, user_stream_subscribe),
    Method("userDataStream.subscribe.signature", 2, user_stream_subscribe_signature),
    Method("userDataStream.unsubscribe", 2, user_stream_unsubscribe),
    Method("userDataStream.start", 2, user_stream_start, legacy=True),
    Method("userDataStream.ping", 2, user_stream_ping, legacy=True),
    Method("userDataStream.stop", 2, user_stream_stop, legacy=True),
)
assert all(m.name not in REST_METHODS for m in _CUSTOM)


def build_methods() -> dict[str, Method]:
    """Every WebSocket-API method by name (REST endpoints resolved from the route registries)."""
    from mock_exchange.server import routes_account, routes_market, routes_trade

    endpoints = {
        (ep.method, ep.path): ep
        for reg in (routes_market.reg, routes_trade.reg, routes_account.reg)
        for ep in reg.endpoints
    }
    methods = {m.name: m for m in _CUSTOM}
    for name, route in REST_METHODS.items():
        ep = endpoints[route]
        methods[name] = Method(name, ep.weight, _rest(ep))
    return methods
