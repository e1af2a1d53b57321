"""The control loop against the virtual greenhouse device over a pty and socket://."""

from __future__ import annotations

import sys
from itertools import pairwise

import numpy as np
import pytest

from controllers.safety import DEFAULT_LIMITS

KINDS = ["socket", "pty"] if sys.platform != "win32" else ["socket"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_simulated_day_stays_within_the_climate_band(rig, kind):
    # 720 ticks of 120 plant seconds: one day (the first of the AGC 2018 season)
    r = rig(kind, speed=120.0, tick_s=1.0)
    r.loop.run(max_ticks=720)
    ticks = r.recorder.ticks
    assert ticks[-1].time_s - ticks[0].time_s == pytest.approx(719 * 120.0)
    tair = np.array([t.measurements["tair_c"] for t in ticks])
    rh = np.array([t.measurements["rh_pct"] for t in ticks])
    co2 = np.array([t.measurements["co2_ppm"] for t in ticks])
    heat = np.array([t.setpoints["heat_c"] for t in ticks])
    # inside the alarm band all day; never more than 1.5 C under the heating setpoint
    # after the first hour (the start state is a cold, unheated house)
    assert tair.min() >= 12.0 and tair.max() <= 32.0
    assert (tair[30:] >= heat[30:] - 1.5).all()
    assert rh.max() <= 95.0 and co2.min() >= 250.0 and co2.max() <= 1600.0
    # what matters: the climate never left its band and every actuator followed. A reply lost
    # on a loaded machine may at worst cost a poll (a transient bus or sensor alarm), which
    # is the bus's business, not this day's; nearly every tick ran in normal control
    raised = {e.data["alarm"] for e in r.recorder.kinds("alarm_raised")}
    assert not {a for a in raised if a.startswith(("climate_band", "actuator_follow"))}
    assert not {a for a in raised if a.startswith("sensor_missing")}
    assert sum(t.mode == "normal" for t in ticks) >= 0.98 * len(ticks)
    # every command written was obeyed: the readback equals the previous tick's command
    for a in ("pipe_sp_c", "vent_lee_pct", "screen_energy_pct", "co2_valve_pct"):
        pairs = [(t.readbacks[a], p.commands[a]) for p, t in pairwise(ticks)
                 if p.health["write_ok"] == 1.0 and a in t.readbacks]  # fmt: skip
        assert len(pairs) >= 0.98 * (len(ticks) - 1), a
        rb, cmd = np.array(pairs).T
        assert np.abs(rb - cmd).max() <= 0.051, a
    # the grower's day happened: vents opened and CO2 was dosed by day
    assert max(t.commands["vent_lee_pct"] for t in ticks) > 5.0
    assert max(t.commands["co2_valve_pct"] for t in ticks) > 0.0
    # stopped: every actuator left at its map's safe value
    safe = {e.signal: e.safe for n in r.device.config.nodes for e in n.regmap.entries if e.writable}
    assert r.device.plant.actuators() == pytest.approx(safe)


def test_a_60_s_disconnect_raises_the_alarm_fails_safe_and_recovers(rig):
    # real-time plant (speed 1), 5 s ticks; the device vanishes from 100 s to 160 s and its
    # own watchdog (30 s without a write) puts the actuators in their safe state meanwhile
    r = rig("socket", speed=1.0, tick_s=5.0, watchdog_s=30.0, disconnect=[(100.0, 160.0)],
            timeout_s=0.2)  # fmt: skip
    r.loop.run(max_ticks=20)  # 0..95 s: normal
    r.loop.stop_event.clear()
    normal = r.recorder.ticks[-1]
    assert normal.mode == "normal" and normal.commands["pipe_sp_c"] != 40.0
    r.loop.run(max_ticks=40)  # 100..295 s
    ticks = r.recorder.ticks
    rel = np.array([t.time_s for t in ticks]) - ticks[0].time_s
    raised = {e.data["alarm"]: e.time_s - ticks[0].time_s
              for e in r.recorder.kinds("alarm_raised")}  # fmt: skip
    cleared = {e.data["alarm"]: e.time_s - ticks[0].time_s
               for e in r.recorder.kinds("alarm_cleared")}  # fmt: skip
    assert 100.0 <= raised["bus_down"] <= 106.0
    assert 160.0 <= cleared["bus_down"] <= 195.0  # reopened after the port backoff
    assert set(raised) == {"bus_down"}  # one alarm, not one per silent sensor
    down = [t for t, x in zip(ticks, rel, strict=True) if 115.0 <= x < 160.0]
    assert down and all(t.mode == "failsafe" for t in down)
    assert all(t.commands["co2_valve_pct"] == 0.0 for t in down)
    # heating moves (ramped) towards its frost-safe 40 C
    gap = [abs(t.commands["pipe_sp_c"] - 40.0) for t in (normal, *down)]
    assert np.all(np.diff(gap) <= 0.0) and gap[-1] < gap[0]
    assert r.device.watchdog_trips == 1  # the device applied its own fail-safe too
    # recovered: normal control again, back from the safe state without a jump
    back = [t for t, x in zip(ticks, rel, strict=True) if x >= cleared["bus_down"]]
    assert back[-1].mode == "normal"
    for a in ("pipe_sp_c", "vent_lee_pct", "screen_energy_pct"):
        cmds = np.array([t.commands[a] for t in back])
        assert np.abs(np.diff(cmds)).max() <= DEFAULT_LIMITS[a].rate_per_min * 5 / 60 + 1e-6, a
        # the first command after the outage starts from where the device really was
        assert abs(back[0].commands[a] - back[0].readbacks[a]) <= (
            DEFAULT_LIMITS[a].rate_per_min * 5 / 60 + 0.051
        ), a


def test_a_manual_override_expires_on_time(rig):
    r = rig("socket", speed=60.0, tick_s=1.0)
    r.loop.run(max_ticks=5)
    r.loop.stop_event.clear()
    t_set = r.loop.plant_clock()
    r.loop.set_override("vent_lee_pct", 50.0, 30 * 60.0, who="anna", why="test run of vents")
    r.loop.run(max_ticks=45)
    ticks = r.recorder.ticks
    ended = r.recorder.kinds("override_ended")
    assert len(ended) == 1 and ended[0].data["reason"] == "expired"
    assert t_set + 1800.0 <= ended[0].time_s <= t_set + 1800.0 + 60.0
    # the device held 50 % all through the override (readback one tick after each write)
    held = [t for t in ticks if t_set + 60.0 < t.time_s <= t_set + 1800.0]
    assert len(held) >= 28
    assert all(t.readbacks["vent_lee_pct"] == pytest.approx(50.0) for t in held)
    # control resumed: the lee vent ramps down at its rate limit from the forced 50 %
    after = [t.commands["vent_lee_pct"] for t in ticks if t.time_s >= ended[0].time_s]
    assert after[0] == pytest.approx(40.0) and after[-1] < 40.0
    assert np.diff(after).max() <= 0.0
