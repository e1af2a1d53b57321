"""The fast season runner: many simulated greenhouses stepped together, no serial link.

The strategy plans setpoints a day at a time (so a learned strategy can later plan from the
state reached), the climate computer turns them into actuator commands every weather step, and
the compiled plant advances physics and crop. One call serves one greenhouse or hundreds: every
greenhouse shares the weather, each has its own strategy and configuration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from controllers.climate_computer import CC_PARAMS, ClimateComputerSettings, climate_computer_step
from controllers.climate_computer import new_state as new_cc_state
from controllers.setpoints import SETPOINTS, apply_schedule
from controllers.strategy import Strategy, StrategyContext, make_context
from drivers.signals import ACTUATORS, MEASUREMENTS
from sim.config import PARAM_INDEX, GreenhouseConfig, load_config
from sim.crop import (
    C_ABORTED,
    C_HARV_A_KG,
    C_HARV_A_N,
    C_HARV_B_KG,
    C_HARV_B_N,
    C_LAI,
    C_LEAF,
    C_STEM,
    C_SUPPLY24,
    C_T24,
)
from sim.economics import Prices, SeasonAccounts, is_peak_hour, load_prices, season_economics
from sim.jit import njit
from sim.physics import ACCOUNTS, WEATHER_INPUTS
from sim.plant import (
    DEFAULT_PHYSICS_STEP_S,
    advance_greenhouse,
    humidity_deficit_g_m3,
    initial_states,
    read_sensors,
)
from sim.weather import Weather

#: Columns of the 5-min climate record (climate.csv after `time`).
CLIMATE_COLUMNS: tuple[str, ...] = (
    "tair_c",
    "rh_pct",
    "co2_ppm",
    "par_umol_m2_s",
    "hd_g_m3",
    "pipe_c",
    "pipe_grow_c",
    "heat_w_m2",
    *ACTUATORS,
    "tout_c",
    "rhout_pct",
    "iglob_w_m2",
    "wind_m_s",
)
#: Columns of the daily crop record (crop.csv after `date`).
CROP_COLUMNS: tuple[str, ...] = (
    "lai",
    "t24_c",
    "fruits_on_plant_m2",
    "fruit_dm_on_plant_g_m2",
    "leaf_dm_g_m2",
    "stem_dm_g_m2",
    "supply_ratio",
    "harvest_a_n_m2",
    "harvest_a_kg_m2",
    "harvest_b_n_m2",
    "harvest_b_kg_m2",
    "yield_kg_m2",
)
#: Where each recorded column comes from: (climate column, measurement column) pairs, the rest
#: being humidity deficit, heat flux and the actuators (which stand together, in order).
_REC_FROM_MEAS = tuple(
    (CLIMATE_COLUMNS.index(name), MEASUREMENTS.index(name))
    for name in CLIMATE_COLUMNS
    if name in MEASUREMENTS
)
_REC_HD = CLIMATE_COLUMNS.index("hd_g_m3")
_REC_HEAT = CLIMATE_COLUMNS.index("heat_w_m2")
_REC_ACT0 = CLIMATE_COLUMNS.index(ACTUATORS[0])
#: Harvest columns of the crop record: cumulative in the plant's state, per day in crop.csv.
_HARVEST = [
    CROP_COLUMNS.index(name)
    for name in ("harvest_a_n_m2", "harvest_a_kg_m2", "harvest_b_n_m2", "harvest_b_kg_m2")
]
_CROP_A_N = CROP_COLUMNS.index("harvest_a_n_m2")
_CROP_B_N = CROP_COLUMNS.index("harvest_b_n_m2")
_STATS = ("rh_s", "co2_s", "time_s")
_N_MEAS = len(MEASUREMENTS)
_M_RH = MEASUREMENTS.index("rh_pct")
_M_CO2 = MEASUREMENTS.index("co2_ppm")
_CC_IRR_FLOW = CC_PARAMS.index("irr_flow_l_m2_h")
_P_VALVE_FLOW = PARAM_INDEX["irrigation.valve_flow_l_m2_h"]
_ACT_SOURCES = {"pipe_c": "pipe_sp_c", "pipe_grow_c": "pipe_grow_sp_c"}


class SeasonError(ValueError):
    """A season that cannot be run as asked; the message says what to change."""


@dataclass
class DayObservation:
    """What the runner hands an observer after each simulated day (all greenhouses at once).

    `climate` is `[n, steps, len(CLIMATE_COLUMNS)]` for the day; `accounts` the cumulative
    ACCOUNTS `[n, len(ACCOUNTS)]` at the day's end; `crop` the CROP_COLUMNS snapshot `[n, ...]`
    at the day's end with cumulative harvests; `setpoints` the day's plan `[n, steps, SETPOINTS]`.
    """

    day: int
    time_s: np.ndarray
    local_hour: np.ndarray
    sunrise_s: np.ndarray
    sunset_s: np.ndarray
    weather: dict[str, np.ndarray]
    climate: np.ndarray
    accounts: np.ndarray
    crop: np.ndarray
    setpoints: np.ndarray


def _strategy_context(strategy, ctx: StrategyContext, past, snapshot, day: int):
    """The context one strategy plans from: a forecaster's strategy never sees the day's weather.

    A strategy with a `forecaster` gets the forecaster's view of the day (made from yesterday's
    weather, and the day's only when the forecaster is a noisy-truth one), yesterday's weather
    and its greenhouse's crop state at the end of yesterday; others get the context as it is.
    """
    forecaster = getattr(strategy, "forecaster", None)
    if forecaster is None:
        return ctx
    state = {name: float(v) for name, v in zip(CROP_COLUMNS, snapshot, strict=True)}
    state["day_index"] = float(day)
    truth = ctx.weather if forecaster.uses_truth else None
    weather = forecaster.forecast(past, truth, len(ctx.local_hour))
    return replace(ctx, weather=weather, past_weather=past, state=state)


@dataclass
class SeasonResult:
    """One greenhouse's season: the JSON summary, and records when asked for."""

    summary: dict
    climate_time_s: np.ndarray | None = None
    climate: np.ndarray | None = None  # [steps, len(CLIMATE_COLUMNS)]
    crop_dates: list[str] = field(default_factory=list)
    crop: np.ndarray | None = None  # [days, len(CROP_COLUMNS)]
    accounts: dict[str, float] = field(default_factory=dict)


@njit
def _run_steps(
    x, crop, fn, fw, fs, acc, params, sp, w, local_hour, peak, cc_params, cc_state, forced,
    dt, dt_phys, record, rec, stats, act,
):  # fmt: skip
    # `act` holds the actuator positions between calls (the sensors see the lamps that are on)
    n = x.shape[0]
    m = w.shape[0]
    meas = np.zeros((n, _N_MEAS))
    sp_j = np.zeros((n, sp.shape[2]))
    for j in range(m):
        for g in range(n):
            read_sensors(x[g], params[g], act[g], w[j], meas[g])
            sp_j[g, :] = sp[g, j, :]
        climate_computer_step(sp_j, meas, local_hour[j], dt, cc_params, cc_state, act)
        for k in range(forced.shape[1]):
            if not math.isnan(forced[j, k]):
                for g in range(n):
                    act[g, k] = forced[j, k]
        for g in range(n):
            hd = humidity_deficit_g_m3(x[g])  # as the sensors saw it, like `meas`
            heat = advance_greenhouse(
                x[g], crop[g], fn[g], fw[g], fs[g], acc[g], params[g], act[g], w[j], peak[j],
                dt, dt_phys,
            )  # fmt: skip
            stats[g, 0] += meas[g, _M_RH] * dt
            stats[g, 1] += meas[g, _M_CO2] * dt
            stats[g, 2] += dt
            if record:
                r = rec[g, j]
                for rc, mc in _REC_FROM_MEAS:
                    r[rc] = meas[g, mc]
                r[_REC_HD] = hd
                r[_REC_HEAT] = heat
                for k in range(act.shape[1]):
                    r[_REC_ACT0 + k] = act[g, k]


def _forced_actuators(times_s: np.ndarray, schedule) -> np.ndarray:
    """Step-wise forced actuator positions per time (NaN = under control)."""
    forced = np.full((len(times_s), len(ACTUATORS)), np.nan)
    if schedule is None:
        return forced
    sched_times, columns = schedule
    idx = np.searchsorted(sched_times, times_s, side="right") - 1
    valid = idx >= 0
    for name, values in columns.items():
        k = ACTUATORS.index(_ACT_SOURCES.get(name, name))
        forced[valid, k] = values[idx[valid]]
    return forced


def _iso_weeks(local_dates: list[str]) -> np.ndarray:
    return np.array([datetime.fromisoformat(d).isocalendar().week for d in local_dates])


def run_season(
    weather: Weather,
    strategies: Strategy | Sequence[Strategy],
    configs: GreenhouseConfig | Sequence[GreenhouseConfig] | None = None,
    *,
    setpoint_schedule: tuple[np.ndarray, dict[str, np.ndarray]] | None = None,
    actuator_schedule: tuple[np.ndarray, dict[str, np.ndarray]] | None = None,
    physics_step_s: float = DEFAULT_PHYSICS_STEP_S,
    prices: Prices | None = None,
    record: bool = True,
    progress: Callable[[float], None] | None = None,
    observer: Callable[[DayObservation], None] | None = None,
) -> list[SeasonResult]:
    """Simulate a season for one greenhouse per strategy (or per config) over `weather`.

    `weather` is already the season window (see Weather.window). A setpoint schedule replaces
    the strategies' columns it gives; an actuator schedule forces actuators (open loop).
    Returns one SeasonResult per greenhouse, in order. `progress(fraction)` is called after
    each simulated day (for a GUI's progress bar); `observer(DayObservation)` too (datasets).
    """
    strategies = [strategies] if not isinstance(strategies, Sequence) else list(strategies)
    if configs is None:
        configs = [load_config()]
    configs = [configs] if isinstance(configs, GreenhouseConfig) else list(configs)
    n = max(len(strategies), len(configs))
    if len(strategies) not in (1, n) or len(configs) not in (1, n):
        raise SeasonError("give one strategy and one config, or the same number of each")
    strategies = strategies * (n // len(strategies))
    configs = configs * (n // len(configs))
    if not physics_step_s > 0:
        raise SeasonError(f"physics step must be positive, got {physics_step_s}")
    prices = prices or load_prices()

    step = float(weather.step_s)
    times = np.asarray(weather.time_s, dtype=np.float64)
    m = len(times)
    w = np.ascontiguousarray(np.column_stack([weather[name] for name in WEATHER_INPUTS]))
    site = weather.site
    context = make_context(site, times, {k: weather[k] for k in WEATHER_INPUTS})
    local_hour = np.ascontiguousarray(context.local_hour)
    peak = np.ascontiguousarray(is_peak_hour(local_hour, prices))
    forced = _forced_actuators(times, actuator_schedule)

    params = np.stack([c.to_array() for c in configs])
    cc_params = np.stack(
        [getattr(s, "settings", ClimateComputerSettings()).to_array() for s in strategies]
    )
    cc_params[:, _CC_IRR_FLOW] = params[:, _P_VALVE_FLOW]  # the computer knows its valves
    cc_state = new_cc_state(n)
    x, crop, fn, fw, fs, acc = initial_states(n, w[0], params)
    stats = np.zeros((n, len(_STATS)))
    rec = np.zeros((n, m if record else 0, len(CLIMATE_COLUMNS)))

    tz = ZoneInfo(site.timezone)
    steps_per_day = max(1, round(86400.0 / step))
    crop_rows: list[np.ndarray] = []
    crop_dates: list[str] = []
    snapshot = _crop_snapshot(crop, fn, fw)
    past: dict[str, np.ndarray] | None = None
    for day, i0 in enumerate(range(0, m, steps_per_day)):
        i1 = min(i0 + steps_per_day, m)
        chunk_times = times[i0:i1]
        ctx = StrategyContext(
            site=site,
            local_hour=context.local_hour[i0:i1],
            sunrise_s=context.sunrise_s[i0:i1],
            sunset_s=context.sunset_s[i0:i1],
            weather={k: v[i0:i1] for k, v in context.weather.items()},
        )
        sp = np.empty((n, i1 - i0, len(SETPOINTS)))
        for g, strategy in enumerate(strategies):
            plan = strategy.setpoints(
                chunk_times, _strategy_context(strategy, ctx, past, snapshot[g], day)
            )
            if setpoint_schedule is not None:
                plan = apply_schedule(plan, chunk_times, *setpoint_schedule)
            sp[g] = plan
        if record:
            day_rec = rec[:, i0:i1]
        elif observer is not None:
            day_rec = np.zeros((n, i1 - i0, len(CLIMATE_COLUMNS)))
        else:
            day_rec = rec
        _run_steps(
            x, crop, fn, fw, fs, acc, params, sp, w[i0:i1], local_hour[i0:i1], peak[i0:i1],
            cc_params, cc_state, np.ascontiguousarray(forced[i0:i1]), step, physics_step_s,
            record or observer is not None, day_rec, stats,
            np.zeros((n, len(ACTUATORS))),  # each day starts from closed actuators (figures kept)
        )  # fmt: skip
        date = datetime.fromtimestamp(chunk_times[0], UTC).astimezone(tz).date().isoformat()
        crop_dates.append(date)
        snapshot = _crop_snapshot(crop, fn, fw)
        crop_rows.append(snapshot)
        past = ctx.weather
        if observer is not None:
            observer(
                DayObservation(
                    day,
                    chunk_times,
                    ctx.local_hour,
                    ctx.sunrise_s,
                    ctx.sunset_s,
                    ctx.weather,
                    day_rec,
                    acc.copy(),
                    snapshot,
                    sp,
                )
            )
        if progress is not None:
            progress(i1 / m)

    daily = np.stack(crop_rows, axis=1) if crop_rows else np.zeros((n, 0, len(CROP_COLUMNS)))
    _to_daily_increments(daily)
    weeks = _iso_weeks(crop_dates)
    days = m * step / 86400.0
    results = []
    for g in range(n):
        summary = _summary(
            weather, strategies[g], configs[g], acc[g], crop[g], daily[g], weeks, stats[g],
            days, prices, physics_step_s,
        )  # fmt: skip
        results.append(
            SeasonResult(
                summary=summary,
                climate_time_s=times if record else None,
                climate=rec[g] if record else None,
                crop_dates=crop_dates,
                crop=daily[g],
                accounts={name: float(v) for name, v in zip(ACCOUNTS, acc[g], strict=True)},
            )
        )
    return results


def _crop_snapshot(crop: np.ndarray, fn: np.ndarray, fw: np.ndarray) -> np.ndarray:
    """Per greenhouse, CROP_COLUMNS at the end of a day (harvests still cumulative)."""
    column = {
        "lai": crop[:, C_LAI],
        "t24_c": crop[:, C_T24],
        "fruits_on_plant_m2": fn.sum(axis=1),
        "fruit_dm_on_plant_g_m2": (fn * fw).sum(axis=1),
        "leaf_dm_g_m2": crop[:, C_LEAF],
        "stem_dm_g_m2": crop[:, C_STEM],
        "supply_ratio": crop[:, C_SUPPLY24],
        "harvest_a_n_m2": crop[:, C_HARV_A_N],
        "harvest_a_kg_m2": crop[:, C_HARV_A_KG],
        "harvest_b_n_m2": crop[:, C_HARV_B_N],
        "harvest_b_kg_m2": crop[:, C_HARV_B_KG],
        "yield_kg_m2": crop[:, C_HARV_A_KG] + crop[:, C_HARV_B_KG],
    }
    return np.column_stack([column[name] for name in CROP_COLUMNS])


def _to_daily_increments(daily: np.ndarray) -> None:
    """Turn the cumulative harvest columns into per-day harvests, in place."""
    cumulative = daily[:, :, _HARVEST]
    daily[:, 1:, _HARVEST] = np.diff(cumulative, axis=1)


def _summary(weather, strategy, config, acc, crop, daily, weeks, stats, days, prices, dt_phys):
    a = dict(zip(ACCOUNTS, acc, strict=True))
    heat_kwh = a["heat_j"] / 3.6e6
    peak_kwh = a["lamp_peak_j"] / 3.6e6
    offpeak_kwh = a["lamp_offpeak_j"] / 3.6e6
    water = a["irrigation_l"] - a["drain_l"]
    yield_a = float(crop[C_HARV_A_KG])
    yield_b = float(crop[C_HARV_B_KG])
    fruits_a = float(crop[C_HARV_A_N])
    fruits_b = float(crop[C_HARV_B_N])
    stems = config["crop.stems_per_m2"]
    accounts = SeasonAccounts(
        days=days,
        harvest_week=weeks,
        fruits_a_per_m2=daily[:, _CROP_A_N],
        fruits_b_per_m2=daily[:, _CROP_B_N],
        yield_a_kg_m2=yield_a,
        yield_b_kg_m2=yield_b,
        heat_kwh_m2=heat_kwh,
        electricity_peak_kwh_m2=peak_kwh,
        electricity_offpeak_kwh_m2=offpeak_kwh,
        co2_kg_m2=a["co2_dosed_kg"],
        water_l_m2=water,
        stem_days_per_m2=stems * days,
        plants_per_m2=config["crop.plants_per_m2"],
    )
    money = season_economics(accounts, prices)
    fruits = fruits_a + fruits_b
    start = datetime.fromtimestamp(weather.time_s[0], UTC).astimezone(
        ZoneInfo(weather.site.timezone)
    )
    summary = {
        "start": start.isoformat(),
        "days": round(days, 3),
        "strategy": getattr(strategy, "name", type(strategy).__name__),
        "weather": weather.source,
        "yield_kg_m2": round(yield_a + yield_b, 3),
        "yield_class_a_kg_m2": round(yield_a, 3),
        "fruits_per_m2": round(fruits, 2),
        "fruits_class_a_per_m2": round(fruits_a, 2),
        "fruits_aborted_per_m2": round(float(crop[C_ABORTED]), 2),
        "mean_fruit_weight_kg": round((yield_a + yield_b) / fruits, 4) if fruits else 0.0,
        **money,
        "heat_kwh_m2": round(heat_kwh, 2),
        "electricity_kwh_m2": round(peak_kwh + offpeak_kwh, 2),
        "electricity_peak_kwh_m2": round(peak_kwh, 2),
        "electricity_offpeak_kwh_m2": round(offpeak_kwh, 2),
        "lamp_hours": round(a["lamp_on_s"] / 3600.0, 1),
        "co2_kg_m2": round(a["co2_dosed_kg"], 3),
        "water_l_m2": round(water, 1),
        "irrigation_l_m2": round(a["irrigation_l"], 1),
        "drain_l_m2": round(a["drain_l"], 1),
        "transpiration_l_m2": round(a["transpiration_l"], 1),
        "mean_tair_c": round(a["tair_c_s"] / a["time_s"], 2) if a["time_s"] else float("nan"),
        "mean_rh_pct": round(stats[0] / stats[2], 2) if stats[2] else float("nan"),
        "mean_co2_ppm": round(stats[1] / stats[2], 1) if stats[2] else float("nan"),
        "par_mol_m2": round(a["par_mol"], 1),
        "physics_step_s": dt_phys,
    }
    return {k: float(v) if isinstance(v, np.floating) else v for k, v in summary.items()}
