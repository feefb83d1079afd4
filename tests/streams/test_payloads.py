"""Every market stream's payload over a real socket: field names and order, JSON types, values
that agree with the REST answers, raw vs combined framing and ``timeUnit=MICROSECOND``."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from mock_exchange.testing import MockServer
from tests.streams.conftest import Connect
from tests.streams.flow import Collector

DEC = re.compile(r"^-?\d+\.\d{8}$")
PCT = re.compile(r"^-?\d+\.\d{3}$")

STREAMS = [
    "btcusdt@trade", "btcusdt@aggTrade", "btcusdt@bookTicker", "btcusdt@depth", "btcusdt@depth@100ms",
    "btcusdt@depth5", "btcusdt@depth10@100ms", "btcusdt@kline_1s", "btcusdt@kline_1m", "btcusdt@kline_1m@+08:00",
    "btcusdt@ticker", "btcusdt@miniTicker", "!miniTicker@arr", "btcusdt@avgPrice", "btcusdt@ticker_1h",
    "!ticker_1h@arr",
]  # fmt: skip

SHAPES: dict[str, dict[str, type | str]] = {
    "trade": {"e": str, "E": int, "s": str, "t": int, "p": "dec", "q": "dec", "T": int, "m": bool, "M": bool},
    "aggTrade": {"e": str, "E": int, "s": str, "a": int, "p": "dec", "q": "dec", "f": int, "l": int, "T": int,
                 "m": bool, "M": bool},
    "bookTicker": {"u": int, "s": str, "b": "dec", "B": "dec", "a": "dec", "A": "dec"},
    "depthUpdate": {"e": str, "E": int, "s": str, "U": int, "u": int, "b": "levels", "a": "levels"},
    "partial": {"lastUpdateId": int, "bids": "levels", "asks": "levels"},
    "kline": {"e": str, "E": int, "s": str, "k": dict},
    "k": {"t": int, "T": int, "s": str, "i": str, "f": int, "L": int, "o": "dec", "c": "dec", "h": "dec",
          "l": "dec", "v": "dec", "n": int, "x": bool, "q": "dec", "V": "dec", "Q": "dec", "B": str},
    "24hrTicker": {"e": str, "E": int, "s": str, "p": "dec", "P": "pct", "w": "dec", "x": "dec", "c": "dec",
                   "Q": "dec", "b": "dec", "B": "dec", "a": "dec", "A": "dec", "o": "dec", "h": "dec", "l": "dec",
                   "v": "dec", "q": "dec", "O": int, "C": int, "F": int, "L": int, "n": int},
    "24hrMiniTicker": {"e": str, "E": int, "s": str, "c": "dec", "o": "dec", "h": "dec", "l": "dec", "v": "dec",
                       "q": "dec"},
    "avgPrice": {"e": str, "E": int, "s": str, "i": str, "w": "dec", "T": int},
    "1hTicker": {"e": str, "E": int, "s": str, "p": "dec", "P": "pct", "o": "dec", "h": "dec", "l": "dec",
                 "c": "dec", "w": "dec", "v": "dec", "q": "dec", "O": int, "C": int, "F": int, "L": int, "n": int},
}  # fmt: skip


def check_shape(obj: dict[str, Any], shape: dict[str, type | str]) -> None:
    assert list(obj) == list(shape), f"fields {list(obj)} != {list(shape)}"
    for key, kind in shape.items():
        v = obj[key]
        if kind == "dec":
            assert isinstance(v, str) and DEC.match(v), (key, v)
        elif kind == "pct":
            assert isinstance(v, str) and PCT.match(v), (key, v)
        elif kind == "levels":
            assert isinstance(v, list) and all(
                isinstance(lv, list) and len(lv) == 2 and all(DEC.match(x) for x in lv) for lv in v
            ), (key, v)
        else:
            assert type(v) is kind, (key, v)


def shape_name(stream: str, data: Any) -> str:
    if "@depth5" in stream or "@depth10" in stream:
        return "partial"
    if isinstance(data, dict) and "e" in data:
        return str(data["e"])
    return "bookTicker"


async def test_every_stream_payload(server: MockServer, connect: Connect) -> None:
    raw = Collector(await connect("/ws/" + "/".join(STREAMS)))
    query = "/".join(STREAMS).replace("+", "%2B")  # a literal "+" in a query string means a space
    comb = Collector(await connect("/stream?streams=" + query))
    micro = Collector(await connect("/stream?timeUnit=MICROSECOND&streams=" + query))
    await asyncio.sleep(0.05)
    client = server.client()
    for side in ("BUY", "SELL", "BUY"):
        r = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side=side, type="MARKET",
                                quantity="0.8")
        assert r.status == 200, r.body
    # Wait until every cadence (100 ms .. 2 s for klines) has pushed, and a 1s kline has closed.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 8
    while loop.time() < deadline:
        await asyncio.sleep(0.1)
        names = {f["stream"] for f in micro.frames}
        closed = any(f["stream"] == "btcusdt@kline_1s" and f["data"]["k"]["x"] for f in comb.frames)
        if names == set(STREAMS) and closed:
            break
    await asyncio.sleep(0.1)

    got: dict[str, list[Any]] = {}
    for f in comb.frames:
        assert list(f) == ["stream", "data"]
        got.setdefault(f["stream"], []).append(f["data"])
    assert set(got) == set(STREAMS)
    for stream, items in got.items():
        for data in items:
            if stream.startswith("!"):
                assert isinstance(data, list) and [d["s"] for d in data] == ["BTCUSDT"]  # only changed symbols
                for d in data:
                    check_shape(d, SHAPES["24hrMiniTicker" if stream == "!miniTicker@arr" else "1hTicker"])
                continue
            name = shape_name(stream, data)
            check_shape(data, SHAPES[name])
            if name == "kline":
                check_shape(data["k"], SHAPES["k"])
            if "s" in data:
                assert data["s"] == "BTCUSDT"

    # Raw framing carries the same payloads without the envelope.
    raw_trades = [f for f in raw.frames if isinstance(f, dict) and f.get("e") == "trade"]
    assert raw_trades == got["btcusdt@trade"]
    assert all("stream" not in f for f in raw.frames if isinstance(f, dict))

    # Values agree with REST.
    anon = server.anonymous()
    trades = (await anon.public("GET", "/api/v3/trades", symbol="BTCUSDT")).json()
    assert [t["t"] for t in got["btcusdt@trade"]] == [t["id"] for t in trades]
    assert [(t["p"], t["q"], t["m"]) for t in got["btcusdt@trade"]] == [
        (t["price"], t["qty"], t["isBuyerMaker"]) for t in trades]
    aggs = (await anon.public("GET", "/api/v3/aggTrades", symbol="BTCUSDT")).json()
    assert [{k: a[k] for k in "apqflTmM"} for a in got["btcusdt@aggTrade"]] == aggs
    book = (await anon.public("GET", "/api/v3/ticker/bookTicker", symbol="BTCUSDT")).json()
    last_bt = got["btcusdt@bookTicker"][-1]
    assert (last_bt["b"], last_bt["B"], last_bt["a"], last_bt["A"]) == (
        book["bidPrice"], book["bidQty"], book["askPrice"], book["askQty"])
    depth = (await anon.public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=10)).json()
    assert last_bt["u"] == depth["lastUpdateId"]
    assert got["btcusdt@depth10@100ms"][-1] == depth
    t24 = (await anon.public("GET", "/api/v3/ticker/24hr", symbol="BTCUSDT")).json()
    tick = got["btcusdt@ticker"][-1]
    assert (tick["c"], tick["v"], tick["n"], tick["F"], tick["L"]) == (
        t24["lastPrice"], t24["volume"], t24["count"], t24["firstId"], t24["lastId"])
    assert got["btcusdt@avgPrice"][-1]["w"] == (await anon.public("GET", "/api/v3/avgPrice", symbol="BTCUSDT")
                                                ).json()["price"]
    assert got["btcusdt@avgPrice"][-1]["i"] == "5m"
    k = got["btcusdt@kline_1m"][-1]["k"]
    assert k["i"] == "1m" and k["T"] == k["t"] + 59_999
    assert sum(d["k"]["n"] for d in got["btcusdt@kline_1m"] if d["k"]["x"] or d is got["btcusdt@kline_1m"][-1]) >= 1
    k8 = got["btcusdt@kline_1m@+08:00"][-1]["k"]
    assert k8["t"] % 60_000 == 0 and k8["i"] == "1m"
    closed = [d["k"] for d in got["btcusdt@kline_1s"] if d["k"]["x"]]
    assert closed, "a 1s kline that ended is pushed once more with x = true"
    diffs = got["btcusdt@depth@100ms"]
    assert all(b["U"] == a["u"] + 1 for a, b in zip(diffs, diffs[1:], strict=False))

    # timeUnit=MICROSECOND: the same events with times in µs.
    mic: dict[str, list[Any]] = {}
    for f in micro.frames:
        mic.setdefault(f["stream"], []).append(f["data"])
    ms_trade, us_trade = got["btcusdt@trade"][0], mic["btcusdt@trade"][0]
    assert us_trade["t"] == ms_trade["t"] and us_trade["T"] == ms_trade["T"] * 1000
    assert us_trade["E"] == ms_trade["E"] * 1000
    assert mic["btcusdt@bookTicker"] == got["btcusdt@bookTicker"]
    us_k = mic["btcusdt@kline_1m"][-1]["k"]
    assert us_k["t"] % 60_000_000 == 0 and us_k["T"] == us_k["t"] + 59_999_999
    us_tick = mic["btcusdt@ticker"][-1]
    assert us_tick["C"] > 10**15 and us_tick["O"] > 10**15
    assert mic["btcusdt@avgPrice"][-1]["T"] == got["btcusdt@avgPrice"][-1]["T"] * 1000


async def test_time_unit_is_validated(server: MockServer, connect: Connect) -> None:
    anon = server.anonymous()
    r = await anon.raw("GET", "/ws/btcusdt@trade", "timeUnit=SECOND",
                       headers={"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert r.status == 400
    assert r.json()["code"] == -1194
    ws = await connect("/ws/btcusdt@trade?timeUnit=microsecond")
    await ws.close()
