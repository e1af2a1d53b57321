"""Time series in the wide `ticks` table: write rows, read ranges, bucket, latest values.

Layout: one row per tick keyed by `t_ms` (UTC milliseconds, the rowid, so a time range is a
contiguous slice of the table) with one REAL column per channel and an INTEGER quality column
`q_<name>` (0 good, 1 stale, 2 bad, NULL = no flag, taken as good) per measurement. Why wide
rather than one row per value: docs/store.md (measured with bench/bench_store.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from store import rollups
from store.db import Store, quote
from store.errors import QueryError

#: (t_ms, mode or None, {column: value}); quality columns `q_<name>` hold codes 0/1/2.
Row = tuple[int, str | None, dict[str, float | int | None]]


@dataclass(frozen=True)
class RawSeries:
    """Raw ticks of some channels: times (UTC seconds) and one array per channel (NaN = none)."""

    t_s: np.ndarray
    values: dict[str, np.ndarray]
    quality: dict[str, np.ndarray]


@dataclass(frozen=True)
class Buckets:
    """Bucketed statistics of one channel: bucket start times (UTC s), count, min, mean, max."""

    t_s: np.ndarray
    n: np.ndarray
    min: np.ndarray
    mean: np.ndarray
    max: np.ndarray
    width_s: float
    level: str


@dataclass(frozen=True)
class Latest:
    """The newest value of a channel: when (UTC s), the value and its quality name."""

    t_s: float
    value: float
    quality: str


@dataclass(frozen=True)
class TickSpan:
    """How many ticks a database holds and the first and last one's time (UTC s, None if none)."""

    count: int
    first_s: float | None
    last_s: float | None


def to_ms(t_s: float) -> int:
    """UTC seconds -> integer milliseconds (the key of `ticks`)."""
    return round(t_s * 1000.0)


def write_rows(store: Store, rows: Sequence[Row]) -> None:
    """Insert or update tick rows (inside `store.write()`); new channels get columns."""
    if not rows:
        return
    columns: list[str] = []
    seen: set[str] = set()
    for _, _, values in rows:
        for column in values:
            if column not in seen:
                seen.add(column)
                columns.append(column)
    store.ensure_columns(columns)
    names = ", ".join(["t_ms", "mode", *(quote(c) for c in columns)])
    marks = ", ".join("?" * (len(columns) + 2))
    updates = ", ".join(
        ["mode = COALESCE(excluded.mode, mode)"]
        + [f"{quote(c)} = excluded.{quote(c)}" for c in columns]
    )
    sql = f"INSERT INTO ticks ({names}) VALUES ({marks}) ON CONFLICT(t_ms) DO UPDATE SET {updates}"
    store.conn.executemany(
        sql, [(t, mode, *[values.get(c) for c in columns]) for t, mode, values in rows]
    )
    rollups.note_written(store, min(r[0] for r in rows), max(r[0] for r in rows))


def _check_channels(store: Store, channels: Iterable[str]) -> list[str]:
    channels = list(channels)
    if not channels:
        raise QueryError("no channels asked for; name at least one channel")
    for name in channels:
        store.channel_id(name)
    return channels


def _check_range(t0_s: float, t1_s: float) -> tuple[int, int]:
    if not (math.isfinite(t0_s) and math.isfinite(t1_s)) or t1_s <= t0_s:
        raise QueryError(f"time range {t0_s}..{t1_s} is empty; give from < to")
    return to_ms(t0_s), to_ms(t1_s)


def read_raw(store: Store, channels: Iterable[str], t0_s: float, t1_s: float) -> RawSeries:
    """Raw ticks of `channels` with t0 <= t < t1, with quality codes for measurements."""
    channels = _check_channels(store, channels)
    a, b = _check_range(t0_s, t1_s)
    known = store.channels
    flagged = [c for c in channels if f"q_{c}" in known]
    cols = [*channels, *(f"q_{c}" for c in flagged)]
    sql = (
        f"SELECT t_ms, {', '.join(quote(c) for c in cols)} FROM ticks "
        "WHERE t_ms >= ? AND t_ms < ? ORDER BY t_ms"
    )
    rows = store.conn.execute(sql, (a, b)).fetchall()
    data = np.array(rows, dtype=float).reshape(len(rows), len(cols) + 1)
    values = {c: data[:, i + 1] for i, c in enumerate(channels)}
    quality = {
        c: np.nan_to_num(data[:, len(channels) + 1 + i], nan=0.0).astype(np.int8)
        for i, c in enumerate(flagged)
    }
    return RawSeries(data[:, 0] / 1000.0, values, quality)


def _choose_level(span_ms: int, points: int) -> tuple[str, int]:
    width = max(1, math.ceil(span_ms / max(1, points)))
    for level in ("1h", "5m"):
        step = rollups.STEP_MS[level]
        if width >= step:
            return level, math.ceil(width / step) * step
    return "raw", width


def downsample(
    store: Store, channels: Iterable[str], t0_s: float, t1_s: float, points: int = 2000
) -> dict[str, Buckets]:
    """At most ~`points` buckets per channel of min/mean/max over t0 <= t < t1.

    Buckets are aligned to multiples of their width since 1970; wide buckets read the hourly
    or 5-min rollups, narrow ones the raw ticks. Where a source no longer holds a period
    (raw data past retention) or does not yet (the latest, not yet rolled-up minutes) the
    next source fills it, so a plot has no gaps.
    """
    channels = _check_channels(store, channels)
    a, b = _check_range(t0_s, t1_s)
    level, width = _choose_level(b - a, points)
    with store.read():
        pieces = [
            _raw_buckets(store, channels, lo, hi, width)
            if source == "raw"
            else _rollup_buckets(store, source, channels, lo, hi, width)
            for source, lo, hi in rollups.plan(store, level, a, b)
        ]
    keys, stats = _merge(np.concatenate(pieces) if pieces else np.empty((0, 1 + 4 * len(channels))))
    out = {}
    for i, c in enumerate(channels):
        n, total, low, high = stats[:, 4 * i : 4 * i + 4].T
        has = n > 0
        out[c] = Buckets(
            t_s=keys[has] / 1000.0,
            n=n[has].astype(np.int64),
            min=low[has],
            mean=total[has] / n[has],
            max=high[has],
            width_s=width / 1000.0,
            level=level,
        )
    return out


def _merge(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (bucket, then n, sum, min, max per channel; NaN = none) from several sources ->
    (bucket starts, one row per bucket) with counts and sums added, minima and maxima taken."""
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    keys, starts = np.unique(rows[:, 0], return_index=True)
    x = rows[:, 1:]
    if not len(rows):
        return keys, x
    out = np.empty((len(keys), x.shape[1]))
    out[:, 0::4] = np.add.reduceat(np.nan_to_num(x[:, 0::4]), starts)
    out[:, 1::4] = np.add.reduceat(np.nan_to_num(x[:, 1::4]), starts)
    out[:, 2::4] = np.fmin.reduceat(x[:, 2::4], starts)
    out[:, 3::4] = np.fmax.reduceat(x[:, 3::4], starts)
    return keys, out


def _bucket_rows(store: Store, sql: str, lo: int, hi: int, n_channels: int) -> np.ndarray:
    rows = store.conn.execute(sql, (lo, hi)).fetchall()
    return np.array(rows, dtype=float).reshape(len(rows), 1 + 4 * n_channels)


def _raw_buckets(store: Store, channels: list[str], lo: int, hi: int, width: int) -> np.ndarray:
    """Bucket rows of raw ticks (see `_merge`)."""
    parts = []
    for c in channels:
        x = store.value_expr(c)
        parts.append(f"COUNT({x}), TOTAL({x}), MIN({x}), MAX({x})")
    sql = (
        f"SELECT (t_ms / {width}) * {width} AS bucket, {', '.join(parts)} FROM ticks "
        "WHERE t_ms >= ? AND t_ms < ? GROUP BY bucket"
    )
    return _bucket_rows(store, sql, lo, hi, len(channels))


def _rollup_buckets(
    store: Store, level: str, channels: list[str], lo: int, hi: int, width: int
) -> np.ndarray:
    """Bucket rows of a rollup table (see `_merge`); quality channels have none."""
    ids = {name: cid for cid, name in store.rollup_ids(channels).items()}
    parts = [rollups.combine([ids[c]]) if c in ids else "NULL, NULL, NULL, NULL" for c in channels]
    sql = (
        f"SELECT (t_ms / {width}) * {width} AS bucket, {', '.join(parts)} "
        f"FROM {rollups.TABLE[level]} WHERE t_ms >= ? AND t_ms < ? GROUP BY bucket"
    )
    return _bucket_rows(store, sql, lo, hi, len(channels))


def latest(store: Store, channels: Iterable[str] | None = None) -> dict[str, Latest]:
    """The newest non-empty value of each channel (default: every value channel)."""
    if channels is None:
        store.reload_channels()
        channels = [c for c, kind in store.channels.items() if kind != "quality"]
    channels = list(channels)
    for c in channels:
        store.channel_id(c)
    out = {}
    with store.read():
        for c in channels:
            q = f"q_{c}" if f"q_{c}" in store.channels else "NULL"
            row = store.conn.execute(
                f"SELECT t_ms, {quote(c)}, {quote(q) if q != 'NULL' else q} FROM ticks "
                f"WHERE {quote(c)} IS NOT NULL ORDER BY t_ms DESC LIMIT 1"
            ).fetchone()
            if row is not None:
                out[c] = Latest(row[0] / 1000.0, float(row[1]), _quality_name(row[2]))
    return out


def _quality_name(code: int | None) -> str:
    return {None: "good", 0: "good", 1: "stale", 2: "bad"}.get(code, "bad")


def tick_span(store: Store) -> TickSpan:
    """The number of ticks and the time of the first and last one (one consistent read).

    What a history view's range and `serra db info` start from; cheap at any size (`t_ms` is
    the rowid, so MIN and MAX are index look-ups).
    """
    with store.read():
        sql = "SELECT COUNT(*), MIN(t_ms), MAX(t_ms) FROM ticks"
        n, lo, hi = store.conn.execute(sql).fetchone()
    return TickSpan(n, None if lo is None else lo / 1000.0, None if hi is None else hi / 1000.0)
