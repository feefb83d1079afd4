"""mockex's mock exchange: a pure engine (``engine``) under a Binance-Spot wire server (``server``)."""
