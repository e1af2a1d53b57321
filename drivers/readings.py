"""What the poller hands out: values with time and quality, and per-node health."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Quality(StrEnum):
    """How far a value can be trusted.

    good: read in the latest attempts and younger than the age limit.
    stale: a last good value exists, but N consecutive reads failed or it is older than the limit.
    bad: never read, or the last read was refused by the node or gave a value outside the
    signal's physical range; failed reads since then do not make it good again.
    """

    GOOD = "good"
    STALE = "stale"
    BAD = "bad"


@dataclass(frozen=True)
class Reading:
    """One signal as last read: value (None if never read), unit, quality, time of the read."""

    signal: str
    node: str
    value: float | None
    unit: str
    quality: Quality
    timestamp: float | None

    def age(self, now: float) -> float | None:
        """Seconds since the value was read, or None if it never was."""
        return None if self.timestamp is None else now - self.timestamp

    def as_dict(self, now: float) -> dict[str, object]:
        """Plain JSON-ready form: value, unit, quality, age_s, node, timestamp."""
        age = self.age(now)
        return {
            "value": self.value,
            "unit": self.unit,
            "quality": self.quality.value,
            "age_s": None if age is None else round(age, 3),
            "node": self.node,
            "timestamp": self.timestamp,
        }


@dataclass
class NodeHealth:
    """Counters of one node's transactions (each attempt counts, retries included)."""

    slave: int
    ok: int = 0
    timeouts: int = 0
    crc_errors: int = 0
    wrong_slave: int = 0
    exceptions: int = 0
    port_errors: int = 0
    consecutive_failures: int = 0
    last_latency_s: float | None = None
    max_latency_s: float = 0.0
    total_latency_s: float = 0.0
    last_good: float | None = None
    last_error: str = ""
    #: The identity check (maps with an [identity]) failed: another device answers at this
    #: address. Its readings are bad and nothing is written to it until a check passes.
    wrong_device: bool = False
    #: What the last identity check read, e.g. "model code 21317 (expected 21317)".
    identity: str = ""
    identity_checks: int = 0

    @property
    def mean_latency_s(self) -> float | None:
        """Mean round-trip time of the successful transactions."""
        return self.total_latency_s / self.ok if self.ok else None

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form of the counters."""
        return {
            "slave": self.slave,
            "ok": self.ok,
            "timeouts": self.timeouts,
            "crc_errors": self.crc_errors,
            "wrong_slave": self.wrong_slave,
            "exceptions": self.exceptions,
            "port_errors": self.port_errors,
            "consecutive_failures": self.consecutive_failures,
            "last_latency_s": self.last_latency_s,
            "mean_latency_s": self.mean_latency_s,
            "max_latency_s": self.max_latency_s,
            "last_good": self.last_good,
            "last_error": self.last_error,
            "wrong_device": self.wrong_device,
            "identity": self.identity,
            "identity_checks": self.identity_checks,
        }
