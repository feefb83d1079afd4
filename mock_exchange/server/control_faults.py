"""``/_mock/faults``: the control-plane face of ``state.faults`` (DESIGN D6, D8).

A thin wrapper over ``FaultPlan``: POST adds one fault (a JSON object) or several at once (an
array, all or nothing), GET shows the active faults, the log of applied faults and counters,
DELETE clears everything (or one active fault by id). Bad specs answer 400 ``{"error": ...}``
naming the key.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from mock_exchange.server.faults import Fault, FaultPlan, FaultSpecError

PATH = "/_mock/faults"


def _plan(request: web.Request) -> FaultPlan:
    from mock_exchange.server.app import STATE

    return request.app[STATE].faults


def _ok(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _described(plan: FaultPlan, fault: Fault) -> dict[str, Any]:
    return {**fault.json(), "active": fault in plan.active}


async def add_faults(request: web.Request) -> web.Response:
    plan = _plan(request)
    raw = await request.read()
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        return _ok({"error": f"body is not valid JSON: {exc}"}, 400)
    try:
        if isinstance(data, list):
            return _ok([_described(plan, f) for f in plan.add_many(data)])
        if not isinstance(data, dict):
            return _ok({"error": "body must be a fault (JSON object) or an array of faults"}, 400)
        return _ok(_described(plan, plan.add_fault(data)))
    except FaultSpecError as exc:
        return _ok({"error": str(exc)}, 400)


async def list_faults(request: web.Request) -> web.Response:
    return _ok(_plan(request).snapshot())


async def clear_faults(request: web.Request) -> web.Response:
    _plan(request).clear()
    return _ok({"status": "cleared"})


async def remove_fault(request: web.Request) -> web.Response:
    try:
        fault_id = int(request.match_info["id"])
    except ValueError:
        return _ok({"error": "id: must be an integer"}, 400)
    if not _plan(request).remove(fault_id):
        return _ok({"error": f"id: no active fault {fault_id}"}, 404)
    return _ok({"status": "removed", "id": fault_id})


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, add_faults)
    app.router.add_get(PATH, list_faults)
    app.router.add_delete(PATH, clear_faults)
    app.router.add_delete(PATH + "/{id}", remove_fault)
