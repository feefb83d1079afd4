"""Trading-pair names: the connector's "BTC-USDT" versus the venue's "BTCUSDT".

The venue's symbol is base + quote with no separator, so splitting needs to know the assets; the
map is built from exchangeInfo (each symbol's baseAsset/quoteAsset). Before exchangeInfo is known,
or for a symbol it does not list, the split falls back to well-known quote assets (longest match).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Quote assets seen on Binance Spot, longest first so that e.g. "FDUSD" wins over "USD".
KNOWN_QUOTES: tuple[str, ...] = tuple(
    sorted(
        (
            "USDT", "USDC", "FDUSD", "BUSD", "TUSD", "USDP", "DAI", "USD", "BTC", "ETH", "BNB", "EUR",
            "GBP", "TRY", "BRL", "AUD", "JPY", "RUB", "UAH", "ZAR", "IDRT", "BIDR", "NGN", "PLN", "RON",
            "ARS", "MXN", "COP", "CZK", "XRP", "TRX", "DOGE", "DOT", "SOL", "AEUR", "EURI", "PAX",
            "VAI", "BVND", "GYEN", "UST",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip


def split_trading_pair(trading_pair: str) -> tuple[str, str]:
    """("BTC", "USDT") from "BTC-USDT"."""
    base, sep, quote = trading_pair.partition("-")
    if not sep or not base or not quote:
        raise ValueError(f"not a trading pair (expected BASE-QUOTE): {trading_pair!r}")
    return base, quote


def convert_to_exchange_trading_pair(trading_pair: str) -> str:
    """The venue's symbol ("BTCUSDT") for a connector pair ("BTC-USDT")."""
    base, quote = split_trading_pair(trading_pair)
    return f"{base}{quote}".upper()


def guess_trading_pair(symbol: str) -> str | None:
    """Split a venue symbol by known quote suffixes; None when no known quote matches."""
    sym = symbol.upper()
    for quote in KNOWN_QUOTES:
        if sym.endswith(quote) and len(sym) > len(quote):
            return f"{sym[: -len(quote)]}-{quote}"
    return None


class TradingPairMap:
    """Both directions of the name conversion for one venue, from its exchangeInfo."""

    def __init__(self, symbols: Mapping[str, tuple[str, str]] | None = None) -> None:
        self._to_pair: dict[str, str] = {}
        self._to_symbol: dict[str, str] = {}
        for symbol, (base, quote) in (symbols or {}).items():
            self.add(symbol, base, quote)

    @classmethod
    def from_exchange_info(cls, exchange_info: Mapping[str, Any]) -> TradingPairMap:
        """Every symbol of an exchangeInfo response (whatever its status)."""
        out = cls()
        out.update_from_exchange_info(exchange_info)
        return out

    def update_from_exchange_info(self, exchange_info: Mapping[str, Any]) -> None:
        for item in exchange_info.get("symbols", []):
            self.add(str(item["symbol"]), str(item["baseAsset"]), str(item["quoteAsset"]))

    def add(self, symbol: str, base: str, quote: str) -> None:
        pair = f"{base}-{quote}"
        self._to_pair[symbol] = pair
        self._to_symbol[pair] = symbol

    def __len__(self) -> int:
        return len(self._to_pair)

    def __contains__(self, name: object) -> bool:
        return name in self._to_pair or name in self._to_symbol

    def symbols(self) -> list[str]:
        return list(self._to_pair)

    def trading_pairs(self) -> list[str]:
        return list(self._to_symbol)

    def to_exchange(self, trading_pair: str) -> str:
        """"BTC-USDT" -> "BTCUSDT" (the map first, then plain concatenation)."""
        symbol = self._to_symbol.get(trading_pair)
        return symbol if symbol is not None else convert_to_exchange_trading_pair(trading_pair)

    def to_trading_pair(self, symbol: str) -> str | None:
        """"BTCUSDT" -> "BTC-USDT" (the map first, then known quote suffixes); None if unknown."""
        pair = self._to_pair.get(symbol)
        if pair is not None:
            return pair
        pair = self._to_pair.get(symbol.upper())
        return pair if pair is not None else guess_trading_pair(symbol)


def convert_from_exchange_trading_pair(symbol: str, pair_map: TradingPairMap | None = None) -> str | None:
    """"BTCUSDT" -> "BTC-USDT" using ``pair_map`` when given, else the known-quote fallback."""
    if pair_map is not None:
        return pair_map.to_trading_pair(symbol)
    return guess_trading_pair(symbol)
