"""The readers on the real captures in ../shared/data (skipped when the data is absent)."""

from __future__ import annotations

from collections import Counter

from mock_exchange.market.readers import (
    SYNC_OK,
    SYNC_RESYNC,
    SYNC_STALE,
    CryptofeedReader,
    HftbacktestReader,
    open_reader,
    read_cryptofeed_exchange_info,
    sniff_format,
)
from tests.conftest import shared_file
from tests.market.readers_support import CF_DIR, LabelBook, btcusdt_files, cryptofeed_files

SNAPSHOT_ID = 50093239218


def test_first_btcusdt_file_counts_match_the_readme() -> None:
    first = btcusdt_files()[0]
    reader = HftbacktestReader(first)
    total = sum(1 for _ in reader)
    assert total == 41249  # every line of the file is one record
    assert reader.counts == {"book_ticker": 28040, "trade": 9757, "depth_diff": 3451, "depth_snapshot": 1}
    assert reader.errors == [] and not reader.damaged and not reader.skipped


def test_both_btcusdt_files_read_as_one_capture_without_gaps() -> None:
    reader = HftbacktestReader(btcusdt_files())
    records = list(reader)
    assert len(records) == 41249 + 58325
    assert reader.counts["depth_diff"] == 3451 + 3044
    assert reader.counts["trade"] == 9757 + 10147
    assert reader.gaps == [] and reader.errors == [] and reader.anchor_failures == []
    # receive times never go backwards, also across the file boundary
    stamps = [r.local_ns for r in records]
    assert all(a is not None and b is not None and a <= b for a, b in zip(stamps, stamps[1:], strict=False))
    # trade ids are contiguous across the whole capture
    ids = [r.payload["t"] for r in records if r.kind == "trade"]
    assert ids == list(range(ids[0], ids[0] + len(ids)))


def test_the_snapshot_is_found_and_anchors_the_depth_sequence() -> None:
    reader = HftbacktestReader(btcusdt_files())
    records = list(reader)
    snaps = [r for r in records if r.kind == "depth_snapshot"]
    assert len(snaps) == 1
    snap = snaps[0]
    assert snap.symbol == "BTCUSDT"  # the body has no symbol: taken from the stream
    assert snap.last_update_id == SNAPSHOT_ID and snap.source.endswith("btcusdt_20240808.gz:8")
    assert snap.sync == SYNC_OK and len(snap.payload["bids"]) == 1000
    # it arrived after the diff 208..224 that already passed it: that diff rides on it
    assert [(d.first_update_id, d.last_update_id) for d in snap.bridge] == [(50093239208, 50093239224)]
    assert [(a.symbol, a.last_update_id, a.bridged) for a in reader.anchors] == [("BTCUSDT", SNAPSHOT_ID, 1)]
    diffs = [r for r in records if r.kind == "depth_diff"]
    before = diffs[:3]
    assert all(d.sync == SYNC_RESYNC for d in before)  # book unknown before the snapshot
    assert all(d.sync == SYNC_OK for d in diffs[3:])
    assert diffs[3].first_update_id == 50093239225


def test_a_book_following_the_labels_agrees_with_every_matching_book_ticker() -> None:
    """Load the snapshot plus its bridge, apply ok diffs: top of book == bookTicker at the same id."""
    book = LabelBook()
    naive = LabelBook(use_bridge=False)
    tickers: dict[int, tuple[str, str, str, str]] = {}
    checked = wrong_without_bridge = 0
    for rec in HftbacktestReader(btcusdt_files()):
        if rec.kind == "book_ticker":
            p = rec.payload
            tickers[p["u"]] = (p["b"], p["B"], p["a"], p["A"])
            continue
        naive.feed(rec)
        if book.feed(rec) and rec.kind == "depth_diff":
            ticker = tickers.get(rec.payload["u"])
            if ticker is not None:
                assert book.top() == ticker, rec.source
                checked += 1
                wrong_without_bridge += naive.top() != ticker
    assert checked > 1000
    assert wrong_without_bridge > 0  # the bridge is what makes the late snapshot usable


def test_cryptofeed_ws_and_http_merge_into_one_timeline_with_four_anchored_books() -> None:
    reader = CryptofeedReader(cryptofeed_files())
    records = list(reader)
    assert reader.errors == [] and reader.gaps == [] and reader.anchor_failures == []
    stamps = [r.local_ns or 0 for r in records]
    assert stamps == sorted(stamps)
    snaps = {r.symbol: r for r in records if r.kind == "depth_snapshot"}
    assert set(snaps) == {"NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"}
    assert {a.symbol: a.last_update_id for a in reader.anchors} == {
        s: r.last_update_id for s, r in snaps.items()
    }
    assert reader.counts == {"depth_diff": 177, "book_ticker": 84, "depth_snapshot": 4, "agg_trade": 2, "kline": 2}
    # each book: diffs before its snapshot are unknown, the first later one joins it (U <= L+1 <= u)
    for symbol, snap in snaps.items():
        last = snap.last_update_id
        assert last is not None
        t0 = snap.local_ns or 0
        after = [r for r in records if r.symbol == symbol and r.kind == "depth_diff" and (r.local_ns or 0) > t0]
        live = [r for r in after if r.sync == SYNC_OK]
        assert live, symbol
        assert live[0].first_update_id is not None and live[0].first_update_id <= last + 1 <= live[0].payload["u"]
        assert all(r.sync == SYNC_OK for r in after if r.payload["u"] > last)
    # LRCBTC's diff 540..543 came after its snapshot 543 and is superseded by it
    lrc = [r for r in records if r.symbol == "LRCBTC" and r.kind == "depth_diff"]
    assert [(r.last_update_id, r.sync) for r in lrc[:3]] == [
        (259345539, SYNC_RESYNC), (259345543, SYNC_STALE), (259345545, SYNC_OK)
    ]
    # the snapshot sits between the ws frames it was received between
    nkn = snaps["NKNUSDT"]
    i = records.index(nkn)
    assert records[i - 1].source.endswith("BINANCE.ws.1.0:2") and records[i + 1].source.endswith("BINANCE.ws.1.0:3")
    assert nkn.local_ns == 1633998512320639000 and nkn.channel.endswith("symbol=NKNUSDT&limit=1000")
    assert [c[1].split("?")[0] for c in reader.connects] == ["wss://stream.binance.com:9443/stream"]


def test_cryptofeed_exchange_info_file() -> None:
    info, config = read_cryptofeed_exchange_info(shared_file(CF_DIR, "BINANCE.0"))
    assert info["rateLimits"][0]["limit"] == 1200
    assert any(s["symbol"] == "NKNUSDT" for s in info["symbols"])
    assert config is not None and config["l2_book"] == ["NKN-USDT", "BLZ-ETH", "LRC-BTC", "RUNE-EUR"]


def test_formats_are_recognised_from_the_files() -> None:
    assert sniff_format(btcusdt_files()[0]) == "hftbacktest"
    ws, http = cryptofeed_files()
    assert sniff_format(ws) == "cryptofeed" and sniff_format(http) == "cryptofeed"
    reader = open_reader([ws, http])
    assert isinstance(reader, CryptofeedReader)
    assert Counter(r.kind for r in reader)["depth_snapshot"] == 4
