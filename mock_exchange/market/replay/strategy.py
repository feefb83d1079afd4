"""What a replay strategy implements, what it can call, and the naive quoter of the acceptance test.

Callbacks run on the strategy's clock (local time): market data as it was received (offset
corrected), order responses after the response latency. Orders it sends reach the exchange
after the entry latency. Callbacks must not block; they may send orders and cancels.
"""

from __future__ import annotations

from typing import Protocol

from mock_exchange.engine.types import BUY, GTC, SELL
from mock_exchange.engine.units import to_units
from mock_exchange.market.replay.book import RecordedBook
from mock_exchange.market.replay.orders import CANCELLED, EXPIRED, REJECTED, OrderEvent

Top = tuple[int, int, int, int]  # (bid, bid_qty, ask, ask_qty); zeros for an empty side
_ENDED = frozenset((CANCELLED, REJECTED, EXPIRED))


class OrderApi(Protocol):
    """The runner's order entry, as the strategy sees it."""

    def now_ns(self) -> int: ...

    def place_limit(
        self,
        symbol: str,
        side: str,
        price: int,
        qty: int,
        client_id: str = "",
        *,
        time_in_force: str = GTC,
        post_only: bool = False,
    ) -> str: ...

    def place_market(self, symbol: str, side: str, qty: int, client_id: str = "") -> str: ...

    def cancel(self, symbol: str, client_id: str) -> None: ...


class Strategy:
    """Base class with no-op callbacks; override what you need."""

    def on_start(self, api: OrderApi) -> None:
        """Called once before the first record, with the order entry to keep."""

    def on_book(self, symbol: str, top: Top, book: RecordedBook) -> None:
        """The strategy's copy of the book changed (depth diff, snapshot or bookTicker)."""

    def on_trade(self, symbol: str, price: int, qty: int, is_buyer_maker: bool, time_ns: int) -> None:
        """A recorded public trade."""

    def on_fill(self, event: OrderEvent) -> None:
        """One fill of one of the strategy's orders (``event.remaining`` 0: fully filled)."""

    def on_order_update(self, event: OrderEvent) -> None:
        """accepted / cancelled / rejected / expired / cancel_rejected."""

    def on_end(self) -> None:
        """Called once after the last record and response."""


class NaiveQuoter(Strategy):
    """One LIMIT_MAKER bid at the best bid and one ask at the best ask, replaced when the touch moves.

    Replacing is cancel + new order sent together (no waiting for the cancel's answer). A side
    whose order filled completely, or was rejected/cancelled, is quoted again on the next book
    update. No inventory limits: it is the benchmark strategy of the queue-position study.
    """

    def __init__(self, symbol: str, qty: int = to_units("0.001")) -> None:
        self.symbol = symbol
        self.qty = qty
        self.api: OrderApi | None = None
        self.bid_id = ""
        self.ask_id = ""
        self.bid_price = 0
        self.ask_price = 0
        self.sent = 0

    def on_start(self, api: OrderApi) -> None:
        self.api = api

    def on_book(self, symbol: str, top: Top, book: RecordedBook) -> None:
        bid = top[0]
        ask = top[2]
        if (bid == self.bid_price and ask == self.ask_price) or symbol != self.symbol:
            return
        if not bid or not ask or bid >= ask:
            return
        api = self.api
        assert api is not None
        if bid != self.bid_price:
            if self.bid_id:
                api.cancel(symbol, self.bid_id)
            self.bid_id = api.place_limit(symbol, BUY, bid, self.qty, post_only=True)
            self.bid_price = bid
            self.sent += 1
        if ask != self.ask_price:
            if self.ask_id:
                api.cancel(symbol, self.ask_id)
            self.ask_id = api.place_limit(symbol, SELL, ask, self.qty, post_only=True)
            self.ask_price = ask
            self.sent += 1

    def _done(self, client_id: str) -> None:
        if client_id == self.bid_id:
            self.bid_id = ""
            self.bid_price = 0
        elif client_id == self.ask_id:
            self.ask_id = ""
            self.ask_price = 0

    def on_fill(self, event: OrderEvent) -> None:
        if event.remaining == 0:
            self._done(event.client_id)

    def on_order_update(self, event: OrderEvent) -> None:
        if event.kind in _ENDED:
            self._done(event.client_id)
