"""A day's setpoint plan as seven numbers a grower recognises, and the setpoints it stands for.

The plan sets heating by day and by night, the vent margin above heating, the daytime CO2, lamp
hours (lamps burn from 18:00 minus the hours until 18:00, local), how far the energy screen may
close, and the irrigation interval. Everything else (humidity deficit, minimum pipe, blackout
screen) follows the grower rules. Random plans (datasets) and the learned strategy share this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from controllers.grower_rules import GrowerRules
from controllers.setpoints import SETPOINT_RANGES, SETPOINTS
from controllers.strategy import StrategyContext
from models.features import PLAN_FEATURES

#: Bounds a grower allows per plan value (inclusive), in PLAN_FEATURES order.
PLAN_BOUNDS: dict[str, tuple[float, float]] = {
    "plan_heat_day_c": (17.0, 24.0),
    "plan_heat_night_c": (15.0, 21.0),
    "plan_vent_offset_c": (0.5, 5.0),
    "plan_co2_day_ppm": (400.0, 1200.0),
    "plan_lamp_hours_h": (0.0, 16.0),
    "plan_screen_energy_max_pct": (0.0, 100.0),
    "plan_irrigation_interval_min": (10.0, 60.0),
}
LAMPS_OFF_HOUR = 18.0
_J = {name: SETPOINTS.index(name) for name in SETPOINTS}


def plan_array(plan: dict[str, float]) -> np.ndarray:
    """The plan as an array in PLAN_FEATURES order."""
    return np.array([float(plan[name]) for name in PLAN_FEATURES])


def clip_plan(plan: np.ndarray, bounds: dict[str, tuple[float, float]] = PLAN_BOUNDS) -> np.ndarray:
    """`plan` clipped into `bounds`."""
    lo = np.array([bounds[n][0] for n in PLAN_FEATURES])
    hi = np.array([bounds[n][1] for n in PLAN_FEATURES])
    return np.clip(plan, lo, hi)


def grower_plan(base: GrowerRules | None = None) -> np.ndarray:
    """The plan closest to the grower rules (day 20.5, night 18.5, margin 2, CO2 900, 16 h)."""
    return np.array([20.5, 18.5, 2.0, 900.0, 16.0, 100.0, 20.0])


def grower_anchor(base_setpoints: np.ndarray, step_s: float) -> np.ndarray:
    """Today's plan closest to what the grower rules do: `grower_plan` with the lamp hours the
    rules allow today (none before 1 September; the fixed 16 h plan burns 1.4 EUR/m2 of August
    electricity over 60 days of the 2018 weather for 0.3 kg/m2 more fruit)."""
    plan = grower_plan()
    lamp_h = float(np.count_nonzero(base_setpoints[:, _J["lamps_pct"]] > 0.0)) * step_s / 3600.0
    plan[PLAN_FEATURES.index("plan_lamp_hours_h")] = min(16.0, lamp_h)
    return plan


def plan_setpoints(
    plan: np.ndarray,
    times_s: np.ndarray,
    context: StrategyContext,
    base: GrowerRules,
    base_setpoints: np.ndarray | None = None,
) -> np.ndarray:
    """`[len(times_s), len(SETPOINTS)]` setpoints for one day's `plan` (PLAN_FEATURES order).

    `base_setpoints` (the grower rules' setpoints for these times) saves recomputing them when
    many plans share a day.
    """
    heat_day, heat_night, margin, co2, lamp_h, screen, irrigation = (float(v) for v in plan)
    out = (
        base.setpoints(times_s, context)
        if base_setpoints is None
        else np.array(base_setpoints, dtype=np.float64, copy=True)
    )
    t = np.asarray(times_s, dtype=np.float64)
    day = (t >= context.sunrise_s + 3600.0) & (t < context.sunset_s)
    heat = np.where(day, heat_day, heat_night)
    out[:, _J["heat_c"]] = heat
    out[:, _J["vent_lee_c"]] = heat + margin
    out[:, _J["vent_wind_c"]] = heat + margin + 1.0
    out[:, _J["co2_ppm"]] = np.where(day, co2, np.minimum(co2, 800.0))
    lh = np.asarray(context.local_hour, dtype=np.float64)
    lamps = (lh >= LAMPS_OFF_HOUR - lamp_h) & (lh < LAMPS_OFF_HOUR) & (lamp_h > 0.0)
    out[:, _J["lamps_pct"]] = np.where(lamps, 100.0, 0.0)
    out[:, _J["screen_energy_pct"]] = screen
    out[:, _J["irrigation_interval_min"]] = irrigation
    for j, name in enumerate(SETPOINTS):
        lo, hi = SETPOINT_RANGES[name]
        np.clip(out[:, j], lo, hi, out=out[:, j])
    return out


@dataclass
class RandomPlanStrategy:
    """Draws a fresh plan within `PLAN_BOUNDS` every day from a seeded RNG (dataset seasons).

    Each season has its own centre plan (uniform within the bounds); each day's plan scatters
    around it (sd `spread` of each range), so seasons reach crop states as far apart as steady
    policies do, and days still vary. The plans drawn are kept in `plans`, one per day.
    """

    seed: int = 0
    base: GrowerRules = field(default_factory=GrowerRules)
    name: str = "random-plan"
    spread: float = 0.2
    plans: list[np.ndarray] = field(default_factory=list)
    #: Shared between the strategies of one batch: the grower base of a day, by first time.
    base_cache: dict[float, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self.settings = self.base.settings
        self._lo = np.array([PLAN_BOUNDS[n][0] for n in PLAN_FEATURES])
        self._hi = np.array([PLAN_BOUNDS[n][1] for n in PLAN_FEATURES])
        self._centre = self._lo + self._rng.random(len(self._lo)) * (self._hi - self._lo)

    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        """This day's random plan as setpoints."""
        width = self._hi - self._lo
        plan = np.clip(
            self._centre + self._rng.normal(0.0, self.spread, len(width)) * width,
            self._lo,
            self._hi,
        )
        plan[1] = min(plan[1], plan[0])  # nights no warmer than days, as growers keep them
        self.plans.append(plan)
        key = float(times_s[0])
        if key not in self.base_cache:
            self.base_cache.clear()  # one day at a time
            self.base_cache[key] = self.base.setpoints(times_s, context)
        return plan_setpoints(plan, times_s, context, self.base, self.base_cache[key])
