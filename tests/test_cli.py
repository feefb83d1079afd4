"""`mockex serve` as a user runs it: a real process, printed URLs and keys, clean Ctrl-C."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.serve_process import start_serve


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc, info = start_serve(*args)
    info.pop("market", None)
    return proc, info


def test_serve_prints_urls_and_funded_key_then_stops_on_ctrl_c() -> None:
    proc, info = _start()
    try:
        assert set(info) == {"url", "key", "secret"}, info
        assert info["url"].startswith("http://127.0.0.1:")
        with urllib.request.urlopen(f"{info['url']}/api/v3/depth?symbol=BTCUSDT&limit=5") as resp:
            depth = json.load(resp)
        assert len(depth["bids"]) == 5 and len(depth["asks"]) == 5
        query = f"timestamp={int(time.time() * 1000)}"
        sig = hmac.new(info["secret"].encode(), query.encode(), hashlib.sha256).hexdigest()
        req = urllib.request.Request(f"{info['url']}/api/v3/account?{query}&signature={sig}",
                                     headers={"X-MBX-APIKEY": info["key"]})
        with urllib.request.urlopen(req) as resp:
            acct = json.load(resp)
        usdt = next(b for b in acct["balances"] if b["asset"] == "USDT")
        assert float(usdt["free"]) > 0
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err


def test_serve_rejects_bad_config_naming_file_line_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "mock.yaml"
    cfg.write_text("seed: 3\naccounts:\n  - name: a\n    balances:\n      USDT: lots\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mock_exchange.cli", "serve", "--port", "0", "--config", str(cfg)],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 2
    assert f"{cfg}:5: accounts[0].balances.USDT:" in proc.stderr
    assert "Traceback" not in proc.stderr
