"""examples/live_readonly.py stays in step with the connector: it imports, uses only the public
connector API, and its functions run unchanged against the mock (the live venue is not reachable
here)."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from connector.config import VenueConfig
from mock_exchange.testing import MockServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "live_readonly.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("live_readonly_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_imports_only_public_connector_api() -> None:
    tree = ast.parse(EXAMPLE.read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and m.startswith("mock_exchange") for m in modules)
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert not any(name.startswith("_") for name in names)
    assert "VenueConfig.live()" in EXAMPLE.read_text() and "internet" in (ast.get_docstring(tree) or "")
    module = load_example()
    assert callable(module.cli) and callable(module.main)


async def test_example_functions_run_against_the_mock(capsys: pytest.CaptureFixture[str]) -> None:
    module = load_example()
    async with MockServer() as srv:
        config = VenueConfig.custom(srv.base_url)
        await module.show_markets(config, 3)
        await module.track_books(config, ["BTC-USDT"], 0.5)
    out = capsys.readouterr().out
    assert "trading pairs; top 3" in out and "BTC-USDT" in out and "bid 6" in out
