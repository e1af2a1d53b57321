"""Compile the simulator's and the climate computer's kernels in a child process, once.

numba compiles a kernel the first time it is called, holding the interpreter lock for long
stretches while LLVM works. Done in the app's own process on the first start (a new machine, a
new Serra version), that held the window up for 100-230 ms at a time (bench/soak_app.py). So when
the kernel cache (sim.jit) has not been filled yet, the session first fills it in a child process
(`python -m app.kernel_warmup`), and then only loads the machine code from disk.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numba
import numpy as np

import sim.jit  # noqa: F401  (sets numba's cache directory before anything compiles)

MARKER = "warmed"  # written into the cache directory once every kernel below is in it
TIMEOUT_S = 900.0


class WarmupError(RuntimeError):
    """The child process could not compile the kernels."""


def cache_dir() -> Path:
    """The kernel cache directory in use (one per source fingerprint, see sim.jit)."""
    return Path(numba.config.CACHE_DIR)  # type: ignore[attr-defined]


def kernels_warm() -> bool:
    """True when a child process has already compiled every kernel into the cache."""
    return (cache_dir() / MARKER).is_file()


def warm_kernels() -> None:
    """Compile (or load) the kernels the app calls, as the session and its loop call them."""
    from controllers.climate_computer import ClimateComputerSettings, climate_computer_step
    from controllers.climate_computer import new_state as new_computer_state
    from controllers.setpoints import SETPOINTS
    from drivers.signals import ACTUATORS, MEASUREMENTS
    from sim.plant import Plant
    from sim.weather import default_weather

    plant = Plant(weather=default_weather())
    plant.advance(1.0)
    plant.measurements()
    climate_computer_step(
        np.full((1, len(SETPOINTS)), np.nan),
        np.full((1, len(MEASUREMENTS)), np.nan),
        12.0,
        60.0,
        np.ascontiguousarray(ClimateComputerSettings().to_array()[None, :]),
        new_computer_state(1),
        np.zeros((1, len(ACTUATORS))),
    )
    (cache_dir() / MARKER).write_text("")


def warm_kernels_in_child(timeout_s: float = TIMEOUT_S) -> None:
    """Fill the kernel cache from a child process unless it is filled already.

    Raises WarmupError with the child's last error line when it fails.
    """
    if kernels_warm():
        return
    done = subprocess.run(
        [sys.executable, "-m", "app.kernel_warmup"],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if done.returncode != 0 or not kernels_warm():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise WarmupError(f"compiling the simulator failed: {last}")


if __name__ == "__main__":
    warm_kernels()
