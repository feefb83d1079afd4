"""``Market``: trading on one Binance-Spot-compatible venue (Hummingbot's market, made robust).

What it adds beyond Hummingbot's Binance market (issue 4 §2):

* A timeout, 5xx or -1006/-1007 on a placement or cancel leaves the order UNKNOWN, not failed.
  It is looked up by ``origClientOrderId`` until the venue's answer settles it. A placement the
  venue does not know ``lost_after`` times in a row was never placed (a failure, source
  "reconciliation"); an acknowledged order it stops knowing raises an ``OrderLostEvent``
  (``lost_orders``). Both stay watched for ``lost_watch_s`` in case the venue reports them late.
* Fills are deduplicated by trade id across the order answer, the user stream and REST
  polling; completed/cancelled/expired events wait for all fills (``OrderTracker``).
* REST polling (open orders, order status, trades, balances) keeps state right when the user
  stream is down (fast cadence) or silent (slow cadence); every (re)subscription triggers a
  full reconcile.
* One clock (``config.clock``) for every timestamp; the loop's own sleeps are asyncio's.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connector.auth import Auth
from connector.config import VenueConfig
from connector.events import EventBus, MarketEvent, OrderType, TradeType
from connector.in_flight_order import InFlightOrder, OrderState
from connector.order_book import OrderBook
from connector.order_book_tracker import OrderBookTracker
from connector.order_tracker import OrderTracker
from connector.rest import BinanceAPIError, BinanceNetworkError, BinanceRequestTimeout, RestClient
from connector.throttler import Throttler
from connector.time_sync import TimeSynchronizer
from connector.trading_rules import TradingRule, trading_rules_from_exchange_info
from connector.user_stream import UserStreamTracker, UserStreamTrackerDataSource

log = logging.getLogger(__name__)

NO_SUCH_ORDER = -2013
CANCEL_REJECTED = -2011
_UNKNOWN_ERRORS = (BinanceRequestTimeout, BinanceNetworkError)


@dataclass(frozen=True, slots=True)
class CancellationResult:
    order_id: str
    success: bool


@dataclass(frozen=True, slots=True)
class TradeFee:
    """An estimate: ``percent`` of what the order receives, paid in ``asset`` (the venue charges
    buyers in base and sellers in quote when no BNB discount applies)."""

    percent: Decimal
    asset: str
    amount: Decimal


class Market:
    """Orders, balances and books for ``trading_pairs`` ("BTC-USDT") on ``config``'s venue."""

    def __init__(self, config: VenueConfig, trading_pairs: Sequence[str], *, track_order_books: bool = True,
                 poll_interval_s: float = 30.0, short_poll_interval_s: float = 2.0,
                 reconcile_interval_s: float = 0.5, lost_after: int = 3, lost_watch_s: float = 600.0,
                 max_cancel_attempts: int = 3, order_id_prefix: str = "mx") -> None:
        self.config = config
        self.clock = config.clock
        self.trading_pairs = list(trading_pairs)
        self.track_order_books = track_order_books
        self.poll_interval_s = poll_interval_s
        self.short_poll_interval_s = short_poll_interval_s
        self.reconcile_interval_s = reconcile_interval_s
        self.lost_watch_s = lost_watch_s
        self.max_cancel_attempts = max_cancel_attempts
        self.order_id_prefix = order_id_prefix
        self.auth = Auth.from_config(config)
        self.throttler = Throttler(self.clock)
        self.time_sync = TimeSynchronizer(self.clock)
        self.rest = RestClient(config, auth=self.auth, throttler=self.throttler, time_sync=self.time_sync)
        self.bus = EventBus()
        self.tracker = OrderTracker(self.bus, self.clock, lost_after=lost_after)
        self.user_stream_tracker: UserStreamTracker | None = None
        if self.auth is not None:
            source = UserStreamTrackerDataSource(config, self.auth, self.time_sync)
            source.add_subscribed_listener(self._on_user_stream_subscribed)
            self.user_stream_tracker = UserStreamTracker(source)
        self.order_book_tracker: OrderBookTracker | None = None
        self.trading_rules: dict[str, TradingRule] = {}
        self._symbol_to_pair: dict[str, str] = {}
        self._balances: dict[str, Decimal] = {}
        self._available: dict[str, Decimal] = {}
        self._balance_seq = 0  # counts user-stream balance updates, in arrival order
        self._asset_seq: dict[str, int] = {}  # asset -> _balance_seq of its last stream update
        self._balances_loaded = False
        self.maker_fee = Decimal("0.001")
        self.taker_fee = Decimal("0.001")
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._resolving: set[str] = set()
        self._cancel_wanted: set[str] = set()  # cancels asked for, sent once the order is confirmed
        self._poll_wakeup = asyncio.Event()
        self.poll_count = 0
        self.started = False

    # --- events ----------------------------------------------------------------------------------

    def add_listener(self, tag: MarketEvent, listener: Callable[[Any], None]) -> None:
        self.bus.add_listener(tag, listener)

    def remove_listener(self, tag: MarketEvent, listener: Callable[[Any], None]) -> None:
        self.bus.remove_listener(tag, listener)

    # --- lifecycle ---------------------------------------------------------------------------------

    async def start_network(self) -> None:
        """Sync time, load rules and balances, then start the book, user-stream and polling tasks."""
        await self.time_sync.update()
        await self.update_trading_rules()
        if self.track_order_books:
            self.order_book_tracker = OrderBookTracker(self.config, self.trading_pairs)
            await self.order_book_tracker.start()
        if self.auth is not None:
            await self.update_balances()
            assert self.user_stream_tracker is not None
            await self.user_stream_tracker.start()
            self._loops.append(asyncio.create_task(self._user_stream_loop(), name="market-user-stream"))
            self._loops.append(asyncio.create_task(self._polling_loop(), name="market-polling"))
        self.started = True

    async def stop_network(self) -> None:
        self.started = False
        for task in [*self._loops, *self._tasks]:
            task.cancel()
        for task in [*self._loops, *self._tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._loops.clear()
        self._tasks.clear()
        if self.user_stream_tracker is not None:
            await self.user_stream_tracker.stop()
        if self.order_book_tracker is not None:
            await self.order_book_tracker.stop()
        await self.rest.close()

    async def __aenter__(self) -> Market:
        await self.start_network()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_network()

    @property
    def status_dict(self) -> dict[str, bool]:
        books = True
        if self.track_order_books:
            books = self.order_book_tracker is not None and self.order_book_tracker.ready.is_set()
        out = {"trading_rule_initialized": bool(self.trading_rules), "order_books_initialized": books}
        if self.auth is not None:
            out["account_balance"] = self._balances_loaded
            out["user_stream_initialized"] = bool(self.user_stream_tracker and self.user_stream_tracker.is_connected)
        return out

    @property
    def ready(self) -> bool:
        return all(self.status_dict.values())

    async def wait_until_ready(self, timeout: float = 10.0) -> None:
        async def poll() -> None:
            while not self.ready:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(poll(), timeout)

    # --- rules, books, prices, fees ----------------------------------------------------------------

    async def update_trading_rules(self) -> None:
        info = await self.rest.exchange_info()
        self.throttler.update_from_exchange_info(info)
        self.trading_rules = trading_rules_from_exchange_info(info, self.trading_pairs)
        self._symbol_to_pair = {r.symbol: p for p, r in self.trading_rules.items()}
        missing = [p for p in self.trading_pairs if p not in self.trading_rules and p not in self._symbol_to_pair]
        if missing:
            log.warning("the venue does not list %s", ", ".join(missing))

    def trading_rule(self, trading_pair: str) -> TradingRule:
        """The rule for "BTC-USDT" (or the venue's "BTCUSDT"); KeyError if unknown."""
        pair = self._symbol_to_pair.get(trading_pair, trading_pair)
        return self.trading_rules[pair]

    def get_order_book(self, trading_pair: str) -> OrderBook:
        if self.order_book_tracker is None:
            raise ValueError("this market does not track order books (track_order_books=False)")
        pair = self.trading_rule(trading_pair).trading_pair
        return self.order_book_tracker.order_books[pair]

    def get_price(self, trading_pair: str, is_buy: bool) -> Decimal:
        """The price a buy (best ask) or sell (best bid) would start at, from the tracked book."""
        return self.get_order_book(trading_pair).get_price(is_buy)

    def quantize_order_price(self, trading_pair: str, price: Decimal) -> Decimal:
        return self.trading_rule(trading_pair).quantize_price(price)

    def quantize_order_amount(self, trading_pair: str, amount: Decimal, price: Decimal | None = None,
                              order_type: OrderType = OrderType.LIMIT) -> Decimal:
        """``amount`` on the LOT_SIZE grid; 0 when it would fall under the minimum size or notional
        (so callers can skip an order the venue would refuse)."""
        rule = self.trading_rule(trading_pair)
        qty = rule.quantize_amount(amount, order_type is OrderType.MARKET)
        if qty < rule.min_order_size:
            return Decimal(0)
        if price is not None and price > 0 and rule.notional_filter and qty * price < rule.min_notional_size:
            return Decimal(0)
        return qty

    def get_fee(self, base: str, quote: str, order_type: OrderType, trade_type: TradeType, amount: Decimal,
                price: Decimal | None = None) -> TradeFee:
        """Estimated fee from the account's commission rates (maker for resting types)."""
        percent = self.taker_fee if order_type is OrderType.MARKET else self.maker_fee
        if trade_type is TradeType.BUY:
            return TradeFee(percent, base, amount * percent)
        return TradeFee(percent, quote, amount * (price or Decimal(0)) * percent)

    # --- balances -----------------------------------------------------------------------------------

    def get_balance(self, asset: str) -> Decimal:
        """Total (free + locked)."""
        return self._balances.get(asset, Decimal(0))

    def get_available_balance(self, asset: str) -> Decimal:
        """Free to use in new orders."""
        return self._available.get(asset, Decimal(0))

    def get_all_balances(self) -> dict[str, Decimal]:
        return dict(self._balances)

    async def update_balances(self) -> None:
        """Take the account snapshot. An asset the user stream updated while the request was in
        flight keeps the stream's (newer) value; arrival order decides, not the venue's times,
        which a server clock jump would make lie."""
        seq_at_send = self._balance_seq
        data = await self.rest.get("/api/v3/account", signed=True)
        for bal in data.get("balances", []):
            asset = str(bal["asset"])
            if self._asset_seq.get(asset, 0) > seq_at_send:
                continue
            self._available[asset] = Decimal(bal["free"])
            self._balances[asset] = Decimal(bal["free"]) + Decimal(bal["locked"])
        rates = data.get("commissionRates") or {}
        if rates:
            self.maker_fee = Decimal(str(rates.get("maker", self.maker_fee)))
            self.taker_fee = Decimal(str(rates.get("taker", self.taker_fee)))
        self._balances_loaded = True

    def _apply_account_position(self, event: dict[str, Any]) -> None:
        self._balance_seq += 1
        for bal in event.get("B", []):
            asset = str(bal["a"])
            self._asset_seq[asset] = self._balance_seq
            self._available[asset] = Decimal(bal["f"])
            self._balances[asset] = Decimal(bal["f"]) + Decimal(bal["l"])

    # --- orders: public API -----------------------------------------------------------------------------

    @property
    def in_flight_orders(self) -> dict[str, InFlightOrder]:
        return self.tracker.in_flight

    @property
    def lost_orders(self) -> dict[str, InFlightOrder]:
        """Orders the venue acknowledged and then stopped knowing (still watched)."""
        return {k: o for k, o in self.tracker.lost.items() if o.state is OrderState.LOST}

    def get_order(self, client_order_id: str) -> InFlightOrder | None:
        """An in-flight, lost or recently finished order."""
        return self.tracker.get(client_order_id)

    def new_client_order_id(self, trade_type: TradeType) -> str:
        side = "B" if trade_type is TradeType.BUY else "S"
        return f"{self.order_id_prefix}-{side}-{self.clock.now_ms()}-{next(self._ids)}"[:36]

    def buy(self, trading_pair: str, amount: Decimal, order_type: OrderType = OrderType.LIMIT,
            price: Decimal | None = None) -> str:
        """Place a buy in the background; returns its client order id at once (events follow)."""
        order_id = self.new_client_order_id(TradeType.BUY)
        self._spawn(self.execute_buy(order_id, trading_pair, amount, order_type, price))
        return order_id

    def sell(self, trading_pair: str, amount: Decimal, order_type: OrderType = OrderType.LIMIT,
             price: Decimal | None = None) -> str:
        order_id = self.new_client_order_id(TradeType.SELL)
        self._spawn(self.execute_sell(order_id, trading_pair, amount, order_type, price))
        return order_id

    async def execute_buy(self, order_id: str, symbol: str, amount: Decimal, order_type: OrderType,
                          price: Decimal | None = None) -> None:
        await self._create_order(TradeType.BUY, order_id, symbol, amount, order_type, price)

    async def execute_sell(self, order_id: str, symbol: str, amount: Decimal, order_type: OrderType,
                           price: Decimal | None = None) -> None:
        await self._create_order(TradeType.SELL, order_id, symbol, amount, order_type, price)

    def cancel(self, trading_pair: str, order_id: str) -> str:
        """Cancel in the background; the outcome arrives as an event."""
        self._spawn(self.execute_cancel(trading_pair, order_id))
        return order_id

    async def execute_cancel(self, trading_pair: str, order_id: str) -> None:
        order = self.tracker.in_flight.get(order_id)
        if order is None:
            log.info("cancel %s: not an in-flight order", order_id)
            return
        self._cancel_wanted.add(order_id)
        if order.state in (OrderState.PENDING_CREATE, OrderState.UNKNOWN):
            return  # sent once the venue confirms the order (_after_report)
        await self._send_cancel(order)

    async def cancel_all(self, timeout_seconds: float) -> list[CancellationResult]:
        """Cancel every open order; waits up to ``timeout_seconds`` for the outcomes."""
        ids = [o.client_order_id for o in self.tracker.in_flight.values() if o.is_open]

        async def cancel_and_wait() -> None:
            await asyncio.gather(*(self.execute_cancel(self.tracker.in_flight[i].trading_pair, i)
                                   for i in ids if i in self.tracker.in_flight))
            while any(i in self.tracker.in_flight for i in ids):
                await asyncio.sleep(0.02)

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(cancel_and_wait(), timeout_seconds)
        results = []
        for i in ids:
            order = self.tracker.get(i)
            results.append(CancellationResult(i, order is not None and order.state is OrderState.CANCELED))
        return results

    # --- orders: placement ---------------------------------------------------------------------------

    async def _create_order(self, trade_type: TradeType, order_id: str, symbol: str, amount: Decimal,
                            order_type: OrderType, price: Decimal | None) -> None:
        try:
            rule = self.trading_rule(symbol)
        except KeyError:
            order = InFlightOrder(order_id, symbol, symbol, "", "", order_type, trade_type, amount, price,
                                  self.clock.now())
            self.tracker.start_tracking(order)
            self.tracker.fail(order, -1121, "Invalid symbol.", source="connector")
            return
        is_market = order_type is OrderType.MARKET
        qty = rule.quantize_amount(Decimal(amount), is_market)
        px = None if is_market or price is None else rule.quantize_price(Decimal(price))
        order = InFlightOrder(order_id, rule.trading_pair, rule.symbol, rule.base_asset, rule.quote_asset,
                              order_type, trade_type, qty, px, self.clock.now(),
                              estimated_fee_rate=self.taker_fee if is_market else self.maker_fee)
        self.tracker.start_tracking(order)
        if not is_market and px is None:
            self.tracker.fail(order, -1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
                              source="connector")
            return
        problem = rule.check_order(order_type.value, qty, px)
        if problem is not None:
            self.tracker.fail(order, problem[0], problem[1], source="connector")
            return
        params: dict[str, Any] = {"symbol": rule.symbol, "side": trade_type.value, "type": order_type.value}
        if order_type is OrderType.LIMIT:
            params["timeInForce"] = "GTC"
        params["quantity"] = qty
        if px is not None:
            params["price"] = px
        params["newClientOrderId"] = order_id
        params["newOrderRespType"] = "FULL"
        try:
            resp = await self.rest.post("/api/v3/order", params, signed=True)
        except BinanceAPIError as err:
            if err.outcome_unknown:
                self._outcome_unknown(order, f"placement answered {err.status} {err.code} {err.msg}")
            else:
                self.tracker.fail(order, err.code, err.msg)
            return
        except _UNKNOWN_ERRORS as err:
            self._outcome_unknown(order, f"placement: {err}")
            return
        except Exception as err:  # e.g. credentials missing: nothing was sent
            self.tracker.fail(order, None, str(err), source="connector")
            return
        finally:
            if order.is_done:
                self._cancel_wanted.discard(order_id)
        self.tracker.process_order_json(order, resp)
        await self._after_report(order)

    # --- orders: cancel ----------------------------------------------------------------------------------

    async def _send_cancel(self, order: InFlightOrder) -> None:
        if order.is_done or order.state is OrderState.PENDING_CANCEL:
            return
        self.tracker.cancel_sent(order)
        params = {"symbol": order.symbol, "origClientOrderId": order.client_order_id}
        try:
            resp = await self.rest.delete("/api/v3/order", params, signed=True)
        except BinanceAPIError as err:
            if err.outcome_unknown:
                self._outcome_unknown(order, f"cancel answered {err.status} {err.code} {err.msg}")
                return
            self.tracker.cancel_failed(order)
            if err.code == CANCEL_REJECTED:  # filled, already cancelled, or not there: ask the venue
                await self._refresh_order(order)
            else:
                log.warning("cancel %s refused: %s %s", order.client_order_id, err.code, err.msg)
            return
        except _UNKNOWN_ERRORS as err:
            self._outcome_unknown(order, f"cancel: {err}")
            return
        self.tracker.process_order_json(order, resp)
        await self._after_report(order)

    # --- reconciliation ------------------------------------------------------------------------------

    def _outcome_unknown(self, order: InFlightOrder, reason: str) -> None:
        log.warning("order %s: outcome unknown (%s); reconciling", order.client_order_id, reason)
        self.tracker.mark_unknown(order, reason)
        if order.client_order_id not in self._resolving:
            self._resolving.add(order.client_order_id)
            self._spawn(self._resolve(order))

    async def _resolve(self, order: InFlightOrder) -> None:
        """Look the order up until its state is known (or it is declared lost)."""
        client_id = order.client_order_id
        delay = self.reconcile_interval_s
        try:
            while client_id in self.tracker.in_flight:
                await asyncio.sleep(delay)
                if client_id not in self.tracker.in_flight:
                    return
                if not await self._refresh_order(order):
                    delay = min(delay * 2, max(self.reconcile_interval_s, 5.0))  # venue unreachable: back off
                    continue
                if order.state is OrderState.UNKNOWN:
                    continue  # not found yet (lost after ``lost_after`` misses)
                if order.state is OrderState.PENDING_CANCEL:
                    self.tracker.cancel_failed(order)  # the venue still has it open: the cancel did not happen
                    if client_id in self._cancel_wanted and order.cancel_attempts < self.max_cancel_attempts:
                        self._spawn(self._send_cancel(order))
                return
        finally:
            self._resolving.discard(client_id)

    async def _refresh_order(self, order: InFlightOrder) -> bool:
        """Ask the venue for the order (by client id) and apply the answer, fetching missing fills.
        True when the venue answered with the order."""
        params = {"symbol": order.symbol, "origClientOrderId": order.client_order_id}
        try:
            data = await self.rest.get("/api/v3/order", params, signed=True)
        except BinanceAPIError as err:
            if err.code == NO_SUCH_ORDER:
                self.tracker.not_found(order, f"{err.code} {err.msg}")
            else:
                log.warning("order %s status query failed: %s", order.client_order_id, err)
            return False
        except _UNKNOWN_ERRORS as err:
            log.warning("order %s status query failed: %s", order.client_order_id, err)
            return False
        active = self.tracker.active(order.client_order_id)
        if active is None:
            return True
        self.tracker.process_order_json(active, data)
        await self._after_report(active)
        return True

    async def _fetch_trades(self, order: InFlightOrder) -> None:
        if order.exchange_order_id is None:
            return
        params = {"symbol": order.symbol, "orderId": order.exchange_order_id}
        try:
            trades = await self.rest.get("/api/v3/myTrades", params, signed=True)
        except (BinanceAPIError, *_UNKNOWN_ERRORS) as err:
            log.warning("trades of %s: %s", order.client_order_id, err)
            return
        for trade in trades:
            self.tracker.process_trade_json(order, trade)

    async def _after_report(self, order: InFlightOrder) -> None:
        """Follow-ups once the venue told us something about ``order``."""
        if not order.is_done and not order.fills_complete:
            await self._fetch_trades(order)
        wanted = order.client_order_id in self._cancel_wanted
        if order.is_done or order.state is OrderState.LOST:
            self._cancel_wanted.discard(order.client_order_id)
        elif (wanted and order.state in (OrderState.OPEN, OrderState.PARTIALLY_FILLED)
              and order.cancel_attempts < self.max_cancel_attempts):
            self._spawn(self._send_cancel(order))

    # --- user stream -------------------------------------------------------------------------------------

    def _on_user_stream_subscribed(self) -> None:
        self._poll_wakeup.set()  # events may have been missed while disconnected

    async def _user_stream_loop(self) -> None:
        assert self.user_stream_tracker is not None
        queue = self.user_stream_tracker.user_stream
        while True:
            event = await queue.get()
            try:
                self._process_user_event(event)
            except Exception:
                log.exception("cannot process user stream event %r", event)

    def _process_user_event(self, event: dict[str, Any]) -> None:
        kind = event.get("e")
        if kind == "executionReport":
            order = self.tracker.process_execution_report(event)
            if order is not None and (not order.fills_complete or order.client_order_id in self._cancel_wanted):
                self._spawn(self._after_report(order))
        elif kind == "outboundAccountPosition":
            self._apply_account_position(event)
        elif kind == "balanceUpdate":
            self._poll_wakeup.set()

    # --- polling -------------------------------------------------------------------------------------------

    async def _polling_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            # wake at the short cadence to notice a stream that went down, poll at the current one
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._poll_wakeup.wait(), self.short_poll_interval_s)
            connected = self.user_stream_tracker is not None and self.user_stream_tracker.is_connected
            interval = self.poll_interval_s if connected else self.short_poll_interval_s
            if not self._poll_wakeup.is_set() and loop.time() - last < interval:
                continue
            self._poll_wakeup.clear()
            last = loop.time()
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("polling failed")

    async def poll_once(self) -> None:
        """One full REST reconcile: balances, open orders, every tracked and lost order."""
        self.poll_count += 1
        with contextlib.suppress(BinanceAPIError, *_UNKNOWN_ERRORS):
            await self.update_balances()
        orders = [o for o in self.tracker.in_flight.values()
                  if o.state is not OrderState.PENDING_CREATE and o.client_order_id not in self._resolving]
        open_by_id: dict[str, dict[str, Any]] = {}
        for symbol in sorted({o.symbol for o in orders}):
            try:
                for item in await self.rest.get("/api/v3/openOrders", {"symbol": symbol}, signed=True):
                    open_by_id[str(item.get("clientOrderId"))] = item
            except (BinanceAPIError, *_UNKNOWN_ERRORS) as err:
                log.warning("open orders of %s: %s", symbol, err)
                return
        for order in orders:
            if order.client_order_id not in self.tracker.in_flight or order.client_order_id in self._resolving:
                continue
            item = open_by_id.get(order.client_order_id)
            if item is not None and order.state is not OrderState.PENDING_CANCEL:
                self.tracker.process_order_json(order, item)
                await self._after_report(order)
            else:
                await self._refresh_order(order)
        now = self.clock.now()
        for client_id, order in list(self.tracker.lost.items()):
            if now - self.tracker.lost_since.get(client_id, now) > self.lost_watch_s:
                log.warning("lost order %s: giving up watching it after %.0f s", client_id, self.lost_watch_s)
                self.tracker.forget_lost(client_id)
            else:
                await self._refresh_order(order)

    # --- helpers ---------------------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("market task failed", exc_info=task.exception())
