"""An example team plugin for `serra compete`: grower rules with a warmer night and more CO2.

A plugin file defines `make_strategy(seed)` returning an object with a `name` and
`setpoints(times_s, context) -> [len(times_s), 11]` (controllers/strategy.py). It is asked at
every decision for the next interval, knowing only the past (`context.state` holds the latest
sensor row) and the forecast the competition allows (`context.weather`).
"""

from __future__ import annotations

import numpy as np

from controllers.grower_rules import GrowerRules
from controllers.setpoints import SETPOINTS


class WarmNights:
    """Grower rules, +`night_k` C heating at night and a CO2 setpoint `co2_ppm` by day."""

    def __init__(self, seed: int, night_k: float = 1.0, co2_ppm: float = 900.0) -> None:
        rng = np.random.default_rng(seed)  # a seeded choice: same seed, same team
        self.name = "warm-nights"
        self.base = GrowerRules()
        self.settings = self.base.settings
        self.night_k = night_k + float(rng.uniform(0.0, 0.5))
        self.co2_ppm = co2_ppm

    def setpoints(self, times_s: np.ndarray, context) -> np.ndarray:
        """Grower rules' setpoints, warmer at night, CO2 raised in daylight."""
        out = self.base.setpoints(times_s, context)
        night = (context.local_hour < 6.0) | (context.local_hour >= 20.0)
        out[night, SETPOINTS.index("heat_c")] += self.night_k
        out[~night, SETPOINTS.index("co2_ppm")] = self.co2_ppm
        return out


def make_strategy(seed: int) -> WarmNights:
    """The team's strategy for a competition with this seed."""
    return WarmNights(seed)
