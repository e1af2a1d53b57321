"""Open a Serra database: WAL, busy timeout, durable commits, migrations, channel registry."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import sqlite_utils

from store import migrations
from store.errors import QueryError, SchemaError, StoreError

#: Column prefixes of the wide `ticks` table, by channel kind (a measurement has no prefix).
PREFIXES: dict[str, str] = {
    "setpoint": "sp_",
    "command": "cmd_",
    "readback": "rb_",
    "health": "h_",
    "quality": "q_",
}
QUALITY_CODES: dict[str, int] = {"good": 0, "stale": 1, "bad": 2}
QUALITY_NAMES: dict[int, str] = {v: k for k, v in QUALITY_CODES.items()}
#: Wide rollup tables: one row per bucket, columns `<stat>_<channel id>` per value channel.
ROLLUP_TABLES: tuple[str, ...] = ("rollup_5m", "rollup_1h")
ROLLUP_STATS: tuple[tuple[str, str], ...] = (
    ("n", "INTEGER"),
    ("sum", "REAL"),
    ("min", "REAL"),
    ("max", "REAL"),
)
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_.:\-]{1,120}")


def channel_name_ok(name: str) -> bool:
    """Whether `name` can be a channel (a `ticks` column): 1-120 letters, digits and _ . : -."""
    return _CHANNEL_NAME.fullmatch(name) is not None  # not match: "$" passes "name\n"


def channel_kind(column: str) -> str:
    """Return the kind of a `ticks` column from its prefix ("measurement" when it has none)."""
    for kind, prefix in PREFIXES.items():
        if column.startswith(prefix):
            return kind
    return "measurement"


def inserted_id(cur: sqlite3.Cursor) -> int:
    """The rowid the INSERT just run on `cur` gave its row."""
    if cur.lastrowid is None:  # only when the statement inserted nothing
        raise StoreError("the INSERT stored no row")
    return cur.lastrowid


def quote(name: str) -> str:
    """Return `name` as a quoted SQL identifier (channel names are checked on creation)."""
    return '"' + name.replace('"', '""') + '"'


class Store:
    """One open Serra database: the sqlite-utils `db`, its channel registry, transactions.

    Use `open_store(path)`; one `Store` per thread. Reads see the last committed state;
    writes go through `write()` (BEGIN IMMEDIATE, so two writing processes queue on the busy
    timeout instead of failing on a lock upgrade).
    """

    def __init__(self, db: sqlite_utils.Database, path: str, readonly: bool) -> None:
        self.db = db
        self.conn: sqlite3.Connection = db.conn
        self.path = path
        self.readonly = readonly
        self._channels: dict[str, tuple[int, str]] = {}
        self.reload_channels()

    def reload_channels(self) -> None:
        """Re-read the channel registry (another process may have added channels)."""
        rows = self.conn.execute("SELECT name, id, kind FROM channels").fetchall()
        self._channels = {name: (cid, kind) for name, cid, kind in rows}

    @property
    def channels(self) -> dict[str, str]:
        """Known channels (columns of `ticks`) and their kinds."""
        return {name: kind for name, (_, kind) in self._channels.items()}

    def channel_id(self, name: str) -> int:
        """Return the id of a known channel or raise `QueryError` naming the known ones."""
        if name not in self._channels:
            self.reload_channels()
        try:
            return self._channels[name][0]
        except KeyError:
            known = ", ".join(sorted(n for n in self._channels if not n.startswith("q_")))
            raise QueryError(f"unknown channel {name!r}; known channels: {known}") from None

    def value_channels(self) -> list[tuple[str, int]]:
        """(name, id) of every channel holding values (all but the quality columns)."""
        return [(n, cid) for n, (cid, kind) in self._channels.items() if kind != "quality"]

    def rollup_ids(self, names: list[str]) -> dict[int, str]:
        """{channel id: name} of those `names` that have rollup columns (all but quality)."""
        ids = {self.channel_id(n): n for n in names}
        return {cid: n for cid, n in ids.items() if self._channels[n][1] != "quality"}

    def value_expr(self, column: str) -> str:
        """SQL for a column's value in statistics: samples flagged bad do not count."""
        if "q_" + column in self._channels:
            return f"CASE WHEN {quote('q_' + column)} IS NOT 2 THEN {quote(column)} END"
        return quote(column)

    def ensure_columns(self, columns: list[str]) -> None:
        """Add missing channel columns to `ticks` (call inside `write()`, which forgets them
        again if its transaction does not commit)."""
        missing = [c for c in columns if c not in self._channels]
        if not missing:
            return
        self.reload_channels()
        for column in missing:
            if column in self._channels:
                continue
            if not channel_name_ok(column):
                raise StoreError(
                    f"channel name {column!r} is not allowed; use 1-120 letters, digits and _ . : -"
                )
            kind = channel_kind(column)
            sql_type = "INTEGER" if kind == "quality" else "REAL"
            self.conn.execute(f"ALTER TABLE ticks ADD COLUMN {quote(column)} {sql_type}")
            cur = self.conn.execute(
                "INSERT INTO channels (name, kind) VALUES (?, ?)", (column, kind)
            )
            cid = inserted_id(cur)
            if kind != "quality":
                for table in ROLLUP_TABLES:
                    for stat, stat_type in ROLLUP_STATS:
                        self.conn.execute(
                            f"ALTER TABLE {table} ADD COLUMN {stat}_{cid} {stat_type}"
                        )
            self._channels[column] = (cid, kind)

    @contextmanager
    def write(self) -> Iterator[Store]:
        """A write transaction: BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on any error.

        Channels added inside it are known at once (the same transaction's rollups use them),
        but count only once COMMIT succeeded: a failed COMMIT (a full disk, a file that cannot
        grow) undoes them, so the registry is read again from the file."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:
                with suppress(sqlite3.Error):  # SQLite may have rolled back already
                    self.conn.execute("ROLLBACK")
            self._forget_uncommitted_channels()
            raise

    def _forget_uncommitted_channels(self) -> None:
        try:
            self.reload_channels()
        except sqlite3.Error:
            # Unreadable now: forget all. Too few known channels heal themselves (ensure_columns
            # and channel_id read the registry again); a column remembered but undone would not.
            self._channels = {}

    @contextmanager
    def read(self) -> Iterator[Store]:
        """A read transaction: every query inside sees one consistent snapshot."""
        if self.conn.in_transaction:
            yield self
            return
        self.conn.execute("BEGIN")
        try:
            yield self
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    def get_meta(self, key: str) -> str | None:
        """Return a value of the `meta` table, or None."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str | int | float) -> None:
        """Set a value of the `meta` table (inside `write()`)."""
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, str(value)),
        )

    def integrity_check(self) -> str:
        """Return the result of `PRAGMA integrity_check` ("ok" when the file is sound)."""
        return "; ".join(r[0] for r in self.conn.execute("PRAGMA integrity_check").fetchall())

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_writable(conn: sqlite3.Connection, path: str) -> None:
    """Refuse now, not at the first record, a file this process cannot write.

    SQLite opens a read-only file (or one whose folder does not let it create the -wal and
    -shm files) for reading without complaint, and even BEGIN IMMEDIATE succeeds on it; only
    a statement that writes fails. A no-op DELETE, rolled back, is such a statement.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM meta WHERE 0")
        finally:
            conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc):
            raise
        raise _read_only(path, exc) from None


def _read_only(path: str, exc: Exception) -> StoreError:
    name = Path(path).name
    return StoreError(
        f"{path}: the database is read-only ({exc}); give this user write access to the "
        f"file and to its folder (SQLite creates {name}-wal and {name}-shm there)"
    )


def open_store(
    path: str | Path, *, readonly: bool = False, busy_timeout_s: float = 10.0, create: bool = True
) -> Store:
    """Open (and create or migrate, unless `readonly`) the Serra database at `path`.

    WAL mode lets a reader (the GUI) and a writer (the loop) work at once; `synchronous=FULL`
    makes every commit survive a power cut; a newer schema is refused with `SchemaError`.
    """
    path = str(path)
    if not create and not Path(path).exists():
        raise StoreError(f"{path}: no such database file")
    try:
        if readonly:
            uri = Path(path).resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(
                uri,
                uri=True,
                isolation_level=None,
                timeout=busy_timeout_s,
                check_same_thread=False,
            )
        else:
            conn = sqlite3.connect(
                path, isolation_level=None, timeout=busy_timeout_s, check_same_thread=False
            )
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: cannot open the database ({exc})") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        db = sqlite_utils.Database(conn, execute_plugins=False)
        if readonly:
            version = migrations.check_version(db)
            if version < migrations.LATEST_VERSION:
                raise SchemaError(
                    f"{path}: schema version {version} needs migrating to "
                    f"{migrations.LATEST_VERSION}; open it once with write access"
                )
        else:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode})")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrations.migrate(db)
            _check_writable(conn, path)
        return Store(db, path, readonly)
    except sqlite3.OperationalError as exc:
        conn.close()
        if not readonly and "readonly" in str(exc):
            raise _read_only(path, exc) from None
        raise StoreError(f"{path}: cannot use the database ({exc})") from None
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise SchemaError(f"{path}: not a SQLite database ({exc})") from None
    except BaseException:
        conn.close()
        raise
