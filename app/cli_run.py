"""`serra run`: the headless control loop against a bus, recording to a SQLite database."""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `run` subcommand."""
    run = subparsers.add_parser(
        "run",
        help="run the headless control loop",
        description="Poll the bus, decide setpoints, drive the actuators through the climate "
        "computer and the safety layer, and record every tick and event, until SIGINT/SIGTERM "
        "(then actuators are left in their fail-safe state and records flushed). A restart "
        "resumes from the last recorded setpoints, grower rules and overrides. Against the "
        "virtual device at --speed S, give the loop the same --speed (and --start): plant "
        "time is derived from them, e.g. --speed 600 --tick 0.1 for 60 plant-seconds per tick.",
    )
    run.add_argument("--port", metavar="URL", help="port or pyserial URL (default: bus.port)")
    run.add_argument("--nodes", metavar="TOML", help="nodes file (default: virtual greenhouse)")
    run.add_argument("--db", metavar="FILE", help="database (default: serra.db in the data dir)")
    run.add_argument(
        "--strategy",
        choices=("grower", "schedule"),
        default="grower",
        help="grower rules, or a setpoint schedule over them (needs --setpoints)",
    )
    run.add_argument("--setpoints", metavar="CSV", help="setpoint schedule to replay")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a grower-rules setpoint or setting from the start, e.g. --set heat_c=21; "
        "logged and kept for later restarts (default: the rules applied last in --db)",
    )
    run.add_argument("--tick", type=float, default=60.0, help="seconds per tick (default 60)")
    run.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="plant seconds per wall second: 1 for a real greenhouse, the device's --speed "
        "for the virtual one",
    )
    run.add_argument(
        "--start",
        metavar="DATE",
        help="plant time at loop start, site-local (default: now; with --speed other than 1, "
        "continued from the last run recorded in --db at that speed, else the shipped "
        "weather's first day, as for `serra device`)",
    )
    run.add_argument(
        "--strategy-every",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="plant seconds between strategy decisions (default 300)",
    )
    run.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="NAME=VALUE:MINUTES:WHO:WHY",
        help="force an actuator from the start for MINUTES of plant time (repeatable)",
    )
    run.add_argument(
        "--notify-command",
        metavar="CMD",
        help="shell command run per alarm, with $SERRA_ALARM_MESSAGE etc.",
    )
    run.add_argument("--desktop-notify", action="store_true", help="notify-send per alarm")
    run.add_argument(
        "--keep-raw-days",
        type=float,
        default=30.0,
        metavar="N",
        help="days of raw ticks kept; older ones remain only as 5-min and hourly rollups "
        "(default 30)",
    )
    run.add_argument("--max-ticks", type=int, metavar="N", help="stop cleanly after N ticks")
    run.set_defaults(handler=run_loop)


def _error(message: str) -> Exception:
    from app.cli import CliError

    return CliError(message)


def _parse_override(text: str) -> tuple[str, float, float, str, str]:
    try:
        name, rest = text.split("=", 1)
        value, minutes, who, why = rest.split(":", 3)
        return name.strip(), float(value), float(minutes) * 60.0, who, why
    except ValueError:
        raise _error(
            f"--override {text!r}: expected NAME=VALUE:MINUTES:WHO:WHY, "
            "e.g. vent_lee_pct=0:30:anna:spraying"
        ) from None


def _resumed_clock(db: Path, speed: float) -> float | None:
    """Plant time now, continued from the clock anchor of the last run at the same speed."""
    from store.db import open_store
    from store.errors import StoreError
    from store.events import search

    if not db.exists():
        return None
    try:
        store = open_store(db)
        try:
            with store.read():
                last = search(store, kinds=("loop_started",), limit=1, newest_first=True)
        finally:
            store.close()
    except StoreError:
        return None
    clock = last[0].data.get("clock") if last else None
    if not isinstance(clock, dict) or clock.get("speed") != speed:
        return None
    return float(clock["plant_s"]) + (time.time() - float(clock["wall_s"])) * speed


def _plant_start(args: argparse.Namespace, site, db: Path) -> float | None:
    if args.start is None:
        if args.speed == 1.0:
            return None  # a real greenhouse: plant time is the wall clock
        resumed = _resumed_clock(db, args.speed)
        if resumed is not None:
            return resumed
        from sim.weather import default_weather

        return float(default_weather().time_s[0])
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        t = datetime.fromisoformat(args.start)
    except ValueError:
        raise _error(f"--start {args.start!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(site.timezone))
    return t.timestamp()


def _saved_rules(db: Path):
    """(rules applied last in `db` or None, one-line reason they were refused or None)."""
    from app.resume import resumed_rules
    from store.db import open_store
    from store.errors import StoreError

    if not db.exists():
        return None, None
    try:
        store = open_store(db)
        try:
            with store.read():
                return resumed_rules(store)
        finally:
            store.close()
    except StoreError:  # opening for recording says what is wrong with the file
        return None, None


def _set_rules(args: argparse.Namespace, base):
    """(the rules with --set applied over `base`, the --set values), or (None, {})."""
    from app.pairs import split_pairs
    from controllers.grower_rules import GrowerRules
    from controllers.setpoints import SetpointError

    if not args.set:
        return None, {}
    try:
        pairs = split_pairs(";".join(args.set), "NAME=VALUE", "heat_c=21")
    except ValueError as exc:
        raise _error(f"--set: {exc}") from None
    values = {}
    for name, value in pairs:
        try:
            values[name] = float(value)
        except ValueError:
            raise _error(f"--set {name}={value}: the value must be a number") from None
    try:
        return GrowerRules.from_overrides(values, base or GrowerRules(), where="--set"), values
    except SetpointError as exc:
        raise _error(str(exc)) from None


def _strategy(args: argparse.Namespace, rules):
    from controllers.loop import ScheduleReplay
    from controllers.setpoints import SetpointError, load_setpoint_csv

    if args.strategy == "schedule" and not args.setpoints:
        raise _error("--strategy schedule needs --setpoints CSV")
    if not args.setpoints:
        return rules
    try:
        times, columns = load_setpoint_csv(args.setpoints)
    except SetpointError as exc:
        raise _error(str(exc)) from None
    return ScheduleReplay(rules, times, columns)


def _notifier(args: argparse.Namespace):
    from controllers.notify import CommandNotifier, desktop_notifier

    hooks = []
    if args.notify_command is not None:
        if not args.notify_command.strip():
            raise _error("--notify-command is empty: give a shell command to run per alarm")
        hooks.append(CommandNotifier(args.notify_command))
    if args.desktop_notify:
        hook = desktop_notifier()
        if hook is None:
            raise _error("--desktop-notify: notify-send is not installed; use --notify-command")
        hooks.append(hook)

    def notify(alarm) -> None:
        print(f"serra run: alarm {alarm.state}: {alarm.message}", file=sys.stderr, flush=True)
        for hook in hooks:
            hook(alarm)

    return notify


def _log_rules(loop, recorder, applied, values, refused) -> None:
    """Log refused saved rules and the rules --set put in force (kept for later restarts)."""
    from app.resume import refused_rules_event, rules_event
    from app.session import current_user
    from store.errors import RecordingError

    events = []
    if refused is not None:
        events.append(refused_rules_event(loop.plant_clock(), refused))
    if applied is not None:
        why = "serra run --set " + ", ".join(f"{k}={v:g}" for k, v in values.items())
        events.append(rules_event(applied, loop.plant_clock(), values, current_user(), why))
    for event in events:
        try:
            recorder.record_event(event)
        except RecordingError as exc:  # kept queued and retried with the next tick
            print(f"serra run: {exc}", file=sys.stderr, flush=True)


def run_loop(args: argparse.Namespace) -> int:
    """Run the control loop until SIGINT/SIGTERM (or --max-ticks); exit 0 on a clean stop."""
    from app.db_lock import DbLockError, acquire_db_lock
    from controllers.loop import default_site
    from controllers.overrides import OverrideError
    from drivers.errors import DriverError
    from drivers.nodes import load_nodes
    from drivers.poller import BusPoller

    checks = (
        ("--tick", args.tick),
        ("--speed", args.speed),
        ("--strategy-every", args.strategy_every),
        ("--keep-raw-days", args.keep_raw_days),
    )
    for name, value in checks:
        if not (math.isfinite(value) and value > 0):
            raise _error(f"{name} {value}: must be a positive number")
    if args.max_ticks is not None and args.max_ticks < 1:
        raise _error(f"--max-ticks {args.max_ticks}: must be at least 1")
    overrides = [_parse_override(text) for text in args.override]
    from controllers.overrides import Overrides

    for name, value, duration, who, why in overrides:  # refuse bad ones before touching anything
        try:
            Overrides().set(name, value, now_s=0.0, duration_s=duration, who=who, why=why)
        except OverrideError as exc:
            raise _error(f"--override: {exc}") from None
    from app.paths import default_db_path
    from controllers.grower_rules import GrowerRules

    db = Path(args.db) if args.db else default_db_path()
    saved, refused = _saved_rules(db)
    applied, values = _set_rules(args, saved)
    rules = applied or saved or GrowerRules()
    strategy = _strategy(args, rules)
    notify = _notifier(args)
    site = default_site()
    start = _plant_start(args, site, db)
    try:
        bus = BusPoller(load_nodes(args.nodes), args.port)
    except DriverError as exc:
        raise _error(str(exc)) from None
    try:
        # one writer per database: a GUI or another `serra run` on it refuses this one
        db_lock = acquire_db_lock(db)
    except DbLockError as exc:
        bus.close()
        raise _error(str(exc)) from None
    try:
        changes = {"applied": applied, "values": values, "refused": refused}
        return _run_locked(args, db, bus, strategy, start, site, notify, overrides, changes)
    finally:
        db_lock.unlock()


def _run_locked(args, db, bus, strategy, start, site, notify, overrides, changes) -> int:
    """The part of `run_loop` that runs while this process holds the database's lock."""
    from controllers.clock import PlantClock
    from controllers.loop import ControlLoop, LoopError
    from store.errors import StoreError
    from store.recorder import SqliteRecorder
    from store.rollups import Retention

    retention = Retention(raw_s=args.keep_raw_days * 86400.0)
    try:
        recorder = SqliteRecorder(db, retention=retention).open()
    except StoreError as exc:
        bus.close()
        raise _error(str(exc)) from None
    plant_clock = PlantClock(start, args.speed)
    anchor = {"plant_s": plant_clock(), "wall_s": time.time(), "speed": args.speed}
    try:
        loop = ControlLoop(
            bus,
            strategy,
            recorder,
            plant_clock=plant_clock,
            start_data={"clock": anchor},
            tick_s=args.tick,
            strategy_every_s=args.strategy_every,
            site=site,
            notify=notify,
        )
        loop.start()
        _log_rules(loop, recorder, **changes)
        for name, value, duration, who, why in overrides:
            loop.set_override(name, value, duration, who=who, why=why)
    except LoopError as exc:
        recorder.close()
        bus.close()
        raise _error(str(exc)) from None

    def on_signal(signum, _frame) -> None:
        loop.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    print(
        f"serra run: {strategy.name} on {bus.url}, tick {args.tick:g} s, speed {args.speed:g}, "
        f"recording to {db}" + (" (resumed)" if loop.resumed else ""),
        file=sys.stderr,
        flush=True,
    )
    try:
        ticks = loop.run(max_ticks=args.max_ticks)
    finally:
        try:
            recorder.close()
        except StoreError as exc:
            print(f"serra run: {exc}", file=sys.stderr)
        bus.close()
    left = (
        "left in their safe state"
        if loop.left_safe
        else "unreachable (the nodes' watchdogs must apply their safe state)"
    )
    print(f"serra run: stopped after {ticks} ticks; actuators {left}", file=sys.stderr)
    return 0
