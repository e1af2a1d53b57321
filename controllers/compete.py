"""The competition engine: compartments advanced in lockstep, one decision at a time.

Every team owns one simulated compartment; all share the weather. At each decision time the
engine asks every team for setpoints knowing only the past (its own sensor history, the weather
so far) and the forecast the competition allows, then the climate computer turns each team's
setpoints into actuator moves every weather step until the next decision, exactly as in a
whole season (`controllers.season`), whose compiled step kernel and summary this engine reuses.
Local teams are strategies (`controllers.strategy.Strategy`); a remote team's setpoints are
handed in from outside (`Lockstep.decide`), which is how the HTTP server plays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from controllers.climate_computer import ClimateComputerSettings
from controllers.climate_computer import new_state as new_cc_state
from controllers.season import (
    _CC_IRR_FLOW,
    _P_VALVE_FLOW,
    _STATS,
    CLIMATE_COLUMNS,
    CROP_COLUMNS,
    SeasonResult,
    _crop_snapshot,
    _iso_weeks,
    _run_steps,
    _summary,
    _to_daily_increments,
)
from controllers.setpoints import SETPOINT_RANGES, SETPOINTS
from controllers.strategy import Strategy, StrategyContext, make_context
from drivers.signals import ACTUATORS
from sim.config import GreenhouseConfig
from sim.economics import Prices, is_peak_hour
from sim.physics import WEATHER_INPUTS
from sim.plant import DEFAULT_PHYSICS_STEP_S, initial_states
from sim.weather import Weather

#: Sensor columns a team sees of its own compartment (a subset of the climate record).
SENSORS: tuple[str, ...] = (
    "tair_c",
    "rh_pct",
    "co2_ppm",
    "par_umol_m2_s",
    "pipe_c",
    "pipe_grow_c",
    *ACTUATORS,
)
_SENSOR_IDX = [CLIMATE_COLUMNS.index(name) for name in SENSORS]


class CompeteError(ValueError):
    """A competition that cannot run as asked; the message says what to change."""


@dataclass(frozen=True)
class ForecastRule:
    """What a team may know of the weather ahead: `hours` of perfect forecast, then nothing.

    Beyond the horizon a local strategy sees the last observed weather held (persistence).
    """

    hours: float = 0.0


class Lockstep:
    """n compartments on one weather, advanced decision by decision.

    `strategies[g]` is None for a team whose setpoints come from outside (remote); the others
    are asked in `plan_local`. Call `decide(setpoints)` once per decision until `finished`.
    """

    def __init__(
        self,
        weather: Weather,
        names: Sequence[str],
        strategies: Sequence[Strategy | None],
        config: GreenhouseConfig,
        prices: Prices,
        *,
        decision_s: float,
        forecast: ForecastRule | None = None,
        physics_step_s: float = DEFAULT_PHYSICS_STEP_S,
    ) -> None:
        step = float(weather.step_s)
        if decision_s < step or abs(decision_s / step - round(decision_s / step)) > 1e-9:
            raise CompeteError(
                f"decision interval {decision_s:g} s must be a whole number of weather steps "
                f"({step:g} s)"
            )
        if 86400.0 % decision_s:
            raise CompeteError(f"decision interval {decision_s:g} s must divide a day (86400 s)")
        if len(names) != len(strategies) or not names:
            raise CompeteError("give one strategy (or None for remote) per team, at least one")
        self.weather = weather
        self.names = list(names)
        self.strategies = list(strategies)
        self.config = config
        self.prices = prices
        self.forecast = forecast or ForecastRule()
        self.physics_step_s = physics_step_s
        self.step_s = step
        self.steps_per_decision = round(decision_s / step)
        self.decision_s = float(decision_s)
        n = len(names)
        self.times = np.asarray(weather.time_s, dtype=np.float64)
        m = len(self.times)
        self._w = np.ascontiguousarray(np.column_stack([weather[k] for k in WEATHER_INPUTS]))
        self._context = make_context(
            weather.site, self.times, {k: weather[k] for k in WEATHER_INPUTS}
        )
        self._local_hour = np.ascontiguousarray(self._context.local_hour)
        self._peak = np.ascontiguousarray(is_peak_hour(self._local_hour, prices))
        self._forced = np.full((self.steps_per_decision, len(ACTUATORS)), np.nan)
        self._params = np.stack([config.to_array()] * n)
        cc = [getattr(s, "settings", ClimateComputerSettings()) for s in strategies]
        self._cc_params = np.stack([c.to_array() for c in cc])
        self._cc_params[:, _CC_IRR_FLOW] = self._params[:, _P_VALVE_FLOW]
        self._cc_state = new_cc_state(n)
        self._x, self._crop, self._fn, self._fw, self._fs, self._acc = initial_states(
            n, self._w[0], self._params
        )
        self._stats = np.zeros((n, len(_STATS)))
        self._act = np.zeros((n, len(ACTUATORS)))  # positions carried from decision to decision
        self.climate = np.zeros((n, m, len(CLIMATE_COLUMNS)))
        #: Setpoints each team held per weather step (what its climate computer was given).
        self.setpoints = np.full((n, m, len(SETPOINTS)), np.nan)
        self._steps_per_day = max(1, round(86400.0 / step))
        self._crop_rows: list[np.ndarray] = []
        self._crop_dates: list[str] = []
        self.index = 0  # next weather step to simulate

    # --- what is known now -------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """True once every weather step of the season has been simulated."""
        return self.index >= len(self.times)

    @property
    def decision(self) -> int:
        """Number of the next decision (0-based)."""
        return self.index // self.steps_per_decision

    @property
    def n_decisions(self) -> int:
        """Decisions in the whole season."""
        return -(-len(self.times) // self.steps_per_decision)

    @property
    def now_s(self) -> float:
        """UTC time of the next decision (the end of the season once finished)."""
        if self.finished:
            return float(self.times[-1] + self.step_s)
        return float(self.times[self.index])

    def _span(self) -> tuple[int, int]:
        return self.index, min(self.index + self.steps_per_decision, len(self.times))

    def sensors(self, g: int, since_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Team `g`'s sensor history so far: (UTC times, rows of SENSORS), after `since_s`."""
        i0 = (
            0
            if since_s is None
            else int(np.searchsorted(self.times[: self.index], since_s, "right"))
        )
        return self.times[i0 : self.index], self.climate[g, i0 : self.index][:, _SENSOR_IDX]

    def latest(self, g: int) -> dict[str, float] | None:
        """Team `g`'s last sensor row as a dict (None before the first step)."""
        if self.index == 0:
            return None
        row = self.climate[g, self.index - 1]
        return {name: float(row[CLIMATE_COLUMNS.index(name)]) for name in SENSORS}

    def weather_so_far(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Observed weather up to now: (UTC times, canonical columns)."""
        return self.times[: self.index], {k: self.weather[k][: self.index] for k in WEATHER_INPUTS}

    def forecast_ahead(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The allowed forecast from now: the next `forecast.hours` of weather, as it will be."""
        i1 = min(len(self.times), self.index + round(self.forecast.hours * 3600.0 / self.step_s))
        return self.times[self.index : i1], {
            k: self.weather[k][self.index : i1] for k in WEATHER_INPUTS
        }

    def _planning_context(self, i0: int, i1: int, g: int) -> StrategyContext:
        horizon = self.index + round(self.forecast.hours * 3600.0 / self.step_s)
        weather = {}
        for k, v in self._context.weather.items():
            w = np.array(v[i0:i1], copy=True)
            # beyond the allowed horizon the strategy sees persistence, never the future
            last = v[self.index - 1] if self.index > 0 else v[0]
            cut = max(0, horizon - i0)
            w[cut:] = last
            weather[k] = w
        return StrategyContext(
            site=self.weather.site,
            local_hour=self._context.local_hour[i0:i1],
            sunrise_s=self._context.sunrise_s[i0:i1],
            sunset_s=self._context.sunset_s[i0:i1],
            weather=weather,
            state=self.latest(g),
        )

    # --- advancing ---------------------------------------------------------------------
    def plan_local(self) -> dict[int, np.ndarray]:
        """Ask every local strategy for its setpoints over the next decision interval."""
        i0, i1 = self._span()
        plans = {}
        for g, strategy in enumerate(self.strategies):
            if strategy is None:
                continue
            plan = np.asarray(
                strategy.setpoints(self.times[i0:i1], self._planning_context(i0, i1, g)),
                dtype=np.float64,
            )
            if plan.shape != (i1 - i0, len(SETPOINTS)):
                raise CompeteError(
                    f"team {self.names[g]}: strategy returned setpoints of shape {plan.shape}, "
                    f"expected {(i1 - i0, len(SETPOINTS))}"
                )
            plans[g] = plan
        return plans

    def decide(self, setpoints: dict[int, np.ndarray]) -> None:
        """Simulate the next decision interval with `setpoints[g]` for every team.

        A value is one row (held for the interval) or one row per weather step.
        """
        if self.finished:
            raise CompeteError("the season is over; no decision is left")
        missing = [self.names[g] for g in range(len(self.names)) if g not in setpoints]
        if missing:
            raise CompeteError(f"no setpoints for {', '.join(missing)}")
        i0, i1 = self._span()
        sp = np.empty((len(self.names), i1 - i0, len(SETPOINTS)))
        for g, rows in setpoints.items():
            sp[g] = np.broadcast_to(np.asarray(rows, dtype=np.float64), sp[g].shape)
        self.setpoints[:, i0:i1] = sp
        _run_steps(
            self._x, self._crop, self._fn, self._fw, self._fs, self._acc, self._params, sp,
            self._w[i0:i1], self._local_hour[i0:i1], self._peak[i0:i1], self._cc_params,
            self._cc_state, self._forced[: i1 - i0], self.step_s, self.physics_step_s, True,
            self.climate[:, i0:i1], self._stats, self._act,
        )  # fmt: skip
        self.index = i1
        if i1 % self._steps_per_day == 0 or i1 == len(self.times):
            day0 = self.times[max(0, i1 - self._steps_per_day)]
            local = datetime.fromtimestamp(float(day0), UTC).astimezone(self.weather.site.tz)
            self._crop_dates.append(local.date().isoformat())
            self._crop_rows.append(_crop_snapshot(self._crop, self._fn, self._fw))

    def step(self, remote: dict[int, np.ndarray] | None = None) -> None:
        """One decision: local strategies plan, `remote` gives the other teams' setpoints."""
        self.decide({**self.plan_local(), **(remote or {})})

    # --- results -----------------------------------------------------------------------
    def results(self) -> list[SeasonResult]:
        """One SeasonResult per team for the part of the season simulated so far."""
        m = self.index
        rows = list(self._crop_rows)
        dates = list(self._crop_dates)
        if m % self._steps_per_day and m < len(self.times):
            rows.append(_crop_snapshot(self._crop, self._fn, self._fw))
            day = datetime.fromtimestamp(float(self.times[m - 1]), UTC).astimezone(
                self.weather.site.tz
            )
            dates.append(day.date().isoformat())
        n = len(self.names)
        daily = np.stack(rows, axis=1) if rows else np.zeros((n, 0, len(CROP_COLUMNS)))
        _to_daily_increments(daily)
        weeks = _iso_weeks(dates)
        days = m * self.step_s / 86400.0
        out = []
        for g in range(n):
            strategy = self.strategies[g] or _Named(self.names[g])
            summary = _summary(
                self.weather, strategy, self.config, self._acc[g], self._crop[g], daily[g],
                weeks, self._stats[g], days, self.prices, self.physics_step_s,
            )  # fmt: skip
            summary["team"] = self.names[g]
            out.append(
                SeasonResult(
                    summary=summary,
                    climate_time_s=self.times[:m],
                    climate=self.climate[g, :m],
                    crop_dates=dates,
                    crop=daily[g],
                )
            )
        return out


@dataclass
class _Named:
    name: str


def clip_setpoints(plan: np.ndarray) -> np.ndarray:
    """A copy of `plan` ([rows, len(SETPOINTS)]) clipped to the allowed ranges."""
    out = np.array(plan, dtype=np.float64, copy=True)
    for j, name in enumerate(SETPOINTS):
        lo, hi = SETPOINT_RANGES[name]
        np.clip(out[:, j], lo, hi, out=out[:, j])
    return out
