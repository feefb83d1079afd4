"""Presets by name, and that each one produces the market it is named after."""

from __future__ import annotations

import math
import statistics
from dataclasses import replace

import pytest

from mock_exchange.market.synth import (
    PRESET_NAMES,
    PRESETS,
    FeedCounter,
    SynthMarket,
    get_preset,
    simulate_minutes,
)
from mock_exchange.market.synth.metrics import log_returns

pytestmark = pytest.mark.timeout(300)

SYMBOL = "BTCUSDT"


def _sample(m: SynthMarket, seconds: int, feed: FeedCounter | None = None) -> tuple[FeedCounter, list[int], list[float]]:
    """Run ``seconds`` of market; per second: spread and mid."""
    feed = feed or FeedCounter(m.engine, SYMBOL)
    spreads, mids = [], []
    for _ in range(seconds):
        m.run_for(1000)
        feed.feed(m.engine.drain_events())
        spreads.append(feed.spread())
        mids.append(feed.mid())
    return feed, spreads, mids


def test_the_five_presets_are_available_by_name() -> None:
    assert PRESET_NAMES == ("calm", "volatile", "trending", "flash_crash", "thin_book")
    for name in PRESET_NAMES:
        assert get_preset(name).name == name


def test_an_unknown_preset_is_refused_with_the_list_of_names() -> None:
    with pytest.raises(ValueError) as err:
        SynthMarket(None, "stormy")
    msg = str(err.value)
    assert "'stormy'" in msg
    assert all(name in msg for name in PRESET_NAMES)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_makes_a_live_two_sided_market(name: str) -> None:
    m = SynthMarket(None, name, seed=1)
    m.run_for(5_000)
    m.engine.drain_events()
    feed, spreads, _ = _sample(m, 20)
    assert min(spreads) > 0  # two-sided, never crossed
    assert feed.trades > 20 * 3
    assert feed.book_tickers > feed.trades
    st = m.stats()[SYMBOL]
    assert st["rejects"] < 0.01 * st["orders"]


def test_thin_book_is_wider_and_shallower_than_calm() -> None:
    out = {}
    for name in ("calm", "thin_book"):
        m = SynthMarket(None, name, seed=2)
        m.run_for(10_000)
        m.engine.drain_events()
        feed, spreads, _ = _sample(m, 30)
        out[name] = (statistics.median(spreads), sum(feed.depth_within(10)), feed.trades)
    assert out["thin_book"][0] >= 5 * out["calm"][0]
    assert out["thin_book"][1] < 0.1 * out["calm"][1]
    assert out["thin_book"][2] < 0.5 * out["calm"][2]


def test_volatile_moves_more_than_calm_and_trending_drifts() -> None:
    hours = 100

    def returns(name: str) -> list[float]:
        logs = simulate_minutes(PRESETS[name].fair, hours * 60, seed=5)
        return log_returns([math.exp(x) for x in logs])

    calm, volatile, trending = returns("calm"), returns("volatile"), returns("trending")
    assert statistics.pstdev(volatile) > 2 * statistics.pstdev(calm)
    drift_bps_per_hour = sum(trending) / hours * 1e4
    assert 100 < drift_bps_per_hour < 200  # configured 150
    assert abs(sum(calm) / hours * 1e4) < 30


def test_flash_crash_falls_fast_thins_the_book_and_partly_recovers() -> None:
    base = PRESETS["flash_crash"]
    assert base.crash is not None
    crash = replace(base.crash, at_s=30.0, fall_s=30.0, recover_s=120.0)
    m = SynthMarket(None, replace(base, crash=crash), seed=3)
    m.run_for(25_000)
    m.engine.drain_events()
    feed, spreads, mids = _sample(m, 5)
    before_mid, before_depth = mids[-1], sum(feed.depth_within(25))
    _, spreads_fall, mids_fall = _sample(m, 30, feed)  # 30 s .. 60 s: the fall
    low = min(mids_fall)
    assert low < before_mid * (1 - 0.9 * crash.drop)
    assert sum(feed.depth_within(25)) < 0.5 * before_depth  # liquidity pulled
    assert max(spreads_fall) > 20 * max(spreads)
    _sample(m, 150, feed)  # the recovery
    end = feed.mid()
    regained = (end - low) / (before_mid - low)
    assert 0.4 < regained < 1.0  # configured 0.7, plus the walk
