"""Fixed-point money: every price, quantity and amount in the engine is an ``int`` of 1e-8 units.

Why integers and not ``Decimal``: Binance quotes every price and quantity with at most 8
decimals, so a single scale of 10**8 represents all of them exactly, and Python ints are
several times faster than ``Decimal`` in the matching loop. ``Decimal`` (and strings) are
used only at the edges: parsing requests and formatting responses.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

SCALE = 100_000_000
DECIMALS = 8
_SCALE_DEC = Decimal(SCALE)


class PrecisionError(ValueError):
    """The value has more than 8 decimals (Binance's -1111 'too much precision')."""


def to_units(value: str | Decimal | int) -> int:
    """Parse a decimal string (or Decimal/int) into 1e-8 units; exact or an error."""
    if isinstance(value, int):
        return value * SCALE
    try:
        dec = value if isinstance(value, Decimal) else Decimal(value.strip())
    except (InvalidOperation, AttributeError) as exc:
        raise ValueError(f"not a decimal: {value!r}") from exc
    if not dec.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    scaled = dec * _SCALE_DEC
    units = int(scaled)
    if scaled != units:
        raise PrecisionError(f"too much precision: {value!r}")
    return units


def to_decimal(units: int) -> Decimal:
    """Exact Decimal of an amount in units."""
    return Decimal(units).scaleb(-DECIMALS)


def fmt(units: int, decimals: int = DECIMALS) -> str:
    """Format units as the venue does: a zero-padded string with ``decimals`` decimals.

    Digits past ``decimals`` are truncated (the venue never rounds up a displayed amount).
    """
    neg = units < 0
    if neg:
        units = -units
    whole, frac = divmod(units, SCALE)
    if decimals <= 0:
        text = str(whole)
    else:
        digits = f"{frac:08d}"
        if decimals <= DECIMALS:
            digits = digits[:decimals]
        else:
            digits = digits + "0" * (decimals - DECIMALS)
        text = f"{whole}.{digits}"
    return "-" + text if neg else text


def mul(price: int, qty: int) -> int:
    """Notional of ``qty`` at ``price`` in units, truncated toward zero."""
    return price * qty // SCALE


def div(amount: int, price: int) -> int:
    """How much quantity ``amount`` (quote units) buys at ``price``, truncated."""
    return amount * SCALE // price


def floor_to_step(qty: int, step: int) -> int:
    """Largest multiple of ``step`` not above ``qty`` (``step`` 0 means no step)."""
    if step <= 0:
        return qty
    return qty - qty % step
