"""Cheap construction of the (frozen) event and fill objects, and of order snapshots.

Why: a frozen dataclass's generated ``__init__`` pays one ``object.__setattr__`` call per field,
which made building events the largest cost of the matching loop (about 2 us per OrderUpdate).
Each builder here is a plain slotted class with exactly the same slots as the real type: it
fills its slots with ordinary attribute stores and then becomes the real type by assigning
``__class__`` (CPython permits this between classes of identical slot layout). The result is
a genuine, still-immutable instance of the ``types`` class: ``type()``, ``==``, ``repr`` and
``dataclasses`` helpers see no difference. The import-time checks below fail loudly if a
field is added to ``types`` without updating the matching builder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_exchange.engine.types import BalanceChange, BookDelta, Fill, Order, OrderUpdate, TradeEvent


def _slots(cls: type) -> tuple[str, ...]:
    slots: tuple[str, ...] = cls.__slots__  # type: ignore[attr-defined]
    return slots


_ORDER_UPDATE_SLOTS = (
    "order", "exec_type", "event_time", "transact_time", "last_qty", "last_price", "last_quote_qty",
    "commission", "commission_asset", "trade_id", "execution_id", "is_maker", "reject_reason",
    "orig_client_order_id", "cancel_client_order_id", "prevented_match_id", "prevented_qty",
    "last_prevented_qty", "counter_order_id",
)  # fmt: skip
_TRADE_SLOTS = (
    "symbol", "trade_id", "price", "qty", "quote_qty", "time", "buyer_order_id", "seller_order_id",
    "is_buyer_maker",
)  # fmt: skip
_FILL_SLOTS = (
    "trade_id", "symbol", "order_id", "account_id", "side", "price", "qty", "quote_qty", "commission",
    "commission_asset", "time", "is_maker",
)  # fmt: skip
_DELTA_SLOTS = ("symbol", "first_update_id", "last_update_id", "bids", "asks", "time")
_BALANCE_SLOTS = ("account_id", "balances", "time", "asset", "delta")
_ORDER_SLOTS = (
    "order_id", "symbol", "account_id", "client_order_id", "side", "type", "time_in_force", "price",
    "orig_qty", "orig_quote_qty", "stop_price", "iceberg_qty", "stp_mode", "time", "update_time",
    "status", "executed_qty", "cum_quote_qty", "working_time", "is_working", "prevented_qty",
    "prevented_match_id", "strategy_id", "strategy_type", "expiry_reason", "locked", "visible_qty",
)  # fmt: skip
for _cls, _expected in (
    (OrderUpdate, _ORDER_UPDATE_SLOTS), (TradeEvent, _TRADE_SLOTS), (Fill, _FILL_SLOTS),
    (BookDelta, _DELTA_SLOTS), (BalanceChange, _BALANCE_SLOTS), (Order, _ORDER_SLOTS),
):  # fmt: skip
    if _slots(_cls) != _expected:
        raise ImportError(f"engine.events builders are out of date with types.{_cls.__name__}")


class _OrderUpdateBuilder:
    __slots__ = _ORDER_UPDATE_SLOTS

    def __init__(
        self, o: Order, exec_type: str, now: int, execution_id: int, last_qty: int = 0, last_price: int = 0,
        last_quote_qty: int = 0, commission: int = 0, commission_asset: str | None = None, trade_id: int = -1,
        is_maker: bool = False, orig_client_order_id: str = "", cancel_client_order_id: str = "",
        prevented_match_id: int = 0, prevented_qty: int = 0, last_prevented_qty: int = 0, counter_order_id: int = 0,
    ) -> None:  # fmt: skip
        # The order snapshot, inlined (same as copy_order) to save a call on the hot path.
        self.order = Order(
            o.order_id, o.symbol, o.account_id, o.client_order_id, o.side, o.type, o.time_in_force, o.price,
            o.orig_qty, o.orig_quote_qty, o.stop_price, o.iceberg_qty, o.stp_mode, o.time, o.update_time,
            o.status, o.executed_qty, o.cum_quote_qty, o.working_time, o.is_working, o.prevented_qty,
            o.prevented_match_id, o.strategy_id, o.strategy_type, o.expiry_reason, o.locked, o.visible_qty,
        )  # fmt: skip
        self.exec_type = exec_type
        self.event_time = now
        self.transact_time = now
        self.last_qty = last_qty
        self.last_price = last_price
        self.last_quote_qty = last_quote_qty
        self.commission = commission
        self.commission_asset = commission_asset
        self.trade_id = trade_id
        self.execution_id = execution_id
        self.is_maker = is_maker
        self.reject_reason = "NONE"
        self.orig_client_order_id = orig_client_order_id
        self.cancel_client_order_id = cancel_client_order_id
        self.prevented_match_id = prevented_match_id
        self.prevented_qty = prevented_qty
        self.last_prevented_qty = last_prevented_qty
        self.counter_order_id = counter_order_id
        self.__class__ = OrderUpdate  # type: ignore[assignment]


class _TradeBuilder:
    __slots__ = _TRADE_SLOTS

    def __init__(
        self, symbol: str, trade_id: int, price: int, qty: int, quote_qty: int, time: int,
        buyer_order_id: int, seller_order_id: int, is_buyer_maker: bool,
    ) -> None:  # fmt: skip
        self.symbol = symbol
        self.trade_id = trade_id
        self.price = price
        self.qty = qty
        self.quote_qty = quote_qty
        self.time = time
        self.buyer_order_id = buyer_order_id
        self.seller_order_id = seller_order_id
        self.is_buyer_maker = is_buyer_maker
        self.__class__ = TradeEvent  # type: ignore[assignment]


class _FillBuilder:
    __slots__ = _FILL_SLOTS

    def __init__(
        self, trade_id: int, symbol: str, order_id: int, account_id: str, side: str, price: int, qty: int,
        quote_qty: int, commission: int, commission_asset: str, time: int, is_maker: bool,
    ) -> None:  # fmt: skip
        self.trade_id = trade_id
        self.symbol = symbol
        self.order_id = order_id
        self.account_id = account_id
        self.side = side
        self.price = price
        self.qty = qty
        self.quote_qty = quote_qty
        self.commission = commission
        self.commission_asset = commission_asset
        self.time = time
        self.is_maker = is_maker
        self.__class__ = Fill  # type: ignore[assignment]


class _DeltaBuilder:
    __slots__ = _DELTA_SLOTS

    def __init__(
        self, symbol: str, update_id: int, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...],
        time: int,
    ) -> None:  # fmt: skip
        self.symbol = symbol
        self.first_update_id = update_id
        self.last_update_id = update_id
        self.bids = bids
        self.asks = asks
        self.time = time
        self.__class__ = BookDelta  # type: ignore[assignment]


class _BalanceBuilder:
    __slots__ = _BALANCE_SLOTS

    def __init__(self, account_id: str, balances: tuple[tuple[str, int, int], ...], time: int) -> None:
        self.account_id = account_id
        self.balances = balances
        self.time = time
        self.asset = ""
        self.delta = 0
        self.__class__ = BalanceChange  # type: ignore[assignment]


def copy_order(o: Order) -> Order:
    """A detached snapshot of ``o`` (every field, positional: the cheapest copy)."""
    return Order(
        o.order_id, o.symbol, o.account_id, o.client_order_id, o.side, o.type, o.time_in_force, o.price,
        o.orig_qty, o.orig_quote_qty, o.stop_price, o.iceberg_qty, o.stp_mode, o.time, o.update_time,
        o.status, o.executed_qty, o.cum_quote_qty, o.working_time, o.is_working, o.prevented_qty,
        o.prevented_match_id, o.strategy_id, o.strategy_type, o.expiry_reason, o.locked, o.visible_qty,
    )  # fmt: skip


if TYPE_CHECKING:
    # For type checkers the builders simply are the real constructors.
    def order_update(
        order: Order,
        exec_type: str,
        now: int,
        execution_id: int,
        last_qty: int = 0,
        last_price: int = 0,
        last_quote_qty: int = 0,
        commission: int = 0,
        commission_asset: str | None = None,
        trade_id: int = -1,
        is_maker: bool = False,
        orig_client_order_id: str = "",
        cancel_client_order_id: str = "",
        prevented_match_id: int = 0,
        prevented_qty: int = 0,
        last_prevented_qty: int = 0,
        counter_order_id: int = 0,
    ) -> OrderUpdate:
        """An OrderUpdate carrying a snapshot of ``order``; event and transaction time are ``now``."""
        ...

    def trade_event(
        symbol: str, trade_id: int, price: int, qty: int, quote_qty: int, time: int,
        buyer_order_id: int, seller_order_id: int, is_buyer_maker: bool,
    ) -> TradeEvent: ...  # fmt: skip

    def fill(
        trade_id: int, symbol: str, order_id: int, account_id: str, side: str, price: int, qty: int,
        quote_qty: int, commission: int, commission_asset: str, time: int, is_maker: bool,
    ) -> Fill: ...  # fmt: skip

    def book_delta(
        symbol: str, update_id: int, bids: tuple[tuple[int, int], ...], asks: tuple[tuple[int, int], ...],
        time: int,
    ) -> BookDelta: ...  # fmt: skip

    def balance_change(
        account_id: str, balances: tuple[tuple[str, int, int], ...], time: int
    ) -> BalanceChange: ...
else:
    order_update = _OrderUpdateBuilder
    trade_event = _TradeBuilder
    fill = _FillBuilder
    book_delta = _DeltaBuilder
    balance_change = _BalanceBuilder
