"""Issue 5 acceptance: the naive quoter on the shared BTCUSDT capture (~650 s), by latency and queue model.

The data is read and parsed once for the module; each run replays it from memory (~1 s).
"""

from __future__ import annotations

import pytest

from mock_exchange.market.replay import MarketFeed, NaiveQuoter, ReplayExchange, ReplayRunner
from mock_exchange.market.replay.acceptance import StudyRow, format_table, load_feed, quoter_study
from tests.market.readers_support import btcusdt_files


@pytest.fixture(scope="module")
def feed() -> MarketFeed:
    return load_feed(btcusdt_files())


@pytest.fixture(scope="module")
def study(feed: MarketFeed) -> dict[tuple[float, str], StudyRow]:
    return {(r.latency_ms, r.model): r for r in quoter_study(feed)}


def test_clock_offset_of_the_recorder_is_estimated(feed: MarketFeed) -> None:
    # the README: the recorder's clock ran ~1.27 s behind Binance's event times
    assert feed.report.offset_ns is not None
    assert -1.30e9 < feed.report.offset_ns < -1.25e9
    # after correction the typical feed latency is a few ms, never negative
    assert all(0 < e.median_latency_ns < 20_000_000 for e in feed.report.estimates)
    assert feed.report.events["depth_snapshot"] == 1 and feed.report.events["trade"] == 19904


def test_ignoring_queue_position_inflates_fills_several_fold(study: dict[tuple[float, str], StudyRow]) -> None:
    for latency in (2.0, 20.0, 200.0):
        touch = study[(latency, "none")]
        for model in ("risk_averse", "prob"):
            queued = study[(latency, model)]
            assert queued.fills > 0
            assert touch.fills > 2 * queued.fills, (latency, model, touch.fills, queued.fills)
            assert touch.filled_qty > 2 * queued.filled_qty
        # cancels ahead only help: the probabilistic queue fills at least as often as the risk-averse one
        assert study[(latency, "prob")].fills >= study[(latency, "risk_averse")].fills


def test_more_latency_means_fewer_fills(study: dict[tuple[float, str], StudyRow]) -> None:
    for model in ("risk_averse", "prob", "none"):
        fills = [study[(latency, model)].fills for latency in (2.0, 20.0, 200.0)]
        assert fills[0] > fills[1] > fills[2], (model, fills)
        # stale quotes: more LIMIT_MAKER orders arrive after the touch moved through them
        assert study[(200.0, model)].rejected > study[(2.0, model)].rejected


def test_the_table_names_every_run(study: dict[tuple[float, str], StudyRow]) -> None:
    text = format_table(list(study.values()))
    assert "| 2 ms |" in text and "| 200 ms |" in text and "no queue (touch)" in text
    assert "touch fills / risk-averse queue" in text


def test_same_seed_same_fills_on_the_real_data(feed: MarketFeed) -> None:
    def fills(seed: int) -> list[object]:
        ex = ReplayExchange("prob", maker_rate=-5_000, taker_rate=75_000)
        ReplayRunner(feed, ex, NaiveQuoter("BTCUSDT"), seed, entry_latency="lognormal:median=10,sigma=0.8").run()
        return list(ex.fills)

    first = fills(11)
    assert len(first) > 100
    assert fills(11) == first
    assert fills(12) != first
