"""Retention: raw data leaves after its period, rollups keep plots and exports whole."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from store import csvio, rollups, timeseries
from tests.store.conftest import T0


def _days(store, days, step_s=60.0):
    n = int(days * 86400 / step_s)
    rows = [
        (timeseries.to_ms(T0 + i * step_s), "normal", {"tair_c": 20 + np.sin(i / 50.0)})
        for i in range(n)
    ]
    with store.write():
        timeseries.write_rows(store, rows)
        rollups.roll_up(store)
    return rows


def _newest(store) -> int:
    """The loop's clock in these tests: the newest tick (no stray rows here)."""
    return store.conn.execute("SELECT MAX(t_ms) FROM ticks").fetchone()[0]


def test_retention_deletes_old_raw_data_but_plots_keep_every_bucket(store):
    rows = _days(store, 4)
    span = (T0, T0 + 4 * 86400)
    before = timeseries.downsample(store, ["tair_c"], *span, points=96)["tair_c"]
    before_5m = timeseries.downsample(store, ["tair_c"], *span, points=4 * 288)["tair_c"]
    with store.write():
        deleted = rollups.apply_retention(
            store, rollups.Retention(raw_s=86400.0), now_ms=_newest(store)
        )
    kept = store.conn.execute("SELECT COUNT(*), MIN(t_ms) FROM ticks").fetchone()
    assert deleted["ticks"] == len(rows) - kept[0] and kept[0] <= 25 * 60
    assert kept[1] == timeseries.to_ms(T0 + 3 * 86400 - 3600)
    after = timeseries.downsample(store, ["tair_c"], *span, points=96)["tair_c"]
    after_5m = timeseries.downsample(store, ["tair_c"], *span, points=4 * 288)["tair_c"]
    for a, b in ((before, after), (before_5m, after_5m)):
        assert np.array_equal(a.t_s, b.t_s)
        assert np.array_equal(a.n, b.n) and np.allclose(a.mean, b.mean)
        assert np.array_equal(a.min, b.min) and np.array_equal(a.max, b.max)
    # A narrow query in the expired period falls back to the 5-min rollups: no gap.
    narrow = timeseries.downsample(store, ["tair_c"], T0, T0 + 3600, points=600)["tair_c"]
    assert narrow.n.sum() == 60 and len(narrow.t_s) == 12


def test_export_uses_five_minute_means_where_raw_data_expired(store):
    rows = _days(store, 2)
    with store.write():
        rollups.apply_retention(store, rollups.Retention(raw_s=86400.0), now_ms=_newest(store))
    exported = list(csvio.export_rows(store, columns=("tair_c",)))
    times = [t for t, _ in exported]
    assert times == sorted(times) and len(set(times)) == len(times)
    cutoff = store.conn.execute("SELECT MIN(t_ms) FROM ticks").fetchone()[0]
    early = [(t, v[0]) for t, v in exported if t < cutoff]
    assert len(early) == (cutoff - rows[0][0]) // 300_000
    x = np.array([r[2]["tair_c"] for r in rows[:5]])
    assert early[0] == (rows[0][0], pytest.approx(x.mean()))
    assert sum(1 for t in times if t >= cutoff) == len(rows) - (cutoff - rows[0][0]) // 60_000


def test_late_rows_rebuild_their_rollups(store):
    _days(store, 1)
    with store.write():
        timeseries.write_rows(store, [(timeseries.to_ms(T0 + 30), None, {"tair_c": 100.0})])
    hourly = timeseries.downsample(store, ["tair_c"], T0, T0 + 86400, points=24)["tair_c"]
    assert hourly.max[0] == 100.0 and hourly.n[0] == 61


def test_plan_covers_a_range_without_gaps_or_overlaps(store):
    _days(store, 2)
    with store.write():
        rollups.apply_retention(
            store, rollups.Retention(raw_s=86400.0, rollup_5m_s=1.5 * 86400), now_ms=_newest(store)
        )
    lo, hi = timeseries.to_ms(T0 - 3600), timeseries.to_ms(T0 + 3 * 86400)
    for level in ("raw", "5m", "1h"):
        pieces = rollups.plan(store, level, lo, hi)
        assert pieces[0][1] == lo and pieces[-1][2] == hi
        assert all(p[2] == q[1] for p, q in itertools.pairwise(pieces))


def test_old_data_imported_into_a_young_database_shows_in_plots(store):
    _days(store, 2)
    with store.write():
        deleted = rollups.apply_retention(
            store, rollups.Retention(raw_s=30 * 86400.0), now_ms=_newest(store)
        )
    assert deleted["ticks"] == 0 and store.get_meta("raw_from_ms") is None
    old = [
        (timeseries.to_ms(T0 - 86400 + i * 60), None, {"tair_c": 5.0}) for i in range(60)
    ]  # an hour of last year's log, older than anything in the file
    with store.write():
        timeseries.write_rows(store, old)
        rollups.roll_up(store)
    b = timeseries.downsample(store, ["tair_c"], T0 - 86400, T0 - 82800, points=12)["tair_c"]
    assert b.n.sum() == 60 and set(b.mean) == {5.0}


def test_a_late_tick_keeps_its_hour_whole_when_five_minute_rollups_expired_first(store):
    rows = _days(store, 3)
    with store.write():  # raw kept longer than the 5-min rollups (to save disk)
        rollups.apply_retention(
            store, rollups.Retention(raw_s=2 * 86400.0, rollup_5m_s=86400.0), now_ms=_newest(store)
        )
    hour = T0 + 86400 + 5 * 3600  # raw ticks still there, 5-min rollups already deleted
    assert (
        store.conn.execute(
            "SELECT COUNT(*) FROM rollup_5m WHERE t_ms < ?", (timeseries.to_ms(hour + 3600),)
        ).fetchone()[0]
        == 0
    )
    with store.write():
        timeseries.write_rows(store, [(timeseries.to_ms(hour + 1830), None, {"tair_c": 100.0})])
    b = timeseries.downsample(store, ["tair_c"], hour, hour + 3600, points=1)["tair_c"]
    x = [r[2]["tair_c"] for r in rows if hour <= r[0] / 1000 < hour + 3600] + [100.0]
    assert b.level == "1h" and b.n.tolist() == [61]
    assert b.max[0] == 100.0 and b.min[0] == min(x) and b.mean[0] == pytest.approx(np.mean(x))


def test_rollup_tables_have_one_row_per_bucket_and_columns_per_value_channel(store):
    with store.write():
        timeseries.write_rows(
            store,
            [(timeseries.to_ms(T0 + i * 60), None, {"a": float(i), "q_a": 0}) for i in range(120)],
        )
        timeseries.write_rows(store, [(timeseries.to_ms(T0 + 7200), None, {"b": 1.0})])
        rollups.roll_up(store)
    a, b = store.channel_id("a"), store.channel_id("b")
    cols = {r[1] for r in store.conn.execute("PRAGMA table_info(rollup_1h)")}
    assert cols == {"t_ms"} | {f"{s}_{c}" for c in (a, b) for s in ("n", "sum", "min", "max")}
    hourly = store.conn.execute(
        f"SELECT t_ms, n_{a}, sum_{a}, min_{a}, max_{a}, n_{b} FROM rollup_1h ORDER BY t_ms"
    ).fetchall()
    first = timeseries.to_ms(T0)
    assert hourly == [(first, 60, sum(range(60)), 0.0, 59.0, None),
                      (first + 3_600_000, 60, sum(range(60, 120)), 60.0, 119.0, None)]  # fmt: skip
    assert store.conn.execute("SELECT COUNT(*) FROM rollup_5m").fetchone()[0] == 24
