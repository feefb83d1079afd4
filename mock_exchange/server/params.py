"""Request parameters exactly as the venue reads them, with its error for every malformed value.

A ``Params`` keeps the raw query string and body as received, because REST signatures are
computed over those bytes (not over a re-serialised dict: clients differ in order and
encoding), and it decodes values once for the typed getters the handlers use. The same class
wraps WebSocket-API ``params`` objects (``from_dict``) so handlers serve both transports.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Literal, overload
from urllib.parse import unquote, unquote_plus

from mock_exchange.engine import units
from mock_exchange.server import errors
from mock_exchange.server.errors import BinanceError

UINT_RANGE = "^[0-9]{1,20}$"
INT_RANGE = "^-?[0-9]{1,20}$"  # ours: the venue's text for signed integers was not found
DECIMAL_RANGE = r"^([0-9]{1,20})(\.[0-9]{1,20})?$"
SYMBOL_RANGE = r"^[\w\-._&&[^a-z]]{1,50}$"
SYMBOLS_RANGE = r'^\[("[\w\-._&&[^a-z]]{1,50}"(,"[\w\-._&&[^a-z]]{1,50}"){0,}){0,1}\]$'

_UINT_RE = re.compile(r"[0-9]{1,20}")
_INT_RE = re.compile(r"-?[0-9]{1,20}")
_DECIMAL_RE = re.compile(r"([0-9]{1,20})(?:\.([0-9]{1,20}))?")
_PERMISSION_RE = re.compile(r"[A-Z0-9_]{1,50}")
_INT64_MAX = 2**63 - 1
MICROS_THRESHOLD = 10**14
"""Timestamps above this are microseconds (ms timestamps stay below it until the year 5138)."""


def is_symbol_name(name: str) -> bool:
    """The venue's symbol rule: 1-50 word characters, '-', '.' or '_', no lowercase letters.

    ``\\w`` is taken as Unicode word characters so UTF-8 symbol names (testnet has some) pass.
    """
    if not 1 <= len(name) <= 50:
        return False
    return all((ch.isalnum() or ch in "-._") and not ch.islower() for ch in name)


def canonical_value(value: object, name: str = "") -> str | None:
    """A JSON parameter value as the string a client would have signed; None drops the key.

    bool -> "true"/"false"; int -> digits; float -> shortest repr without exponent; lists and
    objects -> compact JSON (``symbols`` arrays in the WebSocket API).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise errors.invalid_parameter(name)
        return format(Decimal(repr(value)), "f")
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    raise errors.invalid_parameter(name)


def _decode(text: str) -> str:
    """Percent/plus-decode; most parameters need neither, so skip the work when possible."""
    if "%" in text or "+" in text:
        return unquote_plus(text, errors="replace")
    return text


def _parse_pairs(raw: str) -> dict[str, str]:
    """Decode ``k=v&k=v``; a key twice in the same source is -1101."""
    out: dict[str, str] = {}
    if not raw:
        return out
    for seg in raw.split("&"):
        if not seg:
            continue
        key, _, value = seg.partition("=")
        key = _decode(key)
        if key in out:
            raise errors.too_many_params()
        out[key] = _decode(value)
    return out


def _raw_values(raw: str, name: str) -> str | None:
    """The still-encoded value of ``name`` in ``raw`` (first occurrence), or None."""
    for seg in raw.split("&"):
        key, eq, value = seg.partition("=")
        if eq and _decode(key) == name:
            return value
    return None


def _strip_signature(raw: str) -> str:
    """``raw`` without its ``signature=...`` pair(s), each removed with one '&'."""
    if "signature" not in raw:
        return raw
    kept = [
        seg for seg in raw.split("&") if _decode(seg.partition("=")[0]) != "signature"
    ]
    return "&".join(kept)


def _to_bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


class Params:
    """Parameters of one request: raw query + raw form body (query wins on a shared key).

    GET requests must be built with an empty body (the venue reads GET parameters from the
    query only); ``for_request`` does that from the method.
    """

    __slots__ = ("_values", "_query", "_body", "_ws", "_read")

    def __init__(self, query: str = "", body: bytes | str = b"") -> None:
        self._query = query
        self._body = body.decode("utf-8", "surrogateescape") if isinstance(body, bytes) else body
        self._ws = False
        self._read: set[str] = set()
        values = _parse_pairs(self._query)
        for key, value in _parse_pairs(self._body).items():
            values.setdefault(key, value)
        self._values = values

    @classmethod
    def for_request(cls, method: str, query: str, body: bytes | str = b"") -> Params:
        return cls(query, b"" if method.upper() in ("GET", "HEAD") else body)

    @classmethod
    def from_dict(cls, params: Mapping[str, object] | None) -> Params:
        """WebSocket-API ``params``: values become canonical strings (see ``canonical_value``)."""
        self = cls()
        self._ws = True
        for key, value in (params or {}).items():
            text = canonical_value(value, key)
            if text is not None:
                self._values[key] = text
        return self

    # --- raw access -----------------------------------------------------------------------

    @property
    def is_ws(self) -> bool:
        return self._ws

    def get(self, name: str) -> str | None:
        """The decoded value, '' when sent empty, None when absent."""
        self._read.add(name)
        return self._values.get(name)

    def has(self, name: str) -> bool:
        return name in self._values

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def names(self) -> list[str]:
        """Parameter names in arrival order (query first, then body-only names)."""
        return list(self._values)

    def as_dict(self) -> dict[str, str]:
        return dict(self._values)

    def signature(self) -> str | None:
        """The signature as sent, percent-decoded once (REST) or verbatim (WebSocket API).

        '+' is kept as '+' (not a space): base64 signatures contain it and some clients forget
        to encode it.
        """
        self._read.add("signature")
        if self._ws:
            return self._values.get("signature")
        raw = _raw_values(self._query, "signature")
        if raw is None:
            raw = _raw_values(self._body, "signature")
        if raw is None:
            return self._values.get("signature")
        return unquote(raw, errors="replace")

    def signature_payload(self) -> bytes:
        """The signed bytes: REST = query as received + body as received, minus ``signature``;
        WebSocket API = all params but ``signature``, sorted by name, ``k=v`` joined by '&'."""
        if self._ws:
            return ws_payload(self._values)
        return _to_bytes(_strip_signature(self._query)) + _to_bytes(_strip_signature(self._body))

    # --- unread-parameter check (-1104) -------------------------------------------------------

    def mark_read(self, *names: str) -> None:
        self._read.update(names)

    def check_all_read(self) -> None:
        """-1104 when some sent parameter was never read by the handler."""
        sent = len(self._values)
        read = len(self._read & self._values.keys())
        if read < sent:
            raise errors.unread_params(read, sent)

    # --- typed getters ----------------------------------------------------------------------

    def req(self, name: str) -> str:
        """A mandatory string: -1102 when absent or empty."""
        value = self.get(name)
        if not value:
            raise errors.mandatory(name)
        return value

    @overload
    def symbol(self, required: Literal[True] = True, name: str = "symbol") -> str: ...

    @overload
    def symbol(self, required: bool, name: str = "symbol") -> str | None: ...

    def symbol(self, required: bool = True, name: str = "symbol") -> str | None:
        """The symbol name: absent/empty -> -1102 (when required), lowercase or odd chars -> -1100."""
        value = self.get(name)
        if not value:
            if required:
                raise errors.mandatory(name)
            return None
        if not is_symbol_name(value):
            raise errors.illegal_chars(name, SYMBOL_RANGE)
        return value

    def opt_int(
        self, name: str, lo: int | None = None, hi: int | None = None, *, signed: bool = False
    ) -> int | None:
        """An optional integer: malformed -> -1100, beyond int64 -> -1108, outside [lo, hi] -> -1130."""
        value = self.get(name)
        if value is None:
            return None
        if signed:
            if not _INT_RE.fullmatch(value):
                raise errors.illegal_chars(name, INT_RANGE)
        elif not _UINT_RE.fullmatch(value):
            raise errors.illegal_chars(name, UINT_RANGE)
        number = int(value)
        if abs(number) > _INT64_MAX:
            raise errors.param_overflow(name)
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise errors.invalid_parameter(name)
        return number

    def req_int(
        self, name: str, lo: int | None = None, hi: int | None = None, *, signed: bool = False
    ) -> int:
        if not self.get(name):
            raise errors.mandatory(name)
        value = self.opt_int(name, lo, hi, signed=signed)
        assert value is not None
        return value

    def opt_time_ms(self, name: str) -> int | None:
        """A time parameter sent in ms or µs, returned in ms (µs truncated)."""
        value = self.opt_int(name)
        if value is not None and value > MICROS_THRESHOLD:
            return value // 1000
        return value

    def opt_units(self, name: str) -> int | None:
        """An optional non-negative decimal in 1e-8 units.

        Malformed, negative or exponent forms -> -1100; significant digits past the 8th
        decimal -> -1111 (trailing zeros are fine: "0.100000000" is exact).
        """
        value = self.get(name)
        if value is None:
            return None
        if not _DECIMAL_RE.fullmatch(value):
            raise errors.illegal_chars(name, DECIMAL_RANGE)
        try:
            return units.to_units(value)
        except units.PrecisionError:
            raise errors.bad_precision(name) from None

    def req_units(self, name: str) -> int:
        if not self.get(name):
            raise errors.mandatory(name)
        value = self.opt_units(name)
        assert value is not None
        return value

    def opt_bool(self, name: str) -> bool | None:
        """ "true"/"false" in any case; anything else -> -1130."""
        value = self.get(name)
        if value is None:
            return None
        low = value.lower()
        if low == "true":
            return True
        if low == "false":
            return False
        raise errors.invalid_parameter(name)

    def enum(
        self,
        name: str,
        allowed: Iterable[str],
        error: Callable[[], BinanceError] | None = None,
        *,
        required: bool = False,
        default: str | None = None,
    ) -> str | None:
        """A value from ``allowed`` (case-sensitive, like the venue); else ``error()`` (default -1130)."""
        value = self.get(name)
        if value is None or value == "":
            if required:
                raise errors.mandatory(name)
            return default
        if value not in allowed:
            raise error() if error is not None else errors.invalid_parameter(name)
        return value

    def symbols_list(self, name: str = "symbols") -> list[str]:
        """A JSON array of symbols (``["A","B"]``, raw or percent-encoded, spaces allowed).

        Absent or empty array -> -1102; not JSON but looks like an array -> -1135; not an
        array of valid names -> -1100; a name twice -> -1151. Check ``has(name)`` first when
        the parameter is optional.
        """
        value = self.get(name)
        if not value:
            raise errors.mandatory(name)
        items = _json_array(name, value)
        if items is None or not all(isinstance(s, str) and is_symbol_name(s) for s in items):
            raise errors.illegal_chars(name, SYMBOLS_RANGE)
        if not items:
            raise errors.mandatory(name)
        names = [str(s) for s in items]
        if len(set(names)) != len(names):
            raise errors.duplicate_symbols()
        return names

    def permissions_list(self, name: str = "permissions") -> list[str]:
        """One permission (``SPOT``) or a JSON array of them; duplicates are dropped.

        Absent -> -1102; malformed JSON -> -1135; a bad item or an empty list -> -1130.
        """
        value = self.get(name)
        if not value:
            raise errors.mandatory(name)
        stripped = value.strip()
        if stripped.startswith("["):
            items = _json_array(name, stripped)
            if items is None:
                raise errors.invalid_parameter(name)
        else:
            items = [stripped]
        if not items or not all(isinstance(p, str) and _PERMISSION_RE.fullmatch(p) for p in items):
            raise errors.invalid_parameter(name)
        return list(dict.fromkeys(str(p) for p in items))

    def __repr__(self) -> str:
        return f"Params({self._values!r})"


def _json_array(name: str, value: str) -> list[object] | None:
    """Parse a JSON array; None when it parses but is not an array; -1135 when not JSON but '['-led."""
    text = value.strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        if text.startswith("["):
            raise errors.invalid_json(name) from None
        return None
    return parsed if isinstance(parsed, list) else None


def ws_payload(values: Mapping[str, str]) -> bytes:
    """WebSocket-API signature payload: all but ``signature``, sorted by name, unencoded UTF-8."""
    return "&".join(f"{k}={values[k]}" for k in sorted(values) if k != "signature").encode("utf-8")
