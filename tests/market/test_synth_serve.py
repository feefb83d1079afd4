"""The synthesized market inside a running server, on the wall clock (``mockex serve --synth``)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request

import pytest

from mock_exchange.config import ServerConfig
from mock_exchange.engine import TradeEvent
from mock_exchange.engine.types import Event
from mock_exchange.market.synth import WallClockDriver
from mock_exchange.testing import MockServer
from tests.serve_process import start_serve, stop_serve

pytestmark = pytest.mark.timeout(120)


async def _wait_for(cond: object, timeout: float = 5.0) -> None:
    assert callable(cond)
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_agents_trade_on_the_wall_clock_and_the_user_trades_with_them() -> None:
    async with MockServer(ServerConfig()) as srv:
        state = srv.state
        events: list[Event] = []
        state.listeners.append(events.extend)
        driver = WallClockDriver(state, "calm", seed=1)
        task = asyncio.create_task(driver.run())
        try:
            await _wait_for(lambda: sum(isinstance(e, TradeEvent) for e in events) > 20)
            trades = [e for e in events if isinstance(e, TradeEvent)]
            now = state.clock()
            assert all(now - 3_000 < t.time <= now for t in trades)  # wall-clock times
            assert {t.symbol for t in trades} >= {"BTCUSDT"}
            market = driver.market
            assert market is not None and set(market.venues) == set(state.engine.symbols)

            # Only agents rest on the books: the static seeded book was replaced.
            for acct in state.engine.accounts:
                if not acct.startswith("synth-"):
                    assert state.engine.open_orders(acct) == [], acct

            anon = srv.anonymous()
            resp = await anon.public("GET", "/api/v3/trades", symbol="BTCUSDT", limit=5)
            assert resp.status == 200 and len(resp.json()) == 5

            client = srv.client()
            resp = await client.signed("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET",
                                       quantity="0.5", newOrderRespType="FULL")  # fmt: skip
            assert resp.status == 200, resp.body
            order = resp.json()
            assert order["status"] == "FILLED" and order["fills"]
            # The market notices flow that is not its own at its next tick.
            await _wait_for(lambda: market.stats()["BTCUSDT"]["external_flow"] > 0)
            spent = float(order["cummulativeQuoteQty"])
            assert market.stats()["BTCUSDT"]["external_flow"] == pytest.approx(spent, rel=1e-6)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_a_control_plane_reset_rebuilds_the_market_on_the_new_engine() -> None:
    async with MockServer(ServerConfig()) as srv:
        state = srv.state
        driver = WallClockDriver(state, "thin_book", seed=2, symbols=["BTCUSDT"])
        task = asyncio.create_task(driver.run())
        try:
            await _wait_for(lambda: driver.market is not None and driver.market.stats()["BTCUSDT"]["orders"] > 50)
            first = driver.market
            resp = await srv.anonymous().raw("POST", "/_mock/reset")
            assert resp.status == 200
            await _wait_for(lambda: driver.market is not first)
            assert driver.market is not None and driver.market.engine is state.engine
            await _wait_for(lambda: state.engine.best_bid_ask("BTCUSDT")[0] > 0)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


def test_an_unknown_preset_is_refused_before_serving() -> None:
    with pytest.raises(ValueError, match="calm, volatile, trending, flash_crash, thin_book"):
        WallClockDriver(MockServer(ServerConfig()).state, "windy")
    proc = subprocess.run([sys.executable, "-m", "mock_exchange.cli", "serve", "--port", "0", "--synth", "windy"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2
    assert "unknown synth preset 'windy'" in proc.stderr
    assert "calm, volatile, trending, flash_crash, thin_book" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_mockex_serve_synth_runs_a_live_market() -> None:
    proc, info = start_serve("--synth", "calm", "--seed", "4")
    try:
        url = info.get("url", "")
        assert url and "synthesized, preset calm, seed 4" in info.get("market", "")
        time.sleep(1.5)
        with urllib.request.urlopen(f"{url}/api/v3/trades?symbol=BTCUSDT&limit=1000") as resp:
            trades = json.load(resp)
        assert len(trades) > 10
        assert trades[-1]["time"] > time.time() * 1000 - 5_000
        with urllib.request.urlopen(f"{url}/api/v3/depth?symbol=BTCUSDT&limit=5") as resp:
            depth = json.load(resp)
        spread = float(depth["asks"][0][0]) - float(depth["bids"][0][0])
        assert 0 < spread < 20.0  # two-sided and not crossed
    finally:
        out, err = stop_serve(proc)
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err
