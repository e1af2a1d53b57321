"""What-if seasons without Qt: variants of the grower rules, setpoint schedules replayed over
them, or the learned strategy planning with a day model, over a weather window.

A `schedule` variant is the `serra sim run --strategy schedule --setpoints CSV` season: grower
rules (with the variant's changes) whose setpoints the CSV's columns replace where it gives them.
A `learned` variant is the `serra sim run --strategy learned` season: the learned strategy with
its model (the active one unless named), a persistence forecast, and the variant's grower rules as
its fallback; its summary carries the `decisions` summary.
`run_season` takes one schedule for all its greenhouses, so variants are run in groups: the
grower-rules and learned variants together, and each schedule file's variants together.

`run_whatif_in_process` runs the seasons in a child process, so the simulation never holds the
GUI process's interpreter lock (compiled kernels do not release it); progress comes back per
simulated day through a queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.child_run import ChildRunError, run_in_child
from app.pairs import split_pairs


class WhatIfError(ValueError):
    """A what-if run that cannot be started; the message says what to change."""


#: Variant kinds: grower rules, a setpoint schedule CSV replayed over them, the learned strategy.
STRATEGIES = ("grower", "schedule", "learned")


@dataclass(frozen=True)
class Variant:
    """One season of a what-if: a name, setpoint changes (NAME=VALUE; …), the strategy and,
    for `schedule`, the setpoint schedule CSV; for `learned`, the model (None: the active one)."""

    name: str
    changes: str = ""
    strategy: str = "grower"
    setpoints: str | None = None
    model: str | None = None


def as_variant(item: Variant | tuple) -> Variant:
    """A Variant from itself or a (name, changes[, strategy[, setpoints[, model]]]) tuple."""
    return item if isinstance(item, Variant) else Variant(*item)


def check_variant(variant: Variant) -> None:
    """Refuse, before any run, what can be seen without reading files: bad changes, an unknown
    strategy, a schedule variant without a file or with a file that is not there."""
    from pathlib import Path

    where = f"variant {variant.name!r}"
    try:
        parse_changes(variant.changes)
    except WhatIfError as exc:
        raise WhatIfError(f"{where}: {exc}") from None
    if variant.strategy not in STRATEGIES:
        raise WhatIfError(
            f"{where}: strategy {variant.strategy!r} unknown; use grower, schedule or learned"
        )
    if variant.strategy == "schedule":
        if not variant.setpoints:
            raise WhatIfError(f"{where}: choose the setpoint schedule file (CSV) to replay")
        if not Path(variant.setpoints).is_file():
            raise WhatIfError(f"{where}: no such schedule file: {variant.setpoints}")


def parse_changes(text: str) -> dict[str, float]:
    """ "heat_c=21; co2_ppm=1000" -> {"heat_c": 21.0, "co2_ppm": 1000.0}."""
    out: dict[str, float] = {}
    try:
        pairs = split_pairs(text, "NAME=VALUE", "heat_c=21")
    except ValueError as exc:
        raise WhatIfError(str(exc)) from None
    for name, value in pairs:
        try:
            out[name] = float(value)
        except ValueError:
            raise WhatIfError(f"{name}={value}: {value!r} is not a number") from None
    return out


@dataclass
class WhatIfRun:
    """The outcome of one what-if: per variant its summary, daily air temperature and yield."""

    names: list[str]
    summaries: list[dict]
    dates: list[str] = field(default_factory=list)
    tair_daily: list[Any] = field(default_factory=list)
    yield_cum: list[Any] = field(default_factory=list)


def load_whatif_weather(choice: str, path: str | None):
    """The weather of a choice (shipped season, reference year or a file)."""
    from sim.weather import default_weather, load_weather, reference_year

    if choice == "agc2018":
        return default_weather()
    if choice == "reference":
        return reference_year()
    if not path:
        raise WhatIfError("choose a weather file first")
    return load_weather(path, fill_gaps=True)


def run_whatif(
    choice: str,
    path: str | None,
    start: str | None,
    days: float,
    variants: list[Variant | tuple],
    progress: Callable[[float], None] | None = None,
) -> WhatIfRun:
    """Simulate every variant over the weather window (worker).

    Variants sharing a schedule (or none) are stepped together in one `run_season` call; the
    results come back in the variants' order.
    """

    from controllers.grower_rules import GrowerRules
    from controllers.season import CLIMATE_COLUMNS, CROP_COLUMNS, run_season
    from controllers.setpoints import SetpointError, load_setpoint_csv

    chosen = [as_variant(v) for v in variants]
    if not chosen:
        raise WhatIfError("add at least one variant")
    groups: dict[str | None, list[int]] = {}
    strategies = []
    for i, v in enumerate(chosen):
        check_variant(v)
        try:
            strategy = GrowerRules.from_overrides(parse_changes(v.changes))
        except ValueError as exc:
            raise WhatIfError(f"variant {v.name!r}: {exc}") from None
        if v.strategy == "schedule":
            strategy.name = "schedule"
        if v.strategy == "learned":
            strategy = _learned(v, strategy)
        strategies.append(strategy)
        groups.setdefault(v.setpoints if v.strategy == "schedule" else None, []).append(i)
    schedules = {}
    for file in groups:
        if file is not None:
            try:
                schedules[file] = load_setpoint_csv(file)
            except SetpointError as exc:
                names = ", ".join(repr(chosen[i].name) for i in groups[file])
                raise WhatIfError(f"variant {names}: {exc}") from None
    weather = load_whatif_weather(choice, path)
    window = weather.window(start, days)
    if len(window) < 2:
        raise WhatIfError("the weather holds no data for that start and length")
    results: list = [None] * len(chosen)
    done = 0
    for file, members in groups.items():

        def part(f: float, done: int = done, size: int = len(members)) -> None:
            if progress is not None:
                progress((done + f * size) / len(chosen))

        group = run_season(
            window,
            [strategies[i] for i in members],
            setpoint_schedule=None if file is None else schedules[file],
            progress=part,
        )
        for i, r in zip(members, group, strict=True):
            results[i] = r
        done += len(members)
    for strategy, r in zip(strategies, results, strict=True):
        decided = getattr(strategy, "summary", None) if hasattr(strategy, "decisions") else None
        if callable(decided):  # the learned strategy reports its planned days and fallbacks
            r.summary["decisions"] = decided()
    run = WhatIfRun([v.name for v in chosen], [r.summary for r in results])
    per_day = max(1, round(86400.0 / window.step_s))
    k_t = CLIMATE_COLUMNS.index("tair_c")
    k_y = CROP_COLUMNS.index("yield_kg_m2")
    for r in results:
        tair = r.climate[:, k_t]
        n = len(tair) // per_day
        run.tair_daily.append(tair[: n * per_day].reshape(n, per_day).mean(axis=1))
        run.yield_cum.append(r.crop[:, k_y].copy())
    run.dates = results[0].crop_dates
    return run


def _learned(variant: Variant, rules):
    """The learned strategy of a variant, its rules as the fallback; WhatIfError if its model
    cannot be loaded (a what-if never plays grower rules under the learned name unsaid)."""
    from controllers.learned_strategy import LearnedStrategy

    strategy = LearnedStrategy(model_name=variant.model)
    if strategy.model is None:
        raise WhatIfError(f"variant {variant.name!r}: {strategy.load_problem}")
    strategy.fallback, strategy.settings = rules, rules.settings
    return strategy


def _run_whatif_args(
    args: tuple[str, str | None, str | None, float, list[Variant | tuple]],
    progress: Callable[[float], None],
) -> WhatIfRun:
    return run_whatif(*args, progress=progress)


def run_whatif_in_process(
    choice: str,
    path: str | None,
    start: str | None,
    days: float,
    variants: list[Variant | tuple],
    progress: Callable[[float], None] | None = None,
) -> WhatIfRun:
    """`run_whatif` in a spawned child process; raises WhatIfError with the child's message."""
    try:
        return run_in_child(_run_whatif_args, (choice, path, start, days, variants), progress)
    except ChildRunError as exc:
        raise WhatIfError(str(exc)) from None
