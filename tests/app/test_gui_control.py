"""Setpoints, overrides and alarms driven through the real widgets against the real loop."""

from __future__ import annotations

from PySide6.QtCore import Qt

from controllers.alarms import AlarmConfig
from store.db import open_store
from store.events import search
from tests.app.conftest import tick


def _events(window, kind):
    with open_store(window.config.db_path, readonly=True) as store:
        return search(store, kinds=[kind])


def test_setpoint_change_is_validated_applied_and_logged(make_window, manual_clock, qtbot):
    window = make_window()
    tick(window, 1, manual_clock)
    view = window.setpoints
    assert window.session.loop.last_record.setpoints["heat_c"] < 21
    # a value outside the allowed range is refused as it is typed
    view.set_cell(1, "heat_c", "35.5")
    assert not view.apply_button.isEnabled()
    assert "outside 5..35" in view.error.text()
    # every period that sets heating moves to 23.5 C
    heating_rows = [i for i, p in enumerate(view.rules.periods) if "heat_c" in p.values]
    for row in heating_rows:
        view.set_cell(row, "heat_c", "23.5")
    assert view.apply_button.isEnabled() and view.error.isHidden()
    view.why.setText("warmer for a generative push")
    qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    assert view.error.isHidden(), view.error.text()
    tick(window, 1, manual_clock)
    assert window.session.loop.last_record.setpoints["heat_c"] == 23.5
    logged = _events(window, "setpoint_change")
    assert len(logged) == 1
    assert logged[0].who == view.who.text()
    assert "generative push" in logged[0].message
    assert logged[0].data["changed"]["periods"][heating_rows[0]]["values"]["heat_c"] == 23.5


def test_apply_without_a_reason_is_refused_in_place(make_window, manual_clock):
    window = make_window()
    view = window.setpoints
    view.set_cell(2, "heat_c", "21")
    view.why.setText("")
    assert view.apply() is False
    assert "why" in view.error.text()
    assert window.session.rules.periods[2].values["heat_c"] == 20.5


def test_vent_override_holds_then_expires(make_window, manual_clock, qtbot):
    window = make_window()
    tick(window, 2, manual_clock)
    view = window.actuators
    view.ov_actuator.setCurrentIndex(view.ov_actuator.findData("vent_lee_pct"))
    view.ov_value.setValue(60.0)
    view.ov_minutes.setValue(3.0)
    view.ov_why.setText("")
    qtbot.mouseClick(view.ov_set, Qt.MouseButton.LeftButton)
    assert "who sets it and why" in view.ov_error.text()  # plain words, no traceback
    view.ov_why.setText("inspecting the vent rack")
    qtbot.mouseClick(view.ov_set, Qt.MouseButton.LeftButton)
    assert view.ov_error.isHidden()
    tick(window, 1, manual_clock)  # one plant minute
    record = window.session.loop.last_record
    assert record.commands["vent_lee_pct"] == 60.0
    cell = view.table.item(2, 4).text()
    assert cell.startswith("60 % for 2 more min"), cell
    tick(window, 3, manual_clock)  # past the 3 plant minutes
    assert window.session.loop.overrides.active() == []
    assert view.table.item(2, 4).text() == ""
    ended = _events(window, "override_ended")
    assert [e.data["reason"] for e in ended] == ["expired"]
    assert ended[0].data["why"] == "inspecting the vent rack"


def test_alarm_is_shown_and_acknowledged(make_window, manual_clock, qtbot):
    # the air is never 40..50 C in August at night: the band alarm raises at once
    window = make_window(alarms=AlarmConfig(bands={"tair_c": (40.0, 50.0)}, band_delay_s=0.0))
    tick(window, 2, manual_clock)
    view = window.actuators
    assert view.alarms.rowCount() == 1
    assert "tair_c" in view.alarms.item(0, 1).text()
    assert view.alarms.item(0, 2).text() == "raised"
    assert window.overview.tiles["alarms"].value.text() == "1"
    qtbot.mouseClick(view.ack, Qt.MouseButton.LeftButton)
    assert "Select an alarm" in view.alarm_error.text()
    view.alarms.selectRow(0)
    qtbot.mouseClick(view.ack, Qt.MouseButton.LeftButton)
    assert view.alarm_error.isHidden()
    assert view.alarms.item(0, 2).text() == "acknowledged"
    assert window.session.loop.alarms.active()[0].acknowledged_by == view.ov_who.text()
    acked = _events(window, "alarm_acknowledged")
    assert len(acked) == 1 and acked[0].who == view.ov_who.text()
    # the acknowledgement started a reload of past alarms; wait for the row to say who, not just
    # for one row (the reload on raising already showed one)
    who = view.ov_who.text()

    def acknowledged_row_shown() -> bool:
        cell = view.past.item(0, 3)
        return view.past.rowCount() == 1 and cell is not None and cell.text() == who

    qtbot.waitUntil(acknowledged_row_shown, timeout=10_000)


def test_close_leaves_actuators_safe_and_records_flushed(make_window, manual_clock):
    window = make_window()
    tick(window, 3, manual_clock)
    device = window.session.device
    window.close()
    assert window.session.stopped
    acts = device.plant.actuators()
    assert acts["vent_lee_pct"] == 5.0 and acts["lamps_pct"] == 0.0  # fail-safe values
    assert len(_events(window, "loop_stopped")) == 1
    with open_store(window.config.db_path, readonly=True) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] == 3
