"""Cancel, cancel restrictions, cancel-all, cancel-replace and client order ids."""

from __future__ import annotations

from typing import Any

import pytest

from mock_exchange.engine import EngineError
from tests.engine.engine_fixtures import (
    START_BALANCES,
    U,
    check_invariants,
    kinds,
    limit,
    make_engine,
    make_spec,
    updates,
)


def _err(exc: pytest.ExceptionInfo[EngineError]) -> tuple[int, str]:
    return exc.value.code, exc.value.msg


def test_cancel_by_id_unlocks_and_reports_both_client_ids() -> None:
    eng, _ = make_engine()
    o = limit(eng, "a", "BUY", "1", "100", client_order_id="mine-1").order
    eng.drain_events()
    got = eng.cancel_order("a", "BTCUSDT", order_id=o.order_id, new_client_order_id="cxl-1")
    assert got.status == "CANCELED" and got.client_order_id == "mine-1"
    assert eng.account("a").balance("USDT") == (START_BALANCES["USDT"], 0)
    events = eng.drain_events()
    assert kinds(events) == [f"U:CANCELED:{o.order_id}", "D", "B:a"]
    up = updates(events)[0]
    assert (up.orig_client_order_id, up.cancel_client_order_id) == ("mine-1", "cxl-1")
    assert events[1].bids == ((U("100"), 0),)  # type: ignore[union-attr]
    assert eng.depth("BTCUSDT", 5)[1:] == ([], [])
    check_invariants(eng)


def test_cancel_by_client_id_and_id_mismatch() -> None:
    eng, _ = make_engine()
    o = limit(eng, "a", "SELL", "1", "100", client_order_id="x1").order
    with pytest.raises(EngineError) as err:
        eng.cancel_order("a", "BTCUSDT", order_id=o.order_id, orig_client_order_id="other")
    assert _err(err) == (-2011, "Unknown order sent.")
    assert eng.cancel_order("a", "BTCUSDT", orig_client_order_id="x1").status == "CANCELED"
    cxl = updates(eng.drain_events())[-1].cancel_client_order_id
    assert len(cxl) == 22  # generated when not given


@pytest.mark.parametrize("case", ["unknown", "filled", "other_account", "canceled"])
def test_cancel_rejections(case: str) -> None:
    eng, _ = make_engine()
    o = limit(eng, "a", "SELL", "1", "100").order
    oid = o.order_id
    acct = "a"
    if case == "unknown":
        oid = 99
    elif case == "filled":
        limit(eng, "b", "BUY", "1", "100")
    elif case == "other_account":
        acct = "b"
    else:
        eng.cancel_order("a", "BTCUSDT", oid)
    with pytest.raises(EngineError) as err:
        eng.cancel_order(acct, "BTCUSDT", oid)
    assert _err(err) == (-2011, "Unknown order sent.")


def test_cancel_restrictions() -> None:
    eng, _ = make_engine()
    fresh = limit(eng, "a", "SELL", "1", "105").order
    partial = limit(eng, "a", "SELL", "2", "101").order
    limit(eng, "b", "BUY", "1", "101")
    assert eng.get_order("a", "BTCUSDT", partial.order_id).status == "PARTIALLY_FILLED"
    restricted = (-2011, "Order was not canceled due to cancel restrictions.")
    with pytest.raises(EngineError) as err:
        eng.cancel_order("a", "BTCUSDT", partial.order_id, cancel_restrictions="ONLY_NEW")
    assert _err(err) == restricted
    with pytest.raises(EngineError) as err:
        eng.cancel_order("a", "BTCUSDT", fresh.order_id, cancel_restrictions="ONLY_PARTIALLY_FILLED")
    assert _err(err) == restricted
    with pytest.raises(EngineError) as err:
        eng.cancel_order("a", "BTCUSDT", fresh.order_id, cancel_restrictions="NEW_ONLY")
    assert _err(err) == (-1145, "Invalid cancelRestrictions")
    assert (
        eng.cancel_order("a", "BTCUSDT", fresh.order_id, cancel_restrictions="ONLY_NEW").status == "CANCELED"
    )
    got = eng.cancel_order("a", "BTCUSDT", partial.order_id, cancel_restrictions="ONLY_PARTIALLY_FILLED")
    assert got.status == "CANCELED" and got.executed_qty == U("1")
    check_invariants(eng)


def test_cancel_all_cancels_book_and_parked_orders_in_one_operation() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "BUY", "1", "99")
    limit(eng, "a", "SELL", "1", "101")
    eng.place_order("a", "BTCUSDT", "BUY", "STOP_LOSS", quantity=U("1"), stop_price=U("120"))
    limit(eng, "b", "BUY", "1", "98")
    eng.drain_events()
    uid = eng.last_update_id("BTCUSDT")
    done = eng.cancel_all("a", "BTCUSDT")
    assert [o.order_id for o in done] == [1, 2, 3] and {o.status for o in done} == {"CANCELED"}
    assert eng.last_update_id("BTCUSDT") == uid + 1
    assert kinds(eng.drain_events()) == ["U:CANCELED:1", "U:CANCELED:2", "U:CANCELED:3", "D", "B:a"]
    assert eng.depth("BTCUSDT", 5)[1:] == ([(U("98"), U("1"))], [])
    with pytest.raises(EngineError) as err:
        eng.cancel_all("a", "BTCUSDT")
    assert _err(err) == (-2011, "Unknown order sent.")
    check_invariants(eng)


@pytest.mark.parametrize("status", ["CANCEL_ONLY", "HALT", "BREAK", "END_OF_DAY"])
def test_closed_market_rejects_new_orders_but_allows_cancels(status: str) -> None:
    eng, _ = make_engine()
    o = limit(eng, "a", "BUY", "1", "99").order
    eng.set_symbol_status("BTCUSDT", status)
    with pytest.raises(EngineError) as err:
        limit(eng, "a", "BUY", "1", "99")
    assert _err(err) == (-2010, "Market is closed.")
    assert eng.cancel_order("a", "BTCUSDT", o.order_id).status == "CANCELED"


def test_client_order_id_unique_among_open_orders_only() -> None:
    eng, _ = make_engine()
    o = limit(eng, "a", "BUY", "1", "99", client_order_id="dup").order
    with pytest.raises(EngineError) as err:
        limit(eng, "a", "BUY", "1", "98", client_order_id="dup")
    assert _err(err) == (-2010, "Duplicate order sent.")
    limit(eng, "b", "BUY", "1", "98", client_order_id="dup")  # other accounts are independent
    eng.cancel_order("a", "BTCUSDT", o.order_id)
    again = limit(eng, "a", "BUY", "1", "97", client_order_id="dup").order
    assert eng.get_order("a", "BTCUSDT", orig_client_order_id="dup").order_id == again.order_id


def test_cancel_replace_success() -> None:
    eng, _ = make_engine()
    o = limit(eng, "a", "BUY", "1", "99").order
    eng.drain_events()
    res = eng.cancel_replace(
        "a", "BTCUSDT", cancel_order_id=o.order_id, side="BUY", type="LIMIT", quantity=U("2"), price=U("98"),
        time_in_force="GTC", client_order_id="new-1",
    )  # fmt: skip
    assert res.canceled is not None and res.canceled.status == "CANCELED" and res.cancel_error is None
    assert res.placed is not None and res.placed.order.client_order_id == "new-1" and res.new_error is None
    assert eng.depth("BTCUSDT", 5)[1] == [(U("98"), U("2"))]
    assert eng.account("a").balance("USDT")[1] == U("196")
    assert kinds(eng.drain_events()) == ["U:CANCELED:1", "D", "B:a", "U:NEW:2", "D", "B:a"]
    check_invariants(eng)


def test_cancel_replace_stop_on_failure_vs_allow_failure() -> None:
    eng, _ = make_engine()
    kw: dict[str, Any] = {
        "side": "BUY",
        "type": "LIMIT",
        "quantity": U("1"),
        "price": U("90"),
        "time_in_force": "GTC",
    }
    res = eng.cancel_replace("a", "BTCUSDT", cancel_order_id=42, **kw)
    assert res.canceled is None and res.placed is None and res.new_error is None
    assert res.cancel_error is not None and res.cancel_error.code == -2011
    assert eng.open_orders("a") == []
    res = eng.cancel_replace("a", "BTCUSDT", cancel_order_id=42, mode="ALLOW_FAILURE", **kw)
    assert res.cancel_error is not None and res.placed is not None and res.placed.order.status == "NEW"


def test_cancel_replace_new_order_filters_run_before_the_cancel() -> None:
    eng, _ = make_engine()
    o = limit(eng, "a", "BUY", "1", "99").order
    with pytest.raises(EngineError) as err:
        eng.cancel_replace(
            "a", "BTCUSDT", cancel_order_id=o.order_id, side="BUY", type="LIMIT", quantity=U("1"),
            price=U("98.001"), time_in_force="GTC",
        )  # fmt: skip
    assert _err(err) == (-1013, "Filter failure: PRICE_FILTER")
    assert eng.get_order("a", "BTCUSDT", o.order_id).status == "NEW"


def test_cancel_replace_new_order_fails_after_cancel() -> None:
    eng, _ = make_engine()
    eng.create_account("small", {"USDT": U("100")})
    o = limit(eng, "small", "BUY", "1", "99").order
    res = eng.cancel_replace(
        "small", "BTCUSDT", cancel_order_id=o.order_id, side="BUY", type="LIMIT", quantity=U("2"),
        price=U("99"), time_in_force="GTC",
    )  # fmt: skip
    assert res.canceled is not None and res.placed is None
    assert (
        res.new_error is not None
        and res.new_error.msg == "Account has insufficient balance for requested action."
    )
    assert eng.account("small").balance("USDT") == (U("100"), 0)


def test_cancel_replace_at_max_num_orders_counts_the_canceled_slot() -> None:
    eng, _ = make_engine(specs=[make_spec(max_num_orders=1)])
    o = limit(eng, "a", "BUY", "1", "99").order
    with pytest.raises(EngineError) as err:
        limit(eng, "a", "BUY", "1", "98")
    assert _err(err) == (-1013, "Filter failure: MAX_NUM_ORDERS")
    res = eng.cancel_replace(
        "a", "BTCUSDT", cancel_order_id=o.order_id, side="BUY", type="LIMIT", quantity=U("1"), price=U("98"),
        time_in_force="GTC",
    )  # fmt: skip
    assert res.placed is not None and res.new_error is None


def test_cancel_replace_not_allowed_on_symbol() -> None:
    eng, _ = make_engine(specs=[make_spec(cancel_replace_allowed=False)])
    with pytest.raises(EngineError) as err:
        eng.cancel_replace("a", "BTCUSDT", cancel_order_id=1, side="BUY", type="MARKET", quantity=U("1"))
    assert _err(err) == (-2010, "Order cancel-replace is not supported for this symbol.")
