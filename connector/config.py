"""Venue configuration: the only thing that differs between live, testnet, demo and a local mock.

The connector never branches on which venue it talks to; it reads URLs, credentials and the clock from
a VenueConfig. Hosts follow the venue's documentation (binance-spot-api.md §1).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit, urlunsplit

from connector.clock import Clock, WallClock

LIVE_REST_URL = "https://api.binance.com"
LIVE_STREAM_URL = "wss://stream.binance.com:9443"
LIVE_WS_API_URL = "wss://ws-api.binance.com:443/ws-api/v3"
TESTNET_REST_URL = "https://testnet.binance.vision"
TESTNET_STREAM_URL = "wss://stream.testnet.binance.vision"
TESTNET_WS_API_URL = "wss://ws-api.testnet.binance.vision/ws-api/v3"
DEMO_REST_URL = "https://demo-api.binance.com"
DEMO_STREAM_URL = "wss://demo-stream.binance.com"
DEMO_WS_API_URL = "wss://demo-ws-api.binance.com/ws-api/v3"


def _strip_slash(url: str) -> str:
    return url.rstrip("/")


@dataclass(frozen=True)
class VenueConfig:
    """Where and as whom the connector talks to a Binance-Spot-compatible venue.

    rest_url: REST host root (paths /api/v3/... appended). stream_url: market stream host root (paths
    /ws and /stream appended). ws_api_url: full WebSocket API endpoint (…/ws-api/v3).
    api_key/api_secret: HMAC-SHA256 credentials; private_key_pem: an Ed25519 private key (PEM) used
    instead of api_secret for signing when given.
    """

    rest_url: str
    stream_url: str
    ws_api_url: str
    api_key: str | None = None
    api_secret: str | None = field(default=None, repr=False)
    private_key_pem: str | None = field(default=None, repr=False)
    clock: Clock = field(default_factory=WallClock)
    recv_window_ms: int = 5000
    request_timeout_s: float = 10

    def __post_init__(self) -> None:
        object.__setattr__(self, "rest_url", _strip_slash(self.rest_url))
        object.__setattr__(self, "stream_url", _strip_slash(self.stream_url))
        object.__setattr__(self, "ws_api_url", _strip_slash(self.ws_api_url))

    @property
    def has_credentials(self) -> bool:
        """True when signed requests can be made (an API key plus a secret or an Ed25519 key)."""
        return bool(self.api_key) and bool(self.api_secret or self.private_key_pem)

    def with_credentials(
        self,
        api_key: str | None,
        api_secret: str | None = None,
        private_key_pem: str | None = None,
    ) -> VenueConfig:
        """A copy with other credentials (same venue)."""
        return replace(self, api_key=api_key, api_secret=api_secret, private_key_pem=private_key_pem)

    @classmethod
    def _preset(
        cls,
        urls: tuple[str, str, str],
        api_key: str | None,
        api_secret: str | None,
        private_key_pem: str | None,
        clock: Clock | None,
        recv_window_ms: int,
        request_timeout_s: float,
    ) -> VenueConfig:
        """One of the venue's published URL sets with the caller's credentials and clock."""
        rest, stream, ws_api = urls
        return cls(
            rest, stream, ws_api, api_key, api_secret, private_key_pem,
            clock if clock is not None else WallClock(), recv_window_ms, request_timeout_s,
        )

    @classmethod
    def live(
        cls,
        api_key: str | None = None,
        api_secret: str | None = None,
        private_key_pem: str | None = None,
        clock: Clock | None = None,
        recv_window_ms: int = 5000,
        request_timeout_s: float = 10,
    ) -> VenueConfig:
        """Production Binance Spot."""
        return cls._preset(
            (LIVE_REST_URL, LIVE_STREAM_URL, LIVE_WS_API_URL), api_key, api_secret, private_key_pem, clock,
            recv_window_ms, request_timeout_s,
        )

    @classmethod
    def testnet(
        cls,
        api_key: str | None = None,
        api_secret: str | None = None,
        private_key_pem: str | None = None,
        clock: Clock | None = None,
        recv_window_ms: int = 5000,
        request_timeout_s: float = 10,
    ) -> VenueConfig:
        """The Spot testnet (testnet.binance.vision)."""
        return cls._preset(
            (TESTNET_REST_URL, TESTNET_STREAM_URL, TESTNET_WS_API_URL), api_key, api_secret, private_key_pem, clock,
            recv_window_ms, request_timeout_s,
        )

    @classmethod
    def demo(
        cls,
        api_key: str | None = None,
        api_secret: str | None = None,
        private_key_pem: str | None = None,
        clock: Clock | None = None,
        recv_window_ms: int = 5000,
        request_timeout_s: float = 10,
    ) -> VenueConfig:
        """Demo mode (demo-api.binance.com)."""
        return cls._preset(
            (DEMO_REST_URL, DEMO_STREAM_URL, DEMO_WS_API_URL), api_key, api_secret, private_key_pem, clock,
            recv_window_ms, request_timeout_s,
        )

    @classmethod
    def custom(
        cls,
        base_http: str,
        base_ws: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        private_key_pem: str | None = None,
        clock: Clock | None = None,
        recv_window_ms: int = 5000,
        request_timeout_s: float = 10,
        ws_api_url: str | None = None,
    ) -> VenueConfig:
        """A venue serving REST at base_http and streams at base_ws (default: base_http with ws scheme).

        custom("http://127.0.0.1:8080") gives stream_url "ws://127.0.0.1:8080" and ws_api_url
        "ws://127.0.0.1:8080/ws-api/v3" (a single-port server serving everything).
        """
        rest = _strip_slash(base_http)
        if base_ws is None:
            parts = urlsplit(rest)
            scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
            base_ws = urlunsplit((scheme, parts.netloc, parts.path, "", ""))
        stream = _strip_slash(base_ws)
        return cls(
            rest, stream, ws_api_url if ws_api_url is not None else stream + "/ws-api/v3", api_key,
            api_secret, private_key_pem, clock if clock is not None else WallClock(), recv_window_ms,
            request_timeout_s,
        )
