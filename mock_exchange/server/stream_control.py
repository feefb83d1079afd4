"""Control messages of the market-stream connections (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS,
SET_PROPERTY, GET_PROPERTY): parsing and validation with the venue's error codes and texts.

Pure functions over the frame text, so every malformed request can be tested without a socket.
The venue's messages come from its (Rust/serde) parser and quote positions in the request text;
we reproduce the documented texts and compute the positions the same way (1-based line and
column just past the offending token).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

SUBSCRIBE = "SUBSCRIBE"
UNSUBSCRIBE = "UNSUBSCRIBE"
LIST_SUBSCRIPTIONS = "LIST_SUBSCRIPTIONS"
SET_PROPERTY = "SET_PROPERTY"
GET_PROPERTY = "GET_PROPERTY"
METHODS = (SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY)

COMBINED = "combined"

_INT64 = (-(1 << 63), (1 << 63) - 1)
_ID_TEXT = re.compile(r"[A-Za-z0-9]{1,36}")
_METHOD_VALUE = re.compile(r'"method"\s*:\s*("(?:[^"\\]|\\.)*"|[^,}\s]+)')
_EXPECTED = ", ".join(f"`{m}`" for m in METHODS)

RequestId = int | str | None


class ControlError(Exception):
    """A request the venue answers with ``{"error":{"code":N,"msg":...},"id":...}``."""

    def __init__(self, code: int, msg: str, request_id: RequestId = None) -> None:
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.request_id = request_id

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "msg": self.msg}, "id": self.request_id}


@dataclass(slots=True)
class ControlRequest:
    method: str
    params: list[Any]
    id: RequestId


def reply(result: Any, request_id: RequestId) -> dict[str, Any]:
    """A success reply: ``result`` is null for SUBSCRIBE/UNSUBSCRIBE/SET_PROPERTY."""
    return {"result": result, "id": request_id}


def invalid_stream(request_id: RequestId) -> ControlError:
    return ControlError(2, "Invalid request: invalid stream", request_id)


def too_many_streams(request_id: RequestId) -> ControlError:
    """Subscribing past the per-connection cap (the venue's wording is not documented)."""
    return ControlError(2, "Invalid request: too many streams", request_id)


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of the character just before ``offset``."""
    head = text[:offset]
    line = head.count("\n") + 1
    return line, offset - (head.rfind("\n") + 1)


def _end_position(text: str) -> tuple[int, int]:
    return _position(text, len(text.rstrip()))


def _check_id(data: dict[str, Any]) -> RequestId:
    if "id" not in data:
        raise ControlError(2, "Invalid request: request ID must be an unsigned integer")
    rid = data["id"]
    if rid is None:
        return None
    if isinstance(rid, bool):
        raise ControlError(2, "Invalid request: request ID must be an unsigned integer")
    if isinstance(rid, int):
        if _INT64[0] <= rid <= _INT64[1]:
            return rid
    elif isinstance(rid, str) and _ID_TEXT.fullmatch(rid) is not None:
        return rid
    raise ControlError(2, "Invalid request: request ID must be an unsigned integer")


def _check_method(text: str, data: dict[str, Any], rid: RequestId) -> str:
    if "method" not in data:
        line, col = _end_position(text)
        raise ControlError(2, f"Invalid request: missing field `method` at line {line} column {col}", rid)
    method = data["method"]
    if isinstance(method, str) and method in METHODS:
        return method
    m = _METHOD_VALUE.search(text)
    line, col = _position(text, m.end(1)) if m is not None else _end_position(text)
    shown = method if isinstance(method, str) else orjson.dumps(method).decode()
    raise ControlError(
        2, f"Invalid request: unknown variant `{shown}`, expected one of {_EXPECTED} at line {line} column {col}", rid
    )


def parse(text: str) -> ControlRequest:
    """Validate one text frame; raises ``ControlError`` with the venue's code and message."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        line = getattr(exc, "lineno", 1)
        col = getattr(exc, "colno", 1)
        raise ControlError(3, f"Invalid JSON: expected value at line {line} column {col}") from exc
    if not isinstance(data, dict):
        raise ControlError(2, "Invalid request: expected a JSON object")
    rid = _check_id(data)
    method = _check_method(text, data, rid)
    raw = data.get("params")
    if raw is None:
        params: list[Any] = []
    elif isinstance(raw, list):
        params = raw
    else:
        raise ControlError(2, "Invalid request: params must be an array", rid)
    if method in (SUBSCRIBE, UNSUBSCRIBE):
        if not all(isinstance(p, str) for p in params):
            raise invalid_stream(rid)
    elif method == LIST_SUBSCRIPTIONS:
        if params:
            raise ControlError(2, "Invalid request: too many parameters", rid)
    elif method == GET_PROPERTY:
        _check_property(params, 1, rid)
    else:
        _check_property(params, 2, rid)
        if len(params) < 2 or not isinstance(params[1], bool):
            raise ControlError(1, "Invalid value type: expected Boolean", rid)
    return ControlRequest(method, params, rid)


def _check_property(params: list[Any], most: int, rid: RequestId) -> None:
    if not params or not isinstance(params[0], str):
        raise ControlError(2, "Invalid request: property name must be a string", rid)
    if len(params) > most:
        raise ControlError(2, "Invalid request: too many parameters", rid)
    if params[0] != COMBINED:
        raise ControlError(0, "Unknown property", rid)
