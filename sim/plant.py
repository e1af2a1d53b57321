"""The simulated greenhouse as one unit: climate physics and crop stepped together.

`advance_greenhouse` is the compiled step used by the fast season runner (many greenhouses, no
Python per step); `Plant` wraps one greenhouse for real-time use behind the virtual serial
device: apply actuator commands, advance the clock, read the sensors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, cast

import numpy as np

from drivers.signals import ACTUATORS, MEASUREMENTS
from sim.config import PARAM_INDEX, GreenhouseConfig, load_config
from sim.crop import (
    _CH2O_PER_CO2,
    _CO2_MG_PER_UMOL,
    C_LAI,
    C_RESP,
    CROP_STATES,
    N_COHORTS,
    crop_step,
    gross_assimilation_umol,
    init_crop,
)
from sim.jit import njit
from sim.physics import (
    ACC_GROWTH_WATER,
    ACCOUNTS,
    STATES,
    W_IGLOB,
    W_RAIN,
    W_RHOUT,
    W_TOUT,
    W_WIND,
    WEATHER_INPUTS,
    X_CO2,
    X_GROW,
    X_PIPE,
    X_SLAB,
    X_TAIR,
    X_TMASS,
    X_VAP,
    canopy_par,
    physics_substep,
    stored_heat_j_m2,
)
from sim.psychro import relative_humidity_pct, saturation_density_g_m3, vapour_from_rh

_M = {name: i for i, name in enumerate(MEASUREMENTS)}
M_TAIR, M_RH, M_CO2, M_PAR = _M["tair_c"], _M["rh_pct"], _M["co2_ppm"], _M["par_umol_m2_s"]
M_PIPE, M_GROW, M_TOUT, M_RHOUT = _M["pipe_c"], _M["pipe_grow_c"], _M["tout_c"], _M["rhout_pct"]
M_IGLOB, M_WIND, M_RAIN = _M["iglob_w_m2"], _M["wind_m_s"], _M["rain"]

#: Default physics sub-step (s). Halving it changes season yield by well under 1 %.
DEFAULT_PHYSICS_STEP_S = 60.0


def initial_states(n: int, weather_row: np.ndarray, params: np.ndarray):
    """Fresh arrays for `n` greenhouses at planting, air in balance with the first weather row.

    Returns (x, crop, fruit_n, fruit_w, fruit_stage, accounts).
    """
    x = np.zeros((n, len(STATES)))
    tout = float(weather_row[W_TOUT])
    start_t = max(tout, 18.0)
    x[:, X_TAIR] = start_t
    x[:, X_TMASS] = start_t
    x[:, X_PIPE] = start_t
    x[:, X_GROW] = start_t
    x[:, X_VAP] = vapour_from_rh(75.0, start_t)
    x[:, X_CO2] = 420.0
    params = np.atleast_2d(params)
    x[:, X_SLAB] = params[:, PARAM_INDEX["irrigation.slab_initial_l_m2"]]
    crop = np.zeros((n, len(CROP_STATES)))
    fruit_n = np.zeros((n, N_COHORTS))
    fruit_w = np.zeros((n, N_COHORTS))
    fruit_s = np.zeros((n, N_COHORTS))
    for g in range(n):
        init_crop(params[g % params.shape[0]], crop[g], fruit_n[g], fruit_w[g], fruit_s[g])
    return x, crop, fruit_n, fruit_w, fruit_s, np.zeros((n, len(ACCOUNTS)))


@njit
def advance_greenhouse(x, crop, fr_n, fr_w, fr_s, acc, p, act, w, peak, dt_total, dt_phys):
    """Advance one greenhouse by `dt_total` seconds in physics sub-steps of at most `dt_phys`,
    then the crop once with the assimilates of the interval. Returns mean heat flux (W/m2).
    """
    n_sub = max(1, math.ceil(dt_total / dt_phys - 1e-9))
    h = dt_total / n_sub
    assim_g = 0.0
    t_sum = 0.0
    heat = 0.0
    for _ in range(n_sub):
        sun_par, lamp_par = canopy_par(p, act, w[W_IGLOB])
        gross = gross_assimilation_umol(p, sun_par + lamp_par, x[X_CO2], x[X_TAIR], crop[C_LAI])
        gross_mg = gross * _CO2_MG_PER_UMOL
        _, _, boiler = physics_substep(
            x, p, act, w, crop[C_LAI], gross_mg, crop[C_RESP], peak, h, acc
        )
        heat += boiler * h
        assim_g += gross_mg * h * _CH2O_PER_CO2 / 1000.0
        t_sum += x[X_TAIR] * h
    water = crop_step(p, crop, fr_n, fr_w, fr_s, t_sum / dt_total, assim_g, dt_total)
    acc[ACC_GROWTH_WATER] += water
    x[X_SLAB] = max(x[X_SLAB] - water, 0.0)
    return heat / dt_total


@njit
def read_sensors(x, p, act, w, out) -> None:
    """What the greenhouse's sensors read now, in MEASUREMENTS order."""
    out[M_TAIR] = x[X_TAIR]
    out[M_RH] = min(relative_humidity_pct(x[X_VAP], x[X_TAIR]), 100.0)
    out[M_CO2] = x[X_CO2]
    sun_par, lamp_par = canopy_par(p, act, w[W_IGLOB])
    out[M_PAR] = sun_par + lamp_par
    out[M_PIPE] = x[X_PIPE]
    out[M_GROW] = x[X_GROW]
    out[M_TOUT] = w[W_TOUT]
    out[M_RHOUT] = w[W_RHOUT]
    out[M_IGLOB] = w[W_IGLOB]
    out[M_WIND] = w[W_WIND]
    out[M_RAIN] = w[W_RAIN]


@njit
def humidity_deficit_g_m3(x) -> float:
    """Humidity deficit of the greenhouse air, g/m3."""
    return max(saturation_density_g_m3(x[X_TAIR]) - x[X_VAP], 0.0)


class PlantError(ValueError):
    """A command the simulated plant cannot take."""


class PlantStateError(PlantError):
    """A saved plant state this Serra cannot resume (other layout, other weather, damaged)."""


#: Version of the saved-state layout (`Plant.save_state`). Raise it when the meaning of a saved
#: array changes without its names or sizes changing; names and sizes are checked on their own.
STATE_VERSION = 1


def state_layout() -> dict[str, object]:
    """What a saved plant state must match to be resumed: version, state names, cohort count."""
    return {
        "version": STATE_VERSION,
        "states": list(STATES),
        "crop_states": list(CROP_STATES),
        "cohorts": N_COHORTS,
        "accounts": list(ACCOUNTS),
        "actuators": list(ACTUATORS),
    }


class Plant:
    """One simulated greenhouse stepped in plant time, for the virtual serial device.

    Weather comes from `weather` (default: the shipped AGC 2018 season); after its end the
    weather wraps around to its start so a demo can run indefinitely.
    """

    def __init__(
        self,
        config: GreenhouseConfig | None = None,
        weather=None,
        start=None,
        physics_step_s: float = DEFAULT_PHYSICS_STEP_S,
    ) -> None:
        from sim.weather import default_weather

        self.config = config or load_config()
        weather = weather if weather is not None else default_weather()
        if start is not None:
            weather = weather.window(start, None)
        self._weather = weather
        self._weather_cols = np.column_stack([weather[name] for name in WEATHER_INPUTS])
        self._params = self.config.to_array()
        self._physics_step_s = physics_step_s
        self.time_s = float(weather.time_s[0])
        self._t0 = self.time_s
        x, crop, fn, fw, fs, acc = initial_states(1, self._weather_cols[0], self._params)
        self._x, self._crop, self._fn, self._fw, self._fs, self._acc = (
            x[0],
            crop[0],
            fn[0],
            fw[0],
            fs[0],
            acc[0],
        )
        self._act = np.zeros(len(ACTUATORS))
        self._heat_w_m2 = 0.0

    # -- saved state -------------------------------------------------------------------------
    def save_state(self) -> dict[str, object]:
        """Everything needed to continue this plant later, as plain JSON-able data.

        Floats are kept as Python floats (JSON writes them with round-trip precision), so a
        plant loaded from the state steps bit for bit like this one. The config (parameters)
        is not saved: a resumed plant takes the config it is built with.
        """
        return {
            "layout": state_layout(),
            "time_s": self.time_s,
            "t0_s": self._t0,
            "weather": self._weather_fingerprint(),
            "physics_step_s": self._physics_step_s,
            "climate": self._x.tolist(),
            "crop": self._crop.tolist(),
            "fruit_n": self._fn.tolist(),
            "fruit_w": self._fw.tolist(),
            "fruit_stage": self._fs.tolist(),
            "accounts": self._acc.tolist(),
            "actuators": self._act.tolist(),
            "heat_w_m2": self._heat_w_m2,
        }

    @classmethod
    def from_state(
        cls, state: Mapping[str, object], config: GreenhouseConfig | None = None, weather=None
    ) -> Plant:
        """A plant continuing from `save_state()` output, with `weather` (default: the shipped
        season) as when it was saved; PlantStateError (one line) if it cannot be resumed."""
        from datetime import UTC, datetime

        from sim.weather import WeatherError, default_weather

        layout = state.get("layout") if isinstance(state, Mapping) else None
        if layout != state_layout():
            version = layout.get("version") if isinstance(layout, Mapping) else None
            raise PlantStateError(
                f"saved plant state has layout version {version} with other states than this "
                f"Serra's (version {STATE_VERSION})"
            )
        weather = weather if weather is not None else default_weather()
        try:
            # saved JSON: a value of the wrong type raises TypeError, refused below
            fields = cast(Mapping[str, Any], state)
            saved_weather = dict(fields["weather"])
            start = datetime.fromtimestamp(float(saved_weather["start_s"]), UTC)
            plant = cls(config, weather.window(start, None), None, float(fields["physics_step_s"]))
        except (KeyError, TypeError, ValueError, WeatherError) as exc:
            raise PlantStateError(f"saved plant state does not fit the weather ({exc})") from None
        if plant._weather_fingerprint() != saved_weather:
            raise PlantStateError(
                "saved plant state was made with other weather "
                f"({saved_weather.get('source', '?')}, {saved_weather.get('rows', '?')} rows)"
            )
        try:
            plant._load_arrays(state)
        except (KeyError, TypeError, ValueError) as exc:
            raise PlantStateError(f"saved plant state is damaged ({exc})") from None
        return plant

    def _load_arrays(self, state: Mapping[str, object]) -> None:
        arrays = {
            "climate": self._x,
            "crop": self._crop,
            "fruit_n": self._fn,
            "fruit_w": self._fw,
            "fruit_stage": self._fs,
            "accounts": self._acc,
            "actuators": self._act,
        }
        loaded = {}
        for key, target in arrays.items():
            values = np.asarray(state[key], dtype=np.float64)
            if values.shape != target.shape or not np.isfinite(values).all():
                raise ValueError(f"{key} has shape {values.shape}, expected {target.shape}")
            loaded[key] = values
        time_s, t0_s, heat = (float(state[k]) for k in ("time_s", "t0_s", "heat_w_m2"))  # type: ignore[arg-type]
        if not all(math.isfinite(v) for v in (time_s, t0_s, heat)):
            raise ValueError("time or heat flux is not a finite number")
        for key, target in arrays.items():
            target[:] = loaded[key]
        self.time_s, self._t0, self._heat_w_m2 = time_s, t0_s, heat

    def _weather_fingerprint(self) -> dict[str, object]:
        w = self._weather
        return {
            "source": str(w.source),
            "start_s": float(w.time_s[0]),
            "step_s": float(w.step_s),
            "rows": len(w.time_s),
        }

    def jump_to(self, time_s: float) -> None:
        """Move the clock forward to `time_s` without stepping physics or crop (a fresh plant
        placed later in its wrapped weather, so a database's ticks never go back in time)."""
        if not (math.isfinite(time_s) and time_s >= self.time_s):
            raise PlantError(f"cannot move the plant clock back ({time_s} < {self.time_s})")
        self.time_s = float(time_s)

    def _weather_position(self) -> tuple[int, float]:
        """Row and share towards the next row of the plant's time in the (wrapped) weather."""
        wt = self._weather.time_s
        span = wt[-1] - wt[0] + self._weather.step_s
        t = self._t0 + (self.time_s - self._t0) % span
        i = min(max(int(np.searchsorted(wt, t, side="right")) - 1, 0), len(wt) - 2)
        return i, min(max((t - wt[i]) / (wt[i + 1] - wt[i]), 0.0), 1.0)

    def weather_now(self) -> np.ndarray:
        """The weather row (WEATHER_INPUTS order) at the plant's current time, interpolated."""
        i, share = self._weather_position()
        return self._weather_cols[i] * (1.0 - share) + self._weather_cols[i + 1] * share

    def apply(self, actuators: Mapping[str, float]) -> None:
        """Set actuator commands by canonical name (drivers.signals.ACTUATORS)."""
        for name, value in actuators.items():
            if name not in ACTUATORS:
                raise PlantError(f"unknown actuator {name!r}; known: {', '.join(ACTUATORS)}")
            value = float(value)
            if not math.isfinite(value):
                raise PlantError(f"actuator {name} command must be finite, got {value}")
            self._act[ACTUATORS.index(name)] = value

    def actuators(self) -> dict[str, float]:
        """The current actuator commands."""
        return {name: float(v) for name, v in zip(ACTUATORS, self._act, strict=True)}

    def advance(self, seconds: float) -> None:
        """Step physics and crop forward by `seconds` of plant time."""
        if seconds < 0:
            raise PlantError(f"cannot advance by a negative time ({seconds} s)")
        remaining = float(seconds)
        while remaining > 1e-9:
            dt = min(remaining, 300.0)
            w = self.weather_now()
            self._heat_w_m2 = advance_greenhouse(
                self._x,
                self._crop,
                self._fn,
                self._fw,
                self._fs,
                self._acc,
                self._params,
                self._act,
                w,
                False,
                dt,
                self._physics_step_s,
            )
            self.time_s += dt
            remaining -= dt

    def accounts(self) -> dict[str, float]:
        """Season-to-date totals and flux ledgers per m2 (sim.physics.ACCOUNTS)."""
        return {name: float(v) for name, v in zip(ACCOUNTS, self._acc, strict=True)}

    def stored_heat_j_m2(self) -> float:
        """Sensible heat held by air, mass and pipes now, J/m2 (for energy ledgers)."""
        return float(stored_heat_j_m2(self._x, self._params))

    def states(self) -> dict[str, float]:
        """The climate states (sim.physics.STATES) now."""
        return {name: float(v) for name, v in zip(STATES, self._x, strict=True)}

    def crop_states(self) -> dict[str, float]:
        """The crop states (sim.crop.CROP_STATES) now."""
        return {name: float(v) for name, v in zip(CROP_STATES, self._crop, strict=True)}

    def measurements(self) -> dict[str, float]:
        """Sensor readings now: MEASUREMENTS plus hd_g_m3, heat_w_m2 and wind_dir_deg."""
        w = self.weather_now()
        out = np.zeros(len(MEASUREMENTS))
        read_sensors(self._x, self._params, self._act, w, out)
        values = {name: float(v) for name, v in zip(MEASUREMENTS, out, strict=True)}
        values["hd_g_m3"] = float(humidity_deficit_g_m3(self._x))
        values["heat_w_m2"] = float(self._heat_w_m2)
        # a direction is not averaged across north: take the nearest logged sample
        i, share = self._weather_position()
        values["wind_dir_deg"] = float(self._weather["wind_dir_deg"][i + round(share)])
        return values
