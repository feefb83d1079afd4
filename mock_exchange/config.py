"""``mockex serve --config FILE``: the server's configuration and its loader.

The file is YAML or JSON. Every error names the file, the line and the key path that is wrong,
because a config that fails with a bare ``KeyError`` costs a user far more than it costs us.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mock_exchange.engine import units


class ConfigError(ValueError):
    """A bad configuration value, located as ``file:line: key.path: problem``."""


@dataclass(slots=True)
class AccountConfig:
    name: str
    balances: dict[str, int]
    api_key: str | None = None
    secret_key: str | None = None
    can_trade: bool = True
    maker_rate: int = 100_000  # 0.1 %
    taker_rate: int = 100_000


@dataclass(slots=True)
class RateLimitSettings:
    request_weight_per_minute: int = 6000
    orders_per_10s: int = 100
    orders_per_day: int = 200_000
    raw_requests_per_5m: int = 61_000


DEFAULT_BALANCES = {
    "USDT": units.to_units("100000"),
    "BTC": units.to_units("10"),
    "ETH": units.to_units("100"),
    "BNB": units.to_units("1000"),
    "SOL": units.to_units("1000"),
    "XRP": units.to_units("100000"),
}


@dataclass(slots=True)
class WebSocketSettings:
    """Connection rules of the stream and WebSocket-API endpoints (venue values by default;
    tests shorten them)."""

    ping_interval_ms: int = 20_000
    pong_timeout_ms: int = 60_000
    max_lifetime_ms: int = 24 * 3600 * 1000
    max_streams: int = 1024
    max_incoming_per_s: int = 5
    listen_key_ttl_ms: int = 60 * 60 * 1000


@dataclass(slots=True)
class ServerConfig:
    seed: int = 1
    # "default" = the embedded market; otherwise a path to an exchangeInfo JSON or a symbols config.
    symbols: str = "default"
    book_levels: int = 50
    accounts: list[AccountConfig] = field(
        default_factory=lambda: [AccountConfig(name="trader", balances=dict(DEFAULT_BALANCES))]
    )
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    listen_key: bool = True
    websocket: WebSocketSettings = field(default_factory=WebSocketSettings)
    source: str = "<defaults>"
    # Every market-stream frame waits this long before it is sent (a scenario's latency).
    market_data_latency_ms: int = 0
    # Symbols given inline (our compact symbols config entries); they replace ``symbols``.
    inline_symbols: list[dict[str, Any]] | None = None


class _Locator:
    """Finds the line of a key path in a YAML/JSON text (JSON is YAML, so one parser does both)."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        try:
            self.root: yaml.Node | None = yaml.compose(text)
        except yaml.YAMLError:
            self.root = None

    def line(self, keys: list[str | int]) -> int:
        node = self.root
        found = 1
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                nxt = None
                for k, v in node.value:
                    if k.value == key:
                        found = k.start_mark.line + 1
                        nxt = v
                        break
                node = nxt
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
                found = node.start_mark.line + 1
            else:
                break
            if node is None:
                break
        return found

    def error(self, keys: list[str | int], problem: str) -> ConfigError:
        dotted = ".".join(f"[{k}]" if isinstance(k, int) else k for k in keys).replace(".[", "[")
        return ConfigError(f"{self.path}:{self.line(keys)}: {dotted or '<root>'}: {problem}")


def _units(loc: _Locator, keys: list[str | int], value: Any) -> int:
    try:
        result = units.to_units(str(value))
    except ValueError as exc:
        raise loc.error(keys, f"expected a decimal amount with at most 8 decimals, got {value!r}") from exc
    if result < 0:
        raise loc.error(keys, f"must not be negative, got {value!r}")
    return result


def _int(loc: _Locator, keys: list[str | int], value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise loc.error(keys, f"expected an integer >= {minimum}, got {value!r}")
    return value


def _bool(loc: _Locator, keys: list[str | int], value: Any) -> bool:
    if not isinstance(value, bool):
        raise loc.error(keys, f"expected true or false, got {value!r}")
    return value


def _check_keys(loc: _Locator, keys: list[str | int], data: dict[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            raise loc.error([*keys, key], f"unknown key (allowed: {', '.join(sorted(allowed))})")


def _account(loc: _Locator, idx: int, raw: Any) -> AccountConfig:
    keys: list[str | int] = ["accounts", idx]
    if not isinstance(raw, dict):
        raise loc.error(keys, "expected a mapping with name and balances")
    _check_keys(loc, keys, raw, {"name", "balances", "apiKey", "secretKey", "canTrade", "makerCommission", "takerCommission"})
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise loc.error([*keys, "name"], "expected a non-empty string")
    balances_raw = raw.get("balances", {})
    if not isinstance(balances_raw, dict):
        raise loc.error([*keys, "balances"], "expected a mapping of asset to amount")
    balances = {str(a): _units(loc, [*keys, "balances", str(a)], v) for a, v in balances_raw.items()}
    acct = AccountConfig(name=name, balances=balances)
    for key, attr in (("apiKey", "api_key"), ("secretKey", "secret_key")):
        if key in raw:
            if not isinstance(raw[key], str) or not raw[key]:
                raise loc.error([*keys, key], "expected a non-empty string")
            setattr(acct, attr, raw[key])
    if "canTrade" in raw:
        acct.can_trade = _bool(loc, [*keys, "canTrade"], raw["canTrade"])
    if "makerCommission" in raw:
        acct.maker_rate = _units(loc, [*keys, "makerCommission"], raw["makerCommission"])
    if "takerCommission" in raw:
        acct.taker_rate = _units(loc, [*keys, "takerCommission"], raw["takerCommission"])
    return acct


def parse_config(data: Any, path: str, text: str = "") -> ServerConfig:
    """Validate a parsed config document; ``text`` (the file's content) is used to find lines."""
    loc = _Locator(path, text)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise loc.error([], "expected a mapping at the top level")
    _check_keys(loc, [], data,
                {"seed", "symbols", "bookLevels", "accounts", "rateLimits", "listenKey", "websocket"})
    cfg = ServerConfig(source=path)
    if "seed" in data:
        cfg.seed = _int(loc, ["seed"], data["seed"])
    if "symbols" in data:
        sym = data["symbols"]
        if not isinstance(sym, str) or not sym:
            raise loc.error(["symbols"], "expected 'default' or a path to an exchangeInfo/symbols file")
        if sym != "default":
            resolved = (Path(path).parent / sym) if not Path(sym).is_absolute() else Path(sym)
            if not resolved.exists():
                raise loc.error(["symbols"], f"file not found: {resolved}")
            sym = str(resolved)
        cfg.symbols = sym
    if "bookLevels" in data:
        cfg.book_levels = _int(loc, ["bookLevels"], data["bookLevels"])
    if "accounts" in data:
        accts = data["accounts"]
        if not isinstance(accts, list) or not accts:
            raise loc.error(["accounts"], "expected a non-empty list of accounts")
        cfg.accounts = [_account(loc, i, a) for i, a in enumerate(accts)]
        names = [a.name for a in cfg.accounts]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise loc.error(["accounts", i, "name"], f"duplicate account name {name!r}")
    if "rateLimits" in data:
        rl = data["rateLimits"]
        if not isinstance(rl, dict):
            raise loc.error(["rateLimits"], "expected a mapping")
        fields = {
            "requestWeightPerMinute": "request_weight_per_minute",
            "ordersPer10s": "orders_per_10s",
            "ordersPerDay": "orders_per_day",
            "rawRequestsPer5m": "raw_requests_per_5m",
        }
        _check_keys(loc, ["rateLimits"], rl, set(fields))
        for key, attr in fields.items():
            if key in rl:
                setattr(cfg.rate_limits, attr, _int(loc, ["rateLimits", key], rl[key], minimum=1))
    if "listenKey" in data:
        cfg.listen_key = _bool(loc, ["listenKey"], data["listenKey"])
    if "websocket" in data:
        ws = data["websocket"]
        if not isinstance(ws, dict):
            raise loc.error(["websocket"], "expected a mapping")
        ws_fields = {
            "pingIntervalMs": "ping_interval_ms",
            "pongTimeoutMs": "pong_timeout_ms",
            "maxLifetimeMs": "max_lifetime_ms",
            "maxStreams": "max_streams",
            "maxIncomingPerSecond": "max_incoming_per_s",
            "listenKeyTtlMs": "listen_key_ttl_ms",
        }
        _check_keys(loc, ["websocket"], ws, set(ws_fields))
        for key, attr in ws_fields.items():
            if key in ws:
                setattr(cfg.websocket, attr, _int(loc, ["websocket", key], ws[key], minimum=1))
    return cfg


def load_config(path: str | Path) -> ServerConfig:
    """Read and validate a YAML or JSON config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(f"{p}:{line}: invalid YAML/JSON: {getattr(exc, 'problem', exc)}") from exc
    return parse_config(data, str(p), text)
