"""The replayed book inside the engine: one resting order of a hidden account per recorded level.

Why the engine holds the recorded liquidity: a user's order on a replayed symbol then goes
through the engine exactly as on any other symbol (validation, filters, balances, fees, STP,
MARKET/IOC/FOK/quoteOrderQty, the FULL response, execution reports), and an aggressive order
takes the recorded levels at their prices. What it takes is *consumed*: the level shows less
until the recording next updates that level, which resets it to the recorded quantity.

The orders of ``REPLAY_ACCOUNT`` are not placed through ``place_order``: recorded levels need
not pass the symbol's filters and must not use up order ids or update ids. ``EngineBook``
writes them into the book directly (negative order ids, no events) and keeps their funds locked
like any resting order's so the account's balances stay consistent. ``fill_resting`` fills a
*resting user order* against the recording (a recorded trade reaching it through its queue,
or the recorded book crossing its price) with the engine's own trade step and a transient
taker order of the replay account, so the user gets the usual TRADE report, balance change
and maker fee; ``finish`` then closes the operation (one BookDelta, BalanceChanges).

This module is the one place the replay server touches engine internals (``_states``,
``_trade``, ``_finish``, ``_run_triggers``, book levels): keep it in step with
``mock_exchange.engine``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import count

from mock_exchange.engine import Engine
from mock_exchange.engine.core import SymbolState
from mock_exchange.engine.events import trade_event
from mock_exchange.engine.types import BUY, CANCELED, GTC, IOC, LIMIT, NEW, PARTIALLY_FILLED, SELL, Order
from mock_exchange.engine.units import SCALE

REPLAY_ACCOUNT = "replay-market"
_FUNDS = 10**30  # the replay account's free funds per asset (units): never the limit


def _is_open(o: Order) -> bool:
    s = o.status
    return s == NEW or s == PARTIALLY_FILLED


def ensure_replay_account(engine: Engine, assets: tuple[str, ...]) -> None:
    """Create the hidden account that owns the recorded liquidity (zero fees, unlimited funds)."""
    if REPLAY_ACCOUNT not in engine.accounts:
        engine.create_account(REPLAY_ACCOUNT, {}, maker_rate=0, taker_rate=0)
    acct = engine.accounts[REPLAY_ACCOUNT]
    for asset in assets:
        bal = acct.entry(asset)
        if bal[0] < _FUNDS // 2:
            bal[0] += _FUNDS


class EngineBook:
    """The recorded levels of one symbol as resting orders of ``REPLAY_ACCOUNT`` (see module doc)."""

    __slots__ = ("engine", "st", "symbol", "bids", "asks", "_ids", "_base", "_quote")

    def __init__(self, engine: Engine, symbol: str, ids: Iterator[int] | None = None) -> None:
        self.engine = engine
        self.st: SymbolState = engine._states[symbol]
        self.symbol = symbol
        ensure_replay_account(engine, (self.st.base, self.st.quote))
        bals = engine.accounts[REPLAY_ACCOUNT].balances
        self._base = bals[self.st.base]
        self._quote = bals[self.st.quote]
        self.bids: dict[int, Order] = {}  # price -> the replay account's order there
        self.asks: dict[int, Order] = {}
        self._ids = ids if ids is not None else count(-1, -1)

    # ------------------------------------------------------------------ reading
    def qty(self, is_bid: bool, price: int) -> int:
        """Recorded quantity still shown at ``price`` (recorded minus what users consumed)."""
        o = (self.bids if is_bid else self.asks).get(price)
        return o.visible_qty if o is not None and _is_open(o) else 0

    def level_qty(self, is_bid: bool, price: int) -> int:
        """Everything the book shows at ``price``: recorded liquidity plus users' orders."""
        lv = (self.st.bids if is_bid else self.st.asks).get(price)
        return lv.qty if lv is not None else 0

    def best_replay(self, is_bid: bool, limit: int) -> int:
        """The best price with recorded liquidity at or better than ``limit`` (0: none)."""
        st = self.st
        if is_bid:
            prices = st.bid_prices
            for i in range(len(prices) - 1, -1, -1):
                p = prices[i]
                if p < limit:
                    return 0
                if self.qty(True, p) > 0:
                    return p
            return 0
        for p in st.ask_prices:
            if p > limit:
                return 0
            if self.qty(False, p) > 0:
                return p
        return 0

    # ------------------------------------------------------------------ writing levels
    def set(self, is_bid: bool, price: int, qty: int, now: int) -> None:
        """Make the recorded liquidity at ``price`` exactly ``qty`` (0 removes it)."""
        orders = self.bids if is_bid else self.asks
        o = orders.get(price)
        if o is not None and not _is_open(o):  # consumed entirely by a user: gone from the book
            del orders[price]
            o = None
        if o is None:
            if qty > 0:
                orders[price] = self._new(is_bid, price, qty, now)
            return
        if qty <= 0:
            del orders[price]
            self._drop(o)
            return
        old = o.visible_qty
        if qty != old:
            (self.st.bids if is_bid else self.st.asks)[price].qty += qty - old
            o.orig_qty += qty - old
            o.visible_qty = qty
            self._lock(o, price * qty // SCALE if is_bid else qty)

    def apply(self, is_bid: bool, sets: dict[int, int], dels: list[int], now: int) -> None:
        """``set`` for every level of one side of a recorded diff (``sets``: price -> quantity,
        ``dels``: prices to remove). The same steps as ``set``, inlined: a diff touches some
        forty levels and this is the replay's hottest loop."""
        orders = self.bids if is_bid else self.asks
        st = self.st
        levels = st.bids if is_bid else st.asks
        bal = self._quote if is_bid else self._base
        add, remove, ids, symbol = st.add, st.remove, self._ids, self.symbol
        side = BUY if is_bid else SELL
        for price, qty in sets.items():
            o = orders.get(price)
            if o is not None:
                status = o.status
                if status == NEW or status == PARTIALLY_FILLED:
                    if qty <= 0:
                        del orders[price]
                        self._drop(o)
                        continue
                    old = o.visible_qty
                    if qty != old:
                        levels[price].qty += qty - old
                        o.orig_qty += qty - old
                        o.visible_qty = qty
                        need = price * qty // SCALE if is_bid else qty
                        delta = need - o.locked
                        bal[0] -= delta
                        bal[1] += delta
                        o.locked = need
                    continue
                del orders[price]  # consumed entirely by a user: gone from the book
            if qty > 0:
                o = Order(next(ids), symbol, REPLAY_ACCOUNT, "", side, LIMIT, GTC, price, qty, 0, 0, 0, "NONE", now,
                          now, NEW, 0, 0, now, True)  # fmt: skip
                o.visible_qty = qty
                need = price * qty // SCALE if is_bid else qty
                bal[0] -= need
                bal[1] += need
                o.locked = need
                add(o)
                orders[price] = o
        for price in dels:
            o = orders.pop(price, None)
            if o is not None and (o.status == NEW or o.status == PARTIALLY_FILLED):
                remove(o)
                o.status = CANCELED
                bal[0] += o.locked
                bal[1] -= o.locked
                o.locked = 0

    def clear(self) -> None:
        """Take every recorded level off the book."""
        for orders in (self.bids, self.asks):
            for o in orders.values():
                if _is_open(o):
                    self._drop(o)
            orders.clear()

    def _new(self, is_bid: bool, price: int, qty: int, now: int) -> Order:
        o = Order(next(self._ids), self.symbol, REPLAY_ACCOUNT, "", BUY if is_bid else SELL, LIMIT, GTC, price, qty,
                  0, 0, 0, "NONE", now, now, NEW, 0, 0, now, True)  # fmt: skip
        o.visible_qty = qty
        self._lock(o, price * qty // SCALE if is_bid else qty)
        self.st.add(o)
        return o

    def _drop(self, o: Order) -> None:
        self.st.remove(o)
        o.status = CANCELED
        self._lock(o, 0)

    def _lock(self, o: Order, need: int) -> None:
        bal = self._quote if o.side == BUY else self._base
        delta = need - o.locked
        bal[0] -= delta
        bal[1] += delta
        o.locked = need

    # ------------------------------------------------------------------ fills and trades
    def fill_resting(self, m: Order, qty: int, now: int) -> None:
        """Fill ``qty`` of the resting user order ``m`` at its price against the recording
        (``m`` is the maker); call ``finish`` once the operation's fills are done."""
        st, eng = self.st, self.engine
        price = m.price
        taker_buys = m.side != BUY
        t = Order(next(self._ids), self.symbol, REPLAY_ACCOUNT, "", BUY if taker_buys else SELL, LIMIT, IOC, price,
                  qty, 0, 0, 0, "NONE", now, now, NEW, 0, 0, now, True)  # fmt: skip
        self._lock(t, price * qty // SCALE if taker_buys else qty)
        eng._trade(st, t, m, price, qty, now)
        self._lock(t, 0)  # whatever the taker did not spend
        # What the match loop does after a fill: the level shows less, a filled maker leaves it.
        is_bid = m.side == BUY
        levels = st.bids if is_bid else st.asks
        level = levels[price]
        level.qty -= qty
        if m.visible_qty == 0:
            left = m.orig_qty - m.executed_qty - m.prevented_qty
            if left > 0:  # an iceberg shows its next slice at the back of the queue
                ice = m.iceberg_qty
                m.visible_qty = ice if 0 < ice < left else left
                level.qty += m.visible_qty
                level.orders.remove(m)
                level.orders.append(m)
            else:
                level.count -= 1
                if level.count == 0:
                    del levels[price]
                    prices = st.bid_prices if is_bid else st.ask_prices
                    del prices[bisect_left(prices, price)]
        (st.chg_bids if is_bid else st.chg_asks).add(price)

    def record_trade(self, trade_id: int, price: int, qty: int, time: int, buyer_maker: bool) -> None:
        """A recorded print: market data (trades, klines, tickers, avgPrice), the last price, and
        the stops it triggers; later user trades take ids after ``trade_id``."""
        st, eng = self.st, self.engine
        eng.market_data.on_trade(trade_event(self.symbol, trade_id, price, qty, price * qty // SCALE, time, 0, 0,
                                             buyer_maker))  # fmt: skip
        if st.next_trade_id <= trade_id:
            st.next_trade_id = trade_id + 1
        st.last_price = price
        if st.stops_up or st.stops_down:
            if st.trade_lo == 0 or price < st.trade_lo:
                st.trade_lo = price
            if price > st.trade_hi:
                st.trade_hi = price

    def finish(self, now: int) -> None:
        """End one replay operation: trigger stops crossed by its prints, then emit its BookDelta
        (one update id) and BalanceChanges like any engine operation."""
        st, eng = self.st, self.engine
        if st.trade_hi:
            eng._run_triggers(st, now)
        eng._finish(st, now)
