"""`serra sim run` and `serra sim sweep`: simulated seasons from the command line (replay and
calibrate register from their own modules)."""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import sys
from datetime import datetime
from pathlib import Path

from app.cli import CliError
from app.cli_calibrate import register as register_calibrate
from app.cli_replay import register as register_replay
from app.pairs import split_pairs


def _input_errors() -> tuple[type[Exception], ...]:
    from controllers.actuator_replay import ActuatorReplayError
    from controllers.season import SeasonError
    from controllers.setpoints import SetpointError
    from controllers.sweep import SweepError
    from sim.config import ConfigError
    from sim.economics import EconomicsError
    from sim.weather import WeatherError

    return (
        ActuatorReplayError,
        ConfigError,
        EconomicsError,
        SeasonError,
        SetpointError,
        SweepError,
        WeatherError,
    )


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weather", metavar="CSV", help="weather file (default: shipped AGC 2018 season)"
    )
    parser.add_argument(
        "--weather-columns",
        metavar="MAP",
        help="for other CSVs: canonical=column pairs, e.g. time=Date,tout_c=T,rhout_pct=RH,...",
    )
    parser.add_argument(
        "--fill-gaps", action="store_true", help="interpolate weather gaps longer than 1 h"
    )
    parser.add_argument("--start", metavar="DATE", help="first local day, YYYY-MM-DD")
    parser.add_argument("--days", type=float, metavar="N", help="season length in days")
    parser.add_argument(
        "--strategy",
        choices=("grower", "schedule", "learned"),
        default="grower",
        help="grower rules, a setpoint schedule replayed over them (needs --setpoints), or the "
        "learned strategy (plans each day with a day model)",
    )
    parser.add_argument(
        "--model", metavar="NAME", help="day model for --strategy learned (default: the active)"
    )
    parser.add_argument(
        "--forecast",
        choices=("persistence", "noisy"),
        default="persistence",
        help="what --strategy learned knows of the day: yesterday's weather, or the day's "
        "with noise",
    )
    parser.add_argument("--setpoints", metavar="CSV", help="setpoint schedule to replay")
    parser.add_argument("--actuators", metavar="CSV", help="force actuator positions (open loop)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="change a grower-rules setpoint or setting, e.g. --set co2_ppm=1000",
    )
    parser.add_argument("--config", metavar="TOML", help="greenhouse configuration overrides")
    parser.add_argument("--prices", metavar="TOML", help="price table overrides")
    parser.add_argument(
        "--physics-step",
        type=float,
        default=None,
        metavar="S",
        help="physics sub-step in s (default 60; at most the weather step is used)",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serra sim ...` to the command line."""
    sim = subparsers.add_parser("sim", help="simulated seasons")
    sim_sub = sim.add_subparsers(dest="sim_command", required=True)
    run = sim_sub.add_parser("run", help="simulate one season, print its JSON summary")
    _add_run_options(run)
    run.add_argument("--out", metavar="DIR", help="also write climate.csv, crop.csv, summary.json")
    run.set_defaults(handler=_run)
    sweep = sim_sub.add_parser("sweep", help="many seasons with varied settings, CSV on stdout")
    _add_run_options(sweep)
    sweep.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="NAME=LO..HI",
        help="setpoint (heat_c), setting, or greenhouse parameter (section.key) to vary",
    )
    sweep.add_argument("--n", type=int, required=True, help="number of runs")
    sweep.add_argument("--seed", type=int, default=0, help="seed of the Latin hypercube")
    sweep.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: one per core)"
    )
    sweep.set_defaults(handler=_sweep)
    register_replay(sim_sub)
    register_calibrate(sim_sub)


def _parse_pairs(text: str, what: str) -> dict[str, str]:
    try:
        pairs = split_pairs(text, "NAME=VALUE", "heat_c=21")
    except ValueError as exc:
        raise CliError(f"{what}: {exc}") from None
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            raise CliError(f"{what}: {name} is given twice ({seen[name]}, {value}); give it once")
        seen[name] = value
    return seen


def _unknown_name(option: str, name: str, allowed: list[str], listed: list[str]) -> CliError:
    """An error for an unknown NAME: the nearest allowed names, else the `listed` ones."""
    close = difflib.get_close_matches(name, allowed, n=3, cutoff=0.6)
    if not close:
        close = [a for a in allowed if name.lower() in a.lower()][:3]
    if close:
        return CliError(f"{option}: unknown name {name!r}; did you mean {' or '.join(close)}?")
    return CliError(
        f"{option}: unknown name {name!r}; setpoints: {', '.join(listed)} "
        "(or a climate-computer setting, docs/climate_computer.md)"
    )


def _check_set_names(names, option: str, *, params: bool) -> None:
    """Refuse a --set/--vary name that is no setpoint or setting, naming the nearest ones."""
    from controllers.climate_computer import CC_PARAMS
    from controllers.setpoints import SETPOINTS
    from sim.config import PARAM_NAMES

    allowed = [*SETPOINTS, *CC_PARAMS, *(PARAM_NAMES if params else ())]
    for name in names:
        if name not in allowed and not (params and "." in name):
            raise _unknown_name(option, name, allowed, list(SETPOINTS))


def _refuse_empty(path: str | None, option: str) -> None:
    """An empty (or comments-only) TOML would silently mean the defaults: say so instead."""
    import tomllib

    if path is None or not Path(path).is_file():
        return  # the loaders name a missing file
    try:
        empty = not tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # the loaders say what is wrong with it
    if empty:
        raise CliError(f"{path} is empty: remove {option} to use the defaults")


def _setup(args: argparse.Namespace):
    """Load weather, config, prices, schedules and the strategy the run options describe."""
    from controllers.actuator_replay import load_actuator_csv
    from controllers.grower_rules import GrowerRules
    from controllers.setpoints import load_setpoint_csv
    from controllers.strategy import Strategy
    from sim.config import load_config
    from sim.economics import load_prices
    from sim.weather import default_weather, load_weather

    if args.days is not None and args.days <= 0:
        raise CliError(f"--days must be positive, got {args.days:g}")
    if args.weather_columns and not args.weather:
        raise CliError("--weather-columns maps the columns of a --weather file; give --weather too")
    if args.strategy == "schedule" and not args.setpoints:
        raise CliError("--strategy schedule needs --setpoints CSV")
    _refuse_empty(args.config, "--config")
    _refuse_empty(args.prices, "--prices")
    config = load_config(args.config)
    prices = load_prices(args.prices)
    if args.weather:
        if not Path(args.weather).exists():
            raise CliError(f"{args.weather}: no such weather file")
        columns = None
        if args.weather_columns:
            columns = _parse_pairs(args.weather_columns, "--weather-columns")
        weather = load_weather(args.weather, columns=columns, fill_gaps=args.fill_gaps)
    else:
        weather = default_weather()
    weather = weather.window(args.start, args.days)
    if weather.step_s > 300:
        weather = weather.resample(300)
    overrides = {}
    pairs = _parse_pairs(",".join(args.set), "--set") if args.set else {}
    _check_set_names(pairs, "--set", params=False)
    for name, value in pairs.items():
        try:
            overrides[name] = float(value)
        except ValueError:
            raise CliError(f"--set {name}={value}: the value must be a number") from None
    strategy: Strategy = (
        GrowerRules.from_overrides(overrides, where="--set") if overrides else GrowerRules()
    )
    if args.strategy == "schedule":
        strategy.name = "schedule"
    if args.strategy == "learned":
        from controllers.forecast import make_forecaster
        from controllers.learned_strategy import LearnedStrategy

        strategy = LearnedStrategy(
            model_name=args.model, forecaster=make_forecaster(args.forecast), prices=prices
        )
    setpoints = load_setpoint_csv(args.setpoints) if args.setpoints else None
    actuators = load_actuator_csv(args.actuators) if args.actuators else None
    coverage = {}
    for option, path, schedule in (
        ("--setpoints", args.setpoints, setpoints),
        ("--actuators", args.actuators, actuators),
    ):
        if schedule is not None:
            coverage[option[2:]] = _coverage(option, path, schedule[0], weather)
    run_kwargs = {"setpoint_schedule": setpoints, "actuator_schedule": actuators, "prices": prices}
    if args.physics_step is not None:
        if not args.physics_step > 0:
            raise CliError(f"--physics-step must be positive, got {args.physics_step:g}")
        run_kwargs["physics_step_s"] = args.physics_step
    return weather, config, strategy, run_kwargs, coverage


def _coverage(option: str, path: str, sched_times, weather) -> dict:
    """The replay file's coverage of the season (summary key `replay_coverage`); refuse a file
    with no row in the season, note on stderr which hours the file did not drive."""
    from controllers.schedule_csv import replay_coverage
    from sim.local_time import fmt_local

    tz = weather.site.tz
    c = replay_coverage(sched_times, weather.time_s, weather.step_s)
    name = Path(path).name
    first, last = fmt_local(c["first_row_s"], tz), fmt_local(c["last_row_s"], tz)
    season = f"{fmt_local(weather.time_s[0], tz)} .. {fmt_local(weather.time_s[-1], tz)}"
    if c["outside"]:
        raise CliError(
            f"{option} {name}: no row falls in the season {season} (the file runs {first} .. "
            f"{last}); choose --start/--days inside the file, or fix its times"
        )
    if c["before_h"] > 0:
        print(
            f"serra: note: {option} {name} starts {first}, after the season start; the grower "
            f"rules drove the first {c['before_h']:.1f} h",
            file=sys.stderr,
        )
    if c["after_h"] > 0:
        print(
            f"serra: note: {option} {name} ends {last}, before the season end; its last row "
            f"was held for the last {c['after_h']:.1f} h",
            file=sys.stderr,
        )
    return {
        "file": name,
        "first_row": datetime.fromtimestamp(c["first_row_s"], tz).isoformat(timespec="seconds"),
        "last_row": datetime.fromtimestamp(c["last_row_s"], tz).isoformat(timespec="seconds"),
        "strategy_hours_before_first_row": round(c["before_h"], 3),
        "held_hours_after_last_row": round(c["after_h"], 3),
    }


def _run(args: argparse.Namespace) -> int:
    from controllers.season import run_season
    from controllers.season_files import write_season_outputs

    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise CliError(f"--out {args.out}: exists and is not a folder; name a folder")
    try:
        weather, config, strategy, run_kwargs, coverage = _setup(args)
        result = run_season(weather, strategy, config, record=bool(args.out), **run_kwargs)[0]
        if coverage:
            result.summary["replay_coverage"] = coverage
        if hasattr(strategy, "summary"):
            result.summary["decisions"] = strategy.summary()
    except _input_errors() as exc:
        raise CliError(getattr(exc, "cli", str(exc))) from None
    if args.out:
        try:
            write_season_outputs(result, args.out, weather.site.timezone)
        except OSError as exc:
            raise CliError(
                f"--out {args.out}: cannot write the season files ({exc.strerror})"
            ) from None
    json.dump(result.summary, sys.stdout)
    sys.stdout.write("\n")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    import numpy as np

    from controllers.sweep import design, parse_vary, run_sweep

    if args.workers is not None and args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    try:
        weather, config, _, run_kwargs, _coverage_notes = _setup(args)
        for text in args.vary:
            name = text.partition("=")[0].strip()
            if name:
                _check_set_names([name], f"--vary {text.strip()}", params=True)
        varies = [parse_vary(text) for text in args.vary]
        names = [v.name for v in varies]
        if len(set(names)) != len(names):
            raise CliError("each --vary name may appear once")
        if args.set:
            raise CliError("--set and --vary cannot be combined in a sweep; vary the name instead")
        # 6 significant digits: the value printed is exactly the value the season ran with
        values = np.vectorize(lambda x: float(f"{x:.6g}"))(design(varies, args.n, args.seed))
        rows = run_sweep(weather, varies, values, config, workers=args.workers, **run_kwargs)
    except _input_errors() as exc:
        raise CliError(getattr(exc, "cli", str(exc))) from None
    writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return 0
