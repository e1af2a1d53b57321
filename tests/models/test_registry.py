"""The registry refuses what it cannot trust, and promote/rollback move the active model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from models.features import FEATURES, TARGETS
from models.registry import SHIPPED_DIR, Registry, RegistryError, load_from


class Stranger:
    """A type no allow-list names."""

    def __init__(self) -> None:
        self.payload = 1


def _copy_default(root: Path, name: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(SHIPPED_DIR / "default.skops", root / f"{name}.skops")
    shutil.copy(SHIPPED_DIR / "default.json", root / f"{name}.json")
    return root / f"{name}.skops"


def test_shipped_model_loads_and_predicts_every_target() -> None:
    loaded = Registry(Path("/nonexistent-serra-registry")).load("default")
    x = np.array([np.mean(loaded.meta["input_ranges"][f]) for f in FEATURES])
    y = loaded.model.predict(x)
    assert y.shape == (1, len(TARGETS))
    assert np.all(np.isfinite(y))
    assert loaded.meta["data_sha256"] and loaded.meta["versions"]["scikit-learn"]


def test_unknown_type_is_refused_in_one_line(tmp_path: Path) -> None:
    path = _copy_default(tmp_path, "evil")
    sio.dump({"gradient_boosting": Stranger()}, path)
    with pytest.raises(RegistryError) as info:
        load_from(path)
    assert "not on the allow-list" in str(info.value) and "Stranger" in str(info.value)
    assert "\n" not in str(info.value)


def test_model_from_newer_library_is_refused(tmp_path: Path) -> None:
    path = _copy_default(tmp_path, "future")
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["versions"]["scikit-learn"] = "99.1.0"
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(RegistryError, match=r"scikit-learn 99\.1\.0, newer than the installed"):
        load_from(path)


def test_promote_and_rollback(tmp_path: Path) -> None:
    reg = Registry(tmp_path)
    _copy_default(tmp_path, "mine")
    assert reg.active() == "default"
    reg.promote("mine")
    assert reg.active() == "mine"
    assert reg.rollback() == "default"
    with pytest.raises(RegistryError, match="nothing to roll back"):
        reg.rollback()
    with pytest.raises(RegistryError, match="no model 'ghost'"):
        reg.promote("ghost")
