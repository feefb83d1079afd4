"""User data streams: executionReport & co. per account, delivered over the WebSocket API
(``userDataStream.subscribe[.signature]``) and the legacy listenKey flow. (Being built.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Sink = Callable[[dict[str, Any]], None]
"""Receives one user-data event payload (the bare event object, e.g. an executionReport)."""


class UserDataHub:
    """Routes engine events to the user-data subscribers of each account."""

    def is_listen_key(self, name: str) -> bool:
        """True when ``name`` is a live listenKey (so ``/ws/<name>`` is a user stream)."""
        return False

    def attach_listen_key(self, listen_key: str, sink: Sink) -> Callable[[], None]:
        """Deliver the listenKey's account events to ``sink``; returns a detach function."""
        raise KeyError(listen_key)
