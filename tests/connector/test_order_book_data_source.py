"""Markets table, pair names and venue configuration (no network)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.clock import Clock, ManualClock, WallClock
from connector.config import VenueConfig
from connector.order_book_data_source import MARKET_COLUMNS, markets_frame
from connector.trading_pairs import (
    TradingPairMap,
    convert_from_exchange_trading_pair,
    convert_to_exchange_trading_pair,
    split_trading_pair,
)

INFO = {
    "symbols": [
        {"symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT"},
        {"symbol": "ETHBTC", "status": "TRADING", "baseAsset": "ETH", "quoteAsset": "BTC"},
        {"symbol": "DOGEFDUSD", "status": "TRADING", "baseAsset": "DOGE", "quoteAsset": "FDUSD"},
        {"symbol": "XYZABC", "status": "TRADING", "baseAsset": "XYZ", "quoteAsset": "ABC"},
        {"symbol": "OLDUSDT", "status": "BREAK", "baseAsset": "OLD", "quoteAsset": "USDT"},
    ]
}
TICKERS = [
    {"symbol": "BTCUSDT", "lastPrice": "60000.00", "volume": "10.5", "quoteVolume": "630000.00"},
    {"symbol": "ETHBTC", "lastPrice": "0.05", "volume": "100", "quoteVolume": "5.0"},
    {"symbol": "DOGEFDUSD", "lastPrice": "0.1", "volume": "1000", "quoteVolume": "100"},
    {"symbol": "XYZABC", "lastPrice": "1", "volume": "1", "quoteVolume": "1"},
    {"symbol": "OLDUSDT", "lastPrice": "1", "volume": "1", "quoteVolume": "999999999"},
]


def test_markets_frame_rows_columns_and_usd_volume() -> None:
    frame = markets_frame(INFO, TICKERS)
    assert list(frame.columns) == MARKET_COLUMNS
    assert list(frame.index) == ["BTCUSDT", "ETHBTC", "DOGEFDUSD", "XYZABC"]  # by USD volume, unknown last
    assert frame.loc["BTCUSDT", "USDVolume"] == 630000.0  # USDT counts as 1 USD
    assert frame.loc["ETHBTC", "USDVolume"] == 300000.0  # 5 BTC at the BTCUSDT last price
    assert frame.loc["DOGEFDUSD", "USDVolume"] == 100.0  # FDUSD is a USD stablecoin
    assert frame["USDVolume"].isna().tolist() == [False, False, False, True]  # no ABCUSDT market: unknown
    assert frame.loc["BTCUSDT", "quoteVolume"] == Decimal("630000.00")
    assert frame.loc["ETHBTC", "trading_pair"] == "ETH-BTC" and frame.loc["ETHBTC", "lastPrice"] == Decimal("0.05")
    assert "OLDUSDT" not in frame.index


def test_markets_frame_without_ticker_for_a_symbol() -> None:
    frame = markets_frame(INFO, TICKERS[:1])
    assert frame.loc["ETHBTC", "volume"] is None and bool(frame["USDVolume"].isna()["ETHBTC"])


def test_trading_pair_names() -> None:
    assert convert_to_exchange_trading_pair("btc-usdt") == "BTCUSDT"
    assert split_trading_pair("ETH-BTC") == ("ETH", "BTC")
    with pytest.raises(ValueError):
        split_trading_pair("ETHBTC")
    assert convert_from_exchange_trading_pair("DOGEFDUSD") == "DOGE-FDUSD"  # longest known quote wins
    assert convert_from_exchange_trading_pair("BTCUSDT") == "BTC-USDT"
    assert convert_from_exchange_trading_pair("XYZABC") is None
    pairs = TradingPairMap.from_exchange_info(INFO)
    assert pairs.to_trading_pair("XYZABC") == "XYZ-ABC" and pairs.to_exchange("XYZ-ABC") == "XYZABC"
    assert convert_from_exchange_trading_pair("XYZABC", pairs) == "XYZ-ABC"
    assert "BTC-USDT" in pairs and "BTCUSDT" in pairs and len(pairs) == 5


def test_venue_configs() -> None:
    live = VenueConfig.live()
    assert (live.rest_url, live.stream_url, live.ws_api_url) == (
        "https://api.binance.com", "wss://stream.binance.com:9443", "wss://ws-api.binance.com:443/ws-api/v3")
    assert VenueConfig.testnet().rest_url == "https://testnet.binance.vision"
    assert VenueConfig.demo().stream_url == "wss://demo-stream.binance.com"
    local = VenueConfig.custom("http://127.0.0.1:8765/")
    assert (local.rest_url, local.stream_url, local.ws_api_url) == (
        "http://127.0.0.1:8765", "ws://127.0.0.1:8765", "ws://127.0.0.1:8765/ws-api/v3")
    assert VenueConfig.custom("https://x.test", "wss://s.test").ws_api_url == "wss://s.test/ws-api/v3"
    assert not local.has_credentials and isinstance(local.clock, WallClock)
    keyed = local.with_credentials("key", "secret")
    assert keyed.has_credentials and "secret" not in repr(keyed)
    assert (live.recv_window_ms, live.request_timeout_s) == (5000, 10)


def test_clocks() -> None:
    clock = ManualClock(1_000)
    assert isinstance(clock, Clock) and isinstance(WallClock(), Clock)
    clock.advance(500)
    assert (clock.now_ms(), clock.now()) == (1_500, 1.5)
    with pytest.raises(ValueError):
        clock.advance(-1)
    wall = WallClock()
    assert abs(wall.now() * 1000 - wall.now_ms()) < 1000 and wall.now_ms() > 1_600_000_000_000
    assert VenueConfig.custom("http://h", clock=clock).clock is clock
