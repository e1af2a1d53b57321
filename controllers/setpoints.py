"""Setpoint vocabulary, allowed ranges, validation and replay schedules.

A setpoint table is a float64 array `[n, len(SETPOINTS)]` whose columns follow `SETPOINTS`, the
same names and order as the columns of a `--setpoints` replay file (ARCHITECTURE.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from controllers.schedule_csv import read_schedule_csv

SETPOINTS: tuple[str, ...] = (
    "heat_c",
    "vent_lee_c",
    "vent_wind_c",
    "vent_min_pct",
    "co2_ppm",
    "humidity_deficit_g_m3",
    "min_pipe_c",
    "lamps_pct",
    "screen_energy_pct",
    "screen_blackout_pct",
    "irrigation_interval_min",
)

#: Physically allowed range of every setpoint (inclusive). A value outside is a typo, not a choice.
SETPOINT_RANGES: dict[str, tuple[float, float]] = {
    "heat_c": (5.0, 35.0),
    "vent_lee_c": (5.0, 40.0),
    "vent_wind_c": (5.0, 45.0),
    "vent_min_pct": (0.0, 100.0),
    "co2_ppm": (0.0, 2000.0),
    "humidity_deficit_g_m3": (0.0, 15.0),
    "min_pipe_c": (0.0, 90.0),
    "lamps_pct": (0.0, 100.0),
    "screen_energy_pct": (0.0, 100.0),
    "screen_blackout_pct": (0.0, 100.0),
    "irrigation_interval_min": (0.0, 1440.0),
}

_UNITS = (("_pct", "%"), ("_ppm", "ppm"), ("_g_m3", "g/m3"), ("_min", "min"), ("_c", "C"))


class SetpointError(ValueError):
    """A setpoint name, value or file that cannot be used; the message says what is allowed."""


def setpoint_unit(name: str) -> str:
    """Return the unit of setpoint `name`, taken from the suffix of its canonical name."""
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def _fmt(x: float) -> str:
    return f"{x:g}"


def check_value(name: str, value: float, *, where: str) -> None:
    """Raise SetpointError unless `name` is a setpoint and `value` lies in its allowed range."""
    if name not in SETPOINT_RANGES:
        raise SetpointError(f"{where}: unknown setpoint {name!r}; allowed: {', '.join(SETPOINTS)}")
    lo, hi = SETPOINT_RANGES[name]
    if not (lo <= value <= hi):
        raise SetpointError(
            f"{where}: {name} = {_fmt(value)} is outside {_fmt(lo)}..{_fmt(hi)} "
            f"{setpoint_unit(name)}".rstrip()
        )


def validate_setpoints(
    table: np.ndarray,
    *,
    source: str,
    row_offset: int = 1,
    columns: tuple[str, ...] = SETPOINTS,
    allow_nan: bool = False,
) -> None:
    """Raise SetpointError for the first value of `table` outside its allowed range.

    `table` is `[rows, len(columns)]`; row `i` is reported as row `i + row_offset` of `source`
    (pass `row_offset=2` for a CSV file with a header line so the number is the file's line).
    NaN is an error unless `allow_nan` (then it means "not given in this row").
    """
    table = np.asarray(table, dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != len(columns):
        raise SetpointError(
            f"{source}: setpoint table has shape {table.shape}, expected (rows, {len(columns)})"
        )
    for j, name in enumerate(columns):
        lo, hi = SETPOINT_RANGES[name]
        col = table[:, j]
        nan = np.isnan(col)
        if nan.any() and not allow_nan:
            i = int(np.argmax(nan))
            raise SetpointError(
                f"{source} row {i + row_offset}: {name} is not a number; allowed "
                f"{_fmt(lo)}..{_fmt(hi)} {setpoint_unit(name)}".rstrip()
            )
        bad = ~nan & ((col < lo) | (col > hi))
        if bad.any():
            i = int(np.argmax(bad))
            check_value(name, float(col[i]), where=f"{source} row {i + row_offset}")


def load_setpoint_csv(path: str | Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Read a `--setpoints` replay file: `time` (ISO 8601 with offset) plus setpoint columns.

    Returns `(time_s, {column: values})` with `time_s` in UTC seconds (float64). An empty cell
    means "not set in this row" and is returned as NaN, so `apply_schedule` keeps the strategy's
    value there. Raises SetpointError (naming file, row and column) for unknown columns, a time
    without offset, times that do not increase, and values outside `SETPOINT_RANGES`.
    """
    units = {name: setpoint_unit(name) for name in SETPOINTS}
    return read_schedule_csv(path, SETPOINT_RANGES, SetpointError, units)


def apply_schedule(
    base: np.ndarray,
    times_s: np.ndarray,
    sched_times: np.ndarray,
    sched: dict[str, np.ndarray],
) -> np.ndarray:
    """Return a copy of `base` ([len(times_s), len(SETPOINTS)]) with scheduled columns replaced.

    Step-wise: a schedule row holds from its time until the next row. Before the first row,
    and where a scheduled value is NaN (empty cell), the base value stays.
    """
    out = np.array(base, dtype=np.float64, copy=True)
    times_s = np.asarray(times_s, dtype=np.float64)
    sched_times = np.asarray(sched_times, dtype=np.float64)
    if len(sched_times) == 0:
        return out
    idx = np.searchsorted(sched_times, times_s, side="right") - 1
    valid = idx >= 0
    idx_c = np.clip(idx, 0, None)
    for name, values in sched.items():
        if name not in SETPOINT_RANGES:
            raise SetpointError(f"unknown setpoint {name!r}; allowed: {', '.join(SETPOINTS)}")
        v = np.asarray(values, dtype=np.float64)[idx_c]
        use = valid & ~np.isnan(v)
        j = SETPOINTS.index(name)
        out[use, j] = v[use]
    return out
