"""Public market-data endpoints (security NONE): ping, time, exchangeInfo, depth, trades, klines, tickers."""

from __future__ import annotations

from typing import Any

from mock_exchange.engine.symbol_loader import symbol_to_json
from mock_exchange.engine.symbols import SYMBOL_STATUSES, SymbolSpec
from mock_exchange.server import errors
from mock_exchange.server.endpoint import Ctx, Registry
from mock_exchange.server.params import Params
from mock_exchange.server.responses import book_ticker_json, depth_json

reg = Registry()


# ----------------------------------------------------------------------------- helpers
def spec_of(ctx: Ctx, symbol: str) -> SymbolSpec:
    spec = ctx.state.engine.symbols.get(symbol)
    if spec is None:
        raise errors.bad_symbol()
    return spec


def _symbol_status(params: Params) -> str | None:
    status = params.get("symbolStatus")
    if status is None:
        return None
    if status not in SYMBOL_STATUSES:
        raise errors.invalid_parameter("symbolStatus")
    return status


def selected_symbols(ctx: Ctx, *, required: bool = False, max_symbols: int | None = None) -> tuple[list[str], bool]:
    """Resolve ``symbol`` XOR ``symbols`` (and ``symbolStatus``): (names, single?)."""
    p = ctx.params
    status = _symbol_status(p)
    has_one, has_many = p.has("symbol"), p.has("symbols")
    if has_one and has_many:
        raise errors.bad_combo()
    if has_one:
        name = p.symbol()
        spec = spec_of(ctx, name)
        if status is not None and spec.status != status:
            raise errors.symbol_status_mismatch()
        return [name], True
    if has_many:
        names = p.symbols_list("symbols")
        if max_symbols is not None and len(names) > max_symbols:
            raise errors.invalid_parameter("symbols")
        for name in names:
            spec_of(ctx, name)
        if status is not None:
            names = [n for n in names if ctx.state.engine.symbols[n].status == status]
        return names, False
    if required:
        raise errors.either_or("symbol", "symbols")
    names = list(ctx.state.engine.symbols)
    if status is not None:
        names = [n for n in names if ctx.state.engine.symbols[n].status == status]
    return names, False


def _limit(params: Params, default: int, maximum: int) -> int:
    limit = params.opt_int("limit")
    if limit is None:
        return default
    if limit <= 0:
        raise errors.illegal_chars("limit", "^[1-9][0-9]*$")
    return min(limit, maximum)


def _count_symbols(params: Params) -> int:
    if params.has("symbol"):
        return 1
    if params.has("symbols"):
        return len(params.symbols_list("symbols"))
    return -1


# ----------------------------------------------------------------------------- general
@reg.route("GET", "/api/v3/ping", 1)
def ping(ctx: Ctx) -> Any:
    return {}


@reg.route("GET", "/api/v3/time", 1)
def server_time(ctx: Ctx) -> Any:
    return {"serverTime": ctx.now}


@reg.route("GET", "/api/v3/exchangeInfo", 20)
def exchange_info(ctx: Ctx) -> Any:
    p = ctx.params
    engine = ctx.state.engine
    show_sets = p.opt_bool("showPermissionSets")
    if p.has("permissions") and (p.has("symbol") or p.has("symbols")):
        raise errors.bad_combo()
    if p.has("permissions"):
        wanted = p.permissions_list("permissions")
        status = _symbol_status(p)
        specs = [
            s
            for s in engine.symbols.values()
            if any(perm in wanted for group in s.permission_sets for perm in group)
            and (status is None or s.status == status)
        ]
    else:
        names, _ = selected_symbols(ctx)
        specs = [engine.symbols[n] for n in names]
    symbols = []
    for spec in specs:
        obj = symbol_to_json(spec, verbatim=False)
        if show_sets is False:
            obj["permissionSets"] = []
        symbols.append(obj)
    return {
        "timezone": "UTC",
        "serverTime": ctx.now,
        "rateLimits": ctx.state.limiter.exchange_info_rate_limits(),
        "exchangeFilters": [],
        "symbols": symbols,
    }


# ----------------------------------------------------------------------------- book and trades
def _depth_weight(params: Params) -> int:
    limit = params.opt_int("limit") or 100
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


@reg.route("GET", "/api/v3/depth", _depth_weight)
def depth(ctx: Ctx) -> Any:
    name, _ = selected_symbols_single(ctx)
    limit = _limit(ctx.params, 100, 5000)
    faults = ctx.state.faults
    if faults.stale and name in faults.stale:  # stale_snapshot fault: an older book, if there is one
        old = faults.stale_depth(name, limit)
        if old is not None:
            return depth_json(*old)
    return depth_json(*ctx.state.engine.depth(name, limit))


def selected_symbols_single(ctx: Ctx) -> tuple[str, SymbolSpec]:
    """A required ``symbol`` (with an optional matching ``symbolStatus``)."""
    status = _symbol_status(ctx.params)
    name = ctx.params.symbol()
    spec = spec_of(ctx, name)
    if status is not None and spec.status != status:
        raise errors.symbol_status_mismatch()
    return name, spec


@reg.route("GET", "/api/v3/trades", 25)
def trades(ctx: Ctx) -> Any:
    name, _ = selected_symbols_single(ctx)
    return ctx.state.engine.market_data.trades_json(name, _limit(ctx.params, 500, 1000))


@reg.route("GET", "/api/v3/historicalTrades", 25)
def historical_trades(ctx: Ctx) -> Any:
    name, _ = selected_symbols_single(ctx)
    from_id = ctx.params.opt_int("fromId")
    return ctx.state.engine.market_data.trades_json(name, _limit(ctx.params, 500, 1000), from_id=from_id)


@reg.route("GET", "/api/v3/aggTrades", 4)
def agg_trades(ctx: Ctx) -> Any:
    name, _ = selected_symbols_single(ctx)
    p = ctx.params
    return ctx.state.engine.market_data.agg_trades_json(
        name,
        from_id=p.opt_int("fromId"),
        start_time=p.opt_time_ms("startTime"),
        end_time=p.opt_time_ms("endTime"),
        limit=_limit(p, 500, 1000),
    )


def _klines(ctx: Ctx) -> Any:
    name, _ = selected_symbols_single(ctx)
    p = ctx.params
    interval = p.req("interval")
    try:
        return ctx.state.engine.market_data.klines_json(
            name,
            interval,
            start_time=p.opt_time_ms("startTime"),
            end_time=p.opt_time_ms("endTime"),
            limit=_limit(p, 500, 1000),
            time_zone=p.get("timeZone") or "0",
            now_ms=ctx.now,
        )
    except ValueError as exc:
        if "interval" in str(exc):
            raise errors.bad_interval() from exc
        raise errors.invalid_parameter("timeZone") from exc


reg.route("GET", "/api/v3/klines", 2)(_klines)
reg.route("GET", "/api/v3/uiKlines", 2)(_klines)


@reg.route("GET", "/api/v3/avgPrice", 2)
def avg_price(ctx: Ctx) -> Any:
    name, _ = selected_symbols_single(ctx)
    return ctx.state.engine.market_data.avg_price_json(name, ctx.now)


# ----------------------------------------------------------------------------- tickers
def _ticker_type(params: Params) -> bool:
    kind = params.get("type")
    if kind is None or kind == "FULL":
        return True
    if kind == "MINI":
        return False
    raise errors.invalid_ticker_type()


def _weight_24hr(params: Params) -> int:
    n = _count_symbols(params)
    if n < 0:
        return 80
    if n <= 20:
        return 2
    return 40 if n <= 100 else 80


def _weight_small(params: Params) -> int:
    return 2 if params.has("symbol") else 4


def _weight_rolling(params: Params) -> int:
    return min(200, 4 * max(1, _count_symbols(params)))


def _one_or_list(items: list[Any], single: bool) -> Any:
    return items[0] if single else items


@reg.route("GET", "/api/v3/ticker/24hr", _weight_24hr)
def ticker_24hr(ctx: Ctx) -> Any:
    full = _ticker_type(ctx.params)
    names, single = selected_symbols(ctx)
    eng = ctx.state.engine
    out = [eng.market_data.ticker_24hr_json(n, ctx.now, eng.best_bid_ask(n), full=full) for n in names]
    return _one_or_list(out, single)


@reg.route("GET", "/api/v3/ticker/price", _weight_small)
def ticker_price(ctx: Ctx) -> Any:
    names, single = selected_symbols(ctx)
    md = ctx.state.engine.market_data
    return _one_or_list([md.price_json(n) for n in names], single)


@reg.route("GET", "/api/v3/ticker/bookTicker", _weight_small)
def ticker_book(ctx: Ctx) -> Any:
    names, single = selected_symbols(ctx)
    eng = ctx.state.engine
    return _one_or_list([book_ticker_json(n, eng.best_bid_ask(n)) for n in names], single)


@reg.route("GET", "/api/v3/ticker", _weight_rolling)
def ticker_rolling(ctx: Ctx) -> Any:
    full = _ticker_type(ctx.params)
    names, single = selected_symbols(ctx, required=True, max_symbols=100)
    window = ctx.params.get("windowSize") or "1d"
    md = ctx.state.engine.market_data
    try:
        out = [md.rolling_ticker_json(n, ctx.now, window, full=full) for n in names]
    except ValueError as exc:
        raise errors.invalid_parameter("windowSize") from exc
    return _one_or_list(out, single)
