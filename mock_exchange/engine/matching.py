"""The match loop: a taker order against the opposite side, fills, STP, and the taker's end state.

Everything here runs inside one engine operation: it mutates orders, balances and the book,
appends order/trade events, and records touched levels and accounts on the symbol state for
``EngineCore._finish``. Callers have already validated the order and locked its funds
(``order.locked``): quote for BUY, base for SELL. A MARKET BUY's lock is its spending budget.
"""

from __future__ import annotations

from collections.abc import Iterator

from mock_exchange.engine.book import Level
from mock_exchange.engine.core import EngineCore, SymbolState
from mock_exchange.engine.events import fill, order_update, trade_event
from mock_exchange.engine.types import (
    BUY,
    EXPIRED,
    EXPIRED_IN_MATCH,
    FILLED,
    FOK,
    IOC,
    MARKET,
    NEW,
    PARTIALLY_FILLED,
    STOP_LOSS,
    STP_EXPIRE_BOTH,
    STP_EXPIRE_MAKER,
    STP_EXPIRE_TAKER,
    STP_NONE,
    TAKE_PROFIT,
    X_EXPIRED,
    X_TRADE,
    X_TRADE_PREVENTION,
    Fill,
    Order,
    OrderUpdate,
)
from mock_exchange.engine.units import SCALE

# Own-order policies for liquidity walks (see ``_walk``).
OWN_COUNT = 0  # own orders trade (STP NONE)
OWN_SKIP = 1  # own orders are expired and skipped (EXPIRE_MAKER)
OWN_STOP = 2  # the taker stops at its first own order (EXPIRE_TAKER/BOTH, DECREMENT)

_MARKET_TYPES = frozenset((MARKET, STOP_LOSS, TAKE_PROFIT))


def own_policy(stp_mode: str) -> int:
    """How a liquidity walk treats the taker's own resting orders under ``stp_mode``."""
    if stp_mode == STP_NONE:
        return OWN_COUNT
    if stp_mode == STP_EXPIRE_MAKER:
        return OWN_SKIP
    return OWN_STOP


class MatchingMixin(EngineCore):
    """Matching of one taker order; used by placement and by stop triggers."""

    # ------------------------------------------------------------------ liquidity walks
    @staticmethod
    def _walk(
        st: SymbolState, buy: bool, limit: int, account_id: str, policy: int
    ) -> Iterator[tuple[int, int]]:
        """(price, remaining qty) of each maker a taker would meet, best first; ``limit`` 0 = none."""
        if buy:
            levels, prices = st.asks, st.ask_prices
        else:
            levels, prices = st.bids, reversed(st.bid_prices)  # type: ignore[assignment]
        for price in prices:
            if limit and (price > limit if buy else price < limit):
                return
            for m in levels[price].live():
                if policy and m.account_id == account_id:
                    if policy == OWN_STOP:
                        return
                    continue
                yield price, m.orig_qty - m.executed_qty - m.prevented_qty

    def _fok_fillable(self, st: SymbolState, t: Order) -> bool:
        need = t.orig_qty - t.executed_qty - t.prevented_qty
        for _price, qty in self._walk(st, t.side == BUY, t.price, t.account_id, own_policy(t.stp_mode)):
            need -= qty
            if need <= 0:
                return True
        return need <= 0

    def _buy_cost_bound(self, st: SymbolState, qty: int, account_id: str, stp_mode: str) -> int:
        """Quote a MARKET BUY of ``qty`` can spend at most (own orders skipped unless STP NONE)."""
        policy = OWN_COUNT if stp_mode == STP_NONE else OWN_SKIP
        cost = 0
        for price, avail in self._walk(st, True, 0, account_id, policy):
            take = avail if avail < qty else qty
            cost += price * take // SCALE
            qty -= take
            if qty <= 0:
                break
        return cost

    def _sell_base_for_quote(self, st: SymbolState, quote_qty: int, account_id: str, stp_mode: str) -> int:
        """Base a MARKET SELL by quoteOrderQty would sell to receive ``quote_qty``."""
        policy = OWN_COUNT if stp_mode == STP_NONE else OWN_SKIP
        step = st.market_step
        base = 0
        for price, avail in self._walk(st, False, 0, account_id, policy):
            want = quote_qty * SCALE // price
            if step > 0:
                want -= want % step
            if price * want // SCALE == 0:
                break
            take = avail if avail < want else want
            base += take
            quote_qty -= price * take // SCALE
        return base

    # ------------------------------------------------------------------ the match loop
    def _execute(self, st: SymbolState, t: Order, now: int) -> list[Fill]:
        """Match taker ``t`` (already NEW-reported and locked), then rest or end it."""
        fills: list[Fill] = []
        buy = t.side == BUY
        otype = t.type
        is_market = otype in _MARKET_TYPES
        quote_mode = t.orig_quote_qty > 0
        if not is_market and t.time_in_force == FOK and not self._fok_fillable(st, t):
            self._end_taker(st, t, now, EXPIRED, "UNFILLED_FOK_ORDER_EXPIRED")
            return fills
        limit = 0 if is_market else t.price
        if buy:
            levels, prices, chg = st.asks, st.ask_prices, st.chg_asks
        else:
            levels, prices, chg = st.bids, st.bid_prices, st.chg_bids
        stp = t.stp_mode
        stp_on = stp != STP_NONE
        taker_acct = t.account_id
        step = st.market_step
        budget_capped = is_market and buy and not quote_mode
        ended_by_budget = False
        last_taker_ev = -1
        events = self._events
        t_reports = self.accounts[taker_acct].reports
        while prices and t.status != EXPIRED_IN_MATCH:
            price = prices[0] if buy else prices[-1]
            if limit and (price > limit if buy else price < limit):
                break
            level = levels[price]
            q = level.orders
            stop = False
            while q:
                m = q[0]
                mstatus = m.status
                if mstatus != NEW and mstatus != PARTIALLY_FILLED:
                    q.popleft()  # lazily deleted (canceled) entry
                    continue
                # How much the taker can still take at this price.
                if quote_mode:
                    room = t.orig_quote_qty - t.cum_quote_qty
                    want = room * SCALE // price
                    if step > 0:
                        want -= want % step
                    if not buy and want > t.locked:
                        want = t.locked
                    if price * want // SCALE == 0:
                        want = 0  # what is left would trade for nothing
                else:
                    want = t.orig_qty - t.executed_qty - t.prevented_qty
                    if budget_capped and price * want // SCALE > t.locked:
                        want = t.locked * SCALE // price
                        if step > 0:
                            want -= want % step
                if want <= 0:
                    ended_by_budget = True
                    stop = True
                    break
                if stp_on and m.account_id == taker_acct:
                    if self._prevent(st, level, t, m, want, now):
                        chg.add(price)
                    if t.status == EXPIRED_IN_MATCH:
                        stop = True
                        break
                    continue
                vis = m.visible_qty
                fq = vis if vis < want else want
                fills.append(self._trade(st, t, m, price, fq, now))
                if t_reports:
                    last_taker_ev = len(events) - 1
                chg.add(price)
                level.qty -= fq
                if m.visible_qty == 0:
                    q.popleft()
                    mrem = m.orig_qty - m.executed_qty - m.prevented_qty
                    if mrem > 0:
                        # Iceberg: show a fresh slice at the back of the queue.
                        ice = m.iceberg_qty
                        m.visible_qty = ice if ice < mrem else mrem
                        level.qty += m.visible_qty
                        q.append(m)
                    else:
                        level.count -= 1
                if fq == want and not quote_mode:
                    if t.orig_qty - t.executed_qty - t.prevented_qty == 0:
                        stop = True
                        break
                    if budget_capped:
                        ended_by_budget = True
                        stop = True
                        break
            if level.count == 0:
                del levels[price]
                if buy:
                    del prices[0]
                else:
                    prices.pop()
            if stop:
                break
        self._settle_taker(st, t, now, ended_by_budget, last_taker_ev)
        return fills

    def _settle_taker(self, st: SymbolState, t: Order, now: int, ended_by_budget: bool, last_ev: int) -> None:
        """After matching: rest a GTC remainder, or give the taker its terminal status."""
        status = t.status
        if status == EXPIRED_IN_MATCH:
            self._end_taker(st, t, now, EXPIRED_IN_MATCH, "")
            return
        if t.orig_quote_qty > 0:
            t.orig_qty = t.executed_qty + t.prevented_qty
            if t.executed_qty > 0 and (ended_by_budget or self._quote_spent(st, t)):
                t.status = FILLED
                if last_ev >= 0:
                    # The last TRADE report becomes the FILLED one, as the venue shows it.
                    ev = self._events[last_ev]
                    assert isinstance(ev, OrderUpdate)
                    self._events[last_ev] = order_update(
                        t, ev.exec_type, now, ev.execution_id, ev.last_qty, ev.last_price, ev.last_quote_qty,
                        ev.commission, ev.commission_asset, ev.trade_id,
                    )  # fmt: skip
                self._end_taker(st, t, now, FILLED, "")
            else:
                self._end_taker(st, t, now, EXPIRED, "INSUFFICIENT_LIQUIDITY")
            return
        remaining = t.orig_qty - t.executed_qty - t.prevented_qty
        if remaining == 0:
            self._end_taker(st, t, now, FILLED, "")
        elif t.type in _MARKET_TYPES:
            self._end_taker(st, t, now, EXPIRED, "INSUFFICIENT_LIQUIDITY")
        elif t.time_in_force == IOC:
            self._end_taker(st, t, now, EXPIRED, "UNFILLED_IOC_QUANTITY_EXPIRED")
        elif t.time_in_force == FOK:
            self._end_taker(st, t, now, EXPIRED, "UNFILLED_FOK_ORDER_EXPIRED")
        else:
            ice = t.iceberg_qty
            t.visible_qty = ice if 0 < ice < remaining else remaining
            st.add(t)
            (st.chg_bids if t.side == BUY else st.chg_asks).add(t.price)
            if t.side == BUY:
                need = t.price * remaining // SCALE
                if t.locked > need:
                    self._release(st, t, t.locked - need)
            elif t.locked > remaining:
                self._release(st, t, t.locked - remaining)

    @staticmethod
    def _quote_spent(st: SymbolState, t: Order) -> bool:
        """True when a quoteOrderQty order's leftover cannot buy one more step at its last price."""
        last = st.last_price
        if last <= 0:
            return False
        want = (t.orig_quote_qty - t.cum_quote_qty) * SCALE // last
        step = st.market_step
        if step > 0:
            want -= want % step
        return last * want // SCALE == 0

    def _end_taker(self, st: SymbolState, t: Order, now: int, status: str, reason: str) -> None:
        """Terminal taker: release what it still locks, drop it from open orders, report expiry."""
        if t.locked:
            self._release(st, t, t.locked)
        t.update_time = now
        if status == EXPIRED:
            t.status = EXPIRED
            t.expiry_reason = reason
            self._exec_id += 1
            if self.accounts[t.account_id].reports:
                self._events.append(order_update(t, X_EXPIRED, now, self._exec_id))
        else:
            t.status = status
        opened = st.open_by_account.get(t.account_id)
        if opened is not None:
            opened.pop(t.order_id, None)
        self._ended(st, t)

    # ------------------------------------------------------------------ one fill
    def _trade(self, st: SymbolState, t: Order, m: Order, price: int, qty: int, now: int) -> Fill:
        """Fill ``qty`` at ``price`` between taker ``t`` and maker ``m``; returns the taker's Fill."""
        tid = st.next_trade_id
        st.next_trade_id = tid + 1
        quote = price * qty // SCALE
        base_a, quote_a = st.base, st.quote
        m_aid, t_aid = m.account_id, t.account_id
        # Maker side.
        m_exec = m.executed_qty + qty
        m.executed_qty = m_exec
        m.cum_quote_qty += quote
        m.visible_qty -= qty
        m.update_time = now
        m_done = m.orig_qty - m_exec - m.prevented_qty == 0
        m.status = FILLED if m_done else PARTIALLY_FILLED
        # Taker side.
        t_exec = t.executed_qty + qty
        t.executed_qty = t_exec
        t.cum_quote_qty += quote
        t.update_time = now
        if t.orig_quote_qty > 0:
            t.orig_qty = t_exec + t.prevented_qty
            t.status = PARTIALLY_FILLED
        else:
            t.status = FILLED if t.orig_qty - t_exec - t.prevented_qty == 0 else PARTIALLY_FILLED
        accounts = self.accounts
        t_acct = accounts[t_aid]
        m_acct = accounts[m_aid]
        buyer_is_maker = t.side != BUY
        if buyer_is_maker:
            buyer, seller = m, t
            b_comm = qty * m_acct.maker_rate // SCALE
            s_comm = quote * t_acct.taker_rate // SCALE
            bb, sb = m_acct.balances, t_acct.balances
            m_comm, m_asset, t_comm, t_asset = b_comm, base_a, s_comm, quote_a
        else:
            buyer, seller = t, m
            b_comm = qty * t_acct.taker_rate // SCALE
            s_comm = quote * m_acct.maker_rate // SCALE
            bb, sb = t_acct.balances, m_acct.balances
            m_comm, m_asset, t_comm, t_asset = s_comm, quote_a, b_comm, base_a
        # Buyer pays quote out of its lock and receives base less commission.
        bq = bb[quote_a]
        bq[1] -= quote
        buyer.locked -= quote
        bb[base_a][0] += qty - b_comm
        # Seller delivers locked base and receives quote less commission.
        sb[base_a][1] -= qty
        seller.locked -= qty
        sb[quote_a][0] += quote - s_comm
        fees = self.fees
        fees[base_a] = fees.get(base_a, 0) + b_comm
        fees[quote_a] = fees.get(quote_a, 0) + s_comm
        if buyer.type not in _MARKET_TYPES:
            # Price improvement: keep only remaining * limit price locked.
            need = buyer.price * (buyer.orig_qty - buyer.executed_qty - buyer.prevented_qty) // SCALE
            extra = buyer.locked - need
            if extra > 0:
                bq[0] += extra
                bq[1] -= extra
                buyer.locked = need
        touched = st.touched  # both accounts' base and quote changed (mask 3)
        touched[t_aid] = 3
        touched[m_aid] = 3
        if m_done:
            opened = st.open_by_account.get(m_aid)
            if opened is not None:
                opened.pop(m.order_id, None)
            if m.locked:
                self._release(st, m, m.locked)
            self._ended(st, m)
        # Trade-price range for stop triggers, and the last price.
        st.last_price = price
        if st.trade_lo == 0 or price < st.trade_lo:
            st.trade_lo = price
        if price > st.trade_hi:
            st.trade_hi = price
        symbol = st.symbol
        events = self._events
        ev = trade_event(symbol, tid, price, qty, quote, now, buyer.order_id, seller.order_id, buyer_is_maker)
        events.append(ev)
        self.market_data.on_trade(ev)
        eid = self._exec_id
        if m_acct.reports:
            events.append(order_update(m, X_TRADE, now, eid + 1, qty, price, quote, m_comm, m_asset, tid, True))
        if t_acct.reports:
            events.append(order_update(t, X_TRADE, now, eid + 2, qty, price, quote, t_comm, t_asset, tid, False))
        self._exec_id = eid + 2
        # Each account's fill log keeps what its retention allows (nothing: cap 0, no row built).
        afills = st.account_fills
        log = afills.get(m_aid)
        if log is None:
            log = self._fill_log(st, m_aid)
        if log.cap:
            log.append((tid, m.order_id, m.side, price, qty, quote, m_comm, m_asset, now, True))
            if len(log) > log.limit:
                log.trim()
        log = afills.get(t_aid)
        if log is None:
            log = self._fill_log(st, t_aid)
        t_oid, t_side = t.order_id, t.side
        if log.cap:
            log.append((tid, t_oid, t_side, price, qty, quote, t_comm, t_asset, now, False))
            if len(log) > log.limit:
                log.trim()
        return fill(tid, symbol, t_oid, t_aid, t_side, price, qty, quote, t_comm, t_asset, now, False)

    # ------------------------------------------------------------------ self-trade prevention
    def _prevent(self, st: SymbolState, level: Level, t: Order, m: Order, want: int, now: int) -> bool:
        """Apply the taker's STP mode against its own maker ``m`` (at the front of ``level``).

        Returns whether the maker changed (so its level must go into the book delta).
        """
        mode = t.stp_mode
        pm_id = st.next_prevented_id
        st.next_prevented_id = pm_id + 1
        m_rem = m.orig_qty - m.executed_qty - m.prevented_qty
        # What the taker still offers: its remaining quantity (quoteOrderQty orders: ``want``).
        t_rem = want if t.orig_quote_qty > 0 else t.orig_qty - t.executed_qty - t.prevented_qty
        expire_maker = mode == STP_EXPIRE_MAKER or mode == STP_EXPIRE_BOTH
        expire_taker = mode == STP_EXPIRE_TAKER or mode == STP_EXPIRE_BOTH
        if expire_maker or expire_taker:
            m_prev = m_rem if expire_maker else 0
            t_prev = t_rem if expire_taker else 0
        else:  # DECREMENT (and TRANSFER, which is DECREMENT within one account)
            m_prev = t_prev = t_rem if t_rem < m_rem else m_rem
            expire_maker = m_prev == m_rem
            expire_taker = t_prev == t_rem
        events = self._events
        if m_prev:
            self._prevent_maker(st, level, m, m_prev, expire_maker, pm_id, t.order_id, now)
        if t_prev:
            t.prevented_qty += t_prev
            t.prevented_match_id = pm_id
            t.update_time = now
            if t.orig_quote_qty > 0:
                t.orig_qty = t.executed_qty + t.prevented_qty
            if expire_taker:
                t.status = EXPIRED_IN_MATCH
            self._exec_id += 1
            if self.accounts[t.account_id].reports:
                events.append(
                    order_update(
                        t, X_TRADE_PREVENTION, now, self._exec_id, prevented_match_id=pm_id,
                        prevented_qty=t.prevented_qty, last_prevented_qty=t_prev, counter_order_id=m.order_id,
                    )
                )  # fmt: skip
        return m_prev > 0

    def _prevent_maker(
        self,
        st: SymbolState,
        level: Level,
        m: Order,
        prev: int,
        expire: bool,
        pm_id: int,
        counter: int,
        now: int,
    ) -> None:
        """Add ``prev`` to the maker's prevented quantity; expire it (off the book) or shrink it."""
        m.prevented_qty += prev
        m.prevented_match_id = pm_id
        m.update_time = now
        m_rem = m.orig_qty - m.executed_qty - m.prevented_qty
        if expire or m_rem == 0:
            m.status = EXPIRED_IN_MATCH
            level.orders.popleft()
            level.count -= 1
            level.qty -= m.visible_qty
            m.visible_qty = 0
            opened = st.open_by_account.get(m.account_id)
            if opened is not None:
                opened.pop(m.order_id, None)
            if m.locked:
                self._release(st, m, m.locked)
            self._ended(st, m)
        else:
            if m.visible_qty > m_rem:
                level.qty -= m.visible_qty - m_rem
                m.visible_qty = m_rem
            need = m.price * m_rem // SCALE if m.side == BUY else m_rem
            if m.locked > need:
                self._release(st, m, m.locked - need)
        self._exec_id += 1
        if self.accounts[m.account_id].reports:
            self._events.append(
                order_update(
                    m, X_TRADE_PREVENTION, now, self._exec_id, prevented_match_id=pm_id,
                    prevented_qty=m.prevented_qty, last_prevented_qty=prev, counter_order_id=counter,
                )
            )  # fmt: skip
