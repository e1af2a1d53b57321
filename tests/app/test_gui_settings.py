"""The settings dialog and the fail-safe banner, driven through real widgets and a real bus."""

from __future__ import annotations

import pytest

from app.gui.views.settings import SIMULATED, SettingsDialog
from app.session import Session, SessionConfig
from drivers.nodes import DEFAULT_NODES_PATH, load_nodes
from sim.device_faults import FaultConfig, FaultInjector
from store.db import open_store
from store.events import search
from tests.app.conftest import tick


def _rows(dialog: SettingsDialog) -> list[list[str]]:
    t = dialog.health
    return [[t.item(i, j).text() for j in range(t.columnCount())] for i in range(t.rowCount())]


def test_settings_test_connection_on_the_running_simulated_greenhouse(make_window, manual_clock):
    window = make_window()
    tick(window, 2, manual_clock)
    dialog = SettingsDialog(window.config, window.session, window)
    assert dialog.port.currentText() == SIMULATED
    dialog.run_test()
    rows = _rows(dialog)
    nodes = load_nodes(None).nodes
    assert [r[0] for r in rows] == [n.name for n in nodes]
    assert [int(r[1]) for r in rows] == [n.slave for n in nodes]
    assert all(r[2] == "OK" for r in rows), rows
    assert all(int(r[3]) >= 2 for r in rows)  # two ticks: at least two answers per node
    assert all(int(r[4]) == 0 for r in rows)
    assert all(0.0 < float(r[5]) < 1000.0 for r in rows)


def test_settings_test_connection_polls_a_port_once_per_node(make_window, qtbot):
    # the embedded device's own serial link stands in for a real port: a real poll over it
    window = make_window()
    dialog = SettingsDialog(window.config, window.session, window)
    dialog.port.setCurrentText(window.session.address)
    assert dialog.chosen_port() == window.session.address
    dialog.run_test()
    qtbot.waitUntil(lambda: dialog.health.rowCount() > 0, timeout=20_000)
    rows = _rows(dialog)
    assert len(rows) == len(load_nodes(None).nodes)
    # one poll cycle: one read per register block (the actuator node has two), no failures
    assert [int(r[3]) for r in rows] == [1, 1, 2], rows
    assert all(r[2] == "OK" and r[4] == "0" for r in rows), rows
    assert dialog.test.isEnabled() and dialog.error.isHidden()


def test_settings_bad_port_and_bad_nodes_file_are_one_plain_line(
    make_window, qtbot, tmp_path
):  # fmt: skip
    window = make_window()
    dialog = SettingsDialog(window.config, window.session, window)
    port = str(tmp_path / "no-such-port")
    dialog.port.setCurrentText(port)
    dialog.run_test()
    qtbot.waitUntil(lambda: not dialog.error.isHidden(), timeout=20_000)
    text = dialog.error.text()
    assert text.count(port) == 1, text  # named once: the drivers' message already names it
    assert "\n" not in text and "Traceback" not in text
    assert dialog.test.isEnabled() and dialog.health.rowCount() == 0
    dialog.error.clear_error()
    dialog.nodes.setText(str(tmp_path / "missing.toml"))
    dialog.run_test()
    qtbot.waitUntil(lambda: not dialog.error.isHidden(), timeout=20_000)
    assert "missing.toml" in dialog.error.text() and "\n" not in dialog.error.text()


def test_settings_result_restarts_the_loop_at_the_new_speed(
    make_window, manual_clock, qtbot, tmp_path
):  # fmt: skip
    window = make_window()
    dialog = SettingsDialog(window.config, window.session, window)
    dialog.speed.setCurrentIndex(dialog.speed.findData(600.0))
    dialog.db.setText(str(tmp_path / "other.sqlite"))
    new = dialog.result_config()
    assert (new.port, new.nodes_path, new.speed) == (None, None, 600.0)
    assert new.db_path == tmp_path / "other.sqlite"
    old_session = window.session
    new.clock, new.autorun = manual_clock, False
    with qtbot.waitSignal(window.session_started, timeout=60_000):
        window.restart(new)
    assert window.start_error == ""
    assert old_session.stopped and window.session is not old_session
    assert window.session.loop.tick_s == 0.5  # a plant minute is 0.1 s: the 0.5 s floor
    t0 = window.session.plant_time()
    manual_clock.advance(1.0)
    assert window.session.plant_time() - t0 == pytest.approx(600.0)
    tick(window, 2, manual_clock)
    with open_store(new.db_path, readonly=True) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] == 2
        changes = search(store, kinds=("config_change",))
        started = search(store, kinds=("loop_started",))
    # the new database says what changed, by whom, before the loop started on it
    assert len(changes) == 1
    change = changes[0]
    assert change.who == window.session.who and change.source == "settings"
    assert change.data == {
        "changed": {
            "speed": [60.0, 600.0],
            "db_path": [str(tmp_path / "serra.sqlite"), str(tmp_path / "other.sqlite")],
        }
    }
    assert change.message == (
        f"settings changed: database {tmp_path / 'serra.sqlite'} -> "
        f"{tmp_path / 'other.sqlite'}, speed 60x -> 600x"
    )
    assert change.id < started[0].id


def test_settings_applied_unchanged_log_no_config_change_and_a_new_port_logs_one(
    make_window, manual_clock, qtbot, tmp_path
):  # fmt: skip
    window = make_window()
    dialog = SettingsDialog(window.config, window.session, window)
    same = dialog.result_config()
    same.clock, same.autorun = manual_clock, False
    with qtbot.waitSignal(window.session_started, timeout=60_000):
        window.restart(same)
    nodes = DEFAULT_NODES_PATH  # the same maps, now named by file
    dialog = SettingsDialog(window.config, window.session, window)
    dialog.nodes.setText(str(nodes))
    # a real port: another session's simulated greenhouse serves the link
    other = Session(
        SessionConfig(db_path=tmp_path / "device.sqlite", clock=manual_clock, autorun=False)
    )
    other.start()
    try:
        dialog.port.setCurrentText(other.address)
        changed = dialog.result_config()
        changed.clock, changed.autorun = manual_clock, False
        with qtbot.waitSignal(window.session_started, timeout=60_000):
            window.restart(changed)
        assert window.start_error == ""
        window.session.stop()
    finally:
        other.stop()
    with open_store(window.config.db_path, readonly=True) as store:
        events = search(store, kinds=("config_change",))
    assert [e.data["changed"] for e in events] == [
        {
            "port": [None, other.address],
            "nodes_path": [None, str(nodes)],
        }
    ]
    assert events[0].message == (
        f"settings changed: link simulated greenhouse -> {other.address}, "
        f"node maps virtual greenhouse node maps -> {nodes}"
    )


def test_speed_change_from_the_status_bar_is_logged_once(make_window, manual_clock):
    window = make_window()
    tick(window, 1, manual_clock)
    window.speed.setCurrentIndex(window.speed.findData(300.0))
    window.session.set_speed(300.0)  # choosing the speed in force again changes nothing
    window.session.stop()
    with open_store(window.config.db_path, readonly=True) as store:
        events = search(store, kinds=("config_change",))
    assert [(e.data, e.who) for e in events] == [
        ({"changed": {"speed": [60.0, 300.0]}}, window.session.who)
    ]
    assert window.session.device.speed == 300.0


def test_failsafe_banner_shows_while_readings_are_corrupt_and_goes_when_good(
    make_window, manual_clock
):  # fmt: skip
    window = make_window()
    tick(window, 2, manual_clock)
    assert window.banner.isHidden()
    device = window.session.device
    device.faults = FaultInjector(FaultConfig(crc_p=1.0))  # every reply fails its CRC
    tick(window, 6, manual_clock)
    record = window.session.loop.last_record
    assert record.mode == "failsafe"
    assert not window.banner.isHidden()
    text = window.banner.text()
    assert text.startswith("FAIL-SAFE: actuators held at their safe positions")
    assert "air temperature" in text and "tair_c" not in text  # words, the names in the tooltip
    assert "tair_c" in window.banner.toolTip()
    safe = window.session.loop.safety.config.failsafe_commands()
    held = [a for a in ("vent_lee_pct", "lamps_pct") if record.commands[a] == safe[a]]
    assert held == ["vent_lee_pct", "lamps_pct"], (record.commands, safe)
    device.faults = FaultInjector(FaultConfig())
    tick(window, 2, manual_clock)
    assert window.session.loop.last_record.mode == "normal"
    assert window.banner.isHidden()


def test_check_connection_names_a_refused_port_once():
    import socket

    from app.session import SessionError, check_connection

    with socket.socket() as s:  # a port on 127.0.0.1 nobody listens on
        s.bind(("127.0.0.1", 0))
        port = f"socket://127.0.0.1:{s.getsockname()[1]}"
    with pytest.raises(SessionError) as err:
        check_connection(port)
    message = str(err.value)
    assert message.count(port) == 1 and message.startswith(f"cannot open port {port}: "), message
