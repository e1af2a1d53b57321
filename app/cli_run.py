"""`serra run`: the headless control loop against a bus, recording to a SQLite database."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import signal
import sys
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: `--plan-every` choices (controllers.learned_realtime.PLAN_EVERY, not imported at start-up).
PLAN_EVERY = ("day", "hour")
#: Key of the learned strategy's crop estimate saved at a stop (store.state).
CROP_STATE_KEY = "learned_crop_estimate"
#: Exit codes of `serra run` (a supervisor restarts on any but 0 and 2; see docs/deploy.md).
EXIT_OK, EXIT_FATAL, EXIT_USAGE, EXIT_NOT_RECORDED = 0, 1, 2, 3


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
        "time is derived from them, e.g. --speed 600 --tick 0.1 for 60 plant-seconds per tick. "
        "--strategy learned plans 24 h of setpoints with a day model from the weather observed "
        "(recorded in --db, then read) and a crop state estimated from the measurements; it "
        "falls back to the grower rules, recorded as an event with its reason, when it cannot. "
        "Exit codes: 0 clean stop, 1 fatal error (the loop gave up), 2 refused at start (bad "
        "option, database in use or read-only), 3 some ticks were not recorded.",
    )
    run.add_argument("--port", metavar="URL", help="port or pyserial URL (default: bus.port)")
    run.add_argument("--nodes", metavar="TOML", help="nodes file (default: virtual greenhouse)")
    run.add_argument("--db", metavar="FILE", help="database (default: serra.db in the data dir)")
    run.add_argument(
        "--strategy",
        choices=("grower", "schedule", "learned"),
        default="grower",
        help="grower rules, a setpoint schedule over them (needs --setpoints), or the learned "
        "strategy (plans 24 h of setpoints with a day model; grower rules when it cannot)",
    )
    run.add_argument(
        "--model",
        metavar="NAME",
        help="day model for --strategy learned (default: the active one; see serra model list)",
    )
    run.add_argument(
        "--plan-every",
        choices=PLAN_EVERY,
        default="day",
        help="--strategy learned: plan the local day at each midnight (day), or the next 24 h "
        "at each whole hour (hour); default day",
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
    run.add_argument(
        "--status-every",
        type=float,
        default=10.0,
        metavar="MIN",
        help="minutes of plant time between status lines on stderr: time, tair, rh, co2, "
        "alarms active, ticks recorded (default 10)",
    )
    run.add_argument("--quiet", action="store_true", help="no status lines")
    run.add_argument(
        "--max-failed-ticks",
        type=int,
        metavar="N",
        help="give up (exit 1, actuators left safe) after N ticks in a row failed with an "
        "unexpected error, for a supervisor to restart a fresh process (default: keep trying)",
    )
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
        with open_store(db) as store, store.read():
            last = search(store, kinds=("loop_started",), limit=1, newest_first=True)
    except StoreError:
        return None
    clock = last[0].data.get("clock") if last else None
    if not isinstance(clock, dict) or clock.get("speed") != speed:
        return None
    return float(clock["plant_s"]) + (time.time() - float(clock["wall_s"])) * speed


def _plant_start(args: argparse.Namespace, site) -> float | None:
    """--start as plant time (None: decided by `_auto_start` once the database is locked)."""
    if args.start is None:
        return None
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        t = datetime.fromisoformat(args.start)
    except ValueError:
        raise _error(f"--start {args.start!r}: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=ZoneInfo(site.timezone))
    return t.timestamp()


def _auto_start(args: argparse.Namespace, db: Path) -> float | None:
    """Plant time at start without --start: the wall clock at speed 1, else resumed or the
    shipped weather's first day."""
    if args.speed == 1.0:
        return None  # a real greenhouse: plant time is the wall clock
    resumed = _resumed_clock(db, args.speed)
    if resumed is not None:
        return resumed
    from sim.weather import default_weather

    return float(default_weather().time_s[0])


def _behind_last_tick(db: Path, last_s: float | None, start: float | None, site) -> str | None:
    """Why a run starting at plant time `start` could record nothing in `db`, or None.

    The recorder refuses every tick not later than the file's last one, so a --start (or a
    speed's first weather day) before it would control without recording anything. A run on
    the wall clock (`start` None) is never refused: a greenhouse whose clock was set back is
    still controlled, its recording alarm naming both times until the clock passes the file's
    end; exit 2 would leave it to no supervisor."""
    if last_s is None or start is None or start > last_s:
        return None
    from datetime import datetime
    from zoneinfo import ZoneInfo

    def local(t: float) -> str:
        return datetime.fromtimestamp(t, ZoneInfo(site.timezone)).isoformat(timespec="seconds")

    return (
        f"{db}: its last tick is at {local(last_s)} and this run would start at {local(start)}, "
        "so every tick would be refused as not later; give a --start after its last tick or "
        "another --db"
    )


def _saved_rules(db: Path):
    """(rules applied last in `db` or None, one-line reason they were refused or None)."""
    from app.resume import resumed_rules
    from store.db import open_store
    from store.errors import StoreError

    if not db.exists():
        return None, None
    try:
        with open_store(db) as store, store.read():
            return resumed_rules(store)
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


def _schedule(args: argparse.Namespace):
    """The --setpoints schedule as (times, columns), or None; refused before anything opens."""
    from controllers.setpoints import SetpointError, load_setpoint_csv

    if args.strategy == "schedule" and not args.setpoints:
        raise _error("--strategy schedule needs --setpoints CSV")
    if not args.setpoints:
        return None
    try:
        return load_setpoint_csv(args.setpoints)
    except SetpointError as exc:
        raise _error(str(exc)) from None


def _learned_model(args: argparse.Namespace):
    """The day model of --strategy learned, loaded and checked before anything opens (or None).

    A model that is missing, refused or unreadable is bad input: one line, exit 2."""
    if args.strategy != "learned":
        if args.model is not None:
            raise _error("--model is for --strategy learned")
        return None
    from models.registry import Registry, RegistryError

    try:
        return Registry().load(args.model)
    except RegistryError as exc:
        raise _error(str(exc)) from None
    except Exception as exc:  # a damaged file skops gets half-way through
        name = args.model or "the active model"
        raise _error(f"model {name!r} cannot be read ({type(exc).__name__}: {exc})") from None


def _recorded_weather(db: Path):
    """The observed weather of the last two days recorded in `db` (a WeatherHistory)."""
    from controllers.learned_realtime import DAY_S, WEATHER_SIGNALS, WeatherHistory
    from store.db import QUALITY_CODES, open_store
    from store.errors import StoreError
    from store.timeseries import read_raw, tick_span

    history = WeatherHistory()
    if not db.exists():
        return history
    try:
        with open_store(db) as store, store.read():
            last = tick_span(store).last_s
            if last is None or not all(k in store.channels for k in WEATHER_SIGNALS):
                return history
            raw = read_raw(store, WEATHER_SIGNALS, last - 2 * DAY_S, last + 1.0)
    except StoreError:  # opening for recording says what is wrong with the file
        return history
    good = QUALITY_CODES["good"]
    for i, t in enumerate(raw.t_s):
        flags = [raw.quality[k][i] for k in WEATHER_SIGNALS if k in raw.quality]
        if all(q == good for q in flags):
            history.add(float(t), {k: float(raw.values[k][i]) for k in WEATHER_SIGNALS})
    return history


def _saved_crop(db: Path, site):
    """The crop estimate kept with the learned strategy's last plan or fallback in `db`, or
    None (then it starts afresh, planting at this start)."""
    from controllers.crop_estimate import CropEstimate
    from store.db import open_store
    from store.errors import StoreError
    from store.events import last_with
    from store.state import load_state

    if not db.exists():
        return None
    try:
        with open_store(db) as store, store.read():
            events = [last_with(store, kind, "crop_estimate")
                      for kind in ("strategy_decision", "strategy_fallback")]  # fmt: skip
            kept = load_state(store, CROP_STATE_KEY)
    except StoreError:
        return None
    found = [(e.time_s, e.data["crop_estimate"]) for e in events if e is not None]
    if kept is not None:
        found.append((kept.time_s, kept.state))
    if not found:
        return None
    _, saved = max(found, key=lambda f: f[0])  # the latest: at a stop, else at the last plan
    return CropEstimate.restore(site.to_array(), saved)


def _keep_crop(recorder, loop, strategy) -> None:
    """Save the learned strategy's crop estimate at the stop, for the next start to go on."""
    from store.errors import RecordingError, StoreError

    crop = getattr(strategy, "crop", None)
    if crop is None:
        return
    try:
        recorder.save_state(CROP_STATE_KEY, loop.plant_clock(), crop.saved())
    except (RecordingError, StoreError) as exc:  # the plan events still hold an older one
        log.warning("crop estimate not saved: %s", exc)


def _strategy(args: argparse.Namespace, rules, schedule, model, db: Path, site):
    """The strategy in force: the grower rules, the --setpoints schedule replayed over them, or
    the learned strategy planning with `model` (the rules as its fallback)."""
    from controllers.loop import ScheduleReplay

    if model is not None:
        from controllers.learned_realtime import RealtimeLearned
        from controllers.learned_strategy import LearnedStrategy

        learned = LearnedStrategy(model_name=model.name, loaded=model)
        learned.fallback, learned.settings = rules, rules.settings
        weather = _recorded_weather(db)
        crop = _saved_crop(db, site)
        return RealtimeLearned(
            learned, site, plan_every=args.plan_every, weather=weather, crop=crop
        )
    return rules if schedule is None else ScheduleReplay(rules, *schedule)


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
        _say(f"alarm {alarm.state}: {alarm.message}", logging.WARNING)
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
            log.warning("%s", exc)


def run_loop(args: argparse.Namespace) -> int:
    """Run the control loop until SIGINT/SIGTERM (or --max-ticks); return the exit code.

    0 clean stop with every tick recorded, 1 fatal (the loop gave up or an unexpected error
    escaped it), 2 refused at start (CliError), 3 ticks were not recorded.
    """
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
        ("--status-every", args.status_every),
    )
    for name, value in checks:
        if not (math.isfinite(value) and value > 0):
            raise _error(f"{name} {value}: must be a positive number")
    for name, n in (("--max-ticks", args.max_ticks), ("--max-failed-ticks", args.max_failed_ticks)):
        if n is not None and n < 1:
            raise _error(f"{name} {n}: must be at least 1")
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
    _set_rules(args, None)  # a bad --set is refused before the database is touched
    schedule = _schedule(args)
    model = _learned_model(args)
    notify = _notifier(args)
    site = default_site()
    start = _plant_start(args, site)
    try:
        bus = BusPoller(load_nodes(args.nodes), args.port)
    except DriverError as exc:
        raise _error(str(exc)) from None
    try:
        # one writer per database file, whatever its name: a GUI or another `serra run` on it
        # refuses this one, and so does a read-only file; taken before anything reads it
        db_lock = acquire_db_lock(db)
    except DbLockError as exc:
        bus.close()
        raise _error(str(exc)) from None
    try:
        if start is None:
            start = _auto_start(args, db)
        saved, refused = _saved_rules(db)
        applied, values = _set_rules(args, saved)
        strategy = _strategy(args, applied or saved or GrowerRules(), schedule, model, db, site)
        changes = {"applied": applied, "values": values, "refused": refused}
        return _run_locked(args, db, bus, strategy, start, site, notify, overrides, changes)
    finally:
        db_lock.unlock()


def _run_locked(args, db, bus, strategy, start, site, notify, overrides, changes) -> int:
    """The part of `run_loop` that runs while this process holds the database's lock."""
    from app.logs import configure_logging
    from app.run_status import StatusRecorder
    from controllers.clock import PlantClock
    from controllers.loop import ControlLoop, LoopError, LoopFailedError
    from store.errors import StoreError
    from store.recorder import SqliteRecorder
    from store.rollups import Retention

    configure_logging("run")

    retention = Retention(raw_s=args.keep_raw_days * 86400.0)
    try:
        recorder: SqliteRecorder | StatusRecorder = SqliteRecorder(db, retention=retention).open()
    except StoreError as exc:
        bus.close()
        raise _error(str(exc)) from None
    behind = _behind_last_tick(db, recorder.last_tick_s, start, site)
    if behind is not None:
        with contextlib.suppress(StoreError):
            recorder.close()
        bus.close()
        raise _error(behind)
    if not args.quiet:
        recorder = StatusRecorder(recorder, args.status_every * 60.0, sys.stderr, site.timezone)
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
            max_failed_ticks=args.max_failed_ticks,
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
    what = strategy.name
    if getattr(strategy, "model_name", None):
        what += f" (model {strategy.model_name}, plans each {strategy.plan_every})"
    _say(
        f"{what} on {bus.url}, tick {args.tick:g} s, speed {args.speed:g}, "
        f"recording to {db}" + (" (resumed)" if loop.resumed else "")
    )
    fatal: str | None = None
    close_error: str | None = None
    try:
        loop.run(max_ticks=args.max_ticks)
    except LoopFailedError as exc:
        fatal = str(exc)  # each failure was logged with its traceback as it happened
    except Exception as exc:  # anything else that escapes the loop: say it, exit non-zero
        log.exception("the control loop stopped on an unexpected error")
        fatal = f"{type(exc).__name__}: {exc}"
    finally:
        _keep_crop(recorder, loop, strategy)
        try:
            recorder.close()
        except StoreError as exc:
            close_error = str(exc)
        bus.close()
    left = (
        "left in their safe state"
        if loop.left_safe
        else "unreachable (the nodes' watchdogs must apply their safe state)"
    )
    _say(f"stopped after {loop.ticks} ticks; actuators {left}")
    code = EXIT_OK
    counts = recorder.status()
    lost = counts["queued_ticks"] + counts["dropped_ticks"] + counts["refused_ticks"]
    if lost or close_error:
        reason = recorder.last_error or close_error
        _say(f"error: {lost} ticks were not recorded: {reason}", logging.ERROR)
        code = EXIT_NOT_RECORDED
    if fatal is not None:
        _say(f"fatal: {fatal}", logging.CRITICAL)
        code = EXIT_FATAL
    return code


def _say(text: str, level: int = logging.INFO) -> None:
    """One of `serra run`'s documented stderr lines, also kept in its log file."""
    from app.logs import PRINTED

    print(f"serra run: {text}", file=sys.stderr, flush=True)
    log.log(level, "%s", text, extra=PRINTED)
