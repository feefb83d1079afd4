"""cryptofeed's raw data collection files (``AsyncFileCallback``), e.g. ``BINANCE.ws.1.0``.

Line forms, any of which may appear in any file:

* ``<url> <-> <t>``: a WebSocket connection was opened to ``url`` (line 1 of a ws file, and
  again on every reconnect);
* ``<url> <- <t>: <message>``: a message sent (subscriptions);
* ``<t>: <frame>``: a WebSocket frame received (Binance: combined-stream envelopes);
* ``<url> -> <t>: <body>``: an HTTP response (``/api/v1|v3/depth`` snapshots, exchangeInfo);
* ``configuration: <json>``: the feed's configuration (exchangeInfo file).

``t`` is the local receive time in float seconds; it is parsed exactly (decimal digits, not a
float) into integer nanoseconds. ``CryptofeedReader`` merges any number of such files in
receive-time order, constant memory (one pending record per file), so a ws file and its http
file replay as one timeline and the snapshots anchor the diff streams.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from operator import attrgetter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from mock_exchange.market.readers.base import (
    BadLine,
    Paths,
    ReplayReader,
    Skip,
    as_paths,
    envelope_record,
    snapshot_record,
    stream_record,
    symbol_of_url,
)
from mock_exchange.market.readers.lines import iter_lines
from mock_exchange.market.readers.records import ReplayFormatError, ReplayRecord
from mock_exchange.market.readers.sequence import DepthSequenceChecker


def seconds_to_ns(text: str) -> int:
    """'1633998512.0633569' -> 1633998512063356900, exactly (no float rounding)."""
    whole, dot, frac = text.strip().partition(".")
    if not whole.isdigit() or (dot and not frac.isdigit()) or len(frac) > 9:
        raise BadLine(f"receive time {text[:40]!r} is not a decimal number of seconds")
    return int(whole) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def _frame_record(obj: Any, local_ns: int, source: str) -> ReplayRecord:
    if type(obj) is not dict:
        raise BadLine("frame is not a JSON object")
    if "stream" in obj:
        return envelope_record(obj, local_ns, source)
    if "result" in obj and "id" in obj:
        raise Skip("subscription response")
    return stream_record(obj, "", local_ns, source)


class CryptofeedReader(ReplayReader):
    """Records from cryptofeed raw files (ws and http), merged by local receive time."""

    def __init__(
        self,
        paths: Paths,
        *,
        strict: bool = True,
        checker: DepthSequenceChecker | None = None,
        max_errors: int = 1000,
    ) -> None:
        super().__init__(strict=strict, checker=checker, max_errors=max_errors)
        self.paths = as_paths(paths)
        self.connects: list[tuple[int, str, str]] = []  # (receive ns, url, source) per ws connect

    def _records(self) -> Iterator[ReplayRecord]:
        self.connects.clear()
        streams = [self._file(path) for path in self.paths]
        if len(streams) == 1:
            return streams[0]
        return heapq.merge(*streams, key=attrgetter("local_ns"))

    def _file(self, path: Path) -> Iterator[ReplayRecord]:
        name = str(path)
        for lineno, line in self._lines(path):
            if not line.strip():
                continue
            try:
                rec = self._line(line.decode(), f"{name}:{lineno}")
            except UnicodeDecodeError as exc:
                self._bad(name, lineno, f"line is not UTF-8 text: {exc}", exc)
                continue
            except orjson.JSONDecodeError as exc:
                self._bad(name, lineno, f"message is not valid JSON: {exc}", exc)
                continue
            except BadLine as exc:
                self._bad(name, lineno, str(exc), exc)
                continue
            except Skip as skip:
                self.skipped[skip.what] += 1
                continue
            if rec is not None:
                yield rec

    def _line(self, text: str, source: str) -> ReplayRecord | None:
        if text.startswith("configuration: "):
            raise Skip("configuration")
        head = text.split(": ", 1)[0]
        if " -> " in head:  # HTTP response
            url, _, rest = text.partition(" -> ")
            stamp, sep, body = rest.partition(": ")
            if not sep:
                raise BadLine("HTTP line has no ': ' before the response body")
            local_ns = seconds_to_ns(stamp)
            if urlsplit(url).path.endswith("/depth"):
                return snapshot_record(orjson.loads(body), symbol_of_url(url), local_ns, source, url)
            raise Skip("rest " + urlsplit(url).path)
        if " <-> " in head:  # connect
            url, _, stamp = text.partition(" <-> ")
            self.connects.append((seconds_to_ns(stamp), url, source))
            return None
        if " <- " in head:  # sent by the client
            raise Skip("sent message")
        stamp, sep, frame = text.partition(": ")
        if not sep:
            raise BadLine("expected '<receive time>: <frame>'")
        return _frame_record(orjson.loads(frame), seconds_to_ns(stamp), source)


def read_cryptofeed_exchange_info(path: str | Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(exchangeInfo body, configuration or None) from a cryptofeed http file such as ``BINANCE.0``."""
    info: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    damage: list[ReplayFormatError] = []
    name = str(path)

    def note(line: int, reason: str) -> None:
        damage.append(ReplayFormatError(name, line, reason))

    for lineno, line in iter_lines(path, note):
        text = line.decode("utf-8", "replace")
        try:
            if text.startswith("configuration: "):
                config = orjson.loads(text.partition(": ")[2])
            elif " -> " in text.split(": ", 1)[0]:
                url, _, rest = text.partition(" -> ")
                if urlsplit(url).path.endswith("/exchangeInfo"):
                    info = orjson.loads(rest.partition(": ")[2])
        except orjson.JSONDecodeError as exc:
            raise ReplayFormatError(name, lineno, f"body is not valid JSON: {exc}") from exc
    if damage:
        raise damage[0]
    if info is None:
        raise ReplayFormatError(name, 0, "no exchangeInfo response in this file")
    return info, config
