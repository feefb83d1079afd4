"""Accounts without reports (``reports=False``, the synthesized market's agents): the engine
emits no execution reports or balance changes for them, and nothing else changes — the public
stream, every other account's reports (their execution and client order ids included), the
balances and the books are what they are when the account reports."""

from __future__ import annotations

import random
from dataclasses import astuple
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_exchange.engine import BalanceChange, EngineError, Event, OrderUpdate
from tests.engine.engine_fixtures import U, limit
from tests.engine.test_engine_properties import ACCOUNTS, _apply, _engine, _random_op

QUIET = "c"


def _owner(ev: Event) -> str | None:
    if isinstance(ev, OrderUpdate):
        return ev.order.account_id
    if isinstance(ev, BalanceChange):
        return ev.account_id
    return None


def _run(flow: list[tuple[Any, ...]], quiet: bool) -> tuple[list[Event], list[Any], Any]:
    eng, clock = _engine()
    if quiet:
        eng.set_reports(QUIET, False)
    events: list[Event] = []
    outcomes: list[Any] = []
    for op in flow:
        try:
            _apply(eng, clock, op)
            outcomes.append("ok")
        except EngineError as exc:
            outcomes.append(exc.code)
        events.extend(eng.drain_events())
    state = (
        {a: {k: list(v) for k, v in eng.account(a).balances.items()} for a in ACCOUNTS},
        {a: [astuple(o) for o in eng.open_orders(a)] for a in ACCOUNTS},
        [eng.depth(s, 100) for s in ("BTCUSDT", "ETHBTC")],
        dict(eng.fees),
    )
    return events, outcomes, state


def _ops(rnd: random.Random, n: int) -> list[tuple[Any, ...]]:
    flow = []
    for _ in range(n):
        op = _random_op(rnd)
        if op[0] == "stop":
            op = op[:4] + (max(0, op[4]),) + op[5:]
        flow.append(op)
    return flow


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.integers(10, 120))
def test_a_quiet_account_changes_nothing_but_its_own_reports(rnd: random.Random, n: int) -> None:
    flow = _ops(rnd, n)
    loud, loud_outcomes, loud_state = _run(flow, quiet=False)
    quiet, quiet_outcomes, quiet_state = _run(flow, quiet=True)
    assert quiet_outcomes == loud_outcomes
    assert quiet_state == loud_state
    assert not any(_owner(ev) == QUIET for ev in quiet)
    # Everything else, in the same order: book deltas, trades, the other accounts' reports
    # with their execution ids and generated client order ids.
    assert quiet == [ev for ev in loud if _owner(ev) != QUIET]


def test_orders_of_a_quiet_account_still_trade_rest_and_answer_queries() -> None:
    eng, _ = _engine()
    eng.set_reports("a", False)
    res = limit(eng, "a", "BUY", "2", "100")
    assert [type(ev).__name__ for ev in eng.drain_events()] == ["BookDelta"]
    oid = res.order.order_id
    assert eng.get_order("a", "BTCUSDT", oid).status == "NEW"
    taker = eng.place_order("b", "BTCUSDT", "SELL", "MARKET", quantity=U("0.5"))
    kinds = [(type(ev).__name__, _owner(ev)) for ev in eng.drain_events()]
    assert ("TradeEvent", None) in kinds and ("BookDelta", None) in kinds
    assert {owner for _, owner in kinds if owner} == {"b"}
    assert taker.fills and taker.fills[0].qty == U("0.5")
    assert eng.account("a").balance("BTC")[0] == U("40.4995")  # less the 0.1 % maker fee
    canceled = eng.cancel_order("a", "BTCUSDT", oid)
    assert canceled.status == "CANCELED" and canceled.executed_qty == U("0.5")
    assert eng.open_orders("a") == []


def test_reports_can_be_turned_back_on() -> None:
    eng, _ = _engine()
    eng.set_reports("a", False)
    limit(eng, "a", "BUY", "1", "100")
    eng.set_reports("a", True)
    limit(eng, "a", "BUY", "1", "99")
    kinds = [type(ev).__name__ for ev in eng.drain_events()]
    assert kinds == ["BookDelta", "OrderUpdate", "BookDelta", "BalanceChange"]


def test_deposits_of_a_quiet_account_are_still_reported() -> None:
    eng, _ = _engine()
    eng.create_account("agent", {"USDT": U("10")}, reports=False)
    change = eng.adjust_balance("agent", "USDT", U("5"))
    assert eng.drain_events() == [change]
