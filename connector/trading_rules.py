"""Per-symbol trading rules from ``exchangeInfo`` (binance-spot-api.md §5.1, §7).

Works with the current filter set (NOTIONAL, PERCENT_PRICE_BY_SIDE, ...) and the 2021 one
(MIN_NOTIONAL, PERCENT_PRICE): only the filters an order builder needs locally are kept;
a value of 0 disables a bound, as on the venue. Everything is Decimal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ZERO = Decimal(0)
INFINITY = Decimal("Infinity")
# The venue's -2010 texts for an order type a symbol does not offer (errors.md).
_UNSUPPORTED = {
    "MARKET": "Market orders are not supported for this symbol.",
    "STOP_LOSS": "Stop loss orders are not supported for this symbol.",
    "STOP_LOSS_LIMIT": "Stop loss limit orders are not supported for this symbol.",
    "TAKE_PROFIT": "Take profit orders are not supported for this symbol.",
    "TAKE_PROFIT_LIMIT": "Take profit limit orders are not supported for this symbol.",
}


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else ZERO


def _upper_bound(value: Any) -> Decimal:
    """A maximum where 0 (or absence) means unbounded."""
    d = _dec(value)
    return d if d > 0 else INFINITY


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def _ceil_to(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_UP) * step


@dataclass(frozen=True, slots=True)
class TradingRule:
    """What an order on one symbol must satisfy (Hummingbot's names where it has them)."""

    trading_pair: str  # "BTC-USDT"
    symbol: str  # "BTCUSDT"
    base_asset: str
    quote_asset: str
    status: str = "TRADING"
    min_order_size: Decimal = ZERO
    max_order_size: Decimal = INFINITY
    min_base_amount_increment: Decimal = ZERO  # LOT_SIZE stepSize
    min_price_increment: Decimal = ZERO  # PRICE_FILTER tickSize
    min_price: Decimal = ZERO
    max_price: Decimal = INFINITY
    min_notional_size: Decimal = ZERO
    max_notional_size: Decimal = INFINITY
    notional_filter: str = ""  # "NOTIONAL" | "MIN_NOTIONAL" | "" (which filter the venue names)
    min_notional_applies_to_market: bool = False
    max_notional_applies_to_market: bool = False
    market_min_order_size: Decimal = ZERO
    market_max_order_size: Decimal = INFINITY
    market_base_amount_increment: Decimal = ZERO
    order_types: frozenset[str] = frozenset({"LIMIT", "MARKET"})
    base_asset_precision: int = 8
    quote_asset_precision: int = 8
    quote_order_qty_market_allowed: bool = False

    @property
    def is_trading(self) -> bool:
        return self.status == "TRADING"

    def supports(self, order_type: str) -> bool:
        return order_type in self.order_types

    def quantize_price(self, price: Decimal) -> Decimal:
        """``price`` rounded down to the tick (PRICE_FILTER ``price % tickSize == 0``)."""
        return _floor_to(price, self.min_price_increment)

    def quantize_price_up(self, price: Decimal) -> Decimal:
        return _ceil_to(price, self.min_price_increment)

    def quantize_amount(self, amount: Decimal, is_market: bool = False) -> Decimal:
        """``amount`` rounded down to the LOT_SIZE step (MARKET_LOT_SIZE's when it has one)."""
        step = self.min_base_amount_increment
        if is_market and self.market_base_amount_increment > 0:
            step = self.market_base_amount_increment
        return _floor_to(amount, step)

    def check_order(self, order_type: str, amount: Decimal, price: Decimal | None) -> tuple[int, str] | None:
        """The venue's (code, message) for an order these rules already reject, or None. Only the
        checks that need no market data; the venue still runs its own (PERCENT_PRICE_BY_SIDE,
        MAX_NUM_ORDERS, balances)."""
        if order_type not in self.order_types:
            return -2010, _UNSUPPORTED.get(order_type, "Unsupported order combination")
        reason = self._filter_failure(order_type, amount, price)
        return (-1013, reason) if reason is not None else None

    def _filter_failure(self, order_type: str, amount: Decimal, price: Decimal | None) -> str | None:
        is_market = order_type == "MARKET"
        if amount < self.min_order_size or amount > self.max_order_size or amount <= 0:
            return "Filter failure: LOT_SIZE"
        if is_market and (amount < self.market_min_order_size or amount > self.market_max_order_size):
            return "Filter failure: MARKET_LOT_SIZE"
        if price is None or is_market:
            return None
        if price <= 0 or price < self.min_price or price > self.max_price:
            return "Filter failure: PRICE_FILTER"
        if self.min_price_increment > 0 and price % self.min_price_increment != 0:
            return "Filter failure: PRICE_FILTER"
        notional = amount * price
        if self.notional_filter and (notional < self.min_notional_size or notional > self.max_notional_size):
            return f"Filter failure: {self.notional_filter}"
        return None


def trading_rule_from_symbol(obj: Mapping[str, Any]) -> TradingRule:
    """One ``exchangeInfo.symbols[]`` entry as a TradingRule."""
    base, quote = str(obj["baseAsset"]), str(obj["quoteAsset"])
    fields: dict[str, Any] = {}
    for flt in obj.get("filters", []):
        kind = flt.get("filterType")
        if kind == "PRICE_FILTER":
            fields.update(min_price=_dec(flt.get("minPrice")), max_price=_upper_bound(flt.get("maxPrice")),
                          min_price_increment=_dec(flt.get("tickSize")))
        elif kind == "LOT_SIZE":
            fields.update(min_order_size=_dec(flt.get("minQty")), max_order_size=_upper_bound(flt.get("maxQty")),
                          min_base_amount_increment=_dec(flt.get("stepSize")))
        elif kind == "MARKET_LOT_SIZE":
            fields.update(market_min_order_size=_dec(flt.get("minQty")),
                          market_max_order_size=_upper_bound(flt.get("maxQty")),
                          market_base_amount_increment=_dec(flt.get("stepSize")))
        elif kind == "NOTIONAL":
            fields.update(notional_filter="NOTIONAL", min_notional_size=_dec(flt.get("minNotional")),
                          max_notional_size=_upper_bound(flt.get("maxNotional")),
                          min_notional_applies_to_market=bool(flt.get("applyMinToMarket", False)),
                          max_notional_applies_to_market=bool(flt.get("applyMaxToMarket", False)))
        elif kind == "MIN_NOTIONAL" and "notional_filter" not in fields:
            fields.update(notional_filter="MIN_NOTIONAL", min_notional_size=_dec(flt.get("minNotional")),
                          min_notional_applies_to_market=bool(flt.get("applyToMarket", False)))
    return TradingRule(
        trading_pair=f"{base}-{quote}",
        symbol=str(obj["symbol"]),
        base_asset=base,
        quote_asset=quote,
        status=str(obj.get("status", "TRADING")),
        order_types=frozenset(str(t) for t in obj.get("orderTypes", ())),
        base_asset_precision=int(obj.get("baseAssetPrecision", 8)),
        quote_asset_precision=int(obj.get("quoteAssetPrecision", obj.get("quotePrecision", 8))),
        quote_order_qty_market_allowed=bool(obj.get("quoteOrderQtyMarketAllowed", False)),
        **fields,
    )


def trading_rules_from_exchange_info(info: Mapping[str, Any],
                                     trading_pairs: Iterable[str] | None = None) -> dict[str, TradingRule]:
    """Rules keyed by trading pair ("BTC-USDT"); only ``trading_pairs`` when given. A symbol the
    connector cannot read is logged and skipped rather than failing the whole market."""
    wanted = set(trading_pairs) if trading_pairs is not None else None
    rules: dict[str, TradingRule] = {}
    for obj in info.get("symbols", []):
        try:
            rule = trading_rule_from_symbol(obj)
        except (KeyError, ValueError, ArithmeticError) as exc:
            log.warning("skipping symbol %s: cannot read its rules (%r)", obj.get("symbol"), exc)
            continue
        if wanted is None or rule.trading_pair in wanted or rule.symbol in wanted:
            rules[rule.trading_pair] = rule
    return rules


def parse_capture_line(line: str) -> dict[str, Any]:
    """The JSON of a captured ``<url> -> <receive time>: <json>`` line (cryptofeed's format)."""
    arrow = line.find(" -> ")
    start = line.find(": ", arrow + 4 if arrow >= 0 else 0)
    if arrow < 0 or start < 0:
        raise ValueError("not a '<url> -> <time>: <json>' capture line")
    data = json.loads(line[start + 2:])
    if not isinstance(data, dict):
        raise ValueError("the captured body is not a JSON object")
    return data


def load_exchange_info(path: str | Path) -> dict[str, Any]:
    """An exchangeInfo body from a file: plain JSON, or a capture whose first line is
    ``<url> -> <time>: <json>``."""
    text = Path(path).read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        data = json.loads(stripped)
        assert isinstance(data, dict)
        return data
    return parse_capture_line(stripped.splitlines()[0])
