"""Parameter sweeps: many seasons with varied setpoints or greenhouse parameters.

A varied name is either a grower-rules setpoint or climate-computer setting (e.g. `heat_c`,
`co2_ppm`), or a greenhouse parameter as `section.key` (e.g. `heating.boiler_capacity_w_m2`).
Runs are grouped in batches that the season runner steps together, and the batches are spread
over worker processes.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from controllers.grower_rules import GrowerRules
from controllers.season import run_season
from sim.config import GreenhouseConfig, check_param, replace_values
from sim.weather import Weather

_VARY = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*=\s*([-+0-9.eE]+)\s*\.\.\s*([-+0-9.eE]+)\s*$")
#: Seasons stepped together in one batch (vectorised), per worker task.
BATCH_SIZE = 16


class SweepError(ValueError):
    """A sweep that cannot be run as asked."""


@dataclass(frozen=True)
class Vary:
    """One varied name and its range."""

    name: str
    lo: float
    hi: float

    @property
    def is_config(self) -> bool:
        """True for a greenhouse parameter (`section.key`), False for a strategy setting."""
        return "." in self.name


def parse_vary(text: str) -> Vary:
    """Parse `NAME=LO..HI`, checking the name and both ends against what is allowed.

    Raises SweepError for the syntax or LO > HI, ConfigError for a greenhouse parameter
    (`section.key`) or SetpointError for a setpoint or climate-computer setting.
    """
    match = _VARY.match(text)
    if not match:
        raise SweepError(f"--vary {text!r}: write NAME=LO..HI, e.g. heat_c=18..22")
    name, lo, hi = match.group(1), float(match.group(2)), float(match.group(3))
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise SweepError(f"--vary {text!r}: LO must not exceed HI")
    vary = Vary(name, lo, hi)
    where = f"--vary {text.strip()}"
    for value in (lo, hi):  # both ends must be allowed; the errors say what is
        if vary.is_config:
            check_param(name, value, where)
        else:
            GrowerRules.from_overrides({name: value}, where=where)
    return vary


def design(varies: Sequence[Vary], n: int, seed: int = 0) -> np.ndarray:
    """Values for `n` runs: evenly spaced for one name, a Latin hypercube for several."""
    if n < 1:
        raise SweepError(f"--n must be at least 1, got {n}")
    if len(varies) == 1:
        v = varies[0]
        return np.linspace(v.lo, v.hi, n)[:, None]
    rng = np.random.default_rng(seed)
    unit = np.empty((n, len(varies)))
    for j in range(len(varies)):
        unit[:, j] = (rng.permutation(n) + rng.random(n)) / n
    lo = np.array([v.lo for v in varies])
    hi = np.array([v.hi for v in varies])
    return lo + unit * (hi - lo)


def flatten_summary(summary: dict) -> dict:
    """One level of keys: nested cost parts become `cost_<part>_eur_m2`."""
    flat = {}
    for key, value in summary.items():
        if isinstance(value, dict):
            for part, amount in value.items():
                flat[f"cost_{part}_eur_m2"] = amount
        else:
            flat[key] = value
    return flat


def _run_batch(args) -> list[dict]:
    weather, varies, values, config, run_kwargs = args
    strategies = []
    configs = []
    for row in values:
        setpoints = {v.name: x for v, x in zip(varies, row, strict=True) if not v.is_config}
        params = {v.name: x for v, x in zip(varies, row, strict=True) if v.is_config}
        strategies.append(GrowerRules.from_overrides(setpoints))
        configs.append(replace_values(config, params) if params else config)
    results = run_season(weather, strategies, configs, record=False, **run_kwargs)
    return [flatten_summary(r.summary) for r in results]


def run_sweep(
    weather: Weather,
    varies: Sequence[Vary],
    values: np.ndarray,
    config: GreenhouseConfig,
    *,
    workers: int | None = None,
    **run_kwargs,
) -> list[dict]:
    """Run one season per row of `values`; return rows of varied values + flat summary keys."""
    workers = workers or min(os.cpu_count() or 1, 8)
    batches = [values[i : i + BATCH_SIZE] for i in range(0, len(values), BATCH_SIZE)]
    tasks = [(weather, list(varies), batch, config, run_kwargs) for batch in batches]
    if workers <= 1 or len(tasks) == 1:
        summaries = [row for task in tasks for row in _run_batch(task)]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            summaries = [row for rows in pool.map(_run_batch, tasks) for row in rows]
    rows = []
    for i, (row, summary) in enumerate(zip(values, summaries, strict=True)):
        rows.append({"run": i, **{v.name: float(x) for v, x in zip(varies, row, strict=True)},
                     **summary})  # fmt: skip
    return rows
