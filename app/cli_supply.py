"""`serra supply alerts | reorder | import | export`: stock, expiry and orders from the shell."""

from __future__ import annotations

import argparse
import json
import math
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli import CliError

if TYPE_CHECKING:
    from supply.service import SupplyService

_IMPORT_KINDS = ("products", "bays", "lots")
_EXPORT_KINDS = ("products", "bays", "stock", "lots", "moves", "alerts")


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", metavar="FILE", help="Serra database (default: serra.db in the user data dir)"
    )


def _add_date(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--date", metavar="YYYY-MM-DD", help=help_text)


def _clock(args: argparse.Namespace) -> Callable[[], datetime] | None:
    """A clock stopped at the end of `--date` (local time), or None for the real one."""
    if not getattr(args, "date", None):
        return None
    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        raise CliError(f"--date {args.date!r} is not a date; use YYYY-MM-DD") from None
    end = datetime.combine(day, time.max).astimezone()
    return lambda: end


def _import_columns_help() -> str:
    """The columns of each import kind, required ones marked, for `supply import --help`."""
    from supply.columns import ALLOWED, REQUIRED

    lines = ["columns (* = required):"]
    for kind in _IMPORT_KINDS:
        names = [f"{c}*" if c in REQUIRED[kind] else c for c in ALLOWED[kind]]
        first = f"  {kind + ':':<10}"
        lines.append(
            textwrap.fill(", ".join(names), 78, initial_indent=first, subsequent_indent=" " * 12)
        )
    lines.append("e.g. serra supply import products products.csv   with the header code,name,unit")
    return "\n".join(lines)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serra supply ...` to the command line."""
    supply = subparsers.add_parser("supply", help="feed and input stock, expiry, reorders")
    sub = supply.add_subparsers(dest="supply_command", required=True)

    alerts = sub.add_parser("alerts", help="lots in stock whose alert date is reached")
    _add_db(alerts)
    _add_date(alerts, "as seen on this day (default today)")
    alerts.add_argument("--buckets", action="store_true", help="also on-hand per expiry bucket")
    alerts.add_argument("--json", action="store_true", help="JSON instead of a table")
    alerts.set_defaults(handler=_alerts)

    reorder = sub.add_parser("reorder", help="what to order now, per product")
    _add_db(reorder)
    reorder.add_argument(
        "--demand", action="append", default=[], metavar="CODE=PER_DAY",
        help="daily demand of a product in its unit (else from the last --history-days of issues)",
    )  # fmt: skip
    reorder.add_argument(
        "--herd", action="append", default=[], metavar="CODE=KIND:HEAD[:BODY_KG]",
        help="livestock eating a feed, e.g. PIG-GROW=finishing_pig:400 or "
        "CATTLE=dairy_cow:60:650 (kinds: finishing_pig, lactating_sow, gestating_sow, "
        "laying_hen, broiler, beef_cow, dairy_cow)",
    )  # fmt: skip
    reorder.add_argument(
        "--use", action="append", default=[], metavar="CODE=V1,V2,...",
        help="the greenhouse's measured daily use of a product (one value or a series of days)",
    )  # fmt: skip
    _add_date(
        reorder,
        "as seen at the end of this day: the demand history ends there and lots past their "
        "removal date then do not count (default today; stock and orders as they are now)",
    )
    reorder.add_argument("--history-days", type=int, default=90, metavar="N")
    reorder.add_argument(
        "--review-days", type=float, default=14.0, metavar="N",
        help="days of demand on top of the reorder point for products without a max stock",
    )  # fmt: skip
    reorder.add_argument("--all", action="store_true", help="also products that need nothing")
    reorder.add_argument("--json", action="store_true", help="JSON instead of a table")
    reorder.set_defaults(handler=_reorder)

    imp = sub.add_parser(
        "import",
        help="import products, bays or received lots from CSV",
        description="Import a CSV of one kind, all rows or none. The header names the "
        "columns, in any order; required ones must be filled in every row.",
        epilog=_import_columns_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("kind", choices=_IMPORT_KINDS, help="what the file holds")
    imp.add_argument("csv", metavar="CSV", help="UTF-8 CSV with a header row")
    _add_db(imp)
    imp.add_argument("--who", help="who books the receipts (default: your login name)")
    imp.set_defaults(handler=_import)

    exp = sub.add_parser(
        "export",
        help="export a supply table as CSV",
        description="Write a supply table as CSV. Times (moves) are ISO 8601 local time with "
        "the UTC offset; dates are YYYY-MM-DD.",
    )
    exp.add_argument("kind", choices=_EXPORT_KINDS)
    _add_db(exp)
    exp.add_argument("--out", metavar="CSV", help="file to write (default: stdout)")
    _add_date(exp, "for the alerts export: as seen on this day (default today)")
    exp.set_defaults(handler=_export)


@contextmanager
def _service(args: argparse.Namespace, *, create: bool = False) -> Iterator[SupplyService]:
    """The supply service on --db; only an import may create the database file."""
    from store.errors import StoreError
    from supply.errors import SupplyError
    from supply.service import SupplyService

    if args.db is None:
        from app.paths import default_db_path

        args.db = str(default_db_path())
    if not create and not Path(args.db).exists():
        raise CliError(
            f"{args.db}: no Serra database there; give --db, or create it with "
            "`serra supply import products ...`, `serra run` or the app"
        )
    clock = _clock(args)
    try:
        service = SupplyService(args.db, clock=clock)
    except (SupplyError, StoreError) as exc:
        raise CliError(str(exc)) from None
    try:
        yield service
    except (SupplyError, StoreError) as exc:
        raise CliError(str(exc)) from None
    finally:
        service.close()


def _alerts(args: argparse.Namespace) -> int:
    with _service(args) as service:
        alerts = service.alerts()
        buckets = service.expiry_buckets() if args.buckets else None
    if args.json:
        out: dict[str, object] = {
            "alerts": [
                {
                    "product": a.product,
                    "lot_id": a.lot_id,
                    "lot_no": a.lot_no,
                    "alert": a.alert.isoformat(),
                    "expiry": a.expiry.isoformat() if a.expiry else None,
                    "days_left": a.days_left,
                    "on_hand": a.on_hand,
                    "expired": a.expired,
                }
                for a in alerts
            ]
        }
        if buckets is not None:
            out["buckets"] = buckets
        print(json.dumps(out, indent=1))
        return 0
    if not alerts:
        print("no lot in stock has reached its alert date")
    else:
        print(f"{'product':<16} {'lot':<14} {'on hand':>10} {'expiry':<10} {'days':>5}")
        for a in alerts:
            flag = "  EXPIRED" if a.expired else ""
            print(
                f"{a.product:<16} {a.lot_no:<14} {a.on_hand:>10g} "
                f"{a.expiry.isoformat() if a.expiry else '-':<10} {a.days_left:>5}{flag}"
            )
    if buckets is not None:
        print()
        for name, qty in buckets.items():
            print(f"{name:<10} {qty:>12g}")
    return 0


def _pairs(values: list[str], option: str) -> Iterator[tuple[str, str]]:
    for text in values:
        code, sep, rest = text.partition("=")
        if not sep or not code.strip() or not rest.strip():
            raise CliError(f"{option} {text!r}: write CODE=VALUE")
        yield code.strip(), rest.strip()


def _per_day(option: str, value: str) -> float:
    """Daily demand from one `--demand`, `--use` or `--herd` value (ValueError on bad numbers)."""
    from supply import reorder

    if option == "--demand":
        return reorder.demand_from_use(float(value))
    if option == "--use":
        return reorder.demand_from_use([float(v) for v in value.split(",")])
    parts = value.split(":")
    if len(parts) not in (2, 3):
        raise ValueError
    weight = float(parts[2]) if len(parts) == 3 else None
    return reorder.demand_from_livestock([reorder.Herd(parts[0], int(parts[1]), weight)])


_FORMS = {
    "--demand": "a number per day",
    "--use": "numbers separated by commas",
    "--herd": "KIND:HEAD[:BODY_KG] with whole heads",
}


def _demand(args: argparse.Namespace) -> dict[str, float]:
    from supply.errors import SupplyError

    demand: dict[str, float] = {}
    for option, values in (("--demand", args.demand), ("--use", args.use), ("--herd", args.herd)):
        for code, value in _pairs(values, option):
            try:
                demand[code] = demand.get(code, 0.0) + _per_day(option, value)
            except ValueError:
                raise CliError(f"{option} {code}={value}: give {_FORMS[option]}") from None
            except SupplyError as exc:
                raise CliError(f"{option} {code}={value}: {exc}") from None
    return demand


def _reorder(args: argparse.Namespace) -> int:
    if args.history_days <= 0:
        raise CliError(f"--history-days must be > 0, got {args.history_days}")
    if not (math.isfinite(args.review_days) and args.review_days >= 0):
        raise CliError(f"--review-days must be a number >= 0, got {args.review_days}")
    demand = _demand(args)
    with _service(args) as service:
        suggestions = service.reorder(
            demand, history_days=args.history_days, review_days=args.review_days
        )
        units = {p.code: p.unit for p in service.products()}
    shown = [s for s in suggestions if args.all or s.qty > 0]
    if args.json:
        print(json.dumps([s.__dict__ for s in shown], indent=1))
        return 0
    # below the reorder point, yet no whole pack is worth ordering: say so, with the reason
    held = [
        s
        for s in suggestions
        if s.qty == 0 and s.position <= s.reorder_point and s.reorder_point > 0 and s not in shown
    ]
    if not shown:
        if not held:
            print("nothing to order: every product is above its reorder point")
        for s in held:
            print(f"nothing to order for {s.product} (below its reorder point): {s.note}")
        return 0
    print(f"{'product':<16} {'order':>10} {'unit':<5} {'position':>10} {'reorder pt':>10} "
          f"{'per day':>8}  note")  # fmt: skip
    for s in shown:
        print(
            f"{s.product:<16} {s.qty:>10g} {units[s.product]:<5} {s.position:>10.1f} "
            f"{s.reorder_point:>10.1f} {s.daily_demand:>8.2f}  {s.note}"
        )
    for s in held:
        print(f"nothing to order for {s.product} (below its reorder point): {s.note}")
    return 0


def _import(args: argparse.Namespace) -> int:
    who = args.who
    if who is None:
        import getpass

        try:
            who = getpass.getuser()
        except Exception:  # no login name (service account, odd platform)
            who = "staff"
    with _service(args, create=True) as service:
        n = service.import_csv(args.kind, args.csv, who)
    print(f"imported {n} {args.kind} rows into {args.db}", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    if args.date and args.kind != "alerts":
        raise CliError(
            f"--date applies to the alerts export only; {args.kind} are exported as they are now"
        )
    with _service(args) as service:
        if args.out:
            try:
                n = service.export_csv(args.kind, args.out)
            except OSError as exc:
                raise CliError(f"{args.out}: cannot write ({exc.strerror})") from None
            print(f"wrote {n} {args.kind} rows to {args.out}", file=sys.stderr)
        else:
            service.export_csv(args.kind, sys.stdout)
    return 0
