"""Fault-test pieces: the mock's fault control plane (/_mock/faults) and the end-of-test audit
that every order the market placed is in the venue's state, reported once, and balances agree."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from connector.events import (
    EventLogger,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderExpiredEvent,
    OrderFilledEvent,
    OrderLostEvent,
)
from connector.in_flight_order import OrderState
from connector.market import Market
from mock_exchange.testing import MockServer, SignedClient
from tests.connector.market_helpers import (
    COMPLETED,
    CREATED,
    balances_match,
    mock_order,
    mock_trades,
    order_events,
)


def require_faults() -> None:
    pytest.importorskip("mock_exchange.server.faults", reason="the mock's fault injection is not available")


async def add_fault(server: MockServer, spec: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        resp = await http.post(f"{server.base_url}/_mock/faults", json=spec)
        body = await resp.json()
        assert resp.status == 200, body
    assert isinstance(body, dict)
    return body


async def fault_state(server: MockServer) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        resp = await http.get(f"{server.base_url}/_mock/faults")
        body = await resp.json()
    assert isinstance(body, dict)
    return body


async def applied(server: MockServer, fault_type: str) -> int:
    """How many times faults of ``fault_type`` were applied (from the fault log)."""
    return sum(1 for entry in (await fault_state(server))["log"] if entry.get("type") == fault_type)


_FINAL_EVENT = {"FILLED": COMPLETED, "CANCELED": (OrderCancelledEvent,), "EXPIRED": (OrderExpiredEvent,),
                "EXPIRED_IN_MATCH": (OrderExpiredEvent,)}


async def audit(market: Market, log: EventLogger, client: SignedClient, order_ids: list[str],
                assets: tuple[str, ...] = ("BTC", "USDT")) -> None:
    """No order lost, duplicated or in the wrong state; fills equal the venue's trades; balances
    equal the venue's."""
    for oid in order_ids:
        order = market.get_order(oid)
        assert order is not None, f"{oid}: the market forgot the order"
        events = order_events(log, oid)
        venue = await mock_order(client, order.symbol, oid)
        fills = [e for e in events if isinstance(e, OrderFilledEvent)]
        assert len({f.trade_id for f in fills}) == len(fills), f"{oid}: duplicated fill {events}"
        assert sum(isinstance(e, CREATED) for e in events) <= 1, f"{oid}: created twice {events}"
        if venue is None:
            # never placed: reported as failed or lost, exactly once, and never as created
            assert not any(isinstance(e, CREATED) for e in events), events
            ends = [e for e in events if isinstance(e, MarketOrderFailureEvent | OrderLostEvent)]
            assert len(ends) == 1, f"{oid}: {events}"
            continue
        status = venue["status"]
        trades = await mock_trades(client, order.symbol, venue["orderId"])
        assert {t["id"] for t in trades} == {f.trade_id for f in fills}, f"{oid}: fills {events} venue {trades}"
        assert sum((f.amount for f in fills), Decimal(0)) == Decimal(venue["executedQty"])
        assert isinstance(events[0], CREATED), f"{oid}: {events}"
        assert not any(isinstance(e, OrderLostEvent | MarketOrderFailureEvent) for e in events), events
        if status in _FINAL_EVENT:
            finals = [e for e in events if isinstance(e, _FINAL_EVENT[status])]
            assert len(finals) == 1 and events[-1] is finals[0], f"{oid} ({status}): {events}"
            assert oid not in market.in_flight_orders
        else:
            assert oid in market.in_flight_orders, f"{oid} is {status} at the venue but not tracked"
            assert order.state in (OrderState.OPEN, OrderState.PARTIALLY_FILLED), order.state
    await balances_match(market, client, assets)
