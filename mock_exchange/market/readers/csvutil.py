"""Small helpers shared by the CSV readers (Binance public data, tardis.dev).

Neither source quotes fields, so a line is split on commas; a header row is recognised by a
non-numeric first field. Decimal values are re-rendered the way the venue prints them on its
streams (8 decimals, ``"61837.63000000"``) so CSV-sourced payloads look like recorded ones.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from mock_exchange.market.readers.base import BadLine

_DECIMALS = 8
_QUANT = Decimal(1).scaleb(-_DECIMALS)


def venue_decimal(text: str, what: str) -> str:
    """'27077.3' -> '27077.30000000'; exponent forms ('1e-05') are expanded; > 8 decimals is an error."""
    body = text[1:] if text[:1] == "-" else text
    whole, dot, frac = body.partition(".")
    if (
        body.isascii()
        and (whole.isdigit() or (dot and not whole and frac))
        and (not dot or frac.isdigit())
        and len(frac) <= _DECIMALS
    ):
        return f"{text[:len(text) - len(body)]}{whole or '0'}.{frac.ljust(_DECIMALS, '0')}"
    try:
        dec = Decimal(text)
    except InvalidOperation:
        raise BadLine(f"{what} {text[:40]!r} is not a decimal number") from None
    if not dec.is_finite():
        raise BadLine(f"{what} {text[:40]!r} is not a finite number")
    exact = dec.quantize(_QUANT)
    if exact != dec:
        raise BadLine(f"{what} {text[:40]!r} has more than {_DECIMALS} decimals")
    return f"{exact:f}"


def to_int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadLine(f"{what} {text[:40]!r} is not an integer") from None


def to_bool(text: str, what: str) -> bool:
    low = text.strip().lower()
    if low == "true":
        return True
    if low == "false":
        return False
    raise BadLine(f"{what} {text[:40]!r} is not true/false")


def epoch_ms(value: int) -> int:
    """Milliseconds from an epoch timestamp in s, ms, µs or ns, told apart by magnitude.

    Binance spot public data switched from ms to µs on 2025-01-01; tardis.dev is µs throughout.
    """
    if value >= 100_000_000_000_000_000:  # >= 1e17: ns
        return value // 1_000_000
    if value >= 100_000_000_000_000:  # >= 1e14: µs
        return value // 1_000
    if value >= 100_000_000_000:  # >= 1e11: ms
        return value
    return value * 1_000  # s


def is_header(fields: list[str]) -> bool:
    first = fields[0].strip()
    return not first.lstrip("-").isdigit()
