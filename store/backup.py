"""Online backup of a Serra database with SQLite's backup API, safe while the loop writes."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import sqlite_utils

from store import migrations
from store.errors import StoreError


def backup(source: str | Path, destination: str | Path, busy_timeout_s: float = 10.0) -> int:
    """Copy `source` to `destination` (temp file, integrity check, rename); return its pages.

    The copy is one consistent snapshot: in WAL mode the backup reads a single snapshot while
    other processes keep committing, and the copy is checked before it takes the final name.
    """
    source, destination = Path(source), Path(destination)
    if not source.exists():
        raise StoreError(f"{source}: no such database file")
    if destination.resolve() == source.resolve():
        raise StoreError(f"{destination}: the backup must not overwrite its source")
    if not destination.parent.is_dir():
        raise StoreError(f"{destination.parent}: no such folder for the backup")
    try:
        src = sqlite3.connect(str(source), timeout=busy_timeout_s, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"{source}: cannot open ({exc})") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(fd)
    try:
        try:
            migrations.check_version(sqlite_utils.Database(src, execute_plugins=False))
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                src.backup(dst)
                result = dst.execute("PRAGMA integrity_check").fetchone()[0]
                pages = dst.execute("PRAGMA page_count").fetchone()[0]
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{source}: backup failed ({exc})") from None
        if result != "ok":
            raise StoreError(f"{source}: the backup copy fails its integrity check ({result})")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, destination)
        return int(pages)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        src.close()
