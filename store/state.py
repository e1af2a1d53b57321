"""Saved states of simulated parts, by key (table `sim_state`, schema v4).

The store keeps a state as JSON text without looking inside: the part that saved it (e.g. the
simulated greenhouse, `sim.plant.Plant.save_state`) checks its layout when it is loaded back.
Saving replaces the key's previous state in one durable commit.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from store.db import Store
from store.errors import QueryError


@dataclass(frozen=True)
class SavedState:
    """One saved state: its key, the (plant) time it belongs to, when it was written, the data."""

    key: str
    time_s: float
    saved_at: str
    state: Any


def save_state(store: Store, key: str, time_s: float, state: Any) -> None:
    """Replace the state saved under `key` (inside `store.write()`); QueryError if not JSON."""
    if not math.isfinite(time_s):
        raise QueryError(f"state {key!r} has time {time_s}; give a finite UTC time in seconds")
    try:
        text = json.dumps(state, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise QueryError(f"state {key!r} cannot be saved as JSON ({exc})") from None
    store.conn.execute(
        "INSERT INTO sim_state (key, t_ms, saved_at, state) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET t_ms = excluded.t_ms, saved_at = excluded.saved_at, "
        "state = excluded.state",
        (key, round(time_s * 1000.0), datetime.now(UTC).isoformat(timespec="seconds"), text),
    )


def load_state(store: Store, key: str) -> SavedState | None:
    """The state saved under `key`, or None; QueryError (one line) if its JSON is damaged."""
    row = store.conn.execute(
        "SELECT t_ms, saved_at, state FROM sim_state WHERE key = ?", (key,)
    ).fetchone()
    if row is None:
        return None
    try:
        state = json.loads(row[2])
    except ValueError as exc:
        raise QueryError(f"saved state {key!r} is not valid JSON ({exc})") from None
    return SavedState(key, row[0] / 1000.0, row[1], state)


def last_record_s(store: Store) -> float | None:
    """Time of the latest tick or event (UTC s), or None for a database with no records."""
    row = store.conn.execute(
        "SELECT MAX(t) FROM (SELECT MAX(t_ms) AS t FROM ticks UNION ALL "
        "SELECT MAX(t_ms) FROM events)"
    ).fetchone()
    return None if row is None or row[0] is None else row[0] / 1000.0
