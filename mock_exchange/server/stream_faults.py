"""The market-stream side of the fault plan (``faults.py``): stalls, drops, shutdowns.

``hold_stalled`` is called by ``StreamHub.flush`` only while a ``stall_streams`` fault is
active; ``StreamConnections`` is the ``ConnectionSet`` the stream module attaches to the plan
so ``drop_streams`` and ``server_shutdown`` reach ``/ws`` and ``/stream`` connections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mock_exchange.server.faults import targets_of

if TYPE_CHECKING:
    from mock_exchange.server.stream_hub import Conn, StreamHub
    from mock_exchange.server.streams import Session


def conn_sides(conn: Conn) -> tuple[bool, bool]:
    """(market?, user?): a connection carrying a listenKey stream is a user stream; one carrying
    market streams (or nothing yet) is a market stream; it may be both."""
    market = user = False
    for target in conn.names.values():
        if callable(target):  # a listenKey stream's detach function (market streams are Channels)
            user = True
        else:
            market = True
    return market or not user, user


def matches(conn: Conn, target: str) -> bool:
    want_market, want_user = targets_of(target)
    market, user = conn_sides(conn)
    return (want_market and market) or (want_user and user)


def hold_stalled(hub: StreamHub, dirty: list[Conn]) -> list[Conn]:
    """Move stalled connections to ``hub.stalled`` (their frames stay queued), arrange a wake-up
    when the first stall ends, and return the connections to write now."""
    loop = hub.loop
    if loop is None:
        return dirty
    now = loop.time()
    market = hub.faults.stall_left("market", now)
    user = hub.faults.stall_left("user", now)
    if not market and not user:
        return dirty
    go: list[Conn] = []
    wake = 0.0
    for c in dirty:
        is_market, is_user = conn_sides(c)
        left = max(market if is_market else 0.0, user if is_user else 0.0)
        if not left or c.closed:
            go.append(c)
        elif c.out_size > hub.max_pending:
            hub.dropped_slow += 1
            hub.abort(c)  # a stall does not lift the memory bound
        else:
            hub.stalled.append(c)
            wake = left if not wake else min(wake, left)
    if wake:
        hub.wake_after_stall(wake)
    return go


class StreamConnections:
    """``/ws`` and ``/stream`` connections as the fault plan's connection actions see them."""

    def __init__(self, hub: StreamHub, sessions: set[Session]) -> None:
        self.hub = hub
        self.sessions = sessions

    def _matching(self, target: str) -> list[Session]:
        return [s for s in list(self.sessions) if not s.conn.closed and matches(s.conn, target)]

    def drop(self, target: str) -> int:
        found = self._matching(target)
        for s in found:
            self.hub.abort(s.conn)
        return len(found)

    def shutdown(self, target: str) -> int:
        found = [s for s in self._matching(target) if s.close_task is None]
        self.hub.announce_shutdown([s.conn for s in found])
        for s in found:
            s.request_close(1001, "")
        return len(found)

    def terminate_user_streams(self, account: str | None, now: int) -> int:
        return 0  # eventStreamTerminated is a WebSocket-API event; listenKey streams have none

    def resume(self) -> None:
        self.hub.resume_stalled()
