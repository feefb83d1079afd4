"""The strategy API: a ``Strategy`` reacts to ticks, book changes, market trades and order
events of one ``connector.Market``; a ``StrategyHost`` drives it.

Strategies see only the connector's public API, so the same class runs against a live venue,
the mock exchange on the wall clock, or a scenario in virtual time. For that last case the
host never reads the system clock: times come from ``ctx.clock`` and waits are
``asyncio.sleep`` (virtual on the scenario loop).

Delivery (all on the event loop, one callback at a time):

* ``on_tick`` every ``tick_interval_s`` (scheduled on ``ctx.clock``; a slow tick skips the
  slots it overran instead of bursting).
* ``on_order_book(book)``: the connector's ``OrderBookTracker`` has no "book changed"
  callback, so the host compares the book's update id (``OrderBook.last_diff_uid``) every
  ``book_poll_interval_s`` and right before each tick, and calls it when the id moved while
  the book is synced. Changes between two looks coalesce into one call.
* ``on_trade(trade)``: every public trade of the pair, from the tracker's trade listener
  (an ``OrderBookMessage`` of type TRADE: ``price``, ``amount``, ``trade_type``, ``trade_id``).
* ``on_order_event(tag, event)``: every ``MarketEvent`` of the market (created, filled,
  completed, cancelled, failure, expired, lost).

The book and trade hooks need a market that tracks order books; the host only polls or
subscribes when the strategy overrides the hook. A callback that raises stops the strategy:
the traceback is kept in ``host.error`` and ``host.failed`` is set, and nothing waits on the
broken strategy afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import traceback
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from connector import (
    Clock,
    InFlightOrder,
    Market,
    MarketEvent,
    OrderBook,
    OrderBookMessage,
    OrderFilledEvent,
    OrderType,
    TradeType,
    TradingRule,
)
from scenarios.strategies.params import (
    Param,
    StrategyParamError,
    describe_params,
    params_json,
    resolve_params,
)

Number = int | float | Decimal
BPS = Decimal(10_000)


class LogFunction(Protocol):
    """``log("quotes placed", bid=..., ask=...)``: the runner journals it; the default drops it."""

    def __call__(self, message: str, **data: Any) -> None: ...


def _no_log(message: str, **data: Any) -> None:
    del message, data


@dataclass(slots=True)
class StrategyContext:
    """Everything a strategy gets from whoever runs it."""

    market: Market
    trading_pair: str
    clock: Clock
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    params: Mapping[str, Any] = field(default_factory=dict)
    log: LogFunction = _no_log


class Strategy:
    """Base class: override the hooks you need. ``PARAMS`` declares the parameters (``None``:
    free-form, passed through); ``self.params`` holds the validated values."""

    name: ClassVar[str] = ""
    PARAMS: ClassVar[Mapping[str, Param] | None] = None
    tick_interval_s: float = 1.0
    book_poll_interval_s: float = 0.1

    def __init__(self, ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.market = ctx.market
        self.clock = ctx.clock
        self.rng = ctx.rng
        self.params: dict[str, Any] = self.validate_params(ctx.params)
        if self.params.get("tick_interval") is not None:
            self.tick_interval_s = float(self.params["tick_interval"])
        if self.params.get("book_poll_interval") is not None:
            self.book_poll_interval_s = float(self.params["book_poll_interval"])
        self.placed_order_ids: set[str] = set()  # client ids of every order place_order sent
        self._seen_fills: set[tuple[str, int]] = set()
        self._spawner: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]] | None = None

    # --- parameters ---------------------------------------------------------------------------------

    @classmethod
    def strategy_name(cls) -> str:
        return cls.name or cls.__name__

    @classmethod
    def validate_params(cls, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The resolved parameters (defaults filled in), or StrategyParamError naming the bad key.
        Needs no market, so ``mockex check`` can call it."""
        resolved = resolve_params(cls.strategy_name(), cls.PARAMS, params)
        cls.check_params(resolved)
        return resolved

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> None:
        """Checks across parameters (override; raise ``cls.param_error(key, message)``)."""

    @classmethod
    def param_error(cls, key: str, message: str) -> StrategyParamError:
        return StrategyParamError(cls.strategy_name(), key, message)

    @classmethod
    def describe_params(cls) -> dict[str, dict[str, Any]]:
        return describe_params(cls.PARAMS)

    # --- hooks --------------------------------------------------------------------------------------

    async def on_start(self) -> None:
        """Once, after the listeners are subscribed and before the first tick."""

    async def on_tick(self) -> None:
        """Every ``tick_interval_s`` seconds."""

    def on_order_book(self, book: OrderBook) -> None:
        """The pair's tracked book changed (see the module docstring for how this is detected)."""

    def on_trade(self, trade: OrderBookMessage) -> None:
        """A public trade of the pair."""

    def on_order_event(self, tag: MarketEvent, event: Any) -> None:
        """Any connector event (the event classes of ``connector.events``)."""

    async def on_stop(self) -> None:
        """Once, when the host stops (also after a failure): by default cancel the pair's open orders."""
        await self.cancel_all_orders(timeout_s=5.0)

    def metrics(self) -> dict[str, Number]:
        """Numbers the scenario's expectations and summary can use (override)."""
        return {}

    # --- helpers over the connector's public API -------------------------------------------------------

    @property
    def trading_pair(self) -> str:
        return self.ctx.trading_pair

    @property
    def rule(self) -> TradingRule:
        return self.market.trading_rule(self.ctx.trading_pair)

    @property
    def base_asset(self) -> str:
        return self.rule.base_asset

    @property
    def quote_asset(self) -> str:
        return self.rule.quote_asset

    @property
    def book(self) -> OrderBook | None:
        """The tracked book, or None when the market does not track books."""
        if self.market.order_book_tracker is None:
            return None
        return self.market.get_order_book(self.ctx.trading_pair)

    def mid_price(self) -> Decimal | None:
        """Mid of the tracked book; None while a side is empty or books are not tracked."""
        book = self.book
        return None if book is None else book.mid_price

    def log(self, message: str, /, **data: Any) -> None:
        self.ctx.log(message, **data)

    def own_fill(self, tag: MarketEvent, event: Any) -> OrderFilledEvent | None:
        """``event`` if it is a fill of one of this strategy's orders seen for the first time
        (the connector reports each trade once, but a strategy should not depend on it)."""
        if tag is not MarketEvent.ORDER_FILLED or not isinstance(event, OrderFilledEvent):
            return None
        if event.order_id not in self.placed_order_ids:
            return None
        key = (event.order_id, event.trade_id)
        if key in self._seen_fills:
            return None
        self._seen_fills.add(key)
        return event

    def open_orders(self, trade_type: TradeType | None = None) -> list[InFlightOrder]:
        """The pair's orders that may be live on the venue (including ones being placed,
        cancelled or reconciled), oldest first."""
        pair = self.rule.trading_pair
        return [o for o in self.market.in_flight_orders.values()
                if o.trading_pair == pair and o.is_open and (trade_type is None or o.trade_type is trade_type)]

    def quantize_price(self, price: Decimal, trade_type: TradeType) -> Decimal:
        """On the tick grid, rounded away from the touch (buys down, sells up) so a quote never
        becomes more aggressive than asked."""
        if trade_type is TradeType.BUY:
            return self.market.quantize_order_price(self.ctx.trading_pair, price)
        return self.rule.quantize_price_up(price)

    async def place_order(self, trade_type: TradeType, amount: Decimal, price: Decimal | None = None,
                          order_type: OrderType = OrderType.LIMIT) -> str | None:
        """Place one order and wait for the venue's answer (the connector tracks it from here
        on). Amount and price are put on the symbol's grid; returns None, placing nothing, when
        the amount falls under the minimum size or notional (``price`` or the mid is used to
        judge the notional of a MARKET order). The id is in ``placed_order_ids`` before the
        request leaves, so fill events of an order filled at once are recognisable."""
        pair = self.ctx.trading_pair
        px = None if order_type is OrderType.MARKET or price is None else self.quantize_price(price, trade_type)
        reference = px if px is not None else (price if price is not None else self.mid_price())
        qty = self.market.quantize_order_amount(pair, amount, reference, order_type)
        if qty <= 0:
            self.log("order skipped: under the minimum size or notional", side=trade_type.value,
                     amount=str(amount), price=None if reference is None else str(reference))
            return None
        order_id = self.market.new_client_order_id(trade_type)
        self.placed_order_ids.add(order_id)  # before sending: fills may be reported before the call returns
        if trade_type is TradeType.BUY:
            await self.market.execute_buy(order_id, pair, qty, order_type, px)
        else:
            await self.market.execute_sell(order_id, pair, qty, order_type, px)
        return order_id

    async def cancel_order(self, order_id: str) -> None:
        """Send a cancel and wait for its answer (an UNKNOWN outcome is reconciled by the connector)."""
        await self.market.execute_cancel(self.ctx.trading_pair, order_id)

    async def cancel_all_orders(self, timeout_s: float = 5.0) -> int:
        """Cancel every open order of the pair; wait up to ``timeout_s`` for them to end.
        Returns how many are still open."""
        ids = [o.client_order_id for o in self.open_orders()]
        if not ids:
            return 0

        async def cancel_and_wait() -> None:
            await asyncio.gather(*(self.cancel_order(i) for i in ids), return_exceptions=True)
            while any(i in self.market.in_flight_orders for i in ids):
                await asyncio.sleep(0.05)

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(cancel_and_wait(), timeout_s)
        return sum(1 for i in ids if i in self.market.in_flight_orders)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` in the background under the host: if it raises, the strategy fails like
        any callback; it is cancelled when the host stops."""
        if self._spawner is None:
            coro.close()
            raise RuntimeError("spawn() needs a running StrategyHost")
        return self._spawner(coro)


def _overrides(strategy: Strategy, name: str) -> bool:
    return getattr(type(strategy), name) is not getattr(Strategy, name)


class StrategyHost:
    """Runs one strategy: ``await start()``, let the loop run, ``await stop()``.

    Construction builds the strategy (parameter errors raise ``StrategyParamError`` here; any
    other exception from the strategy's ``__init__`` is a failure like a callback's). Call
    ``start`` once the market's network is started (books are looked up then).
    """

    def __init__(self, strategy_cls: type[Strategy], ctx: StrategyContext) -> None:
        self.ctx = ctx
        self.strategy_cls = strategy_cls
        self.error: str | None = None
        self.error_at_ms: int | None = None
        self.failed_in: str | None = None
        self.failed = asyncio.Event()
        self.started = False
        self.stopped = False
        self.stop_timed_out = False
        self.ticks = 0
        self.book_updates = 0
        self.market_trades = 0
        self.order_events = 0
        self._active = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._listeners: list[tuple[MarketEvent, Callable[[Any], None]]] = []
        self._trade_listener_added = False
        self._last_book_uid = -1
        self._pair = ctx.trading_pair
        self.strategy: Strategy | None = None
        try:
            self.strategy = strategy_cls(ctx)
        except StrategyParamError:
            raise
        except Exception as exc:
            self._fail("__init__", exc)
            return
        self.strategy._spawner = self._spawn

    # --- lifecycle ------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._active

    @property
    def params(self) -> dict[str, Any]:
        """The strategy's resolved parameters, JSON-shaped (Decimals as text; for the resolved
        scenario)."""
        return params_json(self.strategy.params) if self.strategy is not None else {}

    async def start(self, start_timeout_s: float = 60.0) -> None:
        """Subscribe to the market, run ``on_start`` (bounded by ``start_timeout_s``), then start
        the tick loop and the book watcher. Never raises for a strategy's failure: check
        ``failed``."""
        strategy = self.strategy
        if self.started or strategy is None or self.failed.is_set():
            return
        self.started = True
        market = self.ctx.market
        try:
            self._pair = market.trading_rule(self.ctx.trading_pair).trading_pair
        except KeyError:
            self._fail("start", LookupError(f"the venue does not list trading pair {self.ctx.trading_pair!r}"))
            return
        self._active = True
        for tag in MarketEvent:
            listener = functools.partial(self._deliver_order_event, tag)
            market.add_listener(tag, listener)
            self._listeners.append((tag, listener))
        tracker = market.order_book_tracker
        if tracker is not None and _overrides(strategy, "on_trade"):
            tracker.add_trade_listener(self._deliver_trade)
            self._trade_listener_added = True
        if not await self._run_guarded("on_start", strategy.on_start(), start_timeout_s, watch_failure=True):
            return
        if tracker is not None and _overrides(strategy, "on_order_book"):
            self._spawn(self._watch_book(), name="strategy-book-watch")
        if _overrides(strategy, "on_tick"):
            self._spawn(self._tick_loop(), name="strategy-ticks")

    async def stop(self, timeout_s: float = 10.0) -> None:
        """Stop ticking, run ``on_stop`` (bounded by ``timeout_s``; it runs after a failure too,
        so the default can cancel what the strategy left open), unsubscribe. Idempotent."""
        if self.stopped:
            return
        self.stopped = True
        self._active = False
        await self._cancel_tasks(timeout_s)
        strategy = self.strategy
        if strategy is not None and self.started:
            await self._run_guarded("on_stop", strategy.on_stop(), timeout_s, watch_failure=False)
        self._unsubscribe()

    async def run(self, duration_s: float, stop_timeout_s: float = 10.0) -> None:
        """start, let it run ``duration_s`` seconds (less if it fails), stop."""
        await self.start()
        if not self.failed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.failed.wait(), duration_s)
        await self.stop(stop_timeout_s)

    def metrics(self) -> dict[str, Number]:
        """The host's counters plus the strategy's own ``metrics()``."""
        out: dict[str, Number] = {
            "strategy_ticks": self.ticks,
            "strategy_book_updates": self.book_updates,
            "strategy_market_trades": self.market_trades,
            "strategy_order_events": self.order_events,
        }
        if self.strategy is not None:
            try:
                out.update(self.strategy.metrics())
            except Exception as exc:
                self._fail("metrics", exc)
        return out

    # --- failure --------------------------------------------------------------------------------------

    def _fail(self, where: str, exc: BaseException) -> None:
        """Keep the first failure's traceback and shut the strategy off; never raises."""
        if self.error is None:
            name = self.strategy_cls.strategy_name()
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.error = f"strategy {name} failed in {where}:\n{text}"
            self.error_at_ms = self.ctx.clock.now_ms()
            self.failed_in = where
            with contextlib.suppress(Exception):
                self.ctx.log("strategy failed", where=where, error=f"{type(exc).__name__}: {exc}")
        self.failed.set()
        self._active = False
        current = asyncio.current_task() if _loop_running() else None
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        self._unsubscribe()

    async def _run_guarded(self, where: str, awaitable: Awaitable[Any], timeout_s: float,
                           *, watch_failure: bool) -> bool:
        """Await a strategy coroutine as a host task; True when it returned. An exception or a
        timeout fails the strategy (a timeout of ``on_stop`` only sets ``stop_timed_out``)."""
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        waiters: set[asyncio.Future[Any]] = {task}
        failure = asyncio.ensure_future(self.failed.wait()) if watch_failure else None
        if failure is not None:
            waiters.add(failure)
        try:
            await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if failure is not None:
                failure.cancel()
        if task.done():
            if task.cancelled():
                if not self.failed.is_set():  # cancelled from inside the strategy: it would stall silently
                    self._fail(where, RuntimeError(f"{where} was cancelled"))
                return False
            exc = task.exception()
            if exc is not None:
                self._fail(where, exc)
                return False
            return True
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
        if watch_failure and self.failed.is_set():
            return False  # another callback failed meanwhile; that error is the one kept
        if where == "on_stop":
            self.stop_timed_out = True
            with contextlib.suppress(Exception):
                self.ctx.log("strategy on_stop timed out", timeout_s=timeout_s)
        else:
            self._fail(where, TimeoutError(f"{where} did not return within {timeout_s} s"))
        return False

    # --- delivery -------------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        if name is not None:
            task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        if not self._active:
            task.cancel()
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            self._fail(f"task {task.get_name()}", exc)

    async def _cancel_tasks(self, timeout_s: float) -> None:
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s)

    def _unsubscribe(self) -> None:
        market = self.ctx.market
        for tag, listener in self._listeners:
            market.remove_listener(tag, listener)
        self._listeners.clear()
        if self._trade_listener_added and market.order_book_tracker is not None:
            market.order_book_tracker.remove_trade_listener(self._deliver_trade)
            self._trade_listener_added = False

    def _deliver_order_event(self, tag: MarketEvent, event: Any) -> None:
        strategy = self.strategy
        if not self._active or strategy is None:
            return
        self.order_events += 1
        try:
            strategy.on_order_event(tag, event)
        except Exception as exc:
            self._fail("on_order_event", exc)

    def _deliver_trade(self, trade: OrderBookMessage) -> None:
        strategy = self.strategy
        if not self._active or strategy is None or trade.trading_pair != self._pair:
            return
        self.market_trades += 1
        try:
            strategy.on_trade(trade)
        except Exception as exc:
            self._fail("on_trade", exc)

    def _check_book(self) -> None:
        """Call ``on_order_book`` when the synced book's update id moved since the last look."""
        strategy = self.strategy
        tracker = self.ctx.market.order_book_tracker
        if not self._active or strategy is None or tracker is None or not _overrides(strategy, "on_order_book"):
            return
        if not tracker.is_synced(self._pair):
            return
        book = self.ctx.market.get_order_book(self._pair)
        uid = book.last_diff_uid
        if uid == self._last_book_uid:
            return
        self._last_book_uid = uid
        self.book_updates += 1
        try:
            strategy.on_order_book(book)
        except Exception as exc:
            self._fail("on_order_book", exc)

    async def _watch_book(self) -> None:
        assert self.strategy is not None
        interval = self.strategy.book_poll_interval_s
        while self._active:
            self._check_book()
            await asyncio.sleep(interval)

    async def _tick_loop(self) -> None:
        strategy = self.strategy
        assert strategy is not None
        clock = self.ctx.clock
        interval_ms = max(1, round(strategy.tick_interval_s * 1000))
        next_ms = clock.now_ms()
        while self._active:
            self._check_book()
            if not self._active:
                return
            self.ticks += 1
            try:
                await strategy.on_tick()
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if self._active and task is not None and not task.cancelling():
                    self._fail("on_tick", RuntimeError("on_tick was cancelled from inside the strategy"))
                    return
                raise
            except Exception as exc:
                self._fail("on_tick", exc)
                return
            now = clock.now_ms()
            next_ms += interval_ms
            if next_ms <= now:  # the tick overran: skip the slots it missed
                next_ms += ((now - next_ms) // interval_ms + 1) * interval_ms
            await asyncio.sleep((next_ms - now) / 1000)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


__all__ = [
    "BPS",
    "LogFunction",
    "Number",
    "Strategy",
    "StrategyContext",
    "StrategyHost",
]
