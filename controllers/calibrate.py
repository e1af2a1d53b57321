"""Fit greenhouse parameters to logged compartments by minimising the replay error.

Objective (docs/calibrate.md): for each log, the sum over air temperature, RH and CO2 of the
replay RMSE divided by a per-signal scale (`SCALES`: 1 C, 5 %, 50 ppm), so one unit of error
is about equally bad in each signal; then the mean over the logs. A signal a log does not hold
is left out of that log's sum.

The optimiser is CMA-ES (the `cma` package) over the parameters mapped to 0..1 within their
documented ranges (log-spaced for a range of a factor 10 or more). Each generation is one
population of candidate greenhouses, run through the season runner in one batched call per log
(split over worker processes when asked, each worker still one batched call).
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from controllers.calibrate_ranges import ParamRange
from controllers.co2_dose import DosePlan
from controllers.grower_rules import GrowerRules
from controllers.replay import (
    ReplayError,
    on_grid,
    plan_logged_dose,
    replay,
    replay_schedules,
    replay_window,
    with_valve,
)
from controllers.replay_log import ReplayLog
from controllers.season import CLIMATE_COLUMNS, run_season
from controllers.strategy import StrategyContext
from sim.config import GreenhouseConfig, replace_values
from sim.plant import DEFAULT_PHYSICS_STEP_S
from sim.weather import Weather

#: Signals in the objective and the RMSE that counts as one unit of error in each.
SCALES: dict[str, float] = {"tair_c": 1.0, "rh_pct": 5.0, "co2_ppm": 50.0}
#: Objective of a candidate whose simulation gave no finite climate (the optimiser needs a number).
PENALTY = 1.0e3
#: Significant digits of the fitted values written (and re-checked by a replay).
DIGITS = 6


class CalibrateError(ValueError):
    """A calibration that cannot run as asked; the message is one line saying what to fix."""


class _PlannedOnce:
    """Grower rules whose day plans are computed once and reused for every candidate.

    The season runner asks each greenhouse's strategy for a plan every day; the candidates of a
    calibration share one strategy and weather, so the plan is the same for all of them.
    """

    def __init__(self, name: str) -> None:
        self._rules = GrowerRules()
        self.settings = self._rules.settings
        self.name = name
        self._plans: dict[tuple[float, int], np.ndarray] = {}

    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        key = (float(times_s[0]), len(times_s))
        if key not in self._plans:
            self._plans[key] = self._rules.setpoints(times_s, context)
        return self._plans[key]


@dataclass
class Target:
    """One logged compartment prepared for many evaluations: schedules and measured climate."""

    log: ReplayLog
    weather: Weather  # the full weather; `window` is the replayed part
    mode: str
    start: str | None
    days: float | None
    physics_step_s: float
    window: Weather
    setpoint_schedule: tuple | None
    actuator_schedule: tuple
    measured: dict[str, np.ndarray]  # SCALES signals the log holds, on the window's grid
    strategy: _PlannedOnce = field(repr=False)
    #: the logged daily CO2 dose placed once (open loop), forced alike for every candidate
    dose_plan: DosePlan | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """The log's name."""
        return self.log.name


def prepare_target(
    log: ReplayLog,
    weather: Weather,
    *,
    mode: str = "actuators",
    start: str | None = None,
    days: float | None = None,
    physics_step_s: float = DEFAULT_PHYSICS_STEP_S,
    config: GreenhouseConfig | None = None,
) -> Target:
    """Check `log` replays as `serra sim replay` would, and keep what each evaluation needs.

    An open loop with a logged daily CO2 dose places it once, with `config` (the start of the
    fit; default the shipped one), and every candidate doses that same valve.
    """
    if mode not in ("actuators", "setpoints"):
        raise ReplayError(f"mode must be actuators or setpoints, got {mode!r}")
    window = replay_window(log, weather, start, days)
    if mode == "setpoints" and not log.setpoints():
        raise ReplayError(
            f"{log.name}: no setpoints logged; a closed-loop calibration needs them: "
            "use --mode actuators"
        )
    sp, act = replay_schedules(log, mode, {})
    grid = np.asarray(window.time_s)
    plan = None
    if mode == "actuators" and log.co2_dose is not None:
        plan = plan_logged_dose(log, window, sp, act, config, physics_step_s)
        act = with_valve(act, grid, plan.valve_pct)
    measured = {
        name: on_grid(log.time_s, log.values[name], grid, float(window.step_s))
        for name in SCALES
        if name in log.values
    }
    measured = {k: v for k, v in measured.items() if (~np.isnan(v)).any()}
    if not measured:
        raise CalibrateError(
            f"{log.name}: no air temperature, RH or CO2 logged in the replayed period; "
            "nothing to fit to"
        )
    return Target(
        log,
        weather,
        mode,
        start,
        days,
        physics_step_s,
        window,
        sp,
        act,
        measured,
        _PlannedOnce(f"replay-{mode}"),
        plan,
    )


def objective(errors: Sequence[Mapping[str, float]]) -> float:
    """Mean over logs of the sum over signals of RMSE / SCALES[signal] (missing signals left out).

    `errors` holds one {signal: RMSE} per log. A non-finite RMSE makes the objective infinite.
    """
    if not errors:
        raise ValueError("objective of no logs")
    total = 0.0
    for per_log in errors:
        for name, rmse in per_log.items():
            if name in SCALES:
                if not math.isfinite(rmse):
                    return math.inf
                total += rmse / SCALES[name]
    return total / len(errors)


def _rmse(measured: np.ndarray, simulated: np.ndarray) -> float:
    ok = ~np.isnan(measured)
    err = simulated[ok] - measured[ok]
    return float(np.sqrt(np.mean(err * err))) if err.size else math.nan


def target_errors(target: Target, configs: Sequence[GreenhouseConfig]) -> list[dict[str, float]]:
    """Replay RMSE per signal of each config on `target`, all configs in one batched run."""
    results = run_season(
        target.window,
        target.strategy,
        list(configs),
        setpoint_schedule=target.setpoint_schedule,
        actuator_schedule=target.actuator_schedule,
        physics_step_s=target.physics_step_s,
        record=True,
    )
    cols = {name: CLIMATE_COLUMNS.index(name) for name in target.measured}
    errors = []
    for r in results:
        assert r.climate is not None  # record=True keeps the climate of every run
        climate = r.climate
        errors.append({n: _rmse(meas, climate[:, cols[n]]) for n, meas in target.measured.items()})
    return errors


def candidate_configs(
    base: GreenhouseConfig, params: Sequence[ParamRange], units: np.ndarray
) -> list[GreenhouseConfig]:
    """One config per row of `units` (0..1 per parameter), values at DIGITS significant digits."""
    return [
        replace_values(
            base, {p.name: _round(p.from_unit(u)) for p, u in zip(params, row, strict=True)}
        )
        for row in np.atleast_2d(units)
    ]


def _round(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def evaluate(
    targets: Sequence[Target], base: GreenhouseConfig, params: Sequence[ParamRange], units
) -> np.ndarray:
    """Objective of each candidate (rows of `units`); non-finite ones get PENALTY."""
    configs = candidate_configs(base, params, units)
    per_target = [target_errors(t, configs) for t in targets]
    out = np.array([objective([errs[i] for errs in per_target]) for i in range(len(configs))])
    return np.where(np.isfinite(out), out, PENALTY)


_WORKER: dict = {}


def _worker_init(targets, base, params) -> None:
    _WORKER.update(targets=targets, base=base, params=params)


def _worker_eval(units: np.ndarray) -> np.ndarray:
    return evaluate(_WORKER["targets"], _WORKER["base"], _WORKER["params"], units)


@dataclass
class Progress:
    """What the optimiser has done so far (passed to the progress callback each generation)."""

    generation: int
    best: float
    evaluations: int
    elapsed_s: float


@dataclass
class Calibration:
    """The outcome of a fit: the best values found and how the search went."""

    params: list[ParamRange]
    start: dict[str, float]
    fitted: dict[str, float]
    best_objective: float
    start_objective: float
    evaluations: int
    generations: int
    elapsed_s: float
    stop: str


def calibrate(
    targets: Sequence[Target],
    base: GreenhouseConfig,
    params: Sequence[ParamRange],
    *,
    max_evals: int = 600,
    seed: int = 0,
    popsize: int | None = None,
    sigma0: float = 0.25,
    workers: int = 1,
    progress: Callable[[Progress], None] | None = None,
) -> Calibration:
    """Minimise `objective` over `params` (starting from `base`) with CMA-ES.

    Each generation is evaluated in one batched season run per target (per worker). The start
    values are evaluated too, so the result is never worse than the start.
    """
    with warnings.catch_warnings():  # cma notes that matplotlib (for its plots) is missing
        warnings.simplefilter("ignore")
        import cma

    if max_evals < 1:
        raise CalibrateError(f"--max-evals must be at least 1, got {max_evals}")
    if not targets:
        raise CalibrateError("give at least one log to fit to")
    params = list(params)
    start = {p.name: base[p.name] for p in params}
    x0 = np.array([p.to_unit(start[p.name]) for p in params])
    opts = {
        "bounds": [0.0, 1.0],
        "seed": seed + 1,  # cma takes 0 as "seed from the clock"
        "verbose": -9,
        "tolx": 1e-4,
        "tolfun": 1e-5,
        "maxfevals": max_evals,
    }
    if popsize is not None:
        opts["popsize"] = popsize
    t0 = time.perf_counter()
    # pycma needs two dimensions at least: one parameter gets a second coordinate nothing reads
    pad = [0.5] if len(params) == 1 else []
    es = cma.CMAEvolutionStrategy([*x0.tolist(), *pad], sigma0, opts)
    pool = None
    if workers > 1:
        pool = ProcessPoolExecutor(
            max_workers=workers, initializer=_worker_init, initargs=(list(targets), base, params)
        )

    def run(units: np.ndarray) -> np.ndarray:
        if pool is None:
            return evaluate(targets, base, params, units)
        chunks = [c for c in np.array_split(units, workers) if len(c)]
        return np.concatenate(list(pool.map(_worker_eval, chunks)))

    try:
        first = True
        best_u, best_f, start_f, evals, gen = x0, math.inf, math.nan, 0, 0
        while not es.stop():
            asked = es.ask()
            X = np.array(asked)[:, : len(params)]
            batch = np.vstack([x0[None, :], X]) if first else X
            f = run(batch)
            if first:
                start_f, best_f = float(f[0]), float(f[0])
                f = f[1:]
                first = False
                evals += 1
            es.tell(asked, f.tolist())
            evals += len(X)
            gen += 1
            i = int(np.argmin(f))
            if f[i] < best_f:
                best_f, best_u = float(f[i]), X[i]
            if progress is not None:
                progress(Progress(gen, best_f, evals, time.perf_counter() - t0))
    finally:
        if pool is not None:
            pool.shutdown()
    stop = ", ".join(f"{k}={v}" for k, v in es.stop().items())
    fitted = {p.name: _round(p.from_unit(u)) for p, u in zip(params, best_u, strict=True)}
    if np.array_equal(best_u, x0):
        fitted = dict(start)
    return Calibration(
        params, start, fitted, best_f, start_f, evals, gen, time.perf_counter() - t0, stop
    )


def replay_errors(
    target: Target, config: GreenhouseConfig, *, as_replayed: bool = False
) -> dict[str, float]:
    """RMSE per objective signal of `config` on `target`, as `serra sim replay` computes it.

    A logged daily CO2 dose is placed as the target placed it (as the fit saw it), or, with
    `as_replayed`, anew with `config`, as `serra sim replay --config` does.
    """
    report, _ = replay(
        target.log,
        target.weather,
        mode=target.mode,
        config=config,
        start=target.start,
        days=target.days,
        physics_step_s=target.physics_step_s,
        dose_plan=None if as_replayed else target.dose_plan,
    )
    return {name: report.signals[name].rmse for name in SCALES if name in report.signals}


def default_workers() -> int:
    """Worker processes for a calibration: one per core, at most 8."""
    return min(os.cpu_count() or 1, 8)
