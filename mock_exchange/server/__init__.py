"""The Binance-Spot wire server around the engine: REST ``/api/v3`` and the ``/_mock`` control plane."""

from mock_exchange.server.app import STATE, build_app
from mock_exchange.server.state import ExchangeState

__all__ = ["STATE", "ExchangeState", "build_app"]
