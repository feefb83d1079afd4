"""Engine state shared by the matching, stop and query layers: per-symbol state, ids, events.

The engine is split by concern (``matching``, ``stops``, ``queries``, ``engine``) into mixins
over this core so every layer reads the same attributes without indirection on the hot path.
An *operation* (one place/cancel/trigger cascade) accumulates touched book levels and account
assets on the symbol state; ``_finish`` turns them into one ``BookDelta`` (one update id) and
one ``BalanceChange`` per account, after the order and trade events of that operation.
Accounts with ``reports`` off get no ``OrderUpdate``/``BalanceChange`` (their ids are still
consumed, so every other account sees the same ids either way).
Every order that finishes passes through ``_ended``, which keeps it for queries as long as
its account's ``Retention`` says (``retention``) and forgets it afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from mock_exchange.clock import wall_clock_ms
from mock_exchange.engine.accounts import Account
from mock_exchange.engine.book import Book, Level
from mock_exchange.engine.events import balance_change, book_delta, copy_order, order_update
from mock_exchange.engine.filters import QuickBounds
from mock_exchange.engine.market_data import MarketData
from mock_exchange.engine.retention import DEFAULT_RETENTION, FillLog, FillRow, Ledger, Retention
from mock_exchange.engine.symbols import SymbolSpec
from mock_exchange.engine.types import EngineError, Event, Order

__all__ = ["EngineCore", "FillRow", "SymbolState", "order_update", "snapshot"]

snapshot = copy_order

_CID_MULT = 0x9E3779B97F4A7C15F39CC1  # odd, 88 bits
_CID_MASK = (1 << 88) - 1


class SymbolState(Book):
    """Everything the engine keeps for one symbol: book, orders, fills, stops, id counters."""

    __slots__ = (
        "spec", "symbol", "base", "quote", "orders", "open_by_account", "client_ids",
        "account_orders", "account_fills", "ledgers", "stops_up", "stops_down", "next_order_id",
        "next_trade_id", "update_id", "next_prevented_id", "last_price", "chg_bids", "chg_asks",
        "touched", "trade_lo", "trade_hi", "market_step", "ref_priced", "ref_market", "ref_cache", "dead_stops",
        "quick",
    )  # fmt: skip

    def __init__(self, spec: SymbolSpec) -> None:
        super().__init__()
        self.orders: dict[int, Order] = {}
        self.open_by_account: dict[str, dict[int, Order]] = {}
        self.client_ids: dict[str, dict[str, Order]] = {}
        # Per account: its retained orders by id (ids increase, so insertion order is id order),
        # its retained fills, and the queues that decide which finished orders it still keeps.
        self.account_orders: dict[str, dict[int, Order]] = {}
        self.account_fills: dict[str, FillLog] = {}
        self.ledgers: dict[str, Ledger] = {}
        # Untriggered stops: (stop price, order id, order) min-heaps; "down" stores -stop.
        self.stops_up: list[tuple[int, int, Order]] = []
        self.stops_down: list[tuple[int, int, Order]] = []
        self.dead_stops = 0
        self.next_order_id = 1
        self.next_trade_id = 1
        self.update_id = 0
        self.next_prevented_id = 1
        self.last_price = 0
        # Per-operation scratch: changed levels, touched accounts (bit 1 base, bit 2 quote),
        # and the range of trade prices not yet checked against stop triggers.
        self.chg_bids: set[int] = set()
        self.chg_asks: set[int] = set()
        self.touched: dict[str, int] = {}
        self.trade_lo = 0
        self.trade_hi = 0
        self.ref_cache: tuple[int, int, int, int | None] = (-1, -1, -1, None)
        self.configure(spec)

    def configure(self, spec: SymbolSpec) -> None:
        """(Re)derive the cached per-symbol settings from ``spec``."""
        self.spec = spec
        self.symbol = spec.symbol
        self.base = spec.base_asset
        self.quote = spec.quote_asset
        mls = spec.market_lot_size
        ls = spec.lot_size
        step = mls.step_size if mls is not None and mls.step_size > 0 else 0
        if step == 0 and ls is not None:
            step = ls.step_size
        self.market_step = step
        # Which orders need the reference (average) price for their filters, and over how
        # many minutes: priced orders for PERCENT_PRICE(_BY_SIDE), MARKET-by-quantity orders
        # for the market notional rules. Asking market data only then keeps the hot path cheap.
        pp = spec.percent_price or spec.percent_price_by_side
        self.ref_priced = pp.avg_price_mins if pp is not None else -1  # -1: not needed
        nt, mn = spec.notional, spec.min_notional
        if nt is not None and (nt.apply_min_to_market or nt.apply_max_to_market):
            self.ref_market = nt.avg_price_mins
        elif mn is not None and mn.apply_to_market:
            self.ref_market = mn.avg_price_mins
        else:
            self.ref_market = -1
        self.ref_cache = (-1, -1, -1, None)
        self.quick = QuickBounds(spec)


class EngineCore:
    """Shared state and the bookkeeping helpers every engine layer uses."""

    def __init__(
        self, clock: Callable[[], int] | None = None, retention: Retention = DEFAULT_RETENTION
    ) -> None:
        self._clock: Callable[[], int] = clock if clock is not None else wall_clock_ms
        self.default_retention = retention
        self.symbols: dict[str, SymbolSpec] = {}
        self.market_data = MarketData()
        self.accounts: dict[str, Account] = {}
        # Commission collected per asset (units), so conservation can be checked exactly.
        self.fees: dict[str, int] = {}
        self._states: dict[str, SymbolState] = {}
        self._events: list[Event] = []
        self._exec_id = 0
        self._cid_seq = 0

    # ------------------------------------------------------------------ ids
    def _next_client_id(self) -> str:
        """A deterministic 22-char alphanumeric id that looks like the venue's generated ones.

        22 hex digits are 88 bits; multiplying the counter by an odd constant modulo 2**88 is
        a bijection, so ids are distinct (for 2**88 orders) yet look scrambled.
        """
        self._cid_seq += 1
        return f"{self._cid_seq * _CID_MULT & _CID_MASK:022x}"

    # ------------------------------------------------------------------ balances
    def _release(self, st: SymbolState, order: Order, amount: int) -> None:
        """Move ``amount`` of the order's lock back to free."""
        if amount <= 0:
            return
        acct = self.accounts[order.account_id]
        if order.side == "BUY":
            bal = acct.balances[st.quote]
            bit = 2
        else:
            bal = acct.balances[st.base]
            bit = 1
        bal[0] += amount
        bal[1] -= amount
        order.locked -= amount
        touched = st.touched
        touched[order.account_id] = touched.get(order.account_id, 0) | bit

    # ------------------------------------------------------------------ operation end
    def _finish(self, st: SymbolState, now: int) -> None:
        """Emit the operation's BookDelta (one update id) and BalanceChanges, then reset."""
        events = self._events
        chg_bids, chg_asks = st.chg_bids, st.chg_asks
        if chg_bids or chg_asks:
            st.update_id += 1
            bids = _levels(chg_bids, st.bids, True) if chg_bids else ()
            asks = _levels(chg_asks, st.asks, False) if chg_asks else ()
            events.append(book_delta(st.symbol, st.update_id, bids, asks, now))
        touched = st.touched
        if touched:
            accounts = self.accounts
            base, quote = st.base, st.quote
            for aid, mask in touched.items():
                acct = accounts[aid]
                acct.update_time = now
                if not acct.reports:
                    continue
                bal = acct.balances
                if mask == 3:
                    b, q = bal[base], bal[quote]
                    items: tuple[tuple[str, int, int], ...] = ((base, b[0], b[1]), (quote, q[0], q[1]))
                elif mask == 1:
                    b = bal[base]
                    items = ((base, b[0], b[1]),)
                else:
                    q = bal[quote]
                    items = ((quote, q[0], q[1]),)
                events.append(balance_change(aid, items, now))
            touched.clear()

    # ------------------------------------------------------------------ retention
    def _ended(self, st: SymbolState, o: Order) -> None:
        """``o`` just finished: keep it while its account's retention allows, else forget it."""
        aid = o.account_id
        led = st.ledgers.get(aid)
        if led is None:
            led = st.ledgers[aid] = Ledger(self.accounts[aid].retention)
        if o.executed_qty:
            if not led.max_filled:
                _forget(st, o)
                return
            q = led.filled
            q.append(o)
            if len(q) > led.max_filled:
                _forget(st, q.popleft())
            return
        if not led.max_unfilled:
            _forget(st, o)
            return
        q = led.unfilled
        q.append(o)
        if len(q) > led.max_unfilled:
            _forget(st, q.popleft())
        age = led.max_age
        if age >= 0 and q[0].update_time <= o.update_time - age:  # the oldest is due
            for old in led.aged(o.update_time):
                _forget(st, old)

    def _archive_due(self, st: SymbolState, account_id: str) -> None:
        """Apply the age rule now (queries call this: time may have passed since the last finish)."""
        led = st.ledgers.get(account_id)
        if led is not None and led.max_age >= 0:
            for old in led.aged(self._clock()):
                _forget(st, old)

    def _fill_log(self, st: SymbolState, account_id: str) -> FillLog:
        """The account's fill log on ``st``, created with its retention's cap."""
        log = st.account_fills[account_id] = FillLog(self.accounts[account_id].retention.fills)
        return log

    def set_retention(self, account_id: str, retention: Retention) -> None:
        """Change what the account keeps; finished orders and fills beyond it go at once."""
        acct = self.accounts[account_id]
        acct.retention = retention
        now = self._clock()
        for st in self._states.values():
            led = st.ledgers.get(account_id)
            if led is not None:
                led.configure(retention)
                for old in led.overflow(now):
                    _forget(st, old)
            log = st.account_fills.get(account_id)
            if log is not None:
                log.set_cap(retention.fills)

    def _state(self, symbol: str) -> SymbolState:
        """The symbol's state or -1121 'Invalid symbol.'."""
        st = self._states.get(symbol)
        if st is None:
            raise EngineError(-1121, "Invalid symbol.")
        return st


def _forget(st: SymbolState, o: Order) -> None:
    """Drop a finished order from every index (queries then answer as for an unknown order)."""
    oid, aid = o.order_id, o.account_id
    st.orders.pop(oid, None)
    mine = st.account_orders.get(aid)
    if mine is not None:
        mine.pop(oid, None)
    by_cid = st.client_ids.get(aid)
    # A client id may have been reused by a later order: only drop the entry if it is this one.
    if by_cid is not None and by_cid.get(o.client_order_id) is o:
        del by_cid[o.client_order_id]


def _levels(changed: set[int], levels: dict[int, Level], descending: bool) -> tuple[tuple[int, int], ...]:
    """(price, visible qty) of the changed prices, best first; empties ``changed``."""
    if len(changed) == 1:
        p = changed.pop()
        lv = levels.get(p)
        return ((p, lv.qty if lv is not None else 0),)
    out = tuple(
        [(p, lv.qty if (lv := levels.get(p)) is not None else 0) for p in sorted(changed, reverse=descending)]
    )
    changed.clear()
    return out
