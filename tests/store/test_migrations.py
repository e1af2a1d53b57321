"""Schema versions: fresh databases, newer ones refused, new migrations applied atomically."""

from __future__ import annotations

import sqlite3

import pytest

from store import migrations
from store.db import open_store
from store.errors import SchemaError


def test_new_database_is_wal_and_at_latest_version(db_path):
    with open_store(db_path) as s:
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert s.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        rows = s.conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert rows[0] == (1, "core")
    assert [r[0] for r in rows] == list(range(1, migrations.LATEST_VERSION + 1))


def test_reopening_does_not_migrate_again(db_path):
    open_store(db_path).close()
    with open_store(db_path) as s:
        n = s.conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0]
    assert n == migrations.LATEST_VERSION


def test_newer_database_is_refused_and_left_unchanged(db_path):
    open_store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO schema_migrations VALUES (97, 'future', '2030-01-01')")
    conn.commit()
    conn.close()
    known = migrations.LATEST_VERSION
    with pytest.raises(SchemaError, match=rf"schema version 97 .* only up to {known}; upgrade"):
        open_store(db_path)
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == 97
    conn.close()


def test_foreign_sqlite_file_and_garbage_file_are_refused(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE orders (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="not a Serra database"):
        open_store(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(SchemaError, match="not a SQLite database"):
        open_store(junk)


def test_a_later_migration_is_applied_with_its_record(db_path, monkeypatch):
    open_store(db_path).close()

    def add_supply(db):
        db.execute("CREATE TABLE stock_lots (id INTEGER PRIMARY KEY, item TEXT)")

    nxt = migrations.LATEST_VERSION + 1
    step = migrations.Migration(nxt, "later", add_supply)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, step])
    monkeypatch.setattr(migrations, "LATEST_VERSION", nxt)
    with open_store(db_path) as s:
        assert "stock_lots" in s.db.table_names()
        versions = [r[0] for r in s.conn.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(1, nxt + 1))


def test_a_failing_migration_leaves_the_previous_version_intact(db_path, monkeypatch):
    open_store(db_path).close()

    def broken(db):
        db.execute("CREATE TABLE half_done (id INTEGER)")
        db.execute("THIS IS NOT SQL")

    before = migrations.LATEST_VERSION
    step = migrations.Migration(before + 1, "x", broken)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, step])
    monkeypatch.setattr(migrations, "LATEST_VERSION", before + 1)
    with pytest.raises(SchemaError):
        open_store(db_path)
    conn = sqlite3.connect(db_path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables
    assert conn.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] == before
    conn.close()


def test_migration_modules_are_discovered_in_order():
    found = migrations.discover()
    assert [m.version for m in found] == list(range(1, len(found) + 1))
    assert found[0].name == "core"


def test_read_only_open_reads_but_cannot_write(db_path):
    with open_store(db_path) as s, s.write():
        s.set_meta("site", "bleiswijk")
    with open_store(db_path, readonly=True) as ro:
        assert ro.get_meta("site") == "bleiswijk"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro.conn.execute("DELETE FROM meta")


def test_version_3_pivots_long_rollup_rows_into_wide_ones(db_path, monkeypatch):
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:2])
    monkeypatch.setattr(migrations, "LATEST_VERSION", 2)
    with open_store(db_path) as s, s.write():
        s.conn.executemany(
            "INSERT INTO channels (id, name, kind) VALUES (?, ?, ?)",
            [
                (1, "tair_c", "measurement"),
                (2, "q_tair_c", "quality"),
                (3, "sp_heat_c", "setpoint"),
            ],
        )
        s.conn.executemany(
            "INSERT INTO rollup_1h VALUES (?, ?, ?, ?, ?, ?)",
            [(1, 0, 60, 1200.0, 18.0, 22.0), (1, 3_600_000, 30, 630.0, 20.0, 22.5),
             (3, 3_600_000, 60, 1080.0, 18.0, 18.0)],
        )  # fmt: skip
        s.conn.execute("INSERT INTO rollup_5m VALUES (1, 300000, 5, 100.0, 19.5, 20.5)")
    monkeypatch.undo()
    with open_store(db_path) as s:
        assert migrations.current_version(s.db) == migrations.LATEST_VERSION >= 3
        assert s.conn.execute("SELECT * FROM rollup_1h ORDER BY t_ms").fetchall() == [
            (0, 60, 1200.0, 18.0, 22.0, None, None, None, None),
            (3_600_000, 30, 630.0, 20.0, 22.5, 60, 1080.0, 18.0, 18.0),
        ]
        assert s.conn.execute("SELECT * FROM rollup_5m").fetchall() == [
            (300000, 5, 100.0, 19.5, 20.5, None, None, None, None)
        ]
        with s.write():  # a channel added after the migration gets its rollup columns too
            s.ensure_columns(["rh_pct"])
        cols = [r[1] for r in s.conn.execute("PRAGMA table_info(rollup_5m)")]
        assert cols[-4:] == [f"{x}_{s.channel_id('rh_pct')}" for x in ("n", "sum", "min", "max")]
