"""`serra sim calibrate LOG...`: fit greenhouse parameters to logged compartments."""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli import CliError
from app.cli_replay import MODE_LABELS

if TYPE_CHECKING:
    from controllers.calibrate import Progress, Target
    from controllers.calibrate_ranges import ParamRange


def register(sim_sub: argparse._SubParsersAction) -> None:
    """Add `serra sim calibrate` (and `serra sim cross-check`, which shares its options)."""
    from app.cli_cross_check import register as register_cross_check

    p = sim_sub.add_parser(
        "calibrate",
        help="fit greenhouse parameters to logged compartments (replay error)",
        description="Fit the named greenhouse parameters, within their documented ranges "
        "(sim/greenhouse_ranges.toml), to one or more logged compartments by minimising the "
        "replay error: per log the sum of RMSE / scale over air temperature (1 C), RH (5 %) "
        "and CO2 (50 ppm), averaged over the logs. CMA-ES, one batched season run per "
        "generation. Writes a --config TOML. See docs/calibrate.md.",
    )
    add_fit_options(p)
    p.add_argument("--out", required=True, metavar="TOML", help="write the fitted config here")
    p.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="LOG",
        help="a log to check the fit on, not fitted on: its RMSE before and after is printed "
        "(may be given more than once)",
    )
    p.set_defaults(handler=_calibrate)
    register_cross_check(sim_sub)


def add_fit_options(p: argparse.ArgumentParser) -> None:
    """The options of a fit: the logs, the parameters, the period, the optimiser, --json."""
    p.add_argument(
        "logs",
        nargs="+",
        metavar="LOG",
        help="shipped compartment (reference, igrow, croperators), challenge folder or climate "
        "CSV, as for `serra sim replay`",
    )
    p.add_argument(
        "--fit",
        action="append",
        required=True,
        metavar="SECTION.KEY[,...]",
        help="greenhouse parameters to fit, e.g. structure.cover_transmission,"
        "ventilation.leakage_coefficient (only keys with a range may be fitted)",
    )
    p.add_argument(
        "--mode",
        choices=tuple(MODE_LABELS),
        default="actuators",
        help="actuators: open loop (default); setpoints: closed loop",
    )
    p.add_argument("--config", metavar="TOML", help="start from this config (default: shipped)")
    p.add_argument(
        "--weather",
        metavar="CSV",
        help="weather file (default: each log's own, else the shipped AGC 2018 season)",
    )
    p.add_argument("--start", metavar="DATE", help="first local day to fit on, YYYY-MM-DD")
    p.add_argument("--days", type=float, metavar="N", help="days to fit on (default: all)")
    p.add_argument(
        "--max-evals",
        type=int,
        default=600,
        metavar="N",
        help="stop after about N candidate seasons (default 600)",
    )
    p.add_argument(
        "--popsize",
        type=int,
        default=None,
        metavar="N",
        help="candidates per generation (default CMA-ES: 4 + 3 ln(parameters))",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the optimiser (default 0)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes sharing each generation (default: one per core)",
    )
    p.add_argument("--physics-step", type=float, default=None, metavar="S", help="physics step s")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def check_fit_args(args: argparse.Namespace) -> list[ParamRange]:
    """The parameters `--fit` names; bad options (budget, workers, seed) raise CliError."""
    from controllers.calibrate_ranges import FitError, parse_fit

    try:
        params = parse_fit(args.fit)
    except FitError as exc:
        raise CliError(str(exc)) from None
    if args.max_evals < 1:
        raise CliError(f"--max-evals must be at least 1, got {args.max_evals}")
    if args.popsize is not None and args.popsize < 2:
        raise CliError(f"--popsize must be at least 2, got {args.popsize}")
    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    if args.seed < 0:
        raise CliError(f"--seed must not be negative, got {args.seed}")
    return params


def _check_out(args: argparse.Namespace) -> None:
    out = Path(args.out)
    if out.is_dir():
        raise CliError(f"--out {args.out}: is a folder; name the TOML file to write")
    if not out.parent.is_dir():
        raise CliError(f"--out {args.out}: no folder {out.parent}; create it first")


def load_targets(args: argparse.Namespace, sources: list[str]) -> list[Target]:
    """Each log in `sources` prepared for a fit with the options of `add_fit_options`.

    Bad logs raise one of `input_errors()`.
    """
    from app.cli_replay import load_inputs
    from controllers.calibrate import prepare_target
    from sim.config import load_config
    from sim.plant import DEFAULT_PHYSICS_STEP_S

    step = DEFAULT_PHYSICS_STEP_S if args.physics_step is None else args.physics_step
    start = load_config(args.config)  # places a logged daily CO2 dose (the fit's start)
    targets = []
    for source in sources:
        one = argparse.Namespace(
            log=source,
            columns=None,
            time_format=None,
            setpoints=None,
            weather=args.weather,
            weather_columns=None,
            days=args.days,
            physics_step=args.physics_step,
            config=None,
        )
        log, weather, _ = load_inputs(one)
        targets.append(
            prepare_target(
                log,
                weather,
                mode=args.mode,
                start=args.start,
                days=args.days,
                physics_step_s=step,
                config=start,
            )
        )
    return targets


def input_errors() -> tuple[type[Exception], ...]:
    """Errors of a fit's inputs (logs, weather, config, ranges): shown in one line."""
    from app.cli_replay import replay_input_errors as replay_errors
    from controllers.calibrate import CalibrateError

    return (*replay_errors(), CalibrateError)


def progress_line(p: Progress) -> None:
    """One line on stderr per generation of the optimiser."""
    print(
        f"calibrate: generation {p.generation}, best error {p.best:.4f}, "
        f"{p.evaluations} evaluations, {p.elapsed_s:.1f} s",
        file=sys.stderr,
        flush=True,
    )


def _calibrate(args: argparse.Namespace) -> int:
    from app.cli_sim import _refuse_empty
    from controllers.calibrate import calibrate, default_workers, objective, replay_errors
    from controllers.calibrate_toml import config_toml, write_atomic
    from sim.config import load_config, replace_values

    params = check_fit_args(args)
    _check_out(args)
    both = sorted(set(args.check) & set(args.logs))
    if both:
        raise CliError(f"--check {both[0]}: also fitted on; check on a log the fit does not see")
    _refuse_empty(args.config, "--config")
    try:
        base = load_config(args.config)
        targets = load_targets(args, args.logs)
        checks = load_targets(args, args.check)
        print(
            f"calibrate: {_count(len(params), 'parameter')}, {_count(len(targets), 'log')}, "
            f"{sum(t.window.time_s.size for t in targets) * 300 / 86400:.1f} days replayed per "
            "candidate",
            file=sys.stderr,
        )
        before = [replay_errors(t, base) for t in targets]
        checked_before = [replay_errors(t, base) for t in checks]
        result = calibrate(
            targets,
            base,
            params,
            max_evals=args.max_evals,
            seed=args.seed,
            popsize=args.popsize,
            workers=args.workers or default_workers(),
            progress=progress_line,
        )
        fitted_config = replace_values(base, result.fitted)
    except input_errors() as exc:
        raise CliError(str(exc)) from None
    obj_before = objective(before)
    notes = {
        p.name: f"fitted, start {result.start[p.name]!r}, range {p.lo:g}..{p.hi:g}" for p in params
    }
    header = [
        f"Greenhouse configuration fitted by `serra sim calibrate` on {date.today().isoformat()}",
        f"logs: {', '.join(t.name for t in targets)}; mode {args.mode}",
        f"objective (docs/calibrate.md) before {obj_before:.4f}; see the run's output for after",
    ]
    text = config_toml(fitted_config, result.fitted, notes, header)
    try:
        write_atomic(args.out, text)
    except OSError as exc:
        raise CliError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    # the figures after are those of the file as written, replayed as `serra sim replay` does
    written = load_config(args.out)
    after = [replay_errors(t, written, as_replayed=True) for t in targets]
    report = _report(args, targets, params, result, before, after)
    report["checked"] = [
        {
            "log": t.name,
            "rmse_before": {k: _clean(v) for k, v in b.items()},
            "rmse_after": {
                k: _clean(v) for k, v in replay_errors(t, written, as_replayed=True).items()
            },
        }
        for t, b in zip(checks, checked_before, strict=True)
    ]
    for c in report["checked"]:
        c["objective_before"] = _clean(objective([_nan(c["rmse_before"])]))
        c["objective_after"] = _clean(objective([_nan(c["rmse_after"])]))
    if args.json:
        json.dump(report, sys.stdout)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_result(report))
    return 0


def _clean(x: float) -> float | None:
    return None if not math.isfinite(x) else x


def _nan(rmse: dict[str, float | None]) -> dict[str, float]:
    return {k: math.nan if v is None else v for k, v in rmse.items()}


def _report(args, targets, params, result, before, after) -> dict:
    from controllers.calibrate import SCALES, objective

    return {
        "logs": [t.name for t in targets],
        "mode": args.mode,
        "days": [round(t.window.time_s.size * t.window.step_s / 86400.0, 3) for t in targets],
        "scales": SCALES,
        "objective_before": _clean(objective(before)),
        "objective_after": _clean(objective(after)),
        "rmse_before": [{k: _clean(v) for k, v in e.items()} for e in before],
        "rmse_after": [{k: _clean(v) for k, v in e.items()} for e in after],
        "parameters": [
            {
                "name": p.name,
                "start": result.start[p.name],
                "fitted": result.fitted[p.name],
                "change_pct": (result.fitted[p.name] / result.start[p.name] - 1.0) * 100.0
                if result.start[p.name]
                else None,
                "range": [p.lo, p.hi],
                "at_bound": _at_bound(p, result.fitted[p.name]),
            }
            for p in params
        ],
        "evaluations": result.evaluations,
        "generations": result.generations,
        "elapsed_s": round(result.elapsed_s, 2),
        "stop": result.stop,
        "out": str(args.out),
    }


def _at_bound(p, value: float) -> str | None:
    """'lower'/'upper' when `value` sits at an end of the range (within 0.5 % of its unit
    span): the data would have it further out, a sign of a model error, not a coefficient."""
    u = p.to_unit(value)
    return "lower" if u <= 0.005 else "upper" if u >= 0.995 else None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _f(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def format_result(report: dict) -> str:
    """The result as `serra sim calibrate` prints it: errors before and after, fitted values."""
    from controllers.replay import LABELS

    digits = {"co2_ppm": 1}
    lines = [
        f"fitted {_count(len(report['parameters']), 'parameter')} to "
        f"{_count(len(report['logs']), 'log')}, "
        f"{MODE_LABELS[report['mode']]}: {report['evaluations']} evaluations in "
        f"{report['generations']} generations, {report['elapsed_s']:.1f} s ({report['stop']})",
        "error: mean over logs of the sum of RMSE / scale (air temperature 1 C, RH 5 %, "
        "CO2 50 ppm)",
        "",
        f"{'RMSE':<36}{'before':>10}{'after':>10}",
    ]
    for name, b, a in zip(report["logs"], report["rmse_before"], report["rmse_after"], strict=True):
        lines.append(name)
        for sig in b:
            d = digits.get(sig, 3)
            lines.append(f"  {LABELS[sig]:<34}{_f(b[sig], d):>10}{_f(a.get(sig), d):>10}")
    lines.append(
        f"{'error':<36}{_f(report['objective_before'], 4):>10}"
        f"{_f(report['objective_after'], 4):>10}"
    )
    for c in report.get("checked", []):
        lines.append(f"{c['log']} (checked, not fitted on)")
        for sig, b in c["rmse_before"].items():
            d = digits.get(sig, 3)
            lines.append(f"  {LABELS[sig]:<34}{_f(b, d):>10}{_f(c['rmse_after'].get(sig), d):>10}")
        lines.append(
            f"  {'error':<34}{_f(c['objective_before'], 4):>10}{_f(c['objective_after'], 4):>10}"
        )
    lines += ["", f"{'parameter':<36}{'start':>12}{'fitted':>12}{'change':>10}   range"]
    for p in report["parameters"]:
        change = "-" if p["change_pct"] is None else f"{p['change_pct']:+.1f} %"
        bound = f"  at the {p['at_bound']} end" if p["at_bound"] else ""
        lines.append(
            f"{p['name']:<36}{p['start']:>12.6g}{p['fitted']:>12.6g}{change:>10}   "
            f"{p['range'][0]:g}..{p['range'][1]:g}{bound}"
        )
    if any(p["at_bound"] for p in report["parameters"]):
        lines.append(
            "note: a value at an end of its range means the logs would have it further out; "
            "look for what the model lacks before widening a documented range"
        )
    lines.append(f"wrote {report['out']} (use it as --config)")
    return "\n".join(lines) + "\n"
