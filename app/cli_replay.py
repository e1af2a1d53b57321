"""`serra sim replay LOG`: a logged compartment replayed through the simulator, with its errors."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli import CliError
from app.pairs import split_pairs

if TYPE_CHECKING:
    from controllers.replay_log import ReplayLog
    from sim.config import GreenhouseConfig
    from sim.weather import Weather

#: The replay modes (`--mode`) and how a report names each.
MODE_LABELS: dict[str, str] = {
    "actuators": "open loop, logged actuators forced",
    "setpoints": "closed loop, logged setpoints through the climate computer",
}


def register(sim_sub: argparse._SubParsersAction) -> None:
    """Add `serra sim replay` under `serra sim`."""
    p = sim_sub.add_parser(
        "replay",
        help="replay a logged compartment, compare simulated with measured",
        description="Run the simulator over a logged compartment's period and weather, driven "
        "by its logged actuators (open loop) or setpoints (closed loop), and report RMSE, bias "
        "and R2 per signal, and bias by month and by hour of day.",
    )
    p.add_argument(
        "log",
        metavar="LOG",
        help="shipped compartment (reference, igrow, croperators), a challenge compartment "
        "folder (Greenhouse_climate.csv, vip.csv, Production.csv) or a climate CSV",
    )
    p.add_argument(
        "--mode",
        choices=tuple(MODE_LABELS),
        default="actuators",
        help="actuators: open loop (default); setpoints: closed loop",
    )
    p.add_argument(
        "--columns",
        metavar="MAP",
        help="for a logger export: canonical=column pairs, e.g. time=Date,tair_c=T,rh_pct=RH,"
        "vent_lee_pct=Lee,sp.heat_c=HeatSP",
    )
    p.add_argument(
        "--time-format",
        metavar="FMT",
        help="time column of a --columns export: excel, unix or a strptime pattern "
        "(default ISO 8601)",
    )
    p.add_argument("--setpoints", metavar="CSV", help="setpoint schedule, for a log without them")
    p.add_argument(
        "--weather",
        metavar="CSV",
        help="weather file (default: the log's own, else the shipped AGC 2018 season)",
    )
    p.add_argument("--weather-columns", metavar="MAP", help="column mapping of --weather")
    p.add_argument("--start", metavar="DATE", help="first local day to replay, YYYY-MM-DD")
    p.add_argument("--days", type=float, metavar="N", help="days to replay (default: all)")
    p.add_argument("--config", metavar="TOML", help="greenhouse configuration overrides")
    p.add_argument("--physics-step", type=float, default=None, metavar="S", help="physics step s")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--out", metavar="DIR", help="write replay.csv, replay.png and report.json")
    p.set_defaults(handler=_replay)


def _pairs(text: str, what: str) -> dict[str, str]:
    try:
        return dict(split_pairs(text, "canonical=column", "tair_c=Tair"))
    except ValueError as exc:
        raise CliError(f"{what}: {exc}") from None


def replay_input_errors() -> tuple[type[Exception], ...]:
    """Errors of a replay's inputs (log, weather, setpoints, config): shown in one line."""
    from controllers.replay import ReplayError
    from controllers.replay_log import ReplayLogError
    from controllers.season import SeasonError
    from controllers.setpoints import SetpointError
    from sim.config import ConfigError
    from sim.weather import WeatherError

    return ReplayError, ReplayLogError, SeasonError, SetpointError, ConfigError, WeatherError


def load_inputs(args: argparse.Namespace) -> tuple[ReplayLog, Weather, GreenhouseConfig]:
    """The log, weather and config a replay's arguments name (`serra sim replay`'s options).

    `args` needs `log`, `columns`, `time_format`, `setpoints`, `weather`, `weather_columns`,
    `days`, `physics_step` and `config`. The weather is the log's own unless `--weather` is
    given, resampled to 5 min when coarser. Bad options raise CliError; bad files raise one of
    `replay_input_errors()`.
    """
    from controllers.replay_log import load_log, merge_columns
    from controllers.setpoints import load_setpoint_csv
    from sim.config import load_config
    from sim.weather import load_weather

    if args.days is not None and not (args.days > 0 and math.isfinite(args.days)):
        raise CliError(f"--days must be a positive number, got {args.days:g}")
    if args.weather_columns and not args.weather:
        raise CliError("--weather-columns maps the columns of a --weather file; give --weather too")
    if args.physics_step is not None and not args.physics_step > 0:
        raise CliError(f"--physics-step must be positive, got {args.physics_step:g}")
    columns = _pairs(args.columns, "--columns") if args.columns else None
    log = load_log(args.log, columns=columns, time_format=args.time_format)
    if args.setpoints:
        times, sp = load_setpoint_csv(args.setpoints)
        log.values = merge_columns(
            log.time_s, log.values, times, {f"sp.{k}": v for k, v in sp.items()}
        )
    if args.weather:
        if not Path(args.weather).exists():
            raise CliError(f"{args.weather}: no such weather file")
        wcols = _pairs(args.weather_columns, "--weather-columns") if args.weather_columns else None
        weather = load_weather(args.weather, columns=wcols, fill_gaps=True)
    else:
        weather = log_weather(log)
    if weather.step_s > 300:
        weather = weather.resample(300)
    return log, weather, load_config(args.config)


def log_weather(log):
    """The weather a log is replayed in without --weather: its own, else the shipped season."""
    from sim.weather import default_weather, load_weather

    if log.weather_path is None:
        return default_weather()
    return load_weather(
        log.weather_path,
        columns=log.weather_columns,
        time_format=log.weather_time_format,
        fill_gaps=True,
    )


def _replay(args: argparse.Namespace) -> int:
    from controllers.replay import replay

    if args.out and Path(args.out).exists() and not Path(args.out).is_dir():
        raise CliError(f"--out {args.out}: exists and is not a folder; name a folder")
    try:
        log, weather, config = load_inputs(args)
        kwargs = {} if args.physics_step is None else {"physics_step_s": args.physics_step}
        report, _ = replay(
            log, weather, mode=args.mode, config=config, start=args.start, days=args.days,
            **kwargs,
        )  # fmt: skip
    except replay_input_errors() as exc:
        raise CliError(str(exc)) from None
    if args.out:
        try:
            _write_out(report, Path(args.out), weather.site.timezone)
        except OSError as exc:
            raise CliError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    if args.json:
        json.dump(report.to_dict(), sys.stdout)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_report(report))
    return 0


def _write_out(report, out: Path, timezone: str) -> None:
    from app.replay_plot import write_replay_png
    from controllers.replay import LABELS
    from controllers.season_files import local_iso_times

    out.mkdir(parents=True, exist_ok=True)
    names = list(report.paired)
    times = local_iso_times(report.time_s, timezone)
    with (out / "replay.csv").open("w", encoding="utf-8", newline="") as fh:
        fh.write("time," + ",".join(names) + "\n")
        for i, t in enumerate(times):
            cells = (
                "" if math.isnan(v) else f"{v:.3f}" for v in (report.paired[n][i] for n in names)
            )
            fh.write(t + "," + ",".join(cells) + "\n")
    (out / "report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n", "utf-8")
    title = f"{report.log}: {MODE_LABELS[report.mode]}, {report.start} .. {report.end}"
    write_replay_png(out / "replay.png", report.time_s, report.paired, LABELS, title)


def _f(x: float | None, digits: int) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


_DIGITS = {"co2_ppm": 0}


def format_report(report) -> str:
    """The report as the readable tables `serra sim replay` prints."""
    from controllers.replay import LABELS

    lines = [
        f"replay of {report.log} ({MODE_LABELS[report.mode]})",
        f"period {report.start} .. {report.end} ({report.days:.1f} days), weather {report.weather}",
        "",
        f"{'signal':<24}{'n':>7}{'RMSE':>9}{'bias':>9}{'R2':>7}{'measured':>10}{'simulated':>10}",
    ]
    for name, a in report.signals.items():
        d = _DIGITS.get(name, 2)
        lines.append(
            f"{LABELS[name]:<24}{a.n:>7}{_f(a.rmse, d):>9}{_f(a.bias, d):>9}{_f(a.r2, 2):>7}"
            f"{_f(a.measured_mean, d):>10}{_f(a.simulated_mean, d):>10}"
        )
    h = report.harvest
    if h and h.get("compared"):
        c = h["curve"]
        lines.append(
            f"{LABELS['harvest_kg_m2']:<24}{c['n']:>7}{_f(c['rmse'], 2):>9}{_f(c['bias'], 2):>9}"
            f"{_f(c['r2'], 2):>7}{_f(h['measured_kg_m2'], 2):>10}{_f(h['simulated_kg_m2'], 2):>10}"
        )
        lines.append(
            f"  season harvest: simulated {h['simulated_kg_m2']:.2f} vs measured "
            f"{h['measured_kg_m2']:.2f} kg/m2; fruits {_f(h['simulated_fruits_m2'], 1)} vs "
            f"{_f(h['measured_fruits_m2'], 1)} /m2 (last row: end of the replay)"
        )
    elif h:
        lines.append(f"harvest not compared: {h['why']}")
    names = list(report.signals)
    short = {n: n.removesuffix("_c").removesuffix("_pct").removesuffix("_ppm") for n in names}
    months = sorted({m for a in report.signals.values() for m in a.bias_by_month})
    lines += [
        "",
        "bias (simulated - measured) by month",
        f"{'signal':<24}" + "".join(f"{m:>9}" for m in months),
    ]
    for name, a in report.signals.items():
        d = _DIGITS.get(name, 2)
        lines.append(
            f"{LABELS[name]:<24}" + "".join(f"{_f(a.bias_by_month.get(m), d):>9}" for m in months)
        )
    lines += ["", "bias by local hour of day", "hour" + "".join(f"{short[n]:>11}" for n in names)]
    for hour in range(24):
        cells = "".join(
            f"{_f(report.signals[n].bias_by_hour.get(hour), _DIGITS.get(n, 2)):>11}" for n in names
        )
        lines.append(f"{hour:>4}{cells}")
    co2 = getattr(report, "co2", None)
    if co2:
        dosed = f"dosed {co2['simulated']:.2f} kg/m2"
        if "logged" in co2:
            dosed += f" (logged {co2['logged']:.2f}; {co2['dark_hours']:.1f} h in the dark)"
        lines += ["", f"CO2 dosing: {co2['driver']}; {dosed}"]
    if report.never_logged:
        lines += ["", "never logged, replaced by: " + "; ".join(
            f"{k} = {v}" for k, v in report.never_logged.items())]  # fmt: skip
    if report.drove_gaps:
        lines.append(
            "climate computer decided where the log has no value: "
            + ", ".join(f"{k} {v:.1f} h" for k, v in report.drove_gaps.items())
        )
    lines += [f"note: {n}" for n in report.notes]
    return "\n".join(lines) + "\n"
