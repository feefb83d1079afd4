"""The ``Engine`` facade: symbols, accounts, order entry with the venue's validation, cancels.

Every check runs before anything changes, in the venue's order: symbol, status, order type
and parameter rules, STP mode, duplicate client id, filters (``filters.check_order``, fed the
average price from ``market_data`` and the open-order counts), trigger/post-only rules and
finally the balance. Only then is an order id taken, funds locked and the order matched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mock_exchange.engine.accounts import DEFAULT_RATE, Account
from mock_exchange.engine.core import SymbolState, order_update, snapshot
from mock_exchange.engine.events import balance_change, book_delta
from mock_exchange.engine.filters import limit_passes, market_passes
from mock_exchange.engine.queries import QueriesMixin
from mock_exchange.engine.retention import DEFAULT_RETENTION, Retention
from mock_exchange.engine.stops import StopsMixin, would_trigger
from mock_exchange.engine.symbols import SYMBOL_STATUSES, SymbolSpec
from mock_exchange.engine.types import (
    BUY,
    CANCELED,
    GTC,
    LIMIT,
    LIMIT_MAKER,
    MARKET,
    NEW,
    PARTIALLY_FILLED,
    SELL,
    X_CANCELED,
    BalanceChange,
    EngineError,
    Event,
    Fill,
    Order,
    PlaceResult,
)
from mock_exchange.engine.units import SCALE
from mock_exchange.engine.validation import (
    INSUFFICIENT,
    LIMIT_PRICED,
    STOP_TYPE_SET,
    TIF_SET,
    ValidationMixin,
)

_CANCEL_RESTRICTIONS = ("", "ONLY_NEW", "ONLY_PARTIALLY_FILLED")
_REPLACE_MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")


@dataclass(slots=True)
class CancelReplaceResult:
    """Outcome of ``cancel_replace``: each half either succeeded, failed, or was not attempted.

    ``canceled``/``cancel_error`` both None means the cancel was not attempted (never happens
    today: validation failures of the new order raise before anything runs); ``placed`` and
    ``new_error`` both None means the new order was not attempted (STOP_ON_FAILURE).
    """

    canceled: Order | None
    cancel_error: EngineError | None
    placed: PlaceResult | None
    new_error: EngineError | None


class Engine(ValidationMixin, StopsMixin, QueriesMixin):
    """A pure, synchronous matching engine for Binance-Spot-like symbols (see contract).

    ``retention`` is the ``Retention`` (what is kept of finished orders and fills; open orders
    are always kept) of every account created without one of its own.
    """

    def __init__(
        self, clock: Callable[[], int] | None = None, retention: Retention = DEFAULT_RETENTION
    ) -> None:
        super().__init__(clock, retention)

    # ------------------------------------------------------------------ symbols & accounts
    def add_symbol(self, spec: SymbolSpec) -> None:
        """Add a symbol, or replace the spec of an existing one (its book and orders stay)."""
        st = self._states.get(spec.symbol)
        if st is None:
            self._states[spec.symbol] = SymbolState(spec)
        else:
            st.configure(spec)
        self.symbols[spec.symbol] = spec
        self.market_data.register_symbol(spec.symbol, spec.base_asset_precision, spec.quote_asset_precision)

    def set_symbol_status(self, symbol: str, status: str) -> None:
        """Change trading status; open orders stay, only new orders are refused when not TRADING."""
        if status not in SYMBOL_STATUSES:
            raise ValueError(f"unknown symbol status {status!r}")
        self._state(symbol).spec.status = status

    def create_account(
        self,
        account_id: str,
        balances: Mapping[str, int] | None = None,
        maker_rate: int = DEFAULT_RATE,
        taker_rate: int = DEFAULT_RATE,
        can_trade: bool = True,
        retention: Retention | None = None,
        reports: bool = True,
    ) -> Account:
        """Open an account with free balances (units) and fee rates (units: 100_000 == 0.1 %).

        ``retention``: what it keeps of finished orders and fills (default: the engine's).
        ``reports=False``: an account nobody listens to (the synthesized market's agents); see
        ``set_reports``.
        """
        if account_id in self.accounts:
            raise ValueError(f"account {account_id!r} already exists")
        bals: dict[str, list[int]] = {}
        for asset, amount in (balances or {}).items():
            if amount < 0:
                raise ValueError(f"negative balance for {asset}")
            bals[asset] = [amount, 0]
        acct = Account(account_id, bals, maker_rate, taker_rate, can_trade, self._clock(),
                       retention if retention is not None else self.default_retention, reports)  # fmt: skip
        self.accounts[account_id] = acct
        return acct

    def set_reports(self, account_id: str, reports: bool) -> None:
        """Turn the account's execution reports and balance changes on or off.

        Off, the engine emits no ``OrderUpdate`` or ``BalanceChange`` for the account's orders
        and trades (public events, ids and balances are unchanged: execution and generated
        client order ids are still consumed), and ``place_order``/``cancel_order`` hand back
        the live order instead of a copy (a cancelled order never changes again; a resting
        one does). For accounts whose user data nobody can subscribe to: building those
        events was about a third of the cost of an agent's order. Deposits and withdrawals
        (``adjust_balance``) are always reported.
        """
        self.accounts[account_id].reports = reports

    def account(self, account_id: str) -> Account:
        """The live account (KeyError if unknown); read it, change it via the engine only."""
        return self.accounts[account_id]

    def adjust_balance(self, account_id: str, asset: str, delta: int) -> BalanceChange:
        """Deposit (+) or withdraw (-) free funds; emits and returns a balanceUpdate-style change."""
        acct = self.accounts[account_id]
        bal = acct.entry(asset)
        if delta < 0 and bal[0] < -delta:
            raise EngineError(-2010, INSUFFICIENT)
        now = self._clock()
        bal[0] += delta
        acct.update_time = now
        change = BalanceChange(account_id, ((asset, bal[0], bal[1]),), now, asset, delta)
        self._events.append(change)
        return change

    def drain_events(self) -> list[Event]:
        """Every event since the last drain, in emission order."""
        events = self._events
        self._events = []
        return events

    # ------------------------------------------------------------------ order entry
    def place_order(
        self,
        account_id: str,
        symbol: str,
        side: str,
        type: str,
        *,
        quantity: int = 0,
        quote_order_qty: int = 0,
        price: int = 0,
        time_in_force: str = "",
        stop_price: int = 0,
        iceberg_qty: int = 0,
        client_order_id: str = "",
        stp_mode: str = "",
        strategy_id: int | None = None,
        strategy_type: int | None = None,
        test: bool = False,
    ) -> PlaceResult:
        """Validate, then place and match one order; raises EngineError with the venue's code."""
        st = self._states.get(symbol)
        if st is None:
            raise EngineError(-1121, "Invalid symbol.")
        acct = self.accounts[account_id]
        spec = st.spec
        if spec.status != "TRADING":
            raise EngineError(-2010, "Market is closed.")
        if not acct.can_trade:
            raise EngineError(-2010, "This account may not place or cancel orders.")
        # The common shapes (a plain LIMIT with a valid timeInForce, a MARKET by quantity) meet
        # every static rule once these few tests hold; anything else gets the full check.
        stp = stp_mode or spec.default_stp_mode
        quick = (
            (side == BUY or side == SELL)
            and quantity > 0
            and not (quote_order_qty or stop_price or iceberg_qty)
            and (
                (type == LIMIT and price > 0 and time_in_force in TIF_SET)
                or (type == MARKET and not price and not time_in_force)
            )
            and type in spec.order_types
            and stp in spec.allowed_stp_modes
            and (strategy_type is None or strategy_type >= 1_000_000)
        )
        if quick:
            tif = time_in_force
        else:
            tif, stp = self._check_params(
                spec, side, type, quantity, quote_order_qty, price, time_in_force, stop_price, iceberg_qty,
                stp_mode, strategy_type,
            )  # fmt: skip
        by_cid = st.client_ids.get(account_id)
        if client_order_id and by_cid is not None and not test:
            prev = by_cid.get(client_order_id)
            if prev is not None and (prev.status == NEW or prev.status == PARTIALLY_FILLED):
                raise EngineError(-2010, "Duplicate order sent.")
        now = self._clock()
        opened = st.open_by_account.get(account_id)
        if quick:
            # The quick filter bounds (see _check_filters); only a failure pays for the full check.
            mins = st.ref_priced if type == LIMIT else st.ref_market
            ref = self._ref_price(st, mins, now) if mins >= 0 else None
            n_open = len(opened) if opened else 0
            if type == LIMIT:
                quick = limit_passes(st.quick, side == BUY, price, quantity, ref, n_open)
            else:
                quick = market_passes(st.quick, quantity, ref, n_open)
        if not quick:
            self._check_filters(
                st, account_id, side, type, quantity, quote_order_qty, price, stop_price, iceberg_qty, now
            )
        is_stop = type in STOP_TYPE_SET
        order = Order(
            0 if test else st.next_order_id, symbol, account_id, client_order_id, side, type, tif, price,
            quantity, quote_order_qty, stop_price, iceberg_qty, stp, now, now, NEW, 0, 0,
            -1 if is_stop else now, not is_stop, 0, 0, strategy_id, strategy_type,
        )  # fmt: skip
        if test:
            return PlaceResult(order, [])
        if is_stop:
            if would_trigger(order, st.last_price):
                raise EngineError(-2010, "Order would trigger immediately.")
        elif type == LIMIT_MAKER:
            if side == BUY:
                if st.ask_prices and st.ask_prices[0] <= price:
                    raise EngineError(-2010, "Order would immediately match and take.")
            elif st.bid_prices and st.bid_prices[-1] >= price:
                raise EngineError(-2010, "Order would immediately match and take.")
        if type in LIMIT_PRICED:
            notional = price * quantity // SCALE
            if notional <= 0:
                raise EngineError(-2010, "Price * QTY is zero or less.")
            need = notional if side == BUY else quantity
        else:
            need = self._lock_need(
                st, account_id, side, type, quantity, quote_order_qty, price, stop_price, stp
            )
        balances = acct.balances
        base_a, quote_a = st.base, st.quote
        bal_base = balances.get(base_a)
        if bal_base is None:
            bal_base = balances[base_a] = [0, 0]
        bal_quote = balances.get(quote_a)
        if bal_quote is None:
            bal_quote = balances[quote_a] = [0, 0]
        bal = bal_quote if side == BUY else bal_base
        if need > bal[0]:
            raise EngineError(-2010, INSUFFICIENT)
        # ---- accepted: from here on state changes.
        oid = st.next_order_id
        st.next_order_id = oid + 1
        order.order_id = oid
        if not client_order_id:
            order.client_order_id = self._next_client_id()
        if need:
            bal[0] -= need
            bal[1] += need
            order.locked = need
        st.orders[oid] = order
        mine = st.account_orders.get(account_id)
        if mine is None:
            mine = st.account_orders[account_id] = {}
        mine[oid] = order
        if by_cid is None:
            by_cid = st.client_ids[account_id] = {}
        by_cid[order.client_order_id] = order
        if opened is None:
            opened = st.open_by_account[account_id] = {}
        opened[oid] = order
        self._exec_id += 1
        events = self._events
        reports = acct.reports
        if reports:
            events.append(order_update(order, NEW, now, self._exec_id))
        fills: list[Fill] = []
        if (
            not is_stop
            and tif == GTC
            and (
                (not st.ask_prices or st.ask_prices[0] > price)
                if side == BUY
                else (not st.bid_prices or st.bid_prices[-1] < price)
            )
        ):
            # Passive GTC limit (the common case): straight onto the book, nothing to match.
            # Its one changed level and one changed balance are reported directly (what
            # ``_finish`` would emit for this operation, without the bookkeeping).
            order.visible_qty = iceberg_qty or quantity
            level = st.add(order)
            uid = st.update_id = st.update_id + 1
            changed = ((price, level.qty),)
            if side == BUY:
                events.append(book_delta(symbol, uid, changed, (), now))
                if need:
                    acct.update_time = now
                    if reports:
                        events.append(balance_change(account_id, ((quote_a, bal[0], bal[1]),), now))
            else:
                events.append(book_delta(symbol, uid, (), changed, now))
                if need:
                    acct.update_time = now
                    if reports:
                        events.append(balance_change(account_id, ((base_a, bal[0], bal[1]),), now))
            return PlaceResult(snapshot(order) if reports else order, fills)
        if need:
            touched = st.touched
            touched[account_id] = touched.get(account_id, 0) | (2 if side == BUY else 1)
        if is_stop:
            self._park_stop(st, order)
        else:
            fills = self._execute(st, order, now)
            if st.trade_hi:
                self._run_triggers(st, now)
        self._finish(st, now)
        return PlaceResult(snapshot(order) if reports else order, fills)

    # ------------------------------------------------------------------ cancels
    def _cancel(self, st: SymbolState, o: Order, now: int, cancel_client_order_id: str) -> None:
        """Take an open order off the book (or out of the stop heaps) and unlock its funds."""
        if o.is_working:
            st.remove(o)
            (st.chg_bids if o.side == BUY else st.chg_asks).add(o.price)
        else:
            self._unpark_stop(st)
        o.status = CANCELED
        o.update_time = now
        if o.locked:
            self._release(st, o, o.locked)
        opened = st.open_by_account.get(o.account_id)
        if opened is not None:
            opened.pop(o.order_id, None)
        self._exec_id += 1
        if self.accounts[o.account_id].reports:
            self._events.append(
                order_update(
                    o, X_CANCELED, now, self._exec_id, orig_client_order_id=o.client_order_id,
                    cancel_client_order_id=cancel_client_order_id or self._next_client_id(),
                )
            )  # fmt: skip
        elif not cancel_client_order_id:
            self._cid_seq += 1  # the id the report would have carried, so later ids stay the same
        self._ended(st, o)

    def cancel_order(
        self,
        account_id: str,
        symbol: str,
        order_id: int | None = None,
        orig_client_order_id: str | None = None,
        new_client_order_id: str = "",
        cancel_restrictions: str = "",
    ) -> Order:
        """Cancel one open order; returns its final state (a copy)."""
        st = self._states.get(symbol)
        if st is None:
            raise EngineError(-1121, "Invalid symbol.")
        # By order id alone, an open order of a trading account (the common case) needs no
        # further checks; anything else goes through the full rules and their errors.
        o = st.orders.get(order_id) if order_id is not None else None
        if (
            o is None
            or orig_client_order_id
            or cancel_restrictions
            or o.account_id != account_id
            or not (o.status == NEW or o.status == PARTIALLY_FILLED)
            or not self.accounts[account_id].can_trade
        ):
            o = self._cancelable(st, account_id, order_id, orig_client_order_id, cancel_restrictions)
        now = self._clock()
        if not o.is_working:  # an untriggered stop
            self._cancel(st, o, now, new_client_order_id)
            self._finish(st, now)
            return snapshot(o)
        # A resting order (the common case): its one level and at most one balance are
        # reported directly, the events ``_cancel`` + ``_finish`` would produce.
        left = st.remove(o)
        o.status = CANCELED
        o.update_time = now
        buy = o.side == BUY
        locked = o.locked
        acct = self.accounts[account_id]
        asset = st.quote if buy else st.base
        bal = acct.balances[asset]
        if locked:
            bal[0] += locked
            bal[1] -= locked
            o.locked = 0
        opened = st.open_by_account.get(account_id)
        if opened is not None:
            opened.pop(o.order_id, None)
        self._ended(st, o)
        self._exec_id += 1
        events = self._events
        reports = acct.reports
        if reports:
            report = order_update(
                o, X_CANCELED, now, self._exec_id, orig_client_order_id=o.client_order_id,
                cancel_client_order_id=new_client_order_id or self._next_client_id(),
            )  # fmt: skip
            events.append(report)
            # Nothing changes after the report: its snapshot is the final state (one copy, not two).
            final = report.order
        else:
            if not new_client_order_id:
                self._cid_seq += 1  # the id the report would have carried, so later ids stay the same
            final = o  # finished: it never changes again
        uid = st.update_id = st.update_id + 1
        changed = ((o.price, left),)
        if buy:
            events.append(book_delta(st.symbol, uid, changed, (), now))
        else:
            events.append(book_delta(st.symbol, uid, (), changed, now))
        if locked:
            acct.update_time = now
            if reports:
                events.append(balance_change(account_id, ((asset, bal[0], bal[1]),), now))
        return final

    def _cancelable(
        self,
        st: SymbolState,
        account_id: str,
        order_id: int | None,
        orig_client_order_id: str | None,
        cancel_restrictions: str,
    ) -> Order:
        """The open order a cancel targets, or the venue's cancel rejection."""
        if cancel_restrictions not in _CANCEL_RESTRICTIONS:
            raise EngineError(-1145, "Invalid cancelRestrictions")
        if order_id is None and not orig_client_order_id:
            raise EngineError(
                -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
            )
        if not self.accounts[account_id].can_trade:
            raise EngineError(-2011, "This account may not place or cancel orders.")
        o = self._find(st, account_id, order_id, orig_client_order_id)
        if o is None or not (o.status == NEW or o.status == PARTIALLY_FILLED):
            raise EngineError(-2011, "Unknown order sent.")
        if (cancel_restrictions == "ONLY_NEW" and o.status != NEW) or (
            cancel_restrictions == "ONLY_PARTIALLY_FILLED" and o.status != PARTIALLY_FILLED
        ):
            raise EngineError(-2011, "Order was not canceled due to cancel restrictions.")
        return o

    def cancel_all(self, account_id: str, symbol: str) -> list[Order]:
        """Cancel every open order of the account on ``symbol`` (oldest first)."""
        st = self._state(symbol)
        opened = st.open_by_account.get(account_id)
        if not opened:
            raise EngineError(-2011, "Unknown order sent.")
        if not self.accounts[account_id].can_trade:
            raise EngineError(-2011, "This account may not place or cancel orders.")
        now = self._clock()
        targets = sorted(opened.values(), key=lambda o: o.order_id)
        for o in targets:
            self._cancel(st, o, now, "")
        self._finish(st, now)
        return [snapshot(o) for o in targets]

    def cancel_replace(
        self,
        account_id: str,
        symbol: str,
        *,
        cancel_order_id: int | None = None,
        cancel_orig_client_order_id: str | None = None,
        cancel_new_client_order_id: str = "",
        cancel_restrictions: str = "",
        mode: str = "STOP_ON_FAILURE",
        **new_order_kwargs: Any,
    ) -> CancelReplaceResult:
        """Cancel an order and place a new one; the new order's filters run before the cancel.

        A new order failing its static or filter checks raises (nothing happens, as the venue
        evaluates filters first). Then the cancel runs; with STOP_ON_FAILURE a failed cancel
        stops there, with ALLOW_FAILURE the new order is still attempted.
        """
        st = self._state(symbol)
        if mode not in _REPLACE_MODES:
            raise EngineError(-1130, "Data sent for parameter 'cancelReplaceMode' is not valid.")
        if cancel_restrictions not in _CANCEL_RESTRICTIONS:
            raise EngineError(-1145, "Invalid cancelRestrictions")
        spec = st.spec
        if not spec.cancel_replace_allowed:
            raise EngineError(-2010, "Order cancel-replace is not supported for this symbol.")
        kw = new_order_kwargs
        side, otype = kw.get("side", ""), kw.get("type", "")
        qty, qoq = kw.get("quantity", 0), kw.get("quote_order_qty", 0)
        price, stop, ice = kw.get("price", 0), kw.get("stop_price", 0), kw.get("iceberg_qty", 0)
        self._check_params(
            spec, side, otype, qty, qoq, price, kw.get("time_in_force", ""), stop, ice,
            kw.get("stp_mode", ""), kw.get("strategy_type"),
        )  # fmt: skip
        target = self._find(st, account_id, cancel_order_id, cancel_orig_client_order_id)
        if target is not None and not (target.status == NEW or target.status == PARTIALLY_FILLED):
            target = None
        self._check_filters(st, account_id, side, otype, qty, qoq, price, stop, ice, self._clock(), target)
        canceled: Order | None = None
        cancel_error: EngineError | None = None
        try:
            canceled = self.cancel_order(
                account_id, symbol, cancel_order_id, cancel_orig_client_order_id,
                cancel_new_client_order_id, cancel_restrictions,
            )  # fmt: skip
        except EngineError as exc:
            cancel_error = exc
            if mode == "STOP_ON_FAILURE":
                return CancelReplaceResult(None, cancel_error, None, None)
        placed: PlaceResult | None = None
        new_error: EngineError | None = None
        try:
            placed = self.place_order(account_id, symbol, **kw)
        except EngineError as exc:
            new_error = exc
        return CancelReplaceResult(canceled, cancel_error, placed, new_error)
