"""The aiohttp shell: request bytes in, the venue's JSON and headers out.

Order of work for every Binance endpoint mirrors the venue: parse parameters, charge request
weight (429/418 before anything else), authenticate, run the handler, publish engine events,
attach the used-weight (and, for placed orders, order-count) headers. Request faults
(``state.faults``, DESIGN D6) hook in at the start (reject), after publishing (replace the
answer) and before replying (delay).
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from mock_exchange.server import errors
from mock_exchange.server.auth import verify_rest
from mock_exchange.server.endpoint import NONE, TRADE, USER_STREAM, Ctx, Endpoint, Reply
from mock_exchange.server.errors import BinanceError
from mock_exchange.server.params import Params
from mock_exchange.server.state import ExchangeState

log = logging.getLogger("mockex.server")

STATE: web.AppKey[ExchangeState] = web.AppKey("state", ExchangeState)
UUIDS: web.AppKey[random.Random] = web.AppKey("uuids", random.Random)

JSON_CT = "application/json;charset=UTF-8"
_TIME_KEYS = frozenset({"serverTime", "transactTime", "time", "updateTime", "closeTime", "openTime", "T"})
_UNKNOWN = {"code": -1000, "msg": "An unknown error occurred while processing the request."}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    resp = web.Response(body=orjson.dumps(body), status=status, headers=headers)
    resp.headers["Content-Type"] = JSON_CT
    return resp


def _to_micro(obj: Any) -> Any:
    """Rewrite millisecond time fields as microseconds (X-MBX-TIME-UNIT: MICROSECOND)."""
    if isinstance(obj, dict):
        return {
            k: (v * 1000 if k in _TIME_KEYS and isinstance(v, int) and v > 0 else _to_micro(v)) for k, v in obj.items()
        }
    if isinstance(obj, list):
        if len(obj) == 12 and isinstance(obj[0], int) and isinstance(obj[6], int):  # a kline row
            return [obj[0] * 1000, *obj[1:6], obj[6] * 1000, *obj[7:]]
        return [_to_micro(x) for x in obj]
    return obj


def _time_unit(request: web.Request) -> bool:
    unit = request.headers.get("X-MBX-TIME-UNIT")
    if unit is None or unit.upper() == "MILLISECOND":
        return False
    if unit.upper() == "MICROSECOND":
        return True
    raise errors.invalid_time_unit()


def _make_handler(ep: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        state = request.app[STATE]
        ip = request.remote or "127.0.0.1"
        headers: dict[str, str] = {"x-mbx-uuid": str(uuid.UUID(int=request.app[UUIDS].getrandbits(128)))}
        ctx: Ctx | None = None
        micro = False
        status = 200
        body: Any
        faults = state.faults
        hit = faults.on_request("rest", ep.method, ep.path) if faults.requests else None
        try:
            if hit is not None and hit.reject is not None:
                raise hit.reject  # a fault answers before anything is processed
            if hit is not None and hit.entry_delay_s > 0:
                await asyncio.sleep(hit.entry_delay_s)  # order-entry latency: processed later
            raw_query = request.raw_path.partition("?")[2]
            raw_body = b"" if ep.method == "GET" else await request.read()
            params = Params(raw_query, raw_body)
            state.limiter.charge_request(ip, ep.weight_for(params))
            micro = _time_unit(request)
            ctx = Ctx(state, params, state.clock(), ip)
            if ep.security == USER_STREAM:
                ctx.key = state.keys.require(request.headers.get("X-MBX-APIKEY"))
            elif ep.security != NONE:
                ctx.key = verify_rest(
                    state.keys,
                    params,
                    request.headers.get("X-MBX-APIKEY"),
                    ctx.now,
                    need_trade=ep.security == TRADE,
                )
            result = ep.handler(ctx)
            if isinstance(result, Reply):
                status, body = result.status, result.body
                headers.update(result.headers)
            else:
                body = result
        except BinanceError as err:
            status, body = err.http_status, err.body()
            headers.update(err.headers)
        except Exception:  # a bug: answer like the venue's internal error, never with a traceback
            log.exception("internal error on %s %s", request.method, request.path)
            status, body = 500, dict(_UNKNOWN)
        state.publish()
        headers.update(state.limiter.weight_headers(ip))
        if ctx is not None and ctx.placed_order and ctx.key is not None:
            headers.update(state.limiter.order_headers(ctx.key.account_id))
        if micro:
            body = _to_micro(body)
        if hit is not None:
            if hit.replace is not None:  # processed (state changed, events out), answered with the fault
                status, body = hit.replace.http_status, hit.replace.body()
                headers.update(hit.replace.headers)
            if hit.delay_s > 0:
                await asyncio.sleep(hit.delay_s)
        return json_response(body, status, headers)

    return handle


@web.middleware
async def venue_shaped_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Unknown paths and methods answer in the venue's JSON error shape, never aiohttp's HTML."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in (404, 405):
            return json_response(errors.not_found().body(), exc.status)
        raise
    except Exception:
        log.exception("internal error on %s %s", request.method, request.path)
        return json_response(dict(_UNKNOWN), 500)


@web.middleware
async def wire_journal(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Show REST requests and replies to the state's wire taps (scenario journals)."""
    taps = request.app[STATE].wire_taps
    if not taps or request.path.startswith("/_mock") or request.headers.get("Upgrade"):
        return await handler(request)
    body = (await request.text()) if request.can_read_body else ""
    req = {"method": request.method, "path": request.path, "query": request.query_string, "body": body}
    for tap in taps:
        tap("rest_request", req)
    response = await handler(request)
    reply: dict[str, Any] = {"method": request.method, "path": request.path, "status": response.status}
    if isinstance(response, web.Response) and response.body is not None:
        raw = response.body
        reply["body"] = raw.decode() if isinstance(raw, bytes | bytearray) else str(raw)
    weight = response.headers.get("X-MBX-USED-WEIGHT-1M")
    if weight is not None:
        reply["usedWeight1m"] = int(weight)
    for tap in taps:
        tap("rest_response", reply)
    return response


def build_app(state: ExchangeState | None = None) -> web.Application:
    """The full server: Binance REST under /api/v3 and the control plane under /_mock."""
    from mock_exchange.server import control, routes_account, routes_market, routes_trade, streams, ws_api

    app = web.Application(middlewares=[wire_journal, venue_shaped_errors], client_max_size=1024 * 1024)
    st = state or ExchangeState()
    app[STATE] = st
    app[UUIDS] = random.Random(st.config.seed + 7919)
    for reg in (routes_market.reg, routes_trade.reg, routes_account.reg, ws_api.userstream_reg):
        for ep in reg.endpoints:
            app.router.add_route(ep.method, ep.path, _make_handler(ep))
    control.add_routes(app)
    ws_api.add_routes(app)
    streams.add_routes(app)
    return app
