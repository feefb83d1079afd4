"""Random order flow driven straight into a running server's engine (then ``state.publish()``),
plus a client that follows the venue's local-order-book procedure. Shared by the stream tests."""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from mock_exchange.engine import units
from mock_exchange.engine.types import BookDelta, EngineError, Event
from mock_exchange.server.state import ExchangeState
from mock_exchange.testing import MockServer

U = units.to_units
TICK = U("0.01")
MID = U("65000")


class RandomFlow:
    """Many accounts placing, cancelling and crossing on one symbol; publishes after every op."""

    def __init__(self, state: ExchangeState, symbol: str = "BTCUSDT", accounts: int = 12, seed: int = 7) -> None:
        self.state = state
        self.symbol = symbol
        self.rng = random.Random(seed)
        self.accounts = [f"flow{i}" for i in range(accounts)]
        for name in self.accounts:
            state.engine.create_account(name, {"BTC": U("1000"), "USDT": U("100000000")})
        self.open: dict[str, list[int]] = {a: [] for a in self.accounts}
        self.ops = 0

    def step(self) -> None:
        """One random engine operation; publishes after it most of the time (as a REST request
        does) and otherwise lets a few operations' events reach the listeners as one batch."""
        rng, eng = self.rng, self.state.engine
        acct = rng.choice(self.accounts)
        r = rng.random()
        try:
            if r < 0.30 and self.open[acct]:
                ids = self.open[acct]
                oid = ids.pop(rng.randrange(len(ids)))
                eng.cancel_order(acct, self.symbol, order_id=oid)
            elif r < 0.45:
                side = rng.choice(("BUY", "SELL"))
                qty = rng.randint(1, 3000) * U("0.00001")
                eng.place_order(acct, self.symbol, side, "MARKET", quantity=qty)
            else:
                side = rng.choice(("BUY", "SELL"))
                off = rng.randint(-40, 300)  # mostly passive, some crossing limits
                price = MID - off * TICK if side == "BUY" else MID + off * TICK
                qty = rng.randint(10, 5000) * U("0.00001")
                tif = "IOC" if rng.random() < 0.1 else "GTC"
                res = eng.place_order(acct, self.symbol, side, "LIMIT", quantity=qty, price=price,
                                      time_in_force=tif)
                if res.order.is_open:
                    self.open[acct].append(res.order.order_id)
        except EngineError:
            pass
        self.ops += 1
        if rng.random() < 0.7:
            self.state.publish()

    async def run(self, ops: int, per_yield: int = 20, pause_every: int = 400, pause_s: float = 0.02) -> None:
        """``ops`` operations, yielding to the loop often and pausing now and then so that
        several 100 ms windows (and their flushes) happen during the flow."""
        for i in range(ops):
            self.step()
            if i % per_yield == per_yield - 1:
                self.state.publish()
                await asyncio.sleep(pause_s if i % pause_every == pause_every - 1 else 0)
        self.state.publish()


@dataclass
class DeltaRecorder:
    """A second engine listener: every BookDelta of one symbol, and the book before them."""

    state: ExchangeState
    symbol: str
    start_id: int = 0
    start_bids: dict[int, int] = field(default_factory=dict)
    start_asks: dict[int, int] = field(default_factory=dict)
    deltas: list[BookDelta] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start_id, bids, asks = self.state.engine.depth(self.symbol, 1 << 30)
        self.start_bids, self.start_asks = dict(bids), dict(asks)
        self.state.listeners.append(self)

    def __call__(self, events: list[Event]) -> None:
        self.deltas.extend(e for e in events if isinstance(e, BookDelta) and e.symbol == self.symbol)

    def replay(self) -> Any:
        """Yield (update id, bids, asks) after each delta (the dicts are live: copy if kept)."""
        bids, asks = dict(self.start_bids), dict(self.start_asks)
        for d in self.deltas:
            for side, levels in ((bids, d.bids), (asks, d.asks)):
                for p, q in levels:
                    if q:
                        side[p] = q
                    else:
                        side.pop(p, None)
            yield d.last_update_id, bids, asks


def best(bids: dict[int, int], asks: dict[int, int]) -> tuple[int, int, int, int]:
    bp = max(bids) if bids else 0
    ap = min(asks) if asks else 0
    return bp, bids.get(bp, 0), ap, asks.get(ap, 0)


class Collector:
    """Reads every frame of one WebSocket into ``frames`` (parsed JSON) in the background."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[Any] = []
        self.arrived = asyncio.Event()
        self.closed: tuple[int | None, str] | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.frames.append(orjson.loads(msg.data))
                self.arrived.set()
        self.closed = (self.ws.close_code, "")
        self.arrived.set()

    async def wait_for(self, pred: Any, timeout: float = 5.0) -> Any:
        """The first frame (in arrival order) satisfying ``pred``."""
        deadline = asyncio.get_running_loop().time() + timeout
        seen = 0
        while True:
            for f in self.frames[seen:]:
                if pred(f):
                    return f
            seen = len(self.frames)
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0 or self.closed is not None:
                raise AssertionError(f"no matching frame within {timeout}s; got {self.frames[-5:]}")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)


class LocalBook:
    """A client's order book kept by the venue's documented procedure (web-socket-streams §9.4)."""

    def __init__(self) -> None:
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.last_id = 0
        self.synced = False
        self.applied = 0

    def load(self, snapshot: dict[str, Any]) -> None:
        self.bids = {p: q for p, q in snapshot["bids"]}
        self.asks = {p: q for p, q in snapshot["asks"]}
        self.last_id = snapshot["lastUpdateId"]
        self.synced = True

    def apply(self, ev: dict[str, Any]) -> None:
        assert self.synced
        if ev["u"] <= self.last_id:
            return
        assert ev["U"] <= self.last_id + 1, f"gap: local {self.last_id}, event U {ev['U']}"
        if self.applied:
            assert ev["U"] == self.last_id + 1, "consecutive diffs must satisfy U == previous u + 1"
        for side, levels in ((self.bids, ev["b"]), (self.asks, ev["a"])):
            for p, q in levels:
                if units.to_units(q) == 0:
                    side.pop(p, None)
                else:
                    side[p] = q
        self.last_id = ev["u"]
        self.applied += 1

    def as_units(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        bids = sorted(((U(p), U(q)) for p, q in self.bids.items()), reverse=True)
        asks = sorted((U(p), U(q)) for p, q in self.asks.items())
        return bids, asks


async def snapshot(srv: MockServer, symbol: str = "BTCUSDT", limit: int = 5000) -> dict[str, Any]:
    r = await srv.anonymous().public("GET", "/api/v3/depth", symbol=symbol, limit=limit)
    assert r.status == 200, r.body
    body: dict[str, Any] = r.json()
    return body
