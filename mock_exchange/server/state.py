"""Everything one running mock exchange owns: engine, keys, limits, clock, seed, event listeners.

The aiohttp app holds one ``ExchangeState`` (typed app key ``STATE``); the control plane can
rebuild it (``reset``) without restarting the server.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mock_exchange.clock import Clock, wall_clock_ms
from mock_exchange.config import AccountConfig, ServerConfig
from mock_exchange.engine import Engine, symbol_loader
from mock_exchange.engine.symbols import SymbolSpec
from mock_exchange.engine.types import Event
from mock_exchange.server.auth import ApiKey, KeyStore
from mock_exchange.server.faults import FaultPlan
from mock_exchange.server.ratelimit import RateLimitConfig, RateLimiter
from mock_exchange.server.user_data import UserDataHub

_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
EventListener = Callable[[list[Event]], None]
WireTap = Callable[[str, dict[str, Any]], None]
"""Sees every wire message: ``(kind, data)`` with kind rest_request | rest_response | ws_in |
ws_out | stream_out (scenario journals; empty lists cost nothing)."""


@dataclass(slots=True)
class AccountInfo:
    """A mock account as the control plane shows it."""

    account_id: str
    api_key: str
    secret_key: str
    can_trade: bool
    uid: int


def load_symbols(source: str) -> list[SymbolSpec]:
    """Fresh specs (the engine mutates status): 'default' = the embedded market; else an
    exchangeInfo JSON/capture or a symbols config, told apart by their content."""
    if source == "default":
        from mock_exchange.default_market import default_symbols

        return default_symbols()
    return symbol_loader.load_symbols(source)


class ExchangeState:
    def __init__(self, config: ServerConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or ServerConfig()
        # The clock handed in; ``clock()`` is the server's time: it plus the clock-skew fault.
        self.base_clock: Clock = clock or wall_clock_ms
        self.clock_skew_ms = 0
        self.listeners: list[EventListener] = []
        self.wire_taps: list[WireTap] = []  # REST and WebSocket-API messages
        self.stream_taps: list[WireTap] = []  # market-stream frames (many: opt-in)
        self.frames_out = 0  # market-stream frames queued to clients (all connections)
        # User-data subscriptions and listen keys live on connections, so they outlive a reset.
        self.user_data = UserDataHub()
        self.faults = FaultPlan(self)
        self._build()

    def clock(self) -> int:
        """The server's time in ms: every server time (REST, signature windows, events, the
        engine's) reads this, so a ``clock_skew`` fault shifts them all together."""
        return self.base_clock() + self.clock_skew_ms

    def _build(self) -> None:
        cfg = self.config
        self.rng = random.Random(cfg.seed)
        self._id_rng = random.Random(cfg.seed * 7 + 3)
        self.engine = Engine(clock=self.clock)
        if cfg.inline_symbols is not None:
            specs = symbol_loader.load_symbols_config({"symbols": cfg.inline_symbols})
        else:
            specs = load_symbols(cfg.symbols)
        for spec in specs:
            self.engine.add_symbol(spec)
        self.keys = KeyStore()
        rl = cfg.rate_limits
        self.limiter = RateLimiter(
            RateLimitConfig(
                request_weight_per_minute=rl.request_weight_per_minute,
                orders_per_10s=rl.orders_per_10s,
                orders_per_day=rl.orders_per_day,
                raw_requests_per_5min=rl.raw_requests_per_5m,
            ),
            self.clock,
        )
        self.accounts: dict[str, AccountInfo] = {}
        if cfg.symbols == "default" and cfg.book_levels > 0:
            from mock_exchange.default_market import seed_book

            seed_book(self.engine, self.rng, levels=cfg.book_levels)
        for acct in cfg.accounts:
            self.add_account(acct)
        self.engine.drain_events()

    def reset(self) -> None:
        """Back to the configured initial state: books, balances, orders, keys, limits, no faults."""
        self.faults.clear()
        self._build()

    def add_account(self, acct: AccountConfig) -> AccountInfo:
        if acct.name in self.accounts:
            raise ValueError(f"account {acct.name!r} exists")
        self.engine.create_account(
            acct.name,
            dict(acct.balances),
            maker_rate=acct.maker_rate,
            taker_rate=acct.taker_rate,
            can_trade=acct.can_trade,
        )
        if acct.api_key and acct.secret_key:
            key: ApiKey = self.keys.add_hmac(acct.api_key, acct.secret_key, acct.name, can_trade=acct.can_trade)
        else:
            key = self.keys.generate_hmac(acct.name, self.rng, can_trade=acct.can_trade)
        info = AccountInfo(acct.name, key.api_key, key.secret or "", acct.can_trade, 100_000_001 + len(self.accounts))
        self.accounts[acct.name] = info
        return info

    def uid_of(self, account_id: str) -> int:
        """A stable numeric user id per account (the venue's ``uid``)."""
        info = self.accounts.get(account_id)
        return info.uid if info is not None else 0

    def new_client_id(self) -> str:
        """A venue-style 22-character client order id (for cancels that name none)."""
        return "".join(self._id_rng.choices(_ID_ALPHABET, k=22))

    def new_api_key(self) -> str:
        return "".join(self._id_rng.choices(_ID_ALPHABET, k=64))

    def publish(self) -> None:
        """Hand the engine's new events to every listener (streams, journals)."""
        events = self.engine.drain_events()
        if events:
            for listener in self.listeners:
                listener(events)
