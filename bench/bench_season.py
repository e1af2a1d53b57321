"""Season-runner speed: one 115-day AGC season and a sweep of 256 seasons.

Prints the compile time of the kernels (a fresh cache), the load time with a warm cache, the
wall time of one season with grower rules (median of 5), and a 256-season sweep over worker
processes. Targets (issue 2): a season under 2 s, the sweep under 30 s on 2 cores.

    python bench/bench_season.py [--sweep-n 256] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

_CHILD = """
import time
t0 = time.perf_counter()
from controllers.grower_rules import GrowerRules
from controllers.season import run_season
from sim.weather import default_weather
w = default_weather().window("2018-08-14", 115)
t1 = time.perf_counter()
run_season(w, GrowerRules(), record=False)
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
"""


def _first_season(cache_dir: str) -> tuple[float, float]:
    env = dict(os.environ, SERRA_NUMBA_CACHE=cache_dir)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep-n", type=int, default=256)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cache:
        imports, cold = _first_season(cache)
        _, warm = _first_season(cache)
    print(f"imports and weather load:            {imports:6.2f} s")
    print(f"first season, kernels compiled:      {cold:6.2f} s  (once per install/upgrade)")
    print(f"first season, kernels from cache:    {warm:6.2f} s  (every new process)")

    from controllers.grower_rules import GrowerRules
    from controllers.season import run_season
    from controllers.sweep import Vary, design, run_sweep
    from sim.config import load_config
    from sim.weather import default_weather

    weather = default_weather().window("2018-08-14", 115)
    run_season(weather, GrowerRules(), record=False)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        summary = run_season(weather, GrowerRules(), record=False)[0].summary
        times.append(time.perf_counter() - t0)
    season = statistics.median(times)
    print(
        f"one 115-day season (median of 5):    {season:6.3f} s  target < 2 s  "
        f"({summary['yield_kg_m2']} kg/m2, {summary['heat_kwh_m2']} kWh/m2 heat)"
    )
    t0 = time.perf_counter()
    run_season(weather, GrowerRules(), record=True)
    print(f"same, with the 5-min climate record: {time.perf_counter() - t0:6.3f} s")

    varies = [Vary("heat_c", 18.0, 23.0), Vary("co2_ppm", 600.0, 1200.0)]
    values = design(varies, args.sweep_n, seed=1)
    t0 = time.perf_counter()
    rows = run_sweep(weather, varies, values, load_config(), workers=args.workers)
    sweep = time.perf_counter() - t0
    print(
        f"sweep of {len(rows)} seasons, {args.workers} workers: {sweep:6.2f} s  target < 30 s  "
        f"({sweep / len(rows) * 1000:.0f} ms per season)"
    )
    # GreenLight 2.0.5, the open reference model, needs 15-19 s of wall time per simulated day
    # on this kind of machine (ARCHITECTURE.md): about 1,700-2,200 s for 115 days.
    print(f"speed-up over GreenLight (15 s per simulated day): {115 * 15 / season:,.0f}x")


if __name__ == "__main__":
    main()
