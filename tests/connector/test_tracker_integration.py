"""The market-data side of the connector against the mock exchange, over real loopback sockets:
markets table, book tracking under random order flow, resync after dropped connections and
(when the mock has them) injected stream faults.

The connector is configured only with ``VenueConfig.custom(server.base_url)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connector.config import VenueConfig
from connector.order_book import OrderBook
from connector.order_book_data_source import MARKET_COLUMNS, OrderBookTrackerDataSource
from connector.order_book_message import OrderBookMessage
from connector.order_book_tracker import OrderBookTracker
from mock_exchange.config import ServerConfig
from mock_exchange.default_market import REFERENCE_PRICES
from mock_exchange.engine import units
from mock_exchange.engine.types import EngineError
from mock_exchange.server.state import ExchangeState
from mock_exchange.server.streams import HUB
from mock_exchange.testing import MockServer

PAIRS = {"BTC-USDT": "BTCUSDT", "ETH-USDT": "ETHUSDT"}
STEPS = {"BTCUSDT": units.to_units("0.00001"), "ETHUSDT": units.to_units("0.0001")}
TICK = units.to_units("0.01")
FAULTS_MODULE = Path(__file__).resolve().parents[2] / "mock_exchange" / "server" / "faults.py"


class Flow:
    """Random placing, cancelling and crossing on the tracked symbols, straight into the mock's
    engine; events are published the way a REST request publishes them."""

    def __init__(self, state: ExchangeState, seed: int = 11) -> None:
        self.state = state
        self.rng = random.Random(seed)
        self.accounts = [f"flow{i}" for i in range(6)]
        for name in self.accounts:
            state.engine.create_account(name, {"BTC": units.to_units("1000"), "ETH": units.to_units("10000"),
                                               "USDT": units.to_units("100000000")})
        self.open: list[tuple[str, str, int]] = []

    def step(self) -> None:
        rng, eng = self.rng, self.state.engine
        symbol = rng.choice(list(PAIRS.values()))
        acct = rng.choice(self.accounts)
        mid, step = REFERENCE_PRICES[symbol], STEPS[symbol]
        r = rng.random()
        try:
            if r < 0.3 and self.open:
                a, s, oid = self.open.pop(rng.randrange(len(self.open)))
                eng.cancel_order(a, s, order_id=oid)
            elif r < 0.4:
                eng.place_order(acct, symbol, rng.choice(("BUY", "SELL")), "MARKET", quantity=rng.randint(1, 300) * step)
            else:
                side = rng.choice(("BUY", "SELL"))
                off = rng.randint(-30, 400) * TICK
                price = mid - off if side == "BUY" else mid + off
                res = eng.place_order(acct, symbol, side, "LIMIT", quantity=rng.randint(5, 3000) * step, price=price,
                                      time_in_force="GTC")
                if res.order.is_open:
                    self.open.append((acct, symbol, res.order.order_id))
        except EngineError:
            pass
        self.state.publish()

    async def run(self, ops: int, per_yield: int = 10, pause_s: float = 0.02) -> None:
        for i in range(ops):
            self.step()
            if i % per_yield == per_yield - 1:
                await asyncio.sleep(pause_s)


def engine_book(state: ExchangeState, symbol: str) -> tuple[list[tuple[Decimal, Decimal]], ...]:
    _, bids, asks = state.engine.depth(symbol, 5000)
    return ([(units.to_decimal(p), units.to_decimal(q)) for p, q in bids],
            [(units.to_decimal(p), units.to_decimal(q)) for p, q in asks])


def tracker_book(book: OrderBook) -> tuple[list[tuple[Decimal, Decimal]], ...]:
    bids, asks = book.snapshot
    return [(r.price, r.amount) for r in bids], [(r.price, r.amount) for r in asks]


async def caught_up(tracker: OrderBookTracker, state: ExchangeState, timeout: float = 10.0) -> None:
    """Until every tracked book is synced at the engine's current update id."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if all(tracker.is_synced(p) and tracker.last_update_id(p) == state.engine.last_update_id(s)
               for p, s in PAIRS.items()):
            return
        if loop.time() > deadline:
            raise AssertionError(f"tracker not caught up: {tracker.last_update_ids} vs "
                                 f"{ {s: state.engine.last_update_id(s) for s in PAIRS.values()} } {tracker.stats}")
        await asyncio.sleep(0.05)


def assert_books_equal(tracker: OrderBookTracker, state: ExchangeState) -> None:
    for pair, symbol in PAIRS.items():
        expected = engine_book(state, symbol)
        assert tracker_book(tracker.order_books[pair]) == expected, pair
        assert len(expected[0]) > 10 and len(expected[1]) > 10


def drop_stream_connections(server: MockServer) -> int:
    """Abort every market-stream socket on the server side (no close frame): a network drop."""
    runner: Any = server._runner  # the test reaches into the server it started
    hub = runner.app[HUB]
    conns = list(hub.conns)
    for conn in conns:
        conn.transport.abort()
    return len(conns)


def server_config() -> ServerConfig:
    cfg = ServerConfig()
    cfg.rate_limits.request_weight_per_minute = 1_000_000
    return cfg


@pytest.fixture
async def mock() -> AsyncIterator[MockServer]:
    async with MockServer(server_config()) as srv:
        yield srv


@pytest.fixture
async def tracker(mock: MockServer) -> AsyncIterator[OrderBookTracker]:
    t = OrderBookTracker(VenueConfig.custom(mock.base_url), list(PAIRS), min_snapshot_interval_s=0.1,
                         first_diff_wait_s=0.3)
    await t.start()
    try:
        yield t
    finally:
        await t.stop()


async def test_markets_frame_and_trading_pairs(mock: MockServer) -> None:
    flow = Flow(mock.state)
    for _ in range(300):
        flow.step()
    ds = OrderBookTrackerDataSource(VenueConfig.custom(mock.base_url))
    try:
        markets = await ds.get_active_exchange_markets()
        pairs = await ds.get_trading_pairs()
    finally:
        await ds.close()
    assert list(markets.columns) == MARKET_COLUMNS and markets.index.name == "symbol"
    assert set(markets.index) == set(mock.state.engine.symbols)
    assert sorted(pairs) == sorted(markets["trading_pair"]) and "BTC-USDT" in pairs and "ETH-BTC" in pairs
    btc = markets.loc["BTCUSDT"]
    assert (btc["baseAsset"], btc["quoteAsset"], btc["trading_pair"]) == ("BTC", "USDT", "BTC-USDT")
    assert isinstance(btc["quoteVolume"], Decimal) and btc["quoteVolume"] > 0
    assert btc["USDVolume"] == pytest.approx(float(btc["quoteVolume"]))
    # ETHBTC's quote volume is in BTC: valued at the BTCUSDT last price.
    eth_btc = markets.loc["ETHBTC"]
    expected = float(str(eth_btc["quoteVolume"])) * float(str(btc["lastPrice"]))
    assert (eth_btc["USDVolume"] == pytest.approx(expected)) or (eth_btc["quoteVolume"] == 0 and eth_btc["USDVolume"] == 0)
    usd = [v for v in markets["USDVolume"] if not math.isnan(v)]
    assert usd == sorted(usd, reverse=True)  # most traded first


async def test_tracker_books_equal_engine_books_under_random_flow(mock: MockServer, tracker: OrderBookTracker) -> None:
    trades: list[OrderBookMessage] = []
    tracker.add_trade_listener(trades.append)
    flow = Flow(mock.state)
    runner = asyncio.create_task(flow.run(600))
    await tracker.wait_ready(10)  # syncs while the flow runs
    await runner
    await caught_up(tracker, mock.state)
    assert_books_equal(tracker, mock.state)
    stats = tracker.stats["BTC-USDT"]
    assert stats.diffs_applied > 5 and stats.gaps == 0 and stats.reconnects == 0
    # Trades arrive with the mock's trade ids, in order per pair.
    await asyncio.sleep(0.2)
    btc = [m for m in trades if m.trading_pair == "BTC-USDT"]
    last = mock.state.engine.market_data.trades("BTCUSDT", 1)[-1]
    assert btc and [m.trade_id for m in btc] == sorted(m.trade_id for m in btc)
    assert btc[-1].trade_id == last.trade_id
    assert tracker.order_books["BTC-USDT"].last_trade_price == units.to_decimal(last.price)


async def test_tracker_resyncs_after_dropped_connections(mock: MockServer, tracker: OrderBookTracker) -> None:
    flow = Flow(mock.state, seed=5)
    await tracker.wait_ready(10)
    await flow.run(100)
    await caught_up(tracker, mock.state)
    before = tracker.resyncs
    for _ in range(2):
        assert drop_stream_connections(mock) >= 1
        await flow.run(150)  # changes made while the client is away are only in the snapshot
        await caught_up(tracker, mock.state)
        assert_books_equal(tracker, mock.state)
    assert tracker.resyncs >= before + 2 * len(PAIRS)
    assert all(s.reconnects >= 2 for s in tracker.stats.values())
    assert tracker.data_source.diff_stats.connects >= 3


async def test_periodic_snapshots_refresh_without_breaking_the_sync(mock: MockServer) -> None:
    t = OrderBookTracker(VenueConfig.custom(mock.base_url), list(PAIRS), periodic_snapshot_s=0.2,
                         first_diff_wait_s=0.2, track_trades=False)
    await t.start()
    try:
        await t.wait_ready(10)
        await Flow(mock.state, seed=3).run(400)
        await caught_up(t, mock.state)
        assert_books_equal(t, mock.state)
        assert all(s.snapshots_applied >= 2 and s.gaps == 0 and s.trades == 0 for s in t.stats.values())
    finally:
        await t.stop()


async def _faults_available(mock: MockServer) -> bool:
    if not FAULTS_MODULE.exists():
        return False
    resp = await mock.anonymous().raw("GET", "/_mock/faults")
    return resp.status == 200


async def _fault(mock: MockServer, body: dict[str, Any]) -> None:
    import orjson

    resp = await mock.anonymous().raw("POST", "/_mock/faults", body=orjson.dumps(body).decode(),
                                      headers={"Content-Type": "application/json"})
    assert resp.status == 200, resp.body


async def test_tracker_resyncs_after_injected_faults(mock: MockServer, tracker: OrderBookTracker) -> None:
    if not await _faults_available(mock):
        pytest.skip("the mock has no /_mock/faults control plane yet (mock_exchange/server/faults.py)")
    flow = Flow(mock.state, seed=9)
    await tracker.wait_ready(10)
    await flow.run(100)
    await caught_up(tracker, mock.state)
    btc = tracker.stats["BTC-USDT"]

    # A skipped depth update: the next diff's U is beyond local + 1 -> gap -> resnapshot.
    await _fault(mock, {"type": "skip_depth", "symbol": "BTCUSDT", "count": 1})
    await flow.run(150)
    await caught_up(tracker, mock.state)
    assert btc.gaps >= 1
    assert_books_equal(tracker, mock.state)

    # A dropped stream: reconnect -> resnapshot for every pair.
    reconnects = btc.reconnects
    await _fault(mock, {"type": "drop_streams", "target": "market"})
    await flow.run(150)
    await caught_up(tracker, mock.state)
    assert btc.reconnects > reconnects
    assert_books_equal(tracker, mock.state)

    # A stale snapshot during the resync: detected against the buffered diffs and fetched again.
    await _fault(mock, {"type": "stale_snapshot", "symbol": "BTCUSDT", "count": 1})
    await _fault(mock, {"type": "skip_depth", "symbol": "BTCUSDT", "count": 1})
    stale_before = btc.stale_snapshots
    await flow.run(300)
    await caught_up(tracker, mock.state)
    assert_books_equal(tracker, mock.state)
    assert btc.stale_snapshots > stale_before and btc.gaps >= 2
    assert tracker.resyncs >= btc.gaps + btc.reconnects + btc.stale_snapshots

    # serverShutdown notice then close: reconnect at once and resync.
    shutdowns = tracker.data_source.diff_stats.server_shutdowns
    await _fault(mock, {"type": "server_shutdown"})
    await flow.run(150)
    await caught_up(tracker, mock.state)
    assert_books_equal(tracker, mock.state)
    assert tracker.data_source.diff_stats.server_shutdowns > shutdowns

    # The snapshot request is rate limited (429 + Retry-After): wait as told, then resync.
    errors = btc.snapshot_errors
    await _fault(mock, {"type": "rate_limit", "status": 429, "retryAfter": 1, "path": "/api/v3/depth", "count": 1})
    await _fault(mock, {"type": "skip_depth", "symbol": "BTCUSDT", "count": 1})
    await flow.run(150)
    await caught_up(tracker, mock.state)
    assert_books_equal(tracker, mock.state)
    assert btc.snapshot_errors == errors + 1
    with contextlib.suppress(Exception):
        await mock.anonymous().raw("DELETE", "/_mock/faults")
