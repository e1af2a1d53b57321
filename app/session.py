"""The running greenhouse behind the desktop app: device or bus, control loop, database.

No Qt here: the GUI (app.gui) calls `Session.start()` in a worker thread, then reads
`snapshot()` on a timer and calls the operator actions (`apply_rules`, `set_override`,
`acknowledge`, ...) from the GUI thread. The embedded default is the virtual greenhouse device
(sim) served on a pseudo-terminal (or socket://127.0.0.1 where there is none), polled over that
serial link by the real bus poller, controlled by the real control loop with grower rules, and
recorded by the SQLite recorder in the user data directory. A session holds its database's
write lock (app.db_lock) from start to stop.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import math
import os
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from app.paths import default_db_path

if TYPE_CHECKING:  # the GUI imports this module at start: the layers load when a session starts
    from app.db_lock import DbLock
    from app.resume import PlantSaver
    from controllers.alarms import Alarm, AlarmConfig
    from controllers.grower_rules import GrowerRules
    from controllers.loop import ControlLoop
    from controllers.overrides import Override
    from controllers.records import Event, TickRecord
    from drivers.nodes import NodesConfig
    from drivers.poller import BusPoller
    from sim.device_server import DeviceServer
    from sim.plant import Plant
    from sim.virtual_device import VirtualDevice
    from store.recorder import SqliteRecorder

log = logging.getLogger(__name__)

#: Demo speeds offered (plant seconds per wall second).
SPEEDS: tuple[float, ...] = (1.0, 10.0, 60.0, 300.0, 600.0)
#: Plant seconds per control tick at demo speeds (the loop's usual minute).
PLANT_TICK_S = 60.0
#: Shortest wall time between ticks: a poll cycle of the virtual bus takes ~0.1 s.
MIN_TICK_S = 0.5


def _compile_kernels_aside(say: Callable[[str], None]) -> None:
    """On a first start, compile the kernels in a child process (app.kernel_warmup)."""
    from app.kernel_warmup import WarmupError, kernels_warm, warm_kernels_in_child

    if kernels_warm():
        return
    say("compiling the simulator (first start only, about a minute)...")
    try:
        warm_kernels_in_child()
    except (WarmupError, OSError, subprocess.SubprocessError) as exc:
        # the session compiles them itself then, and says what is wrong if that fails too
        log.warning("kernels not compiled aside: %s", exc)


class SessionError(Exception):
    """A session that cannot start or act; the message says what was wrong, in plain words."""


def current_user() -> str:
    """Who is at the keyboard (for the event log)."""
    try:
        return getpass.getuser() or "grower"
    except Exception:  # no login name (service account, odd platform)
        return "grower"


def tick_for_speed(speed: float) -> float:
    """Wall seconds between ticks so that one tick is about a plant minute at `speed`."""
    return max(MIN_TICK_S, PLANT_TICK_S / speed)


@dataclass
class SessionConfig:
    """What to run: `port` None = the embedded virtual greenhouse; else a real port URL.

    `nodes_path` None = the virtual greenhouse's node maps. `speed`: plant seconds per wall
    second of the simulated plant (ignored on a real bus). `link`: "auto" (pty where there is
    one, else socket), "pty" or "socket". `clock`: wall clock of device and loop (tests pass a
    manual clock). `autorun`: run the loop in its own thread; False = the caller ticks.
    """

    db_path: Path = field(default_factory=default_db_path)
    port: str | None = None
    nodes_path: str | None = None
    speed: float = 60.0
    link: str = "auto"
    alarms: AlarmConfig | None = None
    clock: Callable[[], float] = time.monotonic
    autorun: bool = True
    tick_s: float | None = None

    @property
    def simulated(self) -> bool:
        """Whether the plant is the embedded virtual greenhouse."""
        return self.port is None

    def describe(self) -> str:
        """One line for the status bar."""
        if self.simulated:
            return f"simulated greenhouse at {self.speed:g}x"
        return f"greenhouse on {self.port}"


#: A logged setting's value as plain JSON: a path or port as text, the speed, None (simulated).
SettingValue = str | float | None

#: The settings whose change is logged as a `config_change` event, with their words.
CONFIG_FIELDS: dict[str, str] = {
    "port": "link",
    "nodes_path": "node maps",
    "db_path": "database",
    "speed": "speed",
}


def config_changes(old: SessionConfig, new: SessionConfig) -> dict[str, list[SettingValue]]:
    """The logged settings that differ between `old` and `new`: {field: [old, new]}.

    Paths are given as text and the simulated greenhouse's port as None, so the result is
    plain JSON for the event log.
    """
    out: dict[str, list[SettingValue]] = {}
    for name in CONFIG_FIELDS:
        a: SettingValue
        b: SettingValue
        if name == "speed":
            a, b = float(old.speed), float(new.speed)
        else:
            a, b = (None if v is None else str(v) for v in (getattr(old, name), getattr(new, name)))
        if a != b:
            out[name] = [a, b]
    return out


def describe_changes(changes: dict[str, list[SettingValue]]) -> str:
    """One line for the event log, e.g. "settings changed: speed 60x -> 600x"."""
    words: dict[str, Callable[[SettingValue], str]] = {
        "port": lambda v: str(v or "simulated greenhouse"),
        "nodes_path": lambda v: str(v or "virtual greenhouse node maps"),
        "db_path": str,
        "speed": lambda v: f"{v:g}x",
    }
    parts = [f"{CONFIG_FIELDS[k]} {words[k](a)} -> {words[k](b)}" for k, (a, b) in changes.items()]
    return "settings changed: " + ", ".join(parts)


class RecentRecorder:
    """Passes records on to the database recorder and keeps the latest ticks for live trends."""

    def __init__(self, inner: SqliteRecorder, keep: int = 3000) -> None:
        self.inner = inner
        # called with each record after it is recorded (the simulated greenhouse's saver)
        self.after_tick: Callable[[TickRecord], None] | None = None
        self._recent: deque[tuple[int, TickRecord]] = deque(maxlen=keep)
        self._count = 0
        self._lock = threading.Lock()

    @property
    def dropped_ticks(self) -> int:
        """Ticks the database recorder gave up."""
        return self.inner.dropped_ticks

    def record_tick(self, record: TickRecord) -> None:
        """Keep the tick, then record it."""
        with self._lock:
            self._count += 1
            self._recent.append((self._count, record))
        self.inner.record_tick(record)
        if self.after_tick is not None:
            self.after_tick(record)

    def record_event(self, event: Event) -> None:
        """Record an event."""
        self.inner.record_event(event)

    def restore(self) -> dict[str, Any] | None:
        """What the loop resumes from."""
        return self.inner.restore()

    def flush(self) -> None:
        """Commit everything queued."""
        self.inner.flush()

    def close(self) -> None:
        """Flush and close."""
        self.inner.close()

    def since(self, count: int) -> tuple[int, list[TickRecord]]:
        """(latest count, the ticks recorded after `count`)."""
        with self._lock:
            return self._count, [r for n, r in self._recent if n > count]


class DevicePlantClock:
    """Plant time of the virtual device (UTC s), so loop and plant never drift apart."""

    def __init__(self, device: VirtualDevice) -> None:
        self.device = device

    @property
    def speed(self) -> float:
        """Plant seconds per wall second."""
        return float(self.device.speed)

    def __call__(self) -> float:
        """Advance the plant to the wall clock and return its time."""
        self.device.sync()
        return float(self.device.plant.time_s)


@dataclass(frozen=True)
class Snapshot:
    """What the GUI shows, taken at once: the last tick, alarms, overrides, crop, mode."""

    ticks: int
    time_s: float | None
    record: TickRecord | None
    alarms: list[Alarm]
    overrides: list[Override]
    crop: dict[str, float] | None
    mode: str
    running: bool
    link: str


class Session:
    """Device (if simulated), bus poller, control loop and recorder, started and stopped as one."""

    def __init__(
        self, config: SessionConfig | None = None, *, changed_from: SessionConfig | None = None
    ) -> None:
        self.config = config or SessionConfig()
        # the settings this session replaces: what changed is logged once the loop starts
        self.changed_from = changed_from
        self.who = current_user()
        self.device: VirtualDevice | None = None
        self.plant: Plant | None = None  # the device's plant, when simulated
        self.server: DeviceServer | None = None
        self.poller: BusPoller | None = None
        self.recorder: RecentRecorder | None = None
        self.db_lock: DbLock | None = None
        self.saver: PlantSaver | None = None
        self.loop: ControlLoop | None = None
        self.rules: GrowerRules | None = None
        self.address: str | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.started = False
        self.stopped = False
        self.error: str | None = None

    # -- life cycle ------------------------------------------------------------------------
    def start(self, status: Callable[[str], None] | None = None) -> None:
        """Build and start everything (slow on first use: the plant kernels compile).

        Call from a worker thread. Raises SessionError with a plain message on failure, and
        leaves nothing running then.
        """
        say = status or (lambda text: None)
        try:
            self._start(say)
        except SessionError:
            self._teardown()
            raise
        except Exception as exc:
            log.exception("the session did not start")
            self._teardown()
            raise SessionError(_plain(exc)) from None

    def _start(self, say: Callable[[str], None]) -> None:
        from app.db_lock import DbLockError, acquire_db_lock
        from app.resume import PlantSaver, refused_rules_event, resume_plant, resumed_rules
        from controllers.clock import PlantClock
        from controllers.grower_rules import GrowerRules
        from controllers.loop import ControlLoop
        from drivers.nodes import load_nodes
        from drivers.poller import BusPoller
        from store.recorder import SqliteRecorder

        cfg = self.config
        if not (math.isfinite(cfg.speed) and cfg.speed > 0):
            raise SessionError(f"speed {cfg.speed!r} must be a positive number")
        Path(cfg.db_path).parent.mkdir(parents=True, exist_ok=True)
        say("opening the database...")
        try:  # one writer per database: a `serra run` or another window on it refuses this one
            self.db_lock = acquire_db_lock(cfg.db_path)
        except DbLockError as exc:
            raise SessionError(str(exc)) from None
        recorder = self.recorder = RecentRecorder(SqliteRecorder(cfg.db_path, batch_ticks=1).open())
        store = recorder.inner.store
        rules, refused = resumed_rules(store)
        nodes = load_nodes(cfg.nodes_path)
        resumed = None
        port: str | None
        if cfg.simulated:
            _compile_kernels_aside(say)
            say("starting simulator...")
            resumed = resume_plant(store)
            device = self._start_device(nodes, resumed.plant)
            self.saver = PlantSaver(device, recorder.inner)
            recorder.after_tick = self.saver.after_tick
            port = self.address
            plant_clock: Callable[[], float] = DevicePlantClock(device)
        else:
            port = cfg.port
            plant_clock = PlantClock(speed=1.0, clock=cfg.clock)
        say("opening the bus...")
        self.poller = BusPoller(nodes, port)
        # the rules applied last (in the app or by `serra run --set`) stay in force
        self.rules = rules or GrowerRules()
        tick_s = cfg.tick_s or (tick_for_speed(cfg.speed) if cfg.simulated else PLANT_TICK_S)
        say("starting the control loop...")
        loop = self.loop = ControlLoop(
            self.poller,
            self.rules,
            recorder,
            plant_clock=plant_clock,
            clock=cfg.clock,
            tick_s=tick_s,
            # re-plan every tick, so an applied setpoint change acts on the next tick
            strategy_every_s=PLANT_TICK_S,
            alarms=cfg.alarms,
        )
        if resumed is not None:
            recorder.record_event(resumed.event())
        if refused is not None:
            recorder.record_event(refused_rules_event(loop.plant_clock(), refused))
        if self.changed_from is not None:
            self._record_config_change(config_changes(self.changed_from, cfg))
        loop.start()
        if cfg.autorun:
            self._thread = threading.Thread(target=self._run, name="control loop", daemon=True)
            self._thread.start()
        self.started = True

    def _record_config_change(self, changes: dict[str, list[SettingValue]]) -> None:
        """Log changed settings (port, node maps, database, speed) with who changed them."""
        from controllers.records import Event

        if not changes or self.loop is None or self.recorder is None:
            return
        self.recorder.record_event(
            Event(
                self.loop.plant_clock(),
                "config_change",
                "settings",
                describe_changes(changes),
                who=self.who,
                data={"changed": changes},
            )
        )

    def _run(self) -> None:
        assert self.loop is not None  # the thread starts after the loop is built
        try:
            self.loop.run()
        except Exception as exc:  # the loop ends; the GUI shows it as stopped
            log.exception("the control loop stopped on an unexpected error")
            self.error = _plain(exc)

    def _start_device(self, nodes: NodesConfig, plant: Plant) -> VirtualDevice:
        from sim.device_server import PtyServer, TcpServer
        from sim.virtual_device import VirtualDevice

        cfg = self.config
        plant.advance(1.0)  # compile (or load) the physics before the first request
        self.plant = plant
        device = self.device = VirtualDevice(plant, nodes, speed=cfg.speed, clock=cfg.clock)
        use_pty = cfg.link == "pty" or (cfg.link == "auto" and os.name == "posix")
        server: DeviceServer
        try:
            server = PtyServer(device) if use_pty else TcpServer(device)
        except OSError:
            server = TcpServer(device)
        self.server = server
        server.start()
        self.address = server.address
        return device

    def stop(self) -> None:
        """Stop the loop (actuators to their safe state, records flushed) and release all."""
        with self._lock:
            if self.stopped:
                return
            self.stopped = True
        if self.loop is not None and self.started:
            if self._thread is not None:
                self.loop.stop()
                self._thread.join(timeout=10)
            else:
                self.loop.shutdown()
            self._save_plant()
        self._teardown()

    def _save_plant(self) -> None:
        """Save the simulated greenhouse at a clean stop (kept in `error` if it cannot be)."""
        if self.saver is None:
            return
        try:
            self.saver.save()
        except Exception as exc:  # the GUI shows it; the last periodic save stays in the file
            log.exception("simulated greenhouse state not saved")
            self.error = f"simulated greenhouse state not saved: {_plain(exc)}"

    def _teardown(self) -> None:
        if self.recorder is not None:
            with contextlib.suppress(Exception):  # reported through the recording alarm
                self.recorder.close()
        if self.poller is not None:
            self.poller.close()
        if self.server is not None:
            self.server.stop()
        if self.db_lock is not None:
            self.db_lock.unlock()

    @property
    def running(self) -> bool:
        """Whether the loop is running (started and not stopped)."""
        return self.started and not self.stopped

    def tick(self) -> TickRecord:
        """One control tick now (for callers that set `autorun=False`)."""
        return self._need_loop().tick()

    # -- reading ---------------------------------------------------------------------------
    def snapshot(self) -> Snapshot:
        """The state to display; cheap (no I/O), safe to call from the GUI thread."""
        loop = self.loop
        if loop is None:
            return Snapshot(0, None, None, [], [], None, "starting", False, "")
        record = loop.last_record
        crop = None
        if self.plant is not None:
            crop = dict(self.plant.crop_states())
        return Snapshot(
            ticks=loop.ticks,
            time_s=None if record is None else record.time_s,
            record=record,
            alarms=loop.alarms.active(),
            overrides=loop.overrides.active(),
            crop=crop,
            mode="stopped" if self.stopped else (record.mode if record else "starting"),
            running=self.running,
            link=self.address or (self.config.port or ""),
        )

    def records_since(self, count: int) -> tuple[int, list[TickRecord]]:
        """Tick records made after the `count`-th one (for live trends), and the new count."""
        if self.recorder is None:
            return count, []
        return self.recorder.since(count)

    def plant_time(self) -> float:
        """Plant time now (UTC s)."""
        return float(self._need_loop().plant_clock())

    # -- operator actions ------------------------------------------------------------------
    def _need_loop(self) -> ControlLoop:
        """The running loop (SessionError when there is none)."""
        if self.loop is None or not self.running:
            raise SessionError("the control loop is not running; start it from Settings")
        return self.loop

    def set_speed(self, speed: float) -> None:
        """Change the simulated plant's speed (plant seconds per wall second); logged."""
        if not (math.isfinite(speed) and speed > 0):
            raise SessionError(f"speed {speed!r} must be a positive number")
        old = float(self.config.speed)
        self.config.speed = float(speed)
        if self.device is not None:
            self.device.sync()  # time so far at the old speed
            self.device.speed = float(speed)
            if self.loop is not None and self.config.tick_s is None:
                self.loop.tick_s = tick_for_speed(speed)
        if self.running and old != float(speed):
            self._record_config_change({"speed": [old, float(speed)]})

    def apply_rules(self, rules: GrowerRules, *, who: str, why: str) -> dict[str, Any]:
        """Put new grower rules in force on the running loop; log the change with who and why.

        Returns the change as logged: {"changed": {...}, "settings": {...}}.
        """
        from controllers.records import Event

        loop = self._need_loop()
        if not who.strip() or not why.strip():
            raise SessionError("say who makes the change and why (both are logged)")
        old = self.rules
        assert old is not None and self.recorder is not None  # set with the loop
        changed = _rules_diff(old, rules)
        settings_changed = {
            k: v for k, v in asdict(rules.settings).items() if asdict(old.settings).get(k) != v
        }
        if not changed and not settings_changed:
            raise SessionError("nothing changed: edit a value before applying")
        loop.set_strategy(rules)
        self.rules = rules
        now = loop.plant_clock()
        data: dict[str, Any] = {
            "changed": changed,
            "settings": settings_changed,
            "why": why.strip(),
            # the whole rules, so a restart (even after a kill -9) puts them back in force
            "rules": rules.as_dict(),
        }
        parts = [f"{k}" for k in changed] + list(settings_changed)
        self.recorder.record_event(
            Event(
                now,
                "setpoint_change",
                "setpoints",
                f"grower rules changed ({', '.join(parts)}): {why.strip()}",
                who=who.strip(),
                data=data,
            )
        )
        return data

    def set_override(
        self, actuator: str, value: float, minutes: float, *, who: str, why: str
    ) -> Override:
        """Force an actuator for `minutes` plant minutes (raises SessionError in plain words)."""
        from controllers.overrides import OverrideError

        loop = self._need_loop()
        try:
            return loop.set_override(actuator, value, minutes * 60.0, who=who, why=why)
        except OverrideError as exc:
            raise SessionError(str(exc)) from None

    def cancel_override(self, actuator: str, *, who: str) -> Override | None:
        """End an override now; control resumes (None when there was none)."""
        loop = self._need_loop()
        return loop.overrides.cancel(actuator, now_s=loop.plant_clock(), who=who)

    def acknowledge(self, key: str, *, who: str) -> None:
        """Acknowledge an active alarm."""
        self._need_loop().acknowledge(key, who)


def _rules_diff(old: GrowerRules, new: GrowerRules) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if old.periods != new.periods:
        out["periods"] = [
            {
                "start": p.start_ref,
                "offset_min": p.offset_min,
                "ramp_min": p.ramp_min,
                "values": dict(p.values),
            }
            for p in new.periods
        ]
    for k, v in new.defaults.items():
        if old.defaults.get(k) != v:
            out.setdefault("defaults", {})[k] = v
    return out


def _plain(exc: BaseException) -> str:
    """An exception as one plain line (no traceback)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename}"
    if isinstance(exc, PermissionError):
        return f"not allowed to open {exc.filename}: check its permissions"
    return text or f"unexpected {type(exc).__name__}"


def plain_error(exc: BaseException) -> str:
    """Public form of `_plain`: what the GUI shows for an error."""
    return _plain(exc)


class NodeHealthRow(TypedDict):
    """One node's health as the Settings view shows it."""

    node: str
    slave: int
    ok: bool
    answers: int
    failures: int
    latency_ms: float | None
    error: str


def check_connection(port: str, nodes_path: str | None = None) -> list[NodeHealthRow]:
    """Poll every node of a bus once; return each node's health (name, slave, ok, error, ms).

    Raises SessionError when the nodes file or the port cannot be used.
    """
    from drivers.errors import DriverError
    from drivers.nodes import load_nodes
    from drivers.poller import BusPoller

    try:
        nodes = load_nodes(nodes_path)
        poller = BusPoller(nodes, port)
    except DriverError as exc:
        raise SessionError(str(exc)) from None
    try:
        if not poller.open():
            raise SessionError(poller.why_not_open())  # names the port once
        poller.poll_once()
        return node_health(poller)
    finally:
        poller.close()


def node_health(poller: BusPoller) -> list[NodeHealthRow]:
    """Each node's health of a bus poller as rows (node, slave, ok, answers, failures, ms)."""
    out: list[NodeHealthRow] = []
    for name, h in poller.health().items():
        out.append(
            {
                "node": name,
                "slave": h.slave,
                "ok": h.ok > 0 and h.consecutive_failures == 0,
                "answers": h.ok,
                "failures": h.timeouts + h.crc_errors + h.wrong_slave + h.exceptions,
                "latency_ms": None if h.mean_latency_s is None else h.mean_latency_s * 1e3,
                "error": h.last_error,
            }
        )
    return out
