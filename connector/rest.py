"""The REST client: every request goes through the throttler, SIGNED ones through Auth and the
time synchronizer, and every failure comes out as one of three exceptions a caller can act on.

* ``BinanceAPIError(code, msg, status)``: the venue answered with an error. ``outcome_unknown``
  is true for 5xx and the "execution status unknown" codes (-1006, -1007): the request may
  have been executed, so an order must be looked up, not assumed failed.
* ``BinanceRequestTimeout``: no answer within ``config.request_timeout_s`` (outcome unknown).
* ``BinanceNetworkError``: the connection failed (outcome unknown unless nothing was sent).

-1021 (timestamp outside recvWindow) triggers one server-time resync and one retry; a 429/418
pauses the throttler for ``Retry-After`` and, when that is short, the request is retried once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import aiohttp
import yarl

from connector.auth import Auth, AuthError
from connector.config import VenueConfig
from connector.throttler import Throttler
from connector.time_sync import TimeSynchronizer

log = logging.getLogger(__name__)

UNKNOWN_OUTCOME_CODES = frozenset({-1006, -1007})
INVALID_TIMESTAMP = -1021


class BinanceAPIError(Exception):
    """An error answer from the venue: its code (None when the body had none), message and HTTP status."""

    def __init__(self, code: int | None, msg: str, status: int, retry_after_s: float | None = None) -> None:
        super().__init__(f"HTTP {status} {code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.retry_after_s = retry_after_s

    @property
    def outcome_unknown(self) -> bool:
        """The venue may have executed the request (5xx, -1006, -1007)."""
        return self.status >= 500 or self.code in UNKNOWN_OUTCOME_CODES

    @property
    def rate_limited(self) -> bool:
        return self.status in (418, 429)


class BinanceRequestTimeout(Exception):
    """No answer within the client timeout; the request may or may not have been executed."""

    def __init__(self, method: str, path: str, timeout_s: float) -> None:
        super().__init__(f"{method} {path}: no answer within {timeout_s} s")
        self.method = method
        self.path = path
        self.timeout_s = timeout_s


class BinanceNetworkError(Exception):
    """The HTTP exchange failed below the API (connection refused/reset, bad response)."""


def param_str(value: Any) -> str:
    """A parameter as the venue expects it: plain decimals (never exponents), lowercase booleans,
    compact JSON arrays."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return json.dumps(list(value), separators=(",", ":"))
    return str(value)


def encode_params(params: Mapping[str, Any] | None) -> str:
    """The percent-encoded ``k=v&...`` string in insertion order (None values dropped)."""
    if not params:
        return ""
    return urlencode([(k, param_str(v)) for k, v in params.items() if v is not None])


class RestClient:
    """One aiohttp session to ``config.rest_url``."""

    def __init__(self, config: VenueConfig, *, auth: Auth | None = None, throttler: Throttler | None = None,
                 time_sync: TimeSynchronizer | None = None, max_retry_after_s: float = 10.0) -> None:
        self.config = config
        self.auth = auth if auth is not None else Auth.from_config(config)
        self.throttler = throttler if throttler is not None else Throttler(config.clock)
        self.time_sync = time_sync if time_sync is not None else TimeSynchronizer(config.clock)
        self.time_sync.set_fetcher(self.server_time)
        self.max_retry_after_s = max_retry_after_s
        self._session: aiohttp.ClientSession | None = None
        self.requests_sent = 0

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.config.request_timeout_s)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- public helpers -------------------------------------------------------------------------

    async def server_time(self) -> int:
        body = await self.request("GET", "/api/v3/time")
        return int(body["serverTime"])

    async def exchange_info(self) -> dict[str, Any]:
        body = await self.request("GET", "/api/v3/exchangeInfo")
        assert isinstance(body, dict)
        return body

    async def get(self, path: str, params: Mapping[str, Any] | None = None, *, signed: bool = False) -> Any:
        return await self.request("GET", path, params, signed=signed)

    async def post(self, path: str, params: Mapping[str, Any] | None = None, *, signed: bool = False) -> Any:
        return await self.request("POST", path, params, signed=signed)

    async def delete(self, path: str, params: Mapping[str, Any] | None = None, *, signed: bool = False) -> Any:
        return await self.request("DELETE", path, params, signed=signed)

    # --- the request pipeline -------------------------------------------------------------------

    async def request(self, method: str, path: str, params: Mapping[str, Any] | None = None, *,
                      signed: bool = False, retry_rate_limited: bool = True) -> Any:
        """Send one request; returns the decoded JSON body or raises one of this module's errors."""
        method = method.upper()
        resynced = rate_retried = False
        while True:
            try:
                return await self._send(method, path, params, signed)
            except BinanceAPIError as err:
                if signed and err.code == INVALID_TIMESTAMP and not resynced:
                    resynced = True
                    log.info("%s %s: -1021, resynchronising the server time and retrying", method, path)
                    await self.time_sync.update()
                    continue
                if (err.rate_limited and retry_rate_limited and not rate_retried
                        and (err.retry_after_s or 0.0) <= self.max_retry_after_s):
                    rate_retried = True  # the throttler now holds us until Retry-After has passed
                    continue
                raise

    async def _send(self, method: str, path: str, params: Mapping[str, Any] | None, signed: bool) -> Any:
        plain = {k: param_str(v) for k, v in (params or {}).items() if v is not None}
        await self.throttler.acquire(method, path, plain)
        headers: dict[str, str] = {}
        if signed:
            if self.auth is None:
                raise AuthError("this request is SIGNED: the VenueConfig needs api_key and a secret or private key")
            await self.time_sync.ensure_synced()
            plain["recvWindow"] = str(self.config.recv_window_ms)
            plain["timestamp"] = str(self.time_sync.server_time_ms())
            headers.update(self.auth.headers())
        encoded = urlencode(list(plain.items()))
        in_body = method in ("POST", "PUT") and bool(encoded)
        if signed:
            assert self.auth is not None
            encoded = f"{encoded}&signature={self.auth.rest_signature(encoded)}"
        url = f"{self.config.rest_url}{path}"
        data: bytes | None = None
        if in_body:
            data = encoded.encode("ascii")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif encoded:
            url = f"{url}?{encoded}"
        self.requests_sent += 1
        try:
            async with self.session.request(method, yarl.URL(url, encoded=True), data=data, headers=headers) as resp:
                raw = await resp.read()
                status = resp.status
                resp_headers = {k: v for k, v in resp.headers.items()}
        except TimeoutError as exc:
            raise BinanceRequestTimeout(method, path, self.config.request_timeout_s) from exc
        except aiohttp.ClientError as exc:
            raise BinanceNetworkError(f"{method} {path}: {exc!r}") from exc
        self.throttler.record_response(status, resp_headers)
        return self._decode(status, resp_headers, raw)

    @staticmethod
    def _decode(status: int, headers: Mapping[str, str], raw: bytes) -> Any:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            if status < 400:
                raise BinanceAPIError(None, f"unexpected non-JSON answer: {raw[:200]!r}", status) from None
        if status < 400:
            return body
        retry_after: float | None = None
        for k, v in headers.items():
            if k.lower() == "retry-after":
                try:
                    retry_after = float(v)
                except ValueError:
                    retry_after = None
        if isinstance(body, dict) and "code" in body:
            return_code = body.get("code")
            code = return_code if isinstance(return_code, int) else None
            raise BinanceAPIError(code, str(body.get("msg", "")), status, retry_after)
        text = raw[:200].decode("utf-8", "replace") if raw else ""
        raise BinanceAPIError(None, text or f"HTTP {status}", status, retry_after)
