"""Strategies for scenarios: the API (``Strategy``, ``StrategyContext``, ``StrategyHost``), the
built-ins, and ``load_strategy`` for a built-in name or a user's ``module:Class``.

Driving one (what the scenario runner does)::

    cls = load_strategy(spec.name)                      # ValueError: unknown / not importable
    host = StrategyHost(cls, StrategyContext(market, spec.trading_pair, clock, random.Random(seed),
                                             spec.params, log=journal_callback))
    await host.start()                                  # after market.start_network()
    ...                                                 # run; host.failed is set if it raised
    await host.stop(timeout_s=10)
    host.error, host.error_at_ms, host.metrics()
"""

from __future__ import annotations

import importlib
from types import MappingProxyType

from scenarios.strategies.base import LogFunction, Number, Strategy, StrategyContext, StrategyHost
from scenarios.strategies.idle import IdleStrategy
from scenarios.strategies.market_making import MarketMakingStrategy
from scenarios.strategies.params import Param, StrategyParamError, params_json, parse_seconds
from scenarios.strategies.taker import TakerStrategy
from scenarios.strategies.twap import TwapStrategy

BUILTIN_STRATEGIES: MappingProxyType[str, type[Strategy]] = MappingProxyType({
    "market_making": MarketMakingStrategy,
    "twap": TwapStrategy,
    "taker": TakerStrategy,
    "idle": IdleStrategy,
})


def load_strategy(name: str) -> type[Strategy]:
    """The class for a built-in name or ``"package.module:Class"`` (``Class`` may be dotted).
    Every problem is a ValueError saying what was wrong, listing the built-ins for a bad name."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"strategy name must be a non-empty string, got {name!r}")
    name = name.strip()
    builtin = BUILTIN_STRATEGIES.get(name)
    if builtin is not None:
        return builtin
    builtins = ", ".join(BUILTIN_STRATEGIES)
    if ":" not in name:
        raise ValueError(f"unknown strategy {name!r}: use a built-in ({builtins}) or 'package.module:Class'")
    module_name, _, attr_path = name.partition(":")
    if not module_name or not attr_path:
        raise ValueError(f"strategy {name!r}: expected 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ValueError(f"strategy {name!r}: cannot import module {module_name!r}: "
                         f"{type(exc).__name__}: {exc}") from exc
    obj: object = module
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"strategy {name!r}: module {module_name!r} has no attribute {attr_path!r}") from None
    if not (isinstance(obj, type) and issubclass(obj, Strategy)):
        raise ValueError(f"strategy {name!r}: {attr_path} is not a subclass of scenarios.strategies.Strategy")
    return obj


__all__ = [
    "BUILTIN_STRATEGIES",
    "IdleStrategy",
    "LogFunction",
    "MarketMakingStrategy",
    "Number",
    "Param",
    "Strategy",
    "StrategyContext",
    "StrategyHost",
    "StrategyParamError",
    "TakerStrategy",
    "TwapStrategy",
    "load_strategy",
    "params_json",
    "parse_seconds",
]
