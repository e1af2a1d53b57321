"""Alarms: raised -> acknowledged -> cleared, with times, each transition recorded as an Event.

Conditions checked every tick by `AlarmManager.evaluate` (keys in brackets):

- a sensor the safety layer needs that no node on the bus provides at all
  [`sensor_missing:<signal>`] (a nodes file without it): its actuators stay in fail-safe for
  good, and this alarm says why;
- a sensor gone stale [`sensor_stale:<signal>`] or bad/implausible [`sensor_implausible:<signal>`]
  (not while the whole bus is down: then `bus_down` alone is raised, not one alarm per signal):
  bad quality from the poller (never read, refused, outside its physical range) or a jump faster
  than `max_rate_per_min` (e.g. air temperature by more than 3 C within a plant minute);
- climate out of band [`climate_band:<signal>`] for air temperature, RH and CO2, after the
  condition has lasted `band_delay_s` plant seconds;
- an actuator not following its command [`actuator_follow:<actuator>`]: the readback differs
  from the command written the tick before by more than `follow_tolerance` for `follow_ticks`
  ticks in a row;
- the bus down [`bus_down`]: no node answered in a poll cycle, or a write failed;
- a strategy error [`strategy_error`], a recording error [`recording_error`], ticks given up
  by the recorder during a recording failure [`ticks_dropped`, raised once recording works
  again, naming how many; it stays raised until the loop stops] and a tick that failed on an
  unexpected error [`loop_failed`, cleared by the next good tick] (raised by the loop through
  `set_condition`).

An alarm clears when its condition is gone; acknowledging one (who, when) does not clear it.
`notify(alarm)` is called on every raise and clear; it must not block (see controllers.notify).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from controllers.records import Event
from drivers.signals import SIGNALS, signal_of

Notify = Callable[["Alarm"], None]

log = logging.getLogger(__name__)


@dataclass
class Alarm:
    """One alarm occurrence; `state` is "raised", "acknowledged" or "cleared"."""

    key: str
    message: str
    raised_s: float
    state: str = "raised"
    acknowledged_s: float | None = None
    acknowledged_by: str | None = None
    cleared_s: float | None = None
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class AlarmConfig:
    """Thresholds of the alarm checks (plant time; units as the signal names say)."""

    bands: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "tair_c": (12.0, 32.0),
            "rh_pct": (0.0, 95.0),
            "co2_ppm": (250.0, 1600.0),
        }
    )
    band_delay_s: float = 900.0
    max_rate_per_min: dict[str, float] = field(
        default_factory=lambda: {"tair_c": 3.0, "rh_pct": 20.0, "co2_ppm": 500.0}
    )
    follow_tolerance: float = 1.0
    follow_ticks: int = 3


class AlarmManager:
    """Keeps the active alarms; `emit(event)` records each transition, `notify` tells a person."""

    def __init__(
        self,
        emit: Callable[[Event], None] | None = None,
        notify: Notify | None = None,
        config: AlarmConfig | None = None,
    ) -> None:
        self.config = config or AlarmConfig()
        self._emit = emit or (lambda event: None)
        self._notify = notify
        self._lock = threading.Lock()
        self._active: dict[str, Alarm] = {}
        self._pending: dict[str, float] = {}
        self.notify_errors = 0
        self._last_meas: dict[str, tuple[float, float]] = {}
        self._follow_misses: dict[str, int] = {}

    # -- state machine ---------------------------------------------------------------------
    def set_condition(
        self,
        key: str,
        active: bool,
        now_s: float,
        message: str = "",
        *,
        delay_s: float = 0.0,
        data: Mapping[str, object] | None = None,
    ) -> None:
        """Raise `key` once its condition has held for `delay_s`; clear it when it is gone."""
        if active:
            since = self._pending.setdefault(key, now_s)
            if key not in self._active and now_s - since >= delay_s:
                alarm = Alarm(key, message or key, now_s, data=dict(data or {}))
                with self._lock:
                    self._active[key] = alarm
                self._record(alarm, "alarm_raised", now_s, alarm.message)
        elif key in self._pending or key in self._active:  # most conditions are simply absent
            self._pending.pop(key, None)
            with self._lock:
                gone = self._active.pop(key, None)
            if gone is not None:
                gone.state = "cleared"
                gone.cleared_s = now_s
                self._record(gone, "alarm_cleared", now_s, f"cleared: {gone.message}")

    def acknowledge(self, key: str, now_s: float, who: str) -> Alarm | None:
        """Mark an active alarm as seen by `who`; return it (None if not active)."""
        with self._lock:
            alarm = self._active.get(key)
            if alarm is None or alarm.state == "acknowledged":
                return alarm
            alarm.state = "acknowledged"
            alarm.acknowledged_s = now_s
            alarm.acknowledged_by = who
        self._record(alarm, "alarm_acknowledged", now_s, f"acknowledged: {alarm.message}", who)
        return alarm

    def active(self) -> list[Alarm]:
        """The alarms raised and not yet cleared."""
        with self._lock:
            return list(self._active.values())

    def is_active(self, key: str) -> bool:
        """Whether alarm `key` is raised (acknowledged or not)."""
        return key in self._active

    def _record(self, alarm: Alarm, kind: str, now_s: float, message: str, who="serra") -> None:
        data = {"alarm": alarm.key, "state": alarm.state, "raised_s": alarm.raised_s, **alarm.data}
        self._emit(Event(now_s, kind, "alarms", message, who=who, data=data))
        if self._notify is not None and kind != "alarm_acknowledged":
            try:
                self._notify(alarm)
            except Exception as exc:  # a broken notifier must never stop the control loop
                self.notify_errors += 1
                log.warning("alarm notification failed: %s", exc, exc_info=exc)

    # -- checks ----------------------------------------------------------------------------
    def evaluate(
        self,
        now_s: float,
        *,
        values: Mapping[str, float | None],
        quality: Mapping[str, str],
        bus_ok: bool,
        commanded: Mapping[str, float] | None,
        readbacks: Mapping[str, float],
        needed: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Check one tick: sensors, climate bands, actuator readbacks and the bus.

        `needed` maps each measurement the written actuators depend on to those actuators
        (controllers.safety.inputs_needed); one absent from `quality` is `sensor_missing`.
        """
        cfg = self.config
        self.set_condition(
            "bus_down", not bus_ok, now_s, "bus down: no node answered or a write failed"
        )
        for name, users in (needed or {}).items():
            self.set_condition(
                f"sensor_missing:{name}",
                name not in quality,
                now_s,
                f"no node on the bus provides {name} (add one to the nodes file); "
                f"held in fail-safe: {', '.join(users)}",
                data={"actuators": list(users)},
            )
        for name, q in quality.items():
            sig = SIGNALS.get(signal_of(name))
            if sig is None or sig.kind == "actuator":
                continue  # readbacks are checked against their commands below
            v = values.get(name)
            if not bus_ok:
                q = "good"  # while the bus is down, bus_down says it all (no alarm flood)
                v = None
            self.set_condition(
                f"sensor_stale:{name}", q == "stale", now_s, f"sensor {name} is stale"
            )
            implausible = q == "bad"
            rate = cfg.max_rate_per_min.get(name)
            if q == "good" and v is not None and rate is not None:
                last = self._last_meas.get(name)
                if last is not None and now_s > last[0]:
                    per_min = abs(v - last[1]) / ((now_s - last[0]) / 60.0)
                    implausible = per_min > rate and abs(v - last[1]) > rate
                self._last_meas[name] = (now_s, v)
            self.set_condition(
                f"sensor_implausible:{name}",
                implausible,
                now_s,
                f"sensor {name} is implausible ({'bad reading' if q == 'bad' else 'jump'})",
                data={"value": v},
            )
        for name, (lo, hi) in cfg.bands.items():
            v = values.get(name)
            out = quality.get(name) == "good" and v is not None and not lo <= v <= hi
            self.set_condition(
                f"climate_band:{name}",
                out,
                now_s,
                f"{name} = {v if v is None else round(v, 1)} outside {lo:g}..{hi:g}",
                delay_s=cfg.band_delay_s,
                data={"value": v, "lo": lo, "hi": hi},
            )
        if commanded is None:
            return
        for name, cmd in commanded.items():
            rb = readbacks.get(name)
            if rb is None or not math.isfinite(rb):
                continue
            miss = abs(rb - cmd) > cfg.follow_tolerance
            n = self._follow_misses.get(name, 0) + 1 if miss else 0
            self._follow_misses[name] = n
            self.set_condition(
                f"actuator_follow:{name}",
                n >= cfg.follow_ticks,
                now_s,
                f"{name} does not follow: commanded {cmd:g}, reads back {rb:g}",
                data={"command": cmd, "readback": rb},
            )
