"""Weather forecasts for strategies that must not see the simulator's future.

The season runner hands a strategy with a `forecaster` only what the forecaster makes of the past
(and, for the noisy forecast, of the day's real weather with errors added): never the day itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _fit_length(values: np.ndarray, n: int) -> np.ndarray:
    """`values` cut or repeated (from its start) to `n` rows."""
    if len(values) == 0:
        return np.zeros(n)
    reps = -(-n // len(values))
    return np.tile(values, reps)[:n].astype(np.float64)


@dataclass
class PersistenceForecast:
    """Tomorrow's weather is today's: yesterday's rows, repeated. Reads no future at all."""

    uses_truth: bool = False

    def forecast(
        self, past: dict[str, np.ndarray] | None, truth: dict[str, np.ndarray] | None, n: int
    ) -> dict[str, np.ndarray]:
        """Yesterday's weather fitted to `n` rows; empty on the first day (nothing seen yet)."""
        if not past:
            return {}
        return {k: _fit_length(np.asarray(v), n) for k, v in past.items()}


@dataclass
class NoisyForecast:
    """The day's real weather with forecast errors: outside temperature +- `tout_sd_c` (one
    offset per day) and radiation scaled by a factor of sd `iglob_rel_sd`, from a seeded RNG."""

    tout_sd_c: float = 1.5
    iglob_rel_sd: float = 0.25
    seed: int = 0
    uses_truth: bool = True

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def forecast(
        self, past: dict[str, np.ndarray] | None, truth: dict[str, np.ndarray] | None, n: int
    ) -> dict[str, np.ndarray]:
        """The truth with this day's errors added (radiation never below zero)."""
        if not truth:
            return {}
        out = {k: np.array(v, dtype=np.float64) for k, v in truth.items()}
        if "tout_c" in out:
            out["tout_c"] += self._rng.normal(0.0, self.tout_sd_c)
        if "iglob_w_m2" in out:
            out["iglob_w_m2"] *= max(0.0, 1.0 + self._rng.normal(0.0, self.iglob_rel_sd))
        return out


def make_forecaster(kind: str, seed: int = 0) -> PersistenceForecast | NoisyForecast:
    """`persistence` or `noisy`; ValueError naming both otherwise."""
    if kind == "persistence":
        return PersistenceForecast()
    if kind == "noisy":
        return NoisyForecast(seed=seed)
    raise ValueError(f"forecast {kind!r} is not known; use persistence or noisy")
