"""The queue-position study of issue 5: a naive quoter on recorded BTCUSDT, fills by latency and model.

``python -m mock_exchange.market.replay.acceptance [FILES...] [--latencies 2,20,200] [--seed N]``
prints one row per order latency and, per queue model, the fills (fill events), the orders that
got at least one fill and the filled quantity; then the two ratios the study is about: how much
ignoring queue position ("touch" fills) inflates fills, and how much 2 ms -> 200 ms latency cuts
them. "Order latency" is used for both paths (entry and response); feed latency comes from the
recorded receive times (``FeedTiming`` defaults, min clock offset per window).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mock_exchange.engine.units import fmt, to_units
from mock_exchange.market.readers import open_reader
from mock_exchange.market.replay.exchange import ReplayExchange
from mock_exchange.market.replay.feed import FeedTiming, MarketFeed
from mock_exchange.market.replay.runner import ReplayRunner
from mock_exchange.market.replay.strategy import NaiveQuoter

DATA_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "binance-spot-btcusdt-2024-08-08"
DEFAULT_FILES = (DATA_DIR / "btcusdt_20240808.gz", DATA_DIR / "btcusdt_20240809.gz")
LATENCIES_MS = (2.0, 20.0, 200.0)
MODELS = ("risk_averse", "prob", "none")
MODEL_TITLES = {"risk_averse": "risk-averse queue", "prob": "probabilistic queue", "none": "no queue (touch)"}


@dataclass(frozen=True)
class StudyRow:
    """One (latency, queue model) run of the naive quoter."""

    latency_ms: float
    model: str
    fills: int  # fill events (partial fills count one each)
    orders_filled: int  # distinct orders with at least one fill
    filled_qty: int  # base units
    orders: int  # orders that reached the exchange
    rejected: int  # LIMIT_MAKER orders rejected because the touch had moved through them
    fills_queue: int  # fills from trades at the order's price (past the queue)
    fills_through: int  # fills from trades through the order's price
    fills_cross: int  # fills from the recorded book crossing the order's price


def load_feed(paths: Sequence[str | Path] = DEFAULT_FILES, timing: FeedTiming | None = None) -> MarketFeed:
    """Read and parse the capture once; the returned feed replays from memory on every run."""
    feed = MarketFeed(open_reader(list(paths)), timing, cache=True)
    for _ in feed:
        pass
    return feed


def run_quoter(
    feed: MarketFeed,
    latency_ms: float,
    model: str,
    *,
    symbol: str = "BTCUSDT",
    qty: int = to_units("0.001"),
    seed: int = 0,
) -> StudyRow:
    exchange = ReplayExchange(model)
    result = ReplayRunner(feed, exchange, NaiveQuoter(symbol, qty), seed, entry_latency=latency_ms).run()
    c = result.counts
    return StudyRow(
        latency_ms=latency_ms,
        model=model,
        fills=len(result.fills),
        orders_filled=len({f.client_id for f in result.fills}),
        filled_qty=result.filled_qty,
        orders=c["orders"],
        rejected=c["rejected"],
        fills_queue=c["fills_queue"],
        fills_through=c["fills_through"],
        fills_cross=c["fills_cross"],
    )


def quoter_study(
    feed: MarketFeed,
    latencies_ms: Sequence[float] = LATENCIES_MS,
    models: Sequence[str] = MODELS,
    seed: int = 0,
) -> list[StudyRow]:
    return [run_quoter(feed, lat, model, seed=seed) for lat in latencies_ms for model in models]


def format_table(rows: Sequence[StudyRow]) -> str:
    """The study as a Markdown table plus the two ratios."""
    models = list(dict.fromkeys(r.model for r in rows))
    latencies = list(dict.fromkeys(r.latency_ms for r in rows))
    cell = {(r.latency_ms, r.model): r for r in rows}
    head = "| order latency | " + " | ".join(MODEL_TITLES.get(m, m) for m in models) + " |"
    lines = [
        "fills (orders filled, BTC filled) of a naive 0.001 BTC LIMIT_MAKER quoter",
        "",
        head,
        "|" + "---|" * (len(models) + 1),
    ]
    for lat in latencies:
        parts = []
        for m in models:
            r = cell[(lat, m)]
            parts.append(f"{r.fills} ({r.orders_filled}, {fmt(r.filled_qty, 5)})")
        lines.append(f"| {lat:g} ms | " + " | ".join(parts) + " |")
    lines.append("")
    if "none" in models:
        for m in models:
            if m == "none":
                continue
            ratios = [cell[(lat, "none")].fills / max(1, cell[(lat, m)].fills) for lat in latencies]
            text = ", ".join(f"{lat:g} ms {x:.1f}x" for lat, x in zip(latencies, ratios, strict=True))
            lines.append(f"touch fills / {MODEL_TITLES.get(m, m)}: {text}")
    if len(latencies) > 1:
        lo, hi = latencies[0], latencies[-1]
        text = ", ".join(f"{MODEL_TITLES.get(m, m)} {cell[(lo, m)].fills / max(1, cell[(hi, m)].fills):.1f}x" for m in models)
        lines.append(f"fills at {lo:g} ms / fills at {hi:g} ms: {text}")
    lines.append("")
    lines.append("fill sources (queue / through / cross) and LIMIT_MAKER rejections:")
    for r in rows:
        lines.append(
            f"  {r.latency_ms:>5g} ms {r.model:<12} {r.fills_queue:>5} / {r.fills_through:>4} / {r.fills_cross:>4}"
            f"   rejected {r.rejected} of {r.orders} orders"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("files", nargs="*", default=[str(p) for p in DEFAULT_FILES])
    parser.add_argument("--latencies", default=",".join(f"{x:g}" for x in LATENCIES_MS), help="ms, comma separated")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    missing = [f for f in args.files if not Path(f).exists()]
    if missing:
        print(f"market data not found: {missing[0]}", file=sys.stderr)
        return 2
    feed = load_feed(args.files)
    est = feed.report.offset_ns
    if est is not None:
        print(f"clock offset (local - venue, min over the first window): {est / 1e6:.1f} ms")
    rows = quoter_study(
        feed, [float(x) for x in args.latencies.split(",")], args.models.split(","), seed=args.seed
    )
    print(format_table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
