"""Start ``mockex serve`` as a user does (a real process) and read what it prints."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

_FIELDS = {"url": r"REST base URL", "key": r"API key", "secret": r"API secret", "market": r"market"}


def start_serve(*args: str, timeout_s: float = 30) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """``mockex serve --port 0 ARGS``; the printed base URL, key, secret and market line
    (keys ``url``, ``key``, ``secret``, ``market``) once it says "Press Ctrl-C"."""
    proc = subprocess.Popen([sys.executable, "-m", "mock_exchange.cli", "serve", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    info: dict[str, str] = {}
    assert proc.stdout is not None
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line or line.startswith("Press Ctrl-C"):
            break
        for name, label in _FIELDS.items():
            if m := re.match(rf"\s+{label}\s+(\S.*)$", line):
                info[name] = m.group(1).strip() if name == "market" else m.group(1).split()[0]
    return proc, info


def stop_serve(proc: subprocess.Popen[str], timeout_s: float = 30) -> tuple[str, str]:
    """Ctrl-C, then the process's remaining stdout and stderr."""
    proc.send_signal(signal.SIGINT)
    return proc.communicate(timeout=timeout_s)
