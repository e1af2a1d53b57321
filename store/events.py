"""The append-only event log: alarms, setpoint changes, overrides, decisions, promotions, config.

Rows are never changed or deleted (triggers refuse UPDATE and DELETE). `data` holds the
event's structured details as JSON (for an override: actuator, value, until_s, who, why).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from store.db import Store
from store.errors import QueryError

ALARM_KINDS: tuple[str, ...] = ("alarm_raised", "alarm_acknowledged", "alarm_cleared")


@dataclass(frozen=True)
class LoggedEvent:
    """One row of the event log as read back."""

    id: int
    time_s: float
    kind: str
    source: str
    message: str
    who: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AlarmEpisode:
    """One alarm from raise to clear: when it was raised, acknowledged (by whom) and cleared."""

    alarm: str
    source: str
    message: str
    raised_s: float
    acknowledged_s: float | None
    acknowledged_by: str | None
    cleared_s: float | None


def event_row(
    time_s: float, kind: str, source: str, message: str, who: str, data: dict[str, Any]
) -> tuple[int, str, str, str, str, str]:
    """The `events` row of one event (JSON-encoded data; refuses a non-finite time)."""
    if not math.isfinite(time_s):
        raise QueryError(f"event {kind!r} has time {time_s}; give a finite UTC time in seconds")
    return (
        round(time_s * 1000.0),
        str(kind),
        str(source),
        str(message),
        str(who),
        json.dumps(data, sort_keys=True, default=str, allow_nan=False),
    )


def append_rows(store: Store, rows: Iterable[tuple]) -> None:
    """Append event rows (inside `store.write()`)."""
    store.conn.executemany(
        "INSERT INTO events (t_ms, kind, source, message, who, data) VALUES (?, ?, ?, ?, ?, ?)",
        list(rows),
    )


def search(
    store: Store,
    *,
    kinds: Iterable[str] | None = None,
    t0_s: float | None = None,
    t1_s: float | None = None,
    text: str | None = None,
    limit: int = 1000,
    newest_first: bool = False,
) -> list[LoggedEvent]:
    """Events of the given kinds with t0 <= time < t1 whose message, source, who or data
    contain `text` (case-insensitive), oldest first unless `newest_first`."""
    where: list[str] = []
    params: list[str | int] = []
    kinds = list(kinds) if kinds is not None else None
    if kinds:
        where.append(f"kind IN ({', '.join('?' * len(kinds))})")
        params += kinds
    if t0_s is not None:
        where.append("t_ms >= ?")
        params.append(round(t0_s * 1000.0))
    if t1_s is not None:
        where.append("t_ms < ?")
        params.append(round(t1_s * 1000.0))
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(
            "(message LIKE ? ESCAPE '\\' OR source LIKE ? ESCAPE '\\' "
            "OR who LIKE ? ESCAPE '\\' OR data LIKE ? ESCAPE '\\')"
        )
        params += [pattern] * 4
    sql = "SELECT id, t_ms, kind, source, message, who, data FROM events"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY t_ms {'DESC' if newest_first else 'ASC'}, id LIMIT ?"
    params.append(int(limit))
    return [
        LoggedEvent(i, t / 1000.0, k, s, m, w, json.loads(d))
        for i, t, k, s, m, w, d in store.conn.execute(sql, params)
    ]


def count(store: Store) -> int:
    """How many events the log holds."""
    return int(store.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])


def last_with(store: Store, kind: str, key: str) -> LoggedEvent | None:
    """The event of `kind` written last whose data holds `key` (e.g. the rules of the last
    `setpoint_change`), or None. "Last" is the order of writing, not of time."""
    row = store.conn.execute(
        "SELECT id, t_ms, kind, source, message, who, data FROM events "
        "WHERE kind = ? AND json_type(data, ?) IS NOT NULL ORDER BY id DESC LIMIT 1",
        (kind, "$." + key),
    ).fetchone()
    if row is None:
        return None
    i, t, k, s, m, w, d = row
    return LoggedEvent(i, t / 1000.0, k, s, m, w, json.loads(d))


def alarm_key(event: LoggedEvent) -> str:
    """Which alarm an event is about: data["alarm"] (or data["id"]), else its source."""
    return str(event.data.get("alarm", event.data.get("id", event.source)))


def alarm_history(
    store: Store, t0_s: float | None = None, t1_s: float | None = None
) -> list[AlarmEpisode]:
    """Alarm episodes raised in t0..t1, each with its acknowledgement and clearing if any."""
    events = search(store, kinds=ALARM_KINDS, t0_s=t0_s, t1_s=None, limit=10_000_000)
    open_: dict[str, dict[str, Any]] = {}
    episodes: list[dict[str, Any]] = []
    for e in events:
        key = alarm_key(e)
        if e.kind == "alarm_raised":
            if t1_s is not None and e.time_s >= t1_s:
                continue
            episode = {
                "alarm": key,
                "source": e.source,
                "message": e.message,
                "raised_s": e.time_s,
                "acknowledged_s": None,
                "acknowledged_by": None,
                "cleared_s": None,
            }
            open_[key] = episode
            episodes.append(episode)
        elif key in open_:
            episode = open_[key]
            if e.kind == "alarm_acknowledged" and episode["acknowledged_s"] is None:
                episode["acknowledged_s"] = e.time_s
                episode["acknowledged_by"] = e.who
            elif e.kind == "alarm_cleared":
                episode["cleared_s"] = e.time_s
                del open_[key]
    return [AlarmEpisode(**e) for e in episodes]


def active_overrides(store: Store, at_s: float | None = None) -> list[dict[str, Any]]:
    """Overrides set and not ended (nor expired at `at_s`), by replaying the override events.

    Each is {"actuator", "value", "until_s", "who", "why"}; a later override of the same
    actuator replaces an earlier one.
    """
    active: dict[str, dict[str, Any]] = {}
    for e in search(store, kinds=("override_set", "override_ended"), limit=10_000_000):
        actuator = str(e.data.get("actuator", ""))
        if e.kind == "override_set":
            active[actuator] = {
                "actuator": actuator,
                "value": e.data.get("value"),
                "until_s": e.data.get("until_s"),
                "who": e.data.get("who", e.who),
                "why": e.data.get("why", e.message),
            }
        else:
            active.pop(actuator, None)
    return [
        o
        for o in active.values()
        if at_s is None or o["until_s"] is None or float(o["until_s"]) > at_s
    ]
