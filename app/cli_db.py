"""`serra db export | import | backup | info`: the farm's record in and out of its database."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.cli import CliError

_DB_HELP = "Serra database (default: serra.db in the user data dir)"
#: How far past the wall clock an imported time may lie (clocks of loggers drift a little).
FUTURE_TOLERANCE_S = 3600.0
#: The wall clock an import checks times against (tests replace it).
wall_clock = time.time


def _db_path(args) -> str:
    """The --db file, or else the database every Serra command and the GUI share."""
    if not args.db:
        from app.paths import default_db_path

        args.db = str(default_db_path())
    return args.db


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `db` subcommand and its actions."""
    db = subparsers.add_parser(
        "db",
        help="export, import, back up the logged data",
        description="Work with a Serra database: climate.csv export and import, online backup.",
    )
    actions = db.add_subparsers(dest="db_command", required=True)

    exp = actions.add_parser(
        "export",
        help="logged climate as climate.csv columns",
        description="Write the logged climate of a time range as climate.csv: time (ISO 8601 "
        "with the local UTC offset, e.g. 2024-03-01T00:05:00+01:00) then canonical columns. "
        "Times are the greenhouse's local time (the site's zone, Europe/Amsterdam unless the "
        "greenhouse configuration says otherwise): --from 2024-03-01 starts at local midnight. "
        "Raw ticks where kept, 5-min means where only rollups remain. To stdout unless --out.",
    )
    exp.add_argument("--db", metavar="FILE", help=_DB_HELP)
    exp.add_argument(
        "--from",
        dest="t_from",
        metavar="T",
        help="start: a date (local midnight) or a local time; an offset (+01:00, Z) overrides",
    )
    exp.add_argument(
        "--to", dest="t_to", metavar="T", help="end, exclusive, read as --from (e.g. 2024-03-02)"
    )
    exp.add_argument("--out", metavar="CSV", help="output file (written whole or not at all)")
    exp.add_argument(
        "--tz",
        metavar="ZONE",
        help="IANA zone of the times written and of --from/--to without offset "
        "(default: the site's zone; e.g. UTC)",
    )
    exp.set_defaults(handler=run_export)

    imp = actions.add_parser(
        "import",
        help="import a logged climate CSV (all or nothing)",
        description="Import a CSV with climate.csv columns (time with offset, canonical "
        "names; actuator columns become readbacks). Refused whole, with row and column, on "
        "unknown columns, bad times, times more than 1 h past the clock, non-numeric values "
        "or values outside the signal's plausible range.",
    )
    imp.add_argument("--db", metavar="FILE", help=_DB_HELP)
    imp.add_argument("csv", metavar="CSV", help="file to import")
    imp.set_defaults(handler=run_import)

    bak = actions.add_parser(
        "backup",
        help="online backup, safe while the loop writes",
        description="Copy the database with SQLite's online backup API into one consistent "
        "snapshot, check it, then rename it into place. An existing --out file is kept "
        "unless --force.",
    )
    bak.add_argument("--db", metavar="FILE", help=_DB_HELP)
    bak.add_argument("--out", required=True, metavar="FILE", help="backup file")
    bak.add_argument("--force", action="store_true", help="replace an existing --out file")
    bak.set_defaults(handler=run_backup)

    info = actions.add_parser("info", help="schema version, channels, time range as JSON")
    info.add_argument("--db", metavar="FILE", help=_DB_HELP)
    info.set_defaults(handler=run_info)


def site_timezone() -> str:
    """The greenhouse site's IANA time zone (greenhouse configuration [site] timezone)."""
    from sim.config import load_config

    return load_config().timezone


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CliError(f"--tz {name!r} is not a time zone; give e.g. Europe/Amsterdam") from None


def _time_arg(text: str | None, option: str, zone: ZoneInfo) -> float | None:
    if text is None:
        return None
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CliError(
            f"{option} {text!r} is not a time; give ISO 8601 like 2024-03-01 or "
            "2024-03-01T06:00+01:00"
        ) from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=zone)
    return t.timestamp()


def _open(path: str, create: bool = False):
    from store.db import open_store
    from store.errors import StoreError

    try:
        return open_store(path, create=create)
    except StoreError as exc:
        raise CliError(str(exc)) from None


def _check_out_folder(out: str | None) -> None:
    """Refuse an output file whose folder does not exist, before any work is done."""
    if out is None:
        return
    folder = Path(out).resolve().parent
    if not folder.is_dir():
        raise CliError(f"--out {out}: no such folder {folder}")


def run_export(args: argparse.Namespace) -> int:
    """Write climate.csv of the chosen range."""
    from store.csvio import write_csv
    from store.errors import StoreError

    if args.tz is None:
        args.tz = site_timezone()
    zone = _zone(args.tz)
    t0 = _time_arg(args.t_from, "--from", zone)
    t1 = _time_arg(args.t_to, "--to", zone)
    if t0 is not None and t1 is not None and t1 <= t0:
        raise CliError(f"--to {args.t_to} is not after --from {args.t_from}")
    _check_out_folder(args.out)
    with _open(_db_path(args)) as store:
        try:
            n = write_csv(store, args.out, t0, t1, tz=args.tz)
        except (StoreError, OSError) as exc:
            raise CliError(str(exc)) from None
    if args.out:
        print(f"wrote {n} rows to {args.out}", file=sys.stderr)
    return 0


def import_channels() -> dict[str, str]:
    """CSV column -> database channel: measurements by name, actuators as their readbacks."""
    from drivers.signals import SIGNALS

    return {
        name: ("rb_" + name if sig.kind == "actuator" else name) for name, sig in SIGNALS.items()
    }


def import_limits() -> dict[str, tuple[float, float]]:
    """CSV column -> its signal's plausible range (drivers.signals); a value outside refuses
    the file."""
    from drivers.signals import SIGNALS

    return {name: (sig.lo, sig.hi) for name, sig in SIGNALS.items()}


def run_import(args: argparse.Namespace) -> int:
    """Import a logged climate CSV all-or-nothing."""
    from store.csvio import import_csv, read_csv
    from store.errors import StoreError

    limits, latest_s = import_limits(), wall_clock() + FUTURE_TOLERANCE_S
    try:  # check the whole file before touching the database
        read_csv(args.csv, import_channels(), limits=limits, latest_s=latest_s)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    with _open(_db_path(args), create=True) as store:
        try:
            n = import_csv(store, args.csv, import_channels(), limits=limits, latest_s=latest_s)
        except StoreError as exc:
            raise CliError(str(exc)) from None
    print(f"imported {n} rows into {_db_path(args)}", file=sys.stderr)
    return 0


def run_backup(args: argparse.Namespace) -> int:
    """Online backup of the database."""
    from store.backup import backup
    from store.errors import StoreError

    out = Path(args.out)
    same = out.exists() and out.resolve() == Path(_db_path(args)).resolve()
    if out.exists() and not same and not args.force:  # the same file: backup() says why not
        raise CliError(f"--out {args.out} exists; add --force to replace it, or name a new file")
    try:
        pages = backup(_db_path(args), args.out)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    print(f"backed up {_db_path(args)} to {args.out} ({pages} pages)", file=sys.stderr)
    return 0


def run_info(args: argparse.Namespace) -> int:
    """Print schema version, channels, tick and event counts and time range as JSON."""
    from store import events, migrations
    from store.timeseries import tick_span

    def utc(t_s: float | None) -> str | None:
        return None if t_s is None else datetime.fromtimestamp(t_s, UTC).isoformat()

    with _open(_db_path(args)) as store:
        span = tick_span(store)
        info = {
            "schema_version": migrations.current_version(store.db),
            "channels": sorted(c for c, k in store.channels.items() if k != "quality"),
            "ticks": span.count,
            "from": utc(span.first_s),
            "to": utc(span.last_s),
            "events": events.count(store),
        }
    print(json.dumps(info, indent=2))
    return 0
