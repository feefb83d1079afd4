"""Fault specs: the JSON shape of each fault type, its validation and the ``Fault`` record.

``parse_fault`` turns a JSON-shaped dict into a ``Fault`` (defaults filled in, so the control
plane can show exactly what is in effect) or raises ``FaultSpecError`` whose message starts
with the offending key. ``faults.FaultPlan`` puts parsed faults into effect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mock_exchange.engine.symbols import SYMBOL_STATUSES
from mock_exchange.server import errors

if TYPE_CHECKING:
    from mock_exchange.server.state import ExchangeState

Levels = list[tuple[int, int]]

REQUEST_TYPES = ("http_error", "rate_limit", "delay")
TARGETS = ("market", "user", "all")
TRANSPORTS = ("rest", "ws", "any")
METHODS = ("GET", "POST", "PUT", "DELETE")

_MATCH = frozenset({"method", "path", "wsMethod", "transport"})
KEYS: dict[str, frozenset[str]] = {
    "http_error": _MATCH | {"status", "code", "msg", "count", "execute"},
    "rate_limit": _MATCH | {"status", "retryAfter", "count"},
    "delay": _MATCH | {"ms", "jitterMs", "count", "stage"},
    "reject_orders": frozenset({"code", "msg", "status", "count", "symbol"}),
    "skip_depth": frozenset({"symbol", "count"}),
    "stale_snapshot": frozenset({"symbol", "count"}),
    "drop_streams": frozenset({"target"}),
    "stall_streams": frozenset({"target", "ms"}),
    "server_shutdown": frozenset({"target"}),
    "terminate_user_streams": frozenset({"account"}),
    "clock_skew": frozenset({"ms"}),
    "symbol_status": frozenset({"symbol", "status"}),
}
TYPES = tuple(KEYS)
_COMMON = frozenset({"type", "label"})
COUNTED = frozenset({"http_error", "rate_limit", "delay", "reject_orders", "skip_depth", "stale_snapshot"})


def _default_messages() -> dict[int, str]:
    """The venue's text per code, for faults that name a code and no message."""
    known = (
        errors.unknown(), errors.disconnected(), errors.unauthorized(), errors.timeout(),
        errors.server_busy(), errors.service_shutting_down(), errors.unsupported_operation(),
        errors.timestamp_outside(), errors.invalid_signature(), errors.unknown_order(),
        errors.no_such_order(), errors.rejected_key(),
    )  # fmt: skip
    table = {e.code: e.msg for e in known}
    table[-1006] = "An unexpected response was received from the message bus. Execution status unknown."
    table[-2010] = "Account has insufficient balance for requested action."
    return table


DEFAULT_MSG = _default_messages()


class FaultSpecError(ValueError):
    """A fault spec the plan refuses; the message names the offending key."""


@dataclass(slots=True, eq=False)
class Fault:
    """One fault as added: its normalised spec plus the state its hooks need."""

    type: str
    spec: dict[str, Any]
    id: int = 0
    added_at: int = 0
    remaining: int | None = None  # counted faults: applications left (None: until cleared)
    applied: int = 0
    transport: str = "any"
    method: str | None = None
    path: str | None = None
    ws_method: str | None = None
    symbol: str | None = None
    left: dict[int, int] = field(default_factory=dict)  # skip_depth: frames still to withhold per speed
    book: tuple[int, Levels, Levels] | None = None  # stale_snapshot: the book when the fault was added
    until: float = 0.0  # stall_streams: loop time the stall ends
    result: dict[str, Any] = field(default_factory=dict)  # what an immediate action did

    def matches(self, transport: str, method: str | None, path: str | None, ws_method: str | None) -> bool:
        if self.transport != "any" and self.transport != transport:
            return False
        if self.method is not None and self.method != method:
            return False
        if self.ws_method is not None and self.ws_method != ws_method:
            return False
        want = self.path
        if want is None:
            return True
        if path is None:
            return False
        return path.startswith(want[:-1]) if want.endswith("*") else path == want

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, **self.spec, "addedAt": self.added_at, "applied": self.applied}
        if self.type in COUNTED:
            out["remaining"] = self.remaining
        out.update(self.result)
        return out


def _int(spec: Mapping[str, Any], key: str, default: int | None = None, *, lo: int | None = None,
         hi: int | None = None) -> int:
    value = spec.get(key, default)
    if value is None:
        raise FaultSpecError(f"{key}: required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultSpecError(f"{key}: must be an integer, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if lo is not None and hi is not None else f">= {lo}" if lo is not None else f"<= {hi}"
        raise FaultSpecError(f"{key}: must be {bounds}, got {value}")
    return value


def _str(spec: Mapping[str, Any], key: str, choices: Iterable[str] | None = None, default: str | None = None) -> str:
    value = spec.get(key, default)
    if value is None:
        raise FaultSpecError(f"{key}: required")
    if not isinstance(value, str) or not value:
        raise FaultSpecError(f"{key}: must be a non-empty string, got {value!r}")
    if choices is not None:
        options = tuple(choices)
        if value not in options:
            raise FaultSpecError(f"{key}: must be one of {', '.join(options)}, got {value!r}")
    return value


def _opt_str(spec: Mapping[str, Any], key: str) -> str | None:
    return _str(spec, key) if spec.get(key) is not None else None


def _count(spec: Mapping[str, Any]) -> int | None:
    if "count" in spec and spec["count"] is None:
        return None
    return _int(spec, "count", 1, lo=1)


def parse_fault(spec: Any, state: ExchangeState) -> Fault:
    """A ``Fault`` from its JSON form (not yet in effect); ``FaultSpecError`` names the bad key."""
    if not isinstance(spec, Mapping):
        raise FaultSpecError("fault: must be a JSON object")
    kind = spec.get("type")
    if not isinstance(kind, str) or kind not in KEYS:
        raise FaultSpecError(f"type: must be one of {', '.join(TYPES)}, got {kind!r}")
    allowed = KEYS[kind] | _COMMON
    for key in spec:
        if key not in allowed:
            raise FaultSpecError(f"{key}: unknown key for a {kind} fault (allowed: {', '.join(sorted(allowed))})")
    norm: dict[str, Any] = {"type": kind}
    if spec.get("label") is not None:
        norm["label"] = _str(spec, "label")
    f = Fault(kind, norm)
    if kind in COUNTED:
        f.remaining = _count(spec)
        norm["count"] = f.remaining
    if kind in REQUEST_TYPES:
        _parse_match(spec, f)
    _PARSERS[kind](spec, f, state)
    return f


def _parse_match(spec: Mapping[str, Any], f: Fault) -> None:
    norm = f.spec
    f.transport = norm["transport"] = _str(spec, "transport", TRANSPORTS, "any")
    method = _opt_str(spec, "method")
    if method is not None:
        if method.upper() not in METHODS:
            raise FaultSpecError(f"method: must be one of {', '.join(METHODS)}, got {method!r}")
        f.method = norm["method"] = method.upper()
    path = _opt_str(spec, "path")
    if path is not None:
        if not path.startswith("/"):
            raise FaultSpecError(f"path: must start with '/', got {path!r}")
        f.path = norm["path"] = path
    f.ws_method = _opt_str(spec, "wsMethod")
    if f.ws_method is not None:
        norm["wsMethod"] = f.ws_method
        if f.transport == "rest":
            raise FaultSpecError("wsMethod: only WebSocket-API requests have one (transport is 'rest')")


def _parse_http_error(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    status = _int(spec, "status", 503, lo=400, hi=599)
    code = _int(spec, "code", _default_code(status))
    f.spec.update(status=status, code=code, msg=_msg(spec, code), execute=_bool(spec, "execute", True))


def _parse_rate_limit(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    status = _int(spec, "status", 429)
    if status not in (429, 418):
        raise FaultSpecError(f"status: must be 429 or 418, got {status}")
    f.spec.update(status=status, retryAfter=_int(spec, "retryAfter", 1, lo=1))


def _parse_delay(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    stage = spec.get("stage", "reply")
    if stage not in ("reply", "entry"):
        raise FaultSpecError(f"stage: must be 'reply' (hold the answer) or 'entry' (hold the request before "
                             f"it is processed), got {stage!r}")
    f.spec.update(ms=_int(spec, "ms", lo=0), jitterMs=_int(spec, "jitterMs", 0, lo=0), stage=stage)


def _parse_reject_orders(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    code = _int(spec, "code", -2010)
    f.spec.update(code=code, msg=_msg(spec, code), status=_int(spec, "status", 400, lo=400, hi=599))
    if spec.get("symbol") is not None:
        f.symbol = f.spec["symbol"] = _symbol(spec, state)


def _parse_skip_depth(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    f.symbol = f.spec["symbol"] = _symbol(spec, state)


_parse_stale_snapshot = _parse_skip_depth


def _parse_drop_streams(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    f.spec["target"] = _str(spec, "target", TARGETS, "all")


_parse_server_shutdown = _parse_drop_streams


def _parse_stall_streams(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    f.spec.update(target=_str(spec, "target", TARGETS, "all"), ms=_int(spec, "ms", lo=1))
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        raise FaultSpecError("type: stall_streams needs the server's running event loop") from None


def _parse_terminate_user_streams(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    account = _opt_str(spec, "account")
    if account is not None:
        if account not in state.accounts:
            raise FaultSpecError(f"account: unknown account {account!r}")
        f.spec["account"] = account


def _parse_clock_skew(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    f.spec["ms"] = _int(spec, "ms")


def _parse_symbol_status(spec: Mapping[str, Any], f: Fault, state: ExchangeState) -> None:
    f.symbol = f.spec["symbol"] = _symbol(spec, state)
    f.spec["status"] = _str(spec, "status", SYMBOL_STATUSES)


def _symbol(spec: Mapping[str, Any], state: ExchangeState) -> str:
    name = _str(spec, "symbol").upper()
    if name not in state.engine.symbols:
        raise FaultSpecError(f"symbol: unknown symbol {name!r}")
    return name


_PARSERS: dict[str, Callable[[Mapping[str, Any], Fault, ExchangeState], None]] = {
    "http_error": _parse_http_error,
    "rate_limit": _parse_rate_limit,
    "delay": _parse_delay,
    "reject_orders": _parse_reject_orders,
    "skip_depth": _parse_skip_depth,
    "stale_snapshot": _parse_stale_snapshot,
    "drop_streams": _parse_drop_streams,
    "stall_streams": _parse_stall_streams,
    "server_shutdown": _parse_server_shutdown,
    "terminate_user_streams": _parse_terminate_user_streams,
    "clock_skew": _parse_clock_skew,
    "symbol_status": _parse_symbol_status,
}


def _bool(spec: Mapping[str, Any], key: str, default: bool) -> bool:
    value = spec.get(key, default)
    if not isinstance(value, bool):
        raise FaultSpecError(f"{key}: must be true or false, got {value!r}")
    return value


def _default_code(status: int) -> int:
    if status in (503, 504):
        return -1007
    if status >= 500:
        return -1001
    return -1002 if status == 401 else -1000


def _msg(spec: Mapping[str, Any], code: int) -> str:
    if spec.get("msg") is not None:
        return _str(spec, "msg")
    text = DEFAULT_MSG.get(code)
    if text is None:
        raise FaultSpecError(f"msg: required for code {code} (no default text for it)")
    return text
