"""Place a logged daily CO2 dose over the day's steps (the open-loop replay's CO2 driver).

A climate computer logs how long its CO2 valve was open per day (the challenge's CO2_dosage is
those hours times the dosing capacity), not when. The replay doses each day's logged amount
where the compartment's own controller would have: in proportion to the valve of a climate
computer dosing to the logged CO2 setpoint in the same replay (`valve = k * controller valve`,
at most fully open, with `k` fixed per day so that the day's total equals the log). What that
valve cannot hold goes where the CO2 is below the setpoint in the light, in proportion to the
deficit, then in the dark, and then evenly over the rest of the day.
See docs/physics.md ("CO2 in open-loop replays").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class DosePlan:
    """Valve positions (%) per replay step, and per day what was logged and what fits."""

    valve_pct: np.ndarray  # NaN on days with no logged dose (the climate computer decides)
    dates: list[str]
    logged_kg_m2: list[float]  # the log's daily dose, times the share of the day replayed
    dark_hours: float  # valve-open hours placed in the dark (light did not hold the dose)
    short_kg_m2: float  # logged dose that did not fit even with the valve open all day


def fill(weight: np.ndarray, slots: float) -> np.ndarray:
    """Valve fractions `min(1, k * weight)` over steps with weight > 0 that sum to `slots`.

    `slots` is the valve-open time in whole steps; at or above the number of steps with a
    positive weight each of them is fully open. Weights under 1e-9 count as none.
    """
    w = np.nan_to_num(weight, nan=0.0)
    w = np.where(w > 1e-9, w, 0.0)
    pos = w > 0
    if slots >= pos.sum():
        return pos.astype(np.float64)
    if slots <= 0:
        return np.zeros(len(w))
    # water-filling: the j largest weights saturate, the rest share what is left in proportion
    desc = np.sort(w[pos])[::-1]
    tail = np.cumsum(desc[::-1])[::-1]  # sum of desc[j:]
    k = 0.0
    for j in range(len(desc)):
        k = (slots - j) / tail[j]
        if k * desc[j] <= 1.0:
            break
    return np.minimum(1.0, k * w)


def place_day(
    controller: np.ndarray, deficit: np.ndarray, lit: np.ndarray, slots: float
) -> np.ndarray:
    """Valve fractions (0..1) over one day's steps holding `slots` steps of open valve.

    In order, each only when the previous cannot hold the rest fully open: the steps the
    controller's valve (0..1) doses in, in proportion to it; lit steps with a deficit (ppm), in
    proportion to it; dark steps with a deficit; then the remaining steps evenly.
    """
    v = np.zeros(len(deficit))
    need = min(float(slots), float(len(deficit)))
    has_deficit = deficit > 0
    tiers = (
        (controller > 0, controller),
        (lit & has_deficit, deficit),
        (~lit & has_deficit, deficit),
    )
    for mask, weight in tiers:
        free = mask & (v == 0.0)
        n = int(free.sum())
        if need <= 1e-12 or n == 0:
            continue
        v[free] = fill(weight[free], min(need, float(n)))
        need -= float(v[free].sum())
    if need > 1e-12:
        rest = v == 0.0
        v[rest] = need / rest.sum()
    return v


def plan_dose(
    step_dates: np.ndarray,
    dates: list[str],
    kg_m2: np.ndarray,
    controller: np.ndarray,
    deficit_ppm: np.ndarray,
    lit: np.ndarray,
    capacity_kg_m2_h: float,
    step_s: float,
) -> DosePlan:
    """The valve schedule that doses each logged day's `kg_m2` over the replay steps.

    `step_dates` is each step's local date; `controller` the valve (0..1) of a climate computer
    dosing to the logged setpoint; `deficit_ppm` the logged CO2 setpoint minus the simulated CO2
    at each step; `lit` where the climate computer sees light. A day replayed only
    in part gets its share of the logged dose (by the share of its steps replayed).
    """
    valve = np.full(len(step_dates), np.nan)
    logged = dict(zip(dates, kg_m2, strict=True))
    per_step_kg = capacity_kg_m2_h * step_s / 3600.0
    steps_per_day = 86400.0 / step_s
    out_dates, out_kg = [], []
    dark = short = 0.0
    for day in dict.fromkeys(step_dates.tolist()):
        dose = logged.get(day, np.nan)
        if np.isnan(dose) or per_step_kg <= 0:
            continue
        idx = np.nonzero(step_dates == day)[0]
        target = dose * min(1.0, len(idx) / steps_per_day)
        slots = target / per_step_kg
        if slots > len(idx):
            short += (slots - len(idx)) * per_step_kg
        v = place_day(
            np.nan_to_num(controller[idx], nan=0.0),
            np.nan_to_num(deficit_ppm[idx], nan=0.0),
            lit[idx],
            slots,
        )
        valve[idx] = 100.0 * v
        dark += float(v[~lit[idx]].sum()) * step_s / 3600.0
        out_dates.append(day)
        out_kg.append(float(target))
    return DosePlan(valve, out_dates, out_kg, dark, short)
