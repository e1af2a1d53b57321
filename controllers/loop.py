"""The real-time control loop: read, decide, act, record.

Each tick (`tick_s` seconds of the loop's clock; default 60 s):

1. read the latest measurements from the bus (one poll cycle);
2. on the strategy's cadence (`strategy_every_s` plant seconds) ask the strategy for setpoints;
   a failing strategy raises an alarm and the last setpoints stay in force; events a strategy
   keeps for the loop (`take_events()`, e.g. the learned strategy's plans) are recorded;
3. let the climate computer (numba kernel, its state kept across ticks) turn setpoints and
   measurements into actuator commands, with dt = plant seconds since the previous tick;
4. pass them through the safety layer (fail-safe, bounds, rate limits, overrides, interlocks);
5. write them to the bus; the next poll's readbacks are compared with them (alarms);
6. hand a TickRecord to the recorder.

Plant time (UTC seconds; what the strategy, the climate computer's clock hour and the records
use) comes from `plant_clock`; the pacing of ticks from `clock`/`sleep`. Both are injectable, so
tests run a day in milliseconds of waiting.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np

from controllers.alarms import AlarmConfig, AlarmManager, Notify
from controllers.climate_computer import (
    CC_PARAMS,
    ClimateComputerSettings,
    climate_computer_step,
    new_state,
)
from controllers.decisions import DecisionLog, changed_setpoints
from controllers.overrides import Override, Overrides
from controllers.records import Event, Recorder, TickRecord
from controllers.safety import SafetyConfig, SafetyLayer, SafetyResult, inputs_needed
from controllers.setpoints import SETPOINTS, apply_schedule
from controllers.strategy import Strategy, StrategyContext, make_context
from drivers.errors import DriverError
from drivers.signals import ACTUATORS, MEASUREMENTS
from sim.local_time import utc_offset_s

log = logging.getLogger(__name__)


class LoopError(Exception):
    """A control loop that cannot be built or started; the message says what to change."""


class LoopFailedError(LoopError):
    """The loop failed `max_failed_ticks` ticks in a row and gave up (actuators left safe)."""


class Bus(Protocol):
    """What the loop needs of a bus (the API of drivers.poller.BusPoller)."""

    def open(self) -> bool:
        """Open the port if possible."""

    def poll_once(self) -> dict[str, Any]:
        """Read every node once; readings with value and quality."""

    def write_many(self, commands: Mapping[str, float]) -> None:
        """Write commands; raise a DriverError if the bus refused or did not confirm."""

    def writable_signals(self) -> dict[str, Any]:
        """Writable command signals with their map entries."""

    def health(self) -> dict[str, Any]:
        """Per-node health counters (objects with `ok`, `consecutive_failures`, ...)."""


class ScheduleReplay:
    """Schedule replay: a base strategy with a `--setpoints` schedule's columns replacing it."""

    def __init__(self, base: Strategy, times_s: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        self.base = base
        self.times_s = np.asarray(times_s, dtype=np.float64)
        self.columns = columns
        self.name = "schedule"
        self.settings = getattr(base, "settings", ClimateComputerSettings())

    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        """The base strategy's setpoints with the scheduled columns in force (step-wise)."""
        plan = self.base.setpoints(times_s, context)
        return apply_schedule(plan, times_s, self.times_s, self.columns)


class _LocalHour:
    """Site-local clock hour of a UTC time, with the UTC offset cached per hour."""

    def __init__(self, timezone: str) -> None:
        self._tz = ZoneInfo(timezone)
        self._hour = math.nan
        self._offset = 0.0

    def __call__(self, t: float) -> float:
        h = math.floor(t / 3600.0)
        if h != self._hour:
            dt = datetime.fromtimestamp(h * 3600.0, tz=UTC).astimezone(self._tz)
            self._offset = utc_offset_s(dt)
            self._hour = h
        return ((t + self._offset) % 86400.0) / 3600.0


def default_site():
    """The shipped greenhouse's site (sim.config defaults: Bleiswijk, Europe/Amsterdam)."""
    from sim.config import load_config

    return load_config()


class ControlLoop:
    """Runs strategy, climate computer and safety layer against a bus, recording every tick.

    `bus`: a drivers.poller.BusPoller (or anything with its API). `recorder`: a Recorder.
    `plant_clock()` returns plant time in UTC seconds (controllers.clock.PlantClock);
    `clock()` / `sleep(s)` pace the ticks (defaults: time.monotonic and waiting on the stop
    event). `settings`: climate-computer settings (default: the strategy's, if it has them).
    `start_data` is added to the data of the `loop_started` event (e.g. a clock anchor).
    `computer`: the climate computer's step (default: the numba kernel `climate_computer_step`).
    `max_failed_ticks`: give up (LoopFailedError from `run()`) after that many ticks in a row
    failed with an unexpected error; None (default) keeps trying for ever.
    """

    def __init__(
        self,
        bus: Bus,
        strategy: Strategy,
        recorder: Recorder,
        *,
        plant_clock: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
        tick_s: float = 60.0,
        strategy_every_s: float = 300.0,
        site: Any = None,
        settings: ClimateComputerSettings | None = None,
        safety: SafetyConfig | None = None,
        alarms: AlarmConfig | None = None,
        notify: Notify | None = None,
        start_data: Mapping[str, Any] | None = None,
        computer: Callable[..., None] | None = None,
        max_failed_ticks: int | None = None,
    ) -> None:
        if not (math.isfinite(tick_s) and tick_s > 0):
            raise LoopError(f"tick {tick_s!r} s must be a positive number of seconds")
        if not (math.isfinite(strategy_every_s) and strategy_every_s > 0):
            raise LoopError(f"strategy cadence {strategy_every_s!r} s must be positive")
        self.bus = bus
        self.strategy = strategy
        self.recorder = recorder
        self.plant_clock = plant_clock
        self._clock = clock
        self._sleep = sleep
        self.tick_s = float(tick_s)
        self.strategy_every_s = float(strategy_every_s)
        self.site = site if site is not None else default_site()
        self._local_hour = _LocalHour(self.site.timezone)
        self._params = self._settings_params(strategy, settings)
        safety = safety or SafetyConfig()
        writable = bus.writable_signals()
        self.safety = SafetyLayer(safety.with_map_bounds(writable))
        self._needed = inputs_needed(a for a in ACTUATORS if a in writable)
        self._record_failed = False
        self.alarms = AlarmManager(self._emit, notify, alarms)
        self.overrides = Overrides(self._emit)
        self.stop_event = threading.Event()
        self._cc_state = new_state(1)
        self._sp = np.full((1, len(SETPOINTS)), np.nan)
        self._decisions = DecisionLog()
        self._meas = np.full((1, len(MEASUREMENTS)), np.nan)
        self._out = np.zeros((1, len(ACTUATORS)))
        self._next_strategy_s = -math.inf
        self._last_plant_s: float | None = None
        self._prev: dict[str, float] | None = None
        self._last_written: dict[str, float] | None = None
        self._write_failed = False
        self._start_data = dict(start_data or {})
        self._computer = computer or climate_computer_step
        if max_failed_ticks is not None and max_failed_ticks < 1:
            raise LoopError(f"max_failed_ticks {max_failed_ticks!r} must be at least 1")
        self.max_failed_ticks = max_failed_ticks
        self.failed_ticks = 0
        self.consecutive_failures = 0
        self._prev_s: float | None = None
        self._dropped_seen = recorder.dropped_ticks
        self.started = False
        self.left_safe: bool | None = None
        self.resumed: dict[str, Any] | None = None
        self.ticks = 0
        self.last_record: TickRecord | None = None
        self.last_safety: SafetyResult | None = None
        self.last_overhead_s = 0.0
        self.last_bus_s = 0.0

    # -- events ----------------------------------------------------------------------------
    def _emit(self, event: Event) -> None:
        try:
            self.recorder.record_event(event)
        except Exception:  # noted; the tick raises the recording_error alarm
            self._record_failed = True

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Open the bus and resume from the recorder's last setpoints and overrides."""
        if self.started:
            return
        self.bus.open()
        now = self.plant_clock()
        try:
            saved = self.recorder.restore()
        except Exception:
            saved = None
            self._record_failed = True
        restored_overrides: list[Override] = []
        if saved:
            for name, value in (saved.get("setpoints") or {}).items():
                if name in SETPOINTS and value is not None and math.isfinite(float(value)):
                    self._sp[0, SETPOINTS.index(name)] = float(value)
            restored_overrides = self.overrides.restore(saved.get("overrides") or [], now)
            self.resumed = saved
        self.started = True
        self._emit(
            Event(
                now,
                "loop_started",
                "loop",
                f"control loop started ({self.strategy.name}, tick {self.tick_s:g} s)"
                + (", resumed from the last record" if saved else ""),
                data={
                    "strategy": self.strategy.name,
                    "tick_s": self.tick_s,
                    "resumed": bool(saved),
                    "setpoints": dict((saved or {}).get("setpoints") or {}),
                    "overrides": [o.as_dict() for o in restored_overrides],
                    **self._start_data,
                },
            )
        )

    def run(self, max_ticks: int | None = None) -> int:
        """Tick until `stop()` (or `max_ticks`), then leave actuators safe; return the tick count.

        A late tick is not made up for: the schedule restarts from now, so ticks never burst.
        """
        self.start()
        n = 0
        next_t = self._clock()
        try:
            while not self.stop_event.is_set() and (max_ticks is None or n < max_ticks):
                self.safe_tick()
                n += 1
                next_t += self.tick_s
                delay = next_t - self._clock()
                if delay < 0:
                    next_t = self._clock()
                elif self._sleep is not None:
                    self._sleep(delay)
                else:
                    self.stop_event.wait(delay)
        finally:
            self.shutdown()
        return n

    def stop(self) -> None:
        """Ask `run()` to finish after the current tick (safe from signal handlers/threads)."""
        self.stop_event.set()

    def shutdown(self, reason: str = "stopped") -> bool:
        """Write every actuator's fail-safe value, record loop_stopped and flush the recorder.

        Return whether the fail-safe write went through (also kept in `left_safe`); if not,
        the nodes' own watchdogs have to apply their safe state.
        """
        safe = self.safety.config.failsafe_commands()
        writable = self.bus.writable_signals()
        left_safe = True
        try:
            self.bus.write_many({k: v for k, v in safe.items() if k in writable})
        except (DriverError, OSError):
            left_safe = False  # the nodes' own watchdogs take over
        now = self.plant_clock()
        self._emit(
            Event(
                now,
                "loop_stopped",
                "loop",
                f"control loop {reason}; actuators "
                + ("left in their fail-safe state" if left_safe else "unreachable (watchdog)"),
                data={"reason": reason, "left_safe": left_safe, "ticks": self.ticks},
            )
        )
        try:
            self.recorder.flush()
        except Exception:
            self._record_failed = True
        self.left_safe = left_safe
        return left_safe

    # -- operator actions ------------------------------------------------------------------
    def set_override(
        self, actuator: str, value: float, duration_s: float, *, who: str, why: str
    ) -> Override:
        """Force `actuator` to `value` for `duration_s` plant seconds (recorded with who/why)."""
        return self.overrides.set(
            actuator, value, now_s=self.plant_clock(), duration_s=duration_s, who=who, why=why
        )

    def set_strategy(
        self, strategy: Strategy, settings: ClimateComputerSettings | None = None
    ) -> None:
        """Put a new strategy (and its climate-computer settings) in force from the next tick.

        The caller records the change with who and why; the computer keeps its valve flow.
        """
        params = self._settings_params(strategy, settings)
        # swap whole objects: a tick running in another thread sees either the old or the new
        self._params = params
        self.strategy = strategy
        self._next_strategy_s = -math.inf

    def _settings_params(
        self, strategy: Strategy, settings: ClimateComputerSettings | None
    ) -> np.ndarray:
        settings = settings or getattr(strategy, "settings", None) or ClimateComputerSettings()
        params = np.ascontiguousarray(settings.to_array()[None, :])
        valve = getattr(self.site, "values", {}).get("irrigation.valve_flow_l_m2_h")
        if valve is not None:  # the computer knows its valves
            params[0, CC_PARAMS.index("irr_flow_l_m2_h")] = float(valve)
        return params

    def acknowledge(self, key: str, who: str) -> None:
        """Acknowledge the active alarm `key` as seen by `who`."""
        self.alarms.acknowledge(key, self.plant_clock(), who)

    # -- one tick --------------------------------------------------------------------------
    def tick(self) -> TickRecord:
        """Read, decide, act and record once; return the record."""
        if not self.started:
            self.start()
        t0 = time.perf_counter()
        now = self.plant_clock()
        if self._last_plant_s is None:
            dt = self.tick_s * getattr(self.plant_clock, "speed", 1.0)
        else:
            dt = max(now - self._last_plant_s, 0.0)
        self._last_plant_s = now
        self.overrides.expire(now)

        health = self.bus.health()
        ok_before = {name: h.ok for name, h in health.items()}
        tb = time.perf_counter()
        readings = self.bus.poll_once()
        bus_s = time.perf_counter() - tb
        bus_ok = any(h.ok > ok_before.get(name, 0) for name, h in health.items())

        values: dict[str, float | None] = {}
        quality: dict[str, str] = {}
        for key, r in readings.items():
            values[key] = r.value
            quality[key] = str(r.quality)
        meas = self._meas[0]
        good: dict[str, bool] = {}
        meas_out: dict[str, float] = {}
        for i, name in enumerate(MEASUREMENTS):
            value = values.get(name) if quality.get(name) == "good" else None
            good[name] = value is not None
            meas[i] = math.nan if value is None else float(value)
            meas_out[name] = meas[i]
        readbacks = {
            a: float(v)
            for a in ACTUATORS
            if quality.get(a) == "good" and (v := values.get(a)) is not None
        }
        if self._prev is None or self._write_failed:
            # start (or resume after a failed write) from where the actuators really are
            self._prev = {**(self._prev or {}), **readbacks} or None

        self._update_setpoints(now, meas_out)
        self._computer(
            self._sp, self._meas, self._local_hour(now), dt, self._params, self._cc_state, self._out
        )
        setpoints = {name: float(v) for name, v in zip(SETPOINTS, self._sp[0], strict=True)}
        computed = {name: float(v) for name, v in zip(ACTUATORS, self._out[0], strict=True)}
        result = self.safety.apply(
            computed,
            good=good,
            measurements=meas_out,
            setpoints=setpoints,
            previous=self._prev,
            dt_s=dt,
            overrides=self.overrides.values(),
        )
        writable = self.bus.writable_signals()
        to_write = {k: round(v, 3) for k, v in result.commands.items() if k in writable}
        tw = time.perf_counter()
        try:
            if to_write:
                self.bus.write_many(to_write)
            self._write_failed = False
        except (DriverError, OSError):
            self._write_failed = True
        bus_s += time.perf_counter() - tw

        self.alarms.evaluate(
            now,
            values=values,
            quality=quality,
            bus_ok=bus_ok and not self._write_failed,
            commanded=self._last_written,
            readbacks=readbacks,
            needed=self._needed,
        )
        self._last_written = None if self._write_failed else to_write
        self._prev = result.commands
        self._prev_s = now

        health_out: dict[str, float] = {
            "bus_ok": float(bus_ok),
            "write_ok": float(not self._write_failed),
            "dt_s": dt,
            "bus_ms": bus_s * 1e3,
            "alarms_active": float(len(self.alarms.active())),
            "overrides_active": float(len(self.overrides.values())),
        }
        for name, h in health.items():
            health_out[f"{name}.ok"] = float(h.ok)
            health_out[f"{name}.consecutive_failures"] = float(h.consecutive_failures)
        record = TickRecord(
            time_s=now,
            measurements={k: (math.nan if v is None else float(v)) for k, v in values.items()},
            quality=quality,
            setpoints=setpoints,
            commands=result.commands,
            readbacks=readbacks,
            health=health_out,
            mode="failsafe" if result.failsafe else "normal",
        )
        try:
            self.recorder.record_tick(record)
            recorded = True
        except Exception:
            self._record_failed = True
            recorded = False
        self.alarms.set_condition(
            "recording_error", self._record_failed, now, "recording failed: records may be lost"
        )
        if recorded:
            self._report_dropped(now)
        self._record_failed = False
        self.consecutive_failures = 0
        self.alarms.set_condition("loop_failed", False, now)
        self.ticks += 1
        self.last_record = record
        self.last_safety = result
        self.last_bus_s = bus_s
        self.last_overhead_s = time.perf_counter() - t0 - bus_s
        return record

    def safe_tick(self) -> TickRecord | None:
        """One tick that survives any unexpected error: return its record, or None if it failed.

        A failed tick is logged with its traceback, raises the `loop_failed` alarm (cleared by
        the next tick that succeeds) and drives every actuator towards its fail-safe value as
        a lost bus does (rate-limited, overrides and interlocks still applied). After
        `max_failed_ticks` failures in a row it raises LoopFailedError.
        """
        try:
            return self.tick()
        except Exception as exc:
            self.failed_ticks += 1
            self.consecutive_failures += 1
            log.exception("control tick failed (%d in a row)", self.consecutive_failures)
            now = self.plant_clock()
            commands = self._fail_safe(now)
            what = f"{type(exc).__name__}: {exc}"
            self.alarms.set_condition(
                "loop_failed",
                True,
                now,
                f"control loop failed ({what}); actuators driven to their fail-safe values, "
                "retrying every tick",
                data={"error": what, "commands": commands},
            )
            limit = self.max_failed_ticks
            if limit is not None and self.consecutive_failures >= limit:
                raise LoopFailedError(
                    f"the control loop failed {self.consecutive_failures} ticks in a row "
                    f"(last: {what})"
                ) from exc
            return None

    def _fail_safe(self, now: float) -> dict[str, float]:
        """Write fail-safe commands as on a lost bus; return what was sent (empty if nothing)."""
        safe = self.safety.config.failsafe_commands()
        if self._prev_s is None:
            dt = self.tick_s * getattr(self.plant_clock, "speed", 1.0)
        else:
            dt = max(now - self._prev_s, 0.0)
        try:
            commands = self.safety.apply(
                safe,
                good={},
                measurements={},
                setpoints={},
                previous=self._prev,
                dt_s=dt,
                overrides=self.overrides.values(),
            ).commands
        except Exception:  # the safety layer itself failed: its plain fail-safe values
            log.exception("safety layer failed; writing the plain fail-safe values")
            commands = safe
        writable = self.bus.writable_signals()
        to_write = {k: round(v, 3) for k, v in commands.items() if k in writable}
        try:
            self.bus.write_many(to_write)
        except (DriverError, OSError) as exc:  # the nodes' watchdogs take over
            log.warning("fail-safe write failed: %s", exc)
            self._write_failed = True
            return {}
        except Exception:
            log.exception("fail-safe write failed")
            self._write_failed = True
            return {}
        self._prev, self._prev_s = commands, now
        self._last_written = None  # no readback comparison across a failed tick
        return to_write

    def _report_dropped(self, now: float) -> None:
        """Once recording works again, raise `ticks_dropped` naming the ticks it gave up."""
        dropped = self.recorder.dropped_ticks
        if dropped <= self._dropped_seen:
            return
        lost = dropped - self._dropped_seen
        self.alarms.set_condition("ticks_dropped", False, now)  # a new spell: a new alarm
        self.alarms.set_condition(
            "ticks_dropped",
            True,
            now,
            f"{lost} ticks were dropped (never recorded) while recording failed",
            data={"dropped": lost, "dropped_total": dropped},
        )
        self._dropped_seen = dropped

    def _update_setpoints(self, now: float, state: dict[str, float]) -> None:
        if now < self._next_strategy_s:
            return
        self._next_strategy_s = now + self.strategy_every_s
        times = np.array([now])
        try:
            context = make_context(self.site, times, state=state)
            row = np.asarray(self.strategy.setpoints(times, context), dtype=np.float64)
            if row.shape != (1, len(SETPOINTS)):
                raise LoopError(
                    f"strategy returned shape {row.shape}, expected (1, {len(SETPOINTS)})"
                )
        except Exception as exc:
            self.alarms.set_condition(
                "strategy_error",
                True,
                now,
                f"strategy {self.strategy.name} failed ({type(exc).__name__}: {exc}); "
                "last setpoints kept",
            )
            self._strategy_events()
            return
        self._strategy_events()
        self.alarms.set_condition("strategy_error", False, now)
        row = row[0]
        keep = np.isnan(row)
        changed = changed_setpoints(self._sp[0], row)
        self._sp[0, ~keep] = row[~keep]
        for decision in self._decisions.update(now, changed):
            self._emit(
                Event(
                    now,
                    "strategy_decision",
                    self.strategy.name,
                    decision.message,
                    data={"changed": decision.changed, "since_s": decision.since_s},
                )
            )

    def _strategy_events(self) -> None:
        """Record the events a strategy keeps for the loop (plans, fallbacks), if it has any."""
        take = getattr(self.strategy, "take_events", None)
        if take is None:
            return
        try:
            events = list(take())
        except Exception:  # its setpoints still count; the failure is in the log
            log.exception("strategy %s: its events could not be taken", self.strategy.name)
            return
        for event in events:
            self._emit(event)
