"""Calibration of the synthesized market against a liquid pair (issue 5 §2).

One synthesized hour of BTCUSDT (preset ``calm``, seed 1, in-process, virtual time, after a
one-minute warm-up) is measured the way a subscriber would see it: bookTicker, trade and
depth@100ms frame rates, the spread and depth profile, and the stylized facts of 1-minute
mid returns. An hour holds only 60 one-minute returns, so a single hour's kurtosis and
autocorrelations carry large sampling error (the lag-1 autocorrelation's standard error is
about 0.13); the latent process is therefore also checked over 200 hours, and the lag-1
autocorrelation of the book's returns is measured on 3,600 one-second mid returns, where one
hour is enough to tell (see ``metrics`` for the numbers behind that choice).
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from mock_exchange.market.synth import PRESETS, FeedCounter, SynthMarket, simulate_minutes, stylized_facts
from mock_exchange.market.synth.metrics import ACF1_STEP_S, acf1, log_returns

pytestmark = pytest.mark.timeout(600)

SYMBOL = "BTCUSDT"
TICK = 1_000_000  # 0.01 USDT in units
BANDS_BPS = (1.0, 2.0, 5.0, 10.0, 25.0)


@dataclass
class Hour:
    seconds: int
    feed: FeedCounter
    cpu_s: float
    wall_s: float
    spreads: list[int] = field(default_factory=list)  # every second
    second_mids: list[float] = field(default_factory=list)  # every second, from the start
    second_fairs: list[float] = field(default_factory=list)
    minute_mids: list[float] = field(default_factory=list)
    minute_fairs: list[float] = field(default_factory=list)
    depth: list[list[tuple[int, int]]] = field(default_factory=list)  # per minute, per band: (bid, ask)


@pytest.fixture(scope="module")
def hour() -> Iterator[Hour]:
    old = gc.get_threshold()
    gc.set_threshold(50_000, 20, 100)  # as ``mockex serve`` runs
    try:
        market = SynthMarket(None, "calm", seed=1)
        engine = market.engine
        market.run_for(60_000)
        engine.drain_events()
        feed = FeedCounter(engine, SYMBOL)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        h = Hour(3600, feed, 0.0, 0.0)
        for s in range(h.seconds + 1):
            if s % ACF1_STEP_S == 0:
                h.second_mids.append(feed.mid())
                h.second_fairs.append(market.fair_price(SYMBOL))
            if s % 60 == 0:
                h.minute_mids.append(feed.mid())
                h.minute_fairs.append(market.fair_price(SYMBOL))
                h.depth.append([feed.depth_within(b) for b in BANDS_BPS])
            if s == h.seconds:
                break
            market.run_for(1000)
            feed.feed(engine.drain_events())
            h.spreads.append(feed.spread())
        h.cpu_s = time.process_time() - cpu0
        h.wall_s = time.perf_counter() - wall0
        print(f"\nsynthesized hour: {h.cpu_s:.1f} s CPU, {h.wall_s:.1f} s wall")
        yield h
    finally:
        gc.set_threshold(*old)


def test_an_hour_synthesizes_in_well_under_a_minute_of_cpu(hour: Hour) -> None:
    assert hour.cpu_s < 60, hour.cpu_s


def test_frame_rates_are_those_of_a_liquid_pair(hour: Hour) -> None:
    f, n = hour.feed, hour.seconds
    book_tickers, trades, depth = f.book_tickers / n, f.trades / n, f.depth_frames / n
    print(f"\nper second: bookTicker {book_tickers:.1f}, trades {trades:.1f}, depth@100ms {depth:.2f}")
    assert 110 * 0.6 <= book_tickers <= 110 * 1.4
    assert 30 * 0.6 <= trades <= 30 * 1.4
    assert 10 * 0.6 <= depth <= 10


def test_spread_is_a_few_ticks_and_the_book_never_empties(hour: Hour) -> None:
    spreads = sorted(hour.spreads)
    assert spreads[0] > 0  # both sides present, never crossed, every second
    median = statistics.median(spreads) / TICK
    p90 = spreads[int(0.9 * len(spreads))] / TICK
    print(f"\nspread ticks: median {median}, p90 {p90}, max {spreads[-1] / TICK}")
    assert median <= 3
    assert p90 <= 10


def test_depth_grows_away_from_the_touch_on_both_sides(hour: Hour) -> None:
    for side in (0, 1):
        med = [statistics.median(m[i][side] for m in hour.depth) / 1e8 for i in range(len(BANDS_BPS))]
        print(f"\n{'bid' if side == 0 else 'ask'} depth BTC within {BANDS_BPS} bps: {[round(x, 2) for x in med]}")
        assert all(a < b for a, b in zip(med, med[1:], strict=False)), med
        assert med[0] > 0.2  # a real touch: some BTC within 1 bp (6.5 USDT)
        assert 5 <= med[3] <= 100  # within 10 bps, the order of BTCUSDT's book
        assert med[0] < 0.5 * med[3]  # most of it is not at the touch


def test_one_minute_returns_are_heavy_tailed(hour: Hour) -> None:
    facts = stylized_facts(hour.minute_mids)
    print(f"\n1-minute mid returns: {facts}")
    assert facts["n"] == 60
    assert facts["excess_kurtosis"] > 1


def test_volatility_clusters(hour: Hour) -> None:
    assert stylized_facts(hour.minute_mids)["abs_acf_1_5"] > 0


def test_returns_are_not_autocorrelated(hour: Hour) -> None:
    """|rho1| < 0.1 on 3,600 one-second mid returns (ABIDES' reference day: 0.27)."""
    rho1 = acf1(hour.second_mids)
    print(f"\nlag-1 autocorrelation of {ACF1_STEP_S}-second mid returns: {rho1:+.3f}")
    assert len(hour.second_mids) == 3601
    assert abs(rho1) < 0.1


def test_the_book_adds_no_autocorrelation_at_longer_horizons(hour: Hour) -> None:
    """At 5 and 10 seconds one hour's rho1 is mostly sampling noise of the latent price itself
    (heavy tails); what the book must not do is add to it: the mid's figure is the latent's."""
    for every in (5, 10):
        mid, fair = acf1(hour.second_mids, every), acf1(hour.second_fairs, every)
        print(f"\nrho1 of {every}-second returns: mid {mid:+.3f}, latent {fair:+.3f}")
        assert abs(mid - fair) < 0.05


def test_the_mid_follows_the_latent_price_within_a_second(hour: Hour) -> None:
    """No stale quotes hold the touch back: a one-second move of the latent price is in the mid
    within that second, not spread over the following ones (which would make rho1 positive).
    What is left of the next second's share is the agents' reaction time (tens of ms)."""
    rm, rf = log_returns(hour.second_mids), log_returns(hour.second_fairs)
    same = statistics.correlation(rm, rf)
    late = statistics.correlation(rm[1:], rf[:-1])
    print(f"\ncorr(mid, latent) same second {same:.2f}, mid one second later {late:.2f}")
    assert same > 0.8
    assert abs(late) < 0.2  # 0.25 when ladder quotes stayed stale until their next refresh


def test_the_traded_mid_follows_the_latent_price(hour: Hour) -> None:
    """The book transmits the latent process: its 1-minute returns are the latent ones."""
    rm, rf = log_returns(hour.minute_mids), log_returns(hour.minute_fairs)
    assert statistics.correlation(rm, rf) > 0.95
    gaps = [abs(m / f - 1) * 1e4 for m, f in zip(hour.minute_mids, hour.minute_fairs, strict=False)]
    assert statistics.median(gaps) < 1.0  # bps


def test_latent_process_has_the_stylized_facts_over_many_hours() -> None:
    logs = simulate_minutes(PRESETS["calm"].fair, 200 * 60, seed=11)
    facts = stylized_facts([math.exp(x) for x in logs])
    print(f"\n200 latent hours: {facts}")
    assert facts["excess_kurtosis"] > 3
    assert facts["abs_acf_1_5"] > 0.05
    assert abs(facts["acf1"]) < 0.05
    assert 4 < facts["std_bps"] < 12  # BTC-like 1-minute volatility
