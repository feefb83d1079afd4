"""Public market data from the venue: markets, depth snapshots, diff and trade streams.

Everything here is unauthenticated. REST goes to ``config.rest_url``; streams are combined-stream
WebSocket connections to ``config.stream_url + "/stream?streams=..."``, re-established with
exponential backoff (and at once after a ``serverShutdown`` notice). Each connection gets a new
``connection_id`` that is stamped on its messages, so the tracker can tell a reconnect happened
(diffs from before and after it must not be stitched together without a new snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp
import orjson
import pandas as pd

from connector.active_order_tracker import ActiveOrderTracker
from connector.config import VenueConfig
from connector.order_book import OrderBook
from connector.order_book_message import OrderBookMessage
from connector.trading_pairs import TradingPairMap, convert_to_exchange_trading_pair

log = logging.getLogger("connector.market_data")

# Quote assets valued at 1 USD when ranking markets by USD volume.
USD_STABLECOINS = frozenset({"USDT", "USDC", "BUSD", "FDUSD", "TUSD", "USD"})
MARKET_COLUMNS = ["trading_pair", "baseAsset", "quoteAsset", "volume", "quoteVolume", "lastPrice", "USDVolume"]


class MarketDataError(Exception):
    """A public REST request the venue refused: HTTP status, venue code and message, Retry-After."""

    def __init__(self, status: int, code: int | None, msg: str, retry_after_s: float | None = None) -> None:
        super().__init__(f"HTTP {status} code={code}: {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.retry_after_s = retry_after_s


@dataclass
class OrderBookTrackerEntry:
    """A pair's book as handed out by ``get_tracking_pairs`` (and kept by the tracker)."""

    trading_pair: str
    timestamp: float
    order_book: OrderBook
    active_order_tracker: ActiveOrderTracker = field(default_factory=ActiveOrderTracker)


@dataclass
class StreamStats:
    """Connection counters of one stream kind (diffs or trades)."""

    connects: int = 0
    disconnects: int = 0
    frames: int = 0
    server_shutdowns: int = 0
    errors: int = 0
    last_error: str = ""


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


class OrderBookTrackerDataSource:
    """Market data for ``trading_pairs`` ("BTC-USDT"); all pairs' streams share one connection per kind."""

    def __init__(
        self,
        config: VenueConfig,
        trading_pairs: Sequence[str] | None = None,
        *,
        snapshot_limit: int = 5000,
        snapshot_interval_s: float = 3600.0,
        depth_stream: str = "depth@100ms",
        trade_stream: str = "trade",
        reconnect_min_s: float = 0.25,
        reconnect_max_s: float = 30.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.config = config
        self._trading_pairs: list[str] = list(trading_pairs or [])
        self.snapshot_limit = snapshot_limit
        self.snapshot_interval_s = snapshot_interval_s
        self.depth_stream = depth_stream
        self.trade_stream = trade_stream
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.pair_map = TradingPairMap()
        self._session = session
        self._own_session = session is None
        self._connection_ids = itertools.count(1)
        self.diff_connection_id = 0  # id of the current diff stream connection (0 = none yet)
        self.diff_stream_connected = asyncio.Event()
        self.trade_stream_connected = asyncio.Event()
        self.diff_stats = StreamStats()
        self.trade_stats = StreamStats()
        self._open_ws: set[aiohttp.ClientWebSocketResponse] = set()
        # Called with the new connection id each time the diff stream (re)connects.
        self.diff_connect_listeners: list[Callable[[int], None]] = []

    # ------------------------------------------------------------------ plumbing
    @property
    def trading_pairs(self) -> list[str]:
        return list(self._trading_pairs)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()  # per-request timeouts; streams have none
            self._own_session = True
        return self._session

    async def close(self) -> None:
        """Close open stream sockets and the HTTP session this source created."""
        for ws in list(self._open_ws):
            with contextlib.suppress(Exception):
                await ws.close()
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def _get(self, path: str, params: Mapping[str, Any] | None = None,
                   client: aiohttp.ClientSession | None = None) -> Any:
        """GET a public endpoint; the venue's error body becomes a MarketDataError."""
        session = client or self._client()
        url = self.config.rest_url + path
        timeout = aiohttp.ClientTimeout(total=self.config.request_timeout_s)
        async with session.get(url, params=dict(params or {}), timeout=timeout) as resp:
            body = await resp.read()
            if resp.status >= 400:
                code, msg = None, body.decode(errors="replace")[:200]
                with contextlib.suppress(Exception):
                    err = orjson.loads(body)
                    code, msg = int(err["code"]), str(err["msg"])
                retry = resp.headers.get("Retry-After")
                raise MarketDataError(resp.status, code, msg, float(retry) if retry else None)
            return orjson.loads(body)

    # ------------------------------------------------------------------ markets
    async def get_exchange_info(self) -> dict[str, Any]:
        """GET /api/v3/exchangeInfo (also refreshes the pair-name map)."""
        info: dict[str, Any] = await self._get("/api/v3/exchangeInfo")
        self.pair_map.update_from_exchange_info(info)
        return info

    async def get_active_exchange_markets(self) -> pd.DataFrame:
        """One row per TRADING symbol, indexed by the venue's symbol, highest USD volume first.

        Columns: trading_pair, baseAsset, quoteAsset, volume, quoteVolume, lastPrice (Decimal, None
        when the venue gave no 24 h ticker) and USDVolume (float: quoteVolume times the quote
        asset's USD price; 1 for USD stablecoins, else the <QUOTE>USDT last price, else NaN).
        """
        info, tickers = await asyncio.gather(self.get_exchange_info(), self._get("/api/v3/ticker/24hr"))
        return markets_frame(info, tickers)

    async def get_trading_pairs(self) -> list[str]:
        """The configured pairs, or (none configured) every active market's pair ("BTC-USDT")."""
        if not self._trading_pairs:
            markets = await self.get_active_exchange_markets()
            self._trading_pairs = [str(p) for p in markets["trading_pair"]]
        return list(self._trading_pairs)

    # ------------------------------------------------------------------ snapshots
    async def get_snapshot(self, client: aiohttp.ClientSession | None, trading_pair: str,
                           limit: int | None = None) -> dict[str, Any]:
        """GET /api/v3/depth for one pair: {"lastUpdateId", "bids", "asks"} as the venue sent it."""
        params = {"symbol": self.pair_map.to_exchange(trading_pair), "limit": limit or self.snapshot_limit}
        data: dict[str, Any] = await self._get("/api/v3/depth", params, client)
        return data

    async def get_snapshot_message(self, trading_pair: str, limit: int | None = None) -> OrderBookMessage:
        data = await self.get_snapshot(None, trading_pair, limit)
        return OrderBookMessage.snapshot(data, trading_pair, self.config.clock.now(),
                                         self.pair_map.to_exchange(trading_pair))

    async def get_new_order_book(self, trading_pair: str) -> OrderBook:
        """A book built from one REST snapshot (no stream: a point-in-time view)."""
        book = OrderBook()
        book.apply_message(await self.get_snapshot_message(trading_pair))
        return book

    async def get_tracking_pairs(self) -> dict[str, OrderBookTrackerEntry]:
        """A snapshot-built entry per configured pair (the tracker keeps them in sync)."""
        out: dict[str, OrderBookTrackerEntry] = {}
        for pair in await self.get_trading_pairs():
            msg = await self.get_snapshot_message(pair)
            entry = OrderBookTrackerEntry(pair, msg.timestamp, OrderBook())
            bids, asks = entry.active_order_tracker.convert_snapshot_message_to_order_book_row(msg)
            entry.order_book.apply_snapshot(bids, asks, msg.update_id)
            out[pair] = entry
        return out

    async def listen_for_order_book_snapshots(self, ev_loop: asyncio.AbstractEventLoop | None,
                                              output: asyncio.Queue[OrderBookMessage]) -> None:
        """Every ``snapshot_interval_s``: a REST snapshot per pair onto ``output`` (forever)."""
        while True:
            for pair in await self.get_trading_pairs():
                try:
                    output.put_nowait(await self.get_snapshot_message(pair))
                except asyncio.CancelledError:
                    raise
                except MarketDataError as exc:
                    log.warning("snapshot of %s refused: %s", pair, exc)
                    await asyncio.sleep(exc.retry_after_s or 5.0)
                except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
                    log.warning("snapshot of %s failed: %r", pair, exc)
                    await asyncio.sleep(5.0)
            await asyncio.sleep(self.snapshot_interval_s)

    # ------------------------------------------------------------------ streams
    def stream_url(self, streams: Sequence[str]) -> str:
        return f"{self.config.stream_url}/stream?streams={'/'.join(streams)}"

    def _symbols(self, pairs: Sequence[str]) -> dict[str, str]:
        return {self.pair_map.to_exchange(p): p for p in pairs}

    async def listen_for_order_book_diffs(self, ev_loop: asyncio.AbstractEventLoop | None,
                                          output: asyncio.Queue[OrderBookMessage]) -> None:
        """Diff messages of every pair onto ``output``, forever (reconnecting)."""
        symbols = self._symbols(await self.get_trading_pairs())
        streams = [f"{s.lower()}@{self.depth_stream}" for s in symbols]
        put, diff = output.put_nowait, OrderBookMessage.diff

        def on_connect(conn_id: int) -> None:
            self.diff_connection_id = conn_id
            self.diff_stream_connected.set()
            for listener in list(self.diff_connect_listeners):
                listener(conn_id)

        def on_data(data: dict[str, Any], conn_id: int) -> None:
            if data.get("e") == "depthUpdate":
                pair = symbols.get(data["s"])
                if pair is not None:
                    put(diff(data, pair, conn_id))

        await self._listen(streams, on_connect, on_data, self.diff_stream_connected, self.diff_stats)

    async def listen_for_trades(self, ev_loop: asyncio.AbstractEventLoop | None,
                                output: asyncio.Queue[OrderBookMessage]) -> None:
        """Trade messages of every pair onto ``output``, forever (reconnecting)."""
        symbols = self._symbols(await self.get_trading_pairs())
        streams = [f"{s.lower()}@{self.trade_stream}" for s in symbols]
        put, trade = output.put_nowait, OrderBookMessage.trade

        def on_connect(conn_id: int) -> None:
            self.trade_stream_connected.set()

        def on_data(data: dict[str, Any], conn_id: int) -> None:
            if data.get("e") in ("trade", "aggTrade"):
                pair = symbols.get(data["s"])
                if pair is not None:
                    put(trade(data, pair, conn_id))

        await self._listen(streams, on_connect, on_data, self.trade_stream_connected, self.trade_stats)

    async def _listen(
        self,
        streams: list[str],
        on_connect: Callable[[int], None],
        on_data: Callable[[dict[str, Any], int], None],
        connected: asyncio.Event,
        stats: StreamStats,
    ) -> None:
        if not streams:
            await asyncio.Event().wait()  # nothing to listen to: idle until cancelled
        url = self.stream_url(streams)
        loop = asyncio.get_running_loop()
        backoff = self.reconnect_min_s
        loads = orjson.loads
        while True:
            started = loop.time()
            shutdown = False
            try:
                async with self._client().ws_connect(url, autoping=True, max_msg_size=0) as ws:
                    self._open_ws.add(ws)
                    conn_id = next(self._connection_ids)
                    stats.connects += 1
                    on_connect(conn_id)
                    try:
                        async for msg in ws:
                            if msg.type is not aiohttp.WSMsgType.TEXT:
                                if msg.type is aiohttp.WSMsgType.ERROR:
                                    raise ConnectionError(f"stream error: {ws.exception()!r}")
                                continue
                            frame = loads(msg.data)
                            data = frame.get("data", frame) if isinstance(frame, dict) else frame
                            if not isinstance(data, dict):
                                continue
                            stats.frames += 1
                            if data.get("e") == "serverShutdown":
                                stats.server_shutdowns += 1
                                shutdown = True
                                break
                            on_data(data, conn_id)
                    finally:
                        self._open_ws.discard(ws)
                        connected.clear()
                        stats.disconnects += 1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # network errors, or a frame we could not read: reconnect
                stats.errors += 1
                stats.last_error = repr(exc)
                log.warning("stream %s failed: %r", url, exc)
            if shutdown:
                backoff = self.reconnect_min_s
                delay = 0.0
            else:
                if loop.time() - started > 30.0:
                    backoff = self.reconnect_min_s
                delay = backoff
                backoff = min(backoff * 2, self.reconnect_max_s)
            await asyncio.sleep(delay)


def message_from_stream(data: Mapping[str, Any], trading_pair: str, connection_id: int = 0) -> OrderBookMessage | None:
    """The OrderBookMessage of a market stream payload (depthUpdate, trade, aggTrade); None for
    payloads that are not book or trade messages (bookTicker, kline, tickers, ...)."""
    kind = data.get("e")
    if kind == "depthUpdate":
        return OrderBookMessage.diff(data, trading_pair, connection_id)
    if kind == "trade" or kind == "aggTrade":
        return OrderBookMessage.trade(data, trading_pair, connection_id)
    return None


def markets_frame(exchange_info: Mapping[str, Any], tickers: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The active-markets table from exchangeInfo and the all-symbols 24 h ticker."""
    by_symbol = {str(t.get("symbol")): t for t in tickers}

    def usd_price(quote: str) -> float:
        if quote in USD_STABLECOINS:
            return 1.0
        ref = by_symbol.get(f"{quote}USDT")
        last = _decimal(ref.get("lastPrice")) if ref else None
        return float(last) if last is not None and last > 0 else math.nan

    rows: list[dict[str, Any]] = []
    index: list[str] = []
    for item in exchange_info.get("symbols", []):
        if item.get("status") != "TRADING":
            continue
        symbol, base, quote = str(item["symbol"]), str(item["baseAsset"]), str(item["quoteAsset"])
        t = by_symbol.get(symbol) or {}
        quote_volume = _decimal(t.get("quoteVolume"))
        usd = usd_price(quote)
        rows.append({
            "trading_pair": f"{base}-{quote}", "baseAsset": base, "quoteAsset": quote,
            "volume": _decimal(t.get("volume")), "quoteVolume": quote_volume, "lastPrice": _decimal(t.get("lastPrice")),
            "USDVolume": float(quote_volume) * usd if quote_volume is not None else math.nan,
        })  # fmt: skip
        index.append(symbol)
    frame = pd.DataFrame(rows, index=pd.Index(index, name="symbol"), columns=MARKET_COLUMNS)
    frame["USDVolume"] = frame["USDVolume"].astype("float64")
    return frame.sort_values("USDVolume", ascending=False, na_position="last", kind="stable")


__all__ = [
    "MARKET_COLUMNS", "USD_STABLECOINS", "MarketDataError", "OrderBookTrackerDataSource", "OrderBookTrackerEntry",
    "StreamStats", "convert_to_exchange_trading_pair", "markets_frame", "message_from_stream",
]  # fmt: skip
