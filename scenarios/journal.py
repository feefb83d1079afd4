"""The run's journal: every wire message, fault and runner note, with virtual and wall times.

The mock exchange shows its traffic to ``ExchangeState.wire_taps`` (REST requests/replies,
WebSocket-API frames) and ``stream_taps`` (market-stream frames, opt-in: there are many);
``Journal.tap`` records them scrubbed of secrets (signatures, API keys, listen keys), and
remembers which line placed which client order id so failures can point at it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson

from scenarios.record import JournalEntry

_SECRET_QS = re.compile(r"(?i)\b(signature|apiKey|listenKey|secret)=[^&]*")
_SECRET_KEYS = frozenset({"signature", "apikey", "listenkey", "secret", "secretkey", "x-mbx-apikey"})
MASK = "***"


def scrub_query(text: str) -> str:
    """``a=1&signature=abc`` → ``a=1&signature=***``."""
    return _SECRET_QS.sub(lambda m: f"{m.group(1)}={MASK}", text) if text else text


def scrub(value: Any) -> Any:
    """A copy of JSON-shaped ``value`` with secret-named keys masked."""
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and k.lower() in _SECRET_KEYS else scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def _json_or_text(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


class Journal:
    """Entries in order; line n (1-based) of journal.jsonl is ``entries[n-1]``."""

    def __init__(self, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.entries: list[JournalEntry] = []
        self.order_lines: dict[str, int] = {}  # client order id -> line of the request placing it
        self._t0 = time.perf_counter()

    def add(self, kind: str, data: dict[str, Any]) -> int:
        self.entries.append(JournalEntry(self.clock(), round(time.perf_counter() - self._t0, 6), kind, data))
        return len(self.entries)

    def tap(self, kind: str, data: dict[str, Any]) -> None:
        """A wire tap for ``ExchangeState.wire_taps``/``stream_taps``."""
        if kind == "rest_request":
            query = scrub_query(data.get("query", ""))
            body = scrub_query(data.get("body", ""))
            line = self.add(kind, {"method": data["method"], "path": data["path"], "query": query, "body": body})
            if data["path"] == "/api/v3/order" and data["method"] == "POST":
                params = dict(parse_qsl(data.get("query", ""))) | dict(parse_qsl(data.get("body", "")))
                cid = params.get("newClientOrderId")
                if cid:
                    self.order_lines.setdefault(cid, line)
        elif kind == "rest_response":
            out = dict(data)
            if "body" in out:
                out["body"] = scrub(_json_or_text(out["body"]))
            self.add(kind, out)
        elif kind == "ws_in":
            frame = _json_or_text(data.get("text", ""))
            line = self.add(kind, {"frame": scrub(frame)})
            if isinstance(frame, dict) and frame.get("method") == "order.place":
                args = frame.get("params")
                cid = args.get("newClientOrderId") if isinstance(args, dict) else None
                if isinstance(cid, str):
                    self.order_lines.setdefault(cid, line)
        elif kind == "ws_out":
            self.add(kind, {"frame": scrub(data.get("frame"))})
        elif kind == "stream_out":
            # Kept as the JSON text it was (spliced into journal.jsonl as is): frames are many.
            self.add(kind, {"conn": data.get("conn"), "frame": orjson.Fragment(data.get("text", ""))})
        else:
            self.add(kind, scrub(data))
