"""REST benchmark: signed place + cancel round trips per second against `mockex serve`.

The server runs in its own process (as users run it); this process is the client, with
keep-alive connections and a few requests in flight. One round trip = POST /api/v3/order (a
passive LIMIT) + DELETE /api/v3/order, both HMAC-signed and fully validated.

    python benchmarks/bench_rest.py [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

import aiohttp
import yarl

CONFIG = """
seed: 1
rateLimits: {requestWeightPerMinute: 100000000, ordersPer10s: 100000000, ordersPerDay: 1000000000,
             rawRequestsPer5m: 100000000}
accounts:
  - name: bench
    balances: {USDT: "100000000", BTC: "1000"}
"""


def start_server() -> tuple[subprocess.Popen[str], str, str, str]:
    fd, path = tempfile.mkstemp(suffix=".yaml")
    with os.fdopen(fd, "w") as fh:
        fh.write(CONFIG)
    proc = subprocess.Popen([sys.executable, "-m", "mock_exchange.cli", "serve", "--port", "0", "--config", path],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = key = secret = ""
    for line in proc.stdout:
        if m := re.match(r"\s+REST base URL\s+(\S+)", line):
            url = m.group(1)
        elif m := re.match(r"\s+API key\s+(\S+)", line):
            key = m.group(1)
        elif m := re.match(r"\s+API secret\s+(\S+)", line):
            secret = m.group(1)
        if line.startswith("Press Ctrl-C"):
            break
    return proc, url, key, secret


async def worker(session: aiohttp.ClientSession, url: str, key: str, secret: str, deadline: float,
                 counter: list[int], wid: int) -> None:
    n = 0
    headers = {"X-MBX-APIKEY": key}
    while time.perf_counter() < deadline:
        n += 1
        cid = f"b{wid}x{n}"
        params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001",
                  "price": "30000.00", "newClientOrderId": cid, "newOrderRespType": "ACK",
                  "timestamp": str(int(time.time() * 1000))}
        q = urlencode(params)
        q += "&signature=" + hmac.new(secret.encode(), q.encode(), hashlib.sha256).hexdigest()
        async with session.post(yarl.URL(f"{url}/api/v3/order?{q}", encoded=True), headers=headers) as r:
            await r.read()
            assert r.status == 200, r.status
        c = urlencode({"symbol": "BTCUSDT", "origClientOrderId": cid, "timestamp": str(int(time.time() * 1000))})
        c += "&signature=" + hmac.new(secret.encode(), c.encode(), hashlib.sha256).hexdigest()
        async with session.delete(yarl.URL(f"{url}/api/v3/order?{c}", encoded=True), headers=headers) as r:
            await r.read()
            assert r.status == 200, r.status
        counter[0] += 1


async def run(url: str, key: str, secret: str, seconds: float, concurrency: int) -> float:
    counter = [0]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        # warm-up
        await asyncio.gather(*(worker(session, url, key, secret, time.perf_counter() + 1, [0], 100 + i)
                               for i in range(concurrency)))
        start = time.perf_counter()
        deadline = start + seconds
        await asyncio.gather(*(worker(session, url, key, secret, deadline, counter, i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    return counter[0] / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    proc, url, key, secret = start_server()
    try:
        rates = [asyncio.run(run(url, key, secret, args.seconds, args.concurrency)) for _ in range(args.runs)]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    best, worst = max(rates), min(rates)
    print(f"REST signed place+cancel round trips/s: runs={[round(r) for r in rates]} best={best:.0f} "
          f"worst={worst:.0f} spread={(best - worst) / best * 100:.1f}% (target >= 2000/s)")
    print(f"requests/s (2 per round trip): best={2 * best:.0f}")


if __name__ == "__main__":
    main()
