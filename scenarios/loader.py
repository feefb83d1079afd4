"""Scenario files (YAML, ``version: 1``) into ``scenarios.model.Scenario``.

A wrong scenario must fail before anything runs, with every problem at once, each located by
file, line and key path (``faults[1].code``): a user fixing a file should not play one-error-
at-a-time. So loading is three passes over one parse: the shipped JSON Schema
(``scenarios/schema/scenario.schema.json``, which editors can use too) checks the structure,
semantic checks look at what a schema cannot (fault specs through the control plane's own
``parse_fault``, strategy names, synth presets and parameters, files next to the scenario,
the timeline against the clock), and only then are the dataclasses built, defaults filled in.

Lines come from the YAML node tree (``yaml.compose``); mapping keys are taken as written, so
``on:`` stays the key ``on`` rather than YAML 1.1's ``True``, and timestamps stay strings.
Relative paths (symbols file, replay file) are resolved against the scenario's folder and
stored absolute, so a run does not depend on the working directory.

Numbers for money (balances, fee rates) may be strings or YAML numbers; an amount may have at
most 8 decimals (the venue's scale), and a YAML number at most 15 significant digits (what a
float keeps exactly); past that, write it as a string.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from scenarios.model import (
    AccountSpec,
    ClockSpec,
    ExpectationSpec,
    FaultStep,
    LatencySpec,
    MarketSpec,
    ReportSpec,
    Scenario,
    StrategySpec,
)
from scenarios.scenario_text import (
    KeyPath,
    YamlDoc,
    format_duration,
    format_key_path,
    parse_duration,
    parse_money,
    parse_time,
    scenario_schema,
    schema_issues,
    show,
    suggest,
)

__all__ = [
    "ScenarioError", "ScenarioIssue", "check_files", "format_duration", "format_key_path", "load_scenario",
    "load_scenario_text", "looks_like_scenario", "parse_duration", "parse_money", "parse_time", "scenario_files",
    "scenario_schema",
]  # fmt: skip

# Expectation parameters that are durations ("5s"); the loader turns them into int ms.
DURATION_PARAMS = frozenset({"within"})
SCENARIO_KEYS = frozenset({"version", "name", "description", "seed", "clock", "symbols", "accounts", "market",
                           "latency", "strategy", "faults", "expectations", "report", "source"})  # fmt: skip
_FAULT_META = ("at", "at_ms", "duration", "duration_ms", "label")


@dataclass(frozen=True, slots=True)
class ScenarioIssue:
    """One problem in a scenario file, where the user will look for it."""

    file: str
    line: int
    key_path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.key_path}: {self.message}"


class ScenarioError(ValueError):
    """A scenario that cannot run; ``errors`` holds every problem found, in file order."""

    def __init__(self, errors: Iterable[ScenarioIssue]) -> None:
        self.errors = sorted(set(errors), key=lambda i: (i.file, i.line, i.key_path, i.message))
        super().__init__("\n".join(str(i) for i in self.errors))


# ------------------------------------------------------------------------------ semantic pass
class _Builder:
    """Builds the dataclasses from schema-valid parts, recording every further problem."""

    def __init__(self, doc: YamlDoc, file: str, base_dir: Path, schema_paths: Iterable[KeyPath]) -> None:
        self.doc, self.file, self.base_dir = doc, file, base_dir
        self.issues: list[ScenarioIssue] = []
        self.schema_paths = list(schema_paths)
        self.symbols: dict[str, Any] | None = None  # name -> SymbolSpec, None when they did not load

    def err(self, path: KeyPath, message: str) -> None:
        self.issues.append(ScenarioIssue(self.file, self.doc.line(path), format_key_path(path), message))

    def broken(self, path: KeyPath) -> bool:
        """True when the schema already reported something at or below ``path``."""
        return any(p[: len(path)] == path for p in self.schema_paths)

    def convert(self, path: KeyPath, value: Any, fn: Callable[[Any], Any], default: Any) -> Any:
        try:
            return fn(value)
        except ValueError as exc:
            self.err(path, str(exc))
            return default

    def pick(self, obj: Mapping[str, Any], path: KeyPath, key: str, fn: Callable[[Any], int], default: int) -> int:
        """``key`` (a duration or time) or its integer-ms twin ``key_ms`` (the resolved form)."""
        twin = f"{key}_ms"
        if self.broken((*path, key)) or self.broken((*path, twin)):
            return default
        if key in obj and twin in obj:
            self.err((*path, twin), f"give either '{key}' or '{twin}', not both")
        if key in obj:
            return cast(int, self.convert((*path, key), obj[key], fn, default))
        return cast(int, obj.get(twin, default))

    def path_of(self, path: KeyPath, value: str) -> str:
        """``value`` resolved against the scenario's folder; a problem if nothing is there."""
        full = (self.base_dir / Path(value).expanduser()).resolve()
        if not full.exists():
            self.err(path, f"file not found: {full}")
        return str(full)

    # ------------------------------------------------------------------ sections
    def scenario(self, data: Mapping[str, Any], default_name: str) -> Scenario:
        def section(key: str, kind: type[dict[str, Any]] | type[list[Any]]) -> Any:
            value = data.get(key)
            return value if isinstance(value, kind) else kind()

        sc = Scenario(name=data.get("name", default_name), description=data.get("description", ""),
                      seed=data.get("seed", 1), source=data.get("source", self.file))  # fmt: skip
        sc.clock = self.clock(section("clock", dict))
        sc.symbols = self.symbol_source(data.get("symbols", "default"))
        sc.accounts = self.accounts(section("accounts", list)) if "accounts" in data else sc.accounts
        sc.market = self.market(section("market", dict))
        latency = section("latency", dict)
        sc.latency = LatencySpec(*(self.pick(latency, ("latency",), key, parse_duration, 0)
                                   for key in ("order", "jitter", "market_data", "entry")))  # fmt: skip
        sc.strategy = self.strategy(section("strategy", dict))
        sc.faults = self.faults(section("faults", list), sc)
        sc.expectations = [self.expectation(i, raw) for i, raw in enumerate(section("expectations", list))]
        rep = section("report", dict)
        sc.report = ReportSpec(rep.get("journal_market_data", True),
                               self.pick(rep, ("report",), "sample_interval", parse_duration, 1_000),
                               rep.get("junit", False))  # fmt: skip
        if sc.report.sample_interval_ms <= 0:
            self.err(("report", "sample_interval"), "must be longer than 0")
        return sc

    def clock(self, raw: Mapping[str, Any]) -> ClockSpec:
        default = ClockSpec()
        spec = ClockSpec(self.pick(raw, ("clock",), "start", parse_time, default.start_ms),
                         self.pick(raw, ("clock",), "duration", parse_duration, default.duration_ms))
        if spec.duration_ms <= 0:
            self.err(("clock", "duration"), "the run must last longer than 0")
        return spec

    def symbol_source(self, raw: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
        from mock_exchange.engine import symbol_loader

        if self.broken(("symbols",)):
            return raw
        loaded: list[Any] | None = None
        try:
            if raw == "default":
                from mock_exchange.default_market import default_symbols

                loaded = default_symbols()
            elif isinstance(raw, str):
                raw = self.path_of(("symbols",), raw)
                loaded = symbol_loader.load_symbols(raw) if Path(raw).exists() else None
            elif all("baseAsset" in entry for entry in raw):
                loaded = symbol_loader.load_exchange_info({"symbols": raw})
            else:
                loaded = symbol_loader.load_symbols_config({"symbols": raw})
        except (symbol_loader.ConfigError, OSError, ValueError) as exc:
            self.symbol_error(str(exc), isinstance(raw, list))
        if loaded is not None:
            self.symbols = {spec.symbol: spec for spec in loaded}
        return raw

    def symbol_error(self, text: str, inline: bool) -> None:
        found = re.search(r"symbols\[(\d+)\](?: \([^)]*\))?: (?:'([^']+)': )?(.*)", text) if inline else None
        if found is None:
            self.err(("symbols",), f"cannot load symbols: {text}")
            return
        index, key, message = int(found[1]), found[2], found[3]
        self.err(("symbols", index, key) if key else ("symbols", index), message)

    def accounts(self, raw: list[dict[str, Any]]) -> list[AccountSpec]:
        out: list[AccountSpec] = []
        seen: set[str] = set()
        for i, acct in enumerate(raw):
            path: KeyPath = ("accounts", i)
            if not isinstance(acct, dict):
                continue  # the schema said so
            spec = AccountSpec(name=acct.get("name", "trader" if i == 0 else f"trader{i + 1}"))
            if spec.name in seen:
                self.err((*path, "name"), f"duplicate account name '{spec.name}'")
            seen.add(spec.name)
            if isinstance(acct.get("balances"), dict):
                spec.balances = {asset: self.money((*path, "balances", asset), amount, Decimal(0))
                                 for asset, amount in acct["balances"].items()}  # fmt: skip
            for key in ("maker_rate", "taker_rate"):
                if key in acct:
                    setattr(spec, key, self.money((*path, key), acct[key], Decimal("0.001"), below_one=True))
            out.append(spec)
        return out

    def money(self, path: KeyPath, value: Any, default: Decimal, *, below_one: bool = False) -> Decimal:
        if self.broken(path):
            return default
        return cast(Decimal, self.convert(path, value, functools.partial(parse_money, below_one=below_one), default))

    def value(self, raw: Mapping[str, Any], path: KeyPath, key: str, default: Any) -> Any:
        """``raw[key]`` unless absent or already reported by the schema (then ``default``)."""
        return raw[key] if key in raw and not self.broken((*path, key)) else default

    def market(self, raw: Mapping[str, Any]) -> MarketSpec:
        at: KeyPath = ("market",)
        d = MarketSpec()
        spec = MarketSpec(kind=self.value(raw, at, "kind", d.kind), preset=self.value(raw, at, "preset", d.preset),
                          params=dict(self.value(raw, at, "params", {})), speed=float(self.value(raw, at, "speed", 1)),
                          symbols=self.value(raw, at, "symbols", None))  # fmt: skip
        if self.broken((*at, "kind")):
            return spec
        used = {"synth": {"preset", "params"}, "replay": {"file", "speed"}, "static": set[str]()}[spec.kind]
        for key in ("preset", "params", "file", "speed"):
            if key in raw and key not in used and raw[key] != getattr(d, key) and not self.broken((*at, key)):
                self.err((*at, key), f"only used by a {'synth' if key in ('preset', 'params') else 'replay'} "
                                     f"market (this one is kind {spec.kind})")  # fmt: skip
        if spec.kind == "synth" and not self.broken((*at, "preset")) and not self.broken((*at, "params")):
            self.synth(spec)
        if spec.kind == "replay" and not self.broken((*at, "file")):
            if raw.get("file") is None:
                self.err(at, "a replay market needs 'file' (the recorded data)")
            else:
                files = raw["file"]
                if isinstance(files, list):
                    spec.file = [self.path_of((*at, "file", i), f) for i, f in enumerate(files)]
                else:
                    spec.file = self.path_of((*at, "file"), files)
        for i, name in enumerate(spec.symbols or []):
            if self.symbols is not None and name.upper() not in self.symbols:
                self.err((*at, "symbols", i), f"unknown symbol '{name}'{suggest(name.upper(), self.symbols)}")
        spec.symbols = [s.upper() for s in spec.symbols] if spec.symbols is not None else None
        return spec

    def synth(self, spec: MarketSpec) -> None:
        from mock_exchange.market.synth import PRESET_NAMES, get_preset

        try:
            preset: Any = get_preset(spec.preset)
        except ValueError as exc:
            self.err(("market", "preset"), f"{exc}{suggest(spec.preset, PRESET_NAMES)}")
            return
        self.synth_params(preset, spec.params, ("market", "params"))

    def synth_params(self, target: Any, params: Mapping[str, Any], path: KeyPath) -> None:
        """Overrides must name fields of the preset's dataclasses and fit their types."""
        from dataclasses import fields, is_dataclass

        from mock_exchange.market.synth.presets import CrashParams

        names = {f.name: f for f in fields(target) if f.name != "name"}
        for key, value in params.items():
            if key not in names:
                self.err((*path, key), f"unknown synth parameter{suggest(key, names)} (allowed: {', '.join(names)})")
                continue
            current = getattr(target, key)
            if current is None and key == "crash":
                current = CrashParams()
            if is_dataclass(current):
                if isinstance(value, dict):
                    self.synth_params(current, value, (*path, key))
                elif not (value is None and key == "crash"):
                    self.err((*path, key), f"expected a mapping of {type(current).__name__} fields, got {show(value)}")
            elif not _fits(current, value):
                self.err((*path, key), f"expected {_kind(current)}, got {show(value)}")

    def strategy(self, raw: Mapping[str, Any]) -> StrategySpec:
        at: KeyPath = ("strategy",)
        d = StrategySpec()
        spec = StrategySpec(self.value(raw, at, "name", d.name), self.value(raw, at, "trading_pair", d.trading_pair),
                            dict(self.value(raw, at, "params", {})))  # fmt: skip
        if not self.broken((*at, "name")) and not self.broken((*at, "params")):
            self.strategy_checks(spec)
        if self.symbols is not None and not self.broken((*at, "trading_pair")):
            wanted = spec.trading_pair.replace("-", "").replace("/", "").upper()
            sym = self.symbols.get(wanted)
            if sym is None:
                self.err((*at, "trading_pair"), f"unknown trading pair '{spec.trading_pair}'"
                         f"{suggest(wanted, self.symbols)} (symbols: {', '.join(self.symbols)})")  # fmt: skip
            else:
                spec.trading_pair = f"{sym.base_asset}-{sym.quote_asset}"
        return spec

    def strategy_checks(self, spec: StrategySpec) -> None:
        """The name through ``load_strategy`` and the params through the class's own check."""
        from scenarios.strategies import StrategyParamError, load_strategy

        try:
            cls = load_strategy(spec.name)
        except ValueError as exc:
            hint = suggest(spec.name, builtin_strategies()) if ":" not in spec.name else ""
            self.err(("strategy", "name"), f"{exc}{hint}")
            return
        try:
            cls.validate_params(spec.params)
        except StrategyParamError as exc:
            self.err(("strategy", "params", exc.key) if exc.key else ("strategy", "params"), exc.message)

    def faults(self, raw: list[dict[str, Any]], sc: Scenario) -> list[FaultStep]:
        steps: list[tuple[KeyPath, FaultStep]] = []
        for i, item in enumerate(raw):
            path: KeyPath = ("faults", i)
            if not isinstance(item, dict):
                continue  # the schema said so
            nested = "spec" in item
            if "at" not in item and "at_ms" not in item:
                self.err(path, "missing required key 'at' (when the fault starts, e.g. at: 30s)")
            if self.broken(path):
                continue
            at = self.pick(item, path, "at", parse_duration, 0)
            has_duration = item.get("duration") is not None or item.get("duration_ms") is not None
            duration = self.pick(item, path, "duration", parse_duration, 0) if has_duration else None
            spec = dict(item["spec"]) if nested else {k: v for k, v in item.items() if k not in _FAULT_META}
            label = item.get("label", spec.pop("label", ""))
            line = item.get("source_line", self.doc.line(path))
            steps.append(((*path, "spec") if nested else path, FaultStep(at, spec, duration, label, line)))
        self.check_fault_specs(steps, sc)
        for path, step in steps:
            self.check_timeline(path[:2], step, sc.clock.duration_ms)
        return sorted((step for _, step in steps), key=lambda s: s.at_ms)

    def check_fault_specs(self, steps: list[tuple[KeyPath, FaultStep]], sc: Scenario) -> None:
        """Each spec through the control plane's ``parse_fault``; the normalised spec is kept."""
        from mock_exchange.server.fault_specs import FaultSpecError, parse_fault

        state = SimpleNamespace(engine=SimpleNamespace(symbols=self.symbols or {}),
                                accounts={a.name: a for a in sc.accounts})  # fmt: skip

        def parse_all() -> None:
            for path, step in steps:
                try:
                    step.spec = dict(parse_fault(step.spec, cast(Any, state)).spec)
                except FaultSpecError as exc:
                    key, _, message = str(exc).partition(": ")
                    if key == "symbol" and self.symbols is None:
                        continue  # the symbols did not load: that error is already reported
                    if key == "symbol" and self.symbols is not None:
                        message += f" (symbols: {', '.join(self.symbols)})"
                    self.err((*path, key) if message else path, message or str(exc))

        _with_event_loop(parse_all)

    def check_timeline(self, path: KeyPath, step: FaultStep, run_ms: int) -> None:
        if step.at_ms >= run_ms:
            self.err((*path, "at"), f"at {format_duration(step.at_ms)} is not before the end of the run "
                                    f"(clock.duration {format_duration(run_ms)})")  # fmt: skip
        elif step.duration_ms is not None and step.at_ms + step.duration_ms > run_ms:
            self.err((*path, "duration"), f"ends at {format_duration(step.at_ms + step.duration_ms)}, after the "
                                          f"end of the run (clock.duration {format_duration(run_ms)})")  # fmt: skip

    def expectation(self, i: int, raw: Any) -> ExpectationSpec:
        path: KeyPath = ("expectations", i)
        item: dict[str, Any] = {"type": raw} if isinstance(raw, str) else dict(raw) if isinstance(raw, dict) else {}
        spec = ExpectationSpec(str(item.get("type", "")), name=item.get("name", ""),
                               source_line=item.get("source_line", self.doc.line(path)))  # fmt: skip
        nested = isinstance(item.get("params"), dict)
        spec.params = dict(item["params"]) if nested else {
            k: v for k, v in item.items() if k not in ("type", "name", "source_line")}
        if self.broken(path):
            return spec
        where: KeyPath = (*path, "params") if nested else path
        types = expectation_types()
        if spec.type not in types:
            self.err((*path, "type") if isinstance(raw, dict) else path,
                     f"unknown expectation type '{spec.type}'{suggest(spec.type, types)} "
                     f"(known: {', '.join(types)})")  # fmt: skip
            return spec
        before = len(self.issues)
        for key, value in list(spec.params.items()):
            if key in DURATION_PARAMS:
                spec.params[key] = self.convert((*where, key), value, parse_duration, value)
        problem = expectation_problem(spec) if len(self.issues) == before else None
        if problem is not None:
            key, message = problem
            self.err((*where, key) if key else where, message)
        return spec


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fits(current: Any, value: Any) -> bool:
    if isinstance(current, bool):
        return isinstance(value, bool)
    if isinstance(current, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(current, float):
        return _number(value)
    if isinstance(current, tuple):
        return isinstance(value, list) and len(value) == len(current) and all(map(_fits, current, value))
    return isinstance(value, type(current))


def _kind(current: Any) -> str:
    if isinstance(current, tuple):
        return f"a list of {len(current)} values"
    if isinstance(current, bool):
        return "true or false"
    if isinstance(current, int):
        return "an integer"
    return "a number" if isinstance(current, float) else f"a {type(current).__name__}"


def _with_event_loop(fn: Callable[[], None]) -> None:
    """Run ``fn`` where ``asyncio.get_running_loop()`` works (``parse_fault`` of a
    ``stall_streams`` fault asks for the server's loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        fn()
        return

    async def call() -> None:
        fn()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(call())
    finally:
        loop.close()


# ------------------------------------------------------------------------------ registries
def builtin_strategies() -> tuple[str, ...]:
    from scenarios.strategies import BUILTIN_STRATEGIES

    return tuple(BUILTIN_STRATEGIES)


def expectation_types() -> tuple[str, ...]:
    from scenarios.expectations import EXPECTATION_TYPES

    return tuple(EXPECTATION_TYPES)


def expectation_problem(spec: ExpectationSpec) -> tuple[str, str] | None:
    """(param, message) when ``scenarios.expectations`` refuses the spec's parameters: the
    checker is tried on an empty run, which is enough to surface a bad parameter."""
    from scenarios.expectations import evaluate_one
    from scenarios.record import RunRecord

    record = RunRecord({}, "check", 1, 0, 0, "BTC-USDT", "BTC", "USDT")
    message = evaluate_one(record, spec).message
    if not message.startswith("bad parameters: "):
        return None
    message = message.removeprefix("bad parameters: ")
    named = re.match(r"(?:unknown|missing) parameter '([^']+)'", message)
    if named:
        return named[1], message
    key, _, rest = message.partition(": ")
    return (key, rest) if key in spec.params else ("", message)


# ------------------------------------------------------------------------------ entry points
def load_scenario_text(text: str, source: str = "<inline>", *, base_dir: Path | None = None) -> Scenario:
    """A ``Scenario`` from YAML text; ``source`` names it in errors. Relative paths resolve against
    ``base_dir`` (default: the folder of ``source`` when it is a path, else the working directory)."""
    doc = YamlDoc(text)
    issues = [ScenarioIssue(source, line, format_key_path(path), msg) for line, path, msg in doc.problems]
    if doc.root is None and not issues:
        issues.append(ScenarioIssue(source, 1, "<root>", "empty file: expected a scenario mapping"))
    if issues and doc.data is None:
        raise ScenarioError(issues)
    if not isinstance(doc.data, dict):
        raise ScenarioError([*issues, ScenarioIssue(source, doc.line(()), "<root>",
                                                    f"expected a scenario mapping, got {show(doc.data)}")])
    schema_errors = schema_issues(doc.data)
    if base_dir is None:
        base_dir = Path(source).parent if not source.startswith("<") else Path.cwd()
    builder = _Builder(doc, source, base_dir, [path for path, _ in schema_errors])
    builder.issues.extend(issues)
    for path, message in schema_errors:
        builder.err(path, message)
    stem = Path(source).name.removesuffix(".yaml").removesuffix(".yml").removesuffix(".scenario")
    scenario = builder.scenario(doc.data, stem if stem and not source.startswith("<") else "scenario")
    if builder.issues:
        raise ScenarioError(builder.issues)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """A ``Scenario`` from a YAML file; ``ScenarioError`` lists every problem."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([ScenarioIssue(name, 1, "<root>", f"cannot read: {exc}")]) from exc
    return load_scenario_text(text, name, base_dir=Path(path).resolve().parent)


def looks_like_scenario(path: Path) -> bool:
    """Whether a YAML file is a scenario: named ``*.scenario.yaml``, or its top level has a
    ``strategy`` key, or ``version`` with one of ``market``/``faults``/``expectations``/``clock``."""
    name = path.name.lower()
    if name.endswith((".scenario.yaml", ".scenario.yml")):
        return True
    if not name.endswith((".yaml", ".yml")):
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    keys = set(re.findall(r"^([A-Za-z_][\w-]*)\s*:", text, flags=re.MULTILINE))
    return "strategy" in keys or ("version" in keys and bool(keys & {"market", "faults", "expectations", "clock"}))


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named on the command line, plus the scenario YAML files under named folders."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
            out.extend(p for p in found if looks_like_scenario(p))
        else:
            out.append(path)
    return out


def check_files(paths: Iterable[str | Path]) -> list[ScenarioIssue]:
    """Every problem of every scenario in ``paths`` (files or folders); empty when all load."""
    issues: list[ScenarioIssue] = []
    for path in scenario_files(paths):
        try:
            load_scenario(path)
        except ScenarioError as exc:
            issues.extend(exc.errors)
    return issues
