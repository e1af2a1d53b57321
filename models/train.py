"""Training the day model: three kinds of scikit-learn pipeline, tuned and compared by grouped CV.

Kinds: gradient boosting (HistGradientBoostingRegressor, one per target), extra trees and an MLP
(both multi-output, targets standardised). Each kind is tuned with RandomizedSearchCV over
GroupKFold folds whose groups are weathers (so no season, and no weather, is in two folds); the
out-of-fold predictions of each tuned kind decide which kind serves which target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import GroupKFold, RandomizedSearchCV, cross_val_predict
from sklearn.multioutput import MultiOutputRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from models.features import FEATURES, TARGETS, unit_of
from models.table import DayTable

KINDS: tuple[str, ...] = ("gradient_boosting", "extra_trees", "mlp")


@dataclass(frozen=True)
class Preset:
    """How hard to search: iterations per kind, folds, rows used for tuning."""

    n_iter: int = 2
    folds: int = 3
    tune_rows: int = 4000
    seed: int = 0


PRESETS: dict[str, Preset] = {
    "default": Preset(),
    "quick": Preset(n_iter=1, folds=2, tune_rows=1500),
}


class TrainError(ValueError):
    """Training that cannot be done as asked."""


def _candidates(seed: int) -> dict[str, tuple[Any, dict[str, list[Any]]]]:
    """Each kind's pipeline and its search space (small: the shipped model stays small)."""
    hgb = MultiOutputRegressor(HistGradientBoostingRegressor(random_state=seed))
    trees = TransformedTargetRegressor(
        regressor=ExtraTreesRegressor(random_state=seed, n_jobs=1), transformer=StandardScaler()
    )
    mlp = TransformedTargetRegressor(
        regressor=Pipeline(
            [
                ("scale", StandardScaler()),
                ("mlp", MLPRegressor(max_iter=300, early_stopping=True, random_state=seed)),
            ]
        ),
        transformer=StandardScaler(),
    )
    return {
        "gradient_boosting": (
            hgb,
            {
                "estimator__max_iter": [60, 100],
                "estimator__learning_rate": [0.1, 0.2],
                "estimator__max_leaf_nodes": [15, 31],
            },
        ),
        "extra_trees": (
            trees,
            {
                "regressor__n_estimators": [20, 30],
                "regressor__max_leaf_nodes": [128, 256],
                "regressor__max_features": [0.7, 1.0],
            },
        ),
        "mlp": (
            mlp,
            {
                "regressor__mlp__hidden_layer_sizes": [(64,), (64, 32)],
                "regressor__mlp__alpha": [1e-4, 1e-3],
            },
        ),
    }


@dataclass
class DayModel:
    """The fitted kinds and which one answers each target."""

    estimators: dict[str, Any]
    choice: dict[str, str]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """`[rows, len(TARGETS)]` predictions for `[rows, len(FEATURES)]` inputs."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        out = np.empty((len(X), len(TARGETS)))
        for kind, est in self.estimators.items():
            cols = [j for j, t in enumerate(TARGETS) if self.choice[t] == kind]
            if cols:
                out[:, cols] = np.asarray(est.predict(X)).reshape(len(X), -1)[:, cols]
        return out


def metrics(table: DayTable, Y_pred: np.ndarray) -> dict[str, dict[str, float | str]]:
    """R2 and MAE (with unit) per target, plus weekly harvest per season (`harvest_week_kg_m2`)."""
    Y = table.matrix(TARGETS)
    out: dict[str, dict[str, float | str]] = {}
    for j, t in enumerate(TARGETS):
        out[t] = {
            "r2": round(float(r2_score(Y[:, j], Y_pred[:, j])), 4),
            "mae": round(float(mean_absolute_error(Y[:, j], Y_pred[:, j])), 4),
            "unit": unit_of(t),
        }
    week = table.season_id * 1000 + (table.columns["days_since_planting_d"] // 7).astype(np.int64)
    j = TARGETS.index("harvest_kg_m2")
    keys, inv = np.unique(week, return_inverse=True)
    true_w = np.bincount(inv, Y[:, j], len(keys))
    pred_w = np.bincount(inv, Y_pred[:, j], len(keys))
    out["harvest_week_kg_m2"] = {
        "r2": round(float(r2_score(true_w, pred_w)), 4),
        "mae": round(float(mean_absolute_error(true_w, pred_w)), 4),
        "unit": "kg/m2",
    }
    return out


def grouped_folds(groups: np.ndarray, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold splits over `groups`: each group's rows all in one test fold."""
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise TrainError("need rows from at least 2 weathers to cross-validate; add seasons")
    cv = GroupKFold(n_splits=min(folds, n_groups))
    return list(cv.split(np.zeros(len(groups)), groups=groups))


def train(table: DayTable, preset: Preset, progress=None) -> tuple[DayModel, dict[str, Any]]:
    """Tune every kind, choose per target by out-of-fold R2, refit the chosen kinds on all rows.

    Returns the model and a report: CV R2 per kind and target, the best parameters per kind.
    """
    if len(table) < 50:
        raise TrainError(f"dataset has {len(table)} rows; need at least 50")
    X = table.matrix(FEATURES)
    Y = table.matrix(TARGETS)
    rng = np.random.default_rng(preset.seed)
    rows = np.sort(rng.permutation(len(X))[: preset.tune_rows])
    Xt, Yt, gt = X[rows], Y[rows], table.weather_id[rows]
    folds = grouped_folds(gt, preset.folds)
    cv_r2: dict[str, dict[str, float]] = {}
    best: dict[str, Any] = {}
    params: dict[str, dict[str, Any]] = {}
    for i, (kind, (est, space)) in enumerate(_candidates(preset.seed).items()):
        if progress:
            progress(f"tuning {kind} ({i + 1}/{len(KINDS)})")
        search = RandomizedSearchCV(
            est, space, n_iter=preset.n_iter, cv=folds, random_state=preset.seed,
            n_jobs=2, refit=False, scoring="r2",
        )  # fmt: skip
        search.fit(Xt, Yt)
        params[kind] = {k: _plain(v) for k, v in search.best_params_.items()}
        tuned = est.set_params(**search.best_params_)
        oof = cross_val_predict(tuned, Xt, Yt, cv=folds, n_jobs=2)
        cv_r2[kind] = {t: float(r2_score(Yt[:, j], oof[:, j])) for j, t in enumerate(TARGETS)}
        best[kind] = tuned
    choice = {t: max(KINDS, key=lambda k: cv_r2[k][t]) for t in TARGETS}
    fitted = {}
    for kind in sorted(set(choice.values())):
        if progress:
            progress(f"fitting {kind} on {len(X)} rows")
        fitted[kind] = best[kind].fit(X, Y)
    report = {
        "cv_r2": {k: {t: round(v, 4) for t, v in d.items()} for k, d in cv_r2.items()},
        "best_params": params,
        "choice": choice,
        "cv": f"GroupKFold({len(folds)}) by weather over {len(rows)} rows",
    }
    return DayModel(fitted, choice), report


def _plain(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def input_ranges(table: DayTable) -> dict[str, list[float]]:
    """[min, max] of every feature seen in training."""
    return {f: [float(table.columns[f].min()), float(table.columns[f].max())] for f in FEATURES}
