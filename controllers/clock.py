"""Clocks for the control loop: plant time derived from a wall clock, and a manual clock.

The loop ticks on a wall clock (`time.monotonic` in production) but plans and records in plant
time (UTC epoch seconds of the greenhouse). On a real greenhouse plant time is the wall clock's
UTC time; against the virtual greenhouse running at `speed` plant seconds per wall second it is
the plant's start time plus `speed` times the elapsed wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class PlantClock:
    """Plant time (UTC seconds) = `start_s` + `speed` x (clock() - clock at construction)."""

    def __init__(
        self,
        start_s: float | None = None,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed {speed!r} must be > 0 plant seconds per wall second")
        self.speed = float(speed)
        self.start_s = time.time() if start_s is None else float(start_s)
        self._clock = clock
        self._t0 = clock()

    def __call__(self) -> float:
        """Return the current plant time in UTC epoch seconds."""
        return self.start_s + (self._clock() - self._t0) * self.speed


class ManualClock:
    """Seconds that move only when `sleep` or `advance` is called: deterministic loops."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = float(t)

    def __call__(self) -> float:
        """Return the current time."""
        return self.t

    def advance(self, seconds: float) -> None:
        """Move the clock forward by `seconds` (negative values are ignored)."""
        self.t += max(0.0, float(seconds))

    def sleep(self, seconds: float) -> None:
        """Stand-in for time.sleep: advance instead of waiting."""
        self.advance(seconds)
