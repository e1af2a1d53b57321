"""What the control loop hands to its recorder, and the recorder protocol.

`controllers` never imports `store`: the store implements `Recorder` structurally (same method
names, reading these records by attribute), and `app` wires the two together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class TickRecord:
    """Everything the loop knew and did on one tick.

    `measurements` by canonical signal name (drivers.signals), with `quality` per name
    ("good", "stale" or "bad"); `setpoints` by controllers.setpoints.SETPOINTS name; `commands`
    written and `readbacks` read back by drivers.signals.ACTUATORS name; `health` a flat dict of
    bus/node health numbers; `mode` "normal" or "failsafe".
    """

    time_s: float
    measurements: dict[str, float]
    quality: dict[str, str]
    setpoints: dict[str, float]
    commands: dict[str, float]
    readbacks: dict[str, float]
    health: dict[str, float] = field(default_factory=dict)
    mode: str = "normal"


#: Event kinds of the append-only log.
EVENT_KINDS: tuple[str, ...] = (
    "alarm_raised",
    "alarm_acknowledged",
    "alarm_cleared",
    "setpoint_change",
    "override_set",
    "override_ended",
    "strategy_decision",
    "strategy_fallback",
    "model_promotion",
    "config_change",
    "loop_started",
    "loop_stopped",
    "sim_started",
)


@dataclass(frozen=True)
class Event:
    """One entry of the event log: what happened, who did it and why, with structured data."""

    time_s: float
    kind: str
    source: str
    message: str
    who: str = "serra"
    data: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Recorder(Protocol):
    """Where the control loop's records go (implemented by store.recorder.SqliteRecorder)."""

    @property
    def dropped_ticks(self) -> int:
        """Ticks given up so far (not recorded, e.g. a full queue during a disk-full spell)."""
        ...

    def record_tick(self, record: TickRecord) -> None:
        """Queue one tick; durable after the next commit (at most one tick may be lost)."""
        ...

    def record_event(self, event: Event) -> None:
        """Append one event; durable on return."""
        ...

    def restore(self) -> dict[str, Any] | None:
        """What a restarted loop resumes from: {"setpoints": {...}, "overrides": [...]} or None.

        Each override is {"actuator", "value", "until_s", "who", "why"}; only overrides not yet
        expired at the last record are returned.
        """
        ...

    def flush(self) -> None:
        """Commit everything queued."""
        ...

    def close(self) -> None:
        """Flush and release the storage."""
        ...
