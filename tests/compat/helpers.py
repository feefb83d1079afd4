"""A ``mockex serve`` subprocess and real clients aimed at it by changing base URLs only.

The server is started exactly as a user starts it (``python -m mock_exchange.cli serve --port 0
--config FILE``); its printed banner gives the URLs and the funded account's key. A second,
configured "flow" account (its key is in the config file) sends the MARKET orders that make the
market move while a client under test watches its streams, so the client's own account only
sees the orders the client placed.

Clients are configured through what their documentation names (``exchange.urls`` and
``options`` for ccxt; the ``*_URL`` class attributes for python-binance, via subclasses so no
global state changes). Every URL the client holds is pointed at the mock, so a call the mock
does not serve answers 404 from loopback instead of leaving the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

REPO = Path(__file__).resolve().parents[2]

FLOW_KEY = "FLOWflowFLOWflow" * 4
FLOW_SECRET = "flowSECRETflowSECRETflowSECRETflowSECRETflowSECRETflowSECRET1234"

CONFIG_YAML = f"""\
seed: 11
bookLevels: 50
accounts:
  - name: trader
    balances: {{USDT: "100000", BTC: "10", ETH: "100", BNB: "1000"}}
  - name: flow
    apiKey: {FLOW_KEY}
    secretKey: {FLOW_SECRET}
    balances: {{USDT: "1000000", BTC: "100", ETH: "1000"}}
rateLimits:
  requestWeightPerMinute: 100000
  ordersPer10s: 1000
"""

_HOST_RE = re.compile(r"^(https?|wss?)://[^/]+")


class ServerError(RuntimeError):
    """The mock answered a helper request with a non-2xx status."""


@dataclass
class Mockex:
    """One running ``mockex serve`` process and what its banner printed."""

    proc: subprocess.Popen[str]
    rest_url: str
    api_key: str
    secret: str
    stderr_path: Path
    lines: list[str] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.rest_url.replace("http://", "ws://", 1)

    def redirect(self, url: str) -> str:
        """``url`` with its scheme and host replaced by the mock's (path kept)."""
        base = self.ws_url if url.startswith("ws") else self.rest_url
        return _HOST_RE.sub(base, url, count=1)

    # -- direct REST calls the tests make themselves (not through a client under test) --
    def request(self, method: str, path: str, params: dict[str, Any] | None = None, *,
                key: str | None = None, secret: str | None = None) -> Any:
        query = urlencode({k: v for k, v in (params or {}).items() if v is not None})
        headers: dict[str, str] = {}
        if secret is not None:
            query = f"{query}&timestamp={int(time.time() * 1000)}" if query else f"timestamp={int(time.time() * 1000)}"
            sig = hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()
            query = f"{query}&signature={sig}"
        if key is not None:
            headers["X-MBX-APIKEY"] = key
        req = Request(f"{self.rest_url}{path}?{query}", method=method, headers=headers)
        try:
            with urlopen(req, timeout=10) as resp:
                return json.load(resp)
        except HTTPError as exc:
            raise ServerError(f"{method} {path} -> {exc.code}: {exc.read()[:300]!r}") from exc

    def flow_order(self, symbol: str, side: str, quantity: str, **extra: Any) -> Any:
        """A MARKET order (unless ``extra`` says otherwise) from the flow account."""
        params = {"symbol": symbol, "side": side, "type": "MARKET", "quantity": quantity,
                  "newOrderRespType": "FULL", **extra}
        return self.request("POST", "/api/v3/order", params, key=FLOW_KEY, secret=FLOW_SECRET)

    def credit(self, account: str, asset: str, delta: str) -> Any:
        """Control plane: credit (or debit) an account; the venue-side effect is a balanceUpdate."""
        body = json.dumps({"account": account, "asset": asset, "delta": delta}).encode()
        req = Request(f"{self.rest_url}/_mock/balance", data=body, method="POST",
                      headers={"Content-Type": "application/json"})
        with urlopen(req, timeout=10) as resp:
            return json.load(resp)

    def depth(self, symbol: str, limit: int = 5) -> Any:
        return self.request("GET", "/api/v3/depth", {"symbol": symbol, "limit": limit})

    def server_log(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""


def start_mockex(tmp: Path) -> Mockex:
    """Start ``mockex serve`` on a free port with the compat config; parse its banner."""
    cfg = tmp / "mockex-compat.yaml"
    cfg.write_text(CONFIG_YAML)
    stderr_path = tmp / "mockex.stderr"
    err = stderr_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_exchange.cli", "serve", "--port", "0", "--config", str(cfg)],
        stdout=subprocess.PIPE, stderr=err, text=True, cwd=REPO,
    )
    err.close()
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # keeps draining stdout so the server never blocks on a full pipe
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, name="mockex-stdout", daemon=True).start()
    seen: list[str] = []
    found: dict[str, str] = {}
    patterns = {"url": r"\s+REST base URL\s+(\S+)", "key": r"\s+API key\s+(\S+)",
                "secret": r"\s+API secret\s+(\S+)"}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        for name, pat in patterns.items():
            if m := re.match(pat, line):
                found[name] = m.group(1)
        if line.startswith("Press Ctrl-C"):
            break
    if set(found) != set(patterns):
        proc.kill()
        proc.wait(10)
        raise RuntimeError(f"mockex serve did not start: stdout={''.join(seen)!r} "
                           f"stderr={stderr_path.read_text(errors='replace')[-2000:]!r}")
    return Mockex(proc, found["url"], found["key"], found["secret"], stderr_path, seen)


def stop_mockex(srv: Mockex) -> int:
    """Ctrl-C the server as a user would; returns its exit code (killed after 15 s)."""
    if srv.proc.poll() is None:
        srv.proc.send_signal(signal.SIGINT)
        try:
            srv.proc.wait(15)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
            srv.proc.wait(10)
            return -9
    return srv.proc.returncode


# ----------------------------------------------------------------------------- async driving
STREAM_WAIT_S = 10.0


async def drive_until(task: asyncio.Task[Any], action: Callable[[], Any], *, every: float = 0.25,
                      timeout: float = STREAM_WAIT_S) -> Any:
    """Run the blocking ``action`` (e.g. a flow MARKET order) again and again until ``task``
    (a stream wait started before) finishes; its result. Repeating covers the moment between a
    client's connect and the server's subscription, which no client exposes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            await asyncio.to_thread(action)
            done, _ = await asyncio.wait({task}, timeout=every)
            if task in done:
                return task.result()
            if loop.time() > deadline:
                raise TimeoutError(f"no stream update within {timeout} s of repeated actions")
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def eventually(check: Callable[[], bool], *, timeout: float = STREAM_WAIT_S, what: str = "") -> None:
    """Wait (polling the event loop) until ``check()`` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise TimeoutError(f"not seen within {timeout} s: {what}")
        await asyncio.sleep(0.02)


# ----------------------------------------------------------------------------- ccxt
CCXT_OPTIONS: dict[str, Any] = {
    "defaultType": "spot",
    # documented options: spot markets only, no margin-pair or sapi currency fetches
    "fetchMarkets": {"types": ["spot"]},
    "fetchMargins": False,
    "fetchCurrencies": False,
}


def _redirect_tree(srv: Mockex, node: Any) -> Any:
    if isinstance(node, str):
        return srv.redirect(node)
    if isinstance(node, dict):
        for k, v in node.items():
            node[k] = _redirect_tree(srv, v)
    return node


def point_ccxt(srv: Mockex, ex: Any) -> Any:
    """Point every URL of a ccxt binance instance at the mock, keys kept (as real-clients.md
    says: spot 'public'/'private' -> /api/v3, 'v1' -> /api/v1, ws 'spot' -> /ws, ws-api spot ->
    /ws-api/v3; the sapi/fapi/... URLs too, so nothing can reach the internet)."""
    _redirect_tree(srv, ex.urls["api"])
    return ex


def ccxt_config(srv: Mockex, **extra: Any) -> dict[str, Any]:
    return {"apiKey": srv.api_key, "secret": srv.secret, "timeout": 10_000, "enableRateLimit": False,
            "options": dict(CCXT_OPTIONS), **extra}


# ----------------------------------------------------------------------------- python-binance
def redirected_subclass(srv: Mockex, base: type, name: str) -> Any:
    """A subclass of a python-binance class whose ``*_URL`` class attributes name the mock
    (the documented override; ``{}``-free strings survive the constructor's ``.format``)."""
    attrs: dict[str, Any] = {}
    for klass in reversed(base.__mro__):
        for attr, value in vars(klass).items():
            if attr.endswith("_URL") and isinstance(value, str) and _HOST_RE.match(value):
                attrs[attr] = srv.redirect(value)
    return type(name, (base,), attrs)
