"""Day periods: the way climate computers schedule setpoints over a day.

As the Priva, Hoogendoorn and Link4 documentation describes them, a day has several periods,
each starting at a clock time or at sunrise/sunset plus an offset. A period's values hold from
its start until the next period that sets the same name starts; at the start they ramp linearly
from the previous period's value over `ramp_min` minutes. Periods wrap around midnight: before
the first start of the day the last period of the previous day is still active.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from controllers.setpoints import SETPOINTS, SetpointError, check_value

START_REFS = ("sunrise", "sunset", "clock")


@dataclass(frozen=True)
class DayPeriod:
    """One period: starts at `start_ref` + `offset_min` and sets `values` (setpoint name -> value).

    For `start_ref="clock"` the offset is minutes after local midnight. Names a period does not
    set keep the value of the most recent period that does (or the defaults if none does).
    """

    start_ref: str
    offset_min: float
    ramp_min: float = 0.0
    values: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.start_ref not in START_REFS:
            raise SetpointError(
                f"day period start_ref {self.start_ref!r} is not one of {', '.join(START_REFS)}"
            )
        if not self.ramp_min >= 0:
            raise SetpointError(f"day period ramp_min = {self.ramp_min} must be >= 0")
        for name, v in self.values.items():
            check_value(name, float(v), where=f"day period {self.start_ref}{self.offset_min:+g}")


def _start_hours(
    p: DayPeriod, times_s: np.ndarray, local_hour: np.ndarray, sunrise_s, sunset_s
) -> np.ndarray:
    if p.start_ref == "clock":
        h = np.full(len(times_s), p.offset_min / 60.0)
    else:
        ref = sunrise_s if p.start_ref == "sunrise" else sunset_s
        h = local_hour + (np.asarray(ref, dtype=np.float64) - times_s) / 3600.0
        h = h + p.offset_min / 60.0
    return np.mod(h, 24.0)


def _defaults_array(defaults: Mapping[str, float] | np.ndarray) -> np.ndarray:
    if isinstance(defaults, Mapping):
        missing = [n for n in SETPOINTS if n not in defaults]
        unknown = [n for n in defaults if n not in SETPOINTS]
        if missing or unknown:
            raise SetpointError(
                f"day-period defaults: missing {missing}, unknown {unknown}; "
                f"expected exactly: {', '.join(SETPOINTS)}"
            )
        return np.array([float(defaults[n]) for n in SETPOINTS])
    arr = np.asarray(defaults, dtype=np.float64)
    if arr.shape != (len(SETPOINTS),):
        raise SetpointError(f"day-period defaults have shape {arr.shape}, expected (11,)")
    return arr


def setpoints_from_periods(
    periods: Sequence[DayPeriod],
    times_s: np.ndarray,
    local_hour: np.ndarray,
    sunrise_s: np.ndarray,
    sunset_s: np.ndarray,
    defaults: Mapping[str, float] | np.ndarray,
) -> np.ndarray:
    """Evaluate day periods at every time; returns `[len(times_s), len(SETPOINTS)]`.

    `local_hour` is the site-local clock hour (0..24) of each time, `sunrise_s`/`sunset_s` the
    UTC seconds of sunrise/sunset of that local day. Vectorised over time.
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    local_hour = np.asarray(local_hour, dtype=np.float64)
    n = len(times_s)
    out = np.tile(_defaults_array(defaults), (n, 1))
    if not periods or n == 0:
        return out
    starts = np.stack([_start_hours(p, times_s, local_hour, sunrise_s, sunset_s) for p in periods])
    # hours since each period last started (0 <= elapsed < 24)
    elapsed = np.mod(local_hour[None, :] - starts, 24.0)
    cols = np.arange(n)
    for j, name in enumerate(SETPOINTS):
        idx = [k for k, p in enumerate(periods) if name in p.values]
        if not idx:
            continue
        vals = np.array([float(periods[k].values[name]) for k in idx])
        ramps_h = np.array([periods[k].ramp_min / 60.0 for k in idx])
        el = elapsed[idx]
        order = np.argsort(el, axis=0, kind="stable")
        act = order[0]
        prev = order[1] if len(idx) > 1 else order[0]
        e_act = el[act, cols]
        r = ramps_h[act]
        frac = np.where(r > 0, np.clip(e_act / np.where(r > 0, r, 1.0), 0.0, 1.0), 1.0)
        out[:, j] = vals[prev] + (vals[act] - vals[prev]) * frac
    return out
