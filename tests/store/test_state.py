"""Saved simulator states (schema v4): kept by key, replaced whole, committed after the records."""

from __future__ import annotations

import sqlite3

import pytest

from store import state as saved
from store.db import open_store
from store.errors import QueryError, RecordingError
from store.events import last_with
from store.recorder import SqliteRecorder
from tests.store.conftest import T0, event, tick


def test_a_state_is_saved_and_replaced_by_key_exactly(store, db_path):
    first = {"time_s": T0, "x": [0.1, 1e-300, 2.0 / 3.0], "layout": {"version": 1}}
    with store.write():
        saved.save_state(store, "plant", T0, first)
        saved.save_state(store, "other", T0 - 60.0, {"n": 1})
    second = {**first, "x": [0.30000000000000004]}
    with store.write():
        saved.save_state(store, "plant", T0 + 600.0, second)
    with open_store(db_path) as again:  # another connection sees the commit
        got = saved.load_state(again, "plant")
        assert got.state == second  # floats come back bit for bit
        assert got.time_s == T0 + 600.0 and got.saved_at.endswith("+00:00")
        assert saved.load_state(again, "other").state == {"n": 1}
        assert saved.load_state(again, "missing") is None
        assert again.conn.execute("SELECT COUNT(*) FROM sim_state").fetchone()[0] == 2


@pytest.mark.parametrize("state", [{"x": float("nan")}, {"x": object()}])
def test_a_state_that_is_not_json_is_refused_and_nothing_is_written(store, state):
    with pytest.raises(QueryError, match="cannot be saved as JSON"), store.write():
        saved.save_state(store, "plant", T0, state)
    assert saved.load_state(store, "plant") is None


def test_a_damaged_state_is_a_one_line_query_error(store):
    with store.write():
        store.conn.execute(
            "INSERT INTO sim_state VALUES ('plant', 0, '2024-01-01T00:00:00+00:00', '{\"x\": [1,')"
        )
    with pytest.raises(QueryError, match="saved state 'plant' is not valid JSON"):
        saved.load_state(store, "plant")


def test_last_record_time_is_the_latest_tick_or_event(store, db_path):
    assert saved.last_record_s(store) is None
    rec = SqliteRecorder(db_path).open()
    rec.record_tick(tick(0))
    rec.record_tick(tick(5))
    assert saved.last_record_s(store) == T0 + 300.0
    rec.record_event(event(T0 + 330.0, "loop_stopped"))
    assert saved.last_record_s(store) == T0 + 330.0
    rec.close()


def test_recorder_commits_queued_ticks_before_the_state(db_path):
    rec = SqliteRecorder(db_path, batch_ticks=100).open()
    for i in range(7):
        rec.record_tick(tick(i))
    rec.save_state("plant", T0 + 6 * 60.0, {"t": 6})
    with sqlite3.connect(db_path) as c:
        assert c.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] == 7
        assert c.execute("SELECT t_ms FROM sim_state").fetchone()[0] == (T0 + 360.0) * 1000
    rec.close()


def test_recorder_save_state_failure_is_a_recording_error(db_path):
    rec = SqliteRecorder(db_path).open()
    with pytest.raises(RecordingError, match="cannot save the plant state"):
        rec.save_state("plant", float("inf"), {})
    rec.close()


def test_last_with_finds_the_last_written_event_holding_a_key(db_path):
    rec = SqliteRecorder(db_path).open()
    rec.record_event(event(T0, "setpoint_change", rules={"v": 1}))
    rec.record_event(event(T0 + 60.0, "setpoint_change", changed={"heat_c": 21.0}))
    rec.record_event(event(T0 - 60.0, "setpoint_change", rules={"v": 2}))  # written last
    rec.record_event(event(T0 + 120.0, "config_change", rules={"v": 3}))
    store = rec.store
    assert last_with(store, "setpoint_change", "rules").data["rules"] == {"v": 2}
    assert last_with(store, "override_set", "rules") is None
    rec.close()
