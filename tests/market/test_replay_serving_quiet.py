"""A served replay in virtual time skips the work and the wake-ups for recorded bookTickers nobody
subscribes to; a client that subscribes mid-replay must not notice: it gets exactly the tickers
due from then on, each at its recorded time, showing the users' resting orders as if every
ticker had been played on time."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from mock_exchange.config import ServerConfig
from mock_exchange.market.replay.serving import ReplayDriver
from mock_exchange.testing import MockServer
from scenarios.vtime import VirtualClock, new_virtual_loop
from tests.market.replay_serving_support import Tape

pytestmark = pytest.mark.timeout(60)

START_MS = 1_767_225_600_000
BIDS = [("60000.00", "3.00000"), ("59999.00", "2.00000")]
ASKS = [("60001.00", "1.00000"), ("60002.00", "2.00000")]
TICKERS = range(10, 600, 10)  # a recorded bookTicker every 10 ms; its bid size tells which one


def bid_size(t: int) -> Decimal:
    return Decimal(3) + Decimal(t) / 1000


def recording(tmp_path: Path) -> Path:
    tape = Tape(tmp_path / "market.capture").snapshot(0, 1000, BIDS, ASKS)
    for t in TICKERS:
        tape.ticker(t, 1000, ("60000.00", f"{bid_size(t):.5f}"), ("60001.00", "1.00000"))
        if t in (250, 450):
            tape.trade(t, 7000 + t, "60001.00", "0.10000", False)
    return tape.close()


def play(path: Path, subscribe_at_ms: int) -> tuple[int, list[tuple[int, dict[str, Any]]]]:
    """Replay ``path`` in virtual time with a trade-stream client that rests a bid at the best
    bid (t = 123 ms) and subscribes to bookTicker at ``subscribe_at_ms``; returns the replay's
    start (server ms) and the bookTicker frames with the virtual time each arrived at."""
    loop = new_virtual_loop()
    clock = VirtualClock(loop, START_MS)
    got: list[tuple[int, dict[str, Any]]] = []

    async def main() -> int:
        srv = await MockServer(ServerConfig(), clock=clock).start()
        driver = ReplayDriver(srv.state, path, speed=1)
        driver.start()
        t0 = driver.t0
        runner = asyncio.create_task(driver.run())
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(f"ws://127.0.0.1:{srv.port}/stream?streams=btcusdt@trade")

            async def read() -> None:
                async for msg in ws:
                    frame = orjson.loads(msg.data)
                    if frame.get("stream") == "btcusdt@bookTicker":
                        got.append((clock(), frame["data"]))

            reader = asyncio.create_task(read())

            async def until(ms: int) -> None:
                await asyncio.sleep((t0 + ms - clock()) / 1000)

            for at in sorted((123, subscribe_at_ms)):
                await until(at)
                if at == 123:
                    r = await srv.client().signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY",
                                                  type="LIMIT", timeInForce="GTC", price="60000.00",
                                                  quantity="0.50000")  # fmt: skip
                    assert r.status == 200, r.body
                else:
                    await ws.send_str('{"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 1}')
            await until(700)
            await ws.close()
            reader.cancel()
        runner.cancel()
        await asyncio.gather(reader, runner, return_exceptions=True)
        await srv.stop()
        return t0

    try:
        t0 = loop.run_until_complete(main())
    finally:
        loop.close()
    return t0, got


@pytest.mark.parametrize("subscribe_at_ms", [305, 340, 1])
def test_a_late_bookticker_subscriber_gets_the_tickers_due_after_it_came_on_time(
    tmp_path: Path, subscribe_at_ms: int
) -> None:
    t0, got = play(recording(tmp_path), subscribe_at_ms)
    due = [t for t in TICKERS if t > subscribe_at_ms]
    if subscribe_at_ms < 123:
        due = sorted([*due, 123])  # the user's bid changed the top: a ticker of its own
    assert [at - t0 for at, _ in got] == due  # none from before the subscription, none late
    for t, (_, data) in zip(due, got, strict=True):
        shows_user = t >= 123  # the user's 0.5 rests at the best bid from 123 ms
        recorded = bid_size(t - t % 10)
        assert Decimal(data["B"]) == recorded + (Decimal("0.5") if shows_user else 0)
        assert data["u"] == 1000 + (1 if shows_user else 0)  # the resting order took one update id
