"""Climate computer step: one call for 1,000 greenhouses and for one (Python-to-numba dispatch).

Run: .venv/bin/python bench/bench_climate_computer.py

Best of 20 calls after a warm-up call (compile or cache load). Targets: under 1 ms for 1,000
greenhouses, under 20 us for one (moved here from tests/controllers/test_climate_computer.py:
wall-clock figures are not asserted in tests).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from controllers.climate_computer import (
    ClimateComputerSettings,
    climate_computer_step,
    new_state,
)
from controllers.setpoints import SETPOINTS
from drivers.signals import ACTUATORS, MEASUREMENTS

TARGET_1000_S = 1e-3
TARGET_1_S = 20e-6


def best_of(n: int, fn) -> float:
    """Shortest of `n` timed calls of `fn`."""
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    """Print both figures against their targets."""
    settings = ClimateComputerSettings()
    n = 1000
    sp = np.full((n, len(SETPOINTS)), 0.0)
    sp[:, SETPOINTS.index("heat_c")] = 19.0
    sp[:, SETPOINTS.index("lamps_pct")] = 100.0
    m = np.full((n, len(MEASUREMENTS)), 0.0)
    m[:, MEASUREMENTS.index("tair_c")] = 18.0
    m[:, MEASUREMENTS.index("rh_pct")] = 70.0
    m[:, MEASUREMENTS.index("iglob_w_m2")] = 20.0
    params = np.tile(settings.to_array(), (n, 1))
    st, out = new_state(n), np.zeros((n, len(ACTUATORS)))
    climate_computer_step(sp, m, 3.0, 60.0, params, st, out)  # compile or load from cache
    many = best_of(20, lambda: climate_computer_step(sp, m, 3.0, 60.0, params, st, out))
    s1, m1, p1, st1, o1 = sp[:1], m[:1], params[:1], st[:1].copy(), out[:1].copy()
    one = best_of(20, lambda: climate_computer_step(s1, m1, 3.0, 60.0, p1, st1, o1))
    ok = many < TARGET_1000_S and one < TARGET_1_S
    print(f"1,000 greenhouses, one call: {many * 1e3:.3f} ms (target < {TARGET_1000_S * 1e3:g} ms)")
    print(f"one greenhouse, one call: {one * 1e6:.1f} us (target < {TARGET_1_S * 1e6:g} us)")
    print(f"targets {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
