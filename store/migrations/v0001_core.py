"""Schema version 1: wide tick table, channel registry, rollups, events, meta."""

from __future__ import annotations

import sqlite_utils

VERSION = 1
NAME = "core"

_SQL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE channels (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL
);
-- One row per tick; a REAL column per channel and an INTEGER quality column q_<name> per
-- measurement are added when a channel first appears (store.channels).
CREATE TABLE ticks (t_ms INTEGER PRIMARY KEY, mode TEXT);
CREATE TABLE rollup_5m (
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    t_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    sum REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    PRIMARY KEY (channel_id, t_ms)
) WITHOUT ROWID;
CREATE TABLE rollup_1h (
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    t_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    sum REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    PRIMARY KEY (channel_id, t_ms)
) WITHOUT ROWID;
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    t_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    message TEXT NOT NULL,
    who TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_t ON events (t_ms);
CREATE INDEX events_kind_t ON events (kind, t_ms);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be changed'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted'); END;
"""


def migrate(db: sqlite_utils.Database) -> None:
    """Create the version-1 tables (inside the caller's transaction)."""
    for statement in _SQL.split(";\n"):
        if statement.strip():
            db.execute(statement)
