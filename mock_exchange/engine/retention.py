"""How long an account's finished orders and its fills stay queryable (memory retention).

Why: the engine used to keep every order and fill forever, about half a gigabyte per
synthesized hour, almost all of it the agents' cancelled quotes. The venue itself does not
keep everything either: an order that was canceled or expired without any fill is archived
after a while (90 days on Binance), after which queries answer as for an unknown order.

A ``Retention`` is set per account (``Engine.create_account(..., retention=...)``, the
engine's default otherwise, ``Engine.set_retention`` to change it) and applies per account
and symbol:

- ``unfilled_orders``: finished orders that never traded (CANCELED, EXPIRED,
  EXPIRED_IN_MATCH with executedQty 0) kept, the most recently finished ones;
- ``unfilled_max_age_ms``: ... and each of those for at most this long after it finished
  (the venue's archive rule);
- ``filled_orders``: finished orders with at least one fill kept, the most recently finished;
- ``fills``: the account's fills (myTrades rows) kept, the newest ones.

``None`` means no limit, 0 keeps nothing. Open orders are always kept. A finished order that
is no longer retained is gone for every query: GET order and myTrades by orderId answer
-2013 "Order does not exist.", allOrders leaves it out, a cancel answers -2011 "Unknown order
sent." as for any finished order. The synthesized market's agents keep nothing
(``KEEP_NONE``); user accounts get ``DEFAULT_RETENTION`` unless told otherwise.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from mock_exchange.engine.types import Order

__all__ = ["DEFAULT_RETENTION", "KEEP_ALL", "KEEP_NONE", "FillLog", "Ledger", "Retention"]

DAY_MS = 86_400_000
_UNLIMITED = 1 << 62

# One fill in an account's history, kept as a plain tuple (cheap to build, and untracked by
# the garbage collector once it has seen it); ``queries`` turns rows into ``Fill`` objects:
# (trade_id, order_id, side, price, qty, quote_qty, commission, commission_asset, time, is_maker)
FillRow = tuple[int, int, str, int, int, int, int, str, int, bool]


@dataclass(frozen=True, slots=True)
class Retention:
    """What one account keeps of its finished orders and fills, per symbol (see module doc)."""

    unfilled_orders: int | None = 20_000
    unfilled_max_age_ms: int | None = 90 * DAY_MS
    filled_orders: int | None = 100_000
    fills: int | None = 200_000

    def __post_init__(self) -> None:
        for name in ("unfilled_orders", "unfilled_max_age_ms", "filled_orders", "fills"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"retention {name} must be >= 0 or None, not {value}")


DEFAULT_RETENTION = Retention()
KEEP_ALL = Retention(None, None, None, None)
KEEP_NONE = Retention(0, 0, 0, 0)


def _cap(value: int | None) -> int:
    return _UNLIMITED if value is None else value


class Ledger:
    """The finished orders one account still keeps on one symbol, oldest finished first.

    Two queues because the venue treats them differently (only never-filled orders are
    archived by age); each queue is in the order the orders finished, which is also the
    order of their ``update_time``, so the age rule only ever looks at the front.
    """

    __slots__ = ("unfilled", "filled", "max_unfilled", "max_filled", "max_age")

    def __init__(self, retention: Retention) -> None:
        self.unfilled: deque[Order] = deque()
        self.filled: deque[Order] = deque()
        self.configure(retention)

    def configure(self, retention: Retention) -> None:
        self.max_unfilled = _cap(retention.unfilled_orders)
        self.max_filled = _cap(retention.filled_orders)
        age = retention.unfilled_max_age_ms
        self.max_age = -1 if age is None else age  # -1: no age rule

    def overflow(self, now: int) -> list[Order]:
        """Take out (and return) the orders the caps and the age rule no longer allow."""
        out: list[Order] = []
        for q, cap in ((self.unfilled, self.max_unfilled), (self.filled, self.max_filled)):
            while len(q) > cap:
                out.append(q.popleft())
        out.extend(self.aged(now))
        return out

    def aged(self, now: int) -> list[Order]:
        """Take out (and return) the never-filled orders finished ``max_age`` or more ago."""
        age = self.max_age
        q = self.unfilled
        if age < 0 or not q or q[0].update_time > now - age:
            return []
        out: list[Order] = []
        while q and q[0].update_time <= now - age:
            out.append(q.popleft())
        return out


class FillLog(list[FillRow]):
    """An account's fills on one symbol in trade-id order, keeping the newest ``cap``.

    The front is trimmed in batches (``limit`` is ``cap`` plus some slack) so the matching
    loop pays one length check per fill; ``rows()`` is the exact retained view.
    """

    __slots__ = ("cap", "limit")

    def __init__(self, cap: int | None) -> None:
        super().__init__()
        self.set_cap(cap)

    def set_cap(self, cap: int | None) -> None:
        self.cap = _cap(cap)
        self.limit = self.cap + max(16, min(self.cap >> 3, 4096))
        if len(self) > self.cap:
            self.trim()

    def trim(self) -> None:
        """Drop all but the newest ``cap`` rows."""
        del self[: len(self) - self.cap]

    def rows(self) -> list[FillRow]:
        """The retained rows, oldest first."""
        n = len(self) - self.cap
        return self[n:] if n > 0 else self
