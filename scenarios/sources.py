"""The scenario's market source as a coroutine the runner runs beside the connector.

``synth`` drives the agent-based market along the server's clock (virtual here, so an hour
of market costs seconds); ``replay`` plays a recorded file into the server; ``static`` leaves
the seeded book to the strategy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from scenarios.model import Scenario

if TYPE_CHECKING:
    from mock_exchange.market.synth import SynthParams
    from mock_exchange.server.state import ExchangeState


def synth_params(preset: str, overrides: Mapping[str, Any]) -> SynthParams:
    """A preset with ``overrides`` applied (nested mappings for nested parameter groups)."""
    from mock_exchange.market.synth import get_preset

    return _override(get_preset(preset), overrides, "market.params")


def _override(obj: Any, overrides: Mapping[str, Any], where: str) -> Any:
    names = {f.name: f for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in names:
            raise ValueError(f"{where}.{key}: unknown parameter (known: {', '.join(sorted(names))})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current) and not isinstance(current, type):
            if not isinstance(value, Mapping):
                raise ValueError(f"{where}.{key}: expected a mapping of parameters")
            changes[key] = _override(current, value, f"{where}.{key}")
        else:
            changes[key] = type(current)(value) if isinstance(current, int | float) and not isinstance(current, bool) else value
    return dataclasses.replace(obj, **changes)


def start_source(state: ExchangeState, scenario: Scenario) -> Coroutine[Any, Any, None] | None:
    m = scenario.market
    if m.kind == "synth":
        from mock_exchange.market.synth import WallClockDriver

        params = synth_params(m.preset, m.params)
        # By default only the strategy's symbol is synthesized (the others keep the static book).
        symbols = m.symbols or [scenario.strategy.trading_pair.replace("-", "")]
        return WallClockDriver(state, params, scenario.seed, symbols=symbols).run()
    if m.kind == "replay":
        from mock_exchange.market.replay import serving

        assert m.file is not None
        driver = serving.ReplayDriver(state, m.file, speed=m.speed, symbols=m.symbols, seed=scenario.seed)
        return driver.run()
    return None
