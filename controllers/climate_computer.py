"""The climate computer: setpoints + measurements -> actuator commands.

It works the way Dutch process computers (Priva, Hoogendoorn, Link4) do, on plain arrays so one
call serves one greenhouse or a thousand, and it is a numba kernel callable from other njit code:

    climate_computer_step(sp, meas, local_hour, dt_s, params, state, out)

- `sp`     [n, len(SETPOINTS)]  setpoints (controllers.setpoints.SETPOINTS order)
- `meas`   [n, len(MEASUREMENTS)] measurements (drivers.signals.MEASUREMENTS order)
- `local_hour` site-local clock hour of this call (same for all greenhouses)
- `dt_s`   seconds since the previous call; the commands are meant to hold for about as long
- `params` [n, len(CC_PARAMS)] settings (ClimateComputerSettings.to_array() per greenhouse)
- `state`  [n, len(CC_STATE)] integrators, positions, light sum, timers; updated in place
- `out`    [n, len(ACTUATORS)] commands (drivers.signals.ACTUATORS order), written

Outputs: `pipe_sp_c`/`pipe_grow_sp_c` are water temperature commands, 0 when the circuit is off;
all `*_pct` outputs lie in 0..100. `irrigation_pct` is the share of the coming interval (taken
as `dt_s` long) that the irrigation valve is open; the valve delivers `irr_flow_l_m2_h`
(a setting), so water (L/m2) = irrigation_pct / 100 * irr_flow_l_m2_h * dt_s / 3600.
A NaN measurement, or one outside its plausible range (drivers.signals), is replaced by the
last valid one (state keeps them; before any valid value a fail-safe default); a NaN setpoint
holds the last one and setpoints are clipped to SETPOINT_RANGES. So no output is ever NaN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from controllers.setpoints import SETPOINT_RANGES, SETPOINTS, SetpointError
from drivers.signals import ACTUATORS, MEASUREMENTS, SIGNALS
from sim.constants import PAR_PER_GLOBAL_UMOL_J
from sim.jit import njit, njit_inline
from sim.psychro import saturation_density_g_m3


@dataclass
class ClimateComputerSettings:
    """Bands, influences and limits of the climate computer; defaults as the Priva, Hoogendoorn
    and Link4 process-computer manuals describe a Dutch Venlo glasshouse's settings."""

    # heating: radiation raises the heating setpoint over a W/m2 band
    rad_infl_lo_w_m2: float = 200.0
    rad_infl_hi_w_m2: float = 500.0
    rad_infl_max_c: float = 1.0
    # heating: humidity raises the heating setpoint as RH passes a level over a band
    hum_infl_rh_pct: float = 90.0
    hum_infl_band_pct: float = 5.0
    hum_infl_max_c: float = 2.0
    # rail pipe PI controller on (heating setpoint - air temperature)
    pipe_kp: float = 10.0
    pipe_ti_s: float = 1800.0
    pipe_max_c: float = 85.0
    # minimum pipe raised when the humidity deficit falls below its setpoint or RH is high
    minpipe_hd_band_g_m3: float = 1.0
    minpipe_rh_pct: float = 90.0
    minpipe_rh_band_pct: float = 5.0
    minpipe_hum_max_c: float = 40.0
    # the minimum pipe setpoint fades out as the sun heats (radiation band, W/m2)
    minpipe_rad_lo_w_m2: float = 200.0
    minpipe_rad_hi_w_m2: float = 400.0
    # grow pipe: minimum while heating; second stage once the rail is at its maximum
    grow_pipe_min_c: float = 0.0
    grow_stage2_c: float = 30.0
    grow_pipe_max_c: float = 60.0
    # vents: P-bands, dead zone over the heating setpoint, lee before wind, speed
    vent_pband_lee_c: float = 4.0
    vent_pband_wind_c: float = 4.0
    vent_deadzone_c: float = 0.5
    lee_first_pct: float = 30.0
    vent_speed_pct_min: float = 5.0
    # humidity gap ('vochtkier'): open a few % when HD below setpoint or RH high
    gap_hd_band_g_m3: float = 1.0
    gap_rh_pct: float = 90.0
    gap_rh_band_pct: float = 5.0
    gap_max_pct: float = 5.0
    # wind and rain limits (wind averaged over wind_avg_s)
    wind_avg_s: float = 60.0
    wind_lee_lo_m_s: float = 10.0
    wind_lee_hi_m_s: float = 16.0
    wind_wind_lo_m_s: float = 8.0
    wind_wind_hi_m_s: float = 14.0
    rain_lee_max_pct: float = 100.0
    rain_wind_max_pct: float = 10.0
    # CO2: P-band, setpoint lowered as the lee vent opens, no dosing in the dark. The band is
    # 30-60 % lee: with the roof vent area of Vanthoor 2011 (0.05 m2/m2 per side) that is the
    # air exchange a 10-30 % opening gave with twice the area; the AGC 2018 compartments kept
    # CO2 at setpoint with the lee vent at 30-35 % on average by day
    co2_pband_ppm: float = 100.0
    # integral time of the CO2 PI (s): with it the valve doses until the setpoint is reached,
    # as a process computer's PI does; 0 (default) leaves the P-band alone, where CO2 settles
    # below the setpoint. Not on by default: a house held at its setpoint no longer shows its
    # ventilation in its CO2, and the calibration's recovery of the discharge coefficient from
    # a simulated log fails with it (replays with 900-1800 s: docs/physics.md)
    co2_ti_s: float = 0.0
    co2_vent_lo_pct: float = 30.0
    co2_vent_hi_pct: float = 60.0
    co2_vent_ppm: float = 450.0
    co2_min_w_m2: float = 20.0
    # screens
    screen_close_w_m2: float = 5.0
    screen_open_w_m2: float = 15.0
    screen_tout_c: float = 12.0
    screen_speed_pct_min: float = 4.0
    screen_gap_pct: float = 3.0
    # lamps
    lamps_on_w_m2: float = 40.0
    lamps_off_w_m2: float = 600.0
    lamps_min_on_s: float = 1800.0
    lamps_min_off_s: float = 1800.0
    lamps_light_sum_mol_m2: float = 20.0
    # fogging
    fog_hd_g_m3: float = 7.0
    fog_band_g_m3: float = 2.0
    fog_margin_c: float = 0.0
    # irrigation by radiation sum
    irr_rad_sum_j_cm2: float = 100.0
    irr_min_w_m2: float = 150.0
    irr_first_hour: float = 9.0
    irr_start_hour: float = 7.0
    irr_stop_hour: float = 18.0
    irr_cycle_l_m2: float = 0.4
    irr_flow_l_m2_h: float = 6.0
    irr_lamp_w_m2: float = 0.0

    def to_array(self) -> np.ndarray:
        """Return the settings as a float64 vector in CC_PARAMS order."""
        return np.array([float(getattr(self, name)) for name in CC_PARAMS], dtype=np.float64)

    @classmethod
    def from_dict(cls, d: dict[str, float], *, where: str = "settings") -> ClimateComputerSettings:
        """Build settings from `d` (missing keys keep defaults).

        Raises SetpointError, its message starting with `where`, for an unknown name or a value
        outside `setting_range(name)`.
        """
        unknown = [k for k in d if k not in CC_PARAMS]
        if unknown:
            raise SetpointError(
                f"{where}: unknown climate-computer setting {unknown[0]!r}; "
                f"allowed: {', '.join(CC_PARAMS)}"
            )
        for name, value in d.items():
            lo, hi = setting_range(name)
            if not (math.isfinite(float(value)) and lo <= float(value) <= hi):
                allowed = f"{lo:g}..{hi:g}" if math.isfinite(hi) else f"{lo:g} or more"
                raise SetpointError(
                    f"{where}: climate-computer setting {name} = {float(value):g} is outside "
                    f"the allowed {allowed}"
                )
        return cls(**{k: float(v) for k, v in d.items()})

    def replace(self, **changes: float) -> ClimateComputerSettings:
        """Return a copy with `changes` applied (unknown names raise SetpointError)."""
        return ClimateComputerSettings.from_dict({**asdict(self), **changes})


CC_PARAMS: tuple[str, ...] = tuple(f.name for f in fields(ClimateComputerSettings))

# Settings that are water temperatures: bounded by what the pipe commands allow.
_PIPE_SETTINGS = ("pipe_max_c", "minpipe_hum_max_c", "grow_pipe_min_c", "grow_stage2_c",
                  "grow_pipe_max_c")  # fmt: skip
# Settings that may be negative (temperature offsets and an outside-temperature threshold).
_SIGNED_SETTINGS = {"rad_infl_max_c": (-10.0, 10.0), "fog_margin_c": (-10.0, 20.0),
                    "screen_tout_c": (-40.0, 50.0)}  # fmt: skip


def setting_range(name: str) -> tuple[float, float]:
    """Allowed range (inclusive) of climate-computer setting `name`.

    Percentages (`*_pct`, `*_pct_min`) lie in 0..100, clock hours in 0..24, pipe temperatures
    in 0..95 C, a few signed offsets in their own ranges; everything else (bands, levels,
    times, flows) must not be negative. NaN and infinity are never allowed.
    """
    if name in _SIGNED_SETTINGS:
        return _SIGNED_SETTINGS[name]
    if name in _PIPE_SETTINGS:
        return 0.0, 95.0
    if name.endswith(("_pct", "_pct_min")):
        return 0.0, 100.0
    if name.endswith("_hour"):
        return 0.0, 24.0
    return 0.0, math.inf


_STATE_CORE = (
    "pipe_i_c",  # PI integrator of the rail, C of pipe above air
    "heat_sp_c",  # effective heating setpoint (diagnostic)
    "vent_sp_c",  # effective lee vent temperature (diagnostic)
    "co2_sp_ppm",  # effective CO2 setpoint after vent reduction (diagnostic)
    "min_pipe_eff_c",  # effective minimum pipe (diagnostic)
    "vent_lee_pos_pct",
    "vent_wind_pos_pct",
    "screen_energy_pos_pct",
    "screen_blackout_pos_pct",
    "screen_energy_closed",  # 0/1 hysteresis state
    "screen_blackout_closed",
    "lamps_on",
    "lamps_age_s",  # seconds since the lamps last switched
    "light_sum_mol_m2",  # PAR sum since local midnight
    "last_local_hour",
    "wind_avg_m_s",
    "irr_rad_sum_j_cm2",  # radiation sum since the last irrigation cycle
    "irr_since_s",  # seconds since the last cycle started
    "irr_left_l_m2",  # water still to deliver in the running cycle
    "irr_cycles_today",
    "co2_i_pct",  # integral part of the CO2 valve, %
)
CC_STATE: tuple[str, ...] = (
    _STATE_CORE + tuple("meas_" + m for m in MEASUREMENTS) + tuple("sp_" + s for s in SETPOINTS)
)

# fail-safe values used until a valid measurement / setpoint has been seen
_MEAS_FAILSAFE = {
    "tair_c": 18.0,
    "rh_pct": 80.0,
    "co2_ppm": 400.0,
    "par_umol_m2_s": 0.0,
    "pipe_c": 20.0,
    "pipe_grow_c": 20.0,
    "tout_c": 10.0,
    "rhout_pct": 80.0,
    "iglob_w_m2": 0.0,
    "wind_m_s": 5.0,
    "rain": 0.0,
}
_SP_FAILSAFE = {
    "heat_c": 16.0,
    "vent_lee_c": 25.0,
    "vent_wind_c": 27.0,
    "vent_min_pct": 0.0,
    "co2_ppm": 0.0,
    "humidity_deficit_g_m3": 3.0,
    "min_pipe_c": 0.0,
    "lamps_pct": 0.0,
    "screen_energy_pct": 0.0,
    "screen_blackout_pct": 0.0,
    "irrigation_interval_min": 60.0,
}


def new_state(n: int) -> np.ndarray:
    """Return the initial state of `n` greenhouses: `[n, len(CC_STATE)]`, vents and screens open."""
    st = np.zeros((n, len(CC_STATE)), dtype=np.float64)
    st[:, CC_STATE.index("lamps_age_s")] = 1e9
    st[:, CC_STATE.index("irr_since_s")] = 1e9
    st[:, CC_STATE.index("last_local_hour")] = -1.0
    st[:, CC_STATE.index("wind_avg_m_s")] = np.nan
    for name, v in _MEAS_FAILSAFE.items():
        st[:, CC_STATE.index("meas_" + name)] = v
    for name, v in _SP_FAILSAFE.items():
        st[:, CC_STATE.index("sp_" + name)] = v
    return st


def _idx(names: tuple[str, ...]) -> dict[str, int]:
    return {n: i for i, n in enumerate(names)}


_P, _S, _M, _SP, _A = (
    _idx(CC_PARAMS),
    _idx(CC_STATE),
    _idx(MEASUREMENTS),
    _idx(SETPOINTS),
    _idx(ACTUATORS),
)
_NM, _NSP, _NA = len(MEASUREMENTS), len(SETPOINTS), len(ACTUATORS)
_S_MEAS0 = _S["meas_" + MEASUREMENTS[0]]
_MEAS_LO = np.array([SIGNALS[m].lo for m in MEASUREMENTS])
_MEAS_HI = np.array([SIGNALS[m].hi for m in MEASUREMENTS])
_SP_LO = np.array([SETPOINT_RANGES[s][0] for s in SETPOINTS])
_SP_HI = np.array([SETPOINT_RANGES[s][1] for s in SETPOINTS])
_S_SP0 = _S["sp_" + SETPOINTS[0]]

# numba freezes module globals as constants: name every column once here
M_TAIR, M_RH, M_CO2, M_PAR = _M["tair_c"], _M["rh_pct"], _M["co2_ppm"], _M["par_umol_m2_s"]
M_TOUT, M_IGLOB, M_WIND, M_RAIN = _M["tout_c"], _M["iglob_w_m2"], _M["wind_m_s"], _M["rain"]
SP_HEAT, SP_VLEE, SP_VWIND, SP_VMIN = (
    _SP["heat_c"],
    _SP["vent_lee_c"],
    _SP["vent_wind_c"],
    _SP["vent_min_pct"],
)
SP_CO2, SP_HD, SP_MINPIPE, SP_LAMPS = (
    _SP["co2_ppm"],
    _SP["humidity_deficit_g_m3"],
    _SP["min_pipe_c"],
    _SP["lamps_pct"],
)
SP_SCR_E, SP_SCR_B, SP_IRR = (
    _SP["screen_energy_pct"],
    _SP["screen_blackout_pct"],
    _SP["irrigation_interval_min"],
)
A_PIPE, A_GROW, A_LEE, A_WIND = (
    _A["pipe_sp_c"],
    _A["pipe_grow_sp_c"],
    _A["vent_lee_pct"],
    _A["vent_wind_pct"],
)
A_SCR_E, A_SCR_B, A_LAMPS, A_CO2 = (
    _A["screen_energy_pct"],
    _A["screen_blackout_pct"],
    _A["lamps_pct"],
    _A["co2_valve_pct"],
)
A_FOG, A_IRR = _A["fog_pct"], _A["irrigation_pct"]
(
    S_PI,
    S_HEATSP,
    S_VENTSP,
    S_CO2SP,
    S_MINPIPE,
    S_LEE,
    S_WIND,
    S_SCR_E,
    S_SCR_B,
    S_SCR_E_CL,
    S_SCR_B_CL,
    S_LAMPS_ON,
    S_LAMPS_AGE,
    S_LSUM,
    S_LAST_H,
    S_WIND_AVG,
    S_IRR_RAD,
    S_IRR_SINCE,
    S_IRR_LEFT,
    S_IRR_CYCLES,
    S_CO2_I,
) = range(len(_STATE_CORE))
(
    P_RAD_LO,
    P_RAD_HI,
    P_RAD_MAX,
    P_HUM_RH,
    P_HUM_BAND,
    P_HUM_MAX,
    P_KP,
    P_TI,
    P_PIPE_MAX,
    P_MP_HD_BAND,
    P_MP_RH,
    P_MP_RH_BAND,
    P_MP_MAX,
    P_MP_RAD_LO,
    P_MP_RAD_HI,
    P_GROW_MIN,
    P_GROW_ST2,
    P_GROW_MAX,
    P_PB_LEE,
    P_PB_WIND,
    P_DEADZONE,
    P_LEE_FIRST,
    P_VENT_SPEED,
    P_GAP_HD_BAND,
    P_GAP_RH,
    P_GAP_RH_BAND,
    P_GAP_MAX,
    P_WIND_AVG,
    P_WLEE_LO,
    P_WLEE_HI,
    P_WWIND_LO,
    P_WWIND_HI,
    P_RAIN_LEE,
    P_RAIN_WIND,
    P_CO2_PB,
    P_CO2_TI,
    P_CO2_VLO,
    P_CO2_VHI,
    P_CO2_VPPM,
    P_CO2_MIN_W,
    P_SCR_CLOSE_W,
    P_SCR_OPEN_W,
    P_SCR_TOUT,
    P_SCR_SPEED,
    P_SCR_GAP,
    P_LAMP_ON_W,
    P_LAMP_OFF_W,
    P_LAMP_MIN_ON,
    P_LAMP_MIN_OFF,
    P_LAMP_LSUM,
    P_FOG_HD,
    P_FOG_BAND,
    P_FOG_MARGIN,
    P_IRR_RAD,
    P_IRR_MIN_W,
    P_IRR_FIRST_H,
    P_IRR_START_H,
    P_IRR_STOP_H,
    P_IRR_CYCLE,
    P_IRR_FLOW,
    P_IRR_LAMP_W,
) = range(len(CC_PARAMS))


@njit_inline
def _clip(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


@njit_inline
def _ramp(x: float, lo: float, hi: float) -> float:
    """0 below lo, 1 above hi, linear between (a step at lo when the band is empty)."""
    if hi <= lo:
        return 1.0 if x >= lo else 0.0
    return _clip((x - lo) / (hi - lo), 0.0, 1.0)


@njit_inline
def _move(pos: float, target: float, max_step: float) -> float:
    return pos + _clip(target - pos, -max_step, max_step)


@njit
def humidity_deficit_g_m3(tair_c: float, rh_pct: float) -> float:
    """Humidity deficit (g/m3) of air at `tair_c` and `rh_pct` (Tetens saturation pressure)."""
    return (1.0 - rh_pct / 100.0) * saturation_density_g_m3(tair_c)


@njit_inline
def _hold_inputs(i, sp, meas, st) -> None:
    """Keep the valid measurements and setpoints in the state row: a sensor value outside its
    plausible range is a fault and the last valid one holds; a NaN setpoint holds too."""
    for k in range(_NM):
        v = meas[i, k]
        if _MEAS_LO[k] <= v <= _MEAS_HI[k]:
            st[_S_MEAS0 + k] = v
    for k in range(_NSP):
        v = sp[i, k]
        if not math.isnan(v):
            st[_S_SP0 + k] = _clip(v, _SP_LO[k], _SP_HI[k])


@njit_inline
def _day_bookkeeping(st, pr, m, s, local_hour: float, dt: float) -> float:
    """Clock, light and radiation sums, timers and the averaged wind; local midnight resets the
    light sum and the irrigation cycle count. Returns the hour used for the day's schedule."""
    hour = local_hour
    if math.isnan(hour):
        hour = st[S_LAST_H]
    elif st[S_LAST_H] >= 0.0 and hour < st[S_LAST_H] - 12.0:
        st[S_LSUM] = 0.0
        st[S_IRR_CYCLES] = 0.0
    st[S_LAST_H] = hour
    st[S_LSUM] += max(m[M_PAR], 0.0) * dt * 1e-6
    st[S_LAMPS_AGE] += dt
    st[S_IRR_SINCE] += dt
    lamp_frac = st[S_LAMPS_ON] * s[SP_LAMPS] / 100.0
    st[S_IRR_RAD] += (max(m[M_IGLOB], 0.0) + pr[P_IRR_LAMP_W] * lamp_frac) * dt * 1e-4
    wa = st[S_WIND_AVG]
    if math.isnan(wa):
        wa = m[M_WIND]
    else:
        wa += (1.0 - math.exp(-dt / max(pr[P_WIND_AVG], 1.0))) * (m[M_WIND] - wa)
    st[S_WIND_AVG] = wa
    return hour


@njit_inline
def heating_setpoint_c(pr, heat_c: float, iglob: float, rh: float) -> float:
    """Heating setpoint raised by radiation and by high humidity, each over its band."""
    return (
        heat_c
        + pr[P_RAD_MAX] * _ramp(iglob, pr[P_RAD_LO], pr[P_RAD_HI])
        + pr[P_HUM_MAX] * _ramp(rh, pr[P_HUM_RH], pr[P_HUM_RH] + pr[P_HUM_BAND])
    )


@njit_inline
def minimum_pipe_c(pr, min_pipe_sp: float, tair: float, iglob: float, rh: float,
                   hd: float, hd_sp: float) -> float:  # fmt: skip
    """Minimum rail temperature: the setpoint fading out as the sun heats, raised towards
    minpipe_hum_max_c as the humidity deficit falls below its setpoint or RH rises."""
    hum_f = max(
        _ramp(hd_sp - hd, 0.0, pr[P_MP_HD_BAND]),
        _ramp(rh, pr[P_MP_RH], pr[P_MP_RH] + pr[P_MP_RH_BAND]),
    )
    min_pipe = min_pipe_sp * (1.0 - _ramp(iglob, pr[P_MP_RAD_LO], pr[P_MP_RAD_HI]))
    if hum_f > 0.0 and pr[P_MP_MAX] > tair:
        min_pipe = max(min_pipe, tair + hum_f * (pr[P_MP_MAX] - tair))
    return min(min_pipe, pr[P_PIPE_MAX])


@njit_inline
def _heating(st, pr, o, heat_sp: float, min_pipe: float, tair: float, dt: float) -> None:
    """PI on the heating error (anti-windup at the top of both circuits); the grow pipe takes
    over what the rail cannot deliver, and runs at its minimum while heating."""
    err = heat_sp - tair
    u = tair + pr[P_KP] * err + st[S_PI]
    top = pr[P_PIPE_MAX] + max(pr[P_GROW_MAX] - pr[P_GROW_ST2], 0.0)
    if not ((err > 0.0 and u >= top) or (err < 0.0 and st[S_PI] <= 0.0)):
        st[S_PI] += pr[P_KP] * err * dt / max(pr[P_TI], 1.0)
    st[S_PI] = _clip(st[S_PI], 0.0, top)
    u = tair + pr[P_KP] * err + st[S_PI]
    rail = _clip(u, min_pipe, pr[P_PIPE_MAX])
    grow = 0.0
    if u > pr[P_PIPE_MAX]:
        grow = pr[P_GROW_ST2] + (u - pr[P_PIPE_MAX])
    if u > tair + 1.0:
        grow = max(grow, pr[P_GROW_MIN])
    grow = _clip(grow, 0.0, pr[P_GROW_MAX])
    o[A_PIPE] = rail if rail > tair else 0.0
    o[A_GROW] = grow if grow > tair else 0.0


@njit_inline
def _vents(st, pr, m, s, o, vent_sp: float, gap_f: float, dt_min: float) -> None:
    """Vents: P-band over the vent temperature, lee before wind, humidity gap, moving at their
    speed; wind and rain limits act at once."""
    tair = m[M_TAIR]
    vent_wind_sp = max(s[SP_VWIND], vent_sp)
    lee_p = 100.0 * _ramp(tair, vent_sp, vent_sp + pr[P_PB_LEE])
    wind_p = 100.0 * _ramp(tair, vent_wind_sp, vent_wind_sp + pr[P_PB_WIND])
    lee_t = max(lee_p, _clip(s[SP_VMIN], 0.0, 100.0), pr[P_GAP_MAX] * gap_f)
    step = max(pr[P_VENT_SPEED], 0.0) * dt_min
    lee = _move(st[S_LEE], lee_t, step)
    # lee before wind: the wind side follows only once the lee side is well open
    wind_p = min(wind_p, 100.0 * _ramp(lee, pr[P_LEE_FIRST], 100.0))
    wnd = _move(st[S_WIND], wind_p, step)
    # wind and rain limits act at once, they protect the house
    wa = st[S_WIND_AVG]
    lee = min(lee, 100.0 * (1.0 - _ramp(wa, pr[P_WLEE_LO], pr[P_WLEE_HI])))
    wnd = min(wnd, 100.0 * (1.0 - _ramp(wa, pr[P_WWIND_LO], pr[P_WWIND_HI])))
    if m[M_RAIN] >= 0.5:
        lee = min(lee, pr[P_RAIN_LEE])
        wnd = min(wnd, pr[P_RAIN_WIND])
    st[S_LEE] = _clip(lee, 0.0, 100.0)
    st[S_WIND] = _clip(wnd, 0.0, 100.0)
    o[A_LEE] = st[S_LEE]
    o[A_WIND] = st[S_WIND]


@njit_inline
def _lamps(st, pr, s, o, iglob: float) -> bool:
    """Lamps: on within the setpoint's time window below a radiation level, off above another or
    once the day's light sum is reached, each switch held for a minimum time. Returns on/off."""
    lamps_sp = _clip(s[SP_LAMPS], 0.0, 100.0)
    on = st[S_LAMPS_ON] > 0.5
    lsum_done = st[S_LSUM] >= pr[P_LAMP_LSUM]
    if on:
        if lamps_sp <= 0.0 or (
            (iglob > pr[P_LAMP_OFF_W] or lsum_done) and st[S_LAMPS_AGE] >= pr[P_LAMP_MIN_ON]
        ):
            on = False
            st[S_LAMPS_AGE] = 0.0
    elif (
        lamps_sp > 0.0
        and iglob < pr[P_LAMP_ON_W]
        and not lsum_done
        and st[S_LAMPS_AGE] >= pr[P_LAMP_MIN_OFF]
    ):
        on = True
        st[S_LAMPS_AGE] = 0.0
    st[S_LAMPS_ON] = 1.0 if on else 0.0
    o[A_LAMPS] = lamps_sp if on else 0.0
    return on


@njit_inline
def co2_setpoint_ppm(pr, co2_sp: float, lee_pct: float) -> float:
    """CO2 setpoint lowered towards co2_vent_ppm as the lee vent opens over its band."""
    if co2_sp > pr[P_CO2_VPPM]:
        co2_sp -= (co2_sp - pr[P_CO2_VPPM]) * _ramp(lee_pct, pr[P_CO2_VLO], pr[P_CO2_VHI])
    return co2_sp


@njit_inline
def co2_valve_pct(
    st, pr, co2_sp: float, co2: float, iglob: float, par: float, lamps_on: bool, dt: float
) -> float:
    """CO2 valve: PI on (setpoint - CO2), the P-band co2_pband_ppm and the integral time
    co2_ti_s, so dosing goes on until the setpoint is reached; no dosing in the dark. Light is
    the outside radiation over co2_min_w_m2, the computer's own lamps, or a PAR sensor reading
    the photons that radiation would bring (lamps switched by another program count too)."""
    light = iglob >= pr[P_CO2_MIN_W] or lamps_on or par >= PAR_PER_GLOBAL_UMOL_J * pr[P_CO2_MIN_W]
    if not light or math.isnan(co2):
        st[S_CO2_I] = 0.0
        return 0.0
    p_part = 100.0 * (co2_sp - co2) / max(pr[P_CO2_PB], 1e-9)
    if pr[P_CO2_TI] > 0.0:
        valve = p_part + st[S_CO2_I]
        # anti-windup: integrate only while the valve is not held at a bound in that direction
        if not ((p_part > 0.0 and valve >= 100.0) or (p_part < 0.0 and valve <= 0.0)):
            st[S_CO2_I] += p_part * dt / pr[P_CO2_TI]
        st[S_CO2_I] = _clip(st[S_CO2_I], 0.0, 100.0)
    else:
        st[S_CO2_I] = 0.0
    return _clip(p_part + st[S_CO2_I], 0.0, 100.0)


@njit_inline
def _screens(st, pr, s, o, iglob: float, tout: float, lamps_on: bool, gap_f: float,
             dt_min: float) -> None:  # fmt: skip
    """Energy screen closed by darkness and cold (hysteresis, humidity gap), blackout screen
    while lamps burn in the dark; both move at the screen speed."""
    scr_step = max(pr[P_SCR_SPEED], 0.0) * dt_min
    if st[S_SCR_E_CL] > 0.5:
        if iglob > pr[P_SCR_OPEN_W] or tout > pr[P_SCR_TOUT] + 1.0:
            st[S_SCR_E_CL] = 0.0
    elif iglob < pr[P_SCR_CLOSE_W] and tout < pr[P_SCR_TOUT]:
        st[S_SCR_E_CL] = 1.0
    scr_t = 0.0
    if st[S_SCR_E_CL] > 0.5:
        scr_t = max(_clip(s[SP_SCR_E], 0.0, 100.0) - pr[P_SCR_GAP] * gap_f, 0.0)
    st[S_SCR_E] = _clip(_move(st[S_SCR_E], scr_t, scr_step), 0.0, 100.0)
    o[A_SCR_E] = st[S_SCR_E]
    if st[S_SCR_B_CL] > 0.5:
        if not lamps_on or iglob > pr[P_SCR_OPEN_W]:
            st[S_SCR_B_CL] = 0.0
    elif lamps_on and iglob < pr[P_SCR_CLOSE_W]:
        st[S_SCR_B_CL] = 1.0
    blk_t = _clip(s[SP_SCR_B], 0.0, 100.0) if st[S_SCR_B_CL] > 0.5 else 0.0
    st[S_SCR_B] = _clip(_move(st[S_SCR_B], blk_t, scr_step), 0.0, 100.0)
    o[A_SCR_B] = st[S_SCR_B]


@njit_inline
def fog_pct(pr, tair: float, vent_sp: float, hd: float) -> float:
    """Fogging when the air is above the vent temperature and drier than the fog level."""
    if tair > vent_sp + pr[P_FOG_MARGIN]:
        return 100.0 * _ramp(hd, pr[P_FOG_HD], pr[P_FOG_HD] + pr[P_FOG_BAND])
    return 0.0


@njit_inline
def _irrigation(st, pr, s, hour: float, iglob: float, dt: float) -> float:
    """Irrigation cycles started by the radiation sum since the last one (after a minimum
    interval) or by the morning's first hour; returns the valve's share of this interval (%)."""
    in_window = pr[P_IRR_START_H] <= hour < pr[P_IRR_STOP_H]
    if st[S_IRR_LEFT] <= 0.0 and in_window and st[S_IRR_SINCE] >= s[SP_IRR] * 60.0:
        by_sun = st[S_IRR_RAD] >= pr[P_IRR_RAD] and iglob > pr[P_IRR_MIN_W]
        morning = st[S_IRR_CYCLES] < 0.5 and hour >= pr[P_IRR_FIRST_H]
        if by_sun or morning:
            st[S_IRR_LEFT] = pr[P_IRR_CYCLE]
            st[S_IRR_RAD] = 0.0
            st[S_IRR_SINCE] = 0.0
            st[S_IRR_CYCLES] += 1.0
    cap = max(pr[P_IRR_FLOW], 0.0) * dt / 3600.0
    if st[S_IRR_LEFT] <= 0.0 or cap <= 0.0:
        return 0.0
    give = min(st[S_IRR_LEFT], cap)
    st[S_IRR_LEFT] -= give
    if st[S_IRR_LEFT] < 1e-12:
        st[S_IRR_LEFT] = 0.0
    return 100.0 * give / cap


@njit
def climate_computer_step(sp, meas, local_hour, dt_s, params, state, out) -> None:
    """Turn setpoints + measurements into actuator commands for n greenhouses (see module doc)."""
    n = sp.shape[0]
    dt = dt_s
    if not (dt > 0.0):  # NaN, zero or negative: decide, but integrate nothing
        dt = 0.0
    dt_min = dt / 60.0
    for i in range(n):
        st = state[i]
        pr = params[i]
        o = out[i]
        _hold_inputs(i, sp, meas, st)
        m = st[_S_MEAS0 : _S_MEAS0 + _NM]
        s = st[_S_SP0 : _S_SP0 + _NSP]
        tair = m[M_TAIR]
        rh = _clip(m[M_RH], 0.0, 100.0)
        iglob = max(m[M_IGLOB], 0.0)
        hd = humidity_deficit_g_m3(tair, rh)
        hd_sp = s[SP_HD]
        hour = _day_bookkeeping(st, pr, m, s, local_hour, dt)

        heat_sp = heating_setpoint_c(pr, s[SP_HEAT], iglob, rh)
        st[S_HEATSP] = heat_sp
        min_pipe = minimum_pipe_c(pr, s[SP_MINPIPE], tair, iglob, rh, hd, hd_sp)
        st[S_MINPIPE] = min_pipe
        _heating(st, pr, o, heat_sp, min_pipe, tair, dt)

        # humidity gap ('vochtkier') share, for the vents and the energy screen
        gap_f = max(
            _ramp(hd_sp - hd, 0.0, pr[P_GAP_HD_BAND]),
            _ramp(rh, pr[P_GAP_RH], pr[P_GAP_RH] + pr[P_GAP_RH_BAND]),
        )
        vent_sp = max(s[SP_VLEE], heat_sp + pr[P_DEADZONE])
        st[S_VENTSP] = vent_sp
        _vents(st, pr, m, s, o, vent_sp, gap_f, dt_min)

        on = _lamps(st, pr, s, o, iglob)

        co2_sp = co2_setpoint_ppm(pr, s[SP_CO2], st[S_LEE])
        st[S_CO2SP] = co2_sp
        o[A_CO2] = co2_valve_pct(st, pr, co2_sp, m[M_CO2], iglob, max(m[M_PAR], 0.0), on, dt)

        _screens(st, pr, s, o, iglob, m[M_TOUT], on, gap_f, dt_min)
        o[A_FOG] = fog_pct(pr, tair, vent_sp, hd)
        o[A_IRR] = _irrigation(st, pr, s, hour, iglob, dt)


def _as_params(settings_or_params, n: int) -> np.ndarray:
    if isinstance(settings_or_params, ClimateComputerSettings):
        arr = settings_or_params.to_array()
    else:
        arr = np.asarray(settings_or_params, dtype=np.float64)
    if arr.ndim == 1:
        arr = np.broadcast_to(arr, (n, len(CC_PARAMS)))
    if arr.shape != (n, len(CC_PARAMS)):
        raise SetpointError(f"params have shape {arr.shape}, expected ({n}, {len(CC_PARAMS)})")
    return np.ascontiguousarray(arr, dtype=np.float64)


def compute_actuators(
    sp: np.ndarray,
    meas: np.ndarray,
    local_hour: float,
    dt_s: float,
    settings_or_params: ClimateComputerSettings | np.ndarray,
    state: np.ndarray,
) -> np.ndarray:
    """Python convenience around climate_computer_step; returns `[n, len(ACTUATORS)]`.

    `sp` and `meas` may be 1-D for a single greenhouse; settings are broadcast to every row.
    `state` ([n, len(CC_STATE)], from new_state) is updated in place.
    """
    sp2 = np.ascontiguousarray(np.atleast_2d(np.asarray(sp, dtype=np.float64)))
    meas2 = np.ascontiguousarray(np.atleast_2d(np.asarray(meas, dtype=np.float64)))
    n = sp2.shape[0]
    if sp2.shape[1] != len(SETPOINTS) or meas2.shape != (n, len(MEASUREMENTS)):
        raise SetpointError(
            f"sp {sp2.shape} / meas {meas2.shape} do not match ({n}, {len(SETPOINTS)}) / "
            f"({n}, {len(MEASUREMENTS)})"
        )
    if state.shape != (n, len(CC_STATE)):
        raise SetpointError(f"state has shape {state.shape}, expected ({n}, {len(CC_STATE)})")
    out = np.zeros((n, len(ACTUATORS)))
    params = _as_params(settings_or_params, n)
    climate_computer_step(sp2, meas2, float(local_hour), float(dt_s), params, state, out)
    return out
