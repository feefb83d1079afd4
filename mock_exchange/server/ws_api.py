"""The WebSocket API at ``/ws-api/v3`` (being built)."""

from __future__ import annotations

from aiohttp import web


def add_routes(app: web.Application) -> None:
    """Register ``/ws-api/v3`` on ``app``."""
