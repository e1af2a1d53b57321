"""Versioned schema migrations, discovered from the modules of this package.

Each migration is a module named `v<NNNN>_<name>.py` (four digits, versions 1, 2, 3, ... without
holes) defining `VERSION: int` (equal to NNNN), `NAME: str` and `migrate(db)` taking a
`sqlite_utils.Database`. To add the supply tables, create `v0002_supply.py` with `VERSION = 2`,
`NAME = "supply"` and a `migrate(db)` that runs its `CREATE TABLE` statements; nothing else
changes. Each version runs in its own `BEGIN IMMEDIATE` transaction together with the row that
records it in `schema_migrations`, so a failed migration leaves the previous version intact and
two processes opening the same new file never both migrate it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlite_utils

from store.errors import SchemaError

_MODULE_NAME = re.compile(r"^v(\d{4})_([a-z0-9_]+)$")


@dataclass(frozen=True)
class Migration:
    """One schema version: its number, a short name and the function that applies it."""

    version: int
    name: str
    migrate: Callable[[sqlite_utils.Database], None]


def discover() -> list[Migration]:
    """Return every migration of this package in version order; check the numbering."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        match = _MODULE_NAME.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if int(match.group(1)) != module.VERSION:
            raise SchemaError(f"migration {info.name}: VERSION {module.VERSION} != file number")
        found.append(Migration(module.VERSION, module.NAME, module.migrate))
    found.sort(key=lambda m: m.version)
    for expected, m in enumerate(found, start=1):
        if m.version != expected:
            raise SchemaError(f"migrations must be numbered 1, 2, 3, ...; missing {expected}")
    return found


MIGRATIONS: list[Migration] = discover()
#: The schema version this Serra writes.
LATEST_VERSION: int = MIGRATIONS[-1].version


def current_version(db: sqlite_utils.Database) -> int:
    """Return the schema version recorded in `db` (0 for a new, empty database)."""
    tables = set(db.table_names())
    if "schema_migrations" not in tables:
        if tables:
            raise SchemaError(
                f"{_where(db)} is not a Serra database (tables {', '.join(sorted(tables))} "
                "but no schema_migrations); open or create a Serra database file"
            )
        return 0
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def check_version(db: sqlite_utils.Database) -> int:
    """Return the version of `db`, refusing a database written by a newer Serra."""
    version = current_version(db)
    if version > LATEST_VERSION:
        raise SchemaError(
            f"{_where(db)} has schema version {version} but this Serra knows only up to "
            f"{LATEST_VERSION}; upgrade Serra to open it (the file was left unchanged)"
        )
    return version


def migrate(db: sqlite_utils.Database) -> int:
    """Apply every pending migration, one transaction per version; return the final version."""
    conn = db.conn
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = check_version(db)
            if version == LATEST_VERSION:
                conn.execute("COMMIT")
                return version
            if version == 0:
                conn.execute(
                    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                    "name TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
            step = MIGRATIONS[version]
            try:
                step.migrate(db)
            except sqlite3.Error as exc:
                raise SchemaError(
                    f"{_where(db)}: migration {step.version} ({step.name}) failed ({exc}); "
                    f"the database stays at schema version {version}"
                ) from None
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (step.version, step.name, datetime.now(UTC).isoformat(timespec="seconds")),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _where(db: sqlite_utils.Database) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return row[2] or "the in-memory database"
