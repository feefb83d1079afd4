"""The synthesized market's cheap paths publish what the plain ones did: the agents' muted
execution reports, simpy's ``advance_to`` and the callback-driven wall-clock driver."""

from __future__ import annotations

import asyncio

import pytest
import simpy

from mock_exchange.config import ServerConfig
from mock_exchange.engine.types import BalanceChange, BookDelta, Event, OrderUpdate, TradeEvent
from mock_exchange.market.synth import SynthMarket, WallClockDriver
from mock_exchange.market.synth.market import SimEnvironment
from mock_exchange.testing import MockServer

pytestmark = pytest.mark.timeout(120)


def _public(events: list[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, BookDelta | TradeEvent)]


def _run(agent_reports: bool, seconds: int = 20) -> list[Event]:
    m = SynthMarket(None, "calm", 5, symbols=["BTCUSDT", "ETHUSDT"], agent_reports=agent_reports)
    events: list[Event] = []
    for _ in range(seconds):
        m.run_for(1000)
        events.extend(m.engine.drain_events())
    return events


def test_muted_agent_reports_leave_the_public_stream_unchanged() -> None:
    muted, loud = _run(False), _run(True)
    assert not [e for e in muted if isinstance(e, OrderUpdate | BalanceChange)]
    assert sum(isinstance(e, OrderUpdate) for e in loud) > 1000
    assert len(_public(muted)) > 2000
    assert _public(muted) == _public(loud)


def test_stats_still_count_the_agents_orders_and_cancels() -> None:
    m = SynthMarket(None, "calm", 1)
    m.run_for(5_000)
    st = m.stats()["BTCUSDT"]
    assert st["orders"] > 500 and st["cancels"] > 300


def _trace(env: simpy.Environment, log: list[tuple[float, str]]) -> None:
    def at(name: str, delay: float) -> None:
        env.timeout(delay).callbacks.append(lambda ev: log.append((env.now, name)))

    at("a", 1.0)
    at("b", 2.5)
    at("edge", 3.0)  # exactly at the step's end: runs in the next step, as with run(until=...)
    at("c", 4.0)


@pytest.mark.parametrize("until", [3.0, 3.5, 10.0])
def test_advance_to_matches_run_until(until: float) -> None:
    plain, lean = simpy.Environment(), SimEnvironment()
    got_plain: list[tuple[float, str]] = []
    got_lean: list[tuple[float, str]] = []
    _trace(plain, got_plain)
    _trace(lean, got_lean)
    plain.run(until=until)
    lean.advance_to(until)
    assert got_lean == got_plain
    assert lean.now == plain.now == until
    plain.run(until=until + 5)
    lean.advance_to(until + 5)
    assert got_lean == got_plain
    lean.advance_to(until)  # backwards: nothing happens
    assert lean.now == until + 5


async def test_the_driver_ticks_until_cancelled_and_rebuilds_after_a_reset() -> None:
    async with MockServer(ServerConfig()) as srv:
        state = srv.state
        events: list[Event] = []
        state.listeners.append(events.extend)
        driver = WallClockDriver(state, "calm", seed=3, symbols=["BTCUSDT"], tick_ms=5)
        task = asyncio.create_task(driver.run())
        for _ in range(200):
            await asyncio.sleep(0.02)
            if sum(isinstance(e, TradeEvent) for e in events) > 5:
                break
        assert sum(isinstance(e, TradeEvent) for e in events) > 5
        first = driver.market
        state.reset()
        for _ in range(200):
            await asyncio.sleep(0.02)
            if driver.market is not first:
                break
        assert driver.market is not first and driver.market is not None
        assert driver.market.engine is state.engine
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        market = driver.market
        stopped_at = market.now_ms
        await asyncio.sleep(0.1)
        assert market.now_ms == stopped_at  # no tick after the cancel


async def test_a_failing_tick_stops_the_driver_with_its_error() -> None:
    async with MockServer(ServerConfig()) as srv:
        driver = WallClockDriver(srv.state, "calm", seed=3, symbols=["BTCUSDT"])
        task = asyncio.create_task(driver.run())
        await asyncio.sleep(0.05)
        assert driver.market is not None

        def broken(_t_ms: int) -> None:
            raise RuntimeError("agent bug")

        driver.market.run_until = broken  # type: ignore[method-assign,assignment]
        with pytest.raises(RuntimeError, match="agent bug"):
            await asyncio.wait_for(task, 5)
