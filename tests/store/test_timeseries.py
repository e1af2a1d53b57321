"""Tick rows in, raw ranges, bucketed min/mean/max and latest values out."""

from __future__ import annotations

import string

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from store import rollups, timeseries
from store.db import channel_name_ok
from store.errors import QueryError, StoreError
from tests.store.conftest import T0


def _write(store, n, step_s=60.0, bad_every=0):
    rows = []
    for i in range(n):
        values = {"tair_c": 15.0 + (i % 37) * 0.25, "q_tair_c": 0, "sp_heat_c": float(i % 5)}
        if bad_every and i % bad_every == 0:
            values["tair_c"], values["q_tair_c"] = 99.0, 2
        rows.append((timeseries.to_ms(T0 + i * step_s), "normal", values))
    with store.write():
        timeseries.write_rows(store, rows)
        rollups.roll_up(store)
    return rows


def test_raw_range_returns_values_and_quality(store):
    _write(store, 100, bad_every=10)
    raw = timeseries.read_raw(store, ["tair_c", "sp_heat_c"], T0 + 600, T0 + 1200)
    assert raw.t_s.tolist() == [T0 + 60 * i for i in range(10, 20)]
    assert raw.values["tair_c"][0] == 99.0 and raw.quality["tair_c"][0] == 2
    assert raw.values["tair_c"][1] == pytest.approx(15.0 + 11 * 0.25)
    assert raw.quality["tair_c"][1:].tolist() == [0] * 9
    assert raw.values["sp_heat_c"].tolist() == [float(i % 5) for i in range(10, 20)]
    assert "sp_heat_c" not in raw.quality


def test_nan_is_stored_as_missing_and_new_channels_get_columns(store):
    with store.write():
        timeseries.write_rows(store, [(0, "normal", {"a": 1.0}), (1000, None, {"b": np.nan})])
    raw = timeseries.read_raw(store, ["a", "b"], 0, 2)
    assert np.isnan(raw.values["a"][1]) and np.isnan(raw.values["b"][1])
    assert store.conn.execute("SELECT b, mode FROM ticks WHERE t_ms = 1000").fetchone() == (
        None,
        None,
    )


@pytest.mark.parametrize("name", ["tair_c\n", "tair_c\r\n", "tair c", "", "a" * 121, "t@x"])
def test_a_channel_name_outside_the_rule_is_refused_whole_and_nothing_is_added(store, name):
    # "tair_c\n" once passed (`$` also matches before a final newline) and made a column
    # whose name no channel list, CSV header or query could show or type
    with pytest.raises(StoreError, match="is not allowed"), store.write():
        timeseries.write_rows(store, [(0, "normal", {"tair_c": 1.0, name: 2.0})])
    columns = [r[1] for r in store.conn.execute("PRAGMA table_info(ticks)")]
    assert columns == ["t_ms", "mode"] and store.channels == {}
    assert store.conn.execute("SELECT COUNT(*) FROM ticks").fetchone() == (0,)


_ALLOWED = set(string.ascii_letters + string.digits + "_.:-")


@given(st.text(max_size=130) | st.text("ab_.:-9 @\n\r\t", max_size=130))
@example("tair_c\n")
@example("a" * 120)
def test_channel_names_are_judged_whole(name):
    assert channel_name_ok(name) == (1 <= len(name) <= 120 and set(name) <= _ALLOWED)


def test_downsample_matches_numpy_on_raw_and_ignores_bad_samples(store):
    rows = _write(store, 600, bad_every=7)
    t = np.array([r[0] for r in rows]) / 1000.0
    x = np.array([r[2]["tair_c"] for r in rows])
    good = np.array([r[2]["q_tair_c"] != 2 for r in rows])
    b = timeseries.downsample(store, ["tair_c"], T0, T0 + 600 * 60, points=200)["tair_c"]
    assert b.level == "raw" and b.width_s == 180.0
    assert len(b.t_s) == 200
    for k in (0, 57, 199):
        sel = good & (t >= b.t_s[k]) & (t < b.t_s[k] + 180.0)
        assert b.n[k] == sel.sum()
        assert b.min[k] == x[sel].min() and b.max[k] == x[sel].max()
        assert b.mean[k] == pytest.approx(x[sel].mean())
    assert b.max.max() < 99.0


def test_wide_buckets_read_rollups_and_agree_with_raw(store):
    rows = _write(store, 3 * 24 * 60)  # three days of 1-min ticks
    x = np.array([r[2]["tair_c"] for r in rows])
    span = (T0, T0 + 3 * 86400)
    hourly = timeseries.downsample(store, ["tair_c"], *span, points=72)["tair_c"]
    assert hourly.level == "1h" and len(hourly.t_s) == 72
    assert hourly.n.sum() == len(rows) and hourly.mean @ hourly.n == pytest.approx(x.sum())
    assert hourly.min[5] == x[300:360].min() and hourly.max[5] == x[300:360].max()
    five = timeseries.downsample(store, ["tair_c"], *span, points=864)["tair_c"]
    assert five.level == "5m" and len(five.t_s) == 864 and five.n.sum() == len(rows)


def test_latest_values_and_unknown_channel(store):
    _write(store, 10)
    last = timeseries.latest(store, ["tair_c", "sp_heat_c"])
    assert last["tair_c"].t_s == T0 + 9 * 60 and last["tair_c"].value == 15.0 + 9 * 0.25
    assert last["sp_heat_c"].value == 4.0 and last["tair_c"].quality == "good"
    with pytest.raises(QueryError, match=r"unknown channel 'nope'; known channels: .*tair_c"):
        timeseries.read_raw(store, ["nope"], T0, T0 + 60)
    with pytest.raises(QueryError, match="empty"):
        timeseries.downsample(store, ["tair_c"], T0 + 60, T0)


def test_tick_span_counts_ticks_and_gives_the_first_and_last_time(store, db_path):
    assert timeseries.tick_span(store) == timeseries.TickSpan(0, None, None)
    _write(store, 100, step_s=90.0)
    span = timeseries.tick_span(store)
    assert span == timeseries.TickSpan(100, T0, T0 + 99 * 90.0)
    # a reader in another connection (a history view, `serra db info`) sees the same
    from store.db import open_store

    with open_store(db_path, readonly=True) as reader:
        assert timeseries.tick_span(reader) == span
