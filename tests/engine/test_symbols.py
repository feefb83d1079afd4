"""Symbol loading: the 2021 exchangeInfo capture, today's exchangeInfo shape, our config format."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from mock_exchange.engine import units
from mock_exchange.engine.symbol_loader import (
    CANONICAL_KEYS,
    ConfigError,
    LoadedSymbolSpec,
    filters_to_json,
    load_exchange_info,
    load_exchange_info_file,
    load_rate_limits,
    load_symbols,
    load_symbols_config,
    read_exchange_info_file,
    symbol_permission_match,
    symbol_to_json,
)
from mock_exchange.engine.symbols import LotSize, MinNotional, Notional, PercentPrice, PriceFilter, SymbolSpec

U = units.to_units
REPO = Path(__file__).resolve().parents[2]
CAPTURE = REPO.parent / "shared" / "data" / "binance-spot-2021-10-12" / "BINANCE.0"


@pytest.fixture(scope="module")
def capture() -> Path:
    if not CAPTURE.exists():
        pytest.skip(f"captured data not available: {CAPTURE} (the repo's sibling ../shared/data)")
    return CAPTURE


@pytest.fixture(scope="module")
def capture_json(capture: Path) -> dict[str, Any]:
    return read_exchange_info_file(capture)


@pytest.fixture(scope="module")
def capture_specs(capture: Path) -> dict[str, SymbolSpec]:
    return {s.symbol: s for s in load_exchange_info_file(capture)}


# A current (2025-style) exchangeInfo symbol object with today's flags and filter set.
MODERN_BTCUSDT: dict[str, Any] = {
    "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
    "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
    "quoteCommissionPrecision": 8,
    "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT",
                   "TAKE_PROFIT_LIMIT"],
    "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "opoAllowed": True,
    "quoteOrderQtyMarketAllowed": True, "allowTrailingStop": True, "cancelReplaceAllowed": True,
    "amendAllowed": True, "pegInstructionsAllowed": True, "isSpotTradingAllowed": True,
    "isMarginTradingAllowed": True,
    "filters": [
        {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000",
         "tickSize": "0.01000000"},
        {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
        {"filterType": "ICEBERG_PARTS", "limit": 50},
        {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000", "maxQty": "99.21318300",
         "stepSize": "0.00000000"},
        {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": 10, "maxTrailingAboveDelta": 2000,
         "minTrailingBelowDelta": 10, "maxTrailingBelowDelta": 2000},
        {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
         "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
        {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
         "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5},
        {"filterType": "MAX_NUM_ORDER_LISTS", "maxNumOrderLists": 20},
    ],
    "permissions": [], "permissionSets": [["SPOT", "MARGIN", "TRD_GRP_004"]],
    "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
    "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT"],
}  # fmt: skip


# ----------------------------------------------------------------------------- 2021 capture
def test_capture_loads_every_symbol_with_2021_rate_limits(capture_json: dict[str, Any], capture_specs: dict[str, SymbolSpec]) -> None:
    assert len(capture_specs) > 1000
    assert len(capture_specs) == len(capture_json["symbols"])
    limits = load_rate_limits(capture_json)
    weight = next(r for r in limits if r["rateLimitType"] == "REQUEST_WEIGHT")
    assert (weight["interval"], weight["intervalNum"], weight["limit"]) == ("MINUTE", 1, 1200)
    assert {r["rateLimitType"] for r in limits} == {"REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"}


def test_capture_has_break_symbols(capture_specs: dict[str, SymbolSpec]) -> None:
    statuses = {s.status for s in capture_specs.values()}
    assert statuses == {"TRADING", "BREAK"}
    assert sum(s.status == "BREAK" for s in capture_specs.values()) > 100


def test_capture_ethbtc_filters_parsed_exactly(capture_specs: dict[str, SymbolSpec]) -> None:
    s = capture_specs["ETHBTC"]
    assert (s.base_asset, s.quote_asset, s.status) == ("ETH", "BTC", "TRADING")
    assert s.price_filter == PriceFilter(min_price=100, max_price=U("922327"), tick_size=100)
    assert s.percent_price == PercentPrice(multiplier_up=U("5"), multiplier_down=U("0.2"), avg_price_mins=5)
    assert s.lot_size == LotSize(min_qty=U("0.0001"), max_qty=U("100000"), step_size=U("0.0001"))
    assert s.min_notional == MinNotional(min_notional=U("0.0001"), apply_to_market=True, avg_price_mins=5)
    assert s.market_lot_size == LotSize(min_qty=0, max_qty=U("873.90727776"), step_size=0)
    assert s.iceberg_parts == 10
    assert (s.max_num_orders, s.max_num_algo_orders, s.max_num_iceberg_orders) == (200, 5, None)
    assert s.notional is None and s.percent_price_by_side is None
    assert s.order_types == ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
    # Flags the 2021 venue did not have default to "not supported"; STP to NONE.
    assert (s.iceberg_allowed, s.oco_allowed, s.quote_order_qty_market_allowed) == (True, True, True)
    assert (s.oto_allowed, s.cancel_replace_allowed, s.allow_trailing_stop, s.amend_allowed) == (False,) * 4
    assert s.permissions == ("SPOT", "MARGIN") and s.permission_sets == (("SPOT", "MARGIN"),)
    assert s.default_stp_mode == "NONE"
    assert [f["filterType"] for f in s.raw_filters] == [
        "PRICE_FILTER", "PERCENT_PRICE", "LOT_SIZE", "MIN_NOTIONAL", "ICEBERG_PARTS", "MARKET_LOT_SIZE",
        "MAX_NUM_ORDERS", "MAX_NUM_ALGO_ORDERS",
    ]  # fmt: skip


def test_capture_keeps_unparsed_filters_raw(capture_specs: dict[str, SymbolSpec]) -> None:
    leveraged = [s for s in capture_specs.values() if s.permissions == ("LEVERAGED",)]
    assert leveraged
    raw = {f["filterType"]: f for f in leveraged[0].raw_filters}
    assert "MAX_POSITION" in raw and isinstance(raw["MAX_POSITION"]["maxPosition"], str)


def test_capture_round_trips_every_symbol_in_key_order(capture_json: dict[str, Any], capture_specs: dict[str, SymbolSpec]) -> None:
    for original in capture_json["symbols"]:
        echoed = symbol_to_json(capture_specs[original["symbol"]])
        assert echoed == original
        assert list(echoed) == list(original)
    # Spot checks of the kinds that differ: precision-2 quote, BREAK, LEVERAGED with MAX_POSITION.
    odd = [o for o in capture_json["symbols"] if o["quotePrecision"] == 2][0]
    assert symbol_to_json(capture_specs[odd["symbol"]])["quotePrecision"] == 2


def test_capture_in_todays_shape_adds_missing_flags(capture_specs: dict[str, SymbolSpec]) -> None:
    obj = symbol_to_json(capture_specs["ETHBTC"], verbatim=False)
    assert tuple(obj) == tuple(k for k in CANONICAL_KEYS if k != "opoAllowed")
    assert obj["permissionSets"] == [["SPOT", "MARGIN"]]
    assert obj["otoAllowed"] is False and obj["defaultSelfTradePreventionMode"] == "NONE"


def test_plain_json_and_gzip_files_load_like_the_capture(tmp_path: Path, capture_json: dict[str, Any]) -> None:
    small = {**capture_json, "symbols": capture_json["symbols"][:5]}
    plain = tmp_path / "exchangeInfo.json"
    plain.write_text(json.dumps(small, indent=2))
    packed = tmp_path / "exchangeInfo.json.gz"
    with gzip.open(packed, "wt") as fh:
        json.dump(small, fh)
    for path in (plain, packed):
        specs = load_exchange_info_file(path)
        assert [s.symbol for s in specs] == [o["symbol"] for o in small["symbols"]]
        assert [symbol_to_json(s) for s in specs] == small["symbols"]
    assert load_symbols(plain)[0].symbol == "ETHBTC"  # detected as exchangeInfo, not our config


def test_capture_without_exchange_info_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "BINANCE.http"
    path.write_text('https://api.binance.com/api/v3/depth?symbol=X -> 1.5: {"lastUpdateId": 1}\nconfiguration: {}\n')
    with pytest.raises(ConfigError, match="no exchangeInfo response"):
        load_exchange_info_file(path)


# ----------------------------------------------------------------------------- today's shape
def test_modern_symbol_parses_and_round_trips() -> None:
    obj = copy.deepcopy(MODERN_BTCUSDT)
    obj["someFutureField"] = {"x": [1, 2]}
    (spec,) = load_exchange_info({"symbols": [obj]})
    assert isinstance(spec, LoadedSymbolSpec)
    assert spec.notional == Notional(U("5"), True, U("9000000"), False, 5)
    assert spec.percent_price_by_side is not None and spec.percent_price_by_side.ask_multiplier_down == U("0.2")
    assert spec.market_lot_size == LotSize(0, U("99.213183"), 0)
    assert spec.iceberg_parts == 50 and spec.min_notional is None and spec.percent_price is None
    assert spec.permission_sets == (("SPOT", "MARGIN", "TRD_GRP_004"),) and spec.permissions == ()
    assert spec.default_stp_mode == "EXPIRE_MAKER" and spec.allow_trailing_stop and spec.amend_allowed
    assert spec.extra == {"opoAllowed": True, "someFutureField": {"x": [1, 2]}}
    echoed = symbol_to_json(spec)
    assert echoed == obj and list(echoed) == list(obj)
    echoed["someFutureField"]["x"].append(3)  # the echo is a copy
    assert spec.extra["someFutureField"] == {"x": [1, 2]}


def test_bad_exchange_info_names_symbol_and_key() -> None:
    obj = copy.deepcopy(MODERN_BTCUSDT)
    obj["filters"][1]["stepSize"] = "0.000000001"
    with pytest.raises(ConfigError, match=r"symbols\[0\] \(BTCUSDT\) LOT_SIZE: 'stepSize'"):
        load_exchange_info({"symbols": [obj]})


def test_permission_match() -> None:
    (modern,) = load_exchange_info({"symbols": [MODERN_BTCUSDT]})
    assert symbol_permission_match(modern, ["MARGIN"])
    assert symbol_permission_match(modern, ["LEVERAGED", "TRD_GRP_004"])
    assert not symbol_permission_match(modern, ["LEVERAGED"])
    old = SymbolSpec("X", "A", "B", permissions=("LEVERAGED",), permission_sets=())
    assert symbol_permission_match(old, ["LEVERAGED"]) and not symbol_permission_match(old, ["SPOT"])


def test_hand_built_spec_gets_filters_from_parsed_fields() -> None:
    spec = SymbolSpec(
        "ABCUSDT", "ABC", "USDT",
        price_filter=PriceFilter(U("0.001"), U("1000"), U("0.001")),
        lot_size=LotSize(U("0.1"), U("1000"), U("0.1")),
        notional=Notional(U("5"), True, U("100000"), False, 5),
        percent_price=PercentPrice(U("1.5"), U("0.75"), 1),
        max_num_orders=10,
    )  # fmt: skip
    filters = filters_to_json(spec)
    assert filters[0] == {"filterType": "PRICE_FILTER", "minPrice": "0.00100000", "maxPrice": "1000.00000000",
                          "tickSize": "0.00100000"}  # fmt: skip
    assert {"filterType": "PERCENT_PRICE", "multiplierUp": "1.5", "multiplierDown": "0.75", "avgPriceMins": 1} in filters
    (again,) = load_exchange_info({"symbols": [symbol_to_json(spec)]})
    for attr in ("price_filter", "lot_size", "notional", "percent_price", "max_num_orders", "iceberg_parts"):
        assert getattr(again, attr) == getattr(spec, attr)


# ----------------------------------------------------------------------------- our config
def test_config_builds_the_current_venue_filter_set() -> None:
    (spec,) = load_symbols_config(
        {"symbols": [{"symbol": "BTCUSDT", "base": "BTC", "quote": "USDT", "tickSize": "0.01",
                      "stepSize": "0.00001", "maxQty": "9000", "marketMaxQty": "99.213183", "minNotional": "5"}]}
    )  # fmt: skip
    obj = symbol_to_json(spec)
    assert tuple(obj) == tuple(k for k in CANONICAL_KEYS if k != "opoAllowed")
    assert [f["filterType"] for f in obj["filters"]] == [
        "PRICE_FILTER", "LOT_SIZE", "ICEBERG_PARTS", "MARKET_LOT_SIZE", "TRAILING_DELTA", "PERCENT_PRICE_BY_SIDE",
        "NOTIONAL", "MAX_NUM_ORDERS", "MAX_NUM_ALGO_ORDERS",
    ]  # fmt: skip
    # Same filters, same number format as the venue's BTCUSDT (MARKET_LOT_SIZE max aside).
    assert obj["filters"] == [f for f in MODERN_BTCUSDT["filters"] if f["filterType"] != "MAX_NUM_ORDER_LISTS"]
    assert spec.price_filter == PriceFilter(U("0.01"), U("1000000"), U("0.01"))
    assert spec.lot_size == LotSize(U("0.00001"), U("9000"), U("0.00001"))
    assert spec.status == "TRADING" and spec.default_stp_mode == "EXPIRE_MAKER"
    assert obj["permissions"] == [] and obj["permissionSets"] == [["SPOT"]]


def test_config_overrides_and_optional_filters() -> None:
    (spec,) = load_symbols_config(
        {"symbols": [{"symbol": "XYZBTC", "base": "XYZ", "quote": "BTC", "tickSize": 1e-08, "stepSize": 1,
                      "minNotional": "0.0001", "maxNumIcebergOrders": 3, "maxPosition": "1000", "status": "BREAK",
                      "applyMaxToMarket": True, "orderTypes": ["LIMIT", "MARKET"], "icebergAllowed": False}]}
    )  # fmt: skip
    assert spec.price_filter == PriceFilter(1, U("1000000"), 1)  # a float is taken as written
    assert spec.lot_size == LotSize(U("1"), U("9000"), U("1"))
    assert spec.max_num_iceberg_orders == 3 and spec.status == "BREAK" and not spec.iceberg_allowed
    assert spec.notional is not None and spec.notional.apply_max_to_market
    assert spec.order_types == ("LIMIT", "MARKET")
    assert spec.raw_filters[-1] == {"filterType": "MAX_POSITION", "maxPosition": "1000.00000000"}


def test_config_can_give_venue_filters_verbatim() -> None:
    old = [{"filterType": "PRICE_FILTER", "minPrice": "0.00000100", "maxPrice": "100000.00000000",
            "tickSize": "0.00000100"}, {"filterType": "MIN_NOTIONAL", "minNotional": "0.00100000"}]  # fmt: skip
    (spec,) = load_symbols_config({"symbols": [{"symbol": "OLDBTC", "base": "OLD", "quote": "BTC", "filters": old}]})
    assert spec.min_notional == MinNotional(U("0.001"), True, 5) and spec.lot_size is None
    with pytest.raises(ConfigError, match="'tickSize': cannot be combined"):
        load_symbols_config({"symbols": [{"symbol": "OLDBTC", "base": "O", "quote": "B", "filters": old,
                                          "tickSize": "1"}]})  # fmt: skip


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD_ENTRY = '    {"symbol": "BTCUSDT", "base": "BTC", "quote": "USDT", "tickSize": "0.01", "stepSize": "0.00001", "minNotional": "5"},\n'


def test_config_error_names_file_line_entry_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "market.json", (
        '{\n  "symbols": [\n' + GOOD_ENTRY +
        '    {"symbol": "ETHUSDT", "base": "ETH", "quote": "USDT",\n'
        '     "tickSize": "0.0x", "stepSize": "0.0001", "minNotional": "5"}\n'
        '  ]\n}\n'
    ))  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load_symbols_config(path)
    assert str(err.value).startswith(f"{path}:5: symbols[1] (ETHUSDT): 'tickSize': ")
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("entry", "line", "needle"),
    [
        ('{"symbol": "ETHUSDT", "base": "ETH", "quote": "USDT",\n "tikSize": "0.01", "stepSize": "1", "minNotional": "5"}',
         5, "symbols[1] (ETHUSDT): 'tikSize': unknown key"),
        ('{"symbol": "ETHUSDT", "base": "ETH", "quote": "USDT",\n "stepSize": "1", "minNotional": "5"}',
         4, "symbols[1] (ETHUSDT): 'tickSize': missing (required)"),
        ('{"symbol": "ETHUSDT", "base": "ETH", "quote": "USDT", "tickSize": "0.01",\n "stepSize": "1", "minNotional": "5",\n "minQty": "10", "maxQty": "1"}',
         6, "'minQty': is above maxQty"),
        ('{"symbol": "ETHUSDT", "base": "ETH", "quote": "USDT", "tickSize": "0.01", "stepSize": "1",\n "minNotional": "5", "status": "OPEN"}',
         5, "'status': expected one of TRADING"),
        ('{"symbol": "BTCUSDT", "base": "BTC", "quote": "USDT", "tickSize": "0.01", "stepSize": "1", "minNotional": "5"}',
         4, "symbols[1] (BTCUSDT): 'symbol': duplicate symbol"),
        ('{"symbol": "ETHUSDT", "base": "ETH", "quote": "USDT", "tickSize": "0", "stepSize": "1", "minNotional": "5"}',
         4, "'tickSize': must be > 0"),
        ('{"symbol": "ETHUSDT", "base": "ETH", "quote": "USDT", "tickSize": "0.01", "stepSize": "1",\n "minNotional": "5", "maxNumOrders": true}',
         5, "'maxNumOrders': expected an integer"),
    ],
)  # fmt: skip
def test_config_errors(tmp_path: Path, entry: str, line: int, needle: str) -> None:
    path = _write(tmp_path, "m.json", '{\n  "symbols": [\n' + GOOD_ENTRY + "    " + entry + "\n  ]\n}\n")
    with pytest.raises(ConfigError) as err:
        load_symbols_config(path)
    assert str(err.value).startswith(f"{path}:{line}: ")
    assert needle in str(err.value)


def test_config_json_syntax_error_has_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.json", '{\n  "symbols": [\n' + GOOD_ENTRY + "  ]\n}\n")  # trailing comma
    with pytest.raises(ConfigError, match=rf"^{path}:4: invalid JSON"):
        load_symbols_config(path)


def test_config_yaml(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.yaml", (
        "symbols:\n"
        "  - symbol: SOLUSDT\n    base: SOL\n    quote: USDT\n    tickSize: 0.01\n    stepSize: 0.001\n"
        "    minNotional: 5\n"
        "  - symbol: XRPUSDT\n    base: XRP\n    quote: USDT\n    tickSize: 0.0001\n    stepSize: 0.1\n"
        "    minNotional: 5\n    maxQty: lots\n"
    ))  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load_symbols_config(path)
    assert str(err.value).startswith(f"{path}:14: symbols[1] (XRPUSDT): 'maxQty': ")
    path.write_text(path.read_text().replace("lots", "9222449"))
    specs = load_symbols_config(path)
    assert [s.symbol for s in specs] == ["SOLUSDT", "XRPUSDT"]
    assert specs[1].price_filter is not None and specs[1].price_filter.tick_size == U("0.0001")
    assert load_symbols(path)[0].symbol == "SOLUSDT"  # detected as our config


def test_config_from_dict_errors_name_the_entry() -> None:
    with pytest.raises(ConfigError, match=r"^<config>: symbols\[0\] \(BTCUSDT\): 'base': missing"):
        load_symbols_config({"symbols": [{"symbol": "BTCUSDT", "quote": "USDT"}]})
    with pytest.raises(ConfigError, match="unknown top-level key 'symbol'"):
        load_symbols_config({"symbol": []})
    with pytest.raises(ConfigError, match="'symbols': expected a non-empty list"):
        load_symbols_config({"symbols": []})
