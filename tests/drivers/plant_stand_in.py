"""A tiny plant with the API of sim.plant.Plant and fixed, distinct values, for exact tests."""

from __future__ import annotations

from collections.abc import Mapping

from drivers.signals import ACTUATORS

FIXED = {
    "tair_c": 21.5,
    "rh_pct": 68.25,
    "co2_ppm": 812.0,
    "par_umol_m2_s": 345.6,
    "tout_c": -3.25,
    "rhout_pct": 91.5,
    "iglob_w_m2": 123.456,
    "wind_m_s": 4.56,
    "wind_dir_deg": 270.5,
    "rain": 1.0,
    "hd_g_m3": 3.0,
    "heat_w_m2": 50.0,
}


class StandInPlant:
    """Constant climate; the pipe water follows its setpoint at once (air temperature if off)."""

    def __init__(self, config=None, weather=None, start=None) -> None:
        self.time_s = 1514764800.0 if start is None else float(start)
        self._act = dict.fromkeys(ACTUATORS, 0.0)
        self.advanced_s = 0.0
        self.steps = 0

    def apply(self, actuators: Mapping[str, float]) -> None:
        """Set commands; unknown names raise like the real plant."""
        for name, value in actuators.items():
            if name not in self._act:
                raise ValueError(f"unknown actuator {name!r}")
            self._act[name] = float(value)

    def actuators(self) -> dict[str, float]:
        """The commands in force."""
        return dict(self._act)

    def advance(self, seconds: float) -> None:
        """Move plant time on."""
        self.time_s += seconds
        self.advanced_s += seconds
        self.steps += 1

    def measurements(self) -> dict[str, float]:
        """Fixed climate plus pipe temperatures from the setpoints."""
        out = dict(FIXED)
        out["pipe_c"] = max(self._act["pipe_sp_c"], FIXED["tair_c"])
        out["pipe_grow_c"] = max(self._act["pipe_grow_sp_c"], FIXED["tair_c"])
        return out
