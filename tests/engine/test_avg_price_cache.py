"""The average price asked before every priced order is reused across milliseconds until a
trade enters or leaves its window: asked at any sequence of times, between any trades (also
with a clock that steps back and with evicted raw trades), every answer is the one a fresh
computation gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_exchange.engine.market_data import MarketData
from tests.engine.test_market_data import MIN, SYM, T0, trade

_events = st.lists(
    st.one_of(
        st.tuples(st.just("trade"), st.integers(-3_000, 90_000), st.integers(1, 500), st.integers(1, 50)),
        st.tuples(st.just("ask"), st.integers(-5 * MIN, 12 * MIN), st.sampled_from((1, 5, 15)), st.just(0)),
    ),
    min_size=1,
    max_size=150,
)


def _fresh(md: MarketData, mins: int, now: int) -> int:
    """The window's VWAP computed from scratch (what ``avg_price`` did before it cached)."""
    tape = md._tapes[SYM]
    v, qv = tape.volumes(now - mins * MIN, now + 1)
    return qv * 10**8 // v if v > 0 else tape.tape[-1].price


@settings(max_examples=200, deadline=None)
@given(events=_events, raw_cap=st.sampled_from((3, 1000)))
def test_cached_average_prices_equal_fresh_ones(events: list[tuple[str, int, int, int]], raw_cap: int) -> None:
    md = MarketData(raw_cap, 10, 10, 10, 10)
    t, n = T0, 0
    for kind, a, b, c in events:
        if kind == "trade":
            t += a  # may step back: bucket times stay ascending, trade times need not
            n += 1
            md.on_trade(trade(n, b, c, t))
        elif n:
            now = t + a
            assert md.avg_price(SYM, b, now) == _fresh(md, b, now)
