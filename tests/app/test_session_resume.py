"""The app's session restarted on the same database goes on: rules, plant clock, crop."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from app.resume import SAVE_EVERY_S
from app.session import Session, SessionConfig
from controllers.clock import ManualClock
from store.db import open_store
from store.events import search
from store.state import load_state
from tests.app.session_child import HEAT_C, heat_everywhere


def _session(db, clock) -> Session:
    session = Session(SessionConfig(db_path=db, clock=clock, autorun=False, speed=60.0))
    session.start()
    return session


def _ticks(session: Session, clock: ManualClock, n: int) -> None:
    for _ in range(n):
        clock.advance(1.0)  # one plant minute at speed 60
        session.tick()


def _tick_rows(db) -> list[tuple[float, float]]:
    try:
        with sqlite3.connect(db) as c:
            rows = c.execute('SELECT t_ms, "sp_heat_c" FROM ticks ORDER BY rowid').fetchall()
    except sqlite3.OperationalError:  # the child has not created its tables yet
        return []
    return [(t / 1000.0, sp) for t, sp in rows]


def _events(db, kinds=None):
    with open_store(db) as store:
        return search(store, kinds=kinds, limit=100_000)


def test_a_restarted_session_continues_plant_clock_crop_and_rules(tmp_path):
    db = tmp_path / "serra.db"
    clock = ManualClock(1000.0)
    first = _session(db, clock)
    _ticks(first, clock, 3)
    first.apply_rules(heat_everywhere(first.rules), who="anna", why="warmer crop")
    _ticks(first, clock, 30)
    crop_before = first.device.plant.crop_states()
    stopped_s = first.device.plant.time_s
    first.stop()
    assert first.error is None
    with open_store(db) as store:
        saved = load_state(store, "plant")
    assert saved.time_s == pytest.approx(stopped_s, abs=1e-3)  # saved at the clean stop
    old = _tick_rows(db)

    second = _session(db, clock)
    assert second.rules == heat_everywhere(second.rules)  # the applied rules are in force
    plant = second.device.plant
    # the same crop goes on (not a fresh season): its age and harvest carry over
    assert plant.crop_states()["age_s"] > crop_before["age_s"]
    assert plant.crop_states()["leaf_dm_g_m2"] == pytest.approx(
        crop_before["leaf_dm_g_m2"], rel=0.05
    )
    _ticks(second, clock, 5)
    second.stop()
    new = _tick_rows(db)[len(old) :]
    assert len(new) == 5
    times = [t for t, _ in old + new]
    assert times == sorted(times) and len(set(times)) == len(times)  # never back in time
    assert new[0][0] > old[-1][0]
    assert new[0][0] - old[-1][0] <= 3 * 60.0  # continued, not a new season
    assert [sp for _, sp in new] == [HEAT_C] * 5
    (started,) = [e for e in _events(db, ("sim_started",)) if e.time_s > old[-1][0]]
    assert started.data["resumed"] is True and started.data["saved_s"] == pytest.approx(
        stopped_s, abs=1e-3
    )
    decisions = [e for e in _events(db, ("strategy_decision",)) if e.time_s > old[-1][0]]
    assert not any("heat_c" in e.data["changed"] for e in decisions)


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")
def test_a_killed_session_process_resumes_rules_and_plant(tmp_path):
    db = tmp_path / "serra.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.app.session_child", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120.0
    while len(_tick_rows(db)) < 25:
        assert child.poll() is None, child.stderr.read()
        assert time.monotonic() < deadline, "the session recorded no ticks"
        time.sleep(0.1)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    assert child.returncode == -signal.SIGKILL
    old = _tick_rows(db)
    assert old[-1][1] == HEAT_C
    with open_store(db) as store:
        saved = load_state(store, "plant")
    # the last periodic save is at most SAVE_EVERY_S plant seconds older than the last tick
    assert old[-1][0] - SAVE_EVERY_S - 60.0 <= saved.time_s <= old[-1][0] + 60.0

    clock = ManualClock(5000.0)
    again = _session(db, clock)
    assert again.rules == heat_everywhere(again.rules)
    _ticks(again, clock, 5)
    again.stop()
    new = _tick_rows(db)[len(old) :]
    assert new[0][0] > old[-1][0] and [sp for _, sp in new] == [HEAT_C] * 5
    (started,) = [e for e in _events(db, ("sim_started",)) if e.time_s > old[-1][0]]
    assert started.data["resumed"] is True and started.data["saved_s"] == saved.time_s
    # the plant re-ran the minutes after the save, so its clock goes on past the last tick
    assert started.data["caught_up_s"] <= SAVE_EVERY_S + 2 * 60.0
    after = [e for e in _events(db) if e.time_s > old[-1][0]]
    assert not any(
        e.kind == "strategy_decision" and "heat_c" in e.data["changed"] for e in after
    ), "a setpoint went back to its default"


def test_unreadable_saved_rules_and_plant_state_are_refused_logged_and_replaced(tmp_path):
    from controllers.grower_rules import GrowerRules
    from store import events as ev
    from store.state import save_state

    db = tmp_path / "serra.db"
    with open_store(db) as store, store.write():
        rules = GrowerRules().as_dict()
        bad = {"rules": {**rules, "defaults": {**rules["defaults"], "heat_c": 99.0}}}
        ev.append_rows(store, [ev.event_row(1.534e9, "setpoint_change", "x", "m", "anna", bad)])
        save_state(store, "plant", 1.534e9, {"layout": {"version": 0}})
    clock = ManualClock(1000.0)
    session = _session(db, clock)
    try:
        assert session.rules == GrowerRules()
        (started,) = _events(db, ("sim_started",))
        assert started.data["resumed"] is False
        assert "layout version 0" in started.data["refused"]
        assert "saved state refused" in started.message and "\n" not in started.message
        refusal = _events(db, ("setpoint_change",))[-1]
        assert refusal.who == "serra" and "heat_c = 99" in refusal.data["refused"]
        assert refusal.message.endswith("the default rules are in force")
        _ticks(session, clock, 2)
    finally:
        session.stop()
    # the refusal put the defaults in force: the next start reads them without a new refusal
    again = _session(db, clock)
    again.stop()
    assert len(_events(db, ("setpoint_change",))) == 2
    assert _tick_rows(db)[0][0] > 1.534e9  # the fresh season started after the last record


@pytest.mark.parametrize(
    "last_iso",
    [
        "2018-10-01T12:00:00+00:00",  # inside the shipped weather: the season starts there
        "2018-12-06T12:00:00+00:00",  # in its last day: too late for a season, jumped past
        "2030-06-01T00:00:00+00:00",  # after it (another greenhouse's record): jumped past
    ],
)
def test_a_fresh_season_after_a_refused_plant_state_records_every_tick(tmp_path, last_iso):
    # the saved plant state is refused, so the plant starts afresh; its clock must still be
    # past the file's last tick, or the recorder refuses every tick as going back in time
    from datetime import datetime

    from controllers.records import TickRecord
    from store.recorder import SqliteRecorder
    from store.state import save_state

    db = tmp_path / "serra.db"
    last = datetime.fromisoformat(last_iso).timestamp()
    rec = SqliteRecorder(db)
    for i in (2, 1, 0):
        rec_t = last - 60.0 * i
        rec.record_tick(TickRecord(rec_t, {"tair_c": 20.0}, {}, {}, {}, {}, {}, "normal"))
    rec.close()
    with open_store(db) as store, store.write():
        save_state(store, "plant", last, {"layout": {"version": 0}})
    clock = ManualClock(1000.0)
    session = _session(db, clock)
    try:
        _ticks(session, clock, 5)
        assert not session.loop.alarms.is_active("recording_error")
    finally:
        session.stop()
    assert session.error is None and session.recorder.inner.lost == 0
    rows = _tick_rows(db)
    assert len(rows) == 3 + 5
    new = [t for t, _ in rows[3:]]
    assert new == sorted(new) and new[0] > last
    (started,) = _events(db, ("sim_started",))
    assert started.data["resumed"] is False and "layout version 0" in started.data["refused"]
