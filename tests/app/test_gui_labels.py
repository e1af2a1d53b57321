"""Views show a grower's words with units; the canonical name stays in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.gui.labels import channel_label
from tests.app.conftest import tick


def test_channel_labels_have_words_and_units():
    assert channel_label("cmd_co2_valve_pct") == "CO₂ valve – command (%)"
    assert channel_label("rb_vent_lee_pct") == "Lee vents – read back (%)"
    assert channel_label("sp_heat_c") == "Heating temperature – setpoint (°C)"
    assert channel_label("h_bus_ms") == "Bus poll time (ms)"
    assert channel_label("h_climate.consecutive_failures") == "Node climate: failures in a row"
    assert channel_label("par_umol_m2_s") == "PAR light (µmol/m²/s)"
    assert channel_label("not_a_known_name") == "not_a_known_name"
    # a second node carrying a signal (drivers.signals.node_key): words, node and unit
    assert channel_label("tair_c:climate.east") == "Air temperature – node climate.east (°C)"
    assert channel_label("vent_lee_pct:act:2") == "Lee vents – node act:2 (%)"


def test_history_lists_channels_in_words_with_the_name_in_the_tooltip(
    make_window, manual_clock, qtbot
):  # fmt: skip
    window = make_window()
    tick(window, 5, manual_clock)
    view = window.history
    view.reload()
    qtbot.waitUntil(lambda: view.channels.count() > 0 and bool(view.buckets), timeout=10_000)
    items = {
        view.channels.item(i).data(Qt.ItemDataRole.UserRole): view.channels.item(i)
        for i in range(view.channels.count())
    }
    assert items["cmd_co2_valve_pct"].text() == "CO₂ valve – command (%)"
    assert items["h_bus_ms"].text() == "Bus poll time (ms)"
    # the whole label (it may be elided in a narrow list) and the database name
    assert items["tair_c"].toolTip() == "Air temperature (°C)\ntair_c: greenhouse air temperature"
    raw = [name for name, item in items.items() if item.text() == name]
    assert raw == [], raw  # every channel has words
    names = [view.channels.item(i).data(Qt.ItemDataRole.UserRole) for i in range(len(items))]
    assert names.index("tair_c") < names.index("cmd_lamps_pct") < names.index("h_bus_ms")
    legend = [label.text for _sample, label in view.plot.getPlotItem().legend.items]
    assert legend == ["Air temperature (°C)", "Outside temperature (°C)"]


def test_actuator_table_and_override_choice_read_in_words(make_window):
    window = make_window()
    view = window.actuators
    assert view.table.item(2, 0).text() == "Lee vents (%)"
    assert view.table.item(2, 0).toolTip() == "vent_lee_pct: lee-side vent opening"
    index = view.ov_actuator.findData("vent_lee_pct")
    assert view.ov_actuator.itemText(index) == "Lee vents (%)"
    header = window.setpoints.periods.horizontalHeaderItem(3)
    assert header.text() == "Heating\ntemperature\n(°C)"
    assert header.toolTip().startswith("heat_c: allowed 5..35 °C")
