"""orders.csv, fills.csv and equity.csv: the run's rows for spreadsheets and pandas, and the
way ``load_run`` gets them back (every column is a field of the row, so nothing is lost)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from scenarios.record import FillRow, OrderRow, Sample

ORDER_COLUMNS = (
    "client_order_id", "exchange_order_id", "symbol", "side", "order_type", "amount", "price", "executed",
    "state", "reason", "created_ms", "updated_ms", "journal_line",
)  # fmt: skip
FILL_COLUMNS = (
    "ts_ms", "client_order_id", "symbol", "side", "price", "amount", "fee", "fee_asset", "trade_id", "journal_line",
)  # fmt: skip
EQUITY_COLUMNS = (
    "ts_ms", "mid", "base", "quote", "equity", "pnl", "drawdown", "used_weight_1m", "open_orders",
)  # fmt: skip

Row = TypeVar("Row", OrderRow, FillRow, Sample)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def csv_text(rows: Iterable[Any], columns: Sequence[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in columns])
    return out.getvalue()


def _dec(text: str) -> Decimal:
    return Decimal(text)


def _opt_dec(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def _opt_int(text: str) -> int | None:
    return int(text) if text else None


_PARSERS: dict[str, Callable[[str], Any]] = {
    "amount": _dec, "price": _dec, "executed": _dec, "fee": _dec, "base": _dec, "quote": _dec, "equity": _dec,
    "pnl": _dec, "drawdown": _dec, "mid": _opt_dec, "exchange_order_id": _opt_int, "created_ms": int,
    "updated_ms": int, "journal_line": int, "ts_ms": int, "trade_id": int, "used_weight_1m": int, "open_orders": int,
}  # fmt: skip


def read_rows(path: Path, row_type: type[Row]) -> list[Row]:
    """Rows of one CSV written by ``csv_text`` (missing file: no rows)."""
    if not path.exists():
        return []
    known = {f.name for f in fields(row_type)}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = []
        for raw in reader:
            values: dict[str, Any] = {}
            for name, text in raw.items():
                if name not in known or text is None:
                    continue
                parse = _PARSERS.get(name)
                if name == "price" and row_type is OrderRow:
                    parse = _opt_dec  # a market order has no price
                values[name] = parse(text) if parse else text
            rows.append(row_type(**values))
    return rows


def write_tables(out_dir: Path, orders: list[OrderRow], fills: list[FillRow], samples: list[Sample]) -> None:
    for name, rows, columns in (
        ("orders.csv", orders, ORDER_COLUMNS), ("fills.csv", fills, FILL_COLUMNS), ("equity.csv", samples, EQUITY_COLUMNS),
    ):  # fmt: skip
        (out_dir / name).write_text(csv_text(rows, columns), encoding="utf-8")
