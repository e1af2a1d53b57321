"""Fit on two compartments, check on the third: the three AGC 2018 compartments, whole seasons.

Runs `serra sim cross-check reference igrow croperators --fit <uncertain parameters>` as a user
would (a fresh process) and prints its table (rotation, fitted on, checked on, held-out error
before -> after, RMSE per signal, the values each rotation fitted) and the wall time. The
parameters are those the physics docs leave uncertain for a Venlo glasshouse: leakage, screen
permeability, cover-sky heat transfer, the share of solar heat to the air, pipe emissivity.

    python bench/bench_cross_check.py [--max-evals 300] [--workers 2] [--mode actuators]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

FIT = (
    "ventilation.leakage_coefficient",
    "screens.screen_permeability_m3_m2_s_k",
    "structure.h_rad_cover_w_m2_k",
    "structure.sun_to_air_fraction",
    "heating.pipe_emissivity",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-evals", type=int, default=300, help="per rotation")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mode", default="actuators")
    args = parser.parse_args()
    cmd = [
        sys.executable, "-m", "app.cli", "sim", "cross-check", "reference", "igrow",
        "croperators", "--fit", ",".join(FIT), "--max-evals", str(args.max_evals),
        "--workers", str(args.workers), "--mode", args.mode,
    ]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    sys.stdout.write(done.stdout)
    print(
        f"cross-check, 3 rotations of {len(FIT)} parameters, {args.max_evals} candidate seasons "
        f"each, {args.workers} workers: {wall:.1f} s wall"
    )


if __name__ == "__main__":
    main()
