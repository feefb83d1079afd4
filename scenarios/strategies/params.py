"""Strategy parameters: each strategy declares them, and they are checked before anything runs.

A scenario's ``strategy.params`` is free-form YAML, so numbers arrive as ints, floats or
strings. Declaring each parameter (kind, default, bounds) lets a typo or a bad value fail with
a message naming the key (``params.spread_bps: must be > 0, got -1``) when the scenario is
checked, instead of a strategy misbehaving half-way through a run. Money and prices become
``Decimal`` (floats go through their shortest text, never their binary value); durations
become float seconds and accept ``"250ms"``, ``"30s"``, ``"5m"``, ``"1h"`` or plain seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Kind = Literal["decimal", "int", "seconds", "choice", "bool", "str"]


class _Required:
    """Marker default: the parameter must be given."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*$")
_SECONDS_PER_UNIT = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), "h": Decimal(3600), None: Decimal(1)}
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class StrategyParamError(ValueError):
    """A strategy parameter is unknown, missing or invalid. ``key`` names it (as under
    ``params``) so the scenario loader can point at the right line."""

    def __init__(self, strategy: str, key: str, message: str) -> None:
        self.strategy = strategy
        self.key = key
        self.message = message
        where = f"params.{key}" if key else "params"
        super().__init__(f"strategy {strategy}: {where}: {message}")


def _number(value: Any) -> Decimal:
    """A finite Decimal from an int, float, Decimal or numeric string."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"expected a number, got {value!r}") from None
    else:
        raise ValueError(f"expected a number, got {value!r}")
    if not result.is_finite():
        raise ValueError(f"expected a finite number, got {value!r}")
    return result


def parse_seconds(value: Any) -> float:
    """Seconds from a number or a duration text ("250ms", "30s", "5m", "1h"; no unit = s)."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"expected a duration like 500ms, 30s, 5m, 1h or seconds, got {value!r}")
        return float(Decimal(match.group(1)) * _SECONDS_PER_UNIT[match.group(2)])
    return float(_number(value))


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter. ``default=REQUIRED`` makes it mandatory; ``None`` makes it
    optional with no value. Bounds apply to numeric kinds (``minimum`` exclusive when
    ``min_exclusive``)."""

    kind: Kind
    default: Any = REQUIRED
    minimum: Decimal | int | None = None
    maximum: Decimal | int | None = None
    min_exclusive: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def convert(self, value: Any) -> Any:
        """The parameter's value from what the scenario gave; ValueError says what is wrong."""
        kind = self.kind
        if kind == "decimal":
            result: Any = _number(value)
            self._check_range(result, value)
        elif kind == "int":
            number = _number(value)
            if number != number.to_integral_value():
                raise ValueError(f"expected a whole number, got {value!r}")
            result = int(number)
            self._check_range(Decimal(result), value)
        elif kind == "seconds":
            result = parse_seconds(value)
            self._check_range(Decimal(repr(result)), value)
        elif kind == "choice":
            if not isinstance(value, str) or value.strip().lower() not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}, got {value!r}")
            result = value.strip().lower()
        elif kind == "bool":
            if isinstance(value, bool):
                result = value
            elif isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
                result = value.strip().lower() in _TRUE
            else:
                raise ValueError(f"expected true or false, got {value!r}")
        else:
            if not isinstance(value, str):
                raise ValueError(f"expected a string, got {value!r}")
            result = value
        return result

    def _check_range(self, number: Decimal, given: Any) -> None:
        low, high = self.minimum, self.maximum
        if low is not None:
            if self.min_exclusive and number <= low:
                raise ValueError(f"must be > {low}, got {given!r}")
            if not self.min_exclusive and number < low:
                raise ValueError(f"must be >= {low}, got {given!r}")
        if high is not None and number > high:
            raise ValueError(f"must be <= {high}, got {given!r}")


# Parameters every strategy accepts (the host reads them).
COMMON_PARAMS: dict[str, Param] = {
    "tick_interval": Param("seconds", None, minimum=0, min_exclusive=True,
                           help="seconds between on_tick calls (default: the strategy's tick_interval_s)"),
    "book_poll_interval": Param("seconds", None, minimum=0, min_exclusive=True,
                                help="how often the host looks for order book changes for on_order_book"),
}


def resolve_params(strategy: str, declared: Mapping[str, Param] | None, given: Any) -> dict[str, Any]:
    """Every declared parameter's value (given or default), plus the common ones.

    ``declared=None`` means the strategy takes free-form parameters: the common ones are still
    checked and everything else is passed through unchanged.
    """
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise StrategyParamError(strategy, "", f"expected a mapping of parameter names to values, got {given!r}")
    for key in given:
        if not isinstance(key, str):
            raise StrategyParamError(strategy, str(key), "parameter names must be strings")
    spec: dict[str, Param] = dict(COMMON_PARAMS)
    if declared is not None:
        spec.update(declared)
        unknown = sorted(k for k in given if k not in spec)
        if unknown:
            known = ", ".join(sorted(spec))
            others = f"; also unknown: {', '.join(unknown[1:])}" if len(unknown) > 1 else ""
            raise StrategyParamError(strategy, unknown[0], f"unknown parameter (known: {known}){others}")
    out: dict[str, Any] = {} if declared is not None else {k: v for k, v in given.items() if k not in spec}
    for key, param in spec.items():
        if key in given and given[key] is not None:
            try:
                out[key] = param.convert(given[key])
            except ValueError as exc:
                raise StrategyParamError(strategy, key, str(exc)) from None
        elif param.required:
            raise StrategyParamError(strategy, key, "required" + (f" ({param.help})" if param.help else ""))
        else:
            out[key] = None if param.default is None else param.convert(param.default)
    return out


def describe_params(declared: Mapping[str, Param] | None) -> dict[str, dict[str, Any]]:
    """A JSON-shaped description of the parameters (for ``mockex check`` and docs)."""
    spec: dict[str, Param] = {**COMMON_PARAMS, **(declared or {})}
    out: dict[str, dict[str, Any]] = {}
    for key, p in spec.items():
        item: dict[str, Any] = {"kind": p.kind, "required": p.required, "help": p.help}
        if not p.required:
            item["default"] = None if p.default is None else str(p.default)
        if p.choices:
            item["choices"] = list(p.choices)
        out[key] = item
    return out


def params_json(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """Resolved parameters as JSON-friendly values: Decimals become their text (exact)."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in resolved.items()}
