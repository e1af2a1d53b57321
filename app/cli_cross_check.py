"""`serra sim cross-check LOG LOG...`: fit on all logs but one, check on the one left out."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import TYPE_CHECKING

from app.cli import CliError
from app.cli_replay import MODE_LABELS

if TYPE_CHECKING:
    from controllers.calibrate import Progress
    from controllers.calibrate_cross import Rotation
    from controllers.calibrate_ranges import ParamRange


def register(sim_sub: argparse._SubParsersAction) -> None:
    """Add `serra sim cross-check` under `serra sim`."""
    from app.cli_calibrate import add_fit_options

    p = sim_sub.add_parser(
        "cross-check",
        help="fit on all logs but one, check on the one left out, in every rotation",
        description="For each log in turn: fit the named parameters (as `serra sim calibrate` "
        "does) on the other logs, then replay the left-out log with the starting and with the "
        "fitted values. Prints, per rotation, the held-out error before -> after and its RMSE "
        "per signal, and the values each rotation fitted. Writes nothing. See "
        "docs/calibrate.md.",
    )
    add_fit_options(p)
    p.set_defaults(handler=_cross_check)


def _cross_check(args: argparse.Namespace) -> int:
    from app.cli_calibrate import check_fit_args, input_errors, load_targets
    from app.cli_sim import _refuse_empty
    from controllers.calibrate import default_workers
    from controllers.calibrate_cross import rotations
    from sim.config import load_config

    params = check_fit_args(args)
    if len(args.logs) < 2:
        raise CliError("give two logs at least: each is checked with a fit on the others")
    if len(set(args.logs)) != len(args.logs):
        raise CliError(f"a log is given twice: {' '.join(args.logs)}")
    _refuse_empty(args.config, "--config")
    try:
        base = load_config(args.config)
        targets = load_targets(args, args.logs)
        result = rotations(
            targets,
            base,
            params,
            max_evals=args.max_evals,
            seed=args.seed,
            popsize=args.popsize,
            workers=args.workers or default_workers(),
            progress=_progress,
        )
    except input_errors() as exc:
        raise CliError(str(exc)) from None
    labels = dict(zip((t.name for t in targets), args.logs, strict=True))
    report = _report(args, labels, params, result)
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_cross_check(report))
    return 0


def _progress(rotation: int, p: Progress) -> None:
    print(
        f"cross-check: rotation {rotation + 1}, generation {p.generation}, best error "
        f"{p.best:.4f}, {p.evaluations} evaluations, {p.elapsed_s:.1f} s",
        file=sys.stderr,
        flush=True,
    )


def _clean(x: float) -> float | None:
    return None if not math.isfinite(x) else x


def _report(
    args: argparse.Namespace,
    labels: dict[str, str],
    params: list[ParamRange],
    result: list[Rotation],
) -> dict:
    return {
        "mode": args.mode,
        "parameters": [{"name": p.name, "range": [p.lo, p.hi]} for p in params],
        "rotations": [
            {
                "fitted_on": [labels[n] for n in r.fitted_on],
                "checked_on": labels[r.checked_on],
                "fit_objective_before": _clean(r.calibration.start_objective),
                "fit_objective_after": _clean(r.calibration.best_objective),
                "held_out_objective_before": _clean(r.objective_before),
                "held_out_objective_after": _clean(r.objective_after),
                "held_out_rmse_before": {k: _clean(v) for k, v in r.held_out_before.items()},
                "held_out_rmse_after": {k: _clean(v) for k, v in r.held_out_after.items()},
                "start": r.calibration.start,
                "fitted": r.calibration.fitted,
                "evaluations": r.calibration.evaluations,
                "elapsed_s": round(r.calibration.elapsed_s, 2),
            }
            for r in result
        ],
    }


def _f(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def format_cross_check(report: dict) -> str:
    """The rotations as `serra sim cross-check` prints them."""
    short = {"tair_c": ("air C", 2), "rh_pct": ("RH %", 1), "co2_ppm": ("CO2 ppm", 0)}
    rows = report["rotations"]
    signals = [s for s in short if any(s in r["held_out_rmse_before"] for r in rows)]
    fit_w = max(len("fitted on"), *(len(", ".join(r["fitted_on"])) for r in rows)) + 2
    chk_w = max(len("checked on"), *(len(r["checked_on"]) for r in rows)) + 2
    lines = [
        f"cross-check of {len(report['parameters'])} parameters, {MODE_LABELS[report['mode']]}: "
        "fitted on all logs but one, checked on the one left out",
        "error: sum of RMSE / scale (air temperature 1 C, RH 5 %, CO2 50 ppm); "
        "held-out RMSE before -> after",
        "",
        f"{'rot':<5}{'fitted on':<{fit_w}}{'checked on':<{chk_w}}{'held-out error':>18}"
        + "".join(f"{short[s][0]:>18}" for s in signals)
        + f"{'fit error':>18}",
    ]
    for i, r in enumerate(rows, 1):
        cells = ""
        for s in signals:
            d = short[s][1]
            b, a = r["held_out_rmse_before"].get(s), r["held_out_rmse_after"].get(s)
            cells += f"{_f(b, d) + ' -> ' + _f(a, d):>18}"
        held = f"{_f(r['held_out_objective_before'], 3)} -> {_f(r['held_out_objective_after'], 3)}"
        fit = f"{_f(r['fit_objective_before'], 3)} -> {_f(r['fit_objective_after'], 3)}"
        lines.append(
            f"{i:<5}{', '.join(r['fitted_on']):<{fit_w}}{r['checked_on']:<{chk_w}}{held:>18}"
            f"{cells}{fit:>18}"
        )
    lines += ["", f"{'parameter':<40}{'start':>12}" + "".join(f"{'rot ' + str(i):>12}"
              for i in range(1, len(rows) + 1)) + "   range"]  # fmt: skip
    for p in report["parameters"]:
        name = p["name"]
        lines.append(
            f"{name:<40}{rows[0]['start'][name]:>12.4g}"
            + "".join(f"{r['fitted'][name]:>12.4g}" for r in rows)
            + f"   {p['range'][0]:g}..{p['range'][1]:g}"
        )
    worse = [r["checked_on"] for r in rows if _worse(r)]
    if worse:
        lines.append(
            f"note: the fit made the held-out error worse on {', '.join(worse)}: the values "
            "absorb a model error of the logs fitted on rather than the greenhouse's physics"
        )
    return "\n".join(lines) + "\n"


def _worse(r: dict) -> bool:
    b, a = r["held_out_objective_before"], r["held_out_objective_after"]
    return b is not None and a is not None and a > b
