"""Agreement of a simulated series with a measured one: RMSE, bias, R2, bias by month and hour.

Bias is simulated minus measured (negative = the simulation reads low). R2 is the coefficient of
determination of the measured series: 1 - sum((sim - meas)^2) / sum((meas - mean(meas))^2), so a
simulation that only matches the mean scores 0 and a worse one scores below 0. Pairs where
either side is NaN are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Agreement:
    """How well one simulated signal follows its measurement."""

    n: int
    rmse: float
    bias: float
    r2: float
    measured_mean: float
    simulated_mean: float
    bias_by_month: dict[str, float] = field(default_factory=dict)
    bias_by_hour: dict[int, float] = field(default_factory=dict)

    def to_dict(self, digits: int = 3) -> dict:
        """JSON-ready figures, rounded to `digits`; NaN becomes None."""

        def r(x: float) -> float | None:
            return None if math.isnan(x) else round(float(x), digits)

        return {
            "n": self.n,
            "rmse": r(self.rmse),
            "bias": r(self.bias),
            "r2": r(self.r2),
            "measured_mean": r(self.measured_mean),
            "simulated_mean": r(self.simulated_mean),
            "bias_by_month": {k: r(v) for k, v in self.bias_by_month.items()},
            "bias_by_hour": {str(k): r(v) for k, v in self.bias_by_hour.items()},
        }


def agreement(
    measured: np.ndarray,
    simulated: np.ndarray,
    months: np.ndarray | None = None,
    hours: np.ndarray | None = None,
) -> Agreement:
    """Compare `simulated` with `measured` (same length); `months` ("YYYY-MM") and `hours`
    (local hour 0..23) per sample give the grouped biases."""
    m = np.asarray(measured, dtype=np.float64)
    s = np.asarray(simulated, dtype=np.float64)
    if m.shape != s.shape:
        raise ValueError(f"measured {m.shape} and simulated {s.shape} differ in length")
    ok = ~(np.isnan(m) | np.isnan(s))
    n = int(ok.sum())
    if n == 0:
        nan = float("nan")
        return Agreement(0, nan, nan, nan, nan, nan)
    err = s[ok] - m[ok]
    sst = float(np.sum((m[ok] - m[ok].mean()) ** 2))
    r2 = 1.0 - float(np.sum(err**2)) / sst if sst > 0 else float("nan")
    out = Agreement(
        n,
        float(np.sqrt(np.mean(err**2))),
        float(err.mean()),
        r2,
        float(m[ok].mean()),
        float(s[ok].mean()),
    )
    if months is not None:
        mo = np.asarray(months)[ok]
        out.bias_by_month = {str(k): float(err[mo == k].mean()) for k in sorted(set(mo.tolist()))}
    if hours is not None:
        h = np.asarray(hours).astype(int)[ok]
        out.bias_by_hour = {int(k): float(err[h == k].mean()) for k in sorted(set(h.tolist()))}
    return out
