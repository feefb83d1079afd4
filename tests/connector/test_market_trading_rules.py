"""Trading rules from exchangeInfo: the 2021 capture (MIN_NOTIONAL, BREAK symbols) and the current
filter set (NOTIONAL), quantization, and the local checks that mirror the venue's messages."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from connector.trading_rules import (
    INFINITY,
    TradingRule,
    load_exchange_info,
    parse_capture_line,
    trading_rules_from_exchange_info,
)
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def rules_2021() -> dict[str, TradingRule]:
    info = load_exchange_info(shared_file("binance-spot-2021-10-12", "BINANCE.0"))
    return trading_rules_from_exchange_info(info)


def test_2021_capture_loads_every_symbol(rules_2021: dict[str, TradingRule]) -> None:
    info = load_exchange_info(shared_file("binance-spot-2021-10-12", "BINANCE.0"))
    assert len(rules_2021) == len(info["symbols"]) > 1000
    statuses = {r.status for r in rules_2021.values()}
    assert {"TRADING", "BREAK"} <= statuses


def test_2021_ethbtc_values(rules_2021: dict[str, TradingRule]) -> None:
    rule = rules_2021["ETH-BTC"]
    assert rule.symbol == "ETHBTC" and (rule.base_asset, rule.quote_asset) == ("ETH", "BTC")
    assert rule.min_price_increment == Decimal("0.000001")
    assert rule.min_base_amount_increment == Decimal("0.0001")
    assert rule.min_order_size == Decimal("0.0001") and rule.max_order_size == Decimal("100000")
    assert rule.min_notional_size == Decimal("0.0001") and rule.notional_filter == "MIN_NOTIONAL"
    assert rule.min_notional_applies_to_market
    assert rule.market_max_order_size == Decimal("873.90727776")
    assert rule.market_base_amount_increment == 0  # "0.00000000": disabled
    assert rule.max_notional_size == INFINITY
    assert rule.supports("LIMIT_MAKER") and not rule.supports("STOP_LOSS")
    assert rule.check_order("STOP_LOSS", Decimal("1"), None) == (
        -2010, "Stop loss orders are not supported for this symbol.")


def test_quantize_and_local_checks_current_filters() -> None:
    info = {"symbols": [{
        "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "quoteAsset": "USDT",
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET"],
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0", "maxQty": "100", "stepSize": "0"},
            {"filterType": "NOTIONAL", "minNotional": "5", "applyMinToMarket": True, "maxNotional": "9000000",
             "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "SOMETHING_NEW", "x": 1},
        ]}]}
    rule = trading_rules_from_exchange_info(info)["BTC-USDT"]
    assert rule.quantize_price(Decimal("65000.129")) == Decimal("65000.12")
    assert rule.quantize_price_up(Decimal("65000.121")) == Decimal("65000.13")
    assert rule.quantize_amount(Decimal("0.123456")) == Decimal("0.12345")
    assert rule.check_order("LIMIT", Decimal("0.001"), Decimal("65000")) is None
    assert rule.check_order("LIMIT", Decimal("0.00001"), Decimal("65000")) == (-1013, "Filter failure: NOTIONAL")
    assert rule.check_order("LIMIT", Decimal("200"), Decimal("65000")) == (-1013, "Filter failure: NOTIONAL")
    assert rule.check_order("LIMIT", Decimal("0.000001"), Decimal("65000")) == (-1013, "Filter failure: LOT_SIZE")
    assert rule.check_order("LIMIT", Decimal("0.001"), Decimal("2000000")) == (-1013, "Filter failure: PRICE_FILTER")
    assert rule.check_order("LIMIT", Decimal("0.001"), Decimal("65000.001")) == (
        -1013, "Filter failure: PRICE_FILTER")
    assert rule.check_order("MARKET", Decimal("101"), None) == (-1013, "Filter failure: MARKET_LOT_SIZE")
    assert rule.check_order("MARKET", Decimal("1"), None) is None


def test_only_requested_pairs_and_plain_json_files(tmp_path: Path) -> None:
    info = load_exchange_info(shared_file("binance-spot-2021-10-12", "BINANCE.0"))
    picked = trading_rules_from_exchange_info(info, ["ETH-BTC", "LTCBTC"])
    assert set(picked) == {"ETH-BTC", "LTC-BTC"}
    path = tmp_path / "info.json"
    path.write_text(json.dumps({"symbols": info["symbols"][:2]}))
    assert len(trading_rules_from_exchange_info(load_exchange_info(path))) == 2


def test_capture_line_format() -> None:
    assert parse_capture_line('https://x/api/v3/exchangeInfo -> 1633998511.13: {"symbols": []}') == {"symbols": []}
    with pytest.raises(ValueError):
        parse_capture_line("no arrow here")


def test_unreadable_symbol_is_skipped_not_fatal() -> None:
    info = {"symbols": [{"symbol": "BAD"}, {"symbol": "AB", "baseAsset": "A", "quoteAsset": "B", "filters": []}]}
    assert set(trading_rules_from_exchange_info(info)) == {"A-B"}
