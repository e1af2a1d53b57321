"""Store speed on this machine: ingest, a year of 1-minute data, window and year queries.

Run: .venv/bin/python bench/bench_store.py [--days 365] [--channels 20] [--layouts-only]

1. Layout comparison on 30 days of 1-min ticks x 20 channels: the wide tick table the store
   uses (one row per tick, a column per channel) against long rows (one row per value in a
   WITHOUT ROWID table keyed by channel and time): ingest rate, bytes per value, a 7-day
   window of 4 channels, and a raw min/mean/max over the whole span.
2. Ingest through `timeseries.write_rows` in batches, and through `SqliteRecorder` (TickRecord
   objects, batch_ticks=60), each commit durable (WAL, synchronous=FULL). Target >= 100,000
   values/s.
3. One year of 1-min data for 20 channels (written a day per transaction, rollups kept up):
   size on disk, a 7-day window of 4 channels (target < 50 ms), the full year downsampled to
   2,000 points per channel (target < 300 ms), for 4 and for all channels.
"""

from __future__ import annotations

import argparse
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controllers.records import TickRecord  # noqa: E402
from store import rollups, timeseries  # noqa: E402
from store.db import open_store  # noqa: E402
from store.recorder import SqliteRecorder  # noqa: E402

T0 = 1_704_067_200.0  # 2024-01-01 UTC
NAMES = ["tair_c", "rh_pct", "co2_ppm", "par_umol_m2_s", "pipe_c", "pipe_grow_c", "tout_c",
         "iglob_w_m2", "wind_m_s", "rhout_pct"]  # fmt: skip


def channel_names(n: int) -> list[str]:
    """n channel names: measurements first, then setpoint/command columns."""
    extra = [f"cmd_a{k}" for k in range(max(0, n - len(NAMES)))]
    return (NAMES + extra)[:n]


def values_for(i: int, names: list[str]) -> dict[str, float]:
    """Deterministic, varying values of tick i (a daily cycle plus an index per channel)."""
    day = math.sin(2 * math.pi * (i % 1440) / 1440.0)
    return {c: round(20.0 + k + 5.0 * day + (i % 7) * 0.01, 3) for k, c in enumerate(names)}


def timed(fn, repeat: int = 5) -> float:
    """Median wall time of fn() in ms."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)


def size_mb(path: Path) -> float:
    """Database size after a checkpoint (main file only, WAL folded in)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path.stat().st_size / 1e6


def bench_layouts(folder: Path, days: int = 30, n_ch: int = 20) -> None:
    """Wide tick rows vs long value rows on the same data."""
    names = channel_names(n_ch)
    n = days * 1440
    print(f"== layout: {days} days of 1-min ticks x {n_ch} channels ({n * n_ch:,} values)")
    # wide
    wide = open_store(folder / "wide.db")
    t = time.perf_counter()
    for d in range(days):
        rows = [(timeseries.to_ms(T0 + i * 60), "normal", values_for(i, names))
                for i in range(d * 1440, (d + 1) * 1440)]  # fmt: skip
        with wide.write():
            timeseries.write_rows(wide, rows)
    wide_ingest = n * n_ch / (time.perf_counter() - t)
    # long
    conn = sqlite3.connect(folder / "long.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute(
        "CREATE TABLE samples (channel_id INTEGER, t_ms INTEGER, value REAL, quality INTEGER,"
        " PRIMARY KEY (channel_id, t_ms)) WITHOUT ROWID"
    )
    t = time.perf_counter()
    for d in range(days):
        rows = []
        for i in range(d * 1440, (d + 1) * 1440):
            tm = timeseries.to_ms(T0 + i * 60)
            rows += [(k, tm, v, 0) for k, v in enumerate(values_for(i, names).values())]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO samples VALUES (?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    long_ingest = n * n_ch / (time.perf_counter() - t)
    a, b = timeseries.to_ms(T0 + 10 * 86400), timeseries.to_ms(T0 + 17 * 86400)
    four = names[:4]

    def wide_window():
        wide.conn.execute(
            f"SELECT t_ms, {', '.join(four)} FROM ticks WHERE t_ms >= ? AND t_ms < ?", (a, b)
        ).fetchall()

    def long_window():
        for k in range(4):
            conn.execute(
                "SELECT t_ms, value FROM samples WHERE channel_id = ? AND t_ms >= ? AND t_ms < ?",
                (k, a, b),
            ).fetchall()

    w = max(1, (n * 60_000) // 2000)

    def wide_agg():
        parts = ", ".join(f"COUNT({c}), SUM({c}), MIN({c}), MAX({c})" for c in four)
        wide.conn.execute(
            f"SELECT (t_ms / {w}) * {w} AS b, {parts} FROM ticks GROUP BY b"
        ).fetchall()

    def long_agg():
        for k in range(4):
            conn.execute(
                f"SELECT (t_ms / {w}) * {w} AS b, COUNT(value), SUM(value), MIN(value), "
                "MAX(value) FROM samples WHERE channel_id = ? GROUP BY b",
                (k,),
            ).fetchall()

    wide.close()
    wide = open_store(folder / "wide.db")
    rows_fmt = "{:<6} {:>14} {:>12} {:>16} {:>22}"
    print(rows_fmt.format("layout", "ingest val/s", "bytes/value", "7 d x 4 ch (ms)",
                          f"{days} d x 4 ch agg (ms)"))  # fmt: skip
    for label, ingest, path, window, agg in (
        ("wide", wide_ingest, folder / "wide.db", wide_window, wide_agg),
        ("long", long_ingest, folder / "long.db", long_window, long_agg),
    ):
        per_value = size_mb(path) * 1e6 / (n * n_ch)
        print(rows_fmt.format(label, f"{ingest:,.0f}", f"{per_value:.1f}",
                              f"{timed(window):.1f}", f"{timed(agg, 3):.1f}"))  # fmt: skip
    wide.close()
    conn.close()


def bench_ingest(folder: Path, n_ch: int = 20, ticks: int = 20_000) -> None:
    """Batched ingest through write_rows and through the recorder."""
    names = channel_names(n_ch)
    print(f"== ingest: {ticks:,} ticks x {n_ch} channels, durable commits")
    for batch in (60, 1440):
        s = open_store(folder / f"ingest{batch}.db")
        t = time.perf_counter()
        for start in range(0, ticks, batch):
            rows = [(timeseries.to_ms(T0 + i * 60), "normal", values_for(i, names))
                    for i in range(start, min(ticks, start + batch))]  # fmt: skip
            with s.write():
                timeseries.write_rows(s, rows)
        rate = ticks * n_ch / (time.perf_counter() - t)
        print(f"write_rows, {batch:>5} ticks per commit: {rate:>12,.0f} values/s")
        s.close()
    meas = names[:10]
    records = [
        TickRecord(
            time_s=T0 + i * 60,
            measurements={c: v for c, v in values_for(i, names).items() if c in meas},
            quality={c: "good" for c in meas},
            setpoints={"heat_c": 18.0, "co2_ppm": 800.0},
            commands={f"a{k}": float(k) for k in range(n_ch - 10 - 2)},
            readbacks={},
        )
        for i in range(ticks)
    ]
    values = sum(len(r.measurements) * 2 + len(r.setpoints) + len(r.commands) for r in records)
    rec = SqliteRecorder(folder / "recorder.db", batch_ticks=60)
    t = time.perf_counter()
    for r in records:
        rec.record_tick(r)
    rec.close()
    rate = values / (time.perf_counter() - t)
    print(f"SqliteRecorder, 60 ticks per commit (values + quality flags): {rate:>12,.0f} values/s")


def bench_year(folder: Path, days: int, n_ch: int) -> None:
    """A year (or `days`) of 1-min data: size, window and downsampling queries."""
    names = channel_names(n_ch)
    path = folder / "year.db"
    s = open_store(path)
    n = days * 1440
    print(f"== {days} days of 1-min data x {n_ch} channels ({n * n_ch:,} values)")
    t = time.perf_counter()
    for d in range(days):
        rows = [(timeseries.to_ms(T0 + i * 60), "normal", values_for(i, names))
                for i in range(d * 1440, (d + 1) * 1440)]  # fmt: skip
        with s.write():
            timeseries.write_rows(s, rows)
            rollups.roll_up(s)
    took = time.perf_counter() - t
    print(f"written in {took:.1f} s incl. rollups ({n * n_ch / took:,.0f} values/s)")
    s.close()
    print(f"size on disk: {size_mb(path):.1f} MB ({size_mb(path) * 1e6 / (n * n_ch):.1f} B/value)")
    s = open_store(path)
    a = T0 + (days // 2) * 86400
    four = names[:4]
    ms = timed(lambda: timeseries.read_raw(s, four, a, a + 7 * 86400))
    print(f"7-day window, 4 channels raw ({7 * 1440} ticks):            {ms:7.1f} ms  (< 50)")
    span = (T0, T0 + days * 86400)
    for chans in (four, names):
        ms = timed(lambda chans=chans: timeseries.downsample(s, chans, *span, points=2000))
        b = timeseries.downsample(s, chans, *span, points=2000)[chans[0]]
        print(f"full span -> {len(b.t_s)} points x {len(chans):>2} channels ({b.level}):"
              f"{'':8}{ms:7.1f} ms  (< 300)")  # fmt: skip
    w = (days * 86400_000) // 2000
    ms = timed(lambda: timeseries._raw_buckets(s, four, -(2**62), 2**62, w), 3)
    print(f"same from raw ticks only (no rollups), 4 channels:       {ms:7.1f} ms  (reference)")
    t = time.perf_counter()
    with s.write():
        now_ms = s.conn.execute("SELECT MAX(t_ms) FROM ticks").fetchone()[0]
        deleted = rollups.apply_retention(s, rollups.Retention(raw_s=30 * 86400.0), now_ms=now_ms)
    print(f"retention (raw kept 30 days): {deleted['ticks']:,} ticks deleted in "
          f"{time.perf_counter() - t:.1f} s")  # fmt: skip
    compact = folder / "compact.db"
    s.conn.execute("VACUUM INTO ?", (str(compact),))
    print(f"size after retention (compacted copy): {compact.stat().st_size / 1e6:.1f} MB")
    for chans in (four, names):
        ms = timed(lambda chans=chans: timeseries.downsample(s, chans, *span, points=2000))
        b = timeseries.downsample(s, chans, *span, points=2000)[chans[0]]
        print(f"full span -> {len(b.t_s)} points x {len(chans):>2} channels after retention:"
              f"{'':5}{ms:7.1f} ms")  # fmt: skip
    s.close()


def main() -> int:
    """Run the benchmarks in a temporary folder and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--layouts-only", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="serra-bench-", dir=os.environ.get("TMPDIR")) as d:
        folder = Path(d)
        bench_layouts(folder)
        if not args.layouts_only:
            bench_ingest(folder, args.channels)
            bench_year(folder, args.days, args.channels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
