"""Climate computer: each rule checked with numbers, vectorisation and NaN safety.

Its speed is bench/bench_climate_computer.py (wall-clock figures are not asserted in tests).
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict

import numpy as np
import pytest

from controllers.climate_computer import (
    CC_PARAMS,
    CC_STATE,
    ClimateComputerSettings,
    compute_actuators,
    humidity_deficit_g_m3,
    new_state,
    setting_range,
)
from controllers.setpoints import SETPOINTS, SetpointError
from drivers.signals import ACTUATORS, MEASUREMENTS

S = ClimateComputerSettings()
A = {name: i for i, name in enumerate(ACTUATORS)}
ST = {name: i for i, name in enumerate(CC_STATE)}

SP0 = {
    "heat_c": 19.0,
    "vent_lee_c": 21.0,
    "vent_wind_c": 30.0,
    "vent_min_pct": 0.0,
    "co2_ppm": 900.0,
    "humidity_deficit_g_m3": 0.0,  # no humidity actions unless a test asks
    "min_pipe_c": 0.0,
    "lamps_pct": 0.0,
    "screen_energy_pct": 100.0,
    "screen_blackout_pct": 100.0,
    "irrigation_interval_min": 20.0,
}
M0 = {
    "tair_c": 20.0,
    "rh_pct": 70.0,
    "co2_ppm": 900.0,
    "par_umol_m2_s": 0.0,
    "pipe_c": 20.0,
    "pipe_grow_c": 20.0,
    "tout_c": 10.0,
    "rhout_pct": 80.0,
    "iglob_w_m2": 300.0,
    "wind_m_s": 2.0,
    "rain": 0.0,
}


def sp(**kw: float) -> np.ndarray:
    d = SP0 | kw
    return np.array([[d[n] for n in SETPOINTS]])


def meas(**kw: float) -> np.ndarray:
    d = M0 | kw
    return np.array([[d[n] for n in MEASUREMENTS]])


def settle(s, m, *, steps=60, dt=60.0, hour=12.0, settings=S, state=None):
    """Run the computer with constant inputs until positions have settled; return (out, state)."""
    state = new_state(1) if state is None else state
    for _ in range(steps):
        out = compute_actuators(s, m, hour, dt, settings, state)
    return out[0], state


@pytest.mark.parametrize(("over", "expected"), [(-0.5, 0.0), (1.0, 25.0), (2.0, 50.0), (5, 100)])
def test_lee_vent_opens_over_its_p_band(over, expected):
    out, _ = settle(sp(), meas(tair_c=21.0 + over))
    assert out[A["vent_lee_pct"]] == pytest.approx(expected)
    assert out[A["vent_wind_pct"]] == 0.0


def test_vent_temperature_never_below_heating_setpoint_plus_dead_zone():
    # vent_lee_c below the heating setpoint: the vents wait for heat_c + 0.5 (+ radiation rise)
    _, st = settle(sp(heat_c=22.0, vent_lee_c=20.0), meas(iglob_w_m2=0.0, tair_c=22.0))
    assert st[0, ST["vent_sp_c"]] == pytest.approx(22.5)


def test_lee_side_opens_before_wind_side():
    s = sp(vent_lee_c=21.0, vent_wind_c=21.5)
    state = new_state(1)
    lee, wind = [], []
    for k in range(120):  # air warms 0.05 C per minute from 21 to 27 C
        out = compute_actuators(s, meas(tair_c=21.0 + 0.05 * k), 12.0, 60.0, S, state)[0]
        lee.append(out[A["vent_lee_pct"]])
        wind.append(out[A["vent_wind_pct"]])
    lee, wind = np.array(lee), np.array(wind)
    assert np.all(wind <= lee)
    assert np.all(wind[lee <= S.lee_first_pct] == 0.0)
    assert lee[-1] == 100.0 and wind[-1] > 50.0
    first_lee, first_wind = np.argmax(lee > 0), np.argmax(wind > 0)
    assert first_wind - first_lee >= 10  # wind side starts at least 10 minutes later


def test_vents_move_at_most_a_few_percent_per_minute():
    state = new_state(1)
    out = compute_actuators(sp(), meas(tair_c=30.0), 12.0, 60.0, S, state)[0]
    assert out[A["vent_lee_pct"]] == pytest.approx(S.vent_speed_pct_min)


@pytest.mark.parametrize(
    ("wind", "lee_max", "wind_max"),
    [(5.0, 100.0, 100.0), (11.0, 100 * (1 - 1 / 6), 50.0), (15.0, 100 / 6, 0.0), (20.0, 0, 0)],
)
def test_wind_limits_close_vents_between_two_speeds(wind, lee_max, wind_max):
    out, _ = settle(sp(vent_wind_c=21.0), meas(tair_c=30.0, wind_m_s=wind))
    assert out[A["vent_lee_pct"]] == pytest.approx(lee_max)
    assert out[A["vent_wind_pct"]] == pytest.approx(wind_max)


def test_wind_limit_acts_on_the_wind_averaged_over_a_minute_and_vents_reopen_slowly():
    s = sp(vent_wind_c=21.0)
    _, st = settle(s, meas(tair_c=30.0, wind_m_s=2.0))
    gust = compute_actuators(s, meas(tair_c=30.0, wind_m_s=20.0), 12, 60, S, st)[0]
    avg = 2.0 + (1.0 - math.exp(-60.0 / S.wind_avg_s)) * 18.0  # 13.38 m/s, not 20
    assert st[0, ST["wind_avg_m_s"]] == pytest.approx(avg)
    assert gust[A["vent_lee_pct"]] == pytest.approx(100.0 * (1 - (avg - 10.0) / 6.0))  # 43.7
    assert gust[A["vent_wind_pct"]] == pytest.approx(100.0 * (1 - (avg - 8.0) / 6.0))  # 10.4
    calm = compute_actuators(s, meas(tair_c=30.0, wind_m_s=2.0), 12, 60, S, st)[0]
    assert st[0, ST["wind_avg_m_s"]] < S.wind_wind_lo_m_s  # the limit is lifted ...
    assert calm[A["vent_lee_pct"]] == pytest.approx(gust[A["vent_lee_pct"]] + 5.0)  # ... slowly


def test_rain_caps_the_wind_side():
    out, st = settle(sp(vent_wind_c=21.0), meas(tair_c=30.0))
    assert out[A["vent_wind_pct"]] == 100.0
    out = compute_actuators(sp(vent_wind_c=21.0), meas(tair_c=30.0, rain=1.0), 12, 60, S, st)[0]
    assert out[A["vent_wind_pct"]] == S.rain_wind_max_pct == 10.0
    assert out[A["vent_lee_pct"]] == 100.0


def test_humidity_gap_opens_lee_vent_while_heating():
    # 17 C air under a 19 C heating setpoint, humidity deficit 1 g/m3 below its setpoint
    m = meas(tair_c=17.0, rh_pct=80.0)
    hd = humidity_deficit_g_m3(17.0, 80.0)
    out, _ = settle(sp(humidity_deficit_g_m3=hd + 0.5), m)
    assert out[A["pipe_sp_c"]] > 17.0
    assert out[A["vent_lee_pct"]] == pytest.approx(0.5 * S.gap_max_pct)
    out, _ = settle(sp(humidity_deficit_g_m3=hd + 2.0), m)
    assert out[A["vent_lee_pct"]] == pytest.approx(S.gap_max_pct)


@pytest.mark.parametrize(("vent_min", "co2_sp"), [(20.0, 900.0), (45.0, 675.0), (70.0, 450.0)])
def test_co2_setpoint_reduced_as_lee_vent_opens(vent_min, co2_sp):
    # the setpoint falls from 900 to 450 ppm as the lee vent opens from 30 to 60 %
    # (the P-band alone here: the integral would add what the hour below the setpoint summed)
    p_only = S.replace(co2_ti_s=0.0)
    m = meas(tair_c=19.5, co2_ppm=co2_sp - 50.0)
    _, st = settle(sp(vent_min_pct=vent_min), m, settings=p_only)
    assert st[0, ST["vent_lee_pos_pct"]] == pytest.approx(vent_min)
    assert st[0, ST["co2_sp_ppm"]] == pytest.approx(co2_sp)
    out = compute_actuators(sp(vent_min_pct=vent_min), m, 12, 60, p_only, st)
    assert out[0, A["co2_valve_pct"]] == pytest.approx(100.0 * 50.0 / S.co2_pband_ppm)


def test_no_co2_dosing_in_the_dark_unless_lamps_burn():
    m_dark = meas(iglob_w_m2=0.0, co2_ppm=500.0)
    out, _ = settle(sp(), m_dark, hour=23.0)
    assert out[A["co2_valve_pct"]] == 0.0
    out, _ = settle(sp(), meas(iglob_w_m2=300.0, co2_ppm=500.0))
    assert out[A["co2_valve_pct"]] == 100.0
    out, _ = settle(sp(lamps_pct=100.0), m_dark, hour=3.0)
    assert out[A["lamps_pct"]] == 100.0
    assert out[A["co2_valve_pct"]] == 100.0


def test_co2_dosed_under_lamps_another_program_switched_on():
    # the lamps burn at night on another program's schedule (the computer's own lamp setpoint
    # is 0): the PAR sensor reads them (187 umol/m2/s), so the crop's CO2 is dosed
    lit = meas(iglob_w_m2=0.0, par_umol_m2_s=187.0, co2_ppm=500.0)
    out, _ = settle(sp(), lit, hour=3.0)
    assert out[A["lamps_pct"]] == 0.0
    assert out[A["co2_valve_pct"]] == 100.0
    # moonlight or a street lamp (a few umol/m2/s) is still dark
    out, _ = settle(sp(), meas(iglob_w_m2=0.0, par_umol_m2_s=5.0, co2_ppm=500.0), hour=3.0)
    assert out[A["co2_valve_pct"]] == 0.0


def _dosed_house(settings: ClimateComputerSettings, hours: float = 3.0) -> float:
    """CO2 (ppm) a 6 m high house settles at under the computer: 3.56 mg/m2/s at a full valve
    (0.0128 kg/m2/h), air exchange 4e-3 m3/m2/s with 410 ppm outside; setpoint 800 ppm."""
    state = new_state(1)
    co2 = 410.0
    for _ in range(int(hours * 60)):
        out = compute_actuators(sp(co2_ppm=800.0), meas(co2_ppm=co2), 12.0, 60.0, settings, state)
        dose = out[0, A["co2_valve_pct"]] / 100.0 * 12800.0 / 3600.0 / 1.805  # ppm m/s
        co2 += 60.0 * (dose - 4e-3 * (co2 - 410.0)) / 6.0
    return co2


def test_co2_pi_doses_until_the_setpoint_is_reached():
    # with an integral time the valve keeps dosing at the setpoint: the house holds 800 ppm
    assert _dosed_house(S.replace(co2_ti_s=1800.0)) == pytest.approx(800.0, abs=5.0)
    # the 100 ppm P-band alone (the default) settles where the valve's share balances the loss:
    # co2 = 410 + 493 * (800 - co2)/100 -> 734 ppm, 66 ppm short
    assert S.co2_ti_s == 0.0
    assert _dosed_house(S) == pytest.approx(734.0, abs=3.0)


def test_humidity_influence_raises_the_heating_setpoint():
    _, dry = settle(sp(), meas(tair_c=18.0, rh_pct=70.0, iglob_w_m2=0.0))
    _, wet = settle(sp(), meas(tair_c=18.0, rh_pct=92.5, iglob_w_m2=0.0))
    _, soaked = settle(sp(), meas(tair_c=18.0, rh_pct=99.0, iglob_w_m2=0.0))
    assert dry[0, ST["heat_sp_c"]] == pytest.approx(19.0)
    assert wet[0, ST["heat_sp_c"]] == pytest.approx(20.0)  # half of the 2 C over 90..95 %
    assert soaked[0, ST["heat_sp_c"]] == pytest.approx(21.0)


def test_radiation_influence_raises_the_heating_setpoint():
    _, st = settle(sp(), meas(iglob_w_m2=350.0))
    assert st[0, ST["heat_sp_c"]] == pytest.approx(19.5)


def test_heating_pi_integrates_up_to_the_maximum_and_then_uses_the_grow_pipe():
    out, st = settle(sp(), meas(tair_c=18.0, iglob_w_m2=0.0), steps=10)
    assert 18.0 + 10.0 < out[A["pipe_sp_c"]] < S.pipe_max_c
    out, _ = settle(sp(), meas(tair_c=18.0, iglob_w_m2=0.0), steps=10, state=st)
    assert out[A["pipe_sp_c"]] > 18.0 + 10.0 + 5.0  # the integral keeps rising while cold
    out, _ = settle(sp(heat_c=30.0), meas(tair_c=10.0, iglob_w_m2=0.0))
    assert out[A["pipe_sp_c"]] == S.pipe_max_c
    assert out[A["pipe_grow_sp_c"]] == S.grow_pipe_max_c
    out, _ = settle(sp(), meas(tair_c=25.0))
    assert out[A["pipe_sp_c"]] == 0.0 and out[A["pipe_grow_sp_c"]] == 0.0  # circuits off


def test_minimum_pipe_setpoint_and_its_humidity_raise():
    out, _ = settle(sp(min_pipe_c=45.0), meas(tair_c=25.0, iglob_w_m2=0.0))
    assert out[A["pipe_sp_c"]] == 45.0
    # the minimum fades out with sun: half at 300 W/m2, none at 400 W/m2
    out, _ = settle(sp(min_pipe_c=45.0, heat_c=10.0), meas(tair_c=15.0, iglob_w_m2=300.0))
    assert out[A["pipe_sp_c"]] == pytest.approx(22.5)
    out, _ = settle(sp(min_pipe_c=45.0, heat_c=10.0), meas(tair_c=15.0, iglob_w_m2=400.0))
    assert out[A["pipe_sp_c"]] == 0.0
    hd = humidity_deficit_g_m3(20.0, 70.0)
    out, _ = settle(sp(humidity_deficit_g_m3=hd + 0.5), meas(tair_c=20.0))
    assert out[A["pipe_sp_c"]] == pytest.approx(20.0 + 0.5 * (S.minpipe_hum_max_c - 20.0))


def test_energy_screen_closes_on_cold_nights_and_opens_by_day():
    night = meas(iglob_w_m2=0.0, tout_c=5.0)
    out, st = settle(sp(), night, steps=10, hour=22.0)
    assert out[A["screen_energy_pct"]] == pytest.approx(10 * S.screen_speed_pct_min)  # slow
    out, st = settle(sp(), night, steps=30, hour=22.0, state=st)
    assert out[A["screen_energy_pct"]] == 100.0
    out, st = settle(sp(screen_energy_pct=90.0), night, steps=30, hour=22.0, state=st)
    assert out[A["screen_energy_pct"]] == 90.0  # the setpoint is the maximum closure
    out, _ = settle(sp(), meas(iglob_w_m2=50.0, tout_c=5.0), steps=30, hour=9.0, state=st)
    assert out[A["screen_energy_pct"]] == 0.0
    out, _ = settle(sp(), meas(iglob_w_m2=0.0, tout_c=16.0), hour=22.0)
    assert out[A["screen_energy_pct"]] == 0.0  # mild night: stays open
    out, _ = settle(sp(), meas(iglob_w_m2=0.0, tout_c=5.0, rh_pct=93.0), hour=22.0)
    assert out[A["screen_energy_pct"]] == pytest.approx(100.0 - 0.6 * S.screen_gap_pct)


def test_blackout_screen_closes_only_while_lamps_burn_in_the_dark():
    out, st = settle(sp(lamps_pct=100.0), meas(iglob_w_m2=0.0), hour=3.0)
    assert out[A["lamps_pct"]] == 100.0 and out[A["screen_blackout_pct"]] == 100.0
    out, _ = settle(sp(lamps_pct=0.0), meas(iglob_w_m2=0.0), hour=3.0, state=st)
    assert out[A["screen_blackout_pct"]] == 0.0
    out, _ = settle(sp(lamps_pct=100.0), meas(iglob_w_m2=30.0), hour=8.0, state=st)
    assert out[A["lamps_pct"]] == 100.0 and out[A["screen_blackout_pct"]] == 0.0  # dawn


def test_lamps_switch_by_radiation_with_hysteresis_and_minimum_times():
    st = new_state(1)
    s = sp(lamps_pct=80.0)
    assert compute_actuators(s, meas(iglob_w_m2=100.0), 7, 60, S, st)[0, A["lamps_pct"]] == 0
    assert compute_actuators(s, meas(iglob_w_m2=30.0), 7, 60, S, st)[0, A["lamps_pct"]] == 80
    # above the on-threshold but below the off-threshold: stays on
    assert compute_actuators(s, meas(iglob_w_m2=500.0), 9, 60, S, st)[0, A["lamps_pct"]] == 80
    # above the off-threshold but within the minimum on-time: stays on
    assert compute_actuators(s, meas(iglob_w_m2=700.0), 9, 60, S, st)[0, A["lamps_pct"]] == 80
    assert compute_actuators(s, meas(iglob_w_m2=700.0), 10, 1800, S, st)[0, A["lamps_pct"]] == 0
    # dark again, but the minimum off-time holds them off for 30 min
    assert compute_actuators(s, meas(iglob_w_m2=0.0), 10, 60, S, st)[0, A["lamps_pct"]] == 0
    assert compute_actuators(s, meas(iglob_w_m2=0.0), 10.5, 1800, S, st)[0, A["lamps_pct"]] == 80
    # the window closes (setpoint 0): off at once
    assert compute_actuators(sp(), meas(iglob_w_m2=0.0), 18, 60, S, st)[0, A["lamps_pct"]] == 0


def test_lamps_stop_at_the_light_sum_target_and_restart_after_midnight():
    settings = S.replace(lamps_light_sum_mol_m2=2.0)
    st = new_state(1)
    lamps = np.zeros(8 * 60)
    for k in range(len(lamps)):  # 20:00 .. 04:00, lamp PAR 200 umol/m2/s at 100 %
        hour = (20.0 + k / 60.0) % 24.0
        m = meas(iglob_w_m2=0.0, par_umol_m2_s=2.0 * (lamps[k - 1] if k else 0.0))
        lamps[k] = compute_actuators(sp(lamps_pct=100.0), m, hour, 60.0, settings, st)[
            0, A["lamps_pct"]
        ]
    # the sum grows 0.012 mol per minute of lamp light: 2 mol after 166.7 min
    assert np.all(lamps[:167] == 100.0)
    assert np.all(lamps[167:240] == 0.0)  # off until local midnight (k = 240)
    assert np.all(lamps[240 : 240 + 167] == 100.0)  # new day, new light sum
    assert np.all(lamps[240 + 167 :] == 0.0)


def _irrigation_day(peak_w_m2: float, interval_min: float = 20.0) -> tuple[int, float]:
    st = new_state(1)
    dt = 300.0
    water = 0.0
    for k in range(int(86400 / dt)):
        hour = k * dt / 3600.0
        iglob = peak_w_m2 * max(0.0, math.sin(math.pi * (hour - 6.0) / 12.0))
        out = compute_actuators(
            sp(irrigation_interval_min=interval_min), meas(iglob_w_m2=iglob), hour, dt, S, st
        )[0]
        assert 0.0 <= out[A["irrigation_pct"]] <= 100.0
        water += out[A["irrigation_pct"]] / 100.0 * S.irr_flow_l_m2_h * dt / 3600.0
    return int(st[0, ST["irr_cycles_today"]]), water


def test_irrigation_cycles_per_day_follow_the_radiation_sum():
    sunny_cycles, sunny_water = _irrigation_day(800.0)  # ~2200 J/cm2 over the day
    dull_cycles, dull_water = _irrigation_day(120.0)  # never above 150 W/m2
    assert 15 <= sunny_cycles <= 22
    assert sunny_water == pytest.approx(sunny_cycles * S.irr_cycle_l_m2)
    assert dull_cycles == 1  # only the morning start
    assert dull_water == pytest.approx(S.irr_cycle_l_m2)
    slow_cycles, _ = _irrigation_day(800.0, interval_min=120.0)
    assert slow_cycles <= 6


def test_fogging_only_when_too_warm_and_too_dry():
    out, _ = settle(sp(), meas(tair_c=30.0, rh_pct=40.0))
    assert out[A["fog_pct"]] == 100.0
    out, _ = settle(sp(), meas(tair_c=30.0, rh_pct=80.0))
    assert out[A["fog_pct"]] == 0.0
    out, _ = settle(sp(), meas(tair_c=20.0, rh_pct=40.0))
    assert out[A["fog_pct"]] == 0.0


def test_vectorised_call_equals_per_greenhouse_calls():
    rng = np.random.default_rng(7)
    n, steps = 40, 30
    lo_sp = np.array([15, 18, 19, 0, 400, 0, 0, 0, 0, 0, 5])
    hi_sp = np.array([22, 25, 27, 20, 1200, 6, 50, 100, 100, 100, 60])
    lo_m = np.array([10, 50, 300, 0, 10, 10, -5, 40, 0, 0, 0])
    hi_m = np.array([30, 100, 1200, 1500, 80, 60, 25, 100, 900, 20, 1])
    params = np.tile(S.to_array(), (n, 1))
    params[:, CC_PARAMS.index("vent_pband_lee_c")] = rng.uniform(2, 6, n)
    st_all, st_one = new_state(n), new_state(n)
    for k in range(steps):
        s = rng.uniform(lo_sp, hi_sp, (n, len(SETPOINTS)))
        m = rng.uniform(lo_m, hi_m, (n, len(MEASUREMENTS)))
        m[:, MEASUREMENTS.index("rain")] = np.round(m[:, MEASUREMENTS.index("rain")])
        hour = (k * 0.8) % 24
        out_all = compute_actuators(s, m, hour, 300.0, params, st_all)
        for i in range(n):
            one = st_one[i : i + 1]
            out_one = compute_actuators(s[i], m[i], hour, 300.0, params[i], one)
            st_one[i] = one[0]
            np.testing.assert_array_equal(out_all[i], out_one[0])
    np.testing.assert_array_equal(st_all, st_one)


def _assert_sane(out: np.ndarray) -> None:
    assert np.all(np.isfinite(out))
    pct = [i for i, name in enumerate(ACTUATORS) if name.endswith("_pct")]
    assert np.all((out[:, pct] >= 0.0) & (out[:, pct] <= 100.0))
    assert np.all((out[:, :2] >= 0.0) & (out[:, :2] <= 95.0))


def test_no_nan_out_for_nan_in_and_last_valid_inputs_are_held():
    nan_sp = np.full((1, len(SETPOINTS)), np.nan)
    nan_m = np.full((1, len(MEASUREMENTS)), np.nan)
    st = new_state(1)
    for dt in (60.0, float("nan"), -5.0, 0.0):  # fresh state: fail-safe defaults
        _assert_sane(compute_actuators(nan_sp, nan_m, float("nan"), dt, S, st))
    # after valid inputs, NaN inputs behave exactly like repeating the last valid ones
    a, b = new_state(1), new_state(1)
    m = meas(tair_c=17.0, iglob_w_m2=0.0)
    s = sp(lamps_pct=100.0)
    compute_actuators(s, m, 3.0, 60.0, S, a)
    compute_actuators(s, m, 3.0, 60.0, S, b)
    for _ in range(5):
        out_a = compute_actuators(s, m, 3.0, 60.0, S, a)
        out_b = compute_actuators(nan_sp, nan_m, 3.0, 60.0, S, b)
        np.testing.assert_array_equal(out_a, out_b)
        _assert_sane(out_b)


def test_extreme_inputs_stay_bounded():
    rng = np.random.default_rng(3)
    n = 200
    s = rng.uniform(-1e3, 1e3, (n, len(SETPOINTS)))
    m = rng.uniform(-1e3, 1e3, (n, len(MEASUREMENTS)))
    m[rng.random(m.shape) < 0.2] = np.inf
    st = new_state(n)
    for _ in range(5):
        out = compute_actuators(s, m, 12.0, 60.0, S, st)
        _assert_sane(np.nan_to_num(out, nan=-1.0))


def test_settings_round_trip_and_reject_unknown_keys():
    arr = S.to_array()
    assert arr.shape == (len(CC_PARAMS),)
    assert arr[CC_PARAMS.index("pipe_max_c")] == S.pipe_max_c
    assert ClimateComputerSettings.from_dict({"pipe_max_c": 80}).pipe_max_c == 80.0
    with pytest.raises(SetpointError, match=r"unknown climate-computer setting 'pipe_max'"):
        ClimateComputerSettings.from_dict({"pipe_max": 80})
    assert new_state(3).shape == (3, len(CC_STATE))


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("pipe_max_c", 120.0, "0..95"),
        ("pipe_max_c", -1.0, "0..95"),
        ("lee_first_pct", 101.0, "0..100"),
        ("irr_start_hour", 25.0, "0..24"),
        ("vent_pband_lee_c", -2.0, "0 or more"),
        ("lamps_min_on_s", float("nan"), "0 or more"),
        ("co2_pband_ppm", float("inf"), "0 or more"),
        ("screen_tout_c", -41.0, "-40..50"),
    ],
)
def test_settings_outside_their_range_are_refused(name, value, allowed):
    with pytest.raises(SetpointError, match=rf"^sweep: climate-computer setting {name} = .*"
                       rf"outside the allowed {re.escape(allowed)}$"):  # fmt: skip
        ClimateComputerSettings.from_dict({name: value}, where="sweep")
    # the edges themselves and the shipped defaults are allowed
    lo, hi = setting_range(name)
    for edge in (lo, hi if math.isfinite(hi) else 1e6):
        assert getattr(S.replace(**{name: edge}), name) == edge
    assert ClimateComputerSettings.from_dict(asdict(S)) == S
