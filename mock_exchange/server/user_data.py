"""User data streams: executionReport & co. per account, delivered over the WebSocket API
(``userDataStream.subscribe[.signature]``) and the legacy listenKey flow.

The hub is a router: subscribers register a synchronous ``Sink`` for an account, the state's
event listener hands every engine batch to ``dispatch``, which builds each payload once
(``user_events``) and calls the account's sinks in the engine's order (so a taker sees
executionReport NEW, one TRADE per fill, then outboundAccountPosition). Sinks only enqueue.

``ExchangeState.reset`` replaces ``state.user_data`` with a fresh hub; ``hub_of(state)`` moves
the live subscriptions and listenKeys over to it, so a control-plane reset does not silently
cut the streams clients hold open (the accounts come back under the same names).
"""

from __future__ import annotations

import itertools
import logging
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mock_exchange.engine.types import BalanceChange, Event, OrderUpdate
from mock_exchange.server import user_events

if TYPE_CHECKING:
    from mock_exchange.server.state import ExchangeState

log = logging.getLogger("mockex.user_data")

Sink = Callable[[dict[str, Any]], None]
"""Receives one user-data event payload (the bare event object, e.g. an executionReport)."""

_KEY_ALPHABET = string.ascii_letters + string.digits
LISTEN_KEY_LENGTH = 64


@dataclass(slots=True)
class ListenKey:
    """One legacy listenKey: its account, its expiry (clock ms) and the sinks reading it."""

    key: str
    account_id: str
    expires_at: int
    tokens: set[int] = field(default_factory=set)


@dataclass(slots=True)
class _Registry:
    """Everything a hub routes; shared by reference when a reset hands it to a new hub."""

    subs: dict[str, dict[int, Sink]] = field(default_factory=dict)  # account -> token -> sink
    keys: dict[str, ListenKey] = field(default_factory=dict)  # listenKey -> record
    key_of_account: dict[str, str] = field(default_factory=dict)
    tokens: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def next_token(self) -> int:
        return next(self.tokens)


class UserDataHub:
    """Routes engine events to the user-data subscribers of each account."""

    def __init__(self) -> None:
        self._reg = _Registry()
        self._clock: Callable[[], int] | None = None
        self._rng: random.Random | None = None
        self.ttl_ms = 60 * 60 * 1000

    # --- configuration ------------------------------------------------------------------------

    def bind(self, clock: Callable[[], int], seed: int, ttl_ms: int) -> None:
        """Give the hub the exchange's clock, key seed and listenKey lifetime (idempotent)."""
        self._clock = clock
        self.ttl_ms = ttl_ms
        if self._rng is None:
            self._rng = random.Random(seed * 1_000_003 + 64)

    def _now(self) -> int | None:
        return self._clock() if self._clock is not None else None

    # --- subscriptions ------------------------------------------------------------------------

    def subscribe(self, account_id: str, sink: Sink) -> Callable[[], None]:
        """Deliver ``account_id``'s events to ``sink`` until the returned detach is called."""
        reg = self._reg
        token = reg.next_token()
        reg.subs.setdefault(account_id, {})[token] = sink

        def detach() -> None:
            _drop(reg, account_id, token)

        return detach

    def dispatch(self, events: list[Event]) -> None:
        """Turn one engine batch into user-data payloads for the accounts that listen."""
        subs = self._reg.subs
        if not subs:
            return
        for ev in events:
            kind = type(ev)
            if kind is OrderUpdate:
                assert isinstance(ev, OrderUpdate)
                targets = subs.get(ev.order.account_id)
                if targets:
                    _deliver(targets, user_events.execution_report(ev))
            elif kind is BalanceChange:
                assert isinstance(ev, BalanceChange)
                targets = subs.get(ev.account_id)
                if targets:
                    if ev.asset:
                        _deliver(targets, user_events.balance_update(ev))
                    _deliver(targets, user_events.account_position(ev))

    # --- legacy listenKeys ----------------------------------------------------------------------

    def create_listen_key(self, account_id: str, now: int) -> str:
        """POST /api/v3/userDataStream: the account's live key (extended) or a new 64-char key."""
        self.expire(now)
        reg = self._reg
        current = reg.key_of_account.get(account_id)
        if current is not None and current in reg.keys:
            reg.keys[current].expires_at = now + self.ttl_ms
            return current
        rng = self._rng or random.Random(0)
        self._rng = rng
        while True:
            key = "".join(rng.choices(_KEY_ALPHABET, k=LISTEN_KEY_LENGTH))
            if key not in reg.keys:
                break
        reg.keys[key] = ListenKey(key, account_id, now + self.ttl_ms)
        reg.key_of_account[account_id] = key
        return key

    def _live(self, listen_key: str, account_id: str | None, now: int | None) -> ListenKey | None:
        record = self._reg.keys.get(listen_key)
        if record is None or (account_id is not None and record.account_id != account_id):
            return None
        if now is not None and record.expires_at <= now:
            return None
        return record

    def keepalive(self, listen_key: str, account_id: str | None, now: int) -> bool:
        """PUT: extend a live key by the TTL; False when it does not exist (for this account)."""
        self.expire(now)
        record = self._live(listen_key, account_id, now)
        if record is None:
            return False
        record.expires_at = now + self.ttl_ms
        return True

    def close_listen_key(self, listen_key: str, account_id: str | None, now: int) -> bool:
        """DELETE: invalidate the key; its readers get nothing more (no listenKeyExpired)."""
        self.expire(now)
        record = self._live(listen_key, account_id, now)
        if record is None:
            return False
        self._remove_key(record)
        return True

    def _remove_key(self, record: ListenKey) -> None:
        reg = self._reg
        reg.keys.pop(record.key, None)
        if reg.key_of_account.get(record.account_id) == record.key:
            del reg.key_of_account[record.account_id]
        for token in record.tokens:
            _drop(reg, record.account_id, token)
        record.tokens.clear()

    def expire(self, now: int) -> None:
        """Send ``listenKeyExpired`` to the readers of every key past its expiry, then drop it."""
        for record in [r for r in self._reg.keys.values() if r.expires_at <= now]:
            sinks = self._reg.subs.get(record.account_id, {})
            readers = [sinks[t] for t in sorted(record.tokens) if t in sinks]
            self._remove_key(record)
            payload = user_events.listen_key_expired(record.key, now)
            for sink in readers:
                _call(sink, payload)

    def next_expiry(self) -> int | None:
        """The earliest listenKey expiry (clock ms), or None when no key is live."""
        return min((r.expires_at for r in self._reg.keys.values()), default=None)

    def is_listen_key(self, name: str) -> bool:
        """True when ``name`` is a live listenKey (so ``/ws/<name>`` is a user stream)."""
        return self._live(name, None, self._now()) is not None

    def attach_listen_key(self, listen_key: str, sink: Sink) -> Callable[[], None]:
        """Deliver the listenKey's account events to ``sink``; returns a detach function."""
        record = self._live(listen_key, None, self._now())
        if record is None:
            raise KeyError(listen_key)
        reg = self._reg
        token = reg.next_token()
        reg.subs.setdefault(record.account_id, {})[token] = sink
        record.tokens.add(token)

        def detach() -> None:
            record.tokens.discard(token)
            _drop(reg, record.account_id, token)

        return detach


def _drop(reg: _Registry, account_id: str, token: int) -> None:
    sinks = reg.subs.get(account_id)
    if sinks is not None:
        sinks.pop(token, None)
        if not sinks:
            del reg.subs[account_id]


def _call(sink: Sink, payload: dict[str, Any]) -> None:
    try:
        sink(payload)
    except Exception:  # one broken reader must not starve the others
        log.exception("user-data sink failed")


def _deliver(targets: dict[int, Sink], payload: dict[str, Any]) -> None:
    for sink in list(targets.values()):
        _call(sink, payload)


def hub_of(state: ExchangeState) -> UserDataHub:
    """``state.user_data`` (one hub for the state's lifetime; it survives ``reset``), bound to the
    state's clock and settings."""
    hub = state.user_data
    hub.bind(state.clock, state.config.seed, state.config.websocket.listen_key_ttl_ms)
    return hub


def make_listener(state: ExchangeState) -> Callable[[list[Event]], None]:
    """The ``state.listeners`` entry feeding user data (resolves the current hub every batch)."""

    def listener(events: list[Event]) -> None:
        hub_of(state).dispatch(events)

    return listener
