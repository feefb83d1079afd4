"""Fuzz every REST endpoint's parameters: malformed input never yields a 5xx or a traceback.

Requests are correctly signed (so the fuzzing reaches the handlers, not just the auth check)
and sent over a real socket to a server running in a background thread.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_exchange.engine import units
from mock_exchange.server import routes_account, routes_market, routes_trade
from mock_exchange.server.endpoint import NONE, Endpoint
from mock_exchange.testing import ThreadedMockServer

ENDPOINTS: list[Endpoint] = [*routes_market.reg.endpoints, *routes_trade.reg.endpoints,
                             *routes_account.reg.endpoints]

PLAUSIBLE: dict[str, list[str]] = {
    "symbol": ["BTCUSDT", "ETHUSDT", "ETHBTC", "btcusdt", "NOPE", ""],
    "symbols": ['["BTCUSDT","ETHUSDT"]', '["BTCUSDT"', "[]", '["BTCUSDT","BTCUSDT"]', "BTCUSDT", '[1,2]'],
    "permissions": ["SPOT", '["SPOT","MARGIN"]', "[", "MARGIN"],
    "symbolStatus": ["TRADING", "HALT", "BREAK", "nope"],
    "showPermissionSets": ["true", "false", "maybe"],
    "limit": ["1", "5", "100", "5000", "6000", "0", "-1", "1e3", "99999999999999999999999"],
    "fromId": ["0", "1", "-5", "abc", "18446744073709551616"],
    "orderId": ["1", "2", "0", "-1", "x", "9223372036854775808"],
    "startTime": ["0", "1700000000000", "1700000000000000", "-1", "now"],
    "endTime": ["0", "1800000000000", "abc"],
    "interval": ["1m", "1s", "1M", "1w", "7m", "", "1h"],
    "timeZone": ["0", "8", "-1:00", "05:45", "15", "x"],
    "type": ["LIMIT", "MARKET", "LIMIT_MAKER", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
             "TAKE_PROFIT_LIMIT", "FULL", "MINI", "OCO", ""],
    "windowSize": ["1m", "59m", "1h", "7d", "8d", "0m", "x"],
    "side": ["BUY", "SELL", "buy", ""],
    "timeInForce": ["GTC", "IOC", "FOK", "GTX", ""],
    "quantity": ["0.001", "1", "0", "-1", "0.000000001", "1e-3", "100000000000", ".5", "1.", "NaN"],
    "quoteOrderQty": ["10", "0", "-10", "1000000", "abc"],
    "price": ["65000", "65000.00", "1", "0", "-1", "0.001", "99999999999", "65000.005"],
    "stopPrice": ["60000", "70000", "0", "-3"],
    "icebergQty": ["0.0001", "0", "5"],
    "newClientOrderId": ["abc", "x" * 40, "bad id", "", "ok-id_1"],
    "origClientOrderId": ["abc", "", "nope"],
    "newOrderRespType": ["ACK", "RESULT", "FULL", "XML"],
    "selfTradePreventionMode": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT",
                                "TRANSFER", "bad"],
    "strategyId": ["1", "-1", "x"],
    "strategyType": ["1000000", "5", "x"],
    "cancelReplaceMode": ["STOP_ON_FAILURE", "ALLOW_FAILURE", "X"],
    "cancelOrderId": ["1", "x", "-1"],
    "cancelOrigClientOrderId": ["abc", ""],
    "cancelNewClientOrderId": ["abc", "bad id"],
    "cancelRestrictions": ["ONLY_NEW", "ONLY_PARTIALLY_FILLED", "NEVER"],
    "computeCommissionRates": ["true", "false", "2"],
    "omitZeroBalances": ["true", "false", "1"],
    "recvWindow": ["5000", "60000", "60001", "0.5", "-1", "x"],
    "trailingDelta": ["100"],
    "pegPriceType": ["PRIMARY_PEG"],
}
NAMES = sorted(PLAUSIBLE)

values = st.one_of(
    st.sampled_from(sorted({v for vs in PLAUSIBLE.values() for v in vs})),
    st.text(max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=12).map(str),
)


@st.composite
def param_sets(draw: st.DrawFn) -> list[tuple[str, str]]:
    names = draw(st.lists(st.sampled_from(NAMES), max_size=9, unique=True))
    pairs = []
    for name in names:
        value = draw(st.one_of(st.sampled_from(PLAUSIBLE[name]), values))
        pairs.append((name, value))
    if draw(st.booleans()):
        pairs.append((draw(st.text(min_size=1, max_size=8)), draw(values)))
    return pairs


@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[ThreadedMockServer]:
    with ThreadedMockServer() as srv:
        yield srv


def _send(srv: ThreadedMockServer, ep: Endpoint, pairs: list[tuple[str, str]], raw_tail: str) -> tuple[int, bytes]:
    info = next(iter(srv.state.accounts.values()))
    query = urlencode(pairs, quote_via=quote) + raw_tail
    headers = {}
    if ep.security != NONE:
        query = f"{query}&timestamp={srv.state.clock()}" if query else f"timestamp={srv.state.clock()}"
        sig = hmac.new(info.secret_key.encode(), query.encode(), hashlib.sha256).hexdigest()
        query = f"{query}&signature={sig}"
        headers["X-MBX-APIKEY"] = info.api_key
    host, port = srv.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(ep.method, f"{ep.path}?{query}", headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("ep", ENDPOINTS, ids=[f"{e.method} {e.path}" for e in ENDPOINTS])
def test_fuzzed_parameters_get_a_venue_error_not_a_crash(fuzz_server: ThreadedMockServer, ep: Endpoint) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(pairs=param_sets(), raw_tail=st.sampled_from(["", "&", "&&", "&=x", "&%zz=1", "&a=%FF%FE"]))
    def check(pairs: list[tuple[str, str]], raw_tail: str) -> None:
        status, body = _send(fuzz_server, ep, pairs, raw_tail)
        assert status < 500, (status, body)
        assert b"Traceback" not in body
        data = json.loads(body)
        if status >= 400:
            if ep.path.endswith("cancelReplace") and status == 409:
                assert data["code"] == -2021
            else:
                assert isinstance(data["code"], int) and data["code"] < 0, data
                assert isinstance(data["msg"], str) and data["msg"], data

    check()


def test_fuzzing_lost_no_money(fuzz_server: ThreadedMockServer) -> None:
    """After all the fuzzing (which placed and filled real orders), every account's locked
    funds are backed by open orders and no balance went negative."""
    eng = fuzz_server.state.engine
    for name in fuzz_server.state.accounts:
        acct = eng.account(name)
        for asset, (free, locked) in acct.balances.items():
            assert free >= 0 and locked >= 0, (name, asset)
        needed: dict[str, int] = {}
        for order in eng.open_orders(name):
            spec = eng.symbols[order.symbol]
            asset = spec.quote_asset if order.side == "BUY" else spec.base_asset
            needed[asset] = needed.get(asset, 0) + order.locked
        for asset, (_, locked) in acct.balances.items():
            assert locked == needed.get(asset, 0), (name, asset, units.fmt(locked))
