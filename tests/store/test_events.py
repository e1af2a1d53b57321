"""The append-only event log: search, alarm history, overrides."""

from __future__ import annotations

import sqlite3

import pytest

from store import events
from tests.store.conftest import T0


def _log(store, rows):
    with store.write():
        events.append_rows(store, rows)


def _row(t, kind, message, who="grower", source="loop", **data):
    return events.event_row(T0 + t, kind, source, message, who, data)


def test_events_cannot_be_changed_or_deleted(store):
    _log(store, [_row(0, "config_change", "tick 60 s")])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE events SET message = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM events")
    assert store.conn.execute("SELECT message FROM events").fetchall() == [("tick 60 s",)]


def test_search_by_kind_time_and_text(store):
    _log(
        store,
        [
            _row(0, "setpoint_change", "heat_c 18 -> 19", who="anna", why="cold night"),
            _row(60, "strategy_decision", "grower rules: night period"),
            _row(120, "setpoint_change", "co2_ppm 800 -> 900", who="ben"),
            _row(180, "model_promotion", "model v3 promoted (MAE 0.4 C)"),
            _row(240, "setpoint_change", "100%_sure heat_c", who="anna"),
        ],
    )
    found = events.search(store, kinds=["setpoint_change"])
    assert [e.message for e in found] == [
        "heat_c 18 -> 19",
        "co2_ppm 800 -> 900",
        "100%_sure heat_c",
    ]
    assert found[0].who == "anna" and found[0].data == {"why": "cold night"}
    assert [e.time_s - T0 for e in events.search(store, t0_s=T0 + 60, t1_s=T0 + 180)] == [60, 120]
    assert [e.time_s - T0 for e in events.search(store, text="HEAT_C")] == [0, 240]
    assert [e.time_s - T0 for e in events.search(store, text="cold")] == [0]  # in data
    assert [e.time_s - T0 for e in events.search(store, text="100%_")] == [240]
    assert [e.kind for e in events.search(store, limit=2, newest_first=True)] == [
        "setpoint_change",
        "model_promotion",
    ]


def test_alarm_history_pairs_raise_ack_and_clear(store):
    _log(
        store,
        [
            _row(0, "alarm_raised", "tair high", who="serra", alarm="tair_high"),
            _row(10, "alarm_raised", "bus down", who="serra", source="poller"),
            _row(30, "alarm_acknowledged", "seen", who="anna", alarm="tair_high"),
            _row(60, "alarm_cleared", "tair ok", who="serra", alarm="tair_high"),
            _row(90, "alarm_raised", "tair high", who="serra", alarm="tair_high"),
        ],
    )
    hist = events.alarm_history(store)
    assert [(h.alarm, h.raised_s - T0) for h in hist] == [
        ("tair_high", 0),
        ("poller", 10),
        ("tair_high", 90),
    ]
    assert hist[0].acknowledged_s == T0 + 30 and hist[0].acknowledged_by == "anna"
    assert hist[0].cleared_s == T0 + 60
    assert hist[1].cleared_s is None and hist[2].acknowledged_s is None
    assert [h.raised_s - T0 for h in events.alarm_history(store, T0 + 5, T0 + 90)] == [10]


def test_active_overrides_replay_set_and_end(store):
    _log(
        store,
        [
            _row(0, "override_set", "vents", actuator="vent_lee_pct", value=30.0, until_s=None),
            _row(5, "override_set", "lamps", actuator="lamps_pct", value=0.0, until_s=T0 + 100),
            _row(10, "override_set", "vents", actuator="vent_lee_pct", value=50.0, until_s=None),
            _row(20, "override_set", "fog", actuator="fog_pct", value=10.0, until_s=None),
            _row(30, "override_ended", "fog done", actuator="fog_pct"),
        ],
    )
    active = {o["actuator"]: o for o in events.active_overrides(store, at_s=T0 + 50)}
    assert set(active) == {"vent_lee_pct", "lamps_pct"}
    assert active["vent_lee_pct"]["value"] == 50.0 and active["vent_lee_pct"]["who"] == "grower"
    assert active["vent_lee_pct"]["why"] == "vents"
    assert {o["actuator"] for o in events.active_overrides(store, at_s=T0 + 100)} == {
        "vent_lee_pct"
    }


def test_count_is_the_number_of_events_logged(store):
    assert events.count(store) == 0
    _log(store, [_row(60 * i, "strategy_decision", f"plan {i}") for i in range(7)])
    _log(store, [_row(500, "config_change", "tick 60 s")])
    assert events.count(store) == 8
