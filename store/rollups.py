"""5-min and hourly rollups (count, sum, min, max per channel) and retention of raw data.

Rollups are kept up to date as ticks arrive (every complete 5-min bucket, every complete hour),
not only when raw data expires, so a year-long plot always reads the hourly table. Retention
deletes raw ticks older than its period, but only below what is already rolled up, and records
where raw data now starts; `plan()` tells a query which table covers which part of a range.

Watermarks in `meta`: `rollup_5m_until_ms` / `rollup_1h_until_ms` (everything before is rolled
up), `raw_from_ms` (raw ticks before it were deleted), `rollup_5m_from_ms` (same for 5-min).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from store.db import Store

STEP_MS: dict[str, int] = {"5m": 300_000, "1h": 3_600_000}
TABLE: dict[str, str] = {"5m": "rollup_5m", "1h": "rollup_1h"}
_INF = 2**62
# Naming the channels lets a time-range condition walk the (channel_id, t_ms) primary key
# instead of scanning the whole rollup table.
_BY_KEY = "channel_id IN (SELECT id FROM channels) AND t_ms >= ? AND t_ms < ?"


@dataclass(frozen=True)
class Retention:
    """How long each resolution is kept, in seconds (None = forever)."""

    raw_s: float | None = 30 * 86400.0
    rollup_5m_s: float | None = 2 * 365 * 86400.0


def _floor(t_ms: int, step: int) -> int:
    return (t_ms // step) * step


def _meta_int(store: Store, key: str) -> int | None:
    value = store.get_meta(key)
    return None if value is None else int(value)


def note_written(store: Store, lo_ms: int, hi_ms: int) -> None:
    """Rebuild rollups that rows written at lo..hi (late or imported) make stale."""
    until5 = _meta_int(store, "rollup_5m_until_ms")
    if until5 is not None and lo_ms < until5:
        rebuild(store, lo_ms, min(hi_ms + 1, until5))


def roll_up(store: Store) -> None:
    """Roll up every complete bucket up to the one holding the newest tick (inside `write()`)."""
    row = store.conn.execute("SELECT MIN(t_ms), MAX(t_ms) FROM ticks").fetchone()
    if row[1] is None:
        return
    first, last = row
    target5 = _floor(last, STEP_MS["5m"])
    start5 = _meta_int(store, "rollup_5m_until_ms")
    start5 = _floor(first, STEP_MS["5m"]) if start5 is None else start5
    if target5 > start5:
        _raw_to_5m(store, start5, target5)
        store.set_meta("rollup_5m_until_ms", target5)
    until5 = _meta_int(store, "rollup_5m_until_ms")
    if until5 is None:
        return
    target1 = _floor(until5, STEP_MS["1h"])
    start1 = _meta_int(store, "rollup_1h_until_ms")
    start1 = _floor(first, STEP_MS["1h"]) if start1 is None else start1
    if target1 > start1:
        _5m_to_1h(store, start1, target1)
        store.set_meta("rollup_1h_until_ms", target1)


def rebuild(store: Store, lo_ms: int, hi_ms: int) -> None:
    """Recompute the rollups of lo..hi from raw ticks, where raw ticks still exist."""
    raw_from = _meta_int(store, "raw_from_ms") or -_INF
    until5 = _meta_int(store, "rollup_5m_until_ms")
    if until5 is None:
        return
    a5 = max(_floor(lo_ms, STEP_MS["5m"]), raw_from)
    b5 = min(math.ceil(hi_ms / STEP_MS["5m"]) * STEP_MS["5m"], until5)
    if b5 <= a5:
        return
    store.conn.execute(f"DELETE FROM rollup_5m WHERE {_BY_KEY}", (a5, b5))
    _raw_to_5m(store, a5, b5)
    until1 = _meta_int(store, "rollup_1h_until_ms")
    if until1 is None:
        return
    a1 = _floor(a5, STEP_MS["1h"])
    b1 = min(math.ceil(b5 / STEP_MS["1h"]) * STEP_MS["1h"], until1)
    if b1 > a1:
        store.conn.execute(f"DELETE FROM rollup_1h WHERE {_BY_KEY}", (a1, b1))
        _5m_to_1h(store, a1, b1)


def _raw_to_5m(store: Store, lo_ms: int, hi_ms: int) -> None:
    channels = store.value_channels()
    if not channels:
        return
    step = STEP_MS["5m"]
    parts = []
    for c, _ in channels:
        x = store.value_expr(c)
        parts.append(f"COUNT({x}), TOTAL({x}), MIN({x}), MAX({x})")
    sql = (
        f"SELECT (t_ms / {step}) * {step} AS bucket, {', '.join(parts)} FROM ticks "
        "WHERE t_ms >= ? AND t_ms < ? GROUP BY bucket"
    )
    out = []
    for row in store.conn.execute(sql, (lo_ms, hi_ms)):
        for i, (_, cid) in enumerate(channels):
            n, s, mn, mx = row[1 + 4 * i : 5 + 4 * i]
            if n:
                out.append((cid, row[0], n, s, mn, mx))
    store.conn.executemany(
        "INSERT OR REPLACE INTO rollup_5m (channel_id, t_ms, n, sum, min, max) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        out,
    )


def _5m_to_1h(store: Store, lo_ms: int, hi_ms: int) -> None:
    step = STEP_MS["1h"]
    store.conn.execute(
        "INSERT OR REPLACE INTO rollup_1h (channel_id, t_ms, n, sum, min, max) "
        f"SELECT channel_id, (t_ms / {step}) * {step}, SUM(n), SUM(sum), MIN(min), MAX(max) "
        f"FROM rollup_5m WHERE {_BY_KEY} "
        f"GROUP BY channel_id, (t_ms / {step})",
        (lo_ms, hi_ms),
    )


def apply_retention(store: Store, retention: Retention) -> dict[str, int]:
    """Roll up, then delete raw ticks (and 5-min rollups) past their period (inside `write()`).

    The period is counted back from the newest tick, not the wall clock, so a simulated
    greenhouse running faster than real time keeps the same span of raw data. Returns the
    number of rows deleted per table.
    """
    roll_up(store)
    deleted = {"ticks": 0, "rollup_5m": 0}
    last = store.conn.execute("SELECT MAX(t_ms) FROM ticks").fetchone()[0]
    until1 = _meta_int(store, "rollup_1h_until_ms")
    if last is None or until1 is None:
        return deleted
    if retention.raw_s is not None:
        cutoff = min(_floor(last - int(retention.raw_s * 1000), STEP_MS["1h"]), until1)
        if cutoff > (_meta_int(store, "raw_from_ms") or -_INF):
            cur = store.conn.execute("DELETE FROM ticks WHERE t_ms < ?", (cutoff,))
            deleted["ticks"] = cur.rowcount
            if cur.rowcount:  # unset while nothing was deleted: older imports stay visible
                store.set_meta("raw_from_ms", cutoff)
    if retention.rollup_5m_s is not None:
        cutoff = min(_floor(last - int(retention.rollup_5m_s * 1000), STEP_MS["1h"]), until1)
        if cutoff > (_meta_int(store, "rollup_5m_from_ms") or -_INF):
            for (cid,) in store.conn.execute("SELECT id FROM channels").fetchall():
                cur = store.conn.execute(
                    "DELETE FROM rollup_5m WHERE channel_id = ? AND t_ms < ?", (cid, cutoff)
                )
                deleted["rollup_5m"] += cur.rowcount
            if deleted["rollup_5m"]:
                store.set_meta("rollup_5m_from_ms", cutoff)
    return deleted


def plan(store: Store, level: str, lo_ms: int, hi_ms: int) -> list[tuple[str, int, int]]:
    """Which source ("raw", "5m", "1h") serves which part of lo..hi, preferring `level`."""
    raw_from = _meta_int(store, "raw_from_ms")
    until5 = _meta_int(store, "rollup_5m_until_ms")
    from5 = _meta_int(store, "rollup_5m_from_ms")
    until1 = _meta_int(store, "rollup_1h_until_ms")
    cover = {
        "raw": (-_INF if raw_from is None else raw_from, _INF),
        "5m": (-_INF if from5 is None else from5, -_INF if until5 is None else until5),
        "1h": (-_INF, -_INF if until1 is None else until1),
    }
    order = {"1h": ("1h", "5m", "raw"), "5m": ("5m", "raw", "1h"), "raw": ("raw", "5m", "1h")}
    remaining = [(lo_ms, hi_ms)]
    pieces = []
    for source in order[level]:
        c_lo, c_hi = cover[source]
        left = []
        for r_lo, r_hi in remaining:
            a, b = max(r_lo, c_lo), min(r_hi, c_hi)
            if a < b:
                pieces.append((source, a, b))
                if r_lo < a:
                    left.append((r_lo, a))
                if b < r_hi:
                    left.append((b, r_hi))
            else:
                left.append((r_lo, r_hi))
        remaining = left
    return sorted(pieces, key=lambda p: p[1])
