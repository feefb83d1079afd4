"""The fast event builders produce the very objects the ``types`` constructors would."""

from __future__ import annotations

import dataclasses

import pytest

from mock_exchange.engine import BalanceChange, BookDelta, Fill, Order, OrderUpdate, TradeEvent
from mock_exchange.engine.events import (
    balance_change,
    book_delta,
    copy_order,
    fill,
    order_update,
    trade_event,
)


def _order() -> Order:
    return Order(7, "BTCUSDT", "a", "cid", "BUY", "LIMIT", "GTC", 100, 200, 0, 0, 0, "NONE", 5, 6, locked=9)


def test_builders_equal_the_dataclass_constructors() -> None:
    o = _order()
    built = order_update(o, "TRADE", 10, 3, 1, 2, 3, 4, "BTC", 5, True, "x", "y", 6, 7, 8, 9)
    real = OrderUpdate(o, "TRADE", 10, 10, 1, 2, 3, 4, "BTC", 5, 3, True, "NONE", "x", "y", 6, 7, 8, 9)
    assert type(built) is OrderUpdate and built == real and repr(built) == repr(real)
    assert built.order == o and built.order is not o  # a snapshot, not the live order
    assert trade_event("S", 1, 2, 3, 4, 5, 6, 7, True) == TradeEvent("S", 1, 2, 3, 4, 5, 6, 7, True)
    assert fill(1, "S", 2, "a", "BUY", 3, 4, 5, 6, "BTC", 7, False) == Fill(
        1, "S", 2, "a", "BUY", 3, 4, 5, 6, "BTC", 7, False
    )
    assert book_delta("S", 4, ((1, 2),), (), 9) == BookDelta("S", 4, 4, ((1, 2),), (), 9)
    assert balance_change("a", (("BTC", 1, 2),), 3) == BalanceChange("a", (("BTC", 1, 2),), 3)
    assert type(balance_change("a", (), 3)) is BalanceChange


def test_built_events_stay_immutable_and_hashable() -> None:
    ev = trade_event("S", 1, 2, 3, 4, 5, 6, 7, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.price = 3  # type: ignore[misc]
    assert hash(ev) == hash(TradeEvent("S", 1, 2, 3, 4, 5, 6, 7, True))
    assert dataclasses.asdict(book_delta("S", 1, (), (), 2))["first_update_id"] == 1


def test_copy_order_copies_every_field() -> None:
    o = _order()
    c = copy_order(o)
    assert c == o and c is not o
    assert [f.name for f in dataclasses.fields(Order)] == list(Order.__slots__)
