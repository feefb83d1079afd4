"""Request signing for the venue's SIGNED endpoints (binance-spot-api.md §3).

REST signs the exact percent-encoded query string (plus body) that goes on the wire, so the
caller builds the string once and signs those bytes. The WebSocket API signs differently: all
params (``apiKey`` included) sorted by name, joined as ``k=v`` with no percent-encoding.
HMAC-SHA256 gives lowercase hex; Ed25519 gives base64 (percent-encoded when put in a URL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connector.config import VenueConfig

HMAC_SHA256 = "HMAC_SHA256"
ED25519 = "ED25519"
API_KEY_HEADER = "X-MBX-APIKEY"


class AuthError(ValueError):
    """Credentials missing or unusable (e.g. a PEM that is not an Ed25519 private key)."""


def _load_ed25519(pem: str | bytes) -> Ed25519PrivateKey:
    data = pem.encode("ascii") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise AuthError(f"cannot load the Ed25519 private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise AuthError("private_key_pem is not an Ed25519 private key")
    return key


def _ws_value(value: Any) -> str:
    """A WS-API param as the server sees it in the JSON (booleans lowercase)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Auth:
    """Signs requests with one API key and either an HMAC secret or an Ed25519 private key.

    An Ed25519 key wins when both are given (the venue recommends it; HMAC is deprecated there).
    """

    def __init__(self, api_key: str, api_secret: str | None = None,
                 private_key_pem: str | bytes | None = None) -> None:
        if not api_key:
            raise AuthError("an API key is required")
        self.api_key = api_key
        self._secret = api_secret.encode("utf-8") if api_secret else None
        self._ed25519 = _load_ed25519(private_key_pem) if private_key_pem else None
        if self._secret is None and self._ed25519 is None:
            raise AuthError("an API secret (HMAC) or an Ed25519 private key is required")

    @classmethod
    def from_config(cls, config: VenueConfig) -> Auth | None:
        """The config's credentials, or None for a read-only (public data) connector."""
        if not config.has_credentials or config.api_key is None:
            return None
        return cls(config.api_key, config.api_secret, config.private_key_pem)

    @property
    def key_type(self) -> str:
        return ED25519 if self._ed25519 is not None else HMAC_SHA256

    def sign(self, payload: str) -> str:
        """The raw signature of ``payload``: lowercase hex (HMAC) or base64 (Ed25519)."""
        data = payload.encode("utf-8")
        if self._ed25519 is not None:
            return base64.b64encode(self._ed25519.sign(data)).decode("ascii")
        assert self._secret is not None
        return hmac.new(self._secret, data, hashlib.sha256).hexdigest()

    def rest_signature(self, query: str, body: str = "") -> str:
        """The ``signature`` value for a REST request whose wire query string and form body
        (both already percent-encoded, without the signature) are ``query`` and ``body``.
        Returned percent-encoded, ready to append as ``&signature=...``."""
        return quote(self.sign(query + body), safe="")

    def headers(self) -> dict[str, str]:
        """Headers every authenticated REST request carries."""
        return {API_KEY_HEADER: self.api_key}

    @staticmethod
    def ws_payload(params: Mapping[str, Any]) -> str:
        """The WS-API signature payload: params except ``signature``, sorted by name, unencoded."""
        return "&".join(f"{k}={_ws_value(params[k])}" for k in sorted(params) if k != "signature")

    def sign_ws_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` plus ``apiKey`` and ``signature`` for a SIGNED WS-API request (the caller
        supplies ``timestamp`` and, if wanted, ``recvWindow``)."""
        out = {k: v for k, v in params.items() if k != "signature"}
        out["apiKey"] = self.api_key
        out["signature"] = self.sign(self.ws_payload(out))
        return out
