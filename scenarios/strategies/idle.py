"""Idle: places nothing. For fault scenarios that only watch the connector (book resyncs, user
stream recovery); the host runs no tick loop for it."""

from __future__ import annotations

from typing import ClassVar

from scenarios.strategies.base import Strategy
from scenarios.strategies.params import Param


class IdleStrategy(Strategy):
    """Built-in ``idle``."""

    name: ClassVar[str] = "idle"
    PARAMS: ClassVar[dict[str, Param]] = {}
