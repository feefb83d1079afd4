"""WebSocket market streams: ``/ws``, ``/ws/<streams>``, ``/stream?streams=`` (being built)."""

from __future__ import annotations

from aiohttp import web


def add_routes(app: web.Application) -> None:
    """Register the stream endpoints and their background tasks on ``app``."""
