"""Replay a logged compartment through the simulator and measure how well it follows the log.

Open loop (`actuators`): the logged water temperatures of both heating circuits, both vents,
both screens and the lamps are forced as logged; CO2 is dosed as logged: each day's logged dose
(the challenge's daily CO2_dosage) placed where the simulated CO2 falls below the logged
setpoint (controllers/co2_dose.py); without a daily dose the logged CO2 valve is forced, else
the climate computer doses to the compartment's own logged CO2 setpoint. Closed
loop (`setpoints`): the logged setpoints go through the climate computer, which drives heating,
vents and CO2; lamps and screens, for which a climate computer logs no setpoint, stay as logged.

A logged climate computer writes 0 for an idle heating circuit; a forced water temperature at or
below air temperature switches that circuit off in the plant, so the 0 is replayed as it is. For
the comparison, an idle circuit (0 logged) is taken at air temperature on both sides. Columns
never logged are replaced by `DEFAULTS` (actuators) or the grower rules' value (setpoints), and
named in the report.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from controllers.co2_dose import DosePlan, plan_dose
from controllers.grower_rules import GrowerRules
from controllers.replay_log import MEASURED, ReplayLog, merge_columns
from controllers.replay_metrics import Agreement, agreement
from controllers.season import CLIMATE_COLUMNS, CROP_COLUMNS, SeasonResult, run_season
from controllers.setpoints import SETPOINT_RANGES, SETPOINTS
from sim.config import GreenhouseConfig, load_config
from sim.plant import DEFAULT_PHYSICS_STEP_S
from sim.weather import Weather

MODES = ("actuators", "setpoints")
#: Forced columns of the open loop (actuator-replay names) and their default if never logged.
DEFAULTS: dict[str, float] = {
    "pipe_c": 0.0,  # circuit off
    "pipe_grow_c": 0.0,  # circuit off
    "vent_lee_pct": 0.0,  # closed
    "vent_wind_pct": 0.0,  # closed
    "screen_energy_pct": 0.0,  # open (not drawn)
    "screen_blackout_pct": 0.0,  # open (not drawn)
    "lamps_pct": 0.0,  # off
}
#: A CO2 "vent setpoint" above any setpoint: the climate computer never lowers the setpoint
_NO_VENT_REDUCTION = 1e6
_CLOSED_LOOP_FORCED = ("screen_energy_pct", "screen_blackout_pct", "lamps_pct")
#: Setpoints whose logged 0 C means "no limit from this setpoint" (vents may always open).
_ZERO_ALLOWED = ("vent_lee_c", "vent_wind_c")
LABELS: dict[str, str] = {
    "tair_c": "air temperature (C)",
    "rh_pct": "relative humidity (%)",
    "co2_ppm": "CO2 (ppm)",
    "pipe_c": "lower pipe (C)",
    "pipe_grow_c": "grow pipe (C)",
    "harvest_kg_m2": "cumulative harvest (kg/m2)",
}


class ReplayError(ValueError):
    """A replay that cannot run as asked; the message is one line saying what to fix."""


@dataclass
class ReplayReport:
    """Measured against simulated, per signal, over one replayed period."""

    log: str
    mode: str
    weather: str
    start: str
    end: str
    days: float
    signals: dict[str, Agreement]
    never_logged: dict[str, str]
    drove_gaps: dict[str, float]  # forced column -> hours the climate computer decided instead
    notes: list[str]
    time_s: np.ndarray
    paired: dict[str, np.ndarray]  # measured_<signal>, simulated_<signal>
    harvest: dict | None = None
    summary: dict = field(default_factory=dict)
    #: daily cumulative harvest where compared: local dates, measured and simulated kg/m2
    harvest_daily: dict[str, list] | None = None
    #: what drove CO2 dosing, and the dosed CO2 (season kg/m2; daily where a dose was logged)
    co2: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready report (paired series left out)."""
        return {
            "log": self.log,
            "mode": self.mode,
            "weather": self.weather,
            "start": self.start,
            "end": self.end,
            "days": round(self.days, 3),
            "signals": {k: v.to_dict() for k, v in self.signals.items()},
            "harvest": self.harvest,
            "never_logged": self.never_logged,
            "climate_computer_hours": {k: round(v, 1) for k, v in self.drove_gaps.items()},
            "co2_driver": self.co2.get("driver"),
            "co2_dosed_kg_m2": {
                k: self.co2[k] for k in ("logged", "simulated", "dark_hours") if k in self.co2
            },
            "notes": self.notes,
        }


def _local(t: float, weather: Weather) -> datetime:
    return datetime.fromtimestamp(t, UTC).astimezone(weather.site.tz)


def _span(log: ReplayLog) -> tuple[float, float]:
    """First and last time at which any measured signal was logged."""
    has = np.zeros(len(log.time_s), dtype=bool)
    for k in MEASURED:
        if k in log.values:
            has |= ~np.isnan(log.values[k])
    if not has.any():
        raise ReplayError(
            f"{log.name}: no measured climate in any row (tair_c, rh_pct, co2_ppm, pipes); "
            "nothing to compare"
        )
    idx = np.nonzero(has)[0]
    return float(log.time_s[idx[0]]), float(log.time_s[idx[-1]])


def replay_window(
    log: ReplayLog, weather: Weather, start: str | None = None, days: float | None = None
) -> Weather:
    """The weather rows the replay simulates: the log's span (or `start`/`days` inside it)."""
    if len(log.time_s) == 0:
        raise ReplayError(f"{log.name}: no data rows; nothing to replay")
    t0, t1 = _span(log)
    fmt = "%Y-%m-%d %H:%M"
    covers = f"{_local(t0, weather):{fmt}} .. {_local(t1, weather):{fmt}}"
    w0, w1 = float(weather.time_s[0]), float(weather.time_s[-1])
    if start is not None:
        s = weather.start_utc(start)
        lo = s
        hi = s + days * 86400.0 if days is not None else max(t1, s)
        if hi <= t0 or lo > t1:
            raise ReplayError(
                f"{log.name} covers {covers}; the period from {_local(lo, weather):{fmt}} holds "
                "none of it; give a --start inside the log"
            )
        t0 = max(t0, lo)
        t1 = min(t1, hi - weather.step_s)
    elif days is not None:
        t1 = min(t1, t0 + days * 86400.0 - weather.step_s)
    if t1 < w0 or t0 > w1:
        raise ReplayError(
            f"{log.name} covers {covers}, the weather ({weather.source}) "
            f"{weather.local_range()}: no hour in common; give --weather for the log's period"
        )
    t0, t1 = max(t0, w0), min(t1, w1)
    i0 = int(np.searchsorted(weather.time_s, t0 - 1e-6))
    i1 = int(np.searchsorted(weather.time_s, t1 + 1e-6, side="right"))
    if i1 - i0 < 2:
        raise ReplayError(f"{log.name}: the replayed period holds fewer than two weather steps")
    return weather.window(
        _local(float(weather.time_s[i0]), weather), (i1 - i0) * weather.step_s / 86400.0
    )


def _checked_setpoints(log: ReplayLog) -> dict[str, np.ndarray]:
    out = {}
    for name, values in log.setpoints().items():
        lo, hi = SETPOINT_RANGES[name]
        v = values.copy()
        bad = ~np.isnan(v) & ((v < lo) | (v > hi))
        if name in _ZERO_ALLOWED:
            bad &= v != 0.0
        if bad.any():
            i = int(np.argmax(bad))
            when = datetime.fromtimestamp(float(log.time_s[i]), UTC).isoformat()
            raise ReplayError(
                f"{log.name}: setpoint {name} = {v[i]:g} at {when} is outside {lo:g}..{hi:g}; "
                "a climate computer cannot hold it"
            )
        out[name] = v
    return out


#: A schedule for the season runner: log times (UTC s) and one array per name on those times.
Schedule = tuple[np.ndarray, dict[str, np.ndarray]]


def replay_schedules(
    log: ReplayLog, mode: str, never: dict[str, str]
) -> tuple[Schedule | None, Schedule]:
    """The setpoint and actuator schedules a replay of `log` in `mode` hands the season runner.

    Returns (setpoint schedule or None when no setpoint is logged, forced-actuator schedule):
    in `actuators` mode the logged positions and water temperatures (with `DEFAULTS` for the
    never-logged ones) and the CO2 setpoint; in `setpoints` mode all logged setpoints, with
    lamps and screens forced. Each column replaced by a default or left to the climate computer
    is added to `never` (name -> what drives it instead). Setpoints a climate computer could not
    hold raise ReplayError.
    """
    setpoints = _checked_setpoints(log)
    for name in SETPOINTS:
        if name in _CLOSED_LOOP_FORCED:
            continue  # lamps and screens are forced as logged in both modes
        if name not in setpoints and (mode == "setpoints" or name == "co2_ppm"):
            never[f"sp.{name}"] = "grower rules' setpoint"
    if mode == "actuators":
        forced_names = list(DEFAULTS)
        sp = {"co2_ppm": setpoints["co2_ppm"]} if "co2_ppm" in setpoints else {}
        if "co2_ppm" not in setpoints and "co2_valve_pct" in log.values:
            forced_names.append("co2_valve_pct")
            never.pop("sp.co2_ppm", None)
        # fogging is forced when logged; the AGC logs lack it although the compartments had it
        # (turning it off made the replayed air 5-8 % RH drier in November than the logged)
        if "fog_pct" in log.values:
            forced_names.append("fog_pct")
        else:
            never["fog_pct"] = "climate computer (grower rules' fogging settings)"
    else:
        forced_names = list(_CLOSED_LOOP_FORCED)
        sp = setpoints
    forced = {}
    for name in forced_names:
        if name in log.values:
            forced[name] = log.values[name]
        else:
            forced[name] = np.full(len(log.time_s), DEFAULTS[name])
            never[name] = (
                f"{DEFAULTS[name]:g} ({'off' if name.startswith('pipe') else 'closed/off'})"
            )
    sp_schedule = (log.time_s, sp) if sp else None
    return sp_schedule, (log.time_s, forced)


def on_grid(log_t: np.ndarray, values: np.ndarray, grid: np.ndarray, step: float) -> np.ndarray:
    """Logged `values` (at times `log_t`, sorted) at the `grid` times, as a replay pairs them.

    Each grid time takes the nearest logged sample when it lies within half a `step` (s), else
    NaN: a gap in the log stays a gap, it is not interpolated.
    """
    out = np.full(len(grid), np.nan)
    if len(log_t) == 0:
        return out
    idx = np.clip(np.searchsorted(log_t, grid), 1, len(log_t) - 1) if len(log_t) > 1 else None
    if idx is None:
        near = np.zeros(len(grid), dtype=int)
    else:
        left = idx - 1
        near = np.where(np.abs(log_t[left] - grid) <= np.abs(log_t[idx] - grid), left, idx)
    ok = np.abs(log_t[near] - grid) <= step / 2 + 1e-6
    out[ok] = values[near[ok]]
    return out


def _gap_hours(forced: dict[str, np.ndarray], log_t, grid, step) -> dict[str, float]:
    out = {}
    for name, v in forced.items():
        logged = on_grid(log_t, v, grid, step)
        # before the first and after the last log row the computer decides as well
        hours = float(np.isnan(logged).sum()) * step / 3600.0
        if hours > 0:
            out[name] = hours
    return out


def _snapshot_dates(result: SeasonResult, tz) -> list[str]:
    """Local date each daily crop snapshot belongs to: the day in which its chunk ends.

    The season runner takes a snapshot every 24 h from the start; after a daylight-saving change
    those fall at 23:xx, so the chunk's own start date would label them a day early.
    """
    t = np.asarray(result.climate_time_s)
    step = float(t[1] - t[0]) if len(t) > 1 else 300.0
    per_day = max(1, round(86400.0 / step))
    ends = [float(t[min(i + per_day, len(t)) - 1]) + step for i in range(0, len(t), per_day)]
    return [
        datetime.fromtimestamp(e - 43200.0, UTC).astimezone(tz).date().isoformat() for e in ends
    ]


def _harvest(
    log: ReplayLog, result: SeasonResult, start_day: str, tz, daily_out: dict | None = None
) -> dict | None:
    """The harvest comparison; `daily_out` receives the day-by-day pairs (dates, kg/m2)."""
    h = log.harvest
    if h is None or result.crop is None or not len(h.dates):
        return None
    if start_day > h.dates[0] and (
        datetime.fromisoformat(start_day) - datetime.fromisoformat(h.dates[0])
    ) > timedelta(days=1):
        return {"compared": False, "why": "the replay starts after planting (the log's first day)"}
    daily = {name: result.crop[:, CROP_COLUMNS.index(name)] for name in CROP_COLUMNS}
    sim_cum = np.cumsum(daily["harvest_a_kg_m2"] + daily["harvest_b_kg_m2"])
    sim_fruits = np.cumsum(daily["harvest_a_n_m2"] + daily["harvest_b_n_m2"])
    by_date = {d: i for i, d in enumerate(h.dates)}
    meas, sim, meas_n, sim_n, dates = [], [], [], [], []
    for i, d in enumerate(_snapshot_dates(result, tz)):
        if d in by_date:
            dates.append(d)
            meas.append(h.yield_kg_m2[by_date[d]])
            meas_n.append(h.fruits_m2[by_date[d]])
            sim.append(sim_cum[i])
            sim_n.append(sim_fruits[i])
    if not meas:
        return None
    if daily_out is not None:
        daily_out.update(
            dates=dates,
            measured_kg_m2=[float(x) for x in meas],
            simulated_kg_m2=[float(x) for x in sim],
        )
    curve = agreement(np.array(meas), np.array(sim))
    return {
        "compared": True,
        "measured_kg_m2": round(float(meas[-1]), 3),
        "simulated_kg_m2": round(float(sim[-1]), 3),
        "measured_fruits_m2": None if math.isnan(meas_n[-1]) else round(float(meas_n[-1]), 1),
        "simulated_fruits_m2": round(float(sim_n[-1]), 1),
        "curve": curve.to_dict(),
    }


def with_valve(schedule: Schedule, grid: np.ndarray, valve_pct: np.ndarray) -> Schedule:
    """`schedule` with the CO2 valve forced to `valve_pct` at the `grid` times (NaN: free).

    Both go onto the union of their times step-wise, so each keeps its own forcing.
    """
    log_t, columns = schedule
    t = np.union1d(log_t, grid)
    forced = merge_columns(t, {}, log_t, {k: v for k, v in columns.items() if k != "co2_valve_pct"})
    forced.update(merge_columns(t, {}, grid, {"co2_valve_pct": valve_pct}))
    return t, forced


def plan_logged_dose(
    log: ReplayLog,
    window: Weather,
    sp_schedule: Schedule | None,
    act_schedule: Schedule,
    config: GreenhouseConfig | None,
    physics_step_s: float = DEFAULT_PHYSICS_STEP_S,
) -> DosePlan:
    """Where each logged day's CO2 dose goes over the replay `window` (open loop).

    A pilot run of the replay's schedules has the climate computer dose to the logged setpoint:
    its valve is where the compartment's controller doses. The deficit (logged CO2 setpoint
    minus the pilot's CO2; without a logged setpoint every step alike) and the light the climate
    computer doses in (outside radiation over its co2_min_w_m2, or lamps on) place what the
    pilot's valve cannot hold (controllers/co2_dose.py).
    """
    assert log.co2_dose is not None
    # the compartment's controller: the climate computer dosing to the logged setpoint
    # without lowering it as the vents open (the logged compartments did not)
    strategy = GrowerRules()
    strategy.name = "replay-co2-pilot"
    strategy.settings = replace(strategy.settings, co2_vent_ppm=_NO_VENT_REDUCTION)
    pilot = run_season(
        window,
        strategy,
        config,
        setpoint_schedule=sp_schedule,
        actuator_schedule=act_schedule,
        physics_step_s=physics_step_s,
        record=True,
    )[0]
    assert pilot.climate is not None
    grid = np.asarray(window.time_s)
    clim = pilot.climate
    co2_sp = log.setpoints().get("co2_ppm")
    if co2_sp is None:
        deficit = np.ones(len(grid))
    else:
        sp = merge_columns(grid, {}, log.time_s, {"sp": co2_sp})["sp"]
        deficit = sp - clim[:, CLIMATE_COLUMNS.index("co2_ppm")]
    lit = (clim[:, CLIMATE_COLUMNS.index("iglob_w_m2")] >= strategy.settings.co2_min_w_m2) | (
        clim[:, CLIMATE_COLUMNS.index("lamps_pct")] > 0.0
    )
    dates = np.array([_local(float(t), window).date().isoformat() for t in grid])
    dose = log.co2_dose
    return plan_dose(
        dates,
        dose.dates,
        dose.kg_m2,
        clim[:, CLIMATE_COLUMNS.index("co2_valve_pct")] / 100.0,
        deficit,
        lit,
        _capacity(config),
        float(window.step_s),
    )


def _capacity(config: GreenhouseConfig | None) -> float:
    return (config or load_config())["co2.dosing_capacity_kg_m2_h"]


def _co2_account(
    log: ReplayLog, mode: str, plan: DosePlan | None, result: SeasonResult, window: Weather,
    capacity: float,
) -> dict:  # fmt: skip
    """What drove the CO2 dosing, and the dosed CO2 simulated (and logged, where it was)."""
    simulated = round(float(result.summary["co2_kg_m2"]), 3)
    if plan is not None:
        assert log.co2_dose is not None and result.climate is not None
        step = float(window.step_s)
        valve = result.climate[:, CLIMATE_COLUMNS.index("co2_valve_pct")]
        dates = np.array([_local(float(t), window).date().isoformat() for t in window.time_s])
        hours = {d: float(valve[dates == d].sum()) / 100.0 * step / 3600.0 for d in plan.dates}
        driver = (
            f"daily CO2 dose as logged ({log.co2_dose.source}), placed where a climate computer "
            "dosing to the logged setpoint opens its valve"
        )
        out = {
            "driver": driver,
            "logged": round(sum(plan.logged_kg_m2), 3),
            "simulated": simulated,
            "dark_hours": round(plan.dark_hours, 1),
            "daily": {
                "dates": plan.dates,
                "logged_kg_m2": plan.logged_kg_m2,
                "valve_open_h": [round(hours[d], 3) for d in plan.dates],
                "simulated_kg_m2": [hours[d] * capacity for d in plan.dates],
            },
        }
        if plan.short_kg_m2 > 0:
            out["short_kg_m2"] = round(plan.short_kg_m2, 3)
        return out
    if mode == "setpoints":
        driver = "climate computer to the logged CO2 setpoint (closed loop)"
    elif "co2_valve_pct" in log.values and "co2_ppm" not in log.setpoints():
        driver = "logged CO2 valve (no daily CO2 dose in the log)"
    elif "co2_ppm" in log.setpoints():
        driver = "climate computer to the logged CO2 setpoint (no daily CO2 dose in the log)"
    else:
        driver = "climate computer to the grower rules' CO2 setpoint (no daily CO2 dose logged)"
    return {"driver": driver, "simulated": simulated}


def comparable(name: str, values: np.ndarray, tair: np.ndarray) -> np.ndarray:
    """`values` of signal `name` as a replay compares them, given the air temperature `tair`.

    A heating circuit's water temperature (`pipe_c`, `pipe_grow_c`) at or below the air (an idle
    circuit, 0 as logged) is taken at air temperature; NaN stays NaN; other signals unchanged.
    """
    if name in ("pipe_c", "pipe_grow_c"):
        return np.where(np.isnan(values), np.nan, np.fmax(values, tair))
    return values


def replay(
    log: ReplayLog,
    weather: Weather,
    *,
    mode: str = "actuators",
    config: GreenhouseConfig | None = None,
    start: str | None = None,
    days: float | None = None,
    physics_step_s: float = DEFAULT_PHYSICS_STEP_S,
    progress: Callable[[float], None] | None = None,
    dose_plan: DosePlan | None = None,
) -> tuple[ReplayReport, SeasonResult]:
    """Simulate the logged period of `log` over `weather` and compare with what was measured.

    `progress(fraction)` is called after each simulated day (for a GUI's progress bar). An open
    loop with a logged daily CO2 dose doses `dose_plan` when given (a calibration places the dose
    once), else places it with `plan_logged_dose`.
    """
    if mode not in MODES:
        raise ReplayError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    window = replay_window(log, weather, start, days)
    never: dict[str, str] = {}
    sp_schedule, act_schedule = replay_schedules(log, mode, never)
    if mode == "setpoints" and not log.setpoints():
        raise ReplayError(
            f"{log.name}: no setpoints logged; a closed-loop replay needs them (sp.heat_c, ...): "
            "use --mode actuators or give --setpoints"
        )
    strategy = GrowerRules()
    strategy.name = f"replay-{mode}"

    grid = np.asarray(window.time_s)
    step = float(window.step_s)
    gaps = _gap_hours(act_schedule[1], log.time_s, grid, step)
    plan = None
    if mode == "actuators" and log.co2_dose is not None:
        plan = dose_plan or plan_logged_dose(
            log, window, sp_schedule, act_schedule, config, physics_step_s
        )
        act_schedule = with_valve(act_schedule, grid, plan.valve_pct)
        undosed = float(np.isnan(plan.valve_pct).sum()) * step / 3600.0
        if undosed > 0:
            gaps["co2_valve_pct"] = undosed
    result = run_season(
        window,
        strategy,
        config,
        setpoint_schedule=sp_schedule,
        actuator_schedule=act_schedule,
        physics_step_s=physics_step_s,
        record=True,
        progress=progress,
    )[0]
    assert result.climate is not None  # record=True
    local = [_local(float(t), window) for t in grid]
    months = np.array([f"{d:%Y-%m}" for d in local])
    hours = np.array([d.hour for d in local])
    sim_tair = result.climate[:, CLIMATE_COLUMNS.index("tair_c")]
    meas_tair = on_grid(
        log.time_s, log.values.get("tair_c", np.full(len(log.time_s), np.nan)), grid, step
    )
    signals, paired = {}, {}
    for name in MEASURED:
        sim = comparable(name, result.climate[:, CLIMATE_COLUMNS.index(name)], sim_tair)
        if name not in log.values:
            never.setdefault(name, "not compared")
            continue
        meas = comparable(name, on_grid(log.time_s, log.values[name], grid, step), meas_tair)
        paired[f"measured_{name}"] = meas
        paired[f"simulated_{name}"] = sim
        signals[name] = agreement(meas, sim, months, hours)
    daily: dict = {}
    harvest = _harvest(log, result, local[0].date().isoformat(), window.site.tz, daily)
    notes = list(log.notes)
    if log.weather_path is None:
        notes.append(f"weather: {window.source} (the log has no outdoor weather)")
    report = ReplayReport(
        log=log.name,
        mode=mode,
        weather=window.source,
        start=local[0].isoformat(timespec="minutes"),
        end=(local[-1] + timedelta(seconds=step)).isoformat(timespec="minutes"),
        days=len(grid) * step / 86400.0,
        signals=signals,
        never_logged=never,
        drove_gaps=gaps,
        notes=notes,
        time_s=grid,
        paired=paired,
        harvest=harvest,
        summary=result.summary,
        harvest_daily=daily or None,
        co2=_co2_account(log, mode, plan, result, window, _capacity(config)),
    )
    return report, result
