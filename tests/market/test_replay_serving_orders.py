"""The user's orders against a replayed market served over real sockets: resting orders show in
the published depth with contiguous update ids, aggressive orders take recorded liquidity,
passive orders fill through their queue, and the usual reports, balances and fees follow.

Recordings are hand-made (capture format) and the server runs on a manual clock, so each test
steps the replay to exactly where it wants to act."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from mock_exchange.market.replay.engine_book import REPLAY_ACCOUNT
from tests.market.replay_serving_support import (
    StreamBook,
    Tape,
    assert_contiguous,
    replaying,
    rest_levels,
)

pytestmark = pytest.mark.timeout(60)

BIDS = [("60000.00", "3.00000"), ("59999.00", "2.00000"), ("59998.00", "5.00000")]
ASKS = [("60001.00", "1.00000"), ("60002.00", "2.00000"), ("60003.00", "4.00000")]
D = Decimal


def base(tmp_path: Path) -> Tape:
    return Tape(tmp_path / "market.capture").snapshot(0, 1000, BIDS, ASKS)


def level(rows: list[list[str]], price: str) -> Decimal | None:
    for p, q in rows:
        if D(p) == D(price):
            return D(q)
    return None


async def test_a_resting_limit_order_is_in_the_published_depth_and_ids_stay_contiguous(tmp_path: Path) -> None:
    tape = (base(tmp_path).diff(100, 1001, 1002, bids=[("59998.00", "4.50000")])
            .diff(200, 1003, 1005, asks=[("60002.00", "1.00000")])
            .diff(300, 1006, 1006, bids=[("59999.00", "2.50000")])
            .diff(400, 1007, 1008, asks=[("60003.00", "3.00000")]).close())  # fmt: skip
    async with replaying(tape) as r:
        snap = await r.depth()
        assert snap["lastUpdateId"] == 1000
        book = StreamBook(snap["lastUpdateId"], snap["bids"], snap["asks"])
        await r.to(100)
        placed = await r.order(side="BUY", type="LIMIT", timeInForce="GTC", price="59999.00", quantity="0.40000")
        assert placed["status"] == "NEW"
        after = await r.depth()
        assert after["lastUpdateId"] == 1003  # the user's change took the next id
        assert level(after["bids"], "59999.00") == D("2.4")  # recorded 2 + the user's 0.4
        await r.to(200)
        await r.to(300)  # the recorded level changes under the user's order: both still shown
        await r.srv.client().signed("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=placed["orderId"])
        await r.to(400)
        diffs = r.stream.of("depth@100ms")
        assert [(d["U"], d["u"]) for d in diffs] == [(1001, 1002), (1003, 1006), (1007, 1007), (1008, 1010)]
        assert_contiguous(diffs)
        assert level(diffs[1]["b"], "59999.00") == D("2.4")  # merged into the next recorded diff
        assert level(diffs[1]["a"], "60002.00") == D("1")  # the recorded change itself, unchanged
        assert level(diffs[2]["b"], "59999.00") == D("2.9")  # recorded 2.5 + the user's 0.4
        assert level(diffs[3]["b"], "59999.00") == D("2.5")  # cancelled: the recording alone again
        for d in diffs:
            book.apply(d)
        final = await r.depth()
        assert final["lastUpdateId"] == book.last_id == 1010
        assert book.levels() == rest_levels(final)


async def test_user_changes_reach_the_stream_when_no_recorded_diff_comes(tmp_path: Path) -> None:
    tape = (base(tmp_path).diff(100, 1001, 1002, bids=[("59998.00", "4.50000")])
            .diff(500, 1003, 1004, asks=[("60003.00", "3.00000")]).close())  # fmt: skip
    async with replaying(tape) as r:
        snap = await r.depth()
        await r.to(100)
        await r.order(side="BUY", type="LIMIT", timeInForce="GTC", price="59000.00", quantity="0.10000")
        await r.to(250)  # a quiet symbol: the user's change goes out on its own after 100 ms
        await r.to(500)
        assert r.driver.done
        await r.order(side="SELL", type="LIMIT", timeInForce="GTC", price="61000.00", quantity="0.20000")
        await r.to(510)  # the recording is over: at once
        diffs = r.stream.of("depth@100ms")
        assert [(d["U"], d["u"]) for d in diffs] == [(1001, 1002), (1003, 1003), (1004, 1005), (1006, 1006)]
        assert diffs[1]["b"] == [["59000.00000000", "0.10000000"]] and diffs[1]["a"] == []
        assert diffs[3]["a"] == [["61000.00000000", "0.20000000"]]
        book = StreamBook(snap["lastUpdateId"], snap["bids"], snap["asks"])
        for d in diffs:
            book.apply(d)
        final = await r.depth()
        assert book.last_id == final["lastUpdateId"] and book.levels() == rest_levels(final)


async def test_a_user_order_inside_the_spread_moves_the_published_book_ticker(tmp_path: Path) -> None:
    tape = (base(tmp_path).ticker(50, 1001, ("60000.00", "3.00000"), ("60001.00", "1.00000"))
            .diff(100, 1001, 1002, bids=[("59998.00", "4.50000")])
            .ticker(150, 1003, ("60000.00", "2.00000"), ("60001.00", "1.00000")).close())  # fmt: skip
    async with replaying(tape) as r:
        await r.to(50)
        await r.order(side="BUY", type="LIMIT", timeInForce="GTC", price="60000.50", quantity="0.10000")
        await r.stream.wait_for(lambda: len(r.stream.of("bookTicker")) >= 2)
        await r.to(150)
        await r.stream.wait_for(lambda: len(r.stream.of("bookTicker")) >= 3)
        tickers = r.stream.of("bookTicker")
        assert tickers[0] == {"u": 1001, "s": "BTCUSDT", "b": "60000.00", "B": "3.00000", "a": "60001.00",
                              "A": "1.00000"}  # recorded, unchanged  # fmt: skip
        assert (D(tickers[1]["b"]), D(tickers[1]["B"])) == (D("60000.50"), D("0.1"))
        assert tickers[1]["u"] == 1001  # the user's change is not newer than the last ticker shown
        assert (D(tickers[2]["b"]), D(tickers[2]["B"]), tickers[2]["u"]) == (D("60000.50"), D("0.1"), 1004)


async def test_an_aggressive_order_takes_the_recorded_liquidity_until_the_level_is_updated(tmp_path: Path) -> None:
    tape = (base(tmp_path).trade(10, 500, "60001.00", "0.20000", False)
            .diff(100, 1001, 1001, bids=[("59998.00", "4.50000")])
            .trade(150, 501, "60000.00", "0.10000", True)
            .diff(200, 1002, 1003, asks=[("60002.00", "2.50000")]).close())  # fmt: skip
    async with replaying(tape) as r:
        await r.to(10)
        filled = await r.order(side="BUY", type="MARKET", quantity="1.50000")
        assert filled["status"] == "FILLED"
        assert [(D(f["price"]), D(f["qty"])) for f in filled["fills"]] == [(D("60001"), D("1")), (D("60002"), D("0.5"))]
        assert [D(f["commission"]) for f in filled["fills"]] == [D("0.001"), D("0.0005")]  # taker 0.1 % in BTC
        depth = await r.depth()
        assert level(depth["asks"], "60001.00") is None and level(depth["asks"], "60002.00") == D("1.5")
        await r.to(100)
        depth = await r.depth()
        assert level(depth["asks"], "60002.00") == D("1.5")  # an update elsewhere: still consumed
        await r.to(200)
        depth = await r.depth()
        assert level(depth["asks"], "60002.00") == D("2.5")  # the recording updated the level
        assert depth["lastUpdateId"] == 1004
        diffs = r.stream.of("depth@100ms")
        assert_contiguous(diffs)
        assert level(diffs[0]["a"], "60001.00") == 0 and level(diffs[0]["a"], "60002.00") == D("1.5")
        trades = r.stream.of("@trade")
        assert [t["t"] for t in trades] == [500, 501, 502, 503]  # the user's two prints, then 501 shifted
        assert [D(t["p"]) for t in trades] == [D("60001"), D("60001"), D("60002"), D("60000")]
        account = await r.srv.client().signed("GET", "/api/v3/account")
        btc = next(b for b in account.json()["balances"] if b["asset"] == "BTC")
        assert D(btc["free"]) == D("10") + D("1.5") - D("0.0015")


async def user_stream(r: Any, session: aiohttp.ClientSession) -> tuple[aiohttp.ClientWebSocketResponse, list[dict[str, Any]]]:
    key = (await r.srv.client().raw("POST", "/api/v3/userDataStream",
                                    headers={"X-MBX-APIKEY": next(iter(r.srv.state.accounts.values())).api_key}))
    ws = await session.ws_connect(f"ws://127.0.0.1:{r.srv.port}/ws/{key.json()['listenKey']}")
    events: list[dict[str, Any]] = []

    async def read() -> None:
        async for msg in ws:
            events.append(orjson.loads(msg.data))

    asyncio.get_running_loop().create_task(read())
    return ws, events


async def test_a_passive_order_fills_only_after_the_recorded_queue_ahead_has_traded(tmp_path: Path) -> None:
    tape = (base(tmp_path).trade(200, 700, "60000.00", "2.00000", True)
            .diff(300, 1001, 1001, bids=[("60000.00", "1.00000")])
            .trade(400, 701, "60000.00", "1.50000", True)
            .trade(500, 702, "60000.00", "0.20000", True).close())  # fmt: skip
    async with replaying(tape) as r, aiohttp.ClientSession() as session:
        ws, events = await user_stream(r, session)
        await r.to(100)
        placed = await r.order(side="BUY", type="LIMIT", timeInForce="GTC", price="60000.00", quantity="1.00000")
        oid = placed["orderId"]
        assert r.driver.served["BTCUSDT"].trackers[oid].ahead == 300_000_000  # 3 BTC recorded ahead of it
        await r.to(300)
        assert (await r.query(oid))["executedQty"] == "0.00000000"  # 2 of the 3 ahead traded
        await r.to(400)  # 1.5 more: 1 reaches the front, 0.5 fills the user
        status = await r.query(oid)
        assert (status["status"], D(status["executedQty"])) == ("PARTIALLY_FILLED", D("0.5"))
        await r.to(500)
        status = await r.query(oid)
        assert D(status["executedQty"]) == D("0.7")
        trades = (await r.srv.client().signed("GET", "/api/v3/myTrades", symbol="BTCUSDT")).json()
        assert [(D(t["qty"]), t["isMaker"], D(t["commission"])) for t in trades] == [
            (D("0.5"), True, D("0.0005")), (D("0.2"), True, D("0.0002"))]  # maker 0.1 % in BTC
        await asyncio.sleep(0.05)
        reports = [e for e in events if e.get("e") == "executionReport" and e["x"] == "TRADE"]
        assert [(D(e["l"]), e["m"], e["X"]) for e in reports] == [
            (D("0.5"), True, "PARTIALLY_FILLED"), (D("0.2"), True, "PARTIALLY_FILLED")]
        depth = await r.depth()
        assert level(depth["bids"], "60000.00") == D("1.3")  # recorded 1 + the 0.3 still resting
        assert r.srv.state.engine.open_orders(REPLAY_ACCOUNT) == []  # the replay's orders are not orders
        await ws.close()


@pytest.mark.parametrize(("queue", "expected"), [("risk_averse", "0"), ("prob", "0.27142")])
async def test_the_probabilistic_queue_credits_cancels_ahead_and_the_risk_averse_one_does_not(
    tmp_path: Path, queue: str, expected: str
) -> None:
    tape = (base(tmp_path).diff(200, 1001, 1001, bids=[("60000.00", "5.00000")])  # 2 join behind the user
            .diff(300, 1002, 1002, bids=[("60000.00", "4.00000")])  # 1 cancelled, somewhere
            .trade(400, 700, "60000.00", "2.50000", True).close())  # fmt: skip
    async with replaying(tape, queue=queue) as r:
        await r.to(100)
        placed = await r.order(side="BUY", type="LIMIT", timeInForce="GTC", price="60000.00", quantity="1.00000")
        await r.to(400)
        assert D((await r.query(placed["orderId"]))["executedQty"]) == D(expected)  # floored to the lot step


async def test_a_trade_through_or_a_crossing_book_fills_the_whole_order(tmp_path: Path) -> None:
    tape = (base(tmp_path).trade(200, 700, "59998.00", "0.01000", True)  # prints below the user's bid
            .diff(300, 1001, 1002, bids=[("60000.00", "0"), ("60006.00", "1.00000")],
                  asks=[("60001.00", "0"), ("60002.00", "0"), ("60003.00", "0"), ("60007.00", "1.00000")])
            .close())  # fmt: skip
    async with replaying(tape) as r:
        await r.to(100)
        bid = await r.order(side="BUY", type="LIMIT", timeInForce="GTC", price="59999.00", quantity="0.50000")
        ask = await r.order(side="SELL", type="LIMIT", timeInForce="GTC", price="60005.00", quantity="0.30000")
        await r.to(200)
        assert (await r.query(bid["orderId"]))["status"] == "FILLED"  # 2 BTC ahead, but traded through
        assert (await r.query(ask["orderId"]))["status"] == "NEW"
        await r.to(300)  # the recorded bid jumps over the user's ask
        status = await r.query(ask["orderId"])
        assert (status["status"], D(status["cummulativeQuoteQty"])) == ("FILLED", D("0.3") * 60005)
        depth = await r.depth()
        assert D(depth["bids"][0][0]) == D("60006") and D(depth["asks"][0][0]) == D("60007")


async def test_a_recorded_print_triggers_a_stop_order_that_then_trades_with_the_replayed_book(tmp_path: Path) -> None:
    tape = base(tmp_path).trade(200, 700, "59990.00", "0.01000", True).close()
    async with replaying(tape) as r:
        await r.to(100)
        stop = await r.order(side="SELL", type="STOP_LOSS_LIMIT", timeInForce="GTC", price="59980.00",
                             stopPrice="59995.00", quantity="0.10000")  # fmt: skip
        await r.to(150)
        assert (await r.query(stop["orderId"]))["status"] == "NEW"
        await r.to(200)
        status = await r.query(stop["orderId"])
        assert (status["status"], D(status["cummulativeQuoteQty"])) == ("FILLED", D("0.1") * 60000)  # the best bid
        depth = await r.depth()
        assert level(depth["bids"], "60000.00") == D("2.9")


async def test_with_an_entry_latency_the_order_joins_its_queue_later(tmp_path: Path) -> None:
    tape = (base(tmp_path).trade(150, 700, "60000.00", "3.50000", True)  # would fill it if it were there
            .trade(400, 701, "60000.00", "0.50000", True).close())  # fmt: skip
    async with replaying(tape, latency=100) as r:
        await r.to(100)
        placed = await r.order(side="BUY", type="LIMIT", timeInForce="GTC", price="60000.00", quantity="1.00000")
        await r.to(150)
        assert (await r.query(placed["orderId"]))["executedQty"] == "0.00000000"
        await r.to(400)  # it joined at 200 behind what was then recorded (the snapshot's 3 BTC)
        assert r.driver.served["BTCUSDT"].trackers[placed["orderId"]].ahead == 250_000_000
        assert (await r.query(placed["orderId"]))["executedQty"] == "0.00000000"


async def test_a_control_plane_reset_restarts_the_replay(tmp_path: Path) -> None:
    tape = base(tmp_path).diff(100, 1001, 1002, asks=[("60001.00", "0")]).close()
    async with replaying(tape) as r:
        await r.to(100)
        await r.order(side="BUY", type="LIMIT", timeInForce="GTC", price="59000.00", quantity="0.10000")
        assert (await r.depth())["lastUpdateId"] == 1003
        resp = await r.srv.anonymous().raw("POST", "/_mock/reset")
        assert resp.status == 200
        r.driver.play_until(r.clock())
        assert r.driver.restarts == 1 and r.driver.records == 1  # back at the snapshot
        depth = await r.depth()
        assert depth["lastUpdateId"] == 1000 and level(depth["bids"], "59000.00") is None
        assert rest_levels(depth) == rest_levels({"bids": BIDS, "asks": ASKS})
        await r.to(100)
        assert (await r.depth())["lastUpdateId"] == 1002


async def test_a_symbol_the_config_does_not_know_gets_inferred_filters(tmp_path: Path) -> None:
    tape = (Tape(tmp_path / "abc.capture", symbol="ABCUSDT")
            .snapshot(0, 10, [("1.2340", "100.5")], [("1.2350", "20.25")]).close())  # fmt: skip
    async with replaying(tape) as r:
        info = (await r.srv.anonymous().public("GET", "/api/v3/exchangeInfo", symbol="ABCUSDT")).json()
        sym = info["symbols"][0]
        assert (sym["baseAsset"], sym["quoteAsset"]) == ("ABC", "USDT")
        filters = {f["filterType"]: f for f in sym["filters"]}
        assert D(filters["PRICE_FILTER"]["tickSize"]) == D("0.001")
        assert D(filters["LOT_SIZE"]["stepSize"]) == D("0.01")
        depth = (await r.srv.anonymous().public("GET", "/api/v3/depth", symbol="ABCUSDT")).json()
        assert depth["lastUpdateId"] == 10 and D(depth["asks"][0][1]) == D("20.25")
