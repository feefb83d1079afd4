"""The text side of scenario files: YAML with line numbers, the JSON Schema pass, value parsers.

``scenarios.loader`` builds scenarios; this module answers "where in the file" (``YamlDoc``
keeps the node tree, keys as written) and turns jsonschema's errors into messages a person can
act on (one per unknown key, with a "did you mean"). The value parsers (durations, times,
money) are public because strategies, expectations and reports read the same spellings.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from typing import Any, cast

import yaml

KeyPath = tuple[str | int, ...]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000}
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:ms|s|m|h)\s*)+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h)")


# ------------------------------------------------------------------------------ values
def parse_duration(value: Any) -> int:
    """``"250ms"``, ``"30s"``, ``"5m"``, ``"1h"``, ``"1m30s"`` or an int of ms -> int ms."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value}")
        return value
    if not isinstance(value, str) or not _DURATION.match(value):
        raise ValueError(f"expected a duration such as 250ms, 30s, 5m, 1h or integer milliseconds, got {value!r}")
    total = sum((Decimal(num) * _UNIT_MS[unit] for num, unit in _DURATION_PART.findall(value)), Decimal(0))
    if total != total.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number of milliseconds")
    return int(total)


def format_duration(ms: int) -> str:
    """The shortest exact spelling of ``ms`` ("90s", "250ms", "2h")."""
    for unit in ("h", "m", "s"):
        if ms and ms % _UNIT_MS[unit] == 0:
            return f"{ms // _UNIT_MS[unit]}{unit}"
    return f"{ms}ms"


def parse_time(value: Any) -> int:
    """ISO 8601 (UTC unless it carries an offset; a bare date is midnight) or epoch ms -> epoch ms."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time or epoch milliseconds, got {value!r}")
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"expected an ISO 8601 time such as 2026-01-01T00:00:00Z, got {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // timedelta(milliseconds=1)


def parse_money(value: Any, *, below_one: bool = False) -> Decimal:
    """A non-negative amount with at most 8 decimals, from a string or a YAML number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"expected a decimal amount, got {value!r}")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValueError(f"expected a decimal amount, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"expected a non-negative decimal amount, got {value!r}")
    if isinstance(value, float) and len(amount.normalize().as_tuple().digits) > 15:
        raise ValueError(f"{value!r} has more digits than a YAML number keeps exactly; write it as a string")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        raise ValueError(f"at most 8 decimals, got {value!r}")
    if below_one and amount >= 1:
        raise ValueError(f"expected a rate below 1 (0.001 = 0.1 %), got {value!r}")
    return Decimal(format(amount, "f"))


# ------------------------------------------------------------------------------ YAML with lines
class _YamlLoader(yaml.SafeLoader):
    """Safe YAML that keeps timestamps as strings (the schema, not YAML, decides their meaning)."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class YamlDoc:
    """The parsed file: data with keys as written, the node tree for lines, and parse problems."""

    def __init__(self, text: str) -> None:
        self.root: yaml.Node | None = None
        self.data: Any = None
        self.problems: list[tuple[int, KeyPath, str]] = []
        loader = _YamlLoader(text)
        try:
            self.root = loader.get_single_node()
            self.data = self._build(loader, self.root, ()) if self.root is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            self.problems.append((mark.line + 1 if mark else 1, (), f"invalid YAML: {exc.problem or exc}"))
        except yaml.YAMLError as exc:
            self.problems.append((1, (), f"invalid YAML: {exc}"))
        finally:
            loader.dispose()

    def _build(self, loader: _YamlLoader, node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            loader.flatten_mapping(node)  # '<<' merge keys
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(loader.construct_object(key_node))
                if key in out:
                    self.problems.append((key_node.start_mark.line + 1, (*path, key), "duplicate key"))
                out[key] = self._build(loader, value_node, (*path, key))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._build(loader, item, (*path, i)) for i, item in enumerate(node.value)]
        return loader.construct_object(node, deep=True)

    def line(self, path: KeyPath) -> int:
        """Line of the deepest part of ``path`` present in the file (a key's own line)."""
        node, found = self.root, 1
        for part in path:
            nxt: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == part:
                        found, nxt = key_node.start_mark.line + 1, value_node
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                nxt = node.value[part]
                found = nxt.start_mark.line + 1
            if nxt is None:
                break
            node = nxt
        return found


def format_key_path(path: Sequence[str | int]) -> str:
    """``("faults", 1, "code")`` -> ``faults[1].code``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# ------------------------------------------------------------------------------ schema pass
@functools.cache
def scenario_schema() -> dict[str, Any]:
    """The shipped JSON Schema (draft 2020-12) of scenario files."""
    text = resources.files("scenarios").joinpath("schema/scenario.schema.json").read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))


@functools.cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(scenario_schema())


TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}  # fmt: skip


def show(value: Any) -> str:
    """A value as an error message quotes it."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return repr(value) if isinstance(value, str) else json.dumps(value) if isinstance(value, bool) else str(value)


def schema_issues(data: Any) -> list[tuple[KeyPath, str]]:
    out: list[tuple[KeyPath, str]] = []
    for err in _validator().iter_errors(data):
        out.extend(_translate(err, data))
    return out


def _translate(err: Any, data: Any) -> list[tuple[KeyPath, str]]:
    """A jsonschema error as (key path, message) a person can act on; one per unknown key."""
    path: KeyPath = tuple(err.absolute_path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    custom, kind, got = schema.get("x-message"), err.validator, show(err.instance)
    if "propertyNames" in err.absolute_schema_path:  # a key (err.instance) that is not allowed here
        key = str(err.instance)
        if kind == "enum":
            owner = _at(data, path)
            noun = {"faults": "fault", "expectations": "expectation"}.get(str(path[0]) if path else "", "")
            what = f" for a {owner['type']} {noun}" if isinstance(owner, dict) and "type" in owner and noun else ""
            allowed = sorted(err.validator_value)
            return [((*path, key), f"unknown key{what}{suggest(key, allowed)} (allowed: {', '.join(allowed)})")]
        return [((*path, key), custom or err.message)]
    if kind == "additionalProperties":
        known = sorted(schema.get("properties", {}))
        extras = [k for k in err.instance if k not in schema.get("properties", {})]
        return [((*path, k), f"unknown key{suggest(k, known)} (allowed: {', '.join(known)})") for k in extras]
    if kind == "required":
        return [(path, f"missing required key '{k}'") for k in err.validator_value if k not in err.instance]
    if custom:
        return [(path, f"{custom}, got {got}")]
    if kind == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        return [(path, f"expected {' or '.join(TYPE_NAMES.get(str(w), str(w)) for w in want)}, got {got}")]
    if kind == "enum":
        choices = [str(c) for c in err.validator_value]
        hint = suggest(err.instance, choices) if isinstance(err.instance, str) else ""
        return [(path, f"must be one of {', '.join(choices)}, got {got}{hint}")]
    bounds = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if kind in bounds:
        return [(path, f"must be {bounds[kind]} {err.validator_value}, got {got}")]
    if kind in ("minItems", "minLength"):
        return [(path, "must not be empty")]
    return [(path, err.message)]


def _at(data: Any, path: KeyPath) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data
