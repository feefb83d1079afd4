"""Shared builders and invariant checks for the engine tests (not a test module itself)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from mock_exchange.clock import ManualClock
from mock_exchange.engine import (
    BookDelta,
    Engine,
    Event,
    LotSize,
    OrderUpdate,
    PlaceResult,
    PriceFilter,
    SymbolSpec,
    TradeEvent,
    required_lock,
)
from mock_exchange.engine.types import BUY, NEW, PARTIALLY_FILLED
from mock_exchange.engine.units import to_units

U = to_units
START_BALANCES = {"BTC": U("100"), "USDT": U("1000000"), "ETH": U("1000")}


def make_spec(
    symbol: str = "BTCUSDT", base: str = "BTC", quote: str = "USDT", **overrides: object
) -> SymbolSpec:
    """A symbol with a 0.01 tick and a 0.001 lot step, everything else at the defaults."""
    spec = SymbolSpec(
        symbol,
        base,
        quote,
        price_filter=PriceFilter(U("0.01"), U("1000000"), U("0.01")),
        lot_size=LotSize(U("0.001"), U("10000"), U("0.001")),
    )
    for key, value in overrides.items():
        setattr(spec, key, value)
    return spec


def make_engine(
    accounts: Iterable[str] = ("a", "b", "c"),
    *,
    specs: Iterable[SymbolSpec] | None = None,
    rate: int = 100_000,
) -> tuple[Engine, ManualClock]:
    clock = ManualClock(1_700_000_000_000)
    eng = Engine(clock=clock)
    for spec in specs if specs is not None else [make_spec()]:
        eng.add_symbol(spec)
    for acct in accounts:
        eng.create_account(acct, dict(START_BALANCES), maker_rate=rate, taker_rate=rate)
    return eng, clock


def limit(
    eng: Engine,
    acct: str,
    side: str,
    qty: str,
    price: str,
    tif: str = "GTC",
    symbol: str = "BTCUSDT",
    **kw: Any,
) -> PlaceResult:
    """Place a LIMIT order with decimal-string quantity and price."""
    return eng.place_order(
        acct, symbol, side, "LIMIT", quantity=U(qty), price=U(price), time_in_force=tif, **kw
    )


def updates(events: list[Event], order_id: int | None = None) -> list[OrderUpdate]:
    return [
        e for e in events if isinstance(e, OrderUpdate) and (order_id is None or e.order.order_id == order_id)
    ]


def kinds(events: list[Event]) -> list[str]:
    """Compact event sequence, e.g. ['U:NEW:1', 'T', 'U:TRADE:1', 'D', 'B:a']."""
    out = []
    for e in events:
        if isinstance(e, OrderUpdate):
            out.append(f"U:{e.exec_type}:{e.order.order_id}")
        elif isinstance(e, TradeEvent):
            out.append("T")
        elif isinstance(e, BookDelta):
            out.append("D")
        else:
            out.append(f"B:{e.account_id}")
    return out


def totals(eng: Engine) -> dict[str, int]:
    """Per asset: free + locked over all accounts plus fees collected."""
    tot: dict[str, int] = defaultdict(int)
    for acct in eng.accounts.values():
        for asset, (free, locked) in acct.balances.items():
            tot[asset] += free + locked
    for asset, fee in eng.fees.items():
        tot[asset] += fee
    return {k: v for k, v in tot.items() if v}


class IdTracker:
    """Checks that ids seen in drained events only ever increase."""

    def __init__(self) -> None:
        self.exec_id = 0
        self.trade_id: dict[str, int] = {}
        self.update_id: dict[str, int] = {}
        self.order_id: dict[str, int] = {}
        self.seen: dict[str, set[int]] = {}

    def feed(self, events: list[Event]) -> None:
        for e in events:
            if isinstance(e, OrderUpdate):
                assert e.execution_id > self.exec_id
                self.exec_id = e.execution_id
                sym, oid = e.order.symbol, e.order.order_id
                seen = self.seen.setdefault(sym, set())
                if e.exec_type == "NEW" and oid not in seen:
                    assert oid > self.order_id.get(sym, 0)
                    self.order_id[sym] = oid
                    seen.add(oid)
            elif isinstance(e, TradeEvent):
                assert e.trade_id > self.trade_id.get(e.symbol, 0)
                self.trade_id[e.symbol] = e.trade_id
            elif isinstance(e, BookDelta):
                assert e.first_update_id == self.update_id.get(e.symbol, 0) + 1
                assert e.last_update_id >= e.first_update_id
                self.update_id[e.symbol] = e.last_update_id


def check_invariants(eng: Engine, expected_totals: dict[str, int] | None = None) -> None:
    """The engine's books balance: see the property tests for the list."""
    if expected_totals is not None:
        assert totals(eng) == expected_totals
    need: dict[tuple[str, str], int] = defaultdict(int)
    for st in eng._states.values():
        # Book never crossed at rest.
        if st.bid_prices and st.ask_prices:
            assert st.bid_prices[-1] < st.ask_prices[0]
        assert st.bid_prices == sorted(st.bids) and st.ask_prices == sorted(st.asks)
        on_book = set()
        for levels in (st.bids, st.asks):
            for price, level in levels.items():
                live = list(level.live())
                assert live, "empty level kept"
                assert level.count == len(live)
                assert level.qty == sum(o.visible_qty for o in live)
                for o in live:
                    assert o.price == price and o.is_working
                    assert 0 < o.visible_qty <= o.orig_qty - o.executed_qty - o.prevented_qty
                    on_book.add(id(o))
        open_ids = set()
        for acct_id, opened in st.open_by_account.items():
            for oid, o in opened.items():
                assert o.order_id == oid and o.account_id == acct_id
                assert o.status in (NEW, PARTIALLY_FILLED)
                assert o.locked == required_lock(o), (o, required_lock(o))
                asset = st.quote if o.side == BUY else st.base
                need[(acct_id, asset)] += o.locked
                assert (id(o) in on_book) == o.is_working
                open_ids.add(id(o))
        fills_by_order: dict[int, int] = defaultdict(int)
        for acct_id in st.account_fills:
            for f in eng.my_trades(acct_id, st.symbol, limit=1 << 30):
                fills_by_order[f.order_id] += f.qty
        for o in st.orders.values():
            if o.status in (NEW, PARTIALLY_FILLED):
                assert id(o) in open_ids
                assert o.orig_qty - o.executed_qty - o.prevented_qty > 0
            else:
                assert id(o) not in open_ids and id(o) not in on_book
                assert o.locked == 0
            assert o.executed_qty == fills_by_order.get(o.order_id, 0)
            assert o.executed_qty + o.prevented_qty <= o.orig_qty or o.orig_quote_qty
    for acct in eng.accounts.values():
        for asset, (free, locked) in acct.balances.items():
            assert free >= 0
            assert locked == need.get((acct.account_id, asset), 0), (acct.account_id, asset, locked)
