"""Order and trade history queries with the venue's range/limit rules, and book views."""

from __future__ import annotations

from typing import Any

import pytest

from mock_exchange.engine import EngineError
from tests.engine.engine_fixtures import U, limit, make_engine, make_spec


def _history():  # type: ignore[no-untyped-def]
    """Five orders of account a, one per second; each of the first four fully traded by b."""
    eng, clock = make_engine()
    times = []
    for i in range(5):
        times.append(clock.now)
        limit(eng, "a", "SELL", "1", str(100 + i))
        if i < 4:
            limit(eng, "b", "BUY", "1", str(100 + i))
        clock.advance(1000)
    return eng, times


def test_get_order_by_id_or_client_id_and_missing() -> None:
    eng, _ = make_engine()
    o = limit(eng, "a", "BUY", "1", "90", client_order_id="q1").order
    assert eng.get_order("a", "BTCUSDT", o.order_id).client_order_id == "q1"
    assert eng.get_order("a", "BTCUSDT", orig_client_order_id="q1").order_id == o.order_id
    lookups: list[dict[str, Any]] = [{"order_id": 77}, {"orig_client_order_id": "zz"}]
    for kw in lookups:
        with pytest.raises(EngineError) as err:
            eng.get_order("a", "BTCUSDT", **kw)
        assert (err.value.code, err.value.msg) == (-2013, "Order does not exist.")
    with pytest.raises(EngineError) as err:
        eng.get_order("b", "BTCUSDT", o.order_id)  # someone else's order
    assert err.value.code == -2013
    # A returned order is a copy: changing it changes nothing in the engine.
    copy = eng.get_order("a", "BTCUSDT", o.order_id)
    copy.status = "FILLED"
    assert eng.get_order("a", "BTCUSDT", o.order_id).status == "NEW"


def test_open_orders_per_symbol_and_across_symbols() -> None:
    eng, _ = make_engine(specs=[make_spec(), make_spec("ETHUSDT", "ETH", "USDT")])
    limit(eng, "a", "BUY", "1", "90")
    limit(eng, "a", "BUY", "1", "80", symbol="ETHUSDT")
    limit(eng, "a", "BUY", "1", "85")
    assert [o.price for o in eng.open_orders("a", "BTCUSDT")] == [U("90"), U("85")]
    assert [(o.symbol, o.order_id) for o in eng.open_orders("a")] == [
        ("BTCUSDT", 1), ("BTCUSDT", 2), ("ETHUSDT", 1)
    ]  # fmt: skip
    assert eng.open_orders("b") == []


def test_all_orders_windows() -> None:
    eng, times = _history()
    ids = [o.order_id for o in eng.all_orders("a", "BTCUSDT")]
    assert ids == [1, 3, 5, 7, 9]
    assert [o.order_id for o in eng.all_orders("a", "BTCUSDT", limit=2)] == [7, 9]  # most recent
    assert [o.order_id for o in eng.all_orders("a", "BTCUSDT", order_id=3, limit=2)] == [3, 5]
    assert [o.order_id for o in eng.all_orders("a", "BTCUSDT", start_time=times[1], limit=2)] == [3, 5]
    assert [o.order_id for o in eng.all_orders("a", "BTCUSDT", end_time=times[2], limit=2)] == [3, 5]
    window = eng.all_orders("a", "BTCUSDT", start_time=times[1], end_time=times[3])
    assert [o.order_id for o in window] == [3, 5, 7]
    assert [o.status for o in eng.all_orders("a", "BTCUSDT")] == ["FILLED"] * 4 + ["NEW"]


def test_my_trades_windows() -> None:
    eng, times = _history()
    trades = eng.my_trades("a", "BTCUSDT")
    assert [t.trade_id for t in trades] == [1, 2, 3, 4] and all(t.is_maker for t in trades)
    assert [t.trade_id for t in eng.my_trades("a", "BTCUSDT", limit=2)] == [3, 4]
    assert [t.trade_id for t in eng.my_trades("a", "BTCUSDT", from_id=2, limit=2)] == [2, 3]
    assert [t.trade_id for t in eng.my_trades("a", "BTCUSDT", start_time=times[2])] == [3, 4]
    assert [t.trade_id for t in eng.my_trades("a", "BTCUSDT", end_time=times[1])] == [1, 2]
    assert [t.order_id for t in eng.my_trades("a", "BTCUSDT", order_id=5)] == [5]
    assert [t.side for t in eng.my_trades("b", "BTCUSDT")] == ["BUY"] * 4
    with pytest.raises(EngineError) as err:
        eng.my_trades("a", "BTCUSDT", order_id=2)  # b's order
    assert err.value.code == -2013


def test_depth_limit_and_visible_quantities() -> None:
    eng, _ = make_engine()
    for i in range(5):
        limit(eng, "a", "BUY", "1", str(90 + i))
        limit(eng, "b", "SELL", "1", str(100 + i))
    eng.place_order("b", "BTCUSDT", "SELL", "LIMIT", quantity=U("5"), price=U("100"), time_in_force="GTC",
                    iceberg_qty=U("0.5"))  # fmt: skip
    uid, bids, asks = eng.depth("BTCUSDT", 2)
    assert uid == eng.last_update_id("BTCUSDT") == 11
    assert bids == [(U("94"), U("1")), (U("93"), U("1"))]
    assert asks == [(U("100"), U("1.5")), (U("101"), U("1"))]
    assert eng.depth("BTCUSDT", 0) == (11, [], [])
    assert len(eng.depth("BTCUSDT", 100)[1]) == 5
    assert eng.best_bid_ask("BTCUSDT") == (U("94"), U("1"), U("100"), U("1.5"))
    with pytest.raises(EngineError) as err:
        eng.depth("XYZ", 5)
    assert (err.value.code, err.value.msg) == (-1121, "Invalid symbol.")
