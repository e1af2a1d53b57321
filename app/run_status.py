"""`serra run`'s progress on stderr: one status line every so often of plant time."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, TextIO
from zoneinfo import ZoneInfo


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, fmt)


def status_line(record: Any, ticks: int, tz: ZoneInfo) -> str:
    """'<local time>  tair 21.3 C  rh 75 %  co2 612 ppm  alarms 0  ticks 10' of a TickRecord."""
    m = record.measurements
    when = datetime.fromtimestamp(record.time_s, UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    alarms = record.health.get("alarms_active")
    return (
        f"serra run: {when}  tair {_num(m.get('tair_c'), '.1f')} C  "
        f"rh {_num(m.get('rh_pct'), '.0f')} %  co2 {_num(m.get('co2_ppm'), '.0f')} ppm  "
        f"alarms {_num(alarms, '.0f')}  ticks {ticks}"
        + ("  FAILSAFE" if record.mode != "normal" else "")
    )


class StatusRecorder:
    """A recorder that passes everything on and, after each recorded tick whose plant time
    reaches the next multiple of `every_s`, writes a status line to `out` (the first tick too).
    """

    def __init__(self, recorder: Any, every_s: float, out: TextIO, timezone: str) -> None:
        self._inner = recorder
        self._every_s = every_s
        self._out = out
        self._tz = ZoneInfo(timezone)
        self._next_s: float | None = None
        self.recorded = 0

    def record_tick(self, record: Any) -> None:
        """Record the tick, then print the status when it is due."""
        self._inner.record_tick(record)
        self.recorded += 1
        if self._next_s is None or record.time_s >= self._next_s:
            print(status_line(record, self.recorded, self._tz), file=self._out, flush=True)
            self._next_s = (math.floor(record.time_s / self._every_s) + 1) * self._every_s

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
