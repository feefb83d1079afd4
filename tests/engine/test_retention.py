"""Retention of finished orders and fills: what queries still see, and what is archived.

Within an account's retention every query answers as before; an order it no longer keeps is
unknown to GET order / myTrades by orderId (-2013 "Order does not exist."), left out of
allOrders, and a cancel of it is refused as for any finished order (-2011). Open orders are
never archived, and retention never changes the events anyone receives.
"""

from __future__ import annotations

import random

import pytest

from mock_exchange.engine import (
    DEFAULT_RETENTION,
    KEEP_ALL,
    KEEP_NONE,
    Engine,
    EngineError,
    Retention,
    TradeEvent,
)
from mock_exchange.engine.types import Event
from tests.engine.engine_fixtures import START_BALANCES, U, check_invariants, limit, make_engine

SYM = "BTCUSDT"


def _missing(fn: object, *args: object, **kw: object) -> tuple[int, str]:
    assert callable(fn)
    with pytest.raises(EngineError) as err:
        fn(*args, **kw)
    return err.value.code, err.value.msg


def _cancelled(eng: Engine, acct: str, n: int, price: str = "90") -> list[int]:
    """Place and cancel ``n`` bids of ``acct``; their order ids."""
    ids = []
    for _ in range(n):
        oid = limit(eng, acct, "BUY", "1", price).order.order_id
        eng.cancel_order(acct, SYM, oid)
        ids.append(oid)
    return ids


def test_the_default_keeps_a_venue_like_history_and_archives_unfilled_orders_after_90_days() -> None:
    assert (DEFAULT_RETENTION.unfilled_orders, DEFAULT_RETENTION.filled_orders, DEFAULT_RETENTION.fills) == (
        20_000, 100_000, 200_000
    )
    assert DEFAULT_RETENTION.unfilled_max_age_ms == 90 * 86_400_000
    eng, clock = make_engine()
    assert eng.account("a").retention == DEFAULT_RETENTION
    unfilled = _cancelled(eng, "a", 1)[0]
    filled = limit(eng, "a", "SELL", "1", "100").order.order_id
    limit(eng, "b", "BUY", "1", "100")
    clock.advance(90 * 86_400_000 - 1)
    assert eng.get_order("a", SYM, unfilled).status == "CANCELED"
    clock.advance(1)  # nothing else happens: the query itself notices the age
    assert _missing(eng.get_order, "a", SYM, unfilled) == (-2013, "Order does not exist.")
    assert [o.order_id for o in eng.all_orders("a", SYM)] == [filled]
    assert eng.get_order("a", SYM, filled).status == "FILLED"  # orders with fills are kept
    assert [t.order_id for t in eng.my_trades("a", SYM, order_id=filled)] == [filled]


def test_only_the_newest_unfilled_orders_are_kept_and_the_older_ones_look_unknown() -> None:
    eng, _ = make_engine()
    eng.set_retention("a", Retention(unfilled_orders=3))
    resting = limit(eng, "a", "BUY", "1", "80", client_order_id="old-but-open").order.order_id
    ids = _cancelled(eng, "a", 5)
    assert [o.order_id for o in eng.all_orders("a", SYM)] == [resting, *ids[2:]]
    for oid in ids[:2]:
        assert _missing(eng.get_order, "a", SYM, oid) == (-2013, "Order does not exist.")
        assert _missing(eng.my_trades, "a", SYM, order_id=oid) == (-2013, "Order does not exist.")
        assert _missing(eng.cancel_order, "a", SYM, oid) == (-2011, "Unknown order sent.")
    for oid in ids[2:]:
        assert eng.get_order("a", SYM, oid).status == "CANCELED"
    # The open order is older than all of them and still fully there.
    assert eng.get_order("a", SYM, orig_client_order_id="old-but-open").status == "NEW"
    assert eng.cancel_order("a", SYM, resting).status == "CANCELED"
    # Another account's history is untouched by a's retention.
    b_ids = _cancelled(eng, "b", 5)
    assert [o.order_id for o in eng.all_orders("b", SYM)] == b_ids
    check_invariants(eng)


def test_orders_that_traded_are_counted_apart_from_those_that_never_did() -> None:
    eng, _ = make_engine()
    eng.set_retention("a", Retention(unfilled_orders=1, filled_orders=2))
    filled = []
    for i in range(3):
        filled.append(limit(eng, "a", "SELL", "1", str(100 + i)).order.order_id)
        limit(eng, "b", "BUY", "1", str(100 + i))
    unfilled = _cancelled(eng, "a", 3)
    # A half-filled then cancelled order traded: it is a "filled" one.
    partial = limit(eng, "a", "SELL", "2", "110").order.order_id
    limit(eng, "b", "BUY", "1", "110")
    eng.cancel_order("a", SYM, partial)
    kept = [(o.order_id, o.status) for o in eng.all_orders("a", SYM)]
    assert kept == [(filled[2], "FILLED"), (unfilled[2], "CANCELED"), (partial, "CANCELED")]
    # Fills outlive their archived orders in the plain trade history.
    assert len(eng.my_trades("a", SYM)) == 4


def test_the_fill_history_keeps_the_newest_fills_with_the_usual_windows() -> None:
    eng, clock = make_engine()
    eng.set_retention("a", Retention(fills=3))
    times = []
    for i in range(6):
        times.append(clock.now)
        limit(eng, "a", "SELL", "1", str(100 + i))
        limit(eng, "b", "BUY", "1", str(100 + i))
        clock.advance(1000)
    trades = eng.my_trades("a", SYM)
    assert [t.price for t in trades] == [U("103"), U("104"), U("105")]
    ids = [t.trade_id for t in trades]
    assert [t.trade_id for t in eng.my_trades("a", SYM, from_id=1)] == ids  # oldest kept first
    assert [t.trade_id for t in eng.my_trades("a", SYM, limit=2)] == ids[1:]
    assert eng.my_trades("a", SYM, start_time=times[0], end_time=times[2]) == []
    assert [t.trade_id for t in eng.my_trades("a", SYM, start_time=times[4])] == ids[1:]
    assert len(eng.my_trades("b", SYM)) == 6  # the counterparty keeps its own


def test_many_fills_past_the_cap_keep_exactly_the_newest() -> None:
    eng, _ = make_engine()
    eng.set_retention("a", Retention(fills=40))
    for i in range(300):  # well past the cap and its trimming slack
        limit(eng, "a", "SELL", "0.001", "100")
        limit(eng, "b", "BUY", "0.001", "100", client_order_id=f"b{i}")
    kept = eng.my_trades("a", SYM, limit=1000)
    assert len(kept) == 40
    all_b = eng.my_trades("b", SYM, limit=1000)
    assert [t.trade_id for t in kept] == [t.trade_id for t in all_b[-40:]]


def test_an_account_that_keeps_nothing_still_trades_and_sees_its_open_orders() -> None:
    eng, _ = make_engine()
    eng.create_account("agent", dict(START_BALANCES), retention=KEEP_NONE)
    quote = limit(eng, "agent", "SELL", "1", "100", client_order_id="q").order
    assert eng.get_order("agent", SYM, orig_client_order_id="q").status == "NEW"
    assert [o.order_id for o in eng.open_orders("agent", SYM)] == [quote.order_id]
    res = limit(eng, "a", "BUY", "1", "100")
    assert res.order.status == "FILLED" and len(res.fills) == 1
    # The user sees its fill and its order; the agent keeps no trace of its finished one.
    assert [t.order_id for t in eng.my_trades("a", SYM)] == [res.order.order_id]
    assert eng.get_order("a", SYM, res.order.order_id).status == "FILLED"
    assert _missing(eng.get_order, "agent", SYM, quote.order_id)[0] == -2013
    assert eng.all_orders("agent", SYM) == [] and eng.my_trades("agent", SYM) == []
    assert eng.account("agent").balance("USDT")[0] == START_BALANCES["USDT"] + U("100") - U("0.1")
    # A reused client id belongs to the new order.
    again = limit(eng, "agent", "SELL", "1", "101", client_order_id="q").order
    assert eng.get_order("agent", SYM, orig_client_order_id="q").order_id == again.order_id


def test_a_newer_order_with_a_reused_client_id_survives_the_older_ones_archiving() -> None:
    eng, _ = make_engine()
    eng.set_retention("a", Retention(unfilled_orders=1))
    first = limit(eng, "a", "BUY", "1", "90", client_order_id="x").order.order_id
    eng.cancel_order("a", SYM, first)
    second = limit(eng, "a", "BUY", "1", "91", client_order_id="x").order.order_id
    eng.cancel_order("a", SYM, second)  # archives ``first``, which used the same client id
    assert eng.get_order("a", SYM, orig_client_order_id="x").order_id == second


def test_tightening_the_retention_archives_at_once() -> None:
    eng, _ = make_engine()
    ids = _cancelled(eng, "a", 4)
    assert len(eng.all_orders("a", SYM)) == 4
    eng.set_retention("a", Retention(unfilled_orders=1))
    assert [o.order_id for o in eng.all_orders("a", SYM)] == ids[-1:]
    eng.set_retention("a", KEEP_NONE)
    assert eng.all_orders("a", SYM) == []


def test_retention_changes_no_event_and_no_user_answer_of_a_random_flow() -> None:
    """The same seeded flow against an engine that keeps everything and one whose market
    accounts keep nothing: identical events, identical user queries."""

    def run(agent_retention: Retention) -> tuple[Engine, list[Event], list[tuple[int, int]]]:
        eng, clock = make_engine(accounts=())
        eng.create_account("user", dict(START_BALANCES), retention=KEEP_ALL)
        for i in range(4):
            eng.create_account(f"agent{i}", dict(START_BALANCES), retention=agent_retention)
        rng = random.Random(5)
        events: list[Event] = []
        placed: list[tuple[int, int]] = []  # (account index, order id), for later cancels
        for step in range(1500):
            clock.advance(rng.randrange(3))
            who = rng.randrange(5)
            acct = "user" if who == 4 else f"agent{who}"
            r = rng.random()
            side = "BUY" if rng.random() < 0.5 else "SELL"
            try:
                if r < 0.55:
                    px = 100 + (-1 if side == "BUY" else 1) * rng.randint(0, 5)
                    placed.append((who, limit(eng, acct, side, str(rng.randint(1, 5)), str(px)).order.order_id))
                elif r < 0.8 and placed:
                    w, oid = placed.pop(rng.randrange(len(placed)))
                    eng.cancel_order("user" if w == 4 else f"agent{w}", SYM, oid)
                else:
                    tif = "IOC" if r < 0.9 else "FOK"
                    limit(eng, acct, side, str(rng.randint(1, 8)), "103" if side == "BUY" else "97", tif=tif)
            except EngineError as exc:
                assert exc.code in (-2011, -2010), (step, exc)
            events.extend(eng.drain_events())
        return eng, events, placed

    kept, ev_kept, _ = run(KEEP_ALL)
    lean, ev_lean, _ = run(KEEP_NONE)
    assert sum(isinstance(e, TradeEvent) for e in ev_kept) > 200
    assert ev_kept == ev_lean
    assert kept.all_orders("user", SYM, limit=1000) == lean.all_orders("user", SYM, limit=1000)
    assert kept.my_trades("user", SYM, limit=1000) == lean.my_trades("user", SYM, limit=1000)
    assert kept.open_orders("agent1") == lean.open_orders("agent1")
    assert len(kept.all_orders("agent1", SYM, limit=1000)) > len(lean.all_orders("agent1", SYM, limit=1000))
    assert len(lean.all_orders("agent1", SYM, limit=1000)) == len(lean.open_orders("agent1", SYM))
    assert {a: acct.balances for a, acct in kept.accounts.items()} == {
        a: acct.balances for a, acct in lean.accounts.items()
    }
    check_invariants(kept)


def test_negative_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="fills"):
        Retention(fills=-1)
    eng = Engine(retention=KEEP_NONE)
    assert eng.create_account("x").retention == KEEP_NONE
