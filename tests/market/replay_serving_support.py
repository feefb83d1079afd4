"""Shared bits for the replay-serving tests: hand-made recordings, a stream collector, a
client that keeps a book the way the venue documents, and a server on a manual clock."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from mock_exchange.clock import ManualClock
from mock_exchange.config import ServerConfig
from mock_exchange.market.capture import CaptureWriter
from mock_exchange.market.replay.serving import ReplayDriver
from mock_exchange.testing import MockServer

T0_MS = 1_723_000_000_000  # recording start (local receive time; venue times equal it here)
STREAMS = "btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker"
Rows = list[tuple[str, str]]


class Tape:
    """A hand-made BTCUSDT recording in the capture format (times in ms after ``T0_MS``)."""

    def __init__(self, path: Path, symbol: str = "BTCUSDT") -> None:
        self.path = path
        self.symbol = symbol
        self.writer = CaptureWriter(path, "test", [symbol], started_ns=T0_MS * 1_000_000)

    def snapshot(self, t: int, last_id: int, bids: Rows, asks: Rows) -> Tape:
        data = {"lastUpdateId": last_id, "bids": [list(r) for r in bids], "asks": [list(r) for r in asks]}
        self.writer.write_rest((T0_MS + t) * 1_000_000, f"/api/v3/depth?symbol={self.symbol}&limit=1000", data)
        return self

    def diff(self, t: int, first: int, last: int, bids: Rows | None = None, asks: Rows | None = None) -> Tape:
        data = {"e": "depthUpdate", "E": T0_MS + t, "s": self.symbol, "U": first, "u": last,
                "b": [list(r) for r in bids or []], "a": [list(r) for r in asks or []]}  # fmt: skip
        self.writer.write_ws((T0_MS + t) * 1_000_000, f"{self.symbol.lower()}@depth@100ms", data)
        return self

    def trade(self, t: int, trade_id: int, price: str, qty: str, buyer_maker: bool) -> Tape:
        data = {"e": "trade", "E": T0_MS + t, "s": self.symbol, "t": trade_id, "p": price, "q": qty,
                "T": T0_MS + t, "m": buyer_maker, "M": True}  # fmt: skip
        self.writer.write_ws((T0_MS + t) * 1_000_000, f"{self.symbol.lower()}@trade", data)
        return self

    def ticker(self, t: int, u: int, bid: tuple[str, str], ask: tuple[str, str]) -> Tape:
        data = {"u": u, "s": self.symbol, "b": bid[0], "B": bid[1], "a": ask[0], "A": ask[1]}
        self.writer.write_ws((T0_MS + t) * 1_000_000, f"{self.symbol.lower()}@bookTicker", data)
        return self

    def close(self) -> Path:
        self.writer.close()
        return self.path


class Collector:
    """Reads a combined market stream into ``frames`` (``(stream, data)``) in the background."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[tuple[str, dict[str, Any]]] = []
        self.closed = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                obj = orjson.loads(msg.data)
                if "stream" in obj:
                    self.frames.append((obj["stream"], obj["data"]))
        self.closed.set()

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [d for s, d in self.frames if s.endswith(kind)]

    async def wait_for(self, cond: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while not cond():
            assert asyncio.get_running_loop().time() < deadline, f"timed out; {len(self.frames)} frames"
            await asyncio.sleep(0.005)

    async def settle(self, quiet_s: float = 0.05) -> None:
        """Until no new frame arrived for ``quiet_s``."""
        n = -1
        while n != len(self.frames):
            n = len(self.frames)
            await asyncio.sleep(quiet_s)


class StreamBook:
    """A local book kept by the documented procedure: snapshot, then contiguous diffs."""

    def __init__(self, last_id: int, bids: list[list[str]], asks: list[list[str]]) -> None:
        self.last_id = last_id
        self.bids = {Decimal(p): Decimal(q) for p, q in bids}
        self.asks = {Decimal(p): Decimal(q) for p, q in asks}
        self.applied = 0

    def apply(self, diff: dict[str, Any]) -> None:
        if diff["u"] <= self.last_id:
            return
        assert diff["U"] <= self.last_id + 1, f"gap: book at {self.last_id}, diff {diff['U']}..{diff['u']}"
        for key, side in (("b", self.bids), ("a", self.asks)):
            for p, q in diff[key]:
                if Decimal(q) == 0:
                    side.pop(Decimal(p), None)
                else:
                    side[Decimal(p)] = Decimal(q)
        self.last_id = diff["u"]
        self.applied += 1

    def levels(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        return sorted(self.bids.items(), reverse=True), sorted(self.asks.items())


def rest_levels(depth: dict[str, Any]) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    return ([(Decimal(p), Decimal(q)) for p, q in depth["bids"]], [(Decimal(p), Decimal(q)) for p, q in depth["asks"]])


def assert_contiguous(diffs: list[dict[str, Any]]) -> None:
    for prev, cur in itertools.pairwise(diffs):
        assert cur["U"] == prev["u"] + 1, (prev["U"], prev["u"], cur["U"], cur["u"])


class Replay:
    """A mock server on a manual clock with a replay driver stepped by hand, and a stream reader."""

    def __init__(self, srv: MockServer, clock: ManualClock, driver: ReplayDriver, stream: Collector) -> None:
        self.srv = srv
        self.clock = clock
        self.driver = driver
        self.stream = stream

    async def to(self, t: int) -> None:
        """Move the clock to ``t`` ms after the start and play what is due; let frames arrive."""
        self.clock.now = self.driver.t0 + t
        self.driver.play_until(self.clock())
        await asyncio.sleep(0.02)

    async def depth(self, limit: int = 100) -> dict[str, Any]:
        r = await self.srv.anonymous().public("GET", "/api/v3/depth", symbol="BTCUSDT", limit=limit)
        assert r.status == 200, r.body
        body: dict[str, Any] = r.json()
        return body

    async def order(self, **params: Any) -> dict[str, Any]:
        r = await self.srv.client().signed("POST", "/api/v3/order", symbol="BTCUSDT", newOrderRespType="FULL",
                                           **params)  # fmt: skip
        assert r.status == 200, r.body
        body: dict[str, Any] = r.json()
        return body

    async def query(self, order_id: int) -> dict[str, Any]:
        r = await self.srv.client().signed("GET", "/api/v3/order", symbol="BTCUSDT", orderId=order_id)
        assert r.status == 200, r.body
        body: dict[str, Any] = r.json()
        return body


@asynccontextmanager
async def replaying(path: Path, **driver_kw: Any) -> AsyncIterator[Replay]:
    """A server (default market, manual clock) replaying ``path``, played up to its first record."""
    clock = ManualClock(1_760_000_000_000)
    async with MockServer(ServerConfig(), clock=clock) as srv, aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"ws://127.0.0.1:{srv.port}/stream?streams={STREAMS}")
        stream = Collector(ws)
        driver = ReplayDriver(srv.state, path, **driver_kw)
        driver.play_until(clock())
        await asyncio.sleep(0.02)
        try:
            yield Replay(srv, clock, driver, stream)
        finally:
            await ws.close()
            stream.task.cancel()
