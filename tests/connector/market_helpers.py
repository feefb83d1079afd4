"""Shared pieces of the connector's trading tests: a Market on a MockServer account, extra
accounts through the control plane, and the mock's own view of balances and orders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp

from connector.config import VenueConfig
from connector.events import (
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    EventLogger,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderExpiredEvent,
    OrderFilledEvent,
    OrderLostEvent,
    SellOrderCompletedEvent,
    SellOrderCreatedEvent,
)
from connector.market import Market
from mock_exchange.testing import MockServer, SignedClient

CREATED = (BuyOrderCreatedEvent, SellOrderCreatedEvent)
COMPLETED = (BuyOrderCompletedEvent, SellOrderCompletedEvent)
TERMINAL = (*COMPLETED, OrderCancelledEvent, OrderExpiredEvent, MarketOrderFailureEvent)


def venue_config(server: MockServer, account: str | None = None, request_timeout_s: float = 2.0) -> VenueConfig:
    info = server.state.accounts[account] if account else next(iter(server.state.accounts.values()))
    return VenueConfig.custom(server.base_url, api_key=info.api_key, api_secret=info.secret_key,
                              request_timeout_s=request_timeout_s)


async def start_market(server: MockServer, pairs: tuple[str, ...] = ("BTC-USDT",), account: str | None = None,
                       request_timeout_s: float = 2.0, **kwargs: Any) -> tuple[Market, EventLogger]:
    """A started, ready Market (no book tracking unless asked) with an EventLogger on every event."""
    options: dict[str, Any] = {"track_order_books": False, "poll_interval_s": 5.0, "short_poll_interval_s": 0.2,
                               "reconcile_interval_s": 0.1}
    options.update(kwargs)
    market = Market(venue_config(server, account, request_timeout_s), list(pairs), **options)
    logger = EventLogger().subscribe(market.bus)
    await market.start_network()
    await market.wait_until_ready(10)
    return market, logger


async def create_account(server: MockServer, name: str, balances: dict[str, str]) -> SignedClient:
    """A new funded mock account (POST /_mock/accounts) and a signed client for it."""
    async with aiohttp.ClientSession() as http:
        resp = await http.post(f"{server.base_url}/_mock/accounts", json={"name": name, "balances": balances})
        assert resp.status == 200, await resp.text()
    return server.client(name)


async def mock_balances(client: SignedClient) -> dict[str, tuple[Decimal, Decimal]]:
    """The venue's view: asset -> (free, locked), from GET /api/v3/account."""
    resp = await client.signed("GET", "/api/v3/account")
    assert resp.status == 200, resp.body
    return {b["asset"]: (Decimal(b["free"]), Decimal(b["locked"])) for b in resp.json()["balances"]}


async def mock_order(client: SignedClient, symbol: str, client_order_id: str) -> dict[str, Any] | None:
    resp = await client.signed("GET", "/api/v3/order", symbol=symbol, origClientOrderId=client_order_id)
    if resp.status != 200:
        assert resp.json()["code"] == -2013, resp.body
        return None
    body = resp.json()
    assert isinstance(body, dict)
    return body


async def mock_trades(client: SignedClient, symbol: str, order_id: int) -> list[dict[str, Any]]:
    resp = await client.signed("GET", "/api/v3/myTrades", symbol=symbol, orderId=order_id)
    assert resp.status == 200, resp.body
    out = resp.json()
    assert isinstance(out, list)
    return out


async def book_top(server: MockServer, symbol: str = "BTCUSDT") -> tuple[Decimal, Decimal]:
    """(best bid, best ask) from the venue's bookTicker."""
    resp = await server.anonymous().public("GET", "/api/v3/ticker/bookTicker", symbol=symbol)
    body = resp.json()
    return Decimal(body["bidPrice"]), Decimal(body["askPrice"])


async def eventually(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.02)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"timed out after {timeout} s waiting for {what}") from None


async def balances_match(market: Market, client: SignedClient, assets: tuple[str, ...],
                         timeout: float = 5.0) -> None:
    """Wait until the market's free and total balances equal the venue's for ``assets``."""
    venue: dict[str, tuple[Decimal, Decimal]] = {}

    async def poll() -> None:
        nonlocal venue
        while True:
            venue = await mock_balances(client)
            if all(market.get_available_balance(a) == venue.get(a, (0, 0))[0]
                   and market.get_balance(a) == sum(venue.get(a, (Decimal(0), Decimal(0)))) for a in assets):
                return
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        mine = {a: (market.get_available_balance(a), market.get_balance(a)) for a in assets}
        raise AssertionError(f"balances differ: market {mine} venue {venue}") from None


def order_events(logger: EventLogger, order_id: str) -> list[Any]:
    return [e for e in logger.event_log if getattr(e, "order_id", None) == order_id]


def assert_lifecycle(logger: EventLogger, order_id: str, final: type | tuple[type, ...]) -> list[Any]:
    """The order's events: created first (unless it failed), fills once per trade id, exactly one
    terminal event of type ``final``, last; nothing lost."""
    events = order_events(logger, order_id)
    assert events, f"no events for {order_id}"
    terminal = [e for e in events if isinstance(e, TERMINAL)]
    assert len(terminal) == 1 and isinstance(terminal[0], final), events
    assert events[-1] is terminal[0], events
    if not isinstance(terminal[0], MarketOrderFailureEvent):
        assert isinstance(events[0], CREATED), events
        assert sum(isinstance(e, CREATED) for e in events) == 1
    fills = [e for e in events if isinstance(e, OrderFilledEvent)]
    assert len({f.trade_id for f in fills}) == len(fills), "a fill was reported twice"
    assert not [e for e in events if isinstance(e, OrderLostEvent)]
    return events
