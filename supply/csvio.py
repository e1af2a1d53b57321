"""CSV import and export of products, bays, lots received, stock, moves and alerts.

An import runs in one transaction: a bad row refuses the whole file, naming the row and column.
Exports write to a temporary file and rename it, so no half-written file is left behind.
"""

from __future__ import annotations

import csv
import dataclasses
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TypeVar

from supply import columns
from supply.catalogue import Catalogue
from supply.connection import SupplyDb, iso, name_value, qty_value
from supply.dates import parse_date
from supply.errors import InputError, SupplyError
from supply.ledger import Ledger
from supply.model import Bay, Lot, Product
from supply.reports import Reports

_T = TypeVar("_T")

IMPORT_KINDS = ("products", "bays", "lots")
EXPORT_KINDS = ("products", "bays", "stock", "lots", "moves", "alerts")
_PRODUCT_FIELDS = list(columns.PRODUCT_COLUMNS)
_BAY_FIELDS = list(columns.BAY_COLUMNS)
_REQUIRED = columns.REQUIRED
_ALLOWED = columns.ALLOWED


def _num(text: str, cast: Callable[[str], _T], column: str) -> _T:
    try:
        return cast(text)
    except ValueError:
        raise InputError(f"column {column}: {text!r} is not a number") from None


def _product_from(row: dict[str, str]) -> Product:
    kwargs: dict[str, object] = {}
    for name in _PRODUCT_FIELDS:
        text = (row.get(name) or "").strip()
        if not text:
            continue
        if name in ("shelf_life_days", "alert_days", "removal_days", "best_before_days"):
            kwargs[name] = _num(text, int, name)
        elif name in ("pack_size", "lead_time_days", "safety_stock", "max_stock"):
            kwargs[name] = _num(text, float, name)
        elif name == "bulk":
            if text.lower() not in ("0", "1", "true", "false", "yes", "no"):
                raise InputError(f"column bulk: {text!r} is not yes/no")
            kwargs[name] = text.lower() in ("1", "true", "yes")
        else:
            kwargs[name] = text
    return Product(**kwargs)  # type: ignore[arg-type]  # checked by write_product


def _local_time(t_ms: int) -> str:
    """ISO 8601 local time with its UTC offset (the machine's zone, as the supply dates use)."""
    spec = "seconds" if t_ms % 1000 == 0 else "milliseconds"
    return datetime.fromtimestamp(t_ms / 1000.0, UTC).astimezone().isoformat(timespec=spec)


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    return iso(value) if isinstance(value, date) else value


class CsvIO:
    """`import_csv` and `export_csv` over the catalogue, the ledger and the alerts."""

    def __init__(
        self, db: SupplyDb, catalogue: Catalogue, ledger: Ledger, reports: Reports
    ) -> None:
        self.db = db
        self.catalogue = catalogue
        self.ledger = ledger
        self.reports = reports

    def import_csv(self, kind: str, path: str | Path, who: str) -> int:
        """Import a CSV file of `kind` (products, bays or lots received); returns the row count.

        All rows or none: the first bad row raises `InputError` naming file, row and column.
        """
        if kind not in IMPORT_KINDS:
            raise InputError(f"cannot import {kind!r}; importable: {', '.join(IMPORT_KINDS)}")
        who = name_value(who, "who")
        path = Path(path)
        try:
            with path.open(newline="", encoding="utf-8-sig") as f:
                return self._import(kind, path.name, f, who)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path.name}: byte {exc.start + 1} is not UTF-8; save the file as UTF-8 CSV"
            ) from None
        except csv.Error as exc:
            raise InputError(f"{path.name}: not a readable CSV file ({exc})") from None

    def _import(self, kind: str, name: str, f: IO[str], who: str) -> int:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        twice = sorted({c for c in header if header.count(c) > 1})
        if twice:
            raise InputError(f"{name}: column {twice[0]!r} appears twice in the header; keep one")
        missing = [c for c in _REQUIRED[kind] if c not in header]
        if missing:
            raise InputError(f"{name}: missing column(s) {', '.join(missing)} for {kind}")
        unknown = [c for c in header if c not in _ALLOWED[kind]]
        if unknown:
            raise InputError(
                f"{name}: unknown column {unknown[0]!r}; {kind} columns: "
                f"{', '.join(_ALLOWED[kind])}"
            )
        count = 0
        with self.db.write() as conn:
            for row_no, row in enumerate(reader, start=2):
                try:
                    self._import_row(conn, kind, row, who)
                except SupplyError as exc:
                    raise type(exc)(f"{name} row {row_no}: {exc}") from None
                count += 1
        return count

    def _import_row(
        self, conn: sqlite3.Connection, kind: str, row: dict[str, str], who: str
    ) -> None:
        extra = row.get(None)  # type: ignore[call-overload]  # cells beyond the header
        if extra:
            header = len(row) - 1
            raise InputError(f"{header + len(extra)} cells, but the header has {header} columns")
        for column in _REQUIRED[kind]:
            if not (row.get(column) or "").strip():
                raise InputError(f"column {column} is empty")
        if kind == "products":
            self.catalogue.write_product(conn, _product_from(row))
        elif kind == "bays":
            capacity = (row.get("capacity") or "").strip()
            sequence = (row.get("sequence") or "").strip()
            bay = Bay(
                code=row["code"],
                warehouse=row["warehouse"],
                zone=row["zone"],
                kind=(row.get("kind") or "bay").strip(),
                capacity=_num(capacity, float, "capacity") if capacity else None,
                sequence=_num(sequence, int, "sequence") if sequence else 0,
            )
            storage = row.get("storage")
            self.catalogue.write_bay(conn, bay, storage.strip() if storage is not None else None)
        else:
            dates = {}
            for column in ("production_date", "expiry_date"):
                text = (row.get(column) or "").strip()
                dates[column] = parse_date(text, f"column {column}") if text else None
            q = qty_value(_num(row["qty"].strip(), float, "qty"), "column qty")
            self.ledger.receive_in(
                conn,
                row["product"].strip(),
                row["lot_no"],
                q,
                row["bay"].strip(),
                who,
                dates["production_date"],
                dates["expiry_date"],
                None,
                None,
            )

    def export_rows(self, kind: str) -> tuple[list[str], Iterator[list[object]]]:
        """(header, rows) of an export of `kind`."""
        if kind not in EXPORT_KINDS:
            raise InputError(f"cannot export {kind!r}; exportable: {', '.join(EXPORT_KINDS)}")
        if kind == "products":
            rows = (dataclasses.astuple(p) for p in self.catalogue.products())
            return _PRODUCT_FIELDS, ([_cell(v) for v in r] for r in rows)
        if kind == "bays":
            bays = self.catalogue.bays()
            return _BAY_FIELDS, (
                [b.code, b.warehouse, b.zone, b.kind, _cell(b.capacity), b.sequence,
                 ",".join(sorted(self.catalogue.bay_storage(b.code)))]
                for b in bays
            )  # fmt: skip
        if kind == "stock":
            header = ["product", "lot_id", "lot_no", "bay", "qty", "allocated", "expiry", "status"]
            return header, ([_cell(v) for v in dataclasses.astuple(s)] for s in self.ledger.stock())
        if kind == "lots":
            header = [f.name for f in dataclasses.fields(Lot)]
            return header, (
                [_cell(v) for v in dataclasses.astuple(lot)] for lot in self.ledger.lots()
            )
        if kind == "moves":
            header = ["id", "time", "kind", "product", "lot_id", "bay", "qty", "who", "reason",
                      "order_id"]  # fmt: skip
            return header, (
                [_cell(v) for v in (m.id, _local_time(m.t_ms), *dataclasses.astuple(m)[2:])]
                for m in self.ledger.moves()
            )
        header = ["product", "lot_id", "lot_no", "alert", "expiry", "days_left", "on_hand",
                  "expired"]  # fmt: skip
        return header, ([_cell(v) for v in dataclasses.astuple(a)] for a in self.reports.alerts())

    def export_csv(self, kind: str, out: str | Path | IO[str]) -> int:
        """Write an export as CSV to a path (atomically: temp file, then rename) or a stream.

        Returns the number of data rows.
        """
        header, rows = self.export_rows(kind)
        if not isinstance(out, str | Path):
            return _write_csv(out, header, rows)
        target = Path(out)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
                n = _write_csv(f, header, rows)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return n


def _write_csv(f: IO[str], header: list[str], rows: Iterator[list[object]]) -> int:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(header)
    n = 0
    for row in rows:
        writer.writerow(row)
        n += 1
    return n
