"""`SqliteRecorder`: the control loop's recorder (controllers.records.Recorder) on SQLite.

Reads `TickRecord` and `Event` by attribute, so `store` never imports `controllers`. Column
scheme of a tick: measurements by their canonical name with quality `q_<name>`, setpoints
`sp_<name>`, actuator commands `cmd_<name>`, readbacks `rb_<name>`, health numbers `h_<key>`.

Durability: ticks are committed every `batch_ticks` ticks (default 1: every tick) and events at
once, each commit with `synchronous=FULL`; a process killed at any moment loses at most the
uncommitted batch. When a write fails (disk full, read-only file, missing folder) the records
stay in a bounded in-memory queue, `RecordingError` is raised for the loop to turn into a
recording alarm, and the queue is written on the next attempt after `retry_s`.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store import events as ev
from store import rollups, timeseries
from store import state as saved_state
from store.db import QUALITY_CODES, Store, open_store
from store.errors import RecordingError, StoreError
from store.rollups import Retention

_GROUPS = (("setpoints", "sp_"), ("commands", "cmd_"), ("readbacks", "rb_"), ("health", "h_"))


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


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
        max_queued_ticks: int = 100_000,
        retry_s: float = 5.0,
        busy_timeout_s: float = 10.0,
    ) -> None:
        if batch_ticks < 1:
            raise StoreError(f"batch_ticks must be at least 1, got {batch_ticks}")
        self.path = str(path)
        self.batch_ticks = batch_ticks
        self.clock = clock
        self.retention = retention if retention is not None else Retention()
        self.retry_s = retry_s
        self.busy_timeout_s = busy_timeout_s
        self._ticks: deque[timeseries.Row] = deque(maxlen=max_queued_ticks)
        self._events: deque[tuple] = deque(maxlen=max_queued_ticks)
        self._dropped = 0
        self._maintenance_error: str | None = None
        self._last_error: str | None = None
        self._retry_at = -math.inf
        self._store: Store | None = None
        self._rolled_5m_ms: int | None = None
        self._retained_1h_ms: int | None = None
        self._lock = threading.RLock()

    @property
    def store(self) -> Store:
        """The open database (opened on first use)."""
        with self._lock:
            if self._store is None:
                self._store = open_store(self.path, busy_timeout_s=self.busy_timeout_s)
            return self._store

    def open(self) -> SqliteRecorder:
        """Open the database now (otherwise it opens on the first record)."""
        try:
            _ = self.store
        except (StoreError, sqlite3.Error) as exc:
            raise RecordingError(f"{self.path}: cannot open the database ({exc})") from None
        return self

    def status(self) -> dict[str, Any]:
        """Queued ticks and events, ticks dropped from a full queue, and the last write error."""
        return {
            "queued_ticks": len(self._ticks),
            "queued_events": len(self._events),
            "dropped_ticks": self._dropped,
            "last_error": self._last_error,
            "maintenance_error": self._maintenance_error,
        }

    @property
    def dropped_ticks(self) -> int:
        """Ticks given up since this recorder was made (the in-memory queue was full)."""
        return self._dropped

    @property
    def pending_ticks(self) -> int:
        """Ticks queued in memory, not yet written."""
        return len(self._ticks)

    @property
    def last_error(self) -> str | None:
        """Why the last write failed (None once a write succeeds again)."""
        return self._last_error

    def record_tick(self, record: Any) -> None:
        """Queue one tick and commit when `batch_ticks` are queued; RecordingError if that fails."""
        with self._lock:
            if len(self._ticks) == self._ticks.maxlen:
                self._dropped += 1
            self._ticks.append(tick_row(record))
            if len(self._ticks) >= self.batch_ticks:
                self._commit(force=False)

    def record_event(self, event: Any) -> None:
        """Append one event, committed before returning; RecordingError if it cannot be."""
        with self._lock:
            self._events.append(
                ev.event_row(
                    float(event.time_s),
                    event.kind,
                    event.source,
                    event.message,
                    getattr(event, "who", "serra"),
                    dict(getattr(event, "data", {}) or {}),
                )
            )
            self._commit(force=True)

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
        """Flush and close the database; RecordingError (after closing) if records were lost."""
        with self._lock:
            lost = None
            try:
                self._commit(force=True)
            except RecordingError as exc:
                lost = exc
            if self._store is not None:
                self._store.close()
                self._store = None
            if lost is not None:
                raise RecordingError(f"closed with records not written: {lost}")

    def _commit(self, force: bool) -> None:
        if not self._ticks and not self._events:
            return
        if not force and self._last_error is not None and self.clock() < self._retry_at:
            raise RecordingError(self._failing_message())
        ticks, events = list(self._ticks), list(self._events)
        try:
            store = self.store
            with store.write():
                timeseries.write_rows(store, ticks)
                ev.append_rows(store, events)
                if ticks:
                    self._maintain(store, max(t for t, _, _ in ticks))
        except (sqlite3.Error, StoreError) as exc:
            self._last_error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._retry_at = self.clock() + self.retry_s
            if self._store is not None and not isinstance(exc, sqlite3.OperationalError):
                self._store.close()
                self._store = None
            raise RecordingError(self._failing_message()) from None
        self._ticks.clear()
        self._events.clear()
        self._last_error = None

    def _failing_message(self) -> str:
        return (
            f"{self.path}: cannot record ({self._last_error}); "
            f"{len(self._ticks)} ticks and {len(self._events)} events kept in memory "
            f"(dropped {self._dropped}), retrying every {self.retry_s:g} s"
        )

    def _maintain(self, store: Store, last_ms: int) -> None:
        """Roll up each completed 5-min bucket; apply retention once per hour of data.

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
                rollups.apply_retention(store, self.retention)
            else:
                rollups.roll_up(store)
        except sqlite3.Error as exc:
            store.conn.execute("ROLLBACK TO maintain")
            store.conn.execute("RELEASE maintain")
            self._maintenance_error = str(exc)
            return
        store.conn.execute("RELEASE maintain")
        self._maintenance_error = None
        self._rolled_5m_ms, self._retained_1h_ms = bucket5, hour
