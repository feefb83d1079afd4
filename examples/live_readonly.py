"""Read-only tour of the live Binance Spot venue with the connector: markets, order books, trades.

No API key, no orders: everything here is public market data. It needs internet access to
api.binance.com and stream.binance.com:9443, so it cannot run in CI or in this repository's test
environment (which has no network); the tests only import it. The same code runs against the
mock exchange by swapping the config: ``VenueConfig.custom("http://127.0.0.1:8765")``.

    python examples/live_readonly.py [--pairs BTC-USDT,ETH-USDT] [--seconds 30] [--top 10]
"""

from __future__ import annotations

import argparse
import asyncio
from decimal import Decimal

from connector.config import VenueConfig
from connector.order_book_data_source import OrderBookTrackerDataSource
from connector.order_book_message import OrderBookMessage
from connector.order_book_tracker import OrderBookTracker


async def show_markets(config: VenueConfig, top: int) -> None:
    """The most traded pairs by 24 h USD volume."""
    source = OrderBookTrackerDataSource(config)
    try:
        markets = await source.get_active_exchange_markets()
    finally:
        await source.close()
    print(f"{len(markets)} trading pairs; top {top} by 24h USD volume:")
    for symbol, row in markets.head(top).iterrows():
        print(f"  {symbol:<12} {row['trading_pair']:<12} last {row['lastPrice']!s:<16} "
              f"USD volume {row['USDVolume']:>18,.0f}")


async def track_books(config: VenueConfig, pairs: list[str], seconds: float) -> None:
    """Follow the pairs' books (the documented snapshot + diff sync) and print them every 2 s."""
    tracker = OrderBookTracker(config, pairs)
    trades: dict[str, int] = dict.fromkeys(pairs, 0)

    def on_trade(msg: OrderBookMessage) -> None:
        trades[msg.trading_pair] += 1

    tracker.add_trade_listener(on_trade)
    await tracker.start()
    try:
        await tracker.wait_ready(30)
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            for pair in pairs:
                book = tracker.order_books[pair]
                bid, ask = book.best_bid, book.best_ask
                if bid is None or ask is None:
                    continue
                size = Decimal("1")
                vwap = book.get_vwap_for_volume(True, size)
                print(f"{pair:<10} bid {bid} ask {ask} spread {ask - bid} | buy {size}: vwap "
                      f"{vwap.result_price:.8f} | levels {book.bid_count}/{book.ask_count} | "
                      f"update {tracker.last_update_id(pair)} | last trade {book.last_trade_price} "
                      f"({trades[pair]} trades) | resyncs {tracker.stats[pair].resyncs}")
            await asyncio.sleep(min(2.0, seconds))
    finally:
        await tracker.stop()


async def main(pairs: list[str], seconds: float, top: int) -> None:
    config = VenueConfig.live()  # public data only: no credentials
    await show_markets(config, top)
    await track_books(config, pairs, seconds)


def cli() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", default="BTC-USDT,ETH-USDT")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--top", type=int, default=10)
    args = ap.parse_args()
    asyncio.run(main([p.strip() for p in args.pairs.split(",") if p.strip()], args.seconds, args.top))


if __name__ == "__main__":
    cli()
