"""What-if seasons without Qt: variants of the grower rules over a weather window.

`run_whatif_in_process` runs the seasons in a child process, so the simulation never holds the
GUI process's interpreter lock (compiled kernels do not release it); progress comes back per
simulated day through a queue.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class WhatIfError(ValueError):
    """A what-if run that cannot be started; the message says what to change."""


def parse_changes(text: str) -> dict[str, float]:
    """ "heat_c=21; co2_ppm=1000" -> {"heat_c": 21.0, "co2_ppm": 1000.0}."""
    out: dict[str, float] = {}
    for part in text.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise WhatIfError(f"{part!r}: write NAME=VALUE, e.g. heat_c=21")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise WhatIfError(f"{part!r}: {value.strip()!r} is not a number") from None
    return out


@dataclass
class WhatIfRun:
    """The outcome of one what-if: per variant its summary, daily air temperature and yield."""

    names: list[str]
    summaries: list[dict]
    dates: list[str] = field(default_factory=list)
    day_t: Any = None
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
    variants: list[tuple[str, str]],
    progress: Callable[[float], None] | None = None,
) -> WhatIfRun:
    """Simulate every variant over the weather window (worker; seasons stepped together)."""
    import numpy as np

    from controllers.grower_rules import GrowerRules
    from controllers.season import CLIMATE_COLUMNS, CROP_COLUMNS, run_season

    if not variants:
        raise WhatIfError("add at least one variant")
    strategies = []
    for name, text in variants:
        try:
            strategies.append(GrowerRules.from_overrides(parse_changes(text)))
        except ValueError as exc:
            raise WhatIfError(f"variant {name!r}: {exc}") from None
    weather = load_whatif_weather(choice, path)
    window = weather.window(start, days)
    if len(window) < 2:
        raise WhatIfError("the weather holds no data for that start and length")
    results = run_season(window, strategies, progress=progress)
    run = WhatIfRun([n for n, _ in variants], [r.summary for r in results])
    per_day = max(1, round(86400.0 / window.step_s))
    k_t = CLIMATE_COLUMNS.index("tair_c")
    k_y = CROP_COLUMNS.index("yield_kg_m2")
    for r in results:
        tair = r.climate[:, k_t]
        n = len(tair) // per_day
        run.tair_daily.append(tair[: n * per_day].reshape(n, per_day).mean(axis=1))
        run.yield_cum.append(r.crop[:, k_y].copy())
    run.dates = results[0].crop_dates
    run.day_t = np.arange(len(run.dates), dtype=float)
    return run


def _child(args: tuple, out) -> None:
    """Child process: run the seasons, report progress, then the result or a plain error."""
    if hasattr(os, "nice"):
        os.nice(10)  # the GUI and the control loop come first on a busy farm PC
    try:
        run = run_whatif(*args, progress=lambda f: out.put(("progress", f)))
        out.put(("done", run))
    except Exception as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        out.put(("error", text))


def prepare_process_runs() -> None:
    """Start multiprocessing's helper (the resource tracker) now, not during the first run:
    starting it forks this process, which stalls every thread for a moment."""
    if os.name == "posix":
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()


def run_whatif_in_process(
    choice: str,
    path: str | None,
    start: str | None,
    days: float,
    variants: list[tuple[str, str]],
    progress: Callable[[float], None] | None = None,
) -> WhatIfRun:
    """`run_whatif` in a spawned child process; raises WhatIfError with the child's message."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_child, args=((choice, path, start, days, variants), out))
    proc.daemon = True
    proc.start()
    try:
        while True:
            try:
                kind, value = out.get(timeout=0.5)
            except queue_module.Empty:
                if not proc.is_alive():
                    raise WhatIfError(
                        f"the simulation stopped unexpectedly (exit code {proc.exitcode})"
                    ) from None
                continue
            if kind == "progress":
                if progress is not None:
                    progress(value)
            elif kind == "done":
                return value
            else:
                raise WhatIfError(value)
    finally:
        proc.join(timeout=10)
