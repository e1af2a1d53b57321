"""On a first start the kernels compile in a child process; the app's process only loads them.

numba holds the interpreter lock while it compiles; in the app's process that froze the window
for 100-230 ms at a time on a first start. Each test runs in fresh processes on an empty kernel
cache (SERRA_NUMBA_CACHE), as on a new machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LOAD_IN_THIS_PROCESS = """
from app.kernel_warmup import kernels_warm, warm_kernels
from controllers.climate_computer import climate_computer_step
from sim.plant import advance_greenhouse, humidity_deficit_g_m3, read_sensors
assert kernels_warm()
warm_kernels()
kernels = [climate_computer_step, advance_greenhouse, read_sensors, humidity_deficit_g_m3]
print(sum(sum(k.stats.cache_misses.values()) for k in kernels),
      sum(sum(k.stats.cache_hits.values()) for k in kernels))
"""


def _python(code: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SERRA_NUMBA_CACHE": str(cache)}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_a_child_fills_the_cache_and_the_app_then_compiles_nothing(tmp_path):
    cache = tmp_path / "kernels"
    first = _python(
        "from app.kernel_warmup import kernels_warm, warm_kernels_in_child\n"
        "before = kernels_warm()\n"
        "warm_kernels_in_child()\n"
        "print(before, kernels_warm())",
        cache,
    )
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.split() == ["False", "True"]

    loaded = _python(LOAD_IN_THIS_PROCESS, cache)
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    misses, hits = (int(x) for x in loaded.stdout.split())
    assert misses == 0  # nothing compiled in the app's process
    assert hits == 4  # the climate computer, the plant's step and its sensors: from the cache
