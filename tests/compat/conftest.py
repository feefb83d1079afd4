"""One ``mockex serve`` subprocess per test module, stopped with Ctrl-C (SIGINT) afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.compat.helpers import Mockex, start_mockex, stop_mockex


@pytest.fixture(scope="module")
def mockex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mockex]:
    srv = start_mockex(tmp_path_factory.mktemp("mockex"))
    try:
        yield srv
    finally:
        code = stop_mockex(srv)
    log = srv.server_log()
    # a client request that crashed a handler is a mock bug even when the client coped
    assert "Traceback" not in log, f"mockex logged an internal error:\n{log[-4000:]}"
    assert code == 0, f"mockex serve exited {code} on Ctrl-C:\n{log[-2000:]}"
