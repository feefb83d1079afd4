"""How a REST endpoint is declared: path, method, weight, security, and a plain handler.

Handlers are synchronous functions of a ``Ctx`` returning JSON-ready data (or a ``Reply`` when
the status is not 200). The shell in ``app`` does parsing, limits, auth and serialisation, so
handlers read like the venue's documentation and can be reused by the WebSocket API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mock_exchange.server.auth import ApiKey
from mock_exchange.server.params import Params
from mock_exchange.server.state import ExchangeState

NONE = "NONE"
USER_DATA = "USER_DATA"
TRADE = "TRADE"
USER_STREAM = "USER_STREAM"


@dataclass(slots=True)
class Reply:
    """A non-200 answer with a JSON body (e.g. cancelReplace's 409 partial success)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Ctx:
    state: ExchangeState
    params: Params
    now: int
    ip: str
    key: ApiKey | None = None
    placed_order: bool = False  # set by order handlers that created an order (order-count headers)

    @property
    def account_id(self) -> str:
        assert self.key is not None
        return self.key.account_id


Handler = Callable[[Ctx], Any]
Weight = int | Callable[[Params], int]


@dataclass(slots=True, frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    weight: Weight
    security: str = NONE
    counts_order: bool = False  # checks and charges the ORDERS limits

    def weight_for(self, params: Params) -> int:
        if callable(self.weight):
            try:
                return self.weight(params)
            except Exception:  # a malformed parameter is reported by the handler, not here
                return 1
        return self.weight


class Registry:
    """Collects endpoints declared with ``@reg.route(...)`` in each routes module."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        weight: Weight,
        security: str = NONE,
        counts_order: bool = False,
    ) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.endpoints.append(Endpoint(method, path, fn, weight, security, counts_order))
            return fn

        return deco
