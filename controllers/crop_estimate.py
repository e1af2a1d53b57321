"""The crop state a greenhouse does not measure, estimated from what its sensors do.

The learned strategy plans from the crop state (LAI, fruits and dry matter on the plant, days
since planting). A real or virtual greenhouse measures air temperature, PAR and CO2, not the
crop: `CropEstimate` runs the simulator's crop model (sim.crop) on those measurements from
planting on, as a soft sensor. It knows nothing the sensors did not see: an interval without
good readings is skipped, not guessed. `saved()` / `CropEstimate.restore` carry it across a
restart (the loop keeps it in the data of the learned strategy's plan events).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.constants import CH2O_PER_CO2, CO2_MG_PER_UMOL
from sim.crop import (
    C_LAI,
    C_LEAF,
    C_STEM,
    C_T24,
    CROP_STATES,
    N_COHORTS,
    crop_step,
    gross_assimilation_umol,
    init_crop,
)

#: Longest interval one reading stands for (s); a longer gap is integrated only this far.
MAX_STEP_S = 1800.0
_INPUTS = ("tair_c", "par_umol_m2_s", "co2_ppm")


class CropEstimate:
    """The crop model driven by measurements: `update` per reading, `state` for planning."""

    def __init__(self, params: np.ndarray, planted_s: float | None = None) -> None:
        self.p = np.ascontiguousarray(params, dtype=np.float64)
        self.crop = np.zeros(len(CROP_STATES))
        self.fr_n = np.zeros(N_COHORTS)
        self.fr_w = np.zeros(N_COHORTS)
        self.fr_s = np.zeros(N_COHORTS)
        init_crop(self.p, self.crop, self.fr_n, self.fr_w, self.fr_s)
        self.planted_s = planted_s
        self.last_s: float | None = None
        self.seen_s = 0.0  # plant seconds integrated from good readings

    def update(self, now_s: float, measurements: Mapping[str, float | None]) -> None:
        """Advance the crop to `now_s` on the readings of now (held since the last update)."""
        if self.planted_s is None:
            self.planted_s = now_s
        last, self.last_s = self.last_s, now_s
        if last is None or now_s <= last:
            return
        values = [measurements.get(name) for name in _INPUTS]
        if any(v is None or not math.isfinite(float(v)) for v in values):
            return
        tair, par, co2 = (float(v) for v in values)  # type: ignore[arg-type]
        dt = min(now_s - last, MAX_STEP_S)
        gross = gross_assimilation_umol(self.p, par, co2, tair, self.crop[C_LAI])
        assim_g = gross * CO2_MG_PER_UMOL * dt * CH2O_PER_CO2 / 1000.0
        crop_step(self.p, self.crop, self.fr_n, self.fr_w, self.fr_s, tair, assim_g, dt)
        self.seen_s += dt

    def state(self, now_s: float) -> dict[str, float]:
        """The crop state under the day table's names, with `day_index` (whole days planted)."""
        planted = now_s if self.planted_s is None else self.planted_s
        return {
            "day_index": float(math.floor(max(now_s - planted, 0.0) / 86400.0)),
            "lai": float(self.crop[C_LAI]),
            "fruits_on_plant_m2": float(self.fr_n.sum()),
            "fruit_dm_on_plant_g_m2": float((self.fr_n * self.fr_w).sum()),
            "leaf_dm_g_m2": float(self.crop[C_LEAF]),
            "stem_dm_g_m2": float(self.crop[C_STEM]),
            "t24_c": float(self.crop[C_T24]),
        }

    def saved(self) -> dict[str, Any]:
        """The whole estimate as JSON-able data (crop states and fruit cohorts)."""
        return {
            "planted_s": self.planted_s,
            "last_s": self.last_s,
            "seen_s": self.seen_s,
            "crop": [float(v) for v in self.crop],
            "fruit_n": [float(v) for v in self.fr_n],
            "fruit_w": [float(v) for v in self.fr_w],
            "fruit_stage": [float(v) for v in self.fr_s],
        }

    @classmethod
    def restore(cls, params: np.ndarray, saved: Mapping[str, Any]) -> CropEstimate | None:
        """The estimate `saved()` gave, or None when the data does not fit this crop model."""
        try:
            est = cls(params, None if saved["planted_s"] is None else float(saved["planted_s"]))
            arrays = [np.asarray(saved[k], dtype=np.float64) for k in
                      ("crop", "fruit_n", "fruit_w", "fruit_stage")]  # fmt: skip
            if [a.shape for a in arrays] != [(len(CROP_STATES),), *[(N_COHORTS,)] * 3]:
                return None
            if not all(np.isfinite(a).all() for a in arrays):
                return None
            est.crop[:], est.fr_n[:], est.fr_w[:], est.fr_s[:] = arrays
            est.seen_s = float(saved["seen_s"])
        except (KeyError, TypeError, ValueError):
            return None
        return est
