"""The virtual-time loop: sleeps cost no wall time, sockets still work, and the mock's
market-data latency holds frames back exactly that long on the virtual clock."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from mock_exchange.config import ServerConfig
from mock_exchange.testing import MockServer
from scenarios.vtime import VirtualClock, new_virtual_loop


def run(coro_fn, start_ms: int = 1_767_225_600_000):  # type: ignore[no-untyped-def]
    loop = new_virtual_loop()
    clock = VirtualClock(loop, start_ms)
    try:
        return loop.run_until_complete(coro_fn(loop, clock)), loop
    finally:
        loop.close()


def test_an_hour_of_sleeping_costs_no_wall_time_and_the_clock_follows() -> None:
    async def main(loop, clock):  # type: ignore[no-untyped-def]
        before = clock()
        await asyncio.sleep(3600)
        return clock() - before

    t0 = time.perf_counter()
    elapsed, loop = run(main)
    assert elapsed == 3_600_000
    assert time.perf_counter() - t0 < 5
    assert loop.jumps >= 1


def test_timers_fire_in_order_across_jumps() -> None:
    async def main(loop, clock):  # type: ignore[no-untyped-def]
        seen: list[tuple[str, int]] = []

        async def after(name: str, s: float) -> None:
            await asyncio.sleep(s)
            seen.append((name, clock()))

        await asyncio.gather(after("c", 3), after("a", 1), after("b", 2.5))
        return seen

    seen, _ = run(main)
    assert seen == [("a", 1_767_225_601_000), ("b", 1_767_225_602_500), ("c", 1_767_225_603_000)]


def test_socket_traffic_is_not_overtaken_and_market_data_latency_is_exact() -> None:
    async def main(loop, clock):  # type: ignore[no-untyped-def]
        server = await MockServer(ServerConfig(market_data_latency_ms=300), clock=clock).start()
        try:
            async with aiohttp.ClientSession() as session, \
                    session.ws_connect(server.base_url.replace("http", "ws") + "/ws/btcusdt@trade") as ws:
                await asyncio.sleep(1)
                client = server.client()
                sent = clock()
                reply = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                            quantity="0.01")
                assert reply.status == 200
                replied = clock()
                msg = await ws.receive_json(timeout=10)
                return sent, replied, clock(), msg
        finally:
            await server.stop()

    (sent, replied, received, msg), _ = run(main)
    assert msg["e"] == "trade" and msg["T"] == sent
    assert replied == sent  # REST has no added latency: the reply takes no virtual time
    assert received - sent == 300


def test_order_entry_latency_processes_the_order_later_and_reply_latency_only_delays_the_answer() -> None:
    async def main(loop, clock):  # type: ignore[no-untyped-def]
        server = await MockServer(ServerConfig(), clock=clock).start()
        try:
            client = server.client()
            out = {}
            for stage in ("entry", "reply"):
                server.state.faults.add({"type": "delay", "stage": stage, "ms": 250, "method": "POST",
                                         "path": "/api/v3/order", "count": 1})
                sent = clock()
                reply = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                            quantity="0.01")
                out[stage] = (reply.json()["transactTime"] - sent, clock() - sent)
            return out
        finally:
            await server.stop()

    out, _ = run(main)
    assert out["entry"] == (250, 250)  # processed (and timestamped) 250 ms after it was sent
    assert out["reply"] == (0, 250)  # processed at once, answered 250 ms later
