"""The day table on disk: a compressed .npz of float columns plus a JSON sidecar with units.

One row per greenhouse-day; `season_id` groups the rows of one season (a season never appears in
two folds) and `weather_id` the seasons that shared one weather (for held-out-weather tests).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.features import unit_of

TABLE_FILE = "days.npz"
SIDECAR_FILE = "days.json"


class TableError(ValueError):
    """A dataset directory that cannot be read; the message says what to fix."""


@dataclass
class DayTable:
    """Columns by name (float64, equal length), the row groups, and free-form provenance."""

    columns: dict[str, np.ndarray]
    season_id: np.ndarray
    weather_id: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.season_id)

    def matrix(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        """`[rows, len(names)]` float64, columns in the order of `names`."""
        missing = [n for n in names if n not in self.columns]
        if missing:
            raise TableError(f"dataset lacks columns {', '.join(missing)}; rebuild it")
        return np.column_stack([self.columns[n] for n in names])

    def subset(self, rows: np.ndarray) -> DayTable:
        """The rows selected by a boolean mask or an index array."""
        return DayTable(
            {k: v[rows] for k, v in self.columns.items()},
            self.season_id[rows],
            self.weather_id[rows],
            dict(self.meta),
        )

    def digest(self) -> str:
        """SHA-256 over names and values: the training data hash a model records."""
        h = hashlib.sha256()
        for name in sorted(self.columns):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.columns[name], dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(self.season_id, dtype=np.int64).tobytes())
        return h.hexdigest()


def save_table(directory: str | Path, table: DayTable) -> Path:
    """Write the table and its sidecar into `directory` (temp file + rename, never half-written)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    arrays = {f"col:{k}": np.asarray(v, dtype=np.float64) for k, v in table.columns.items()}
    arrays["season_id"] = np.asarray(table.season_id, dtype=np.int64)
    arrays["weather_id"] = np.asarray(table.weather_id, dtype=np.int64)
    fd, tmp = tempfile.mkstemp(dir=d, suffix=".npz.part")
    with os.fdopen(fd, "wb") as f:
        np.savez_compressed(f, **arrays)  # type: ignore[arg-type]  # stubs: kwargs as bool
    os.replace(tmp, d / TABLE_FILE)
    sidecar = {
        "rows": len(table),
        "seasons": len(np.unique(table.season_id)),
        "group": "season_id",
        "units": {k: unit_of(k) for k in table.columns},
        "sha256": table.digest(),
        **table.meta,
    }
    fd, tmp = tempfile.mkstemp(dir=d, suffix=".json.part")
    with os.fdopen(fd, "w") as f:
        json.dump(sidecar, f, indent=1)
    os.replace(tmp, d / SIDECAR_FILE)
    return d / TABLE_FILE


def load_table(directory: str | Path) -> DayTable:
    """Read a dataset directory written by `save_table`; TableError in one line otherwise."""
    d = Path(directory)
    path = d / TABLE_FILE
    if not path.is_file():
        raise TableError(f"{d}: no {TABLE_FILE}; build one with `serra model dataset --out {d}`")
    try:
        with np.load(path, allow_pickle=False) as z:
            columns = {k[4:]: z[k] for k in z.files if k.startswith("col:")}
            season = z["season_id"]
            weather = z["weather_id"]
        meta = json.loads((d / SIDECAR_FILE).read_text()) if (d / SIDECAR_FILE).is_file() else {}
    except (OSError, ValueError, KeyError) as exc:
        raise TableError(f"{path}: not a Serra day table ({exc})") from None
    return DayTable(columns, season, weather, meta)
