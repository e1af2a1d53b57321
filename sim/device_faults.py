"""Fault injection for the virtual device: what a bad RS-485 line does to replies.

Every reply draws from one seeded random stream, so a test with a given seed sees the same
sequence of faults on every run. Counts of injected faults are kept for comparison with the
master's health counters.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultConfig:
    """Probabilities per reply, the delay of a slow reply, and disconnect windows.

    `disconnect` holds (start_s, end_s) windows in device-clock seconds since the device started;
    inside a window the device is gone (pty: silent; TCP: connection closed and refused).
    """

    crc_p: float = 0.0
    drop_p: float = 0.0
    slow_p: float = 0.0
    slow_s: float = 0.5
    garbage_p: float = 0.0
    wrong_slave_p: float = 0.0
    disconnect: tuple[tuple[float, float], ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("crc_p", "drop_p", "slow_p", "garbage_p", "wrong_slave_p"):
            p = getattr(self, name)
            if not (math.isfinite(p) and 0.0 <= p <= 1.0):
                raise ValueError(f"fault probability {name}={p!r} must be within 0..1")
        total = self.crc_p + self.drop_p + self.slow_p + self.garbage_p + self.wrong_slave_p
        if total > 1.0:
            raise ValueError(f"fault probabilities add up to {total:g}; at most 1 per reply")
        if not (math.isfinite(self.slow_s) and self.slow_s >= 0.0):
            raise ValueError(f"slow_s={self.slow_s!r} must be a non-negative number of seconds")
        for start, end in self.disconnect:
            if not 0.0 <= start < end:
                raise ValueError(f"disconnect window {start}:{end} must have 0 <= start < end")


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one reply."""

    drop: bool = False
    crc: bool = False
    slow_s: float = 0.0
    garbage: bytes = b""
    wrong_slave: bool = False


class FaultInjector:
    """Draws a FaultPlan per reply and counts what it injected."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)
        self.counts: Counter[str] = Counter()

    def disconnected(self, elapsed_s: float) -> bool:
        """Whether `elapsed_s` (device seconds since start) lies in a disconnect window."""
        return any(start <= elapsed_s < end for start, end in self.config.disconnect)

    def plan(self) -> FaultPlan:
        """Draw the faults of the next reply (at most one kind, in a fixed order)."""
        c = self.config
        r = self._rng.random()
        edges = (
            ("drop", c.drop_p),
            ("crc", c.crc_p),
            ("slow", c.slow_p),
            ("garbage", c.garbage_p),
            ("wrong_slave", c.wrong_slave_p),
        )
        acc = 0.0
        for kind, p in edges:
            acc += p
            if r < acc:
                self.counts[kind] += 1
                if kind == "drop":
                    return FaultPlan(drop=True)
                if kind == "crc":
                    return FaultPlan(crc=True)
                if kind == "slow":
                    return FaultPlan(slow_s=c.slow_s)
                if kind == "garbage":
                    n = self._rng.randint(1, 6)
                    return FaultPlan(garbage=bytes(self._rng.randrange(256) for _ in range(n)))
                return FaultPlan(wrong_slave=True)
        return FaultPlan()
