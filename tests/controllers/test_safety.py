"""The safety layer: fail-safe per actuator, bounds, rate limits, overrides, interlocks."""

from __future__ import annotations

import math

import pytest

from controllers.safety import (
    ACTUATOR_INPUTS,
    DEFAULT_LIMITS,
    ActuatorLimits,
    SafetyConfig,
    SafetyError,
    SafetyLayer,
)
from drivers.nodes import load_nodes
from drivers.signals import ACTUATORS, MEASUREMENTS

ALL_GOOD = dict.fromkeys(MEASUREMENTS, True)
CALM = {"tair_c": 20.0, "rh_pct": 70.0, "co2_ppm": 800.0, "wind_m_s": 3.0, "rain": 0.0}
SP = {"lamps_pct": 100.0}
CMD = {
    "pipe_sp_c": 60.0,
    "pipe_grow_sp_c": 35.0,
    "vent_lee_pct": 20.0,
    "vent_wind_pct": 10.0,
    "screen_energy_pct": 50.0,
    "screen_blackout_pct": 0.0,
    "lamps_pct": 100.0,
    "co2_valve_pct": 60.0,
    "fog_pct": 0.0,
    "irrigation_pct": 30.0,
}


def apply(cmd=None, good=None, meas=None, sp=None, previous=None, dt_s=60.0, overrides=None):
    return SafetyLayer().apply(
        cmd or CMD,
        good=good or ALL_GOOD,
        measurements=meas or CALM,
        setpoints=sp or SP,
        previous=previous,
        dt_s=dt_s,
        overrides=overrides,
    )


def test_normal_commands_pass_unchanged():
    r = apply()
    assert r.commands == CMD
    assert r.failsafe == () and r.interlocks == () and r.rate_limited == ()


def test_stale_air_temperature_puts_its_actuators_in_fail_safe():
    good = {**ALL_GOOD, "tair_c": False}
    r = apply(good=good)
    dependent = {a for a, ins in ACTUATOR_INPUTS.items() if "tair_c" in ins}
    assert set(r.failsafe) == dependent
    assert r.commands["pipe_sp_c"] == 40.0  # frost-safe minimum
    assert r.commands["vent_lee_pct"] == 5.0
    assert r.commands["vent_wind_pct"] == 0.0
    assert r.commands["screen_energy_pct"] == 0.0
    # actuators that do not depend on air temperature stay under control
    assert r.commands["lamps_pct"] == 100.0
    assert r.commands["co2_valve_pct"] == 60.0


#: The fail-safe values as docs/control_loop.md documents them, per actuator.
DOCUMENTED_FAILSAFE = {
    "pipe_sp_c": 40.0,
    "pipe_grow_sp_c": 0.0,
    "vent_lee_pct": 5.0,
    "vent_wind_pct": 0.0,
    "screen_energy_pct": 0.0,
    "screen_blackout_pct": 0.0,
    "lamps_pct": 0.0,
    "co2_valve_pct": 0.0,
    "fog_pct": 0.0,
    "irrigation_pct": 0.0,
}


def test_every_actuator_has_its_documented_fail_safe_when_all_inputs_are_stale():
    r = apply(good=dict.fromkeys(MEASUREMENTS, False))
    assert r.commands == DOCUMENTED_FAILSAFE
    assert set(r.failsafe) == set(ACTUATORS)


@pytest.mark.parametrize("stale", sorted({m for ins in ACTUATOR_INPUTS.values() for m in ins}))
def test_one_stale_input_fails_safe_exactly_the_actuators_that_need_it(stale):
    r = apply(good={**ALL_GOOD, stale: False})
    needing = {a for a, ins in ACTUATOR_INPUTS.items() if stale in ins}
    assert needing and set(r.failsafe) == needing
    for a in ACTUATORS:
        expected = DOCUMENTED_FAILSAFE[a] if a in needing else CMD[a]
        assert r.commands[a] == expected, a


def test_stale_co2_sensor_stops_dosing_only():
    r = apply(good={**ALL_GOOD, "co2_ppm": False})
    assert r.failsafe == ("co2_valve_pct",)
    assert r.commands["co2_valve_pct"] == 0.0


def test_nan_command_is_fail_safe():
    r = apply(cmd={**CMD, "pipe_sp_c": math.nan})
    assert r.commands["pipe_sp_c"] == 40.0 and r.failsafe == ("pipe_sp_c",)


def test_rate_limit_ramps_from_previous_command():
    prev = {**CMD, "pipe_sp_c": 40.0, "vent_lee_pct": 80.0}
    r = apply(previous=prev, dt_s=60.0)
    assert r.commands["pipe_sp_c"] == pytest.approx(43.0)  # 3 C per minute
    assert r.commands["vent_lee_pct"] == pytest.approx(70.0)  # 10 % per minute
    assert set(r.rate_limited) == {"pipe_sp_c", "vent_lee_pct"}
    r2 = apply(previous=prev, dt_s=6.0)
    assert r2.commands["pipe_sp_c"] == pytest.approx(40.3)


def test_bounds_clip():
    r = apply(cmd={**CMD, "pipe_sp_c": 140.0, "vent_lee_pct": -5.0})
    assert r.commands["pipe_sp_c"] == 95.0 and r.commands["vent_lee_pct"] == 0.0


def test_override_bypasses_ramp_but_not_interlocks():
    prev = {**CMD, "vent_lee_pct": 80.0}
    r = apply(previous=prev, overrides={"vent_lee_pct": 0.0})
    assert r.commands["vent_lee_pct"] == 0.0
    storm = {**CALM, "wind_m_s": 20.0}
    r2 = apply(meas=storm, overrides={"vent_lee_pct": 60.0})
    assert r2.commands["vent_lee_pct"] == 0.0 and "storm" in r2.interlocks


def test_storm_closes_every_vent():
    r = apply(meas={**CALM, "wind_m_s": 15.0})
    assert r.commands["vent_lee_pct"] == 0.0 and r.commands["vent_wind_pct"] == 0.0
    assert r.interlocks[0] == "storm"
    assert apply(meas={**CALM, "wind_m_s": 14.9}).commands["vent_lee_pct"] == 20.0


def test_rain_limits_vents():
    r = apply(cmd={**CMD, "vent_lee_pct": 80.0, "vent_wind_pct": 60.0, "co2_valve_pct": 0.0},
              meas={**CALM, "rain": 1.0})  # fmt: skip
    assert r.commands["vent_lee_pct"] == 50.0 and r.commands["vent_wind_pct"] == 10.0
    assert r.interlocks == ("rain",)


def test_no_co2_dosing_above_vent_opening():
    r = apply(cmd={**CMD, "vent_lee_pct": 25.1})
    assert r.commands["co2_valve_pct"] == 0.0 and "co2_vents" in r.interlocks
    r2 = apply(cmd={**CMD, "vent_lee_pct": 25.0})
    assert r2.commands["co2_valve_pct"] == 60.0


def test_no_lamps_while_blackout_closed_for_darkness():
    cmd = {**CMD, "screen_blackout_pct": 100.0}
    r = apply(cmd=cmd, sp={"lamps_pct": 0.0})
    assert r.commands["lamps_pct"] == 0.0 and "lamps_darkness" in r.interlocks
    # blackout closed *for the lamps* (light-emission rule): lamps may burn
    r2 = apply(cmd=cmd, sp={"lamps_pct": 100.0})
    assert r2.commands["lamps_pct"] == 100.0
    # darkness means the screen commanded closed to at least 95 %
    r3 = apply(cmd={**cmd, "screen_blackout_pct": 95.0}, sp={"lamps_pct": 0.0})
    assert r3.commands["lamps_pct"] == 0.0
    r4 = apply(cmd={**cmd, "screen_blackout_pct": 94.9}, sp={"lamps_pct": 0.0})
    assert r4.commands["lamps_pct"] == 100.0 and r4.interlocks == ()


def test_map_bounds_and_safe_values_are_taken_over():
    cfg = load_nodes()
    writable = {e.signal: e for n in cfg.nodes for e in n.regmap.entries if e.writable}
    safe = SafetyConfig().with_map_bounds(writable)
    assert safe.failsafe_commands() == {a: writable[a].safe for a in ACTUATORS}


def test_bad_limits_refused():
    with pytest.raises(SafetyError, match="failsafe"):
        SafetyConfig(limits={**DEFAULT_LIMITS, "pipe_sp_c": ActuatorLimits(0, 95, 3, 120)})
    with pytest.raises(SafetyError, match="unknown actuator"):
        SafetyConfig(limits={"pipe_c": ActuatorLimits(0, 95, 3, 40)})
