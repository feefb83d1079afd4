"""One seed reproduces a synthesized run exactly; the market runs on its own simulated clock."""

from __future__ import annotations

import pytest

from mock_exchange.default_market import default_symbols
from mock_exchange.engine import Engine, TradeEvent, units
from mock_exchange.engine.types import BookDelta, Event
from mock_exchange.market.synth import DEFAULT_START_MS, SimClock, SynthMarket

pytestmark = pytest.mark.timeout(300)

SYMBOL = "BTCUSDT"


def _run(seed: int, ms: int = 90_000, user: bool = False) -> tuple[list[TradeEvent], list[Event], list[str]]:
    m = SynthMarket(None, "calm", seed)
    if user:
        m.engine.create_account("user", {"USDT": units.to_units("1000000"), "BTC": units.to_units("10")})
    events: list[Event] = []
    for step in range(ms // 1000):
        if user and step == 30:
            m.engine.place_order("user", SYMBOL, "BUY", "MARKET", quantity=units.to_units("1"))
        m.run_for(1000)
        events.extend(m.engine.drain_events())
    trades = [e for e in events if isinstance(e, TradeEvent)]
    names = sorted(a for a in m.engine.accounts if a.startswith("synth-"))
    return trades, events, names


def test_the_same_seed_gives_the_same_trades_events_and_agents() -> None:
    t1, e1, n1 = _run(7)
    t2, e2, n2 = _run(7)
    assert len(t1) > 1000
    assert t1 == t2
    assert len(e1) == len(e2)
    assert [e for e in e1 if isinstance(e, BookDelta)] == [e for e in e2 if isinstance(e, BookDelta)]
    assert n1 == n2


def test_a_different_seed_gives_a_different_market() -> None:
    t1, _, n1 = _run(7, 30_000)
    t2, _, n2 = _run(8, 30_000)
    assert [(t.price, t.qty) for t in t1] != [(t.price, t.qty) for t in t2]
    assert n1 != n2


def test_runs_with_the_same_user_actions_are_identical_too() -> None:
    t1, _, _ = _run(9, 60_000, user=True)
    t2, _, _ = _run(9, 60_000, user=True)
    t3, _, _ = _run(9, 60_000, user=False)
    assert t1 == t2
    assert t1 != t3  # and the user's order changed the market


def test_agents_are_named_by_faker_and_funded_without_fees() -> None:
    m = SynthMarket(None, "calm", 3)
    agents = [a for a in m.agents]
    assert {a.kind for a in agents} == {"maker", "depth", "noise", "momentum", "informed"}
    names = [a.account_id for a in agents]
    assert len(set(names)) == len(names)
    for a in agents:
        kind, person = a.account_id.split("-", 2)[1:]
        assert kind == a.kind and person.replace("_", "").replace(".", "").isalnum()
        acct = m.engine.account(a.account_id)
        assert acct.maker_rate == acct.taker_rate == 0
        assert acct.balance("BTC")[0] > 0 and acct.balance("USDT")[0] > 0


def test_engine_time_is_simulated_time() -> None:
    start = 1_650_000_000_000
    m = SynthMarket(None, "calm", 1, start_ms=start)
    assert m.now_ms == start
    m.run_until(start + 5_000)
    assert m.now_ms == start + 5_000
    trades = [e for e in m.engine.drain_events() if isinstance(e, TradeEvent)]
    assert trades
    assert all(start <= t.time < start + 5_000 for t in trades)
    assert trades[-1].time > start + 4_000  # the clock moved with the market, not the wall


def test_an_engine_built_on_a_sim_clock_shares_the_market_time() -> None:
    clock = SimClock(DEFAULT_START_MS)
    engine = Engine(clock=clock)
    for spec in default_symbols():
        engine.add_symbol(spec)
    m = SynthMarket(engine, "calm", 2, clock=clock, symbols=["ETHUSDT"])
    m.run_for(2_500)
    assert clock() == DEFAULT_START_MS + 2_500
    _, bids, asks = engine.depth("ETHUSDT", 5)
    assert bids and asks and bids[0][0] < asks[0][0]
    assert engine.depth(SYMBOL, 5)[1:] == ([], [])  # only the asked-for symbol is synthesized


def test_running_backwards_is_a_no_op() -> None:
    m = SynthMarket(None, "calm", 1)
    m.run_for(1_000)
    m.run_until(m.now_ms - 500)
    assert m.now_ms == DEFAULT_START_MS + 1_000
