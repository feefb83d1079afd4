"""User-data event payloads built from engine events, field for field as the venue sends them.

One module owns the wire form of ``executionReport``, ``outboundAccountPosition``,
``balanceUpdate``, ``eventStreamTerminated`` and ``listenKeyExpired`` so the WebSocket-API
subscriptions (wrapped ``{"subscriptionId", "event"}``) and the legacy listenKey streams (bare)
carry identical objects. Order lists do not exist in the engine, so ``listStatus`` is never built.
"""

from __future__ import annotations

from typing import Any

from mock_exchange.engine.types import (
    CANCELED,
    FOK,
    IOC,
    MARKET,
    OPEN_STATUSES,
    STOP_LOSS,
    TAKE_PROFIT,
    BalanceChange,
    OrderUpdate,
)
from mock_exchange.engine.units import fmt

_MARKET_LIKE = (MARKET, STOP_LOSS, TAKE_PROFIT)  # never rest on the book once working


def _on_book(ev: OrderUpdate) -> bool:
    """``w``: the order rests on the book after this event (an open, working, resting type)."""
    o = ev.order
    if o.status not in OPEN_STATUSES or not o.is_working or o.type in _MARKET_LIKE:
        return False
    return o.time_in_force not in (IOC, FOK)


def execution_report(ev: OrderUpdate) -> dict[str, Any]:
    """``executionReport`` for one order state change.

    ``c`` is the order's client id, except on a cancel where it is the cancel request's own id
    and ``C`` carries the order's original id (``C`` is "" otherwise). ``n`` is "0" and ``N``
    null until the event is a fill. ``W`` appears once the order is working. STP fields
    (``v``, ``A``, ``B``, ``u``, ``U``, ``Cs``) appear on prevention events only.
    """
    o = ev.order
    canceled = ev.exec_type == CANCELED and bool(ev.cancel_client_order_id)
    filled = ev.commission_asset is not None
    out: dict[str, Any] = {
        "e": "executionReport",
        "E": ev.event_time,
        "s": o.symbol,
        "c": ev.cancel_client_order_id if canceled else o.client_order_id,
        "S": o.side,
        "o": o.type,
        "f": o.time_in_force or "GTC",
        "q": fmt(o.orig_qty),
        "p": fmt(o.price),
        "P": fmt(o.stop_price),
        "F": fmt(o.iceberg_qty),
        "g": -1,
        "C": (ev.orig_client_order_id or o.client_order_id) if canceled else "",
        "x": ev.exec_type,
        "X": o.status,
        "r": ev.reject_reason,
        "i": o.order_id,
        "l": fmt(ev.last_qty),
        "z": fmt(o.executed_qty),
        "L": fmt(ev.last_price),
        "n": fmt(ev.commission) if filled else "0",
        "N": ev.commission_asset if filled else None,
        "T": ev.transact_time,
        "t": ev.trade_id,
    }
    if ev.prevented_match_id:
        out["v"] = ev.prevented_match_id
    out.update(
        {
            "I": ev.execution_id,
            "w": _on_book(ev),
            "m": ev.is_maker,
            "M": False,
            "O": o.time,
            "Z": fmt(o.cum_quote_qty),
            "Y": fmt(ev.last_quote_qty),
            "Q": fmt(o.orig_quote_qty),
        }
    )
    if o.working_time >= 0:
        out["W"] = o.working_time
    out["V"] = o.stp_mode
    if o.strategy_id is not None:
        out["j"] = o.strategy_id
    if o.strategy_type is not None:
        out["J"] = o.strategy_type
    if ev.prevented_match_id:
        out["A"] = fmt(ev.prevented_qty)
        out["B"] = fmt(ev.last_prevented_qty)
        out["u"] = -1  # trade group id: mock accounts belong to no trade group
        out["U"] = ev.counter_order_id
        out["Cs"] = o.symbol
    if o.expiry_reason:
        out["eR"] = o.expiry_reason
    return out


def account_position(ev: BalanceChange) -> dict[str, Any]:
    """``outboundAccountPosition``: free/locked of every asset the operation touched."""
    return {
        "e": "outboundAccountPosition",
        "E": ev.time,
        "u": ev.time,
        "B": [{"a": asset, "f": fmt(free), "l": fmt(locked)} for asset, free, locked in ev.balances],
    }


def balance_update(ev: BalanceChange) -> dict[str, Any]:
    """``balanceUpdate``: a deposit (+) or withdrawal (-) of ``asset``."""
    return {"e": "balanceUpdate", "E": ev.time, "a": ev.asset, "d": fmt(ev.delta), "T": ev.time}


def event_stream_terminated(now: int) -> dict[str, Any]:
    return {"e": "eventStreamTerminated", "E": now}


def listen_key_expired(listen_key: str, now: int) -> dict[str, Any]:
    return {"e": "listenKeyExpired", "E": now, "listenKey": listen_key}


def server_shutdown(now: int) -> dict[str, Any]:
    return {"e": "serverShutdown", "E": now}


_TIME_KEYS: dict[str, tuple[str, ...]] = {
    "executionReport": ("E", "T", "O", "W"),
    "outboundAccountPosition": ("E", "u"),
    "balanceUpdate": ("E", "T"),
    "eventStreamTerminated": ("E",),
    "listenKeyExpired": ("E",),
    "serverShutdown": ("E",),
}


def to_micro(payload: dict[str, Any]) -> dict[str, Any]:
    """A copy of an event with its times in microseconds (``timeUnit=MICROSECOND`` sessions)."""
    keys = _TIME_KEYS.get(payload.get("e", ""), ())
    out = dict(payload)
    for key in keys:
        value = out.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            out[key] = value * 1000
    return out
