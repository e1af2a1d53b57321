"""SqliteRecorder: the loop's records in, restore out, batching and write failures."""

from __future__ import annotations

import pytest

from controllers.records import Recorder
from store import timeseries
from store.db import open_store
from store.errors import RecordingError
from store.recorder import SqliteRecorder
from tests.store.conftest import T0, event, tick


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _count(path) -> int:
    with open_store(path) as s:
        return s.conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0]


def test_recorder_satisfies_the_loop_protocol(db_path):
    assert isinstance(SqliteRecorder(db_path), Recorder)


def test_ticks_are_stored_under_the_documented_columns(db_path):
    rec = SqliteRecorder(db_path)
    for i in range(3):
        rec.record_tick(tick(i))
    rec.close()
    with open_store(db_path) as s:
        row = dict(
            zip(
                ["tair_c", "q_co2_ppm", "sp_heat_c", "cmd_vent_lee_pct", "rb_vent_lee_pct"],
                s.conn.execute(
                    "SELECT tair_c, q_co2_ppm, sp_heat_c, cmd_vent_lee_pct, rb_vent_lee_pct, "
                    '"h_climate.errors", mode FROM ticks ORDER BY t_ms DESC'
                ).fetchone(),
                strict=False,
            )
        )
        assert row == {
            "tair_c": 21.0,
            "q_co2_ppm": 1,
            "sp_heat_c": 18.0,
            "cmd_vent_lee_pct": 2.0,
            "rb_vent_lee_pct": 1.5,
        }
        assert timeseries.latest(s, ["sp_co2_ppm"])["sp_co2_ppm"].value == 800.0


def test_batches_commit_every_n_ticks_and_events_at_once(db_path):
    rec = SqliteRecorder(db_path, batch_ticks=3)
    rec.record_tick(tick(0))
    rec.record_tick(tick(1))
    assert _count(db_path) == 0
    rec.record_tick(tick(2))
    assert _count(db_path) == 3
    rec.record_tick(tick(3))
    rec.record_event(event(T0, "config_change", "tick 60 s"))
    assert _count(db_path) == 4  # an event commits the queued ticks with it
    rec.record_tick(tick(4))
    rec.flush()
    assert _count(db_path) == 5
    rec.close()


def test_restore_is_none_when_empty_then_last_setpoints_and_live_overrides(db_path):
    rec = SqliteRecorder(db_path)
    assert rec.restore() is None
    for i in range(5):
        rec.record_tick(tick(i))
    rec.record_event(
        event(T0, "override_set", "storm", actuator="vent_lee_pct", value=0.0, until_s=None)
    )
    rec.record_event(
        event(T0 + 10, "override_set", "x", actuator="lamps_pct", value=0.0, until_s=T0 + 100)
    )
    rec.record_event(
        event(T0 + 20, "override_set", "y", actuator="fog_pct", value=5.0, until_s=T0 + 1000)
    )
    rec.record_event(event(T0 + 30, "override_ended", "y done", actuator="fog_pct"))
    rec.close()
    again = SqliteRecorder(db_path)
    state = again.restore()
    assert state["setpoints"] == {"heat_c": 18.0, "co2_ppm": 800.0}  # tick 4: heat 18 + 4 % 2
    assert [(o["actuator"], o["value"], o["who"]) for o in state["overrides"]] == [
        ("vent_lee_pct", 0.0, "grower")
    ]  # lamps expired at T0 + 100 < last tick T0 + 240
    again.close()


def test_disk_full_raises_keeps_ticks_and_retries_after_the_delay(db_path):
    clock = FakeClock()
    rec = SqliteRecorder(db_path, clock=clock, retry_s=5.0)
    rec.record_tick(tick(0))
    pages = rec.store.conn.execute("PRAGMA page_count").fetchone()[0]
    rec.store.conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is now full
    with pytest.raises(RecordingError, match=r"full.*1 ticks and 0 events kept in memory"):
        rec.record_tick(tick(1, health={f"node{k}": 1.0 for k in range(200)}))
    clock.now = 1.0
    with pytest.raises(RecordingError, match="2 ticks"):
        rec.record_tick(tick(2))  # inside the retry delay: not even tried
    assert rec.status()["queued_ticks"] == 2 and _count(db_path) == 1
    rec.store.conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
    clock.now = 6.0
    rec.record_tick(tick(3))
    assert _count(db_path) == 4 and rec.status()["last_error"] is None
    rec.close()


def test_read_only_database_and_missing_folder_are_recording_errors(tmp_path):
    path = tmp_path / "later" / "serra.db"
    clock = FakeClock()
    rec = SqliteRecorder(path, clock=clock, retry_s=1.0)
    with pytest.raises(RecordingError, match="cannot record"):
        rec.record_tick(tick(0))
    path.parent.mkdir()
    clock.now = 2.0
    rec.record_tick(tick(1))
    assert _count(path) == 2
    rec.store.conn.execute("PRAGMA query_only = ON")  # as if the file became read-only
    with pytest.raises(RecordingError, match="readonly"):
        rec.record_event(event(T0, "config_change", "x"))
    assert rec.status()["queued_events"] == 1
    rec.store.conn.execute("PRAGMA query_only = OFF")
    rec.flush()
    assert rec.status()["queued_events"] == 0
    rec.close()


def test_queue_is_bounded_and_counts_dropped_ticks(tmp_path):
    rec = SqliteRecorder(tmp_path / "no" / "x.db", max_queued_ticks=3, retry_s=1e9)
    for i in range(5):
        with pytest.raises(RecordingError):
            rec.record_tick(tick(i))
    assert rec.status()["queued_ticks"] == 3 and rec.status()["dropped_ticks"] == 2
    assert (rec.pending_ticks, rec.dropped_ticks) == (3, 2) and rec.last_error
    (tmp_path / "no").mkdir()
    rec.flush()
    with open_store(tmp_path / "no" / "x.db") as s:
        kept = [r[0] for r in s.conn.execute("SELECT t_ms FROM ticks ORDER BY t_ms")]
    assert kept == [timeseries.to_ms(tick(i).time_s) for i in (2, 3, 4)]


def test_recorder_keeps_rollups_current(db_path):
    rec = SqliteRecorder(db_path)
    for i in range(130):
        rec.record_tick(tick(i))
    rec.close()
    with open_store(db_path) as s:
        assert int(s.get_meta("rollup_5m_until_ms")) == timeseries.to_ms(T0 + 7500)
        assert int(s.get_meta("rollup_1h_until_ms")) == timeseries.to_ms(T0 + 7200)
        cid = s.channel_id("tair_c")
        n = s.conn.execute(f"SELECT SUM(n_{cid}) FROM rollup_1h").fetchone()[0]
        assert n == 120
