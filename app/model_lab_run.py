"""The model lab's long work: build a small dataset and train a day model in a spawned child.

Training holds the interpreter (numba seasons, scikit-learn fits), so the lab runs it through
`run_in_child`; the GUI gets progress fractions and the saved model's name, or one line.
Besides what `serra model train` saves, the lab's models record held-out predicted-vs-actual
pairs and a permutation importance per target, so the lab can plot them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.child_run import ChildRunError, run_in_child

#: Seasons sharing one weather in a lab dataset: small, so even 8 seasons span 4 weathers.
LAB_PER_WEATHER = 2
#: Predicted-vs-actual pairs kept per target (enough for a scatter, small in the JSON).
PAIRS_KEPT = 300
#: Rows the permutation importance is computed on.
IMPORTANCE_ROWS = 600
#: Progress fraction reached when the dataset is built; training fills the rest.
DATASET_SHARE = 0.4


class ModelLabError(Exception):
    """Lab work that failed; the message is one line."""


@dataclass(frozen=True)
class TrainRequest:
    """What the lab's Train button asks for."""

    name: str
    root: str
    seasons: int = 8
    days: float = 60.0
    seed: int = 0
    preset: str = "quick"


def check_name(name: str) -> str:
    """The model name, stripped, or ModelLabError saying what to fix."""
    name = name.strip()
    if not name:
        raise ModelLabError("give the new model a name")
    if not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise ModelLabError(f"model name {name!r}: use letters, digits, - _ . only")
    return name


def _train_progress(message: str) -> float:
    """A fraction for `models.train`'s progress text ("tuning mlp (3/3)", "fitting ...")."""
    if message.startswith("tuning") and "(" in message:
        done = int(message.rsplit("(", 1)[1].split("/")[0]) - 1
        return DATASET_SHARE + 0.15 * done
    return 0.9


def held_out_pairs(y_true: Any, y_pred: Any, seed: int) -> dict[str, dict[str, list[float]]]:
    """Up to PAIRS_KEPT actual/predicted pairs per target (the same rows for every target)."""
    import numpy as np

    from models.features import TARGETS

    rng = np.random.default_rng(seed)
    rows = np.sort(rng.permutation(len(y_true))[:PAIRS_KEPT])
    return {
        t: {
            "actual": [round(float(v), 5) for v in y_true[rows, j]],
            "predicted": [round(float(v), 5) for v in y_pred[rows, j]],
        }
        for j, t in enumerate(TARGETS)
    }


def permutation_importance(model: Any, x: Any, y: Any, seed: int) -> dict[str, dict[str, float]]:
    """Per target, the drop in R2 when each feature's column is shuffled (higher = matters more)."""
    import numpy as np
    from sklearn.metrics import r2_score

    from models.features import FEATURES, TARGETS

    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(x))[:IMPORTANCE_ROWS]
    x, y = x[rows], y[rows]
    base = model.predict(x)
    base_r2 = [r2_score(y[:, j], base[:, j]) for j in range(len(TARGETS))]
    out: dict[str, dict[str, float]] = {t: {} for t in TARGETS}
    for i, f in enumerate(FEATURES):
        shuffled = x.copy()
        shuffled[:, i] = rng.permutation(shuffled[:, i])
        pred = model.predict(shuffled)
        for j, t in enumerate(TARGETS):
            out[t][f] = round(float(base_r2[j] - r2_score(y[:, j], pred[:, j])), 4)
    return out


def build_and_train(request: TrainRequest, progress: Callable[[float], None]) -> dict[str, Any]:
    """Build `request.seasons` seasons, train, save into the registry folder; a summary."""
    import numpy as np

    from controllers.dataset import build_dataset
    from models.features import FEATURES, TARGETS
    from models.registry import save_model
    from models.train import PRESETS, input_ranges, metrics, train

    t0 = time.perf_counter()
    preset = PRESETS[request.preset]
    progress(0.02)
    table = build_dataset(
        request.seasons,
        seed=request.seed,
        per_weather=LAB_PER_WEATHER,
        days=request.days,
        workers=1,
    )
    progress(DATASET_SHARE)
    held = np.isin(table.weather_id, table.meta.get("held_out_weather", []))
    train_rows, test = table.subset(~held), table.subset(held)
    model, report = train(train_rows, preset, progress=lambda s: progress(_train_progress(s)))
    progress(0.95)
    weathers = table.meta.get("weathers", {})
    meta: dict[str, Any] = {
        "trained": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "preset": request.preset,
        "seed": preset.seed,
        "data_sha256": table.digest(),
        "rows_trained": len(train_rows),
        "seasons": request.seasons,
        "season_days": request.days,
        "held_out_weathers": [
            weathers.get(str(w), str(w)) for w in np.unique(table.weather_id[held])
        ],
        "metrics_held_out": {},
        "cv": report,
        "input_ranges": input_ranges(train_rows),
        "built_by": "model lab",
    }
    if len(test):
        x, y = test.matrix(FEATURES), test.matrix(TARGETS)
        pred = model.predict(x)
        meta["metrics_held_out"] = metrics(test, pred)
        meta["held_out_pairs"] = held_out_pairs(y, pred, preset.seed)
        meta["importance"] = permutation_importance(model, x, y, preset.seed)
    meta["train_seconds"] = round(time.perf_counter() - t0, 1)
    save_model(Path(request.root), request.name, model, meta)
    progress(1.0)
    return {"name": request.name, "rows": len(table), "seconds": meta["train_seconds"]}


def train_in_child(
    request: TrainRequest, progress: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """`build_and_train` in a spawned child process; raises ModelLabError with its message."""
    try:
        return run_in_child(build_and_train, request, progress)
    except ChildRunError as exc:
        raise ModelLabError(str(exc)) from None
