"""Self-trade prevention: the taker's mode decides, as in the venue's STP FAQ scenarios."""

from __future__ import annotations

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


def _three_own_bids():  # type: ignore[no-untyped-def]
    eng, _ = make_engine()
    ids = [
        limit(eng, "a", "BUY", "1.2", "1.2", stp_mode="NONE").order.order_id,
        limit(eng, "a", "BUY", "1.3", "1.1", stp_mode="NONE").order.order_id,
        limit(eng, "a", "BUY", "8.1", "1", stp_mode="NONE").order.order_id,
    ]
    eng.drain_events()
    return eng, ids


def test_none_lets_the_self_trade_happen() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "BUY", "1", "1", stp_mode="NONE")
    res = limit(eng, "a", "SELL", "1", "1", stp_mode="NONE")
    assert res.order.status == "FILLED" and len(res.fills) == 1
    check_invariants(eng)


def test_expire_maker_expires_own_orders_and_taker_rests() -> None:
    eng, ids = _three_own_bids()
    res = limit(eng, "a", "SELL", "3", "1", stp_mode="EXPIRE_MAKER")
    assert res.order.status == "NEW" and res.fills == []
    for oid, qty in zip(ids, ("1.2", "1.3", "8.1"), strict=True):
        o = eng.get_order("a", "BTCUSDT", oid)
        assert o.status == "EXPIRED_IN_MATCH" and o.prevented_qty == U(qty)
    events = eng.drain_events()
    prevented = [u for u in updates(events) if u.exec_type == "TRADE_PREVENTION"]
    assert [u.order.order_id for u in prevented] == ids
    assert [u.prevented_match_id for u in prevented] == [1, 2, 3]
    assert all(u.counter_order_id == res.order.order_id for u in prevented)
    assert [u.last_prevented_qty for u in prevented] == [U("1.2"), U("1.3"), U("8.1")]
    assert eng.depth("BTCUSDT", 5)[1:] == ([], [(U("1"), U("3"))])
    assert eng.account("a").balance("USDT") == (START_BALANCES["USDT"], 0)
    check_invariants(eng)


def test_expire_taker_keeps_the_makers() -> None:
    eng, ids = _three_own_bids()
    res = limit(eng, "a", "SELL", "3", "1", stp_mode="EXPIRE_TAKER")
    assert res.order.status == "EXPIRED_IN_MATCH" and res.order.prevented_qty == U("3")
    assert res.order.prevented_match_id == 1
    assert [eng.get_order("a", "BTCUSDT", i).status for i in ids] == ["NEW"] * 3
    assert kinds(eng.drain_events()) == ["U:NEW:4", "U:TRADE_PREVENTION:4", "B:a"]
    check_invariants(eng)


def test_expire_both() -> None:
    eng, _ = make_engine()
    maker = limit(eng, "a", "BUY", "1", "1", stp_mode="NONE").order
    res = limit(eng, "a", "SELL", "3", "1", stp_mode="EXPIRE_BOTH")
    assert res.order.status == "EXPIRED_IN_MATCH" and res.order.prevented_qty == U("3")
    m = eng.get_order("a", "BTCUSDT", maker.order_id)
    assert m.status == "EXPIRED_IN_MATCH" and m.prevented_qty == U("1")
    assert m.prevented_match_id == res.order.prevented_match_id
    assert eng.depth("BTCUSDT", 5)[1:] == ([], [])
    check_invariants(eng)


def test_decrement_expires_the_smaller_order() -> None:
    eng, _ = make_engine()
    maker = limit(eng, "a", "BUY", "6", "2", stp_mode="NONE").order
    res = limit(eng, "a", "SELL", "2", "2", stp_mode="DECREMENT")
    assert res.order.status == "EXPIRED_IN_MATCH" and res.order.prevented_qty == U("2")
    m = eng.get_order("a", "BTCUSDT", maker.order_id)
    assert m.status == "NEW" and m.prevented_qty == U("2")
    assert eng.depth("BTCUSDT", 5)[1] == [(U("2"), U("4"))]
    assert eng.account("a").balance("USDT")[1] == U("8")  # 4 left at 2
    both = [u for u in updates(eng.drain_events()) if u.exec_type == "TRADE_PREVENTION"]
    assert {u.order.order_id for u in both} == {maker.order_id, res.order.order_id}
    check_invariants(eng)


def test_decrement_continues_past_a_smaller_own_maker() -> None:
    eng, _ = make_engine()
    own = limit(eng, "a", "BUY", "1", "2", stp_mode="NONE").order
    limit(eng, "b", "BUY", "5", "2")
    res = limit(eng, "a", "SELL", "3", "2", stp_mode="DECREMENT")
    assert eng.get_order("a", "BTCUSDT", own.order_id).status == "EXPIRED_IN_MATCH"
    assert (
        res.order.status == "FILLED"
        and res.order.prevented_qty == U("1")
        and res.order.executed_qty == U("2")
    )
    check_invariants(eng)


def test_other_accounts_are_not_affected_and_trading_continues_past_own_orders() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "1", "100")
    limit(eng, "b", "SELL", "1", "100")
    res = limit(eng, "a", "BUY", "2", "100", stp_mode="EXPIRE_MAKER")
    assert len(res.fills) == 1 and res.fills[0].qty == U("1")
    assert res.order.status == "PARTIALLY_FILLED"
    check_invariants(eng)


def test_market_order_with_expire_maker_expires_for_liquidity() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "BUY", "1", "1", stp_mode="NONE")
    res = eng.place_order("a", "BTCUSDT", "SELL", "MARKET", quantity=U("1"), stp_mode="EXPIRE_MAKER")
    assert res.order.status == "EXPIRED" and res.order.expiry_reason == "INSUFFICIENT_LIQUIDITY"
    assert res.fills == []
    check_invariants(eng)


def test_symbol_default_mode_applies_when_omitted() -> None:
    eng, _ = make_engine(specs=[make_spec(default_stp_mode="EXPIRE_TAKER")])
    limit(eng, "a", "BUY", "1", "1")
    res = limit(eng, "a", "SELL", "1", "1")
    assert res.order.stp_mode == "EXPIRE_TAKER" and res.order.status == "EXPIRED_IN_MATCH"


def test_mode_outside_the_allowed_list_is_rejected() -> None:
    eng, _ = make_engine(
        specs=[make_spec(allowed_stp_modes=("NONE", "EXPIRE_TAKER"), default_stp_mode="NONE")]
    )
    for mode in ("EXPIRE_MAKER", "TRANSFER", "BOGUS"):
        with pytest.raises(EngineError) as err:
            limit(eng, "a", "BUY", "1", "1", stp_mode=mode)
        assert (err.value.code, err.value.msg) == (
            -1013,
            "This symbol does not allow the specified self-trade prevention mode.",
        )


def test_fok_does_not_count_own_liquidity_when_stp_would_prevent_it() -> None:
    eng, _ = make_engine()
    limit(eng, "a", "SELL", "1", "100", stp_mode="NONE")
    limit(eng, "b", "SELL", "1", "100")
    res = limit(eng, "a", "BUY", "2", "100", tif="FOK", stp_mode="EXPIRE_MAKER")
    assert res.order.status == "EXPIRED" and res.fills == []
    assert len(eng.open_orders("a")) == 1  # nothing was expired by the failed FOK
    res = limit(eng, "a", "BUY", "1", "100", tif="FOK", stp_mode="EXPIRE_MAKER")
    assert res.order.status == "FILLED"
    assert eng.open_orders("a") == []  # its own maker was expired on the way
    check_invariants(eng)
