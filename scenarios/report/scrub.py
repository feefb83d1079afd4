"""Secret scrubbing for everything a run writes to disk.

The runner already scrubs what it journals; this is the second line of defence, so a run
folder can be attached to a bug report without leaking keys. Values under secret-looking keys
are masked (the key stays, so the message's shape is still readable), and every value that
was masked is also blanked wherever else it appears in a string (a listenKey inside a stream
path, an API key echoed in an error text, a signature in a query string).
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
SECRET_KEYS = frozenset({
    "signature", "apikey", "api_key", "x-mbx-apikey", "secret", "secretkey", "secret_key", "apisecret",
    "api_secret", "listenkey", "listen_key", "privatekey", "private_key", "password", "authorization",
})  # fmt: skip
_QUERY = re.compile(
    r"(?i)\b(signature|apiKey|listenKey|secret|secretKey|X-MBX-APIKEY)=([^&\s\"']+)"
)
_HINT = re.compile(
    rb'(?i)"(' + "|".join(re.escape(k) for k in sorted(SECRET_KEYS)).encode() + rb')"\s*:'
    rb"|\b(signature|apiKey|listenKey|secret|secretKey|X-MBX-APIKEY)="
)
_WORDS = (b"signature", b"apikey", b"api_key", b"secret", b"listenkey", b"listen_key", b"private", b"password",
          b"authorization")
_MIN_SECRET = 8  # shorter values are too likely to be ordinary words to blank everywhere


def may_hold_secrets(encoded: bytes) -> bool:
    """A cheap test on serialised JSON: only data that passes it is walked by ``scrub``
    (journals run to hundreds of thousands of lines, most of them without a secret)."""
    lowered = encoded.lower()
    if not any(word in lowered for word in _WORDS):  # substring tests are far cheaper than the regex
        return False
    return _HINT.search(encoded) is not None


def is_secret_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() in SECRET_KEYS


def collect_secrets(value: Any, found: set[str]) -> None:
    """Every string value held under a secret key, anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key) and isinstance(item, str) and len(item) >= _MIN_SECRET:
                found.add(item)
            collect_secrets(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            collect_secrets(item, found)
    elif isinstance(value, str):
        found.update(m.group(2) for m in _QUERY.finditer(value) if len(m.group(2)) >= _MIN_SECRET)


def scrub(value: Any, secrets: frozenset[str] | set[str] = frozenset()) -> Any:
    """A copy of ``value`` with secret keys masked and known secret strings blanked."""
    if isinstance(value, dict):
        return {k: (MASK if is_secret_key(k) and v is not None else scrub(v, secrets)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item, secrets) for item in value]
    if isinstance(value, str):
        text = _QUERY.sub(lambda m: f"{m.group(1)}={MASK}", value)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text
    return value
