"""Legacy listenKey endpoints (USER_STREAM: API key header, no signature) and the user-data plumbing.

``POST/PUT/DELETE /api/v3/userDataStream`` were retired in production on 2026-02-20 but older
clients still use them, so they are served while ``config.listen_key`` is on (the default).
With it off, the three paths answer as production does today: HTTP 410 with nginx's HTML page.

``install_user_data(app)`` wires what the user data needs at run time: the state listener that
feeds ``UserDataHub.dispatch`` and the task that expires listenKeys (``listenKeyExpired``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mock_exchange.server import errors
from mock_exchange.server.app import STATE
from mock_exchange.server.endpoint import USER_STREAM, Ctx, Registry
from mock_exchange.server.user_data import hub_of, make_listener

reg = Registry()
PATH = "/api/v3/userDataStream"

GONE_HTML = (
    "<html>\r\n<head><title>410 Gone</title></head>\r\n<body>\r\n"
    "<center><h1>410 Gone</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_SWEEP_MAX_S = 1.0


@reg.route("POST", PATH, 2, USER_STREAM)
def start_user_stream(ctx: Ctx) -> Any:
    """A new listenKey, or the account's live one extended by the TTL."""
    return {"listenKey": hub_of(ctx.state).create_listen_key(ctx.account_id, ctx.now)}


@reg.route("PUT", PATH, 2, USER_STREAM)
def keepalive_user_stream(ctx: Ctx) -> Any:
    key = ctx.params.req("listenKey")
    if not hub_of(ctx.state).keepalive(key, ctx.account_id, ctx.now):
        raise errors.listen_key_missing()
    return {}


@reg.route("DELETE", PATH, 2, USER_STREAM)
def close_user_stream(ctx: Ctx) -> Any:
    key = ctx.params.req("listenKey")
    if not hub_of(ctx.state).close_listen_key(key, ctx.account_id, ctx.now):
        raise errors.listen_key_missing()
    return {}


@web.middleware
async def retired_when_disabled(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """``--listen-key off``: the listenKey paths are gone, as on production since 2026-02-20."""
    if request.path in (PATH, PATH + "/") and not request.app[STATE].config.listen_key:
        return web.Response(status=410, text=GONE_HTML, content_type="text/html")
    return await handler(request)


async def _expire_listen_keys(app: web.Application) -> None:
    """Expire listenKeys on time: sleep until the earliest expiry (re-checked at least every second)."""
    state = app[STATE]
    while True:
        hub = hub_of(state)
        now = state.clock()
        hub.expire(now)
        nxt = hub.next_expiry()
        wait = _SWEEP_MAX_S if nxt is None else min(_SWEEP_MAX_S, max(0.005, (nxt - now) / 1000))
        await asyncio.sleep(wait)


_SWEEPER: web.AppKey[list[asyncio.Task[None]]] = web.AppKey("user_data_sweeper", list)
_LISTENER: web.AppKey[list[Callable[..., None]]] = web.AppKey("user_data_listener", list)


async def _on_startup(app: web.Application) -> None:
    state = app[STATE]
    listener = make_listener(state)
    state.listeners.append(listener)
    app[_LISTENER].append(listener)
    app[_SWEEPER].append(asyncio.get_running_loop().create_task(_expire_listen_keys(app)))


async def _on_cleanup(app: web.Application) -> None:
    for task in app[_SWEEPER]:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    state = app[STATE]
    for listener in app[_LISTENER]:
        if listener in state.listeners:
            state.listeners.remove(listener)


def install_user_data(app: web.Application) -> None:
    """Register the user-data listener, the listenKey expiry task and the ``listen_key`` switch."""
    app[_SWEEPER] = []
    app[_LISTENER] = []
    app.middlewares.append(retired_when_disabled)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
