"""Read a timed schedule CSV: `time` (ISO 8601 with offset) plus named numeric columns.

Used for `--setpoints` and `--actuators` replay files. Empty cells mean "not given in this row"
and come back as NaN. Errors name the file, row (its line number) and column, and what is allowed.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime
from pathlib import Path

import numpy as np

from sim.csv_errors import csv_error_text


def _fmt(x: float) -> str:
    return f"{x:g}"


def parse_time(text: str, where: str, error: type[Exception]) -> float:
    """UTC seconds of an ISO 8601 time that carries its UTC offset."""
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise error(
            f"{where}: time {text!r} is not ISO 8601, e.g. 2018-08-14T00:00:00+02:00"
        ) from None
    if t.tzinfo is None or t.utcoffset() is None:
        raise error(
            f"{where}: time {text!r} has no UTC offset; write e.g. 2018-08-14T00:00:00+02:00"
        )
    return t.timestamp()


def read_schedule_csv(
    path: str | Path,
    ranges: dict[str, tuple[float, float]],
    error: type[Exception],
    units: dict[str, str] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Return `(time_s, {column: values})` of a schedule file whose columns are keys of `ranges`.

    Raises `error` for an unreadable file, a first column other than `time`, unknown or repeated
    columns, ragged rows, times without offset or not increasing, non-numbers and values outside
    their range.
    """
    path = Path(path)
    name = path.name
    units = units or {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            try:
                rows = list(reader)
            except csv.Error as exc:
                raise error(f"{name} row {reader.line_num}: {csv_error_text(exc)}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text; save the file as UTF-8 CSV") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise error(f"{name}: empty file; expected a header 'time,<column>,...'")
    header = [h.strip() for h in rows[0]]
    if header[0] != "time":
        raise error(f"{name} row 1: first column must be 'time', got {header[0]!r}")
    columns = header[1:]
    if not columns:
        raise error(f"{name} row 1: no column after 'time'; allowed: {', '.join(ranges)}")
    for c in columns:
        if c not in ranges:
            raise error(f"{name} row 1: unknown column {c!r}; allowed: time, {', '.join(ranges)}")
    if len(set(columns)) != len(columns):
        raise error(f"{name} row 1: a column appears twice")
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(cell.strip() for cell in r)]
    times = np.empty(len(body))
    values = np.full((len(body), len(columns)), np.nan)
    for i, (line, r) in enumerate(body):
        where = f"{name} row {line}"
        if len(r) != len(header):
            raise error(f"{where}: {len(r)} cells, the header has {len(header)}")
        times[i] = parse_time(r[0], where, error)
        if i and times[i] <= times[i - 1]:
            raise error(f"{where}: time {r[0]!r} does not increase")
        for j, cell in enumerate(r[1:]):
            if not cell.strip():
                continue
            column = columns[j]
            try:
                v = float(cell)
            except ValueError:
                raise error(f"{where}: {column} = {cell!r} is not a number") from None
            if math.isnan(v):
                continue
            lo, hi = ranges[column]
            if not lo <= v <= hi:
                unit = units.get(column, "")
                raise error(
                    f"{where}: {column} = {_fmt(v)} is outside "
                    f"{_fmt(lo)}..{_fmt(hi)} {unit}".rstrip()
                )
            values[i, j] = v
    if not body:
        raise error(f"{name}: no data rows after the header; add rows 'time,value,...'")
    if np.isnan(values).all():
        raise error(f"{name}: every value cell is empty; the file would change nothing")
    return times, {c: values[:, j].copy() for j, c in enumerate(columns)}


def replay_coverage(sched_times: np.ndarray, season_times: np.ndarray, step_s: float) -> dict:
    """How a replay file covers a season: hours before its first row (the strategy drives them)
    and after its last row (that row's values held), with a row's usual spacing as its length.

    Returns `{"first_row_s", "last_row_s", "before_h", "after_h", "outside"}`; `outside` is True
    when no row falls within the season (it starts at or after the season's end, or it ends,
    last row plus its spacing, at or before the season's start).
    """
    start, end = float(season_times[0]), float(season_times[-1]) + step_s
    first, last = float(sched_times[0]), float(sched_times[-1])
    spacing = float(np.median(np.diff(sched_times))) if len(sched_times) > 1 else math.inf
    covered_to = last + spacing
    return {
        "first_row_s": first,
        "last_row_s": last,
        "before_h": max(0.0, min(first, end) - start) / 3600.0,
        "after_h": max(0.0, end - max(covered_to, start)) / 3600.0,
        "outside": first >= end or covered_to <= start,
    }
