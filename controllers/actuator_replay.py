"""`--actuators` replay files: force actuator positions from logged data (open loop).

Columns use the logged names of ARCHITECTURE.md: `pipe_c` and `pipe_grow_c` are the logged water
temperatures (forced as the circuits' setpoints; at or below air temperature a circuit is off),
the others are the actuator positions in %.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from controllers.schedule_csv import read_schedule_csv

#: Allowed columns of an actuator replay file and their ranges.
ACTUATOR_COLUMNS: dict[str, tuple[float, float]] = {
    "pipe_c": (0.0, 110.0),
    "pipe_grow_c": (0.0, 110.0),
    "vent_lee_pct": (0.0, 100.0),
    "vent_wind_pct": (0.0, 100.0),
    "screen_energy_pct": (0.0, 100.0),
    "screen_blackout_pct": (0.0, 100.0),
    "lamps_pct": (0.0, 100.0),
    "co2_valve_pct": (0.0, 100.0),
    "fog_pct": (0.0, 100.0),
    "irrigation_pct": (0.0, 100.0),
}
_UNITS = {name: "C" if name.endswith("_c") else "%" for name in ACTUATOR_COLUMNS}


class ActuatorReplayError(ValueError):
    """An actuator replay file that cannot be used."""


def load_actuator_csv(path: str | Path) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Read an actuator replay file: `(time_s, {column: values})`, NaN where a cell is empty."""
    return read_schedule_csv(path, ACTUATOR_COLUMNS, ActuatorReplayError, _UNITS)
