"""Saved day models: skops files with metadata, a shipped default, promote and rollback.

No pickle is ever loaded: skops refuses any type it does not know, and we trust only the types on
`ALLOWED_TYPES` (what our three kinds of pipeline are made of). A model written by a newer
scikit-learn than the one installed is refused too, as its trees may not read back the same.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.features import FEATURES, TARGETS, unit_of

if TYPE_CHECKING:  # scikit-learn and skops load only to save or load a model, not to list them
    from models.train import DayModel

SHIPPED_DIR = Path(__file__).parent / "data"
SHIPPED_NAME = "default"
#: Types a saved model may hold beyond the ones skops trusts itself.
ALLOWED_TYPES: frozenset[str] = frozenset(
    {
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
        "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn._loss.loss.HalfSquaredError",
        "sklearn._loss.link.IdentityLink",
    }
)


class RegistryError(ValueError):
    """A model that cannot be found, saved or trusted; the message is one line."""


@dataclass
class LoadedModel:
    """A day model with its metadata (features, units, ranges, metrics, versions)."""

    name: str
    model: DayModel
    meta: dict[str, Any]

    def out_of_range(self, x: np.ndarray, margin: float = 0.05) -> list[str]:
        """Features of `x` outside the training range (widened by `margin` of its width)."""
        bad = []
        for f, v in zip(FEATURES, x, strict=True):
            lo, hi = self.meta["input_ranges"][f]
            pad = margin * (hi - lo)
            if not (lo - pad <= float(v) <= hi + pad):
                bad.append(f"{f} = {float(v):.4g} outside {lo:.4g}..{hi:.4g} {unit_of(f)}".rstrip())
        return bad


def default_root() -> Path:
    """The user's model registry (SERRA_MODEL_DIR, else the platform's user data dir)."""
    env = os.environ.get("SERRA_MODEL_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("serra")) / "models"


def versions() -> dict[str, str]:
    """Library versions a model records."""
    import sklearn
    import skops

    return {
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
    }


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide a shipped model from other users
    os.replace(tmp, path)


def save_model(directory: Path, name: str, model: DayModel, meta: dict[str, Any]) -> Path:
    """Write `name.skops` and `name.json` into `directory`; returns the skops path."""
    import skops.io as sio

    directory.mkdir(parents=True, exist_ok=True)
    full = {
        "name": name,
        "features": {f: unit_of(f) for f in FEATURES},
        "targets": {t: unit_of(t) for t in TARGETS},
        "choice": model.choice,
        "versions": versions(),
        **meta,
    }
    path = directory / f"{name}.skops"
    _atomic_write(path, sio.dumps(model.estimators, compression=8))
    _atomic_write(directory / f"{name}.json", json.dumps(full, indent=1).encode())
    return path


def _newer(saved: str, installed: str) -> bool:
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(p) for p in v.split(".")[:2] if p.isdigit())

    return key(saved) > key(installed)


def load_from(path: Path, name: str | None = None) -> LoadedModel:
    """Load the model at `path` (.skops beside its .json) after checking versions and types."""
    import sklearn
    import skops.io as sio

    from models.train import DayModel

    name = name or path.stem
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise RegistryError(
            f"model {name!r}: no {path.name} with {meta_path.name} in {path.parent}"
        )
    try:
        meta = json.loads(meta_path.read_text())
        saved = str(meta["versions"]["scikit-learn"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"model {name!r}: unreadable metadata {meta_path} ({exc})") from None
    if _newer(saved, sklearn.__version__):
        raise RegistryError(
            f"model {name!r} was built with scikit-learn {saved}, newer than the installed "
            f"{sklearn.__version__}; upgrade scikit-learn or retrain the model"
        )
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises many kinds for a damaged file
        raise RegistryError(f"model {name!r}: {path} is not a skops file ({exc})") from None
    unknown = sorted(set(untrusted) - ALLOWED_TYPES)
    if unknown:
        raise RegistryError(
            f"model {name!r} holds types not on the allow-list ({', '.join(unknown)}); refused"
        )
    estimators = sio.load(path, trusted=list(untrusted))
    if set(meta.get("choice", {})) != set(TARGETS) or list(meta.get("features", {})) != list(
        FEATURES
    ):
        raise RegistryError(f"model {name!r} predicts other features or targets; retrain it")
    return LoadedModel(name, DayModel(dict(estimators), dict(meta["choice"])), meta)


class Registry:
    """Models in a directory, plus the shipped default; `active.json` names the one in use."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()

    def _state(self) -> dict[str, Any]:
        path = self.root / "active.json"
        if not path.is_file():
            return {"active": SHIPPED_NAME, "history": []}
        try:
            return dict(json.loads(path.read_text()))
        except ValueError:
            raise RegistryError(f"{path} is damaged; delete it to use the shipped model") from None

    def _save_state(self, state: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        _atomic_write(self.root / "active.json", json.dumps(state, indent=1).encode())

    def path(self, name: str) -> Path:
        """Where model `name` lives (the shipped default unless the registry has its own)."""
        own = self.root / f"{name}.skops"
        if own.is_file() or name != SHIPPED_NAME:
            return own
        return SHIPPED_DIR / f"{SHIPPED_NAME}.skops"

    def names(self) -> list[str]:
        """Every model name: the shipped default first, then the registry's, sorted."""
        own = sorted(p.stem for p in self.root.glob("*.skops")) if self.root.is_dir() else []
        return [SHIPPED_NAME, *[n for n in own if n != SHIPPED_NAME]]

    def active(self) -> str:
        """The name of the model in use."""
        return str(self._state()["active"])

    def load(self, name: str | None = None) -> LoadedModel:
        """Load `name` (default: the active model)."""
        name = name or self.active()
        if name not in self.names():
            raise RegistryError(f"no model {name!r}; known: {', '.join(self.names())}")
        return load_from(self.path(name), name)

    def meta(self, name: str) -> dict[str, Any]:
        """The metadata of `name` without loading the model."""
        try:
            return dict(json.loads(self.path(name).with_suffix(".json").read_text()))
        except (OSError, ValueError) as exc:
            raise RegistryError(f"model {name!r}: no readable metadata ({exc})") from None

    def promote(self, name: str) -> None:
        """Make `name` the active model (it must load); the previous one can be rolled back to."""
        self.load(name)
        state = self._state()
        if state["active"] != name:
            state["history"] = [*state.get("history", []), state["active"]]
            state["active"] = name
            self._save_state(state)

    def rollback(self) -> str:
        """Return to the model active before the last promote; returns its name."""
        state = self._state()
        if not state.get("history"):
            raise RegistryError("nothing to roll back to: no model was promoted before this one")
        state["active"] = state["history"].pop()
        self._save_state(state)
        return str(state["active"])
