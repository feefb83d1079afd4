"""Real third-party Binance clients (ccxt, python-binance) against ``mockex serve``."""
