"""What one scenario run observed: the runner fills a ``RunRecord``; expectations judge it and
the report writers render it. Times are virtual epoch milliseconds (``*_ms``) unless named
``wall``. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

REPORT_SCHEMA_VERSION = 1
# Faults after which the connector must rebuild its book / re-establish its user stream.
BOOK_FAULTS = ("skip_depth", "stale_snapshot", "drop_streams", "stall_streams", "server_shutdown")
USER_STREAM_FAULTS = ("drop_streams", "terminate_user_streams", "server_shutdown")


@dataclass(slots=True)
class OrderRow:
    """One order the strategy sent, as the connector's tracker ended up seeing it."""

    client_order_id: str
    symbol: str
    side: str  # BUY | SELL
    order_type: str  # LIMIT | LIMIT_MAKER | MARKET
    amount: Decimal
    price: Decimal | None
    created_ms: int
    state: str  # the connector's final OrderState name (FILLED, CANCELED, FAILED, LOST, OPEN, ...)
    exchange_order_id: int | None = None
    executed: Decimal = Decimal(0)
    updated_ms: int = 0
    reason: str = ""  # failure / expiry reason from the venue
    journal_line: int = 0  # the journal line of the request that created it


@dataclass(slots=True)
class FillRow:
    ts_ms: int
    client_order_id: str
    symbol: str
    side: str
    price: Decimal
    amount: Decimal
    fee: Decimal
    fee_asset: str
    trade_id: int
    journal_line: int = 0


@dataclass(slots=True)
class Sample:
    """A periodic reading of the strategy's account and the market (every ``sample_interval_ms``)."""

    ts_ms: int
    mid: Decimal | None
    base: Decimal  # total base-asset balance (free + locked)
    quote: Decimal  # total quote-asset balance
    equity: Decimal  # quote + base * mid (quote asset)
    pnl: Decimal  # equity - equity at start
    drawdown: Decimal  # peak equity so far - equity (>= 0)
    used_weight_1m: int  # the exchange's REQUEST_WEIGHT used in the current minute for this key/IP
    open_orders: int  # orders the connector tracks as open


@dataclass(slots=True)
class FaultWindow:
    """A fault from the timeline: when it began and ended, and how the connector reacted."""

    index: int  # position in scenario.faults
    type: str
    label: str
    start_ms: int
    end_ms: int | None
    spec: dict[str, Any]
    journal_line: int = 0
    # Virtual times after start_ms of the connector's recoveries (None: not observed).
    book_resynced_ms: int | None = None  # tracker's book equal to the exchange's again
    user_stream_back_ms: int | None = None  # user stream subscribed again after a drop/termination
    tracker_converged_ms: int | None = None  # connector's open orders == exchange's open orders
    reaction: str = ""  # one line a human reads: "resnapshot after gap (1.2 s)", ...


@dataclass(slots=True)
class RunEvent:
    """A connector-side happening worth a line in the report (resync, reconnect, lost order...)."""

    ts_ms: int
    kind: str  # book_resync | user_stream_connected | user_stream_lost | order_lost | strategy_error | ...
    detail: dict[str, Any] = field(default_factory=dict)
    journal_line: int = 0


@dataclass(slots=True)
class JournalEntry:
    """One journal line: a wire message (REST request/response, WebSocket frame in/out), a
    fault, or a runner/strategy note. ``data`` is already scrubbed of secrets."""

    vt_ms: int
    wall: float  # seconds since the run started (wall clock)
    kind: str  # rest_request | rest_response | ws_in | ws_out | fault | event | strategy | runner
    data: dict[str, Any]


@dataclass(slots=True)
class ExpectationResult:
    name: str
    type: str
    passed: bool
    message: str  # why it failed (or what was measured), naming the order/event
    journal_lines: list[int] = field(default_factory=list)
    source_line: int = 0


@dataclass(slots=True)
class RunRecord:
    scenario: dict[str, Any]  # Scenario.resolved()
    scenario_name: str
    seed: int
    start_ms: int
    end_ms: int
    trading_pair: str
    base_asset: str
    quote_asset: str
    orders: list[OrderRow] = field(default_factory=list)
    fills: list[FillRow] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    faults: list[FaultWindow] = field(default_factory=list)
    events: list[RunEvent] = field(default_factory=list)
    journal: list[JournalEntry] = field(default_factory=list)  # line n of journal.jsonl is journal[n-1]
    # End-of-run reconciliation: open orders on the exchange vs in the connector's tracker.
    exchange_open_orders: list[str] = field(default_factory=list)  # client order ids
    tracker_open_orders: list[str] = field(default_factory=list)
    exchange_balances: dict[str, Decimal] = field(default_factory=dict)
    tracker_balances: dict[str, Decimal] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)  # numbers for expressions and the summary
    expectations: list[ExpectationResult] = field(default_factory=list)
    error: str | None = None  # traceback of a strategy/runner failure (the run fails)
    versions: dict[str, str] = field(default_factory=dict)
    # Wall-clock fields: the only ones allowed to differ between two runs of the same seed.
    wall_started: str = ""
    wall_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.error is None and all(e.passed for e in self.expectations)

    @property
    def virtual_seconds(self) -> float:
        return (self.end_ms - self.start_ms) / 1000

    def journal_line(self, entry_index: int) -> int:
        return entry_index + 1


WALL_CLOCK_FIELDS = ("wall_started", "wall_seconds", "x_real_time")
"""Keys of report.json that may differ between reruns (everything else is byte-identical)."""
