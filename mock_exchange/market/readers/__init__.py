"""Market-data readers: recorded venue traffic and public data sets as ReplayRecord streams.

One module per source family: ``hftbacktest`` (``<ns> <frame>`` lines), ``cryptofeed`` (raw
ws/http files, merged by receive time), ``binance_csv`` (data.binance.vision), ``tardis``
(tardis.dev CSVs); mockex's own capture format is in ``mock_exchange.market.capture``. All of
them stream in constant memory, read plain/gzip (and zip for Binance), report damage after the
good records, and label depth records through a ``DepthSequenceChecker``.
"""

from mock_exchange.market.readers.base import ReplayReader
from mock_exchange.market.readers.binance_csv import BinanceCsvReader
from mock_exchange.market.readers.cryptofeed import CryptofeedReader, read_cryptofeed_exchange_info
from mock_exchange.market.readers.detect import open_reader, sniff_format
from mock_exchange.market.readers.hftbacktest import HftbacktestReader
from mock_exchange.market.readers.records import (
    KINDS,
    SYNC_OK,
    SYNC_RESYNC,
    SYNC_STALE,
    RecordKind,
    ReplayFormatError,
    ReplayRecord,
)
from mock_exchange.market.readers.sequence import Anchor, AnchorFailure, DepthSequenceChecker, SequenceGap
from mock_exchange.market.readers.tardis import TardisCsvReader

__all__ = [
    "KINDS",
    "SYNC_OK",
    "SYNC_RESYNC",
    "SYNC_STALE",
    "Anchor",
    "AnchorFailure",
    "BinanceCsvReader",
    "CryptofeedReader",
    "DepthSequenceChecker",
    "HftbacktestReader",
    "RecordKind",
    "ReplayFormatError",
    "ReplayReader",
    "ReplayRecord",
    "SequenceGap",
    "TardisCsvReader",
    "open_reader",
    "read_cryptofeed_exchange_info",
    "sniff_format",
]
