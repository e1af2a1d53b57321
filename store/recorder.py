"""`SqliteRecorder`: the control loop's recorder (controllers.records.Recorder) on SQLite.

Reads `TickRecord` and `Event` by attribute, so `store` never imports `controllers`. Column
scheme of a tick: measurements by their canonical name with quality `q_<name>`, setpoints
`sp_<name>`, actuator commands `cmd_<name>`, readbacks `rb_<name>`, health numbers `h_<key>`.

Durability: ticks are committed every `batch_ticks` ticks (default 1: every tick) and events at
once, each commit with `synchronous=FULL`; a process killed at any moment loses at most the
uncommitted batch. When a write fails (disk full, read-only file, missing folder) the records
stay in a bounded in-memory queue, `RecordingError` is raised for the loop to turn into a
recording alarm, and the queue is written on the next attempt after `retry_s`, in transactions
of at most `write_batch_ticks` ticks so a backlog fits again as space comes back. Nothing is
lost silently: counters say what was dropped, refused or is still pending, and `close()`
raises when anything of the session was not recorded (docs/store.md, "When writes fail").

Time order: a tick must be later than the last tick the loop recorded in the file (ticks of
imports do not count), otherwise `TimeOrderError` (the tick is not kept). Events are exempt.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from store import events as ev
from store import rollups, timeseries
from store import state as saved_state
from store.db import QUALITY_CODES, Store, open_store
from store.errors import RecordingError, StoreError, TimeOrderError
from store.rollups import Retention

#: Default bound of the in-memory queue: 24 h of ticks at the default 1-min tick (a tick with
#: ~75 channels takes ~7 KB, so ~10 MB); past it the oldest ticks are dropped and counted.
MAX_QUEUED_TICKS = 1440
#: Ticks per transaction when a backlog is written: small enough to fit in the space that came
#: back after a disk-full spell, and to hold the loop up only briefly.
WRITE_BATCH_TICKS = 500

_GROUPS = (("setpoints", "sp_"), ("commands", "cmd_"), ("readbacks", "rb_"), ("health", "h_"))


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _utc(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000.0, UTC).isoformat(timespec="milliseconds")


def tick_row(record: Any) -> timeseries.Row:
    """The `ticks` row of one TickRecord-like object (see the module docstring for columns)."""
    values: dict[str, float | int | None] = {}
    quality = getattr(record, "quality", {}) or {}
    for name, value in record.measurements.items():
        values[name] = _number(value)
        values["q_" + name] = QUALITY_CODES.get(str(quality.get(name, "good")), 2)
    for attr, prefix in _GROUPS:
        for name, value in (getattr(record, attr, None) or {}).items():
            values[prefix + name] = _number(value)
    return round(float(record.time_s) * 1000.0), str(getattr(record, "mode", "normal")), values


class SqliteRecorder:
    """The control loop's recorder on a SQLite file (structurally a controllers Recorder)."""

    def __init__(
        self,
        path: str | Path,
        *,
        batch_ticks: int = 1,
        clock: Callable[[], float] = time.monotonic,
        retention: Retention | None = None,
        max_queued_ticks: int = MAX_QUEUED_TICKS,
        write_batch_ticks: int = WRITE_BATCH_TICKS,
        retry_s: float = 5.0,
        busy_timeout_s: float = 10.0,
    ) -> None:
        if batch_ticks < 1 or write_batch_ticks < 1 or max_queued_ticks < 1:
            raise StoreError(
                "batch_ticks, write_batch_ticks and max_queued_ticks must be at least 1, got "
                f"{batch_ticks}, {write_batch_ticks}, {max_queued_ticks}"
            )
        self.path = str(path)
        self.batch_ticks = batch_ticks
        self.write_batch_ticks = write_batch_ticks
        self.clock = clock
        self.retention = retention if retention is not None else Retention()
        self.retry_s = retry_s
        self.busy_timeout_s = busy_timeout_s
        self._ticks: deque[timeseries.Row] = deque(maxlen=max_queued_ticks)
        self._events: deque[tuple] = deque(maxlen=max_queued_ticks)
        self._count = dict.fromkeys(("dropped_ticks", "dropped_events", "refused_ticks"), 0)
        self._maintenance_error: str | None = None
        self._last_error: str | None = None
        self._retry_at = -math.inf
        self._store: Store | None = None
        self._closed = False
        self._last_tick_ms: int | None = None  # newest tick accepted (queued or written)
        self._floor_ms: int | None = None  # the file's last loop tick when it opened
        self._rolled_5m_ms: int | None = None
        self._retained_1h_ms: int | None = None
        self._lock = threading.RLock()

    @property
    def store(self) -> Store:
        """The open database (opened on first use)."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.path, busy_timeout_s=self.busy_timeout_s)
                # a WAL restarting after a checkpoint gives its space back to the disk; else
                # the frames of failed attempts in a disk-full spell keep it
                self._store.conn.execute("PRAGMA journal_size_limit = 0")
                self._closed = False
                self._load_floor(self._store)
            return self._store

    def _load_floor(self, store: Store) -> None:
        """Read the file's last loop tick (imports have no mode) and refuse older queued ones."""
        row = store.conn.execute(
            "SELECT t_ms FROM ticks WHERE mode IS NOT NULL ORDER BY t_ms DESC LIMIT 1"
        ).fetchone()
        if row is None or self._floor_ms is not None:
            return
        self._floor_ms = int(row[0])
        if self._last_tick_ms is None or self._last_tick_ms < self._floor_ms:
            self._last_tick_ms = self._floor_ms
        kept = [r for r in self._ticks if r[0] > self._floor_ms]
        self._count["refused_ticks"] += len(self._ticks) - len(kept)
        self._ticks.clear()
        self._ticks.extend(kept)

    def open(self) -> SqliteRecorder:
        """Open the database now (otherwise it opens on the first record).

        RecordingError with one line when the file cannot be written (read-only file or
        folder, not a Serra database, newer schema): call it before the loop controls anything.
        """
        try:
            _ = self.store
        except (StoreError, sqlite3.Error) as exc:
            raise RecordingError(f"{self.path}: cannot open the database ({exc})") from None
        return self

    # -- what the app reads ----------------------------------------------------------------
    @property
    def pending_ticks(self) -> int:
        """Ticks accepted but not yet written."""
        return len(self._ticks)

    @property
    def pending_events(self) -> int:
        """Events accepted but not yet written."""
        return len(self._events)

    @property
    def dropped_ticks(self) -> int:
        """Oldest ticks pushed out of the full queue (`max_queued_ticks`) while writes failed."""
        return self._count["dropped_ticks"]

    @property
    def dropped_events(self) -> int:
        """Oldest events pushed out of the full queue while writes failed."""
        return self._count["dropped_events"]

    @property
    def refused_ticks(self) -> int:
        """Ticks refused because they went back in time (`TimeOrderError`)."""
        return self._count["refused_ticks"]

    @property
    def last_error(self) -> str | None:
        """The last write error (one line), None once a write succeeded again."""
        return self._last_error

    @property
    def last_tick_s(self) -> float | None:
        """Plant time (UTC s) of the newest loop tick, in the file or accepted since; a tick
        must be later. None for a file without loop ticks (opens the file when needed)."""
        with self._lock:
            if not self._closed:
                self._try_open()
            return None if self._last_tick_ms is None else self._last_tick_ms / 1000.0

    @property
    def lost(self) -> int:
        """Records of this session that will never be in the file: dropped, refused, and (after
        `close()`) still pending. 0 means everything handed over was recorded (or still may be)."""
        n = sum(self._count.values())
        return n + (len(self._ticks) + len(self._events) if self._closed else 0)

    def status(self) -> dict[str, Any]:
        """Pending, dropped and refused counts and the last write error, as one dict."""
        return {
            "queued_ticks": len(self._ticks),
            "queued_events": len(self._events),
            **self._count,
            "lost": self.lost,
            "last_error": self._last_error,
            "maintenance_error": self._maintenance_error,
        }

    # -- recording ---------------------------------------------------------------------------
    def record_tick(self, record: Any) -> None:
        """Queue one tick and commit when `batch_ticks` are queued; RecordingError if that
        fails (the tick stays queued), TimeOrderError if it is not later than the last tick."""
        row = tick_row(record)
        with self._lock:
            self._try_open()
            last = self._last_tick_ms
            if last is not None and row[0] <= last:
                self._count["refused_ticks"] += 1
                raise TimeOrderError(
                    f"{self.path}: tick at {_utc(row[0])} refused, not later than the last "
                    f"recorded tick at {_utc(last)}; ticks never go back in time (another "
                    "run's clock? record it into its own database)"
                )
            if len(self._ticks) == self._ticks.maxlen:
                self._count["dropped_ticks"] += 1
            self._ticks.append(row)
            self._last_tick_ms = row[0]
            if len(self._ticks) >= self.batch_ticks:
                self._commit(force=False)

    def record_event(self, event: Any) -> None:
        """Append one event, committed before returning; RecordingError if it cannot be.

        Events are not refused for their time: other writers (the GUI's acknowledgements in
        another process) stamp them with their own clock; the log keeps them in the order
        they were appended."""
        row = ev.event_row(
            float(event.time_s),
            event.kind,
            event.source,
            event.message,
            getattr(event, "who", "serra"),
            dict(getattr(event, "data", {}) or {}),
        )
        with self._lock:
            self._try_open()
            if len(self._events) == self._events.maxlen:
                self._count["dropped_events"] += 1
            self._events.append(row)
            self._commit(force=True)

    def _try_open(self) -> None:
        """Open the file if possible so its last tick is known; failures surface on commit."""
        if self._store is None:
            with contextlib.suppress(StoreError, sqlite3.Error):
                _ = self.store

    def flush(self) -> None:
        """Commit everything queued now; RecordingError if it cannot be."""
        with self._lock:
            self._commit(force=True)

    def restore(self) -> dict[str, Any] | None:
        """{"setpoints": last recorded, "overrides": active at the last record} or None (empty)."""
        with self._lock:
            self._commit(force=True)
            store = self.store
            with store.read():
                last_tick, last_event = store.conn.execute(
                    "SELECT (SELECT MAX(t_ms) FROM ticks), (SELECT MAX(t_ms) FROM events)"
                ).fetchone()
                if last_tick is None and last_event is None:
                    return None
                store.reload_channels()
                sp = [c for c, kind in store.channels.items() if kind == "setpoint"]
                latest = timeseries.latest(store, sp) if sp else {}
                last_s = max(t for t in (last_tick, last_event) if t is not None) / 1000.0
                overrides = ev.active_overrides(store, at_s=last_s)
            return {
                "setpoints": {c[3:]: v.value for c, v in latest.items()},
                "overrides": overrides,
            }

    def save_state(self, key: str, time_s: float, state: Any) -> None:
        """Commit the queued records, then replace the state saved under `key` (store.state),
        so a saved state never runs ahead of the records; RecordingError if it cannot be."""
        with self._lock:
            self._commit(force=True)
            try:
                store = self.store
                with store.write():
                    saved_state.save_state(store, key, time_s, state)
            except (sqlite3.Error, StoreError) as exc:
                text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise RecordingError(f"{self.path}: cannot save the {key} state ({text})") from None

    def close(self) -> None:
        """Flush and close the database. RecordingError (after closing) when any record of this
        session was not recorded: dropped from the full queue, refused as out of time order,
        or still unwritten now; `lost` then holds the count."""
        with self._lock:
            unwritten = None
            try:
                self._commit(force=True)
            except RecordingError as exc:
                unwritten = self._last_error or str(exc)
            if self._store is not None:
                self._store.close()
                self._store = None
            self._closed = True
            if self.lost:
                c = self._count
                raise RecordingError(
                    f"{self.path}: closed with {self.lost} records not recorded: "
                    f"{len(self._ticks)} ticks and {len(self._events)} events unwritten"
                    + (f" ({unwritten})" if unwritten else "")
                    + f", {c['dropped_ticks']} ticks and {c['dropped_events']} events dropped "
                    f"from the full queue, {c['refused_ticks']} ticks refused as out of time order"
                )

    def _commit(self, force: bool) -> None:
        if not self._ticks and not self._events:
            return
        if not force and self._last_error is not None and self.clock() < self._retry_at:
            raise RecordingError(self._failing_message())
        try:
            store = self.store
            while self._ticks or self._events:
                ticks = [
                    self._ticks[i] for i in range(min(self.write_batch_ticks, len(self._ticks)))
                ]
                events = list(self._events)
                with store.write():
                    timeseries.write_rows(store, ticks)
                    ev.append_rows(store, events)
                    if ticks:
                        self._maintain(store, ticks[-1][0])
                for _ in ticks:
                    self._ticks.popleft()
                self._events.clear()
                self._last_error = None
                if self._ticks:  # a backlog: move the batch into the file, so the WAL restarts
                    store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except (sqlite3.Error, StoreError) as exc:
            self._last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._retry_at = self.clock() + self.retry_s
            if self._store is not None and not isinstance(exc, sqlite3.OperationalError):
                self._store.close()
                self._store = None
            raise RecordingError(self._failing_message()) from None

    def _failing_message(self) -> str:
        return (
            f"{self.path}: cannot record ({self._last_error}); "
            f"{len(self._ticks)} ticks and {len(self._events)} events kept in memory "
            f"(dropped {self.dropped_ticks}), retrying every {self.retry_s:g} s"
        )

    def _maintain(self, store: Store, last_ms: int) -> None:
        """Roll up each completed 5-min bucket; apply retention once per hour of data.

        `last_ms`, the newest tick written, is the loop's plant clock: retention counts back
        from it, never from the table's newest row (an imported stray row in the future).
        Runs inside the ticks' transaction (one commit, one fsync) but in a savepoint, so a
        failure here is reported in `status()` and never costs the ticks.
        """
        bucket5 = (last_ms // rollups.STEP_MS["5m"]) * rollups.STEP_MS["5m"]
        hour = (last_ms // rollups.STEP_MS["1h"]) * rollups.STEP_MS["1h"]
        if bucket5 == self._rolled_5m_ms and hour == self._retained_1h_ms:
            return
        store.conn.execute("SAVEPOINT maintain")
        try:
            if hour != self._retained_1h_ms:
                rollups.apply_retention(store, self.retention, now_ms=last_ms)
            else:
                rollups.roll_up(store, until_ms=last_ms)
        except sqlite3.Error as exc:
            store.conn.execute("ROLLBACK TO maintain")
            store.conn.execute("RELEASE maintain")
            self._maintenance_error = str(exc)
            return
        store.conn.execute("RELEASE maintain")
        self._maintenance_error = None
        self._rolled_5m_ms, self._retained_1h_ms = bucket5, hour
