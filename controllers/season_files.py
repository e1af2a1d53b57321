"""Write a season's records: climate.csv (per weather step), crop.csv (daily), summary.json.

Files are written to temporary names in the target folder and renamed when complete, so a
failed or interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from controllers.season import CLIMATE_COLUMNS, CROP_COLUMNS, SeasonResult


def _atomic_write(path: Path, lines: Iterable[str]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            for line in lines:
                fh.write(line)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def local_iso_times(time_s: np.ndarray, timezone: str) -> list[str]:
    """ISO 8601 local times with their UTC offset, one per UTC second in `time_s`."""
    tz = ZoneInfo(timezone)
    return [
        datetime.fromtimestamp(float(t), UTC).astimezone(tz).isoformat(timespec="seconds")
        for t in time_s
    ]


def _rows(times: list[str], table: np.ndarray, digits: int) -> Iterable[str]:
    for t, row in zip(times, table, strict=True):
        yield t + "," + ",".join(f"{v:.{digits}f}" for v in row) + "\n"


def write_season_outputs(result: SeasonResult, out_dir: str | Path, timezone: str) -> list[Path]:
    """Write climate.csv, crop.csv and summary.json of `result` into `out_dir` (created)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if result.climate is not None and result.climate_time_s is not None:
        path = out / "climate.csv"
        times = local_iso_times(result.climate_time_s, timezone)
        header = "time," + ",".join(CLIMATE_COLUMNS) + "\n"
        _atomic_write(path, [header, *_rows(times, result.climate, 3)])
        written.append(path)
    if result.crop is not None:
        path = out / "crop.csv"
        header = "date," + ",".join(CROP_COLUMNS) + "\n"
        _atomic_write(path, [header, *_rows(result.crop_dates, result.crop, 4)])
        written.append(path)
    path = out / "summary.json"
    _atomic_write(path, [json.dumps(result.summary, indent=2) + "\n"])
    written.append(path)
    return written
