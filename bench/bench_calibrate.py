"""Calibration speed: 6 greenhouse parameters fitted to one 115-day logged compartment.

Runs `serra sim calibrate reference --fit <6 keys> --max-evals N` as a user would (a fresh
process: imports, kernels from the cache, the before/after replays and the TOML included) and
prints its wall time, the evaluations and the error before and after per signal. Target
(issue 10): under 5 minutes on the 2-core development machine.

    python bench/bench_calibrate.py [--max-evals 1000] [--workers 2] [--log reference]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIT = (
    "structure.cover_transmission",
    "structure.h_in_w_m2_k",
    "structure.h_rad_cover_w_m2_k",
    "ventilation.leakage_coefficient",
    "screens.energy_saving",
    "co2.dosing_capacity_kg_m2_h",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-evals", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--log", default="reference")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fitted.toml"
        cmd = [
            sys.executable, "-m", "app.cli", "sim", "calibrate", args.log, "--fit", ",".join(FIT),
            "--out", str(out), "--max-evals", str(args.max_evals), "--workers",
            str(args.workers), "--json",
        ]  # fmt: skip
        t0 = time.perf_counter()
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    report = json.loads(done.stdout)
    print(
        f"calibrate {args.log}, {len(FIT)} parameters, {report['days'][0]:.1f} days: "
        f"{wall:6.1f} s wall  target < 300 s  ({report['evaluations']} evaluations, "
        f"{report['generations']} generations, {args.workers} workers, optimiser "
        f"{report['elapsed_s']:.1f} s, {report['stop']})"
    )
    print(f"error before {report['objective_before']:.3f}, after {report['objective_after']:.3f}")
    for sig in report["rmse_before"][0]:
        print(
            f"  RMSE {sig:<8} before {report['rmse_before'][0][sig]:8.3f}   "
            f"after {report['rmse_after'][0][sig]:8.3f}"
        )
    for p in report["parameters"]:
        print(f"  {p['name']:<34} {p['start']:>10.4g} -> {p['fitted']:>10.4g}")


if __name__ == "__main__":
    main()
