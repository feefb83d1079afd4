"""A scenario as the runner sees it: plain dataclasses, every default filled in.

``scenarios.loader`` builds these from a YAML file (validated against the shipped JSON
Schema, errors located by file, line and key path); ``Scenario.resolved()`` turns one back
into the fully expanded JSON-shaped dict every run writes beside its report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

SCENARIO_VERSION = 1
DEFAULT_START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


@dataclass(slots=True)
class ClockSpec:
    """Virtual time: where the run starts (epoch ms) and how long it lasts."""

    start_ms: int = DEFAULT_START_MS
    duration_ms: int = 60_000


@dataclass(slots=True)
class AccountSpec:
    name: str = "trader"
    balances: dict[str, Decimal] = field(default_factory=lambda: {"USDT": Decimal("100000"), "BTC": Decimal("1")})
    maker_rate: Decimal = Decimal("0.001")
    taker_rate: Decimal = Decimal("0.001")


@dataclass(slots=True)
class MarketSpec:
    """Where the market comes from: ``synth`` (preset + overrides), ``replay`` (a recorded
    file), or ``static`` (the default seeded book that only the strategy moves)."""

    kind: str = "synth"
    preset: str = "calm"
    params: dict[str, Any] = field(default_factory=dict)
    file: str | list[str] | None = None  # replay: one file or several played as one recording
    speed: float = 1.0
    symbols: list[str] | None = None


@dataclass(slots=True)
class LatencySpec:
    """Added latency, seeded jitter: ``order_ms`` holds the mock's replies (REST and WebSocket
    API), ``entry_ms`` holds requests before they are processed (order-entry latency: the market
    moves meanwhile), ``market_data_ms`` holds every market-stream frame."""

    order_ms: int = 0
    jitter_ms: int = 0
    market_data_ms: int = 0
    entry_ms: int = 0


@dataclass(slots=True)
class StrategySpec:
    """A built-in name (``market_making``, ``twap``, ``taker``, ``idle``) or ``module:Class``."""

    name: str = "market_making"
    trading_pair: str = "BTC-USDT"
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class FaultStep:
    """One fault on the timeline: ``spec`` is the control plane's fault JSON
    (``mock_exchange.server.fault_specs``); ``duration_ms`` ends it (clock skew back to 0,
    symbol back to TRADING, the fault removed) when given."""

    at_ms: int
    spec: dict[str, Any]
    duration_ms: int | None = None
    label: str = ""
    source_line: int = 0


@dataclass(slots=True)
class ExpectationSpec:
    """``type`` names a check in ``scenarios.expectations``; ``params`` are its bounds."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    source_line: int = 0


@dataclass(slots=True)
class ReportSpec:
    journal_market_data: bool = True  # every wire message; false keeps market-stream frames out
    sample_interval_ms: int = 1_000
    junit: bool = False


@dataclass(slots=True)
class Scenario:
    name: str = "scenario"
    version: int = SCENARIO_VERSION
    description: str = ""
    seed: int = 1
    clock: ClockSpec = field(default_factory=ClockSpec)
    symbols: str | list[dict[str, Any]] = "default"
    accounts: list[AccountSpec] = field(default_factory=lambda: [AccountSpec()])
    market: MarketSpec = field(default_factory=MarketSpec)
    latency: LatencySpec = field(default_factory=LatencySpec)
    strategy: StrategySpec = field(default_factory=StrategySpec)
    faults: list[FaultStep] = field(default_factory=list)
    expectations: list[ExpectationSpec] = field(default_factory=list)
    report: ReportSpec = field(default_factory=ReportSpec)
    source: str = "<inline>"

    def resolved(self) -> dict[str, Any]:
        """The fully expanded scenario as JSON-shaped data (Decimals as strings)."""
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
