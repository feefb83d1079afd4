"""Market sources for the mock exchange: replay readers and the capture format (issue 5)."""

from mock_exchange.market.capture import CaptureReader, CaptureWriter
from mock_exchange.market.readers import (
    BinanceCsvReader,
    CryptofeedReader,
    DepthSequenceChecker,
    HftbacktestReader,
    ReplayFormatError,
    ReplayRecord,
    TardisCsvReader,
    open_reader,
)

__all__ = [
    "BinanceCsvReader",
    "CaptureReader",
    "CaptureWriter",
    "CryptofeedReader",
    "DepthSequenceChecker",
    "HftbacktestReader",
    "ReplayFormatError",
    "ReplayRecord",
    "TardisCsvReader",
    "open_reader",
]
