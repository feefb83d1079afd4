"""Replay served over WebSocket (``mockex serve --replay FILES --speed max``) as fast as one client drains it.

Plain script (no pytest): ``python benchmarks/bench_replay_serve.py [--files N] [--no-parse]``.
A server process (the mock exchange with a ``ReplayDriver`` at ``max`` speed on the shared
BTCUSDT capture, ~650 s and ~99.6k records over two gzip files) waits for its first stream
subscriber, then replays; this process is that subscriber: one combined-stream connection
(``btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker``) that reads every frame and parses
it (``orjson``; ``--no-parse`` only counts). Server and client are separate processes, as a
bot and ``mockex serve`` would be (the machine's two cores are shared with everything else).

Printed: frames received, frames/s, MB/s, and "x real time" = the recording's span over the
time from the first to the last frame received; the server's own figure (records played per
second of its replay) follows. Every frame must arrive: the count is checked against the file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402
import orjson  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "binance-spot-btcusdt-2024-08-08"
FILES = [DATA / "btcusdt_20240808.gz", DATA / "btcusdt_20240809.gz"]
STREAMS = "btcusdt@depth@100ms/btcusdt@trade/btcusdt@bookTicker"
STREAM_KINDS = ("depth_diff", "trade", "book_ticker")


async def _child(files: list[str]) -> None:
    """The server process: serve, wait for a subscriber, replay at max speed, report, idle."""
    from mock_exchange.config import ServerConfig
    from mock_exchange.market.replay.serving import ReplayDriver
    from mock_exchange.server.streams import HUB
    from mock_exchange.testing import MockServer

    srv = MockServer(ServerConfig())
    await srv.start()
    driver = ReplayDriver(srv.state, files, speed="max")
    print(f"port {srv.port}", flush=True)
    runner = srv._runner
    assert runner is not None
    hub = runner.app[HUB]
    while not any(c.names for c in hub.conns):
        await asyncio.sleep(0.005)
    c0, w0 = time.process_time(), time.perf_counter()
    task = asyncio.create_task(driver.run())
    while not driver.done:
        await asyncio.sleep(0.01)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    span = (driver.position_ms - driver.start_ms) / 1000
    print(f"server {driver.records} {driver.frames} {wall:.6f} {cpu:.6f} {span:.3f} {hub.dropped_slow}", flush=True)
    await asyncio.sleep(3600)
    task.cancel()


async def _client(port: int, expected: int, parse: bool) -> tuple[int, int, float]:
    """(frames, bytes, seconds from the first frame to the last)."""
    frames = size = 0
    first = last = 0.0
    loads = orjson.loads
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"ws://127.0.0.1:{port}/stream?streams={STREAMS}", max_msg_size=0)
        while frames < expected:
            msg = await ws.receive(timeout=30)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            if not frames:
                first = time.perf_counter()
            frames += 1
            size += len(msg.data)
            if parse:
                loads(msg.data)
        last = time.perf_counter()
        await ws.close()
    return frames, size, last - first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=2, help="how many of the two capture files (1 or 2)")
    parser.add_argument("--no-parse", action="store_true", help="count frames without parsing them")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        asyncio.run(_child(args.child))
        return
    files = [str(p) for p in FILES[: max(1, min(2, args.files))]]
    missing = [p for p in files if not Path(p).exists()]
    if missing:
        sys.exit(f"captured data not found: {missing[0]}")
    from mock_exchange.market.replay.serving import check_replay

    summary = check_replay(files)
    expected = sum(summary.kinds[k] for k in STREAM_KINDS)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, __file__, "--child", *files], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[1])
        frames, size, secs = asyncio.run(_client(port, expected, not args.no_parse))
        server = proc.stdout.readline().split()
    finally:
        proc.kill()
        proc.wait()
    records, sent, s_wall, s_cpu, span, dropped = (int(server[1]), int(server[2]), float(server[3]),
                                                    float(server[4]), float(server[5]), int(server[6]))  # fmt: skip
    print(f"recording: {len(files)} file(s), {summary.records} records, {expected} stream frames, "
          f"{summary.span_s:.0f} s of market")
    print(f"client ({'parse' if not args.no_parse else 'count'}): {frames} frames in {secs:.2f} s = "
          f"{frames / secs:,.0f} frames/s, {size / secs / 1e6:.1f} MB/s, {span / secs:,.0f}x real time"
          f"{'' if frames == expected else f'  (MISSING {expected - frames})'}")
    print(f"server: {records} records played, {sent} frames published in {s_wall:.2f} s wall / {s_cpu:.2f} s cpu "
          f"= {records / s_wall:,.0f} records/s wall, {records / s_cpu:,.0f} records/s cpu; slow clients dropped: "
          f"{dropped}")


if __name__ == "__main__":
    main()
