"""Fit on some logged compartments, check on the others: is a calibration physics or curve fit?

A rotation leaves one log out, fits the parameters on the rest (`controllers.calibrate`) and
replays the left-out log with the starting and with the fitted values. A parameter that is
physically right for the greenhouse type improves (or at least keeps) the error of a compartment
it never saw; one that only absorbs a model error of the fitted logs may make it worse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from controllers.calibrate import (
    CalibrateError,
    Calibration,
    Progress,
    Target,
    calibrate,
    objective,
    target_errors,
)
from controllers.calibrate_ranges import ParamRange
from sim.config import GreenhouseConfig, replace_values


@dataclass
class Rotation:
    """One rotation: fitted on `fitted_on`, checked on `checked_on` (never seen by the fit)."""

    fitted_on: list[str]
    checked_on: str
    calibration: Calibration
    #: replay RMSE per signal of the checked log with the starting and with the fitted values
    held_out_before: dict[str, float]
    held_out_after: dict[str, float]

    @property
    def objective_before(self) -> float:
        """The checked log's error (docs/calibrate.md) with the starting values."""
        return objective([self.held_out_before])

    @property
    def objective_after(self) -> float:
        """The checked log's error with the values fitted on the other logs."""
        return objective([self.held_out_after])


def check(
    target: Target, base: GreenhouseConfig, fitted: dict[str, float]
) -> tuple[dict[str, float], dict[str, float]]:
    """Replay RMSE per signal of `target` with `base`, and with `base` changed by `fitted`.

    Both in one batched season run; the figures equal those of `serra sim replay`.
    """
    before, after = target_errors(target, [base, replace_values(base, fitted)])
    return before, after


def rotations(
    targets: Sequence[Target],
    base: GreenhouseConfig,
    params: Sequence[ParamRange],
    *,
    progress: Callable[[int, Progress], None] | None = None,
    **fit_options,
) -> list[Rotation]:
    """Leave each target out in turn: fit `params` on the others, check on it.

    `fit_options` go to `calibrate` (max_evals, seed, popsize, workers); `progress(rotation,
    generation progress)` reports each generation with the rotation's index.
    """
    if len(targets) < 2:
        raise CalibrateError("a cross-check needs two logs at least: fit on one, check on another")
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise CalibrateError(f"a log is named twice: {', '.join(names)}")
    out = []
    for i, held in enumerate(targets):
        fit_on = [t for j, t in enumerate(targets) if j != i]

        def report(p: Progress, i: int = i) -> None:
            if progress is not None:
                progress(i, p)

        result = calibrate(fit_on, base, params, progress=report, **fit_options)
        before, after = check(held, base, result.fitted)
        out.append(Rotation([t.name for t in fit_on], held.name, result, before, after))
    return out
