"""Symbol specifications: status, assets, precisions and parsed filters (all amounts in units).

A ``SymbolSpec`` keeps the venue's JSON for its filters (``raw_filters``) so exchangeInfo can
echo exactly what was loaded, and parsed integer forms for the fast checks in ``filters``.
Loading from an exchangeInfo JSON or a config file lives in ``symbol_loader``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ALL_ORDER_TYPES: tuple[str, ...] = (
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
ALL_STP_MODES: tuple[str, ...] = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT")
SYMBOL_STATUSES: tuple[str, ...] = ("TRADING", "END_OF_DAY", "HALT", "BREAK", "CANCEL_ONLY")


@dataclass(slots=True, frozen=True)
class PriceFilter:
    min_price: int
    max_price: int
    tick_size: int


@dataclass(slots=True, frozen=True)
class LotSize:
    """LOT_SIZE and MARKET_LOT_SIZE share this shape; 0 disables a rule."""

    min_qty: int
    max_qty: int
    step_size: int


@dataclass(slots=True, frozen=True)
class MinNotional:
    min_notional: int
    apply_to_market: bool
    avg_price_mins: int


@dataclass(slots=True, frozen=True)
class Notional:
    min_notional: int
    apply_min_to_market: bool
    max_notional: int
    apply_max_to_market: bool
    avg_price_mins: int


@dataclass(slots=True, frozen=True)
class PercentPrice:
    """Multipliers in units (1e-8), so 5 == 500_000_000."""

    multiplier_up: int
    multiplier_down: int
    avg_price_mins: int


@dataclass(slots=True, frozen=True)
class PercentPriceBySide:
    bid_multiplier_up: int
    bid_multiplier_down: int
    ask_multiplier_up: int
    ask_multiplier_down: int
    avg_price_mins: int


@dataclass(slots=True)
class SymbolSpec:
    symbol: str
    base_asset: str
    quote_asset: str
    status: str = "TRADING"
    base_asset_precision: int = 8
    quote_precision: int = 8
    quote_asset_precision: int = 8
    base_commission_precision: int = 8
    quote_commission_precision: int = 8
    order_types: tuple[str, ...] = ALL_ORDER_TYPES
    iceberg_allowed: bool = True
    oco_allowed: bool = True
    oto_allowed: bool = True
    quote_order_qty_market_allowed: bool = True
    allow_trailing_stop: bool = False
    cancel_replace_allowed: bool = True
    amend_allowed: bool = False
    peg_instructions_allowed: bool = False
    is_spot_trading_allowed: bool = True
    is_margin_trading_allowed: bool = False
    permissions: tuple[str, ...] = ()
    permission_sets: tuple[tuple[str, ...], ...] = (("SPOT",),)
    default_stp_mode: str = "EXPIRE_MAKER"
    allowed_stp_modes: tuple[str, ...] = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT")
    # Parsed filters (None = absent).
    price_filter: PriceFilter | None = None
    lot_size: LotSize | None = None
    market_lot_size: LotSize | None = None
    min_notional: MinNotional | None = None
    notional: Notional | None = None
    percent_price: PercentPrice | None = None
    percent_price_by_side: PercentPriceBySide | None = None
    max_num_orders: int | None = None
    max_num_algo_orders: int | None = None
    max_num_iceberg_orders: int | None = None
    iceberg_parts: int | None = None
    # The venue's filter objects as loaded, echoed verbatim by exchangeInfo.
    raw_filters: list[dict[str, Any]] = field(default_factory=list)
    # Any other symbol-level fields from a loaded exchangeInfo (echoed verbatim).
    extra: dict[str, Any] = field(default_factory=dict)
