"""API keys and request authentication, in the venue's order of checks and with its errors.

REST: the key header, then ``timestamp``/``signature`` presence, then the time window
(``recvWindow``, +1000 ms future tolerance, ms or µs timestamps), then the signature over the
raw query+body bytes. WebSocket API: the same checks over ``params``, with the payload
sorted by name and not percent-encoded. HMAC, Ed25519 and RSA keys are supported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from mock_exchange.server import errors
from mock_exchange.server.errors import BinanceError
from mock_exchange.server.params import DECIMAL_RANGE, MICROS_THRESHOLD, UINT_RANGE, Params

HMAC = "HMAC"
ED25519 = "ED25519"
RSA = "RSA"

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
FUTURE_TOLERANCE_US = 1_000_000  # "timestamp < serverTime + 1000"

_KEY_ALPHABET = string.ascii_letters + string.digits
_UINT_RE = re.compile(r"[0-9]{1,20}")
_RECV_RE = re.compile(r"([0-9]{1,20})(?:\.([0-9]{1,20}))?")

PublicKey = Ed25519PublicKey | RSAPublicKey


@dataclass(slots=True)
class ApiKey:
    """One API key of one account. ``secret`` is the HMAC secret ('' for asymmetric keys)."""

    api_key: str
    account_id: str
    kind: str = HMAC
    secret: str = ""
    public_key: PublicKey | None = None
    can_trade: bool = True
    can_read: bool = True

    def verify(self, payload: bytes, signature: str) -> bool:
        """True when ``signature`` (hex for HMAC, base64 otherwise) signs ``payload``."""
        if self.kind == HMAC:
            expected = hmac.new(self.secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected.encode("ascii"), signature.lower().encode("utf-8", "replace"))
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        try:
            if isinstance(self.public_key, Ed25519PublicKey):
                self.public_key.verify(raw, payload)
            elif isinstance(self.public_key, RSAPublicKey):
                self.public_key.verify(raw, payload, padding.PKCS1v15(), hashes.SHA256())
            else:
                return False
        except InvalidSignature:
            return False
        return True


def load_ed25519_public_key(key: str | bytes | Ed25519PublicKey) -> Ed25519PublicKey:
    """Accept a PEM (str or bytes), 32 raw bytes, base64 of 32 raw bytes, or a key object."""
    if isinstance(key, Ed25519PublicKey):
        return key
    data = key.encode("ascii") if isinstance(key, str) else key
    if data.lstrip().startswith(b"-----BEGIN"):
        loaded = serialization.load_pem_public_key(data)
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError("PEM is not an Ed25519 public key")
        return loaded
    if len(data) != 32:
        try:
            data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("not an Ed25519 public key") from exc
    if len(data) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(data)


def load_rsa_public_key(pem: str | bytes | RSAPublicKey) -> RSAPublicKey:
    if isinstance(pem, RSAPublicKey):
        return pem
    loaded = serialization.load_pem_public_key(pem.encode("ascii") if isinstance(pem, str) else pem)
    if not isinstance(loaded, RSAPublicKey):
        raise ValueError("PEM is not an RSA public key")
    return loaded


def _well_formed(api_key: str) -> bool:
    """Lenient format check: 1-256 printable ASCII characters (the venue issues 64 alnum)."""
    return 0 < len(api_key) <= 256 and all(" " < ch <= "~" for ch in api_key)


def _parse_timestamp_us(value: str) -> int:
    """``timestamp`` in µs; ms values are scaled, values above 1e14 are already µs."""
    if not _UINT_RE.fullmatch(value):
        raise errors.illegal_chars("timestamp", UINT_RANGE)
    ts = int(value)
    return ts if ts > MICROS_THRESHOLD else ts * 1000


def _parse_recv_window_us(value: str | None) -> int:
    """``recvWindow`` in µs: ms with up to 3 decimals, at most 60000."""
    if value is None:
        return DEFAULT_RECV_WINDOW_MS * 1000
    match = _RECV_RE.fullmatch(value)
    if not match:
        raise errors.illegal_chars("recvWindow", DECIMAL_RANGE)
    frac = match.group(2) or ""
    if len(frac.rstrip("0")) > 3:
        raise errors.bad_precision("recvWindow")
    window = Decimal(value)
    if window > MAX_RECV_WINDOW_MS:
        raise errors.bad_recv_window()
    return int(window * 1000)


def check_time_window(params: Params, now_ms: int) -> None:
    """-1102/-1100/-1111/-1131 for bad ``timestamp``/``recvWindow``, -1021 outside the window."""
    ts_raw = params.get("timestamp")
    if not ts_raw:
        raise errors.mandatory("timestamp")
    ts_us = _parse_timestamp_us(ts_raw)
    window_us = _parse_recv_window_us(params.get("recvWindow"))
    now_us = now_ms * 1000
    if ts_us >= now_us + FUTURE_TOLERANCE_US:
        raise errors.timestamp_ahead()
    if now_us - ts_us > window_us:
        raise errors.timestamp_outside()


class KeyStore:
    """Every API key the mock knows, by key string."""

    def __init__(self) -> None:
        self._keys: dict[str, ApiKey] = {}

    def _add(self, key: ApiKey) -> ApiKey:
        if key.api_key in self._keys:
            raise ValueError(f"API key {key.api_key!r} exists")
        if not _well_formed(key.api_key):
            raise ValueError(f"API key {key.api_key!r} is not 1-256 printable ASCII characters")
        self._keys[key.api_key] = key
        return key

    def add_hmac(
        self, api_key: str, secret: str, account_id: str, can_trade: bool = True, can_read: bool = True
    ) -> ApiKey:
        return self._add(ApiKey(api_key, account_id, HMAC, secret, None, can_trade, can_read))

    def add_ed25519(
        self,
        api_key: str,
        public_key: str | bytes | Ed25519PublicKey,
        account_id: str,
        can_trade: bool = True,
        can_read: bool = True,
    ) -> ApiKey:
        pub = load_ed25519_public_key(public_key)
        return self._add(ApiKey(api_key, account_id, ED25519, "", pub, can_trade, can_read))

    def add_rsa(
        self,
        api_key: str,
        public_key_pem: str | bytes | RSAPublicKey,
        account_id: str,
        can_trade: bool = True,
        can_read: bool = True,
    ) -> ApiKey:
        pub = load_rsa_public_key(public_key_pem)
        return self._add(ApiKey(api_key, account_id, RSA, "", pub, can_trade, can_read))

    def generate_hmac(
        self, account_id: str, rng: random.Random, can_trade: bool = True, can_read: bool = True
    ) -> ApiKey:
        """A new HMAC key: 64-character alphanumeric key and secret drawn from ``rng``."""
        while True:
            api_key = "".join(rng.choice(_KEY_ALPHABET) for _ in range(64))
            secret = "".join(rng.choice(_KEY_ALPHABET) for _ in range(64))
            if api_key not in self._keys:
                return self.add_hmac(api_key, secret, account_id, can_trade, can_read)

    def get(self, api_key: str) -> ApiKey | None:
        return self._keys.get(api_key)

    def remove(self, api_key: str) -> None:
        self._keys.pop(api_key, None)

    def keys_of(self, account_id: str) -> list[ApiKey]:
        return [k for k in self._keys.values() if k.account_id == account_id]

    def __len__(self) -> int:
        return len(self._keys)

    # --- checks -----------------------------------------------------------------------------

    def require(self, api_key: str | None, *, need_trade: bool = False) -> ApiKey:
        """The key-only check (USER_STREAM / MARKET_DATA): -2014 missing/malformed, -2015 unknown."""
        if api_key is None or not _well_formed(api_key):
            raise errors.bad_key_format()
        key = self._keys.get(api_key)
        if key is None:
            raise errors.rejected_key()
        if (need_trade and not key.can_trade) or not key.can_read:
            raise errors.rejected_key()
        return key

    def verify_rest(
        self, params: Params, api_key_header: str | None, now_ms: int, *, need_trade: bool
    ) -> ApiKey:
        """A SIGNED REST request: key, presence of timestamp/signature, window, signature."""
        key = self.require(api_key_header, need_trade=need_trade)
        _check_signed(key, params, now_ms)
        return key

    def verify_ws(
        self,
        params: Mapping[str, object] | Params,
        now_ms: int,
        *,
        need_trade: bool,
        session_key: ApiKey | None = None,
    ) -> ApiKey:
        """A SIGNED WebSocket-API request (``apiKey``, ``timestamp``, ``signature`` in params).

        With ``session_key`` (after ``session.logon``) a request without ``signature`` is
        accepted on the session's key once its timestamp passes the window check.
        """
        p = params if isinstance(params, Params) else Params.from_dict(params)
        if session_key is not None and not p.has("signature"):
            key = self.require(session_key.api_key, need_trade=need_trade)
            check_time_window(p, now_ms)
            return key
        api_key = p.get("apiKey")
        if not api_key:
            raise errors.mandatory("apiKey")
        key = self.require(api_key, need_trade=need_trade)
        _check_signed(key, p, now_ms)
        return key


def _check_signed(key: ApiKey, params: Params, now_ms: int) -> None:
    if not params.get("timestamp"):
        raise errors.mandatory("timestamp")
    signature = params.signature()
    if not signature:
        raise errors.mandatory("signature")
    check_time_window(params, now_ms)
    if not key.verify(params.signature_payload(), signature):
        raise errors.invalid_signature()


def verify_rest(
    store: KeyStore, params: Params, api_key_header: str | None, now_ms: int, *, need_trade: bool
) -> ApiKey:
    """Module-level form of ``KeyStore.verify_rest``."""
    return store.verify_rest(params, api_key_header, now_ms, need_trade=need_trade)


def verify_ws(
    store: KeyStore,
    params: Mapping[str, object] | Params,
    now_ms: int,
    *,
    need_trade: bool,
    session_key: ApiKey | None = None,
) -> ApiKey:
    """Module-level form of ``KeyStore.verify_ws``."""
    return store.verify_ws(params, now_ms, need_trade=need_trade, session_key=session_key)


def ws_signature_payload(params: Mapping[str, object]) -> bytes:
    """The bytes a WebSocket-API client signs: params but ``signature``, sorted, ``k=v&...``."""
    return Params.from_dict(params).signature_payload()


def sign_hmac(secret: str, payload: bytes | str) -> str:
    """Lowercase hex HMAC-SHA256 (what clients send); used by tests and the control plane."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    return hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest()


__all__ = [
    "ED25519",
    "HMAC",
    "RSA",
    "ApiKey",
    "BinanceError",
    "KeyStore",
    "check_time_window",
    "sign_hmac",
    "verify_rest",
    "verify_ws",
    "ws_signature_payload",
]
