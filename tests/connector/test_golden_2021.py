"""Golden tests on the 2021 cryptofeed capture (four symbols, REST snapshots taken while the
combined stream ran, ../shared/data/binance-spot-2021-10-12)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from connector.order_book_data_source import markets_frame, message_from_stream
from connector.order_book_message import OrderBookMessage, OrderBookMessageType
from connector.order_book_tracker import BookSync
from connector.trading_pairs import TradingPairMap
from tests.connector.golden_data import exchange_info_2021, read_2021

PAIRS = {"NKNUSDT": "NKN-USDT", "BLZETH": "BLZ-ETH", "LRCBTC": "LRC-BTC", "RUNEEUR": "RUNE-EUR"}


class Reference:
    """Decimal {price: qty} per side, built by the documented rules."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.last = int(snapshot["lastUpdateId"])
        self.bids = {Decimal(p): Decimal(q) for p, q in snapshot["bids"] if Decimal(q)}
        self.asks = {Decimal(p): Decimal(q) for p, q in snapshot["asks"] if Decimal(q)}

    def apply(self, data: dict[str, Any]) -> None:
        if data["u"] <= self.last:
            return
        assert data["U"] <= self.last + 1
        for side, levels in ((self.bids, data["b"]), (self.asks, data["a"])):
            for p, q in levels:
                if Decimal(q):
                    side[Decimal(p)] = Decimal(q)
                else:
                    side.pop(Decimal(p), None)
        self.last = data["u"]


def test_2021_capture_every_frame_parses() -> None:
    capture = read_2021()
    symbols = {name.split("@")[0].upper() for name in capture.url.split("streams=")[1].split("/")}
    assert symbols == set(PAIRS)
    kinds: dict[str, int] = {}
    for _, frame in capture.frames:
        data = frame["data"]
        kind = frame["stream"].split("@", 1)[1]
        kinds[kind] = kinds.get(kind, 0) + 1
        msg = message_from_stream(data, PAIRS[frame["stream"].split("@")[0].upper()])
        if kind == "depth@100ms":
            assert msg is not None and msg.type is OrderBookMessageType.DIFF and msg.update_id == data["u"]
        elif kind == "aggTrade":
            assert msg is not None and msg.type is OrderBookMessageType.TRADE
            assert msg.trade_id == data["a"] and msg.price == Decimal(data["p"])
        else:
            assert msg is None  # bookTicker, kline_1m: not book messages
    assert set(kinds) == {"depth@100ms", "bookTicker", "kline_1m", "aggTrade"}
    assert len(capture.snapshots) == 4 and {s for _, s, _ in capture.snapshots} == set(PAIRS)


def test_2021_capture_rebuilds_each_symbol_like_the_reference() -> None:
    capture = read_2021()
    syncs = {s: BookSync(p) for s, p in PAIRS.items()}
    refs: dict[str, Reference] = {}
    early: dict[str, list[dict[str, Any]]] = {s: [] for s in PAIRS}
    # Replay in receive order: the snapshots were fetched while the stream ran.
    events: list[tuple[float, int, Any]] = [(t, 1, f) for t, f in capture.frames]
    events += [(t, 0, (sym, body)) for t, sym, body in capture.snapshots]
    compared = dict.fromkeys(PAIRS, 0)
    for _, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            symbol, body = item
            ref = refs[symbol] = Reference(body)
            for data in early[symbol]:
                ref.apply(data)
            sync = syncs[symbol]
            assert sync.on_snapshot(OrderBookMessage.snapshot(body, PAIRS[symbol], 0.0, symbol))
            assert sync.last_update_id == ref.last
            continue
        data = item["data"]
        if data.get("e") != "depthUpdate":
            continue
        symbol = data["s"]
        sync = syncs[symbol]
        sync.on_diff(OrderBookMessage.diff(data, PAIRS[symbol]))
        if symbol not in refs:
            early[symbol].append(data)
            assert not sync.synced
            continue
        ref = refs[symbol]
        ref.apply(data)
        book = sync.order_book
        assert sync.synced and sync.last_update_id == ref.last
        assert book.levels(True) == ref.bids and book.levels(False) == ref.asks
        assert book.best_bid == max(ref.bids) and book.best_ask == min(ref.asks)
        compared[symbol] += 1
    assert all(n >= 1 for n in compared.values()) and sum(compared.values()) > 150, compared
    for sync in syncs.values():
        s = sync.stats
        assert sync.synced and (s.resyncs, s.gaps, s.stale_snapshots) == (0, 0, 0)


def test_2021_exchange_info_names_and_markets() -> None:
    info = exchange_info_2021()
    pair_map = TradingPairMap.from_exchange_info(info)
    for symbol, pair in PAIRS.items():
        assert pair_map.to_trading_pair(symbol) == pair and pair_map.to_exchange(pair) == symbol
    frame = markets_frame(info, [])
    trading = [s for s in info["symbols"] if s["status"] == "TRADING"]
    assert len(frame) == len(trading) and len(trading) < len(info["symbols"])  # BREAK symbols left out
    assert frame.loc["NKNUSDT", "trading_pair"] == "NKN-USDT" and frame.loc["NKNUSDT", "quoteAsset"] == "USDT"
    assert frame["USDVolume"].isna().all() and frame["volume"].isna().all()  # no tickers given
    assert isinstance(frame, pd.DataFrame)
