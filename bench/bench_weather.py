"""Loading the shipped AGC 2018 season weather (gaps filled), page cache warm.

Run: .venv/bin/python bench/bench_weather.py

Best of 5 loads after a warm-up load. Target 0.3 s (moved here from tests/sim/test_weather.py:
wall-clock figures are not asserted in tests).
"""

from __future__ import annotations

import sys
import time

from sim.weather import DEFAULT_WEATHER_FILE, load_weather

TARGET_S = 0.3


def main() -> int:
    """Print the best load time against the target."""
    load_weather(DEFAULT_WEATHER_FILE, fill_gaps=True)  # warm the page cache and imports
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        load_weather(DEFAULT_WEATHER_FILE, fill_gaps=True)
        times.append(time.perf_counter() - t0)
    ok = min(times) < TARGET_S
    print(f"season weather load: best {min(times):.3f} s, worst {max(times):.3f} s "
          f"(target < {TARGET_S:g} s: {'met' if ok else 'MISSED'})")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
