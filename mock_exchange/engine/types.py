"""Engine vocabulary: orders, fills, events and the one error type.

Enums are plain string constants (the venue's spelling) rather than ``enum.Enum``: they cross
the wire as-is and string comparison is the cheapest check in the matching loop.
All amounts are ints in 1e-8 units (see ``units``); all times are integer milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Sides, order types, time in force, statuses, execution types, STP modes.
BUY = "BUY"
SELL = "SELL"
SIDES = (BUY, SELL)

LIMIT = "LIMIT"
MARKET = "MARKET"
LIMIT_MAKER = "LIMIT_MAKER"
STOP_LOSS = "STOP_LOSS"
STOP_LOSS_LIMIT = "STOP_LOSS_LIMIT"
TAKE_PROFIT = "TAKE_PROFIT"
TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
ORDER_TYPES = (LIMIT, MARKET, LIMIT_MAKER, STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT)
STOP_TYPES = (STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT)

GTC = "GTC"
IOC = "IOC"
FOK = "FOK"
TIME_IN_FORCES = (GTC, IOC, FOK)

NEW = "NEW"
PARTIALLY_FILLED = "PARTIALLY_FILLED"
FILLED = "FILLED"
CANCELED = "CANCELED"
REJECTED = "REJECTED"
EXPIRED = "EXPIRED"
EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"
PENDING_NEW = "PENDING_NEW"
OPEN_STATUSES = (NEW, PARTIALLY_FILLED)

X_NEW = "NEW"
X_CANCELED = "CANCELED"
X_REPLACED = "REPLACED"
X_REJECTED = "REJECTED"
X_TRADE = "TRADE"
X_EXPIRED = "EXPIRED"
X_TRADE_PREVENTION = "TRADE_PREVENTION"

STP_NONE = "NONE"
STP_EXPIRE_TAKER = "EXPIRE_TAKER"
STP_EXPIRE_MAKER = "EXPIRE_MAKER"
STP_EXPIRE_BOTH = "EXPIRE_BOTH"
STP_DECREMENT = "DECREMENT"
STP_TRANSFER = "TRANSFER"
STP_MODES = (STP_NONE, STP_EXPIRE_TAKER, STP_EXPIRE_MAKER, STP_EXPIRE_BOTH, STP_DECREMENT, STP_TRANSFER)


class EngineError(Exception):
    """A rejection with the venue's error code and exact message (e.g. -2010, -1013)."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg


@dataclass(slots=True)
class Order:
    """One order, mutable while it lives; the engine owns it, callers read it."""

    order_id: int
    symbol: str
    account_id: str
    client_order_id: str
    side: str
    type: str
    time_in_force: str  # "" for MARKET / stop-market types, as the venue shows GTC there
    price: int  # 0 when none
    orig_qty: int  # for quoteOrderQty MARKET orders: the quantity actually executed at the end
    orig_quote_qty: int  # 0 unless quoteOrderQty was used
    stop_price: int  # 0 when none
    iceberg_qty: int  # 0 when none
    stp_mode: str
    time: int  # creation time (ms)
    update_time: int
    status: str = NEW
    executed_qty: int = 0
    cum_quote_qty: int = 0
    working_time: int = -1  # -1 until the order is working (on the book or executing)
    is_working: bool = True  # False for an untriggered stop order
    prevented_qty: int = 0
    prevented_match_id: int = 0  # 0 = none
    strategy_id: int | None = None
    strategy_type: int | None = None
    expiry_reason: str = ""  # "" = none; else e.g. UNFILLED_IOC_QUANTITY_EXPIRED
    # Quote balance locked for this order and not yet spent (BUY) or base locked (SELL).
    locked: int = 0
    # Iceberg bookkeeping: quantity currently displayed on the book.
    visible_qty: int = 0

    @property
    def remaining(self) -> int:
        return self.orig_qty - self.executed_qty - self.prevented_qty

    @property
    def is_open(self) -> bool:
        return self.status == NEW or self.status == PARTIALLY_FILLED


@dataclass(slots=True, frozen=True)
class Fill:
    """One fill of one order (the FULL response's ``fills`` item and a myTrades row)."""

    trade_id: int
    symbol: str
    order_id: int
    account_id: str
    side: str
    price: int
    qty: int
    quote_qty: int
    commission: int
    commission_asset: str
    time: int
    is_maker: bool


# ----------------------------------------------------------------------------- events
@dataclass(slots=True, frozen=True)
class TradeEvent:
    """A public trade (``@trade`` stream, /trades)."""

    symbol: str
    trade_id: int
    price: int
    qty: int
    quote_qty: int
    time: int
    buyer_order_id: int
    seller_order_id: int
    is_buyer_maker: bool


@dataclass(slots=True, frozen=True)
class BookDelta:
    """Levels changed by one engine operation, with their new absolute visible quantities.

    ``first_update_id``..``last_update_id`` is the slice of the symbol's update-id counter this
    operation consumed (a diff's ``U``/``u``). A quantity of 0 removes the level.
    """

    symbol: str
    first_update_id: int
    last_update_id: int
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]
    time: int


@dataclass(slots=True, frozen=True)
class OrderUpdate:
    """An execution report: one order state change (field meanings as the venue's)."""

    order: Order  # snapshot copy taken when the event was emitted
    exec_type: str  # x
    event_time: int
    transact_time: int
    last_qty: int = 0  # l
    last_price: int = 0  # L
    last_quote_qty: int = 0  # Y
    commission: int = 0  # n
    commission_asset: str | None = None  # N
    trade_id: int = -1  # t
    execution_id: int = 0  # I
    is_maker: bool = False  # m
    reject_reason: str = "NONE"  # r
    orig_client_order_id: str = ""  # C: set on cancel
    cancel_client_order_id: str = ""  # c on cancel reports (the cancel's own id)
    prevented_match_id: int = 0  # v
    prevented_qty: int = 0  # A (cumulative)
    last_prevented_qty: int = 0  # B
    counter_order_id: int = 0  # U


@dataclass(slots=True, frozen=True)
class BalanceChange:
    """Free/locked after a change, for every asset the operation touched.

    ``delta``/``asset`` are set for deposits and withdrawals (balanceUpdate); trades and
    order locks leave them empty (outboundAccountPosition only).
    """

    account_id: str
    balances: tuple[tuple[str, int, int], ...]  # (asset, free, locked)
    time: int
    asset: str = ""
    delta: int = 0


Event = TradeEvent | BookDelta | OrderUpdate | BalanceChange


@dataclass(slots=True)
class PlaceResult:
    """What ``Engine.place_order`` returns: the order after matching and its fills."""

    order: Order
    fills: list[Fill] = field(default_factory=list)
