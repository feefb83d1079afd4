"""The offset between the venue's clock and ours, for the ``timestamp`` of SIGNED requests.

The venue rejects a request whose timestamp is more than 1000 ms ahead of its clock or older
than ``recvWindow`` (-1021), so the connector stamps requests with *server* time: our clock
(config.clock) plus the offset measured from ``GET /api/v3/time``, taking the round trip's
midpoint as the moment the server read its clock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from connector.clock import Clock

log = logging.getLogger(__name__)

FetchServerTime = Callable[[], Awaitable[int]]


class TimeSynchronizer:
    """Holds the server-minus-local offset (ms); ``update`` measures it again."""

    def __init__(self, clock: Clock, fetch_server_time: FetchServerTime | None = None) -> None:
        self.clock = clock
        self._fetch = fetch_server_time
        self.offset_ms = 0
        self.synced = False
        self.sync_count = 0
        self.last_round_trip_ms = 0

    def set_fetcher(self, fetch_server_time: FetchServerTime) -> None:
        self._fetch = fetch_server_time

    def server_time_ms(self) -> int:
        """Our best estimate of the venue's clock now."""
        return self.clock.now_ms() + self.offset_ms

    def record(self, server_time_ms: int, sent_ms: int, received_ms: int) -> None:
        """Take one measurement: the server read ``server_time_ms`` between our two readings."""
        midpoint = (sent_ms + received_ms) // 2
        self.offset_ms = server_time_ms - midpoint
        self.last_round_trip_ms = max(0, received_ms - sent_ms)
        self.synced = True
        self.sync_count += 1

    async def update(self) -> int:
        """Measure the offset again (one round trip); returns the new offset in ms."""
        if self._fetch is None:
            raise RuntimeError("TimeSynchronizer has no server-time fetcher")
        sent = self.clock.now_ms()
        server = await self._fetch()
        self.record(server, sent, self.clock.now_ms())
        log.debug("server time offset %d ms (round trip %d ms)", self.offset_ms, self.last_round_trip_ms)
        return self.offset_ms

    async def ensure_synced(self) -> None:
        """Measure once if never measured."""
        if not self.synced:
            await self.update()
