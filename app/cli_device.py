"""`serra device` (the virtual greenhouse as serial hardware) and `serra poll` (read a bus)."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
from datetime import UTC, datetime


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `device` and `poll` subcommands."""
    dev = subparsers.add_parser(
        "device",
        help="run the virtual greenhouse as Modbus RTU hardware",
        description="Serve the simulated greenhouse's sensor and actuator nodes over Modbus RTU "
        "on a pseudo-terminal or a TCP socket. Prints the path or URL to open on the first "
        "stdout line, then serves until SIGINT/SIGTERM.",
    )
    where = dev.add_mutually_exclusive_group(required=True)
    where.add_argument("--pty", action="store_true", help="serve on a new pseudo-terminal")
    where.add_argument("--listen", metavar="URL", help="serve on socket://HOST:PORT (0 = any)")
    dev.add_argument(
        "--link",
        metavar="PATH",
        help="with --pty: a symlink at PATH to the pty, printed instead of the pty path; a "
        "restarted device takes the link over, so a master reopening PATH finds it",
    )
    dev.add_argument("--nodes", metavar="TOML", help="nodes file (default: virtual greenhouse)")
    dev.add_argument("--speed", type=float, default=1.0, help="plant seconds per wall second")
    dev.add_argument("--start", metavar="DATE", help="plant start date in the weather (local)")
    dev.add_argument(
        "--state",
        metavar="FILE",
        help="a database of the device's own keeping the plant's state (created if missing): "
        "the plant resumes from it, and is saved to it every 10 plant minutes and at stop, so "
        "a season goes on across restarts (not the --db of `serra run`: one writer per file)",
    )
    dev.add_argument(
        "--watchdog-s",
        type=float,
        default=60.0,
        help="safe state after this many wall seconds without a write (0 = off; default 60)",
    )
    faults = dev.add_argument_group("fault injection (probabilities per reply, seeded)")
    faults.add_argument("--fault-crc", type=float, default=0.0, metavar="P")
    faults.add_argument("--fault-drop", type=float, default=0.0, metavar="P")
    faults.add_argument("--fault-slow", type=float, default=0.0, metavar="P")
    faults.add_argument("--slow-s", type=float, default=0.5, help="delay of a slow reply")
    faults.add_argument("--fault-garbage", type=float, default=0.0, metavar="P")
    faults.add_argument("--fault-wrong-slave", type=float, default=0.0, metavar="P")
    faults.add_argument(
        "--disconnect",
        action="append",
        default=[],
        metavar="START:END",
        help="seconds after start during which the device is gone (repeatable)",
    )
    faults.add_argument("--seed", type=int, default=0, help="seed of the fault draws")
    dev.set_defaults(handler=run_device)

    poll = subparsers.add_parser(
        "poll",
        help="read every node of a bus and print the signals",
        description="Poll every node in the nodes file and print each signal with value, unit, "
        "quality and age. Exit 0 if any node answered, 1 if none did.",
    )
    poll.add_argument("--port", metavar="URL", help="port or pyserial URL (default: bus.port)")
    poll.add_argument("--nodes", metavar="TOML", help="nodes file (default: virtual greenhouse)")
    poll.add_argument("--once", action="store_true", help="one cycle, then exit")
    poll.add_argument("--json", action="store_true", help="print JSON instead of a table")
    poll.add_argument("--interval", type=float, default=1.0, help="seconds between cycles")
    poll.set_defaults(handler=run_poll)


def _faults(args: argparse.Namespace):
    from sim.device_faults import FaultConfig

    windows = []
    for text in args.disconnect:
        try:
            start, end = (float(x) for x in text.split(":"))
        except ValueError:
            raise _cli_error(f"--disconnect {text!r}: expected START:END in seconds") from None
        windows.append((start, end))
    try:
        return FaultConfig(
            crc_p=args.fault_crc,
            drop_p=args.fault_drop,
            slow_p=args.fault_slow,
            slow_s=args.slow_s,
            garbage_p=args.fault_garbage,
            wrong_slave_p=args.fault_wrong_slave,
            disconnect=tuple(windows),
            seed=args.seed,
        )
    except ValueError as exc:
        raise _cli_error(str(exc)) from None


def _cli_error(message: str) -> Exception:
    from app.cli import CliError

    return CliError(message)


def run_device(args: argparse.Namespace) -> int:
    """Serve the virtual greenhouse until SIGINT/SIGTERM (exit 1 if the final save failed)."""
    from drivers.errors import DriverError
    from drivers.nodes import load_nodes

    if not (math.isfinite(args.speed) and args.speed > 0):
        raise _cli_error(f"--speed {args.speed}: must be a positive number")
    if not (math.isfinite(args.watchdog_s) and args.watchdog_s >= 0):
        raise _cli_error(f"--watchdog-s {args.watchdog_s}: must be >= 0 (0 = off)")
    if args.link and not args.pty:
        raise _cli_error("--link PATH only applies to --pty (a socket:// URL is already stable)")
    faults = _faults(args)
    try:
        nodes = load_nodes(args.nodes)
    except DriverError as exc:
        raise _cli_error(str(exc)) from None
    keeper = _StateKeeper(args.state) if args.state else None
    try:
        return _serve(args, nodes, faults, keeper)
    finally:
        if keeper is not None:
            keeper.close()


def _serve(args: argparse.Namespace, nodes, faults, keeper: _StateKeeper | None) -> int:
    from sim.device_server import serve
    from sim.plant import Plant
    from sim.virtual_device import DeviceError, VirtualDevice

    plant = keeper.resume(args.start) if keeper is not None else None
    try:
        plant = plant or (Plant(start=args.start) if args.start else Plant())
    except ValueError as exc:
        raise _cli_error(f"--start {args.start!r}: {exc}") from None
    # One plant second now, so a (re)compile of the physics happens before the first request
    # rather than while a master waits for a reply.
    plant.advance(1.0)
    try:
        device = VirtualDevice(
            plant, nodes, speed=args.speed, watchdog_s=args.watchdog_s, faults=faults
        )
        server = serve(device, "pty" if args.pty else args.listen, args.link)
    except (DeviceError, ValueError, OSError) as exc:
        raise _cli_error(str(exc)) from None

    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    print(server.address, flush=True)
    names = ", ".join(f"{n.name}={n.slave}" for n in nodes.nodes)
    print(
        f"serra device: serving {names} at speed {args.speed:g}, watchdog {args.watchdog_s:g} s",
        file=sys.stderr,
        flush=True,
    )
    server.start()
    while not done.wait(0.2):
        if keeper is not None:
            keeper.maybe_save(device)
    server.stop()
    saved = keeper is None or keeper.save(device)
    print(f"serra device: stopped; {json.dumps(device.status())}", file=sys.stderr)
    return 0 if saved else 1


class _StateKeeper:
    """The device's plant state in a database file of its own (store.state, key "plant")."""

    def __init__(self, path: str) -> None:
        from app.db_lock import DbLockError, acquire_db_lock
        from store.db import open_store
        from store.errors import StoreError

        self.path = path
        self.saved_s: float | None = None
        self.failing = False
        try:
            self.lock = acquire_db_lock(path)
        except DbLockError as exc:
            raise _cli_error(f"--state: {exc}") from None
        try:
            self.store = open_store(path)
        except StoreError as exc:
            self.lock.unlock()
            raise _cli_error(f"--state: {exc}") from None

    def resume(self, start: str | None):
        """The saved plant (None: none saved and --start given); logs a `sim_started` event."""
        from app.resume import resume_plant
        from store import events as ev
        from store.state import load_state

        if start is not None:
            with self.store.read():
                if load_state(self.store, "plant") is not None:
                    raise _cli_error(
                        f"--start {start!r}: {self.path} holds a saved plant state; drop "
                        "--start to continue it, or give a new --state file"
                    )
            return None
        resumed = resume_plant(self.store)
        e = resumed.event()
        row = ev.event_row(e.time_s, e.kind, e.source, e.message, e.who, e.data)
        with self.store.write():
            ev.append_rows(self.store, [row])
        print(f"serra device: {resumed.message}", file=sys.stderr, flush=True)
        return resumed.plant

    def maybe_save(self, device) -> None:
        """Save when the last save is SAVE_EVERY_S plant seconds old."""
        from app.resume import SAVE_EVERY_S

        if self.saved_s is None or device.plant.time_s >= self.saved_s + SAVE_EVERY_S:
            self.save(device)

    def save(self, device) -> bool:
        """Save the plant now; say so on stderr (once per failing spell) when it cannot be."""
        import sqlite3

        from app.resume import PLANT_KEY
        from store.errors import StoreError
        from store.state import save_state

        time_s, state = device.plant_state()
        try:
            with self.store.write():
                save_state(self.store, PLANT_KEY, time_s, state)
        except (StoreError, sqlite3.Error) as exc:
            if not self.failing:
                print(f"serra device: cannot save the plant state to {self.path}: {exc}",
                      file=sys.stderr, flush=True)  # fmt: skip
            self.failing = True
            return False
        self.saved_s, self.failing = time_s, False
        return True

    def close(self) -> None:
        """Close the file and release its lock."""
        self.store.close()
        self.lock.unlock()


def run_poll(args: argparse.Namespace) -> int:
    """Poll the bus once (or every --interval seconds) and print the signals."""
    from drivers.errors import DriverError
    from drivers.nodes import load_nodes
    from drivers.poller import BusPoller

    if not (math.isfinite(args.interval) and args.interval > 0):
        raise _cli_error(f"--interval {args.interval}: must be a positive number of seconds")
    try:
        nodes = load_nodes(args.nodes)
        poller = BusPoller(nodes, args.port)
    except DriverError as exc:
        raise _cli_error(str(exc)) from None
    if not poller.open():
        raise _cli_error(poller.why_not_open())  # names the port once, with what to do
    try:
        while True:
            poller.poll_once()
            answered = any(h.last_good is not None for h in poller.health().values())
            _print_cycle(poller, args.json)
            if args.once:
                return 0 if answered else 1
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0
    finally:
        poller.close()


def _print_cycle(poller, as_json: bool) -> None:
    now = time.time()
    readings = poller.readings(now)
    if as_json:
        doc = {
            "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
            "port": poller.url,
            "signals": {k: r.as_dict(now) for k, r in readings.items()},
            "health": {k: h.as_dict() for k, h in poller.health().items()},
        }
        print(json.dumps(doc), flush=True)
        return
    print(f"{'signal':24} {'value':>12} {'unit':10} {'quality':7} {'age':>8}  node")
    for key, r in readings.items():
        value = "-" if r.value is None else f"{r.value:.6g}"
        age = r.age(now)
        age_text = "-" if age is None else f"{age:.1f}s"
        print(f"{key:24} {value:>12} {r.unit:10} {r.quality.value:7} {age_text:>8}  {r.node}")
    for name, h in poller.health().items():
        if h.wrong_device:
            print(f"node {name}: wrong device at slave {h.slave}: {h.identity}")
    print(flush=True)
