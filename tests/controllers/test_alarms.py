"""Alarms: raise/acknowledge/clear with times, events, notification, the tick checks."""

from __future__ import annotations

import sys

import pytest

from controllers.alarms import AlarmConfig, AlarmManager
from controllers.notify import CommandNotifier
from drivers.signals import node_key

GOOD = {"tair_c": "good", "rh_pct": "good", "co2_ppm": "good"}
VALUES = {"tair_c": 20.0, "rh_pct": 70.0, "co2_ppm": 800.0}


def manager(**kw):
    events, notified = [], []
    m = AlarmManager(events.append, lambda a: notified.append((a.key, a.state)), **kw)
    return m, events, notified


def check(m, t, values=None, quality=None, bus_ok=True, commanded=None, readbacks=None):
    m.evaluate(t, values=values or VALUES, quality=quality or GOOD, bus_ok=bus_ok,
               commanded=commanded, readbacks=readbacks or {})  # fmt: skip


def test_raise_acknowledge_clear_with_times_and_events():
    m, events, notified = manager()
    check(m, 0.0, bus_ok=False)
    (a,) = m.active()
    m.acknowledge("bus_down", 30.0, "anna")
    check(m, 60.0, bus_ok=False)
    check(m, 120.0)
    assert [e.kind for e in events] == ["alarm_raised", "alarm_acknowledged", "alarm_cleared"]
    assert [e.time_s for e in events] == [0.0, 30.0, 120.0]
    assert events[1].who == "anna"
    assert (a.raised_s, a.acknowledged_s, a.cleared_s, a.state) == (0.0, 30.0, 120.0, "cleared")
    assert notified == [("bus_down", "raised"), ("bus_down", "cleared")]
    assert m.active() == []


def test_climate_band_waits_for_its_delay():
    m, events, _ = manager(config=AlarmConfig(band_delay_s=900.0))
    hot = {**VALUES, "tair_c": 35.0}
    for t in range(0, 900, 60):
        check(m, float(t), values=hot)
    assert not m.is_active("climate_band:tair_c")
    check(m, 900.0, values=hot)
    assert m.is_active("climate_band:tair_c")
    assert events[-1].data["value"] == 35.0 and events[-1].data["hi"] == 32.0
    check(m, 960.0)
    assert not m.is_active("climate_band:tair_c")


def test_stale_and_implausible_sensors():
    m, _, _ = manager()
    check(m, 0.0, quality={**GOOD, "rh_pct": "stale", "co2_ppm": "bad"})
    assert m.is_active("sensor_stale:rh_pct") and m.is_active("sensor_implausible:co2_ppm")
    check(m, 60.0, values={**VALUES, "tair_c": 20.0})
    check(m, 120.0, values={**VALUES, "tair_c": 26.0})  # +6 C in a minute
    assert m.is_active("sensor_implausible:tair_c")
    check(m, 180.0, values={**VALUES, "tair_c": 26.5})
    assert not m.is_active("sensor_implausible:tair_c")


def test_a_second_node_carrying_a_signal_raises_its_own_sensor_alarm():
    m, _, _ = manager()
    key = node_key("tair_c", "climate.east")  # how the poller keys the second node's reading
    check(m, 0.0, quality={**GOOD, key: "stale"})
    assert m.is_active(f"sensor_stale:{key}") and not m.is_active("sensor_stale:tair_c")


def test_missing_sensor_names_the_actuators_it_holds_in_fail_safe():
    m, events, notified = manager()
    needed = {"co2_ppm": ("co2_valve_pct",), "wind_m_s": ("vent_lee_pct", "vent_wind_pct")}
    m.evaluate(0.0, values=VALUES, quality=GOOD, bus_ok=True, commanded=None, readbacks={},
               needed=needed)  # fmt: skip
    assert [a.key for a in m.active()] == ["sensor_missing:wind_m_s"]
    assert events[0].message == (
        "no node on the bus provides wind_m_s (add one to the nodes file); "
        "held in fail-safe: vent_lee_pct, vent_wind_pct"
    )
    assert notified == [("sensor_missing:wind_m_s", "raised")]
    # still missing a minute later: no second raise; present again: cleared
    m.evaluate(60.0, values=VALUES, quality=GOOD, bus_ok=True, commanded=None, readbacks={},
               needed=needed)  # fmt: skip
    assert len(events) == 1
    m.evaluate(120.0, values=VALUES, quality={**GOOD, "wind_m_s": "good"}, bus_ok=True,
               commanded=None, readbacks={}, needed=needed)  # fmt: skip
    assert m.active() == [] and events[-1].kind == "alarm_cleared"
    assert events[-1].time_s == 120.0


def test_actuator_follow_needs_consecutive_misses():
    m, _, _ = manager(config=AlarmConfig(follow_ticks=3, follow_tolerance=1.0))
    cmd = {"vent_lee_pct": 40.0}
    for t in (0.0, 60.0):
        check(m, t, commanded=cmd, readbacks={"vent_lee_pct": 5.0})
    assert not m.is_active("actuator_follow:vent_lee_pct")
    check(m, 120.0, commanded=cmd, readbacks={"vent_lee_pct": 5.0})
    assert m.is_active("actuator_follow:vent_lee_pct")
    check(m, 180.0, commanded=cmd, readbacks={"vent_lee_pct": 39.5})
    assert not m.is_active("actuator_follow:vent_lee_pct")


def test_broken_notifier_does_not_stop_alarms():
    def broken(alarm):
        raise RuntimeError("no mail server")

    events = []
    m = AlarmManager(events.append, broken)
    m.set_condition("strategy_error", True, 0.0, "strategy failed")
    assert m.is_active("strategy_error") and m.notify_errors == 1 and len(events) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_command_notifier_gets_the_alarm_in_its_environment(tmp_path):
    out = tmp_path / "note.txt"
    n = CommandNotifier(f'printf "%s|%s" "$SERRA_ALARM_STATE" "$SERRA_ALARM_MESSAGE" > {out}')
    m = AlarmManager(None, n)
    m.set_condition("bus_down", True, 0.0, "bus down; $(rm -rf /) stays text")
    n.wait()
    assert out.read_text() == "raised|bus down; $(rm -rf /) stays text"
    with pytest.raises(ValueError, match="empty"):
        CommandNotifier("  ")
