"""tardis.dev CSVs (documented layouts) written as small realistic samples."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from mock_exchange.market.readers import (
    SYNC_OK,
    SYNC_RESYNC,
    ReplayFormatError,
    TardisCsvReader,
    open_reader,
    sniff_format,
)

L2 = (
    "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
    # the day's initial snapshot (tardis writes it unordered, zero amounts possible)
    "binance,BTCUSDT,1723161600000000,1723161600001000,true,ask,61686.00,2.44807\n"
    "binance,BTCUSDT,1723161600000000,1723161600001000,true,bid,61685.99,1.25869\n"
    "binance,BTCUSDT,1723161600000000,1723161600001000,true,bid,61685.50,0.5\n"
    "binance,BTCUSDT,1723161600000000,1723161600001000,true,ask,61687.10,0\n"
    "binance,BTCUSDT,1723161600000000,1723161600001000,true,ask,61686.40,0.1\n"
    "binance,BTCUSDT,1723161600000000,1723161600001000,true,bid,61690.00,0\n"
    # one depth@100ms message: three rows with one local_timestamp
    "binance,BTCUSDT,1723161601273000,1723161601274512,false,bid,61685.99,1.3\n"
    "binance,BTCUSDT,1723161601273000,1723161601274512,false,ask,61686.00,0\n"
    "binance,BTCUSDT,1723161601273000,1723161601274512,false,ask,61686.20,0.7\n"
    # the next message
    "binance,BTCUSDT,1723161601374000,1723161601375100,false,bid,61685.50,0\n"
    # a reconnect: tardis writes a fresh snapshot
    "binance,BTCUSDT,1723161700000000,1723161700002000,true,bid,61700.00,1\n"
    "binance,BTCUSDT,1723161700000000,1723161700002000,true,ask,61700.01,2\n"
    "binance,BTCUSDT,1723161700100000,1723161700101000,false,ask,61700.01,1.5\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_incremental_book_rows_become_a_snapshot_then_grouped_diffs(tmp_path: Path) -> None:
    path = write(tmp_path, "binance_incremental_book_L2_2024-08-09_BTCUSDT.csv.gz", L2)
    reader = TardisCsvReader(path)
    records = list(reader)
    assert reader.kind == "incremental_book_L2"
    assert [r.kind for r in records] == ["depth_snapshot", "depth_diff", "depth_diff", "depth_snapshot", "depth_diff"]
    snap, d1, d2, snap2, d3 = records
    assert snap.payload == {
        "lastUpdateId": 1,
        "bids": [["61685.99000000", "1.25869000"], ["61685.50000000", "0.50000000"]],
        "asks": [["61686.00000000", "2.44807000"], ["61686.40000000", "0.10000000"]],
    }
    assert (snap.local_ns, snap.venue_ms, snap.source) == (1723161600001000000, 1723161600000, f"{path}:2")
    assert d1.payload == {
        "e": "depthUpdate", "E": 1723161601273, "s": "BTCUSDT", "U": 2, "u": 2,
        "b": [["61685.99000000", "1.30000000"]],
        "a": [["61686.00000000", "0.00000000"], ["61686.20000000", "0.70000000"]],
    }
    assert d1.local_ns == 1723161601274512000 and d1.source == f"{path}:8"
    assert (d2.first_update_id, snap2.last_update_id, d3.first_update_id) == (3, 4, 5)
    # update ids are made up, and say so; the sequence anchors on every snapshot
    assert all(r.synthetic_ids for r in records)
    assert [r.sync for r in records] == [SYNC_OK] * 5
    assert reader.gaps == [] and [a.last_update_id for a in reader.anchors] == [1, 4]


def test_updates_before_the_first_snapshot_need_resync(tmp_path: Path) -> None:
    header, *rows = L2.splitlines()
    text = "\n".join([header, rows[9], *rows[:7]]) + "\n"  # a diff row ahead of the snapshot
    records = list(TardisCsvReader(write(tmp_path, "l2.csv", text)))
    assert [(r.kind, r.sync) for r in records] == [
        ("depth_diff", SYNC_RESYNC), ("depth_snapshot", SYNC_OK), ("depth_diff", SYNC_OK)
    ]


def test_trades_map_the_aggressor_side_to_buyer_is_maker(tmp_path: Path) -> None:
    text = (
        "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"
        "binance,BTCUSDT,1723161255342000,1723161254087896,3735683259,sell,61837.63,0.02\n"
        "binance,BTCUSDT,1723161255351000,1723161254096001,3735683260,buy,61837.64,0.001\n"
        "bitmex,XBTUSD,1585699202957000,1585699203957000,aaa-bbb,unknown,6425.5,12\n"
    )
    reader = TardisCsvReader(write(tmp_path, "trades.csv", text))
    sell, buy, other = list(reader)
    assert sell.payload == {
        "e": "trade", "E": 1723161255342, "s": "BTCUSDT", "t": 3735683259, "p": "61837.63000000",
        "q": "0.02000000", "T": 1723161255342, "m": True, "M": True,
    }
    assert sell.local_ns == 1723161254087896000 and buy.payload["m"] is False
    assert other.payload["t"] == "aaa-bbb" and reader.unknown_sides == 1


def test_book_snapshot_25_rows_become_partial_depth(tmp_path: Path) -> None:
    cols = ["exchange", "symbol", "timestamp", "local_timestamp"]
    for i in range(25):
        cols += [f"asks[{i}].price", f"asks[{i}].amount", f"bids[{i}].price", f"bids[{i}].amount"]
    values = ["binance", "BTCUSDT", "1723161600100000", "1723161600101500"]
    for i in range(25):
        if i < 3:  # a thin book: only three levels, the rest empty
            values += [f"{61686 + i}.00", "0.5", f"{61685 - i}.99", "1.25"]
        else:
            values += ["", "", "", ""]
    path = write(tmp_path, "book_snapshot_25.csv", ",".join(cols) + "\n" + ",".join(values) + "\n")
    assert sniff_format(path) == "tardis"
    [rec] = TardisCsvReader(path)
    assert rec.kind == "partial_depth" and rec.channel == "btcusdt@depth25" and rec.synthetic_ids
    assert rec.payload["lastUpdateId"] == 1
    assert rec.payload["bids"] == [["61685.99000000", "1.25000000"], ["61684.99000000", "1.25000000"],
                                   ["61683.99000000", "1.25000000"]]
    assert rec.payload["asks"][0] == ["61686.00000000", "0.50000000"] and len(rec.payload["asks"]) == 3


def test_quotes_become_book_tickers(tmp_path: Path) -> None:
    text = (
        "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount\n"
        "binance,BTCUSDT,1723161255208000,1723161254087891,1.54698,61837.64,61837.63,3.78826\n"
        "binance,BTCUSDT,1723161255210000,1723161254116723,1.6052,61837.64,61837.63,3.78826\n"
    )
    first, second = open_reader(write(tmp_path, "quotes.csv.gz", text))
    assert first.kind == "book_ticker" and first.payload == {
        "u": 1, "s": "BTCUSDT", "b": "61837.63000000", "B": "3.78826000", "a": "61837.64000000", "A": "1.54698000"
    }
    assert second.payload["u"] == 2 and second.payload["A"] == "1.60520000" and second.synthetic_ids


def test_bad_tardis_input_is_reported_with_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(ReplayFormatError, match="not a known tardis.dev CSV header"):
        list(TardisCsvReader(write(tmp_path, "x.csv", "a,b,c\n1,2,3\n")))
    header, *rows = L2.splitlines()
    rows[3] = rows[3].replace(",true,", ",yes,")
    path = write(tmp_path, "l2.csv", "\n".join([header, *rows]) + "\n")
    reader = TardisCsvReader(path, strict=False)
    assert len(list(reader)) == 5
    assert [(e.line, e.reason) for e in reader.errors] == [(5, "is_snapshot 'yes' is not true/false")]
