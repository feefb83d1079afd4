"""DepthSequenceChecker on hand-made sequences: gaps, joins, bridges, failures, several symbols."""

from __future__ import annotations

from mock_exchange.market.readers import (
    SYNC_OK,
    SYNC_RESYNC,
    SYNC_STALE,
    DepthSequenceChecker,
    ReplayRecord,
    SequenceGap,
)


def diff(first: int, last: int, symbol: str = "BTCUSDT", line: int = 0) -> ReplayRecord:
    payload = {"e": "depthUpdate", "E": 1, "s": symbol, "U": first, "u": last, "b": [], "a": []}
    return ReplayRecord(None, 1, symbol, "depth_diff", payload, first, last, f"f:{line}")


def snap(last: int, symbol: str = "BTCUSDT", line: int = 0) -> ReplayRecord:
    return ReplayRecord(None, None, symbol, "depth_snapshot", {"lastUpdateId": last, "bids": [], "asks": []},
                        last, last, f"f:{line}")


def run(checker: DepthSequenceChecker, records: list[ReplayRecord]) -> list[str]:
    return [checker.check(r).sync for r in records]


def test_contiguous_diffs_after_a_snapshot_are_ok_and_nothing_is_reported() -> None:
    c = DepthSequenceChecker()
    assert run(c, [snap(10), diff(11, 12), diff(13, 13), diff(14, 20)]) == [SYNC_OK] * 4
    assert c.gaps == [] and c.state("BTCUSDT") == "synced"


def test_diffs_before_any_snapshot_need_resync() -> None:
    c = DepthSequenceChecker()
    assert run(c, [diff(1, 2), diff(3, 4)]) == [SYNC_RESYNC, SYNC_RESYNC]
    assert c.gaps == [] and c.state("BTCUSDT") == "resync"


def test_a_gap_is_reported_and_marks_diffs_until_the_next_snapshot() -> None:
    seen: list[SequenceGap] = []
    c = DepthSequenceChecker(on_gap=seen.append)
    records = [snap(10), diff(11, 12), diff(15, 16, line=7), diff(17, 18), snap(20), diff(19, 21), diff(22, 22)]
    assert run(c, records) == [SYNC_OK, SYNC_OK, SYNC_RESYNC, SYNC_RESYNC, SYNC_OK, SYNC_OK, SYNC_OK]
    assert c.gaps == seen == [SequenceGap("BTCUSDT", 13, 15, "f:7")]
    assert [(a.last_update_id, a.bridged) for a in c.anchors] == [(10, 0), (20, 0)]


def test_diffs_covered_by_a_newer_snapshot_are_stale_and_the_straddling_one_joins() -> None:
    c = DepthSequenceChecker()
    assert run(c, [snap(10), diff(5, 8), diff(9, 10), diff(11, 14)]) == [SYNC_OK, SYNC_STALE, SYNC_STALE, SYNC_OK]
    assert c.gaps == []


def test_a_snapshot_newer_than_the_next_diff_start_reports_a_gap() -> None:
    c = DepthSequenceChecker()
    assert run(c, [snap(10), diff(13, 14, line=3)]) == [SYNC_OK, SYNC_RESYNC]
    assert c.gaps == [SequenceGap("BTCUSDT", 11, 13, "f:3")]


def test_a_late_snapshot_is_bridged_by_the_diffs_already_seen() -> None:
    c = DepthSequenceChecker()
    out = [c.check(r) for r in [diff(1, 5), diff(6, 9), diff(10, 12), snap(7), diff(13, 14)]]
    assert [r.sync for r in out] == [SYNC_RESYNC, SYNC_RESYNC, SYNC_RESYNC, SYNC_OK, SYNC_OK]
    assert [(d.first_update_id, d.last_update_id) for d in out[3].bridge] == [(6, 9), (10, 12)]
    assert c.anchors[0].bridged == 2


def test_a_snapshot_older_than_the_bridge_window_cannot_anchor() -> None:
    c = DepthSequenceChecker(bridge_window=2)
    out = [c.check(r) for r in [diff(1, 1), diff(2, 2), diff(3, 3), diff(4, 4), snap(1, line=9), diff(5, 5)]]
    assert out[4].sync == SYNC_RESYNC and out[5].sync == SYNC_RESYNC
    [failure] = c.failures
    assert (failure.symbol, failure.last_update_id, failure.source) == ("BTCUSDT", 1, "f:9")
    assert "bridge_window=2" in failure.reason and "oldest kept U=3" in failure.reason


def test_an_old_snapshot_while_in_sync_is_marked_stale_not_loaded() -> None:
    c = DepthSequenceChecker(bridge_window=1)
    out = [c.check(r) for r in [snap(0), diff(1, 1), diff(2, 2), diff(3, 3), snap(1), diff(4, 4)]]
    assert [r.sync for r in out] == [SYNC_OK] * 4 + [SYNC_STALE, SYNC_OK]
    assert c.failures == [] and c.gaps == []


def test_overlapping_updates_are_reported_too() -> None:
    c = DepthSequenceChecker()
    run(c, [snap(10), diff(11, 15), diff(14, 16, line=4)])
    [gap] = c.gaps
    assert (gap.expected, gap.got) == (16, 14) and "overlapping" in str(gap)


def test_symbols_are_checked_independently() -> None:
    c = DepthSequenceChecker()
    records = [snap(10, "AAA"), diff(1, 1, "BBB"), diff(11, 11, "AAA"), diff(5, 5, "BBB"), diff(12, 12, "AAA")]
    assert run(c, records) == [SYNC_OK, SYNC_RESYNC, SYNC_OK, SYNC_RESYNC, SYNC_OK]
    assert [(g.symbol, g.expected, g.got) for g in c.gaps] == [("BBB", 2, 5)]
    assert c.state("AAA") == "synced" and c.state("BBB") == "resync" and c.state("CCC") == "unseen"


def test_other_kinds_pass_through_untouched() -> None:
    c = DepthSequenceChecker()
    trade = ReplayRecord(1, 1, "BTCUSDT", "trade", {"t": 1}, source="f:1")
    assert c.check(trade) is trade
