"""One symbol's trade history: bounded raw tape, aggregate trades and time buckets.

``add`` runs once per fill, so it does only a few list operations: append to the raw tape,
extend or start an aggregate trade, and update the current one-second bucket. Completed
seconds are folded into minute, hour and day buckets lazily (when a new second starts or a
query needs them). A time range is then the sum of at most ~60 buckets per level plus raw
trades at the ragged millisecond edges: a 24h ticker or a monthly kline costs a few hundred
bucket merges, never a scan of the tape.

Memory is bounded: every structure has a count cap and drops its oldest entries. Ranges that
reach into evicted buckets use whatever raw trades are still held and otherwise leave the
evicted part out (no double counting, ever).

The average price (asked by the filters on every order) must not cost a scan of a dense
second, so the raw tape carries running (qty, quote) totals: the sums over any run of
retained trades are two bisects and a subtraction. Those bisects use each trade's *bucket
time* (the newest time seen so far, so a clock that stepped back counts a trade where the
buckets count it), which keeps the shortcut exactly equal to the bucket arithmetic.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from operator import attrgetter, itemgetter
from typing import NamedTuple

from mock_exchange.engine import klines as kl
from mock_exchange.engine.tickers import Acc
from mock_exchange.engine.types import TradeEvent
from mock_exchange.engine.units import SCALE

# Bucket row layout (one mutable list of ints per bucket; ``Acc.add_row`` reads the same order).
_O, _H, _L, _C, _V, _QV, _N, _TBV, _TBQ, _FID, _LID = range(11)
# Aggregate-trade row: [a, price, qty, first id, last id, time, buyer-is-maker, taker order id].
_AA, _AP, _AQ, _AF, _AL, _AT, _AM, _ATK = range(8)

SIZES = (kl.SECOND, kl.MINUTE, kl.HOUR, kl.DAY)  # bucket widths of levels 0..3
_TOP = len(SIZES) - 1
NEVER = -(1 << 62)  # "nothing evicted / no time yet" sentinel
_FOREVER = 1 << 62
_TIME = attrgetter("time")
_TRADE_ID = attrgetter("trade_id")
_AGG_ID = itemgetter(_AA)
_AGG_TIME = itemgetter(_AT)


class AggTrade(NamedTuple):
    """One aggregate trade: consecutive fills of one taker order at one price and time."""

    agg_id: int
    price: int
    qty: int
    first_id: int
    last_id: int
    time: int
    is_buyer_maker: bool


class _Level:
    """Buckets of one width, oldest first, bounded by ``cap`` (evicts from the front)."""

    __slots__ = ("size", "cap", "keys", "rows", "off", "lost")

    def __init__(self, size: int, cap: int) -> None:
        self.size = size
        self.cap = max(1, cap)
        self.keys: list[int] = []
        self.rows: list[list[int]] = []
        self.off = 0  # index of the oldest retained bucket (the front is trimmed in batches)
        self.lost = NEVER  # buckets starting before this were evicted

    def append(self, key: int, row: list[int]) -> None:
        keys = self.keys
        keys.append(key)
        self.rows.append(row)
        if len(keys) - self.off > self.cap:
            self.lost = keys[self.off] + self.size
            self.off += 1
            if self.off > (self.cap >> 2) + 64:
                del keys[: self.off]
                del self.rows[: self.off]
                self.off = 0


class _Volumes:
    """Just the volume totals of a range (what the average price needs)."""

    __slots__ = ("v", "qv")

    def __init__(self) -> None:
        self.v = 0
        self.qv = 0

    def add_row(self, r: list[int]) -> None:
        self.v += r[_V]
        self.qv += r[_QV]

    def add_trade(self, ev: TradeEvent) -> None:
        self.v += ev.qty
        self.qv += ev.quote_qty


_Sink = Acc | _Volumes
_RawFn = Callable[[int, int, _Sink], None]


class SymbolTape:
    """Everything kept for one symbol; amounts in units, times in ms."""

    __slots__ = (
        "base_prec",
        "quote_prec",
        "cap",
        "tape",
        "t_off",
        "t_end",
        "raw_lost",
        "aggs",
        "a_off",
        "agg_id",
        "agg_last",
        "levels",
        "cur",
        "cur_key",
        "snap",
        "avg_cache",
        "env",
        "cum_v",
        "cum_qv",
        "t_max",
        "tot_v",
        "tot_qv",
    )

    def __init__(self, base_prec: int, quote_prec: int, caps: tuple[int, int, int, int, int]) -> None:
        """``caps`` = (raw trades, 1s buckets, 1m buckets, 1h buckets, 1d buckets)."""
        self.base_prec = base_prec
        self.quote_prec = quote_prec
        self.cap = max(1, caps[0])
        self.tape: list[TradeEvent] = []
        self.t_off = 0
        self.t_end = self.cap  # evict when the tape grows past this length
        self.raw_lost = NEVER  # raw trades with a bucket time before this may have been evicted
        # Parallel to ``tape``: bucket time (running max of trade times, so ascending) and the
        # running qty / quote totals of every trade *before* that one; ``tot_*`` include all.
        self.env: list[int] = []
        self.cum_v: list[int] = []
        self.cum_qv: list[int] = []
        self.t_max = NEVER
        self.tot_v = 0
        self.tot_qv = 0
        self.aggs: list[list[int] | tuple[int, ...]] = []
        self.a_off = 0
        self.agg_id = 0
        self.agg_last: list[int] | None = None
        self.levels = [_Level(size, cap) for size, cap in zip(SIZES, caps[1:], strict=True)]
        # The newest one-second bucket (levels[0].rows[-1]); a detached placeholder until the
        # first trade (cur_key NEVER makes that trade open a real bucket).
        self.cur: list[int] = [0] * 11
        self.cur_key = NEVER
        self.snap: tuple[int, int, int, int, int] | None = None  # cur's sums already folded upward
        # (mins, from, to, newest trade, value): the value holds for every ``now`` in [from, to]
        # until a trade arrives (see ``avg_price``).
        self.avg_cache: tuple[int, int, int, TradeEvent | None, int] = (-1, 0, -1, None, 0)

    # ------------------------------------------------------------------ ingest (hot path)
    def add(self, ev: TradeEvent) -> None:
        """Record one trade; trades must arrive in trade-id order."""
        tape = self.tape
        tape.append(ev)
        t = ev.time
        if t > self.t_max:
            self.t_max = t
        self.env.append(self.t_max)
        q = ev.qty
        qq = ev.quote_qty
        self.cum_v.append(self.tot_v)
        self.cum_qv.append(self.tot_qv)
        self.tot_v += q
        self.tot_qv += qq
        if len(tape) > self.t_end:
            self._evict_raw()
        # Aggregate trade: same taker order, price, side and time as the previous fill.
        price = ev.price
        bm = ev.is_buyer_maker
        ag = self.agg_last
        if (
            ag is not None
            and ag[_AT] == t
            and ag[_AP] == price
            and ag[_AM] == bm
            and ag[_ATK] == (ev.seller_order_id if bm else ev.buyer_order_id)
        ):
            ag[_AQ] += q
            ag[_AL] = ev.trade_id
        else:
            self._new_agg(ev)
        # One-second bucket. A trade stamped before the current second (a clock that stepped
        # back) is counted in the current second so buckets stay ordered.
        key = t - t % 1000
        if key > self.cur_key:
            self._new_second(key, ev)
            return
        cur = self.cur
        if price > cur[_H]:
            cur[_H] = price
        elif price < cur[_L]:
            cur[_L] = price
        cur[_C] = price
        cur[_V] += q
        cur[_QV] += qq
        cur[_N] += 1
        if not bm:
            cur[_TBV] += q
            cur[_TBQ] += qq
        cur[_LID] = ev.trade_id

    def _evict_raw(self) -> None:
        off = self.t_off
        self.raw_lost = self.env[off] + 1
        off += 1
        if off > (self.cap >> 2) + 64:
            del self.tape[:off]
            del self.env[:off]
            del self.cum_v[:off]
            del self.cum_qv[:off]
            off = 0
        self.t_off = off
        self.t_end = off + self.cap

    def _new_agg(self, ev: TradeEvent) -> None:
        self.agg_id += 1
        bm = ev.is_buyer_maker
        taker = ev.seller_order_id if bm else ev.buyer_order_id
        ag = [self.agg_id, ev.price, ev.qty, ev.trade_id, ev.trade_id, ev.time, bm, taker]
        aggs = self.aggs
        if self.agg_last is not None:
            # The previous aggregate is final: keep it as a tuple, which the garbage collector
            # stops tracking (a long tape of lists would make every full collection slower).
            aggs[-1] = tuple(self.agg_last)
        self.agg_last = ag
        aggs.append(ag)
        if len(aggs) - self.a_off > self.cap:
            self.a_off += 1
            if self.a_off > (self.cap >> 2) + 64:
                del aggs[: self.a_off]
                self.a_off = 0

    def _new_second(self, key: int, ev: TradeEvent) -> None:
        self.flush()
        q, qq, p, tid = ev.qty, ev.quote_qty, ev.price, ev.trade_id
        taker_buy = not ev.is_buyer_maker
        row = [p, p, p, p, q, qq, 1, q if taker_buy else 0, qq if taker_buy else 0, tid, tid]
        self.levels[0].append(key, row)
        self.cur = row
        self.cur_key = key
        self.snap = None

    @property
    def last(self) -> TradeEvent | None:
        """The newest trade (the tape always keeps at least one once anything traded)."""
        tape = self.tape
        return tape[-1] if tape else None

    def flush(self) -> None:
        """Fold the current second (or what it gained since the last fold) into coarser levels."""
        if self.cur_key == NEVER:
            return
        cur = self.cur
        snap = self.snap
        if snap is not None and snap[2] == cur[_N]:
            return
        dv, dqv, dn, dtbv, dtbq = snap if snap is not None else (0, 0, 0, 0, 0)
        key = self.cur_key
        for lv in self.levels[1:]:
            k = key - key % lv.size
            if len(lv.keys) > lv.off and lv.keys[-1] == k:
                r = lv.rows[-1]
                if cur[_H] > r[_H]:
                    r[_H] = cur[_H]
                if cur[_L] < r[_L]:
                    r[_L] = cur[_L]
                r[_C] = cur[_C]
                r[_V] += cur[_V] - dv
                r[_QV] += cur[_QV] - dqv
                r[_N] += cur[_N] - dn
                r[_TBV] += cur[_TBV] - dtbv
                r[_TBQ] += cur[_TBQ] - dtbq
                r[_LID] = cur[_LID]
            else:
                lv.append(k, list(cur))
        self.snap = (cur[_V], cur[_QV], cur[_N], cur[_TBV], cur[_TBQ])

    # ------------------------------------------------------------------ range totals
    def range(self, a: int, b: int, level: int = -1) -> Acc:
        """Totals of the trades with ``a <= time < b``; ``a``/``b`` aligned to ``level`` (-1 = ms)."""
        self.flush()
        acc = Acc()
        self._query(level, a, b, acc, self._scan_raw)
        return acc

    def _query(self, li: int, a: int, b: int, acc: _Sink, raw: _RawFn) -> None:
        # [a, b) = ragged left piece + whole buckets of the next level + ragged right piece.
        if a >= b:
            return
        if li == _TOP:
            self._piece(li, a, b, acc, raw)
            return
        p = SIZES[li + 1]
        lo = -(-a // p) * p
        hi = b - b % p
        if lo <= hi:
            self._piece(li, a, lo, acc, raw)
            self._query(li + 1, lo, hi, acc, raw)
            self._piece(li, hi, b, acc, raw)
        else:
            self._piece(li, a, b, acc, raw)

    def _piece(self, li: int, a: int, b: int, acc: _Sink, raw: _RawFn) -> None:
        if a >= b:
            return
        if li < 0:
            raw(a, b, acc)
            return
        lv = self.levels[li]
        if a < lv.lost:
            # Those buckets were evicted: use the raw trades the tape still holds, if any.
            cut = min(b, lv.lost)
            raw(a, cut, acc)
            a = cut
        keys, rows = lv.keys, lv.rows
        i = bisect_left(keys, a, lv.off)
        n = len(keys)
        add = acc.add_row
        while i < n and keys[i] < b:
            add(rows[i])
            i += 1

    def _scan_raw(self, a: int, b: int, acc: _Sink) -> None:
        tape = self.tape
        i = bisect_left(tape, a, self.t_off, key=_TIME)
        n = len(tape)
        add = acc.add_trade
        while i < n:
            ev = tape[i]
            if ev.time >= b:
                break
            add(ev)
            i += 1

    def close_before(self, t: int) -> int:
        """Price of the last trade before ``t`` (0 if none is known)."""
        tape = self.tape
        i = bisect_left(tape, t, self.t_off, key=_TIME)
        if i > self.t_off:
            return tape[i - 1].price
        if self.raw_lost == NEVER:
            return 0
        self.flush()
        for lv in self.levels:  # evicted from the tape: the nearest earlier bucket's close
            j = bisect_left(lv.keys, t - t % lv.size, lv.off) - 1
            if j >= lv.off:
                return lv.rows[j][_C]
        return 0

    def qty_of(self, trade_id: int) -> int:
        """Quantity of a retained trade (0 if evicted or unknown)."""
        last = self.last
        if last is not None and last.trade_id == trade_id:
            return last.qty
        tape = self.tape
        i = bisect_left(tape, trade_id, self.t_off, key=_TRADE_ID)
        return tape[i].qty if i < len(tape) and tape[i].trade_id == trade_id else 0

    def avg_price(self, mins: int, now_ms: int) -> int:
        """VWAP of ``[now - mins, now]``, the last price when empty; needs a trade to exist.

        Asked before every priced order (PERCENT_PRICE filters), at a new millisecond almost
        every time in a busy synthesized market. Without a new trade the window's sum only
        changes when its oldest trade drops out of it, so one computation serves every
        ``now`` until then (when all retained trades are at or before ``now``, and the raw
        tape covers the window; otherwise only this ``now``).
        """
        last = self.tape[-1]
        if mins <= 0:
            return last.price
        c_mins, c_from, c_to, c_last, c_val = self.avg_cache
        if c_last is last and c_mins == mins and c_from <= now_ms <= c_to:
            return c_val
        span = mins * kl.MINUTE
        a = now_ms - span
        v, qv = self.volumes(a, now_ms + 1)
        val = qv * SCALE // v if v > 0 else last.price
        until = now_ms
        env = self.env
        if a >= self.raw_lost and env[-1] <= now_ms:
            i = bisect_left(env, a, self.t_off)
            # The oldest trade in the window leaves it once ``now - span`` passes its bucket time.
            until = env[i] + span if i < len(env) else _FOREVER
        self.avg_cache = (mins, now_ms, until, last, val)
        return val

    def volumes(self, a: int, b: int) -> tuple[int, int]:
        """(volume, quote volume) of ``[a, b)``, equal to ``range(a, b)``'s, in O(log n).

        When no trade in the window has left the raw tape, that is one prefix-sum difference;
        otherwise the bucket decomposition runs with prefix sums for its raw pieces.
        """
        acc = _Volumes()
        if a >= self.raw_lost:
            self._sum_raw(a, b, acc)
        elif a < b:
            self.flush()
            self._query(-1, a, b, acc, self._sum_raw)
        return acc.v, acc.qv

    def _sum_raw(self, a: int, b: int, acc: _Sink) -> None:
        """Add the volumes of the retained raw trades with bucket time in ``[a, b)``."""
        env = self.env
        n = len(env)
        i = bisect_left(env, a, self.t_off)
        if i >= n or a >= b:
            return
        j = bisect_left(env, b, i)
        cv, cq = self.cum_v, self.cum_qv
        if j < n:
            acc.v += cv[j] - cv[i]
            acc.qv += cq[j] - cq[i]
        else:
            acc.v += self.tot_v - cv[i]
            acc.qv += self.tot_qv - cq[i]

    # ------------------------------------------------------------------ selections
    def trades(self, limit: int, from_id: int | None) -> list[TradeEvent]:
        tape = self.tape
        if from_id is None:
            return tape[max(self.t_off, len(tape) - limit) :]
        i = bisect_left(tape, from_id, self.t_off, key=_TRADE_ID)
        return tape[i : i + limit]

    def agg_trades(
        self, from_id: int | None, start_time: int | None, end_time: int | None, limit: int
    ) -> list[AggTrade]:
        aggs, off = self.aggs, self.a_off
        hi = len(aggs) if end_time is None else bisect_right(aggs, end_time, off, key=_AGG_TIME)
        if from_id is None and start_time is None:
            lo = max(off, hi - limit)
        else:
            lo = off
            if from_id is not None:
                lo = bisect_left(aggs, from_id, lo, key=_AGG_ID)
            if start_time is not None:
                lo = bisect_left(aggs, start_time, lo, key=_AGG_TIME)
            hi = min(hi, lo + limit)
        return [AggTrade(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in aggs[lo:hi]]

    def kline_opens(
        self, interval: str, offset: int, start: int | None, end: int | None, limit: int
    ) -> list[tuple[int, int, int]]:
        """(open, next open, bucket level) of up to ``limit`` klines that have trades, oldest first.

        Open times are selected like the venue's list endpoints: ``start`` -> the first
        ``limit`` opening at or after it (and at or before ``end``); otherwise the last
        ``limit`` opening at or before ``end`` (or the newest).
        """
        self.flush()
        li = kl.scan_level(interval, offset)
        lv = self.levels[li]
        keys, off = lv.keys, lv.off
        out: list[tuple[int, int, int]] = []
        if start is not None:
            cursor = start
            while len(out) < limit:
                i = bisect_left(keys, cursor, off)
                if i >= len(keys):
                    break
                o = kl.kline_open(interval, keys[i], offset)
                if end is not None and o > end:
                    break
                nxt = kl.kline_next(interval, o, offset)
                if o >= start:
                    out.append((o, nxt, li))
                cursor = nxt
            return out
        if len(keys) <= off:
            return out
        bound = keys[-1] if end is None else end
        while len(out) < limit:
            # The newest bucket in the kline that contains ``bound`` or in an earlier one.
            nxt = kl.kline_next(interval, kl.kline_open(interval, bound, offset), offset)
            j = bisect_left(keys, nxt, off) - 1
            if j < off:
                break
            o = kl.kline_open(interval, keys[j], offset)
            out.append((o, kl.kline_next(interval, o, offset), li))
            bound = o - 1
        out.reverse()
        return out
