"""The control plane under ``/_mock`` (DESIGN D8): steer a running mock from any language.

Plain JSON over HTTP, disjoint from every Binance path. Errors are ``{"error": "..."}`` with
HTTP 400/404: this is our API, not the venue's.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from mock_exchange.config import AccountConfig
from mock_exchange.engine import units
from mock_exchange.engine.types import EngineError
from mock_exchange.server.responses import depth_json, order_query

PREFIX = "/_mock"


def _state(request: web.Request) -> Any:
    from mock_exchange.server.app import STATE

    return request.app[STATE]


def _ok(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


def _bad(msg: str, status: int = 400) -> web.Response:
    return _ok({"error": msg}, status)


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    return data


async def health(request: web.Request) -> web.Response:
    state = _state(request)
    return _ok({"status": "ok", "time": state.clock(), "symbols": len(state.engine.symbols)})


async def reset(request: web.Request) -> web.Response:
    state = _state(request)
    state.reset()
    return _ok({"status": "reset", "accounts": [a.account_id for a in state.accounts.values()]})


def _balances(state: Any, account_id: str) -> dict[str, dict[str, str]]:
    acct = state.engine.account(account_id)
    return {
        asset: {"free": units.fmt(free), "locked": units.fmt(locked)}
        for asset, (free, locked) in sorted(acct.balances.items())
    }


async def state_view(request: web.Request) -> web.Response:
    """Books (top levels), open orders and balances of every mock account."""
    state = _state(request)
    try:
        depth = int(request.query.get("depth", "20"))
    except ValueError:
        return _bad("depth must be an integer")
    eng = state.engine
    books = {name: depth_json(*eng.depth(name, max(1, depth))) for name in eng.symbols}
    accounts = {
        name: {
            "balances": _balances(state, name),
            "openOrders": [order_query(o) for o in eng.open_orders(name)],
        }
        for name in state.accounts
    }
    return _ok({"time": state.clock(), "books": books, "accounts": accounts})


async def list_accounts(request: web.Request) -> web.Response:
    state = _state(request)
    return _ok(
        [
            {"accountId": a.account_id, "apiKey": a.api_key, "canTrade": a.can_trade, "uid": a.uid}
            for a in state.accounts.values()
        ]
    )


async def create_account(request: web.Request) -> web.Response:
    """Body: {"name", "balances": {asset: amount}, "canTrade", "apiKey", "secretKey",
    "keyType": "HMAC"|"ED25519", "publicKey" (PEM, for ED25519)}."""
    state = _state(request)
    try:
        body = await _json_body(request)
        name = body.get("name") or f"account-{len(state.accounts) + 1}"
        if not isinstance(name, str):
            raise ValueError("name must be a string")
        balances_raw = body.get("balances", {})
        if not isinstance(balances_raw, dict):
            raise ValueError("balances must be an object of asset to amount")
        balances = {}
        for asset, amount in balances_raw.items():
            try:
                balances[str(asset)] = units.to_units(str(amount))
            except ValueError as exc:
                raise ValueError(f"balances.{asset}: not a decimal amount with at most 8 decimals") from exc
            if balances[str(asset)] < 0:
                raise ValueError(f"balances.{asset}: must not be negative")
        can_trade = body.get("canTrade", True)
        if not isinstance(can_trade, bool):
            raise ValueError("canTrade must be true or false")
        key_type = body.get("keyType", "HMAC")
        if key_type not in ("HMAC", "ED25519"):
            raise ValueError("keyType must be HMAC or ED25519")
        if name in state.accounts:
            return _bad(f"account {name!r} exists", 409)
        cfg = AccountConfig(name=name, balances=balances, can_trade=can_trade)
        if key_type == "HMAC":
            cfg.api_key = body.get("apiKey")
            cfg.secret_key = body.get("secretKey")
            info = state.add_account(cfg)
            return _ok({"accountId": info.account_id, "apiKey": info.api_key, "secretKey": info.secret_key,
                        "keyType": "HMAC", "canTrade": can_trade})
        public_key = body.get("publicKey")
        api_key = body.get("apiKey")
        if not isinstance(public_key, str) or not public_key:
            raise ValueError("publicKey (PEM) is required for ED25519 keys")
        info = state.add_account(cfg)
        key = state.keys.add_ed25519(
            api_key or state.new_api_key(), public_key, name, can_trade=can_trade
        )
        return _ok({"accountId": info.account_id, "apiKey": key.api_key, "keyType": "ED25519",
                    "canTrade": can_trade, "hmacApiKey": info.api_key, "hmacSecretKey": info.secret_key})
    except ValueError as exc:
        return _bad(str(exc))


async def adjust_balance(request: web.Request) -> web.Response:
    """Body: {"account", "asset", "delta"}: credit (+) or debit (-) an account; emits a balanceUpdate."""
    state = _state(request)
    try:
        body = await _json_body(request)
        account = body.get("account")
        asset = body.get("asset")
        if not isinstance(account, str) or account not in state.accounts:
            return _bad(f"unknown account {account!r}", 404)
        if not isinstance(asset, str) or not asset:
            raise ValueError("asset must be a non-empty string")
        try:
            delta = units.to_units(str(body.get("delta")))
        except ValueError as exc:
            raise ValueError("delta must be a decimal amount with at most 8 decimals") from exc
        state.engine.adjust_balance(account, asset, delta)
        state.publish()
        return _ok({"account": account, "balances": _balances(state, account)})
    except EngineError as exc:
        return _bad(exc.msg)
    except ValueError as exc:
        return _bad(str(exc))


def add_routes(app: web.Application) -> None:
    from mock_exchange.server import control_faults

    control_faults.add_routes(app)
    app.router.add_get(f"{PREFIX}/health", health)
    app.router.add_post(f"{PREFIX}/reset", reset)
    app.router.add_get(f"{PREFIX}/state", state_view)
    app.router.add_get(f"{PREFIX}/accounts", list_accounts)
    app.router.add_post(f"{PREFIX}/accounts", create_account)
    app.router.add_post(f"{PREFIX}/balance", adjust_balance)
