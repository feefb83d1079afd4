"""BookSync: the documented local-book procedure (buffer, snapshot, drop, apply; resync on a gap,
a reconnect or a stale snapshot), fed by hand-made messages."""

from __future__ import annotations

from decimal import Decimal

from connector.order_book_message import OrderBookMessage
from connector.order_book_tracker import MAX_BUFFERED_DIFFS, BookSync, SyncState

PAIR = "BTC-USDT"


def diff(first: int, last: int, bids: list[list[str]] | None = None, conn: int = 1) -> OrderBookMessage:
    data = {"e": "depthUpdate", "E": 1000 + last, "s": "BTCUSDT", "U": first, "u": last,
            "b": bids if bids is not None else [[f"{100 + last}", "1"]], "a": []}
    return OrderBookMessage.diff(data, PAIR, conn)


def snapshot(last: int, bids: list[list[str]] | None = None) -> OrderBookMessage:
    return OrderBookMessage.snapshot({"lastUpdateId": last, "bids": bids or [["1", "1"]], "asks": [["1000", "1"]]},
                                     PAIR, 0.0)


def test_buffer_then_snapshot_drops_old_and_applies_spanning_diff() -> None:
    sync = BookSync(PAIR)
    for first, last in ((1, 3), (4, 6), (7, 9)):
        sync.on_diff(diff(first, last))
    assert sync.state is SyncState.BUFFERING and sync.needs_snapshot and len(sync.buffer) == 3
    assert sync.on_snapshot(snapshot(5))
    # (1,3) is in the snapshot; (4,6) spans 5 and applies; (7,9) follows.
    assert sync.synced and sync.last_update_id == 9 and not sync.needs_snapshot
    assert (sync.stats.diffs_dropped, sync.stats.diffs_applied, sync.stats.resyncs) == (1, 2, 0)
    assert sync.order_book.best_bid == Decimal(109)
    sync.on_diff(diff(10, 10))
    sync.on_diff(diff(8, 9))  # already contained
    assert sync.last_update_id == 10 and sync.stats.diffs_dropped == 2


def test_stale_snapshot_is_refetched() -> None:
    sync = BookSync(PAIR)
    sync.on_diff(diff(10, 12))
    assert not sync.on_snapshot(snapshot(8))  # 9 was never seen
    assert sync.needs_snapshot and sync.stats.stale_snapshots == 1 and sync.stats.resyncs == 1
    assert sync.on_snapshot(snapshot(9))  # lastUpdateId + 1 == first U: nothing missing
    assert sync.synced and sync.last_update_id == 12


def test_gap_discards_book_and_resnapshots() -> None:
    sync = BookSync(PAIR)
    sync.on_diff(diff(1, 2))
    sync.on_snapshot(snapshot(2))
    epoch = sync.epoch
    sync.on_diff(diff(3, 4))
    sync.on_diff(diff(6, 7))  # 5 is missing
    assert sync.state is SyncState.BUFFERING and sync.needs_snapshot and sync.epoch == epoch + 1
    assert sync.stats.gaps == 1 and sync.stats.resyncs == 1 and [m.update_id for m in sync.buffer] == [7]
    sync.on_diff(diff(8, 8))
    assert sync.on_snapshot(snapshot(7, [["50", "2"]]))
    assert sync.synced and sync.last_update_id == 8
    assert sync.order_book.levels(True) == {Decimal(50): Decimal(2), Decimal(108): Decimal(1)}


def test_gap_inside_the_buffer_keeps_the_rest_buffered() -> None:
    sync = BookSync(PAIR)
    for first, last in ((1, 2), (3, 4), (7, 8), (9, 9)):
        sync.on_diff(diff(first, last))
    assert not sync.on_snapshot(snapshot(2))
    assert sync.stats.gaps == 1 and [m.update_id for m in sync.buffer] == [8, 9]
    assert sync.on_snapshot(snapshot(8))
    assert sync.last_update_id == 9


def test_new_connection_forces_resync_and_old_connection_diffs_are_ignored() -> None:
    sync = BookSync(PAIR)
    sync.on_diff(diff(1, 2, conn=1))
    sync.on_snapshot(snapshot(2))
    sync.on_diff(diff(3, 3, conn=2))  # contiguous, but from a new connection
    assert sync.needs_snapshot and sync.stats.reconnects == 1 and sync.stats.resyncs == 1
    sync.on_diff(diff(4, 4, conn=1))  # late frame of the old connection
    assert [m.update_id for m in sync.buffer] == [3]
    sync.on_connection(3)  # told directly about a further reconnect
    assert sync.stats.reconnects == 2 and sync.buffer == [] and sync.connection_id == 3
    sync.on_connection(3)
    assert sync.stats.reconnects == 2


def test_first_connection_is_not_a_reconnect() -> None:
    sync = BookSync(PAIR)
    sync.on_connection(1)
    sync.on_diff(diff(1, 1, conn=1))
    assert sync.stats.reconnects == 0 and sync.stats.resyncs == 0


def test_refresh_snapshot_only_moves_forward() -> None:
    sync = BookSync(PAIR)
    sync.on_diff(diff(1, 5))
    sync.on_snapshot(snapshot(5))
    assert sync.on_snapshot(snapshot(3, [["7", "7"]]))  # older: ignored
    assert sync.order_book.best_bid == Decimal(1) and sync.last_update_id == 5
    sync.on_snapshot(snapshot(9, [["7", "7"]]))
    assert sync.order_book.best_bid == Decimal(7) and sync.last_update_id == 9 and sync.stats.snapshots_applied == 2
    sync.on_diff(diff(6, 9))  # contained in the refresh
    sync.on_diff(diff(9, 10, [["8", "1"]]))
    assert sync.order_book.best_bid == Decimal(8) and sync.stats.gaps == 0


def test_buffer_is_bounded() -> None:
    sync = BookSync(PAIR)
    for i in range(MAX_BUFFERED_DIFFS + 10):
        sync.on_diff(diff(i + 1, i + 1, []))
    assert len(sync.buffer) <= MAX_BUFFERED_DIFFS and sync.buffer[-1].update_id == MAX_BUFFERED_DIFFS + 10
