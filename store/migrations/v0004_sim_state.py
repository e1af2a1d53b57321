"""Schema version 4: `sim_state`, saved states of simulated parts by key.

One row per key (e.g. "plant" for the simulated greenhouse): the time the state belongs to
(plant time, UTC ms), when it was written (wall clock, ISO UTC) and the state itself as JSON
text. The store treats the state as opaque: the part that saved it checks its own layout when it
loads it back. A save replaces the key's row, so the table never grows.
"""

from __future__ import annotations

import sqlite_utils

VERSION = 4
NAME = "sim_state"


def migrate(db: sqlite_utils.Database) -> None:
    """Create `sim_state` (inside the caller's transaction)."""
    db.execute(
        "CREATE TABLE sim_state (key TEXT PRIMARY KEY, t_ms INTEGER NOT NULL, "
        "saved_at TEXT NOT NULL, state TEXT NOT NULL)"
    )
