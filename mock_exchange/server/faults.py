"""Scripted faults (DESIGN D6): what goes wrong, when, and a log of what did.

A ``FaultPlan`` lives on ``ExchangeState.faults``. Faults are JSON-shaped dicts added with
``plan.add(spec) -> id`` (``POST /_mock/faults`` is a thin wrapper), so a scenario timeline can
add them at virtual times through the same call. The plan decides; the server's shells ask it
at their hook points and do the I/O themselves:

* request faults (``http_error``, ``rate_limit``, ``delay``): the REST shell and the WS-API
  dispatcher call ``on_request`` while ``plan.requests`` is non-empty;
* ``reject_orders``: the new-order handler (REST and WS API) calls ``reject_order``;
* ``skip_depth``: the stream hub asks ``skip_diff`` before emitting a diff-depth frame;
* ``stale_snapshot``: the depth handler asks ``stale_depth``;
* ``stall_streams``: the hub's flush and the WS-API writer hold frames while ``stalling``;
* connection actions (``drop_streams``, ``server_shutdown``, ``terminate_user_streams``) run at
  once through the ``ConnectionSet``s the stream and WS-API modules attach at app start-up;
* ``clock_skew`` sets ``state.clock_skew_ms``; ``symbol_status`` calls the engine.

Specs (keys, defaults, validation) live in ``fault_specs``. Every hook is a single attribute
test while no fault of its kind is active. Counted faults
retire after ``count`` applications (``null``: until cleared). Every application is logged
with the server time. Not thread-safe: call it on the server's event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mock_exchange.server import errors
from mock_exchange.server.errors import BinanceError
from mock_exchange.server.fault_specs import REQUEST_TYPES, TYPES, Fault, FaultSpecError, Levels, parse_fault

if TYPE_CHECKING:
    from mock_exchange.server.state import ExchangeState

__all__ = ["TYPES", "ConnectionSet", "Fault", "FaultPlan", "FaultSpecError", "RequestFaults", "targets_of"]

LOG_MAX = 10_000  # log entries kept (oldest dropped first)
STALL_POLL_S = 0.05  # how often a stalled WS-API writer re-checks (a DELETE may end the stall early)
DIFF_SPEEDS = (100, 1000)
_ALL_DEPTH = 1 << 62


class ConnectionSet(Protocol):
    """What the stream and WS-API modules expose for the connection actions."""

    def drop(self, target: str) -> int:
        """Abort matching connections (no close frame); returns how many."""
        ...

    def shutdown(self, target: str) -> int:
        """``serverShutdown`` to matching connections, then close them (1001); returns how many."""
        ...

    def terminate_user_streams(self, account: str | None, now: int) -> int:
        """``eventStreamTerminated`` to user-data subscriptions and end them; returns how many."""
        ...

    def resume(self) -> None:
        """A stall was lifted early: deliver held frames now."""
        ...


@dataclass(slots=True)
class RequestFaults:
    """What the request faults decided for one request (``on_request``)."""

    reject: BinanceError | None = None  # answer this instead of processing the request
    replace: BinanceError | None = None  # process the request, then answer this instead
    delay_s: float = 0.0  # hold the answer this long
    entry_delay_s: float = 0.0  # hold the request this long before processing it (order-entry latency)


class FaultPlan:
    """The faults of one exchange: active ones indexed per hook, the log and counters."""

    def __init__(self, state: ExchangeState) -> None:
        self.state = state
        self.active: list[Fault] = []  # in the order added
        # Per-hook indexes: each hook tests one of these for emptiness first.
        self.requests: list[Fault] = []
        self.rejects: list[Fault] = []
        self.skip_depth: dict[str, list[Fault]] = {}
        self.stale: dict[str, list[Fault]] = {}
        self.stalling = False
        self.stall_until: dict[str, float] = {"market": 0.0, "user": 0.0}
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_MAX)
        self.counters: dict[str, int] = {}
        self.connections: list[ConnectionSet] = []
        self.rng = random.Random(state.config.seed * 7919 + 101)  # delay jitter
        self._ids = itertools.count(1)

    # ------------------------------------------------------------------ wiring
    def attach(self, conns: ConnectionSet) -> None:
        if conns not in self.connections:
            self.connections.append(conns)

    def detach(self, conns: ConnectionSet) -> None:
        if conns in self.connections:
            self.connections.remove(conns)

    # ------------------------------------------------------------------ adding and clearing
    def add(self, spec: Mapping[str, Any]) -> int:
        """Validate ``spec`` and put it into effect (connection actions run now); its id."""
        return self.add_fault(spec).id

    def add_fault(self, spec: Mapping[str, Any]) -> Fault:
        fault = parse_fault(spec, self.state)
        self._install(fault)
        return fault

    def add_many(self, specs: Iterable[Any]) -> list[Fault]:
        """All or nothing: every spec is validated before any takes effect."""
        parsed = []
        for i, spec in enumerate(specs):
            try:
                parsed.append(parse_fault(spec, self.state))
            except FaultSpecError as exc:
                raise FaultSpecError(f"[{i}].{exc}") from exc
        for fault in parsed:
            self._install(fault)
        return parsed

    def _install(self, f: Fault) -> None:
        state = self.state
        f.id = next(self._ids)
        f.added_at = state.clock()
        kind, spec = f.type, f.spec
        if kind in REQUEST_TYPES:
            self.requests.append(f)
        elif kind == "reject_orders":
            self.rejects.append(f)
        elif kind == "skip_depth":
            assert f.symbol is not None
            n = f.remaining if f.remaining is not None else 0
            f.left = dict.fromkeys(DIFF_SPEEDS, n)
            self.skip_depth.setdefault(f.symbol, []).append(f)
        elif kind == "stale_snapshot":
            assert f.symbol is not None
            f.book = state.engine.depth(f.symbol, _ALL_DEPTH)
            self.stale.setdefault(f.symbol, []).append(f)
        elif kind == "stall_streams":
            f.until = asyncio.get_running_loop().time() + spec["ms"] / 1000
            self._restall(extra=f)
            self._applied(f, spec["target"], ms=spec["ms"])
        elif kind == "clock_skew":
            for old in [g for g in self.active if g.type == "clock_skew"]:
                self._retire(old)
            state.clock_skew_ms = spec["ms"]
            self._applied(f, "clock", ms=spec["ms"])
        else:
            self._act(f)
            return  # one-shot actions are logged, never active
        self.active.append(f)

    def _act(self, f: Fault) -> None:
        state, spec = self.state, f.spec
        kind = f.type
        if kind == "drop_streams":
            n = sum(c.drop(spec["target"]) for c in list(self.connections))
            f.result["connections"] = n
            self._applied(f, spec["target"], connections=n)
        elif kind == "server_shutdown":
            n = sum(c.shutdown(spec["target"]) for c in list(self.connections))
            f.result["connections"] = n
            self._applied(f, spec["target"], connections=n)
        elif kind == "terminate_user_streams":
            account = spec.get("account")
            now = state.clock()
            n = sum(c.terminate_user_streams(account, now) for c in list(self.connections))
            f.result["subscriptions"] = n
            self._applied(f, account or "all", subscriptions=n)
        else:  # symbol_status
            assert f.symbol is not None
            previous = state.engine.symbols[f.symbol].status
            state.engine.set_symbol_status(f.symbol, spec["status"])
            state.publish()
            f.result["previous"] = previous
            self._applied(f, f.symbol, status=spec["status"], previous=previous)

    def clear(self) -> None:
        """End every fault (clock skew back to 0, stalls lifted) and forget the log and counters."""
        self.active.clear()
        self.requests.clear()
        self.rejects.clear()
        self.skip_depth.clear()
        self.stale.clear()
        self.state.clock_skew_ms = 0
        self._end_stalls()
        self.log.clear()
        self.counters.clear()

    def remove(self, fault_id: int) -> bool:
        """End one active fault; False if no active fault has that id."""
        for f in self.active:
            if f.id == fault_id:
                self._retire(f)
                return True
        return False

    def _retire(self, f: Fault) -> None:
        if f in self.active:
            self.active.remove(f)
        kind = f.type
        if kind in REQUEST_TYPES:
            _discard(self.requests, f)
        elif kind == "reject_orders":
            _discard(self.rejects, f)
        elif kind == "skip_depth" or kind == "stale_snapshot":
            index = self.skip_depth if kind == "skip_depth" else self.stale
            assert f.symbol is not None
            faults = index.get(f.symbol, [])
            _discard(faults, f)
            if not faults:
                index.pop(f.symbol, None)
        elif kind == "clock_skew":
            self.state.clock_skew_ms = 0
        elif kind == "stall_streams":
            self._restall()

    def _consume(self, f: Fault) -> None:
        if f.remaining is not None:
            f.remaining -= 1
            if f.remaining <= 0:
                self._retire(f)

    def _applied(self, f: Fault, target: str, **detail: Any) -> None:
        f.applied += 1
        self.counters[f.type] = self.counters.get(f.type, 0) + 1
        entry: dict[str, Any] = {"time": self.state.clock(), "id": f.id, "type": f.type, "target": target}
        label = f.spec.get("label")
        if label is not None:
            entry["label"] = label
        entry.update(detail)
        self.log.append(entry)

    # ------------------------------------------------------------------ views
    def snapshot(self) -> dict[str, Any]:
        """``GET /_mock/faults``: active faults, the log (oldest first), counters, clock skew."""
        self._expire_stalls()
        return {
            "active": [f.json() for f in self.active],
            "log": list(self.log),
            "counters": dict(self.counters),
            "clockSkewMs": self.state.clock_skew_ms,
        }

    # ------------------------------------------------------------------ request hooks
    def on_request(
        self, transport: str, method: str | None, path: str | None, ws_method: str | None = None
    ) -> RequestFaults | None:
        """Which request faults apply to this request (each chosen fault uses one count).

        At most one rejecting fault (``rate_limit``, ``http_error`` with ``execute`` false), else
        at most one replacing one (``http_error`` executed), plus at most one ``delay``."""
        out: RequestFaults | None = None
        where = f"ws {ws_method}" if transport == "ws" else f"rest {method} {path}"
        pre = post = delay = None
        for f in self.requests:
            if not f.matches(transport, method, path, ws_method):
                continue
            if f.type == "delay":
                delay = delay or f
            elif f.type == "rate_limit" or not f.spec["execute"]:
                pre = pre or f
            else:
                post = post or f
        failing = pre or post
        if failing is not None:
            err = self._error(failing)
            out = RequestFaults(reject=err) if failing is pre else RequestFaults(replace=err)
            self._applied(failing, where, status=err.http_status, code=err.code)
            self._consume(failing)
        if delay is not None:
            jitter = delay.spec["jitterMs"]
            ms = delay.spec["ms"] + (self.rng.randint(0, jitter) if jitter else 0)
            out = out or RequestFaults()
            if delay.spec["stage"] == "entry":
                out.entry_delay_s = ms / 1000
            else:
                out.delay_s = ms / 1000
            self._applied(delay, where, ms=ms)
            self._consume(delay)
        return out

    def _error(self, f: Fault) -> BinanceError:
        spec = f.spec
        if f.type == "http_error":
            return BinanceError(spec["code"], spec["msg"], spec["status"])
        now = self.state.clock()
        retry_s = spec["retryAfter"]
        if spec["status"] == 418:
            return errors.ip_banned(now + retry_s * 1000, retry_s)
        lim = self.state.limiter.weight_limit
        return errors.too_much_weight(lim.limit, lim.label, retry_s, now + retry_s * 1000)

    def reject_order(self, symbol: str | None) -> None:
        """The new-order hook: raise the first matching ``reject_orders`` fault's error."""
        for f in self.rejects:
            if f.symbol is None or f.symbol == symbol:
                spec = f.spec
                self._applied(f, symbol or "", code=spec["code"])
                self._consume(f)
                raise BinanceError(spec["code"], spec["msg"], spec["status"])

    # ------------------------------------------------------------------ market data hooks
    def skip_diff(self, symbol: str, speed: int, speeds: Iterable[int], first: int, last: int) -> bool:
        """True when this diff-depth frame (update ids ``first``..``last``) is to be withheld.

        ``count`` frames are withheld on each diff speed (100 ms and 1000 ms) so every
        subscriber sees a gap; the fault retires once each speed in use has had its count."""
        for f in self.skip_depth.get(symbol, ()):
            if f.remaining is None:
                self._applied(f, symbol, speed=speed, U=first, u=last)
                return True
            if f.left.get(speed, 0) > 0:
                f.left[speed] -= 1
                self._applied(f, symbol, speed=speed, U=first, u=last)
                f.remaining = max(f.left[s] for s in speeds)
                if f.remaining <= 0:
                    self._retire(f)
                return True
        return False

    def stale_depth(self, symbol: str, limit: int) -> tuple[int, Levels, Levels] | None:
        """The depth hook: the book as it was when the fault was added, once the live book has
        moved on (until then there is nothing older to serve and the fault waits)."""
        for f in self.stale.get(symbol, ()):
            assert f.book is not None
            last_id, bids, asks = f.book
            current = self.state.engine.last_update_id(symbol)
            if last_id >= current:
                return None
            self._applied(f, symbol, lastUpdateId=last_id, current=current)
            self._consume(f)
            return last_id, bids[:limit], asks[:limit]
        return None

    # ------------------------------------------------------------------ stalls
    def stall_left(self, target: str, now: float) -> float:
        """Seconds (loop time) the ``target`` side's frames are still held; 0 when not stalled."""
        left = self.stall_until[target] - now
        if left > 0:
            return left
        self._expire_stalls(now)
        return 0.0

    async def wait_stall(self, target: str) -> None:
        """Sleep while ``target`` is stalled (re-checked often: a DELETE may lift the stall)."""
        loop = asyncio.get_running_loop()
        while self.stalling:
            left = self.stall_left(target, loop.time())
            if left <= 0:
                return
            await asyncio.sleep(min(left, STALL_POLL_S))

    def _restall(self, extra: Fault | None = None) -> None:
        """Recompute the stall ends from the active stall faults."""
        until = {"market": 0.0, "user": 0.0}
        stalls = [f for f in self.active if f.type == "stall_streams"]
        if extra is not None:
            stalls.append(extra)
        for f in stalls:
            for side in _sides(f.spec["target"]):
                until[side] = max(until[side], f.until)
        lifted = any(until[s] < self.stall_until[s] for s in until)
        self.stall_until = until
        self.stalling = any(until.values())
        if lifted:
            for c in list(self.connections):
                c.resume()

    def _expire_stalls(self, now: float | None = None) -> None:
        if not self.stalling:
            return
        if now is None:
            try:
                now = asyncio.get_running_loop().time()
            except RuntimeError:
                return
        done = [f for f in self.active if f.type == "stall_streams" and f.until <= now]
        for f in done:
            self.active.remove(f)
        if done or all(u <= now for u in self.stall_until.values()):
            self._restall()

    def _end_stalls(self) -> None:
        was = self.stalling
        self.stall_until = {"market": 0.0, "user": 0.0}
        self.stalling = False
        if was:
            for c in list(self.connections):
                c.resume()


def _sides(target: str) -> tuple[str, ...]:
    return ("market", "user") if target == "all" else (target,)


def targets_of(target: str) -> tuple[bool, bool]:
    """(market?, user?) for a ``target`` value."""
    return target in ("market", "all"), target in ("user", "all")


def _discard(items: list[Fault], f: Fault) -> None:
    if f in items:
        items.remove(f)
