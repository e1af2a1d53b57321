"""`SupplyDb`: the one connection, clock, write transactions and id lookups the supply parts share.

Also the input checks every part uses (`qty_value`, `name_value`) and the date <-> ISO text pair.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from store.db import Store, open_store
from store.errors import StoreError
from supply.errors import InputError, NotFoundError, SupplyError

Clock = Callable[[], datetime]
#: Quantities are kept to this many decimals so sums of moves and balances agree exactly enough.
DECIMALS = 6
EPS = 1e-9
#: The largest quantity or capacity accepted (units of the product): past it a number is a typo
#: or a corrupt file, and sums of such numbers would overflow to inf.
MAX_QTY = 1e9
#: The largest number of days accepted (shelf life, lead time, margins): 100 years.
MAX_DAYS = 36_500


def _now() -> datetime:
    return datetime.now().astimezone()


def qty_value(qty: float, what: str = "quantity") -> float:
    """A positive finite quantity rounded to `DECIMALS`, or `InputError`."""
    try:
        q = float(qty)
    except (TypeError, ValueError):
        raise InputError(f"{what} {qty!r} is not a number; give a quantity > 0") from None
    if not math.isfinite(q) or round(q, DECIMALS) <= 0:
        raise InputError(f"{what} must be > 0, got {qty}")
    if q > MAX_QTY:
        raise InputError(f"{what} {qty} is more than {MAX_QTY:g}; give a real quantity")
    return round(q, DECIMALS)


def name_value(text: str | None, what: str) -> str:
    """A non-empty, stripped one-line name without control characters, or `InputError`."""
    if text is None or not str(text).strip() or not str(text).isprintable():
        raise InputError(f"{what} must be a non-empty single line of text, got {text!r}")
    return str(text).strip()


def to_date(text: str | None) -> date | None:
    """ISO text from the database to a date (None stays None)."""
    return None if text is None else date.fromisoformat(text)


def iso(d: date | None) -> str | None:
    """A date to ISO text for the database (None stays None)."""
    return None if d is None else d.isoformat()


class SupplyDb:
    """One `store.db.Store` (one connection: use one per thread) and the clock.

    The parts of `SupplyService` (catalogue, ledger, orders, reports, CSV) all hold the same
    `SupplyDb`, so a call that spans parts runs in one transaction on one connection.
    """

    def __init__(self, path: str | Path | Store, *, clock: Clock | None = None) -> None:
        try:
            self.store = path if isinstance(path, Store) else open_store(path)
        except StoreError as exc:
            raise SupplyError(str(exc)) from None
        self.conn: sqlite3.Connection = self.store.conn
        self.clock: Clock = clock or _now

    def close(self) -> None:
        """Close the database connection."""
        self.store.close()

    def today(self) -> date:
        """Today's date by the clock (site-local when the clock is)."""
        return self.clock().date()

    def t_ms(self) -> int:
        """Now by the clock, as UTC epoch milliseconds (the time of moves and events)."""
        return int(self.clock().timestamp() * 1000)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE .. COMMIT; any error rolls everything back (as a `SupplyError`)."""
        try:
            with self.store.write():
                yield self.conn
        except sqlite3.IntegrityError as exc:
            raise SupplyError(f"refused by the database: {exc}") from None
        except sqlite3.OperationalError as exc:
            raise SupplyError(f"{self.store.path}: {exc}; try again") from None
        except StoreError as exc:
            raise SupplyError(str(exc)) from None

    def one(self, sql: str, args: tuple, missing: str) -> tuple:
        """The one row `sql` finds, or `NotFoundError(missing)`."""
        row = self.conn.execute(sql, args).fetchone()
        if row is None:
            raise NotFoundError(missing)
        return row

    def product_id(self, code: str) -> int:
        """The row id of a product code, or `NotFoundError`."""
        row = self.conn.execute("SELECT id FROM supply_products WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise NotFoundError(f"unknown product {code!r}; add it to the catalogue first")
        return int(row[0])

    def bay_id(self, code: str) -> int:
        """The row id of a bay code, or `NotFoundError`."""
        row = self.conn.execute("SELECT id FROM supply_bays WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise NotFoundError(f"unknown bay {code!r}; add the bay first")
        return int(row[0])

    def bay_code(self, bay_id: int) -> str:
        """The code of a bay row id (`#id` when it is gone), for messages."""
        row = self.conn.execute("SELECT code FROM supply_bays WHERE id = ?", (bay_id,)).fetchone()
        return row[0] if row else f"#{bay_id}"

    def lot_row(self, lot_id: int) -> tuple:
        """(id, product id, lot number, expiry, removal date, status) of a lot, or
        `NotFoundError`."""
        return self.one(
            "SELECT id, product_id, lot_no, expiry_date, removal_date, status "
            "FROM supply_lots WHERE id = ?",
            (lot_id,),
            f"unknown lot id {lot_id}",
        )
