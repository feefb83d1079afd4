"""Binance public-data CSVs (data.binance.vision layouts) written as small realistic samples."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from mock_exchange.market.readers import BinanceCsvReader, ReplayFormatError, open_reader, sniff_format

# spot trades, no header (files before 2025): id, price, qty, quoteQty, time, isBuyerMaker, isBestMatch
SPOT_TRADES = (
    "3735683259,61837.63000000,0.02000000,1236.75260000,1723161255342,True,True\n"
    "3735683260,61837.64000000,0.00100000,61.83764000,1723161255351,False,True\n"
)
# 2025+ spot files: same columns, µs timestamps
SPOT_TRADES_US = "4420012345,94321.01000000,0.00500000,471.60505000,1735776000123456,True,True\n"
# futures-style with header (also what newer downloads carry)
HEADER_TRADES = "id,price,qty,quote_qty,time,is_buyer_maker\n28457,4.00000100,12.00000000,48.00,1499865549590,true\n"
AGG_TRADES = (
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
    "26129,0.01633102,4.70443515,27781,27781,1498793709153,true\n"
)
SPOT_AGG_NO_HEADER = "3090211023,61837.63000000,0.02100000,3735683259,3735683261,1723161255342,True,True\n"
KLINES = (
    "1723161240000,61811.99000000,61840.00000000,61800.00000000,61837.63000000,12.34567000,"
    "1723161299999,763210.12345678,1234,6.00000000,370987.65432100,0\n"
)
KLINES_HEADER_US = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,"
    "taker_buy_quote_volume,ignore\n"
    "1735689600000000,93576.00,93610.93,93537.50,93610.93,8.21827,1735693199999999,769054.27,1862,4.65,435240.36,0\n"
)
BOOK_TICKER = (
    "update_id,best_bid_price,best_bid_qty,best_ask_price,best_ask_qty,transaction_time,event_time\n"
    "3475233281853,27077.3,19.35,27077.4,8.6,1684237787209,1684237787214\n"
    "3475233282001,27077.3,19.34,27077.4,8.6,1684237787218,1684237787222\n"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_spot_trades_without_header_become_venue_trade_payloads(tmp_path: Path) -> None:
    reader = BinanceCsvReader(write(tmp_path, "BTCUSDT-trades-2024-08-08.csv", SPOT_TRADES))
    first, second = list(reader)
    assert first.payload == {  # the frame the venue sent for this trade (see the shared capture)
        "e": "trade", "E": 1723161255342, "s": "BTCUSDT", "t": 3735683259, "p": "61837.63000000",
        "q": "0.02000000", "T": 1723161255342, "m": True, "M": True,
    }
    assert (first.kind, first.symbol, first.venue_ms, first.local_ns) == ("trade", "BTCUSDT", 1723161255342, None)
    assert first.channel == "btcusdt@trade" and first.source.endswith(".csv:1")
    assert second.payload["m"] is False and not reader.has_header


def test_microsecond_timestamps_of_2025_files_are_detected(tmp_path: Path) -> None:
    [rec] = BinanceCsvReader(write(tmp_path, "BTCUSDT-trades-2025-01-02.csv", SPOT_TRADES_US))
    assert rec.venue_ms == 1735776000123 and rec.payload["T"] == 1735776000123


def test_header_rows_are_recognised_and_missing_optional_columns_defaulted(tmp_path: Path) -> None:
    reader = BinanceCsvReader(write(tmp_path, "ETHUSDT-trades-2017-07.csv", HEADER_TRADES))
    [rec] = reader
    assert reader.has_header and rec.source.endswith(":2")
    assert rec.payload["p"] == "4.00000100" and rec.payload["M"] is True and rec.symbol == "ETHUSDT"


def test_agg_trades_with_and_without_header(tmp_path: Path) -> None:
    [a] = BinanceCsvReader(write(tmp_path, "LTCBTC-aggTrades-2017-06-30.csv", AGG_TRADES))
    assert a.kind == "agg_trade" and a.payload == {
        "e": "aggTrade", "E": 1498793709153, "s": "LTCBTC", "a": 26129, "p": "0.01633102", "q": "4.70443515",
        "f": 27781, "l": 27781, "T": 1498793709153, "m": True, "M": True,
    }
    [b] = BinanceCsvReader(write(tmp_path, "BTCUSDT-aggTrades-2024-08-08.csv", SPOT_AGG_NO_HEADER))
    assert (b.payload["f"], b.payload["l"], b.channel) == (3735683259, 3735683261, "btcusdt@aggTrade")


def test_klines_become_closed_kline_events(tmp_path: Path) -> None:
    [k] = BinanceCsvReader(write(tmp_path, "BTCUSDT-1m-2024-08-08.csv", KLINES))
    assert k.kind == "kline" and k.venue_ms == 1723161299999 and k.channel == "btcusdt@kline_1m"
    body = k.payload["k"]
    assert (body["t"], body["T"], body["i"], body["x"], body["n"]) == (1723161240000, 1723161299999, "1m", True, 1234)
    assert (body["o"], body["c"], body["v"], body["Q"]) == ("61811.99000000", "61837.63000000", "12.34567000", "370987.65432100")


def test_kline_interval_from_the_times_when_the_name_does_not_say(tmp_path: Path) -> None:
    path = write(tmp_path, "candles.csv", KLINES_HEADER_US)
    [k] = BinanceCsvReader(path, kind="klines", symbol="btcusdt")
    assert k.payload["k"]["i"] == "1h" and k.payload["k"]["t"] == 1735689600000 and k.symbol == "BTCUSDT"
    assert k.payload["k"]["o"] == "93576.00000000"


def test_book_ticker_rows_keep_their_update_ids(tmp_path: Path) -> None:
    first, second = BinanceCsvReader(write(tmp_path, "BTCUSDT-bookTicker-2023-05-16.csv", BOOK_TICKER))
    assert first.kind == "book_ticker" and first.payload == {
        "u": 3475233281853, "s": "BTCUSDT", "b": "27077.30000000", "B": "19.35000000", "a": "27077.40000000",
        "A": "8.60000000",
    }
    assert (first.first_update_id, first.last_update_id, first.venue_ms) == (3475233281853, 3475233281853, 1684237787209)
    assert second.payload["B"] == "19.34000000"


def test_the_published_zip_and_gzip_files_are_read_directly(tmp_path: Path) -> None:
    archive = tmp_path / "BTCUSDT-trades-2024-08-08.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("BTCUSDT-trades-2024-08-08.csv", SPOT_TRADES)
    assert [r.payload["t"] for r in BinanceCsvReader(archive)] == [3735683259, 3735683260]
    gz = tmp_path / "BTCUSDT-trades-2024-08-08.csv.gz"
    gz.write_bytes(gzip.compress(SPOT_TRADES.encode()))
    assert len(list(open_reader(gz))) == 2
    assert sniff_format(archive) == "binance_csv"


def test_bad_rows_name_file_line_and_column(tmp_path: Path) -> None:
    text = SPOT_TRADES + "3735683261,61837.64000000,0.001,61.8,1723161255360,maybe,True\n" + "3735683262,1.0\n"
    path = write(tmp_path, "BTCUSDT-trades-2024-08-08.csv", text)
    with pytest.raises(ReplayFormatError) as info:
        list(BinanceCsvReader(path))
    assert (info.value.path, info.value.line) == (str(path), 3)
    assert info.value.reason == "is_buyer_maker 'maybe' is not true/false"
    reader = BinanceCsvReader(path, strict=False)
    assert len(list(reader)) == 2
    assert [(e.line, e.reason) for e in reader.errors] == [
        (3, "is_buyer_maker 'maybe' is not true/false"),
        (4, "trades row has 2 columns, expected 7"),
    ]


def test_more_than_eight_decimals_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "BTCUSDT-trades-2024-08-08.csv", "1,0.123456789,1,1,1723161255342,True,True\n")
    with pytest.raises(ReplayFormatError, match="price '0.123456789' has more than 8 decimals"):
        list(BinanceCsvReader(path))


def test_unknown_names_need_kind_and_symbol(tmp_path: Path) -> None:
    path = write(tmp_path, "data.csv", SPOT_TRADES)
    with pytest.raises(ReplayFormatError, match="cannot tell the file kind"):
        BinanceCsvReader(path)
    with pytest.raises(ReplayFormatError, match="aggTrades header has no 'first_trade_id' column"):
        list(BinanceCsvReader(write(tmp_path, "X-aggTrades-2024.csv", "agg_trade_id,price,quantity\n1,2,3\n")))
