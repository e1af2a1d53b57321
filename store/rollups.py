"""5-min and hourly rollups (count, sum, min, max per channel) and retention of raw data.

Rollup tables are wide like `ticks`: one row per bucket (`t_ms` the rowid), columns
`n_<id>`, `sum_<id>`, `min_<id>`, `max_<id>` per value channel (`<id>` = `channels.id`;
NULL where the channel had no good sample in the bucket).

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

from store.db import ROLLUP_STATS, Store

STEP_MS: dict[str, int] = {"5m": 300_000, "1h": 3_600_000}
TABLE: dict[str, str] = {"5m": "rollup_5m", "1h": "rollup_1h"}
_INF = 2**62


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


def roll_up(store: Store, until_ms: int | None = None) -> None:
    """Roll up every complete bucket up to the one holding the newest tick (inside `write()`).

    `until_ms` (the caller's clock) caps "newest": a stray row far in the future never marks
    the buckets between now and it as complete.
    """
    row = store.conn.execute("SELECT MIN(t_ms), MAX(t_ms) FROM ticks").fetchone()
    if row[1] is None:
        return
    first, last = row
    if until_ms is not None:
        last = min(last, until_ms)
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
    # Whole hours, so each hour rebuilt below has all its 5-min buckets even where retention
    # already deleted the 5-min rollups (raw_from is on an hour boundary).
    a5 = max(_floor(lo_ms, STEP_MS["1h"]), raw_from)
    b5 = min(math.ceil(hi_ms / STEP_MS["1h"]) * STEP_MS["1h"], until5)
    if b5 <= a5:
        return
    store.conn.execute("DELETE FROM rollup_5m WHERE t_ms >= ? AND t_ms < ?", (a5, b5))
    _raw_to_5m(store, a5, b5)
    until1 = _meta_int(store, "rollup_1h_until_ms")
    if until1 is None:
        return
    a1 = _floor(a5, STEP_MS["1h"])
    b1 = min(math.ceil(b5 / STEP_MS["1h"]) * STEP_MS["1h"], until1)
    if b1 > a1:
        store.conn.execute("DELETE FROM rollup_1h WHERE t_ms >= ? AND t_ms < ?", (a1, b1))
        _5m_to_1h(store, a1, b1)


def _columns(ids: list[int]) -> str:
    return ", ".join(f"{stat}_{cid}" for cid in ids for stat, _ in ROLLUP_STATS)


def _raw_to_5m(store: Store, lo_ms: int, hi_ms: int) -> None:
    channels = store.value_channels()
    if not channels:
        return
    step = STEP_MS["5m"]
    stats = []
    for c, _ in channels:
        x = store.value_expr(c)
        stats.append(f"NULLIF(COUNT({x}), 0), SUM({x}), MIN({x}), MAX({x})")
    store.conn.execute(
        f"INSERT OR REPLACE INTO rollup_5m (t_ms, {_columns([cid for _, cid in channels])}) "
        f"SELECT (t_ms / {step}) * {step} AS bucket, {', '.join(stats)} FROM ticks "
        "WHERE t_ms >= ? AND t_ms < ? GROUP BY bucket",
        (lo_ms, hi_ms),
    )


def _5m_to_1h(store: Store, lo_ms: int, hi_ms: int) -> None:
    ids = [cid for _, cid in store.value_channels()]
    if not ids:
        return
    step = STEP_MS["1h"]
    store.conn.execute(
        f"INSERT OR REPLACE INTO rollup_1h (t_ms, {_columns(ids)}) "
        f"SELECT (t_ms / {step}) * {step} AS bucket, {combine(ids)} FROM rollup_5m "
        "WHERE t_ms >= ? AND t_ms < ? GROUP BY bucket",
        (lo_ms, hi_ms),
    )


def combine(ids: list[int]) -> str:
    """SQL aggregates merging rollup rows: n, sum, min, max of each channel id in turn."""
    return ", ".join(f"SUM(n_{cid}), SUM(sum_{cid}), MIN(min_{cid}), MAX(max_{cid})" for cid in ids)


def apply_retention(store: Store, retention: Retention, *, now_ms: int) -> dict[str, int]:
    """Roll up, then delete raw ticks (and 5-min rollups) past their period (inside `write()`).

    The period is counted back from `now_ms`, the caller's clock: the control loop passes
    its plant time (the newest tick it recorded), so a simulated greenhouse running faster
    than real time keeps the same span of raw data, and a stray row dated in the future
    (never the table's newest time) cannot push the cut-off past the real ticks. Returns
    the number of rows deleted per table (ticks, 5-min buckets).
    """
    roll_up(store, until_ms=now_ms)
    deleted = {"ticks": 0, "rollup_5m": 0}
    last = now_ms
    until1 = _meta_int(store, "rollup_1h_until_ms")
    if until1 is None:
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
            cur = store.conn.execute("DELETE FROM rollup_5m WHERE t_ms < ?", (cutoff,))
            deleted["rollup_5m"] = cur.rowcount
            if cur.rowcount:
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
