"""Symbols from the venue's exchangeInfo JSON or from our compact config, and back to JSON.

Two sources feed ``SymbolSpec``: a real ``GET /api/v3/exchangeInfo`` response (any vintage:
2021 captures lack half of today's flags) and our own short config, which is expanded into the
full filter set of a current USDT pair. Both go through one parser (``_symbol_fields``), so a
config-built symbol is exactly what the venue would have sent. A loaded symbol remembers its
JSON key order, so ``symbol_to_json`` echoes an old capture as it was captured.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_exchange.engine import units
from mock_exchange.engine.symbols import (
    ALL_ORDER_TYPES,
    ALL_STP_MODES,
    SYMBOL_STATUSES,
    LotSize,
    MinNotional,
    Notional,
    PercentPrice,
    PercentPriceBySide,
    PriceFilter,
    SymbolSpec,
)
from mock_exchange.engine.types import STP_MODES


class ConfigError(ValueError):
    """A bad symbol definition; the text names the file (and line), symbol entry and key."""


@dataclass(slots=True)
class LoadedSymbolSpec(SymbolSpec):
    """A symbol read from an exchangeInfo JSON; also keeps that object's keys in order."""

    source_keys: tuple[str, ...] = ()


# Today's exchangeInfo symbol object: JSON key -> SymbolSpec attribute, in the venue's order.
# ``opoAllowed`` has no field (a loaded value lives in ``extra``) but keeps its place.
_KEY_ATTRS: dict[str, str | None] = {
    "symbol": "symbol", "status": "status", "baseAsset": "base_asset",
    "baseAssetPrecision": "base_asset_precision", "quoteAsset": "quote_asset",
    "quotePrecision": "quote_precision", "quoteAssetPrecision": "quote_asset_precision",
    "baseCommissionPrecision": "base_commission_precision",
    "quoteCommissionPrecision": "quote_commission_precision", "orderTypes": "order_types",
    "icebergAllowed": "iceberg_allowed", "ocoAllowed": "oco_allowed", "otoAllowed": "oto_allowed",
    "opoAllowed": None, "quoteOrderQtyMarketAllowed": "quote_order_qty_market_allowed",
    "allowTrailingStop": "allow_trailing_stop", "cancelReplaceAllowed": "cancel_replace_allowed",
    "amendAllowed": "amend_allowed", "pegInstructionsAllowed": "peg_instructions_allowed",
    "isSpotTradingAllowed": "is_spot_trading_allowed", "isMarginTradingAllowed": "is_margin_trading_allowed",
    "filters": "raw_filters", "permissions": "permissions", "permissionSets": "permission_sets",
    "defaultSelfTradePreventionMode": "default_stp_mode",
    "allowedSelfTradePreventionModes": "allowed_stp_modes",
}  # fmt: skip
CANONICAL_KEYS: tuple[str, ...] = tuple(_KEY_ATTRS)
_FIELD_KEYS = frozenset(k for k, a in _KEY_ATTRS.items() if a is not None)

# Boolean flags. Absent from an older capture = the feature did not exist yet (False), except
# spot trading, which an exchangeInfo from the spot API implies.
_FLAGS: dict[str, str] = {
    k: a for k, a in _KEY_ATTRS.items() if a and (a.endswith("_allowed") or a == "allow_trailing_stop")
}
_FLAG_ABSENT = {k: k == "isSpotTradingAllowed" for k in _FLAGS}


# ----------------------------------------------------------------------------- exchangeInfo
def _err(where: str, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{where}: '{key}': {problem}")


def _amount(f: Mapping[str, Any], key: str, where: str, default: str | None = None) -> int:
    raw = f.get(key, default)
    if raw is None:
        raise _err(where, key, "missing")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _err(where, key, f"expected a decimal string, got {raw!r}")
    try:
        value = units.to_units(raw)
    except ValueError as exc:
        raise _err(where, key, str(exc)) from exc
    if value < 0:
        raise _err(where, key, f"must not be negative, got {raw!r}")
    return value


def _int(f: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    raw = f.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise _err(where, key, "missing" if raw is None else f"expected an integer, got {raw!r}")
    return raw


def _flag(f: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    raw = f.get(key, default)
    if not isinstance(raw, bool):
        raise _err(where, key, f"expected true or false, got {raw!r}")
    return raw


def _strs(raw: Any, key: str, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
        raise _err(where, key, f"expected a list of strings, got {raw!r}")
    return tuple(raw)


def _parse_filters(filters: Any, where: str) -> dict[str, Any]:
    """Parsed SymbolSpec fields for a venue ``filters`` list (unknown types are kept raw only)."""
    if not isinstance(filters, list):
        raise _err(where, "filters", f"expected a list, got {type(filters).__name__}")
    out: dict[str, Any] = {"raw_filters": []}
    for i, f in enumerate(filters):
        if not isinstance(f, dict) or not isinstance(f.get("filterType"), str):
            raise _err(where, f"filters[{i}]", "expected an object with a filterType")
        out["raw_filters"].append(dict(f))
        kind = f["filterType"]
        w = f"{where} {kind}"
        if kind == "PRICE_FILTER":
            out["price_filter"] = PriceFilter(
                _amount(f, "minPrice", w), _amount(f, "maxPrice", w), _amount(f, "tickSize", w)
            )
        elif kind in ("LOT_SIZE", "MARKET_LOT_SIZE"):
            lot = LotSize(_amount(f, "minQty", w), _amount(f, "maxQty", w), _amount(f, "stepSize", w))
            out["lot_size" if kind == "LOT_SIZE" else "market_lot_size"] = lot
        elif kind == "MIN_NOTIONAL":  # very old captures have minNotional only
            out["min_notional"] = MinNotional(
                _amount(f, "minNotional", w), _flag(f, "applyToMarket", w, True), _int(f, "avgPriceMins", w, 5)
            )
        elif kind == "NOTIONAL":
            out["notional"] = Notional(
                _amount(f, "minNotional", w, "0"),
                _flag(f, "applyMinToMarket", w, True),
                _amount(f, "maxNotional", w, "0"),
                _flag(f, "applyMaxToMarket", w, False),
                _int(f, "avgPriceMins", w, 5),
            )
        elif kind == "PERCENT_PRICE":
            out["percent_price"] = PercentPrice(
                _amount(f, "multiplierUp", w), _amount(f, "multiplierDown", w), _int(f, "avgPriceMins", w, 5)
            )
        elif kind == "PERCENT_PRICE_BY_SIDE":
            out["percent_price_by_side"] = PercentPriceBySide(
                _amount(f, "bidMultiplierUp", w),
                _amount(f, "bidMultiplierDown", w),
                _amount(f, "askMultiplierUp", w),
                _amount(f, "askMultiplierDown", w),
                _int(f, "avgPriceMins", w, 5),
            )
        elif kind == "MAX_NUM_ORDERS":
            out["max_num_orders"] = _int(f, "maxNumOrders", w, f.get("limit"))
        elif kind == "MAX_NUM_ALGO_ORDERS":
            out["max_num_algo_orders"] = _int(f, "maxNumAlgoOrders", w, f.get("limit"))
        elif kind == "MAX_NUM_ICEBERG_ORDERS":
            out["max_num_iceberg_orders"] = _int(f, "maxNumIcebergOrders", w, f.get("limit"))
        elif kind == "ICEBERG_PARTS":
            out["iceberg_parts"] = _int(f, "limit", w)
    return out


def _symbol_fields(obj: Mapping[str, Any], where: str) -> dict[str, Any]:
    """SymbolSpec keyword arguments for one exchangeInfo symbol object."""
    for key in ("symbol", "baseAsset", "quoteAsset", "status"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise _err(where, key, "missing or not a string")
    qp = obj.get("quotePrecision", obj.get("quoteAssetPrecision", 8))
    permissions = _strs(obj.get("permissions", []), "permissions", where)
    if "permissionSets" in obj:
        sets = obj["permissionSets"]
        if not isinstance(sets, list):
            raise _err(where, "permissionSets", f"expected a list of lists, got {sets!r}")
        permission_sets = tuple(_strs(s, "permissionSets", where) for s in sets)
    else:  # before permissionSets, ``permissions`` was one OR-list
        permission_sets = (permissions,) if permissions else (("SPOT",),)
    stp = obj.get("defaultSelfTradePreventionMode", "NONE")  # STP did not exist before 2023
    if not isinstance(stp, str):
        raise _err(where, "defaultSelfTradePreventionMode", f"expected a string, got {stp!r}")
    fields: dict[str, Any] = {
        "symbol": obj["symbol"],
        "base_asset": obj["baseAsset"],
        "quote_asset": obj["quoteAsset"],
        "status": obj["status"],
        "base_asset_precision": _int(obj, "baseAssetPrecision", where, 8),
        "quote_precision": _int(obj, "quotePrecision", where, qp),
        "quote_asset_precision": _int(obj, "quoteAssetPrecision", where, qp),
        "base_commission_precision": _int(obj, "baseCommissionPrecision", where, 8),
        "quote_commission_precision": _int(obj, "quoteCommissionPrecision", where, 8),
        "order_types": _strs(obj.get("orderTypes", list(ALL_ORDER_TYPES)), "orderTypes", where),
        "permissions": permissions,
        "permission_sets": permission_sets,
        "default_stp_mode": stp,
        "allowed_stp_modes": _strs(
            obj.get("allowedSelfTradePreventionModes", list(ALL_STP_MODES)), "allowedSelfTradePreventionModes", where
        ),
    }
    for key, attr in _FLAGS.items():
        fields[attr] = _flag(obj, key, where, _FLAG_ABSENT[key])
    fields.update(_parse_filters(obj.get("filters", []), where))
    fields["extra"] = {k: copy.deepcopy(v) for k, v in obj.items() if k not in _FIELD_KEYS}
    return fields


def load_exchange_info(data: Mapping[str, Any]) -> list[SymbolSpec]:
    """Every symbol of a ``GET /api/v3/exchangeInfo`` response, as SymbolSpecs."""
    symbols = data.get("symbols")
    if not isinstance(symbols, list):
        raise ConfigError("exchangeInfo: 'symbols': missing or not a list")
    specs: list[SymbolSpec] = []
    for i, obj in enumerate(symbols):
        where = f"exchangeInfo symbols[{i}]"
        if not isinstance(obj, dict):
            raise ConfigError(f"{where}: expected an object")
        where += f" ({obj.get('symbol', '?')})"
        specs.append(LoadedSymbolSpec(**_symbol_fields(obj, where), source_keys=tuple(obj)))
    return specs


def load_rate_limits(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The top-level ``rateLimits`` of an exchangeInfo response, checked and copied."""
    limits = data.get("rateLimits", [])
    if not isinstance(limits, list):
        raise ConfigError("exchangeInfo: 'rateLimits': expected a list")
    out: list[dict[str, Any]] = []
    for i, lim in enumerate(limits):
        where = f"exchangeInfo rateLimits[{i}]"
        if not isinstance(lim, dict):
            raise ConfigError(f"{where}: expected an object")
        for key in ("rateLimitType", "interval"):
            if not isinstance(lim.get(key), str):
                raise _err(where, key, "missing or not a string")
        _int(lim, "intervalNum", where)
        _int(lim, "limit", where)
        out.append(dict(lim))
    return out


def _read_text(path: str | os.PathLike[str]) -> str:
    p = Path(path)
    try:
        if p.suffix == ".gz":
            with gzip.open(p, "rt", encoding="utf-8") as fh:
                return fh.read()
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror or exc}") from exc


def _exchange_info_from_text(text: str, source: str) -> dict[str, Any]:
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
        if isinstance(data, dict):
            return data
        raise ConfigError(f"{source}: expected a JSON object")
    for lineno, line in enumerate(text.splitlines(), 1):
        url, sep, rest = line.partition(" -> ")
        if not sep or "/exchangeInfo" not in url:
            continue  # e.g. the capture's "configuration: {...}" line, or other endpoints
        body = rest.partition(": ")[2]
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source}:{lineno}: invalid JSON body: {exc.msg}") from exc
        if isinstance(data, dict):
            return data
    raise ConfigError(f"{source}: no exchangeInfo response found")


def read_exchange_info_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The exchangeInfo JSON in a file (optionally .gz): plain JSON, or a capture whose lines are
    ``<url> -> <receive time>: <body>`` (cryptofeed's format); other capture lines are ignored."""
    return _exchange_info_from_text(_read_text(path), str(path))


def load_exchange_info_file(path: str | os.PathLike[str]) -> list[SymbolSpec]:
    """``load_exchange_info`` on a file (formats: see ``read_exchange_info_file``)."""
    data = read_exchange_info_file(path)
    try:
        return load_exchange_info(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


# ----------------------------------------------------------------------------- our config
# Config key -> (kind, default). Default None = required; "=key" = another key's value;
# _ABSENT = the filter is left out.
_ABSENT = object()
_CONFIG_KEYS: dict[str, tuple[str, Any]] = {
    "symbol": ("name", None), "base": ("name", None), "quote": ("name", None),
    "status": ("status", "TRADING"),
    "tickSize": ("positive", None), "stepSize": ("positive", None), "minNotional": ("amount", None),
    "minPrice": ("amount", "=tickSize"), "maxPrice": ("amount", "1000000"),
    "minQty": ("amount", "=stepSize"), "maxQty": ("amount", "9000"),
    "marketMinQty": ("amount", "0"), "marketMaxQty": ("amount", "=maxQty"), "marketStepSize": ("amount", "0"),
    "maxNotional": ("amount", "9000000"), "applyMinToMarket": ("bool", True),
    "applyMaxToMarket": ("bool", False), "avgPriceMins": ("int", 5),
    "bidMultiplierUp": ("multiplier", "5"), "bidMultiplierDown": ("multiplier", "0.2"),
    "askMultiplierUp": ("multiplier", "5"), "askMultiplierDown": ("multiplier", "0.2"),
    "icebergParts": ("count", 50), "maxNumOrders": ("count", 200), "maxNumAlgoOrders": ("count", 5),
    "maxNumIcebergOrders": ("count", _ABSENT), "maxPosition": ("amount", _ABSENT),
    "minTrailingAboveDelta": ("int", 10), "maxTrailingAboveDelta": ("int", 2000),
    "minTrailingBelowDelta": ("int", 10), "maxTrailingBelowDelta": ("int", 2000),
    "baseAssetPrecision": ("precision", 8), "quotePrecision": ("precision", 8),
    "quoteAssetPrecision": ("precision", "=quotePrecision"), "baseCommissionPrecision": ("precision", 8),
    "quoteCommissionPrecision": ("precision", 8),
    "orderTypes": ("order_types", list(ALL_ORDER_TYPES)),
    "permissionSets": ("permission_sets", [["SPOT"]]),
    "defaultSelfTradePreventionMode": ("stp", "EXPIRE_MAKER"),
    "allowedSelfTradePreventionModes": ("stp_list", list(ALL_STP_MODES)),
    "filters": ("filters", _ABSENT),
    # Flags default as SymbolSpec's.
    **{k: ("bool", SymbolSpec.__dataclass_fields__[a].default) for k, a in _FLAGS.items()},
}  # fmt: skip
# Keys that shape the generated filters (so they clash with an explicit "filters" list).
_FILTER_KEYS = frozenset(k for k in _CONFIG_KEYS if k.endswith(("Size", "Qty", "Price", "Notional", "Market")))
_FILTER_KEYS |= {"avgPriceMins", "icebergParts", "maxNumOrders", "maxNumAlgoOrders", "maxNumIcebergOrders",
                 "maxPosition", "bidMultiplierUp", "bidMultiplierDown", "askMultiplierUp", "askMultiplierDown",
                 "minTrailingAboveDelta", "maxTrailingAboveDelta", "minTrailingBelowDelta",
                 "maxTrailingBelowDelta"}  # fmt: skip
_INT_RANGES = {"int": (0, 10**9), "count": (1, 10**9), "precision": (0, 8)}
_CHOICES: dict[str, Sequence[str]] = {
    "status": SYMBOL_STATUSES, "stp": STP_MODES, "order_types": ALL_ORDER_TYPES, "stp_list": STP_MODES,
}  # fmt: skip


class _Entry:
    """One config entry being validated; knows how to name itself (file:line, index, key)."""

    def __init__(self, raw: Mapping[str, Any], index: int, source: str, text: str) -> None:
        self.raw, self.index, self.source, self.text = raw, index, source, text
        name = raw.get("symbol")
        self.label = f"symbols[{index}]" + (f" ({name})" if isinstance(name, str) else "")

    def error(self, key: str | None, problem: str) -> ConfigError:
        line = _locate_line(self.text, self.index, key)
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{where}: {self.label}: " + (f"'{key}': " if key else "") + problem)

    def value(self, key: str) -> Any:
        kind, default = _CONFIG_KEYS[key]
        raw = self.raw.get(key, default)
        if key not in self.raw and isinstance(default, str) and default.startswith("="):
            return self.value(default[1:])
        if raw is None:
            raise self.error(key, "missing (required)")
        return None if raw is _ABSENT else self._check(key, kind, raw)

    def _check(self, key: str, kind: str, raw: Any) -> Any:
        if kind in ("amount", "positive", "multiplier"):
            if isinstance(raw, bool) or not isinstance(raw, str | int | float):
                raise self.error(key, f"expected a decimal amount, got {raw!r}")
            try:  # a YAML float is taken as written: its shortest repr ("0.01")
                value = units.to_units(repr(raw) if isinstance(raw, float) else raw)
            except ValueError as exc:
                raise self.error(key, f"expected a decimal with at most 8 decimals, got {raw!r}") from exc
            if value < 0 or (kind == "positive" and value == 0):
                raise self.error(key, f"must be {'> 0' if kind == 'positive' else '>= 0'}, got {raw!r}")
            return value
        if kind in _INT_RANGES:
            low, high = _INT_RANGES[kind]
            if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
                raise self.error(key, f"expected an integer in {low}..{high}, got {raw!r}")
            return raw
        if kind == "bool":
            if not isinstance(raw, bool):
                raise self.error(key, f"expected true or false, got {raw!r}")
            return raw
        if kind == "name":
            if not isinstance(raw, str) or not raw.isalnum() or raw.upper() != raw:
                raise self.error(key, f"expected upper-case letters and digits, got {raw!r}")
            return raw
        if kind in ("status", "stp"):
            if raw not in _CHOICES[kind]:
                raise self.error(key, f"expected one of {', '.join(_CHOICES[kind])}, got {raw!r}")
            return raw
        if kind in ("order_types", "stp_list"):
            if not isinstance(raw, list) or not raw or any(x not in _CHOICES[kind] for x in raw):
                raise self.error(key, f"expected a non-empty list of {', '.join(_CHOICES[kind])}, got {raw!r}")
            return list(raw)
        if kind == "permission_sets":
            ok = isinstance(raw, list) and all(isinstance(s, list) and all(isinstance(p, str) for p in s) for s in raw)
            if not ok:
                raise self.error(key, f"expected a list of lists of strings, got {raw!r}")
            return [list(s) for s in raw]
        if not isinstance(raw, list):  # kind == "filters"
            raise self.error(key, "expected a list of venue filter objects")
        return copy.deepcopy(raw)


def _generated_filters(e: _Entry) -> list[dict[str, Any]]:
    """The filter set of a current venue USDT pair, in the venue's order and number format."""
    v, f = e.value, units.fmt
    for low, high in (("minPrice", "maxPrice"), ("minQty", "maxQty"), ("minNotional", "maxNotional")):
        if v(high) and v(low) > v(high):
            raise e.error(low, f"is above {high}")
    out: list[dict[str, Any]] = [
        {"filterType": "PRICE_FILTER", "minPrice": f(v("minPrice")), "maxPrice": f(v("maxPrice")),
         "tickSize": f(v("tickSize"))},
        {"filterType": "LOT_SIZE", "minQty": f(v("minQty")), "maxQty": f(v("maxQty")), "stepSize": f(v("stepSize"))},
        {"filterType": "ICEBERG_PARTS", "limit": v("icebergParts")},
        {"filterType": "MARKET_LOT_SIZE", "minQty": f(v("marketMinQty")), "maxQty": f(v("marketMaxQty")),
         "stepSize": f(v("marketStepSize"))},
        {"filterType": "TRAILING_DELTA", "minTrailingAboveDelta": v("minTrailingAboveDelta"),
         "maxTrailingAboveDelta": v("maxTrailingAboveDelta"), "minTrailingBelowDelta": v("minTrailingBelowDelta"),
         "maxTrailingBelowDelta": v("maxTrailingBelowDelta")},
        {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": _plain(v("bidMultiplierUp")),
         "bidMultiplierDown": _plain(v("bidMultiplierDown")), "askMultiplierUp": _plain(v("askMultiplierUp")),
         "askMultiplierDown": _plain(v("askMultiplierDown")), "avgPriceMins": v("avgPriceMins")},
        {"filterType": "NOTIONAL", "minNotional": f(v("minNotional")), "applyMinToMarket": v("applyMinToMarket"),
         "maxNotional": f(v("maxNotional")), "applyMaxToMarket": v("applyMaxToMarket"),
         "avgPriceMins": v("avgPriceMins")},
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": v("maxNumOrders")},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": v("maxNumAlgoOrders")},
    ]  # fmt: skip
    if (n := v("maxNumIcebergOrders")) is not None:
        out.append({"filterType": "MAX_NUM_ICEBERG_ORDERS", "maxNumIcebergOrders": n})
    if (pos := v("maxPosition")) is not None:
        out.append({"filterType": "MAX_POSITION", "maxPosition": f(pos)})
    return out


def _config_symbol_object(raw: Any, index: int, source: str, text: str) -> dict[str, Any]:
    """Validate one config entry and expand it into a venue exchangeInfo symbol object."""
    e = _Entry(raw if isinstance(raw, Mapping) else {}, index, source, text)
    if not isinstance(raw, Mapping):
        raise e.error(None, f"expected a mapping, got {raw!r}")
    for key in raw:
        if key not in _CONFIG_KEYS:
            raise e.error(str(key), "unknown key")
    clash = next((k for k in raw if k in _FILTER_KEYS), None) if "filters" in raw else None
    if clash is not None:
        raise e.error(clash, "cannot be combined with an explicit 'filters' list")
    stp, allowed = e.value("defaultSelfTradePreventionMode"), e.value("allowedSelfTradePreventionModes")
    if stp not in allowed and stp != "NONE":
        raise e.error("defaultSelfTradePreventionMode", f"{stp!r} is not in allowedSelfTradePreventionModes")
    obj: dict[str, Any] = {"symbol": e.value("symbol"), "status": e.value("status"), "baseAsset": e.value("base")}
    obj["baseAssetPrecision"] = e.value("baseAssetPrecision")
    obj["quoteAsset"] = e.value("quote")
    for key in ("quotePrecision", "quoteAssetPrecision", "baseCommissionPrecision", "quoteCommissionPrecision",
                "orderTypes", *_FLAGS):  # fmt: skip
        obj[key] = e.value(key)
    obj["filters"] = e.value("filters") if "filters" in raw else _generated_filters(e)
    obj["permissions"] = []
    obj["permissionSets"] = e.value("permissionSets")
    obj["defaultSelfTradePreventionMode"] = stp
    obj["allowedSelfTradePreventionModes"] = allowed
    return {k: obj[k] for k in CANONICAL_KEYS if k in obj}


def _locate_line(text: str, index: int | None, key: str | None) -> int | None:
    """Line of ``symbols[index].key`` (or of the entry, or of a top-level key) in ``text``."""
    if not text:
        return None
    try:
        import yaml  # a dependency; JSON parses as YAML too (a JSON file's lines are found the same way)

        node: Any = yaml.compose(text)
    except Exception:  # unparsable here: no line, the message still names entry and key
        return None
    pairs = node.value if node is not None and isinstance(node.value, list) else []
    pairs = [p for p in pairs if isinstance(p, tuple)]
    if index is None:
        return next((int(k.start_mark.line) + 1 for k, _ in pairs if k.value == key), 1)
    seq = next((v for k, v in pairs if k.value == "symbols"), None)
    if seq is None or not isinstance(seq.value, list) or index >= len(seq.value):
        return None
    entry = seq.value[index]
    if key is not None and isinstance(entry.value, list):
        for k, _ in (p for p in entry.value if isinstance(p, tuple)):
            if k.value == key:
                return int(k.start_mark.line) + 1
    return int(entry.start_mark.line) + 1


def _parse_text(text: str, source: str) -> Any:
    """JSON (``.json``) or YAML text; a syntax error names the file and line."""
    if source.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source}:{exc.lineno}: invalid JSON: {exc.msg}") from exc
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{line}: invalid YAML: {getattr(exc, 'problem', exc)}") from exc


def _config_specs(data: Any, source: str, text: str) -> list[SymbolSpec]:
    if isinstance(data, list):
        data = {"symbols": data}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping with a 'symbols' list")
    for key in data:
        if key != "symbols":
            line = _locate_line(text, None, str(key))
            raise ConfigError(f"{source}{f':{line}' if line else ''}: unknown top-level key '{key}'")
    entries = data.get("symbols")
    if not isinstance(entries, list) or not entries:
        line = _locate_line(text, None, "symbols")
        raise ConfigError(f"{source}{f':{line}' if line else ''}: 'symbols': expected a non-empty list")
    specs: list[SymbolSpec] = []
    seen: set[str] = set()
    for i, raw in enumerate(entries):
        obj = _config_symbol_object(raw, i, source, text)
        try:
            spec = SymbolSpec(**_symbol_fields(obj, f"{source}: symbols[{i}] ({obj['symbol']})"))
        except ConfigError as exc:  # only an explicit "filters" list can fail here
            line = _locate_line(text, i, "filters")
            raise ConfigError(str(exc).replace(f"{source}:", f"{source}:{line}:", 1) if line else str(exc)) from exc
        if spec.symbol in seen:
            raise _Entry(raw, i, source, text).error("symbol", "duplicate symbol")
        seen.add(spec.symbol)
        specs.append(spec)
    return specs


def load_symbols_config(source: str | os.PathLike[str] | Mapping[str, Any]) -> list[SymbolSpec]:
    """Symbols from our compact config: a JSON/YAML file, or the parsed mapping.

    ``{"symbols": [{"symbol", "base", "quote", "tickSize", "stepSize", "minNotional", ...}]}``;
    optional keys override the defaults of a current venue USDT pair (``_CONFIG_KEYS``), or
    ``filters`` gives the venue filter list verbatim. Errors name file:line, entry and key.
    """
    if isinstance(source, Mapping):
        return _config_specs(source, "<config>", "")
    text = _read_text(source)
    return _config_specs(_parse_text(text, str(source)), str(source), text)


def load_symbols(path: str | os.PathLike[str]) -> list[SymbolSpec]:
    """A file holding either an exchangeInfo response (plain JSON or a capture) or our config."""
    name, text = str(path), _read_text(path)
    if " -> " in text.partition("\n")[0]:
        data: Any = _exchange_info_from_text(text, name)
    else:
        data = _parse_text(text, name)
    entries = data.get("symbols") if isinstance(data, Mapping) else None
    if isinstance(entries, list) and entries and isinstance(entries[0], Mapping) and "baseAsset" in entries[0]:
        try:
            return load_exchange_info(data)
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from exc
    return _config_specs(data, name, text)


# ----------------------------------------------------------------------------- to JSON
def _plain(value: int) -> str:
    """A multiplier as the venue writes it: "5", "0.2" (not padded)."""
    return format(units.to_decimal(value).normalize(), "f")


def filters_to_json(spec: SymbolSpec) -> list[dict[str, Any]]:
    """The venue's ``filters`` list: ``raw_filters`` when loaded, else built from the parsed filters."""
    if spec.raw_filters:
        return [dict(f) for f in spec.raw_filters]
    f = units.fmt
    out: list[dict[str, Any]] = []
    if (pf := spec.price_filter) is not None:
        out.append({"filterType": "PRICE_FILTER", "minPrice": f(pf.min_price), "maxPrice": f(pf.max_price),
                    "tickSize": f(pf.tick_size)})  # fmt: skip
    for kind, lot in (("LOT_SIZE", spec.lot_size), ("MARKET_LOT_SIZE", spec.market_lot_size)):
        if lot is not None:
            out.append({"filterType": kind, "minQty": f(lot.min_qty), "maxQty": f(lot.max_qty),
                        "stepSize": f(lot.step_size)})  # fmt: skip
    if (pp := spec.percent_price) is not None:
        out.append({"filterType": "PERCENT_PRICE", "multiplierUp": _plain(pp.multiplier_up),
                    "multiplierDown": _plain(pp.multiplier_down), "avgPriceMins": pp.avg_price_mins})  # fmt: skip
    if (ps := spec.percent_price_by_side) is not None:
        out.append({"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": _plain(ps.bid_multiplier_up),
                    "bidMultiplierDown": _plain(ps.bid_multiplier_down),
                    "askMultiplierUp": _plain(ps.ask_multiplier_up),
                    "askMultiplierDown": _plain(ps.ask_multiplier_down), "avgPriceMins": ps.avg_price_mins})  # fmt: skip
    if (mn := spec.min_notional) is not None:
        out.append({"filterType": "MIN_NOTIONAL", "minNotional": f(mn.min_notional),
                    "applyToMarket": mn.apply_to_market, "avgPriceMins": mn.avg_price_mins})  # fmt: skip
    if (nt := spec.notional) is not None:
        out.append({"filterType": "NOTIONAL", "minNotional": f(nt.min_notional),
                    "applyMinToMarket": nt.apply_min_to_market, "maxNotional": f(nt.max_notional),
                    "applyMaxToMarket": nt.apply_max_to_market, "avgPriceMins": nt.avg_price_mins})  # fmt: skip
    for kind, key, val in (
        ("ICEBERG_PARTS", "limit", spec.iceberg_parts),
        ("MAX_NUM_ORDERS", "maxNumOrders", spec.max_num_orders),
        ("MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders", spec.max_num_algo_orders),
        ("MAX_NUM_ICEBERG_ORDERS", "maxNumIcebergOrders", spec.max_num_iceberg_orders),
    ):
        if val is not None:
            out.append({"filterType": kind, key: val})
    return out


def _field_json(spec: SymbolSpec, key: str, attr: str) -> Any:
    if key == "filters":
        return filters_to_json(spec)
    value = getattr(spec, attr)
    if isinstance(value, tuple):  # tuples (and tuples of tuples) -> JSON lists
        return [list(x) if isinstance(x, tuple) else x for x in value]
    return value


def symbol_to_json(spec: SymbolSpec, *, verbatim: bool = True) -> dict[str, Any]:
    """The exchangeInfo symbol object for ``spec``.

    A symbol loaded from exchangeInfo keeps the keys and order it was loaded with (a 2021
    capture is echoed as 2021 sent it, without today's flags) unless ``verbatim=False``, which
    gives today's full shape. ``extra`` keys are merged in, so a loaded symbol round-trips.
    """
    keys: Sequence[str] = CANONICAL_KEYS
    if verbatim and isinstance(spec, LoadedSymbolSpec) and spec.source_keys:
        keys = spec.source_keys
    extra = spec.extra
    out: dict[str, Any] = {}
    for key in keys:
        attr = _KEY_ATTRS.get(key)
        if attr is not None:
            out[key] = _field_json(spec, key, attr)
        elif key in extra:
            out[key] = copy.deepcopy(extra[key])
    for key, value in extra.items():
        if key not in out:
            out[key] = copy.deepcopy(value)
    return out


def symbol_permission_match(spec: SymbolSpec, permissions: Sequence[str]) -> bool:
    """``exchangeInfo?permissions=``: does the symbol carry any of ``permissions``?"""
    wanted = set(permissions)
    return bool(wanted.intersection(spec.permissions)) or any(wanted.intersection(s) for s in spec.permission_sets)
