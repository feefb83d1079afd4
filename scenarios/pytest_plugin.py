"""mockex's pytest plugin (entry point ``pytest11: mockex``): fixtures and scenario files as tests.

Installed with mockex, it is active in every pytest run (``-p no:mockex`` turns it off).

Scenario files as tests
    ``pytest scenarios/`` collects each scenario YAML file as one test item that runs it with
    ``scenarios.runner.run_scenario``; a failed expectation is a failed test whose report is the
    run's explanation (every failed expectation, its message and journal lines). A YAML file is a
    scenario when ``scenarios.loader.looks_like_scenario`` says so: named ``*.scenario.yaml``, or
    with a top-level ``strategy`` key, or ``version`` plus one of ``market``/``faults``/
    ``expectations``/``clock`` (so unrelated YAML is left alone). A scenario that does not load is
    a collection error listing every problem as ``file:line: key.path: message``.
    ``--mockex-out DIR`` keeps each run folder under DIR (default: pytest's temporary folders);
    the ini option ``mockex_collect = false`` turns collection off.

Fixtures (async ones need pytest-asyncio; use them from ``async def`` tests)
    ``mockex_clock``          a ``MockexClock``: a manual clock the server reads (calling it gives
                              ms) and the connector reads (``now_ms()``/``now()``), starting at 2026-01-01T00:00:00Z. It only moves
                              when the test calls ``advance(ms)`` / ``set_ms(ms)`` (rate-limit windows
                              too: a test that spends a minute's weight must advance it).
    ``mockex_server_config``  the ``ServerConfig`` the exchange starts from (default market, one funded
                              account); override this fixture to change symbols, balances or seed.
    ``mock_exchange``         a started ``MockExchange``: a ``mock_exchange.testing.MockServer`` on a
                              loopback port reading ``mockex_clock`` (``.server``; its attributes
                              pass through): ``.base_url``, ``.state``,
                              ``.clock``, ``.account`` (name, API key and secret of the funded account),
                              ``.faults.add(spec) -> id`` / ``.remove(id)`` / ``.clear()`` / ``.active()``
                              (the control plane's fault JSON), ``.reset()``, ``.client()``.
    ``connector_config``      a ``connector.VenueConfig.custom`` for the mock's URL, with the funded
                              account's key and secret and ``mockex_clock`` as its clock.
    ``mockex_trading_pairs``  the pairs ``connector_market`` trades (default ``["BTC-USDT"]``).
    ``connector_market``      a started ``connector.Market`` on those pairs (books synced, balances
                              loaded, user stream up), stopped at teardown.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from scenarios.loader import ScenarioError, load_scenario, looks_like_scenario
from scenarios.model import DEFAULT_START_MS, Scenario

if TYPE_CHECKING:
    from connector import Market, VenueConfig
    from mock_exchange.config import ServerConfig
    from mock_exchange.server.state import AccountInfo, ExchangeState
    from mock_exchange.testing import MockServer, SignedClient

_async_fixture: Any
try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pytest itself then says an async fixture needs an async plugin
    _async_fixture = pytest.fixture


# ------------------------------------------------------------------------------ options
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockex", "mockex scenarios")
    group.addoption("--mockex-out", metavar="DIR", default=None,
                    help="keep the run folder of every collected scenario under DIR")  # fmt: skip
    parser.addini("mockex_collect", type="bool", default=True, help="collect scenario YAML files as tests")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mockex_scenario: a scenario file collected as a test")


# ------------------------------------------------------------------------------ collection
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix.lower() not in (".yaml", ".yml") or not parent.config.getini("mockex_collect"):
        return None
    if not looks_like_scenario(file_path):
        return None
    file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
    return file


class ScenarioFile(pytest.File):
    """One scenario file; loading it is collection, so a broken file is a collection error."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = load_scenario(self.path)
        except ScenarioError as exc:
            count = len(exc.errors)
            raise self.CollectError(f"invalid scenario file ({count} problem{'s' if count != 1 else ''}):\n{exc}") from None
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)


class ScenarioFailed(Exception):
    """The run ended with a failed expectation or an error; carries the runner's result."""

    def __init__(self, result: Any) -> None:
        super().__init__(result.failure_text)
        self.result = result


class ScenarioItem(pytest.Item):
    """Runs one scenario (in virtual time) and fails with the run's own explanation."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.add_marker("mockex_scenario")

    def runtest(self) -> None:
        out_dir = self._out_dir()
        result = run_scenario(self.scenario, out_dir)
        folder = result.out_dir if result.out_dir is not None else out_dir
        self.user_properties.append(("mockex_run_folder", str(folder)))
        if result.summary:
            self.add_report_section("call", "mockex summary", result.summary)
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            result = excinfo.value.result
            folder = result.out_dir if result.out_dir is not None else "(not written)"
            return f"scenario {self.scenario.name} failed ({self.path}):\n{result.failure_text}\nrun folder: {folder}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario {self.scenario.name}"

    def _out_dir(self) -> Path:
        keep = self.config.getoption("mockex_out")
        if keep:
            rel = self.path.relative_to(self.config.rootpath) if self.path.is_relative_to(self.config.rootpath) \
                else Path(self.path.name)
            slug = re.sub(r"[^\w.-]+", "_", str(rel.with_suffix("")))
            return Path(keep) / f"{slug}-{self.scenario.name}"
        factory = getattr(self.config, "_tmp_path_factory", None)
        slug = re.sub(r"[^\w.-]+", "_", self.scenario.name)[:40] or "scenario"
        if factory is not None:
            return Path(factory.mktemp(f"mockex-{slug}"))
        return Path(tempfile.mkdtemp(prefix=f"mockex-{slug}-"))


def run_scenario(scenario: Scenario, out_dir: Path) -> Any:
    """``scenarios.runner.run_scenario``, looked up at call time."""
    from scenarios.runner import run_scenario as run

    return run(scenario, out_dir=out_dir)


# ------------------------------------------------------------------------------ fixtures
class MockexClock:
    """A hand-moved clock both sides read: the mock calls it (``clock()`` -> ms), the connector
    asks ``now_ms()``/``now()`` (``connector.Clock``). ``advance(ms)`` moves it, ``set_ms`` jumps."""

    def __init__(self, start_ms: int) -> None:
        self.ms = start_ms

    def __call__(self) -> int:
        return self.ms

    def now_ms(self) -> int:
        return self.ms

    def now(self) -> float:
        return self.ms / 1000.0

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("a clock cannot go backwards")
        self.ms += ms

    def set_ms(self, ms: int) -> None:
        self.ms = ms


class FaultControl:
    """The control plane's faults, in process: the same JSON as ``POST /_mock/faults``."""

    def __init__(self, server: MockServer) -> None:
        self._server = server

    def add(self, spec: dict[str, Any]) -> int:
        """Put a fault into effect now; its id (``FaultSpecError`` names a bad key)."""
        return self._server.state.faults.add(spec)

    def remove(self, fault_id: int) -> bool:
        return self._server.state.faults.remove(fault_id)

    def clear(self) -> None:
        self._server.state.faults.clear()

    def active(self) -> list[dict[str, Any]]:
        return [f.json() for f in self._server.state.faults.active]


class MockExchange:
    """A ``mock_exchange.testing.MockServer`` (``.server``; its other attributes pass through)
    plus what a test reaches for: the clock, the funded account, faults, reset. Wrapped rather
    than subclassed so that loading the plugin does not import the server for every pytest run."""

    def __init__(self, config: ServerConfig, clock: MockexClock) -> None:
        from mock_exchange.testing import MockServer

        self.server: MockServer = MockServer(config, clock=clock)
        self.clock = clock
        self.faults = FaultControl(self.server)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.server, name)

    @property
    def state(self) -> ExchangeState:
        return self.server.state

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def account(self) -> AccountInfo:
        """The first (funded) account: ``account_id``, ``api_key``, ``secret_key``."""
        return next(iter(self.server.state.accounts.values()))

    def client(self, account: str | None = None) -> SignedClient:
        """A signed REST client for ``account`` (default: the funded one)."""
        return self.server.client(account)

    def reset(self) -> None:
        """Back to the configured start: books, balances, orders, no faults (as ``POST /_mock/reset``)."""
        self.server.state.reset()

    async def start(self) -> MockExchange:
        await self.server.start()
        return self

    async def stop(self) -> None:
        await self.server.stop()


@pytest.fixture
def mockex_clock() -> MockexClock:
    return MockexClock(DEFAULT_START_MS)


@pytest.fixture
def mockex_server_config() -> ServerConfig:
    from mock_exchange.config import ServerConfig

    return ServerConfig()


@_async_fixture
async def mock_exchange(mockex_server_config: ServerConfig, mockex_clock: MockexClock) -> AsyncIterator[MockExchange]:
    server = MockExchange(mockex_server_config, mockex_clock)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def connector_config(mock_exchange: MockExchange, mockex_clock: MockexClock) -> VenueConfig:
    from connector import VenueConfig

    account = mock_exchange.account
    return VenueConfig.custom(mock_exchange.base_url, api_key=account.api_key, api_secret=account.secret_key,
                              clock=mockex_clock)  # fmt: skip


@pytest.fixture
def mockex_trading_pairs() -> list[str]:
    return ["BTC-USDT"]


@_async_fixture
async def connector_market(connector_config: VenueConfig, mockex_trading_pairs: list[str]) -> AsyncIterator[Market]:
    from connector import Market

    market = Market(connector_config, mockex_trading_pairs)
    try:
        await market.start_network()
        await market.wait_until_ready(timeout=15)
        yield market
    finally:
        await market.stop_network()
