"""python-binance websockets against ``mockex serve``: ``BinanceSocketManager`` market streams
(``/ws/<stream>``, ``/stream?streams=``), ``DepthCacheManager``, the WebSocket API (``ws_*``)
and the spot ``user_socket`` (``userDataStream.subscribe.signature``).

A python-binance socket's read loop notices a close request only when a message arrives or its
10 s receive timeout passes (on the venue some message always comes soon). So sockets are closed
while the market keeps moving (``opened``), and one client is shared by the module: closing its
WebSocket-API connection costs that wait once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from binance import async_client as binance_async
from binance.ws import depthcache as binance_depthcache
from binance.ws import streams as binance_streams

from tests.compat.helpers import STREAM_WAIT_S, Mockex, drive_until, redirected_subclass

SYMBOL = "BTCUSDT"
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def aclient(mockex: Mockex) -> AsyncIterator[Any]:
    cls = redirected_subclass(mockex, binance_async.AsyncClient, "MockexAsyncClient")
    c = await cls.create(mockex.api_key, mockex.secret)
    yield c
    await asyncio.wait_for(c.close_connection(), 15)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bsm(mockex: Mockex, aclient: Any) -> Any:
    cls = redirected_subclass(mockex, binance_streams.BinanceSocketManager, "MockexSocketManager")
    return cls(aclient)


def market_ticks(mockex: Mockex) -> Callable[[], Any]:
    """Small flow trades, alternately bought and sold so the book does not drift."""
    sides = itertools.cycle(("BUY", "SELL"))
    return lambda: mockex.flow_order(SYMBOL, next(sides), "0.001")


@contextlib.asynccontextmanager
async def opened(socket: Any, tick: Callable[[], Any]) -> AsyncIterator[Any]:
    """``async with socket`` whose exit runs while ``tick`` keeps producing messages for it."""
    entered = await socket.__aenter__()
    try:
        yield entered
    finally:
        async def busy() -> None:
            while True:
                await asyncio.to_thread(tick)
                await asyncio.sleep(0.1)

        ticking = asyncio.ensure_future(busy())
        try:
            await asyncio.wait_for(socket.__aexit__(None, None, None), 15)
        finally:
            ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await ticking


def _check(msg: Any) -> Any:
    """python-binance reports socket failures as a message, not an exception."""
    assert not (isinstance(msg, dict) and msg.get("e") == "error"), f"socket error: {msg}"
    return msg


async def recv_until(sock: Any, pred: Callable[[Any], bool], timeout: float = STREAM_WAIT_S) -> Any:
    async def loop() -> Any:
        while True:
            msg = _check(await sock.recv())
            if pred(msg):
                return msg

    return await asyncio.wait_for(loop(), timeout)


@pytest.mark.parametrize(("factory", "kind"), [("trade_socket", "trade"), ("aggtrade_socket", "aggTrade")])
async def test_trade_and_aggtrade_sockets(bsm: Any, mockex: Mockex, factory: str, kind: str) -> None:
    placed: list[dict[str, Any]] = []
    async with opened(getattr(bsm, factory)(SYMBOL), market_ticks(mockex)) as sock:
        task = asyncio.ensure_future(sock.recv())
        msg = _check(await drive_until(task, lambda: placed.append(mockex.flow_order(SYMBOL, "SELL", "0.001"))))
    fills = {Decimal(f["price"]) for o in placed for f in o["fills"]}
    assert (msg["e"], msg["s"], msg["m"]) == (kind, SYMBOL, True), msg  # a SELL taker: buyer is maker
    assert Decimal(msg["p"]) in fills and Decimal(msg["q"]) == Decimal("0.001")
    assert isinstance(msg["T"], int) and isinstance(msg["E"], int)


async def test_diff_depth_socket_is_contiguous_and_partial_depth_has_levels(bsm: Any, mockex: Mockex) -> None:
    async with opened(bsm.depth_socket(SYMBOL, interval=100), market_ticks(mockex)) as sock:
        first = _check(await drive_until(asyncio.ensure_future(sock.recv()),
                                         lambda: mockex.flow_order(SYMBOL, "BUY", "0.01")))
        assert (first["e"], first["s"]) == ("depthUpdate", SYMBOL)
        last_u = first["u"]
        for _ in range(3):
            nxt = _check(await drive_until(asyncio.ensure_future(sock.recv()),
                                           lambda: mockex.flow_order(SYMBOL, "SELL", "0.01")))
            assert nxt["U"] == last_u + 1, (last_u, nxt)
            assert nxt["u"] >= nxt["U"] and nxt["b"] + nxt["a"]
            last_u = nxt["u"]
    async with opened(bsm.depth_socket(SYMBOL, depth="5", interval=100), market_ticks(mockex)) as sock:
        part = _check(await drive_until(asyncio.ensure_future(sock.recv()),
                                        lambda: mockex.flow_order(SYMBOL, "BUY", "0.01")))
        assert set(part) == {"lastUpdateId", "bids", "asks"}
        assert len(part["bids"]) == len(part["asks"]) == 5
        assert Decimal(part["bids"][0][0]) < Decimal(part["asks"][0][0])


async def test_multiplex_socket_wraps_combined_streams(bsm: Any, mockex: Mockex) -> None:
    streams = ["btcusdt@trade", "btcusdt@depth@100ms"]
    async with opened(bsm.multiplex_socket(streams), market_ticks(mockex)) as sock:
        seen: dict[str, Any] = {}

        async def both() -> dict[str, Any]:
            while len(seen) < 2:
                msg = _check(await sock.recv())
                assert set(msg) == {"stream", "data"}, msg
                seen[msg["stream"]] = msg["data"]
            return seen

        await drive_until(asyncio.ensure_future(both()), lambda: mockex.flow_order(SYMBOL, "BUY", "0.001"))
    assert set(seen) == set(streams)
    assert seen["btcusdt@trade"]["e"] == "trade"
    assert seen["btcusdt@depth@100ms"]["e"] == "depthUpdate"


async def test_depth_cache_manager_converges_to_the_rest_book(aclient: Any, bsm: Any, mockex: Mockex) -> None:
    dcm = binance_depthcache.DepthCacheManager(aclient, SYMBOL, bm=bsm, limit=100, ws_interval=100)
    async with opened(dcm, market_ticks(mockex)):
        await drive_until(asyncio.ensure_future(dcm.recv()), lambda: mockex.flow_order(SYMBOL, "BUY", "0.2"))
        mockex.flow_order(SYMBOL, "SELL", "0.3")
        snap = mockex.depth(SYMBOL, 10)
        want = ([[float(p), float(q)] for p, q in snap["bids"]], [[float(p), float(q)] for p, q in snap["asks"]])

        async def converge() -> None:
            while True:
                dc = await dcm.recv()
                _check(dc)
                if ([list(x) for x in dc.get_bids()[:10]], [list(x) for x in dc.get_asks()[:10]]) == want:
                    return

        await asyncio.wait_for(converge(), STREAM_WAIT_S)


async def test_websocket_api_requests(aclient: Any) -> None:
    await asyncio.wait_for(aclient.ws_ping(), STREAM_WAIT_S)
    t = await asyncio.wait_for(aclient.ws_get_time(), STREAM_WAIT_S)
    assert isinstance(t["serverTime"], int)
    info = await asyncio.wait_for(aclient.ws_get_exchange_info(symbol=SYMBOL), STREAM_WAIT_S)
    assert [s["symbol"] for s in info["symbols"]] == [SYMBOL]
    book = await asyncio.wait_for(aclient.ws_get_order_book(symbol=SYMBOL, limit=5), STREAM_WAIT_S)
    price = str((Decimal(book["bids"][0][0]) / 2).quantize(Decimal("0.01")))
    order = await asyncio.wait_for(aclient.ws_order_limit_buy(symbol=SYMBOL, quantity="0.01", price=price),
                                   STREAM_WAIT_S)
    assert order["status"] == "NEW"
    got = await asyncio.wait_for(aclient.ws_get_order(symbol=SYMBOL, orderId=order["orderId"]), STREAM_WAIT_S)
    assert got["status"] == "NEW"
    still_open = await asyncio.wait_for(aclient.ws_get_open_orders(symbol=SYMBOL), STREAM_WAIT_S)
    assert order["orderId"] in [o["orderId"] for o in still_open]
    cancelled = await asyncio.wait_for(aclient.ws_cancel_order(symbol=SYMBOL, orderId=order["orderId"]),
                                       STREAM_WAIT_S)
    assert cancelled["status"] == "CANCELED"
    filled = await asyncio.wait_for(aclient.ws_order_market_buy(symbol=SYMBOL, quantity="0.01"), STREAM_WAIT_S)
    assert filled["status"] == "FILLED" and filled["fills"]
    trades = await asyncio.wait_for(aclient.ws_get_my_trades(symbol=SYMBOL, orderId=filled["orderId"]),
                                    STREAM_WAIT_S)
    assert sum(Decimal(x["qty"]) for x in trades) == Decimal("0.01")
    acct = await asyncio.wait_for(aclient.ws_get_account(), STREAM_WAIT_S)
    assert any(b["asset"] == "BTC" for b in acct["balances"])


async def test_user_socket_delivers_execution_reports(aclient: Any, bsm: Any) -> None:
    book = await aclient.get_order_book(symbol=SYMBOL, limit=5)
    price = str((Decimal(book["bids"][0][0]) / 2).quantize(Decimal("0.01")))
    async with bsm.user_socket() as us:  # subscribed (WS API) once entered
        def report(oid: int, exec_type: str) -> Callable[[Any], bool]:
            return lambda m: m.get("e") == "executionReport" and m["i"] == oid and m["x"] == exec_type

        order = await aclient.order_limit_buy(symbol=SYMBOL, quantity="0.01", price=price)
        new = await recv_until(us, report(order["orderId"], "NEW"))
        assert (new["s"], new["S"], new["o"], new["X"], new["c"]) == (
            SYMBOL, "BUY", "LIMIT", "NEW", order["clientOrderId"])
        assert Decimal(new["p"]) == Decimal(price) and Decimal(new["q"]) == Decimal("0.01")
        await aclient.cancel_order(symbol=SYMBOL, orderId=order["orderId"])
        gone = await recv_until(us, report(order["orderId"], "CANCELED"))
        assert (gone["X"], gone["C"]) == ("CANCELED", order["clientOrderId"])

        filled = await aclient.order_market_buy(symbol=SYMBOL, quantity="0.03")
        trades: list[dict[str, Any]] = []

        def collect(m: Any) -> bool:
            if m.get("e") == "executionReport" and m["i"] == filled["orderId"] and m["x"] == "TRADE":
                trades.append(m)
                return m["X"] == "FILLED"
            return False

        await recv_until(us, collect)
        assert [(Decimal(t["L"]), Decimal(t["l"])) for t in trades] == [
            (Decimal(f["price"]), Decimal(f["qty"])) for f in filled["fills"]]
        assert all(t["N"] == "BTC" and t["m"] is False for t in trades)
        assert Decimal(trades[-1]["z"]) == Decimal("0.03")
        position = await recv_until(us, lambda m: m.get("e") == "outboundAccountPosition")
        assert {b["a"] for b in position["B"]} >= {"BTC", "USDT"}


async def test_legacy_listen_key_rest_flow_and_combined_stream(aclient: Any, bsm: Any, mockex: Mockex) -> None:
    """Older clients' user stream: POST/PUT/DELETE /api/v3/userDataStream (python-binance's
    stream_* methods) and the listenKey named on /stream?streams= (events wrapped as
    {"stream": listenKey, "data": event})."""
    key = await aclient.stream_get_listen_key()
    assert isinstance(key, str) and key
    assert await aclient.stream_keepalive(key) == {}
    book = await aclient.get_order_book(symbol=SYMBOL, limit=5)
    price = str((Decimal(book["bids"][0][0]) / 2).quantize(Decimal("0.01")))
    async with opened(bsm.multiplex_socket([key]), lambda: mockex.credit("trader", "BNB", "0.001")) as sock:
        async def report() -> Any:
            while True:
                msg = _check(await sock.recv())
                if msg.get("stream") == key and msg["data"].get("e") == "executionReport":
                    return msg["data"]

        placed: list[dict[str, Any]] = []

        async def place() -> None:
            placed.append(await aclient.order_limit_buy(symbol=SYMBOL, quantity="0.01", price=price))

        task = asyncio.ensure_future(report())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_WAIT_S
        while not task.done() and loop.time() < deadline:  # until the stream is attached
            await place()
            await asyncio.wait({task}, timeout=0.25)
        event = await asyncio.wait_for(task, 1)
    assert event["x"] == "NEW" and event["i"] in {o["orderId"] for o in placed}
    for order in placed:
        await aclient.cancel_order(symbol=SYMBOL, orderId=order["orderId"])
    assert await aclient.stream_close(key) == {}

