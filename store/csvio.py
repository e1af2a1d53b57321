"""climate.csv export and import: `time` (ISO 8601 with offset) then canonical columns.

Export writes raw ticks where they exist and 5-min (or hourly) means where retention has
already removed the raw data. Import is all-or-nothing: the whole file is checked first, then
written in one transaction, and refused with the row (file line, header = 1) and column named.
"""

from __future__ import annotations

import csv
import io
import math
import os
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from store import events, rollups, timeseries
from store.db import Store
from store.errors import CsvImportError, QueryError

#: climate.csv columns after `time` (the same order as the simulator's climate.csv).
CLIMATE_COLUMNS: tuple[str, ...] = (
    "tair_c",
    "rh_pct",
    "co2_ppm",
    "par_umol_m2_s",
    "hd_g_m3",
    "pipe_c",
    "pipe_grow_c",
    "heat_w_m2",
    "pipe_sp_c",
    "pipe_grow_sp_c",
    "vent_lee_pct",
    "vent_wind_pct",
    "screen_energy_pct",
    "screen_blackout_pct",
    "lamps_pct",
    "co2_valve_pct",
    "fog_pct",
    "irrigation_pct",
    "tout_c",
    "rhout_pct",
    "iglob_w_m2",
    "wind_m_s",
)


def default_sources(column: str) -> tuple[str, ...]:
    """Channels a CSV column is read from, first non-empty wins: the measurement of that
    name, else the actuator's readback, else its command."""
    return (column, "rb_" + column, "cmd_" + column)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(
            f"unknown time zone {tz!r}; give an IANA name like Europe/Amsterdam"
        ) from None


def _iso(t_ms: int, zone: ZoneInfo) -> str:
    spec = "seconds" if t_ms % 1000 == 0 else "milliseconds"
    return datetime.fromtimestamp(t_ms / 1000.0, UTC).astimezone(zone).isoformat(timespec=spec)


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:.10g}"


def export_rows(
    store: Store,
    t0_s: float | None = None,
    t1_s: float | None = None,
    columns: Sequence[str] = CLIMATE_COLUMNS,
) -> Iterator[tuple[int, list[float | None]]]:
    """(t_ms, values in `columns` order) for every tick (or rollup mean) in t0 <= t < t1."""
    store.reload_channels()
    known = store.channels
    sources = {c: [s for s in default_sources(c) if s in known] for c in columns}
    a = -(2**62) if t0_s is None else timeseries.to_ms(t0_s)
    b = 2**62 if t1_s is None else timeseries.to_ms(t1_s)
    used = sorted({s for group in sources.values() for s in group})
    with store.read():
        for source, lo, hi in rollups.plan(store, "raw", a, b):
            if source == "raw":
                yield from _raw_rows(store, sources, used, columns, lo, hi)
            else:
                yield from _rollup_rows(store, source, sources, used, columns, lo, hi)


def _pick(sources, columns, got: Mapping[str, float | None]) -> list[float | None]:
    out = []
    for c in columns:
        value = None
        for s in sources[c]:
            if got.get(s) is not None:
                value = got[s]
                break
        out.append(value)
    return out


def _raw_rows(store, sources, used, columns, lo, hi):
    if not used:
        return
    # samples flagged bad are left empty, as in the rollup means: the sensor did not say them
    sql = (
        f"SELECT t_ms, {', '.join(store.value_expr(s) for s in used)} FROM ticks "
        "WHERE t_ms >= ? AND t_ms < ? ORDER BY t_ms"
    )
    for row in store.conn.execute(sql, (lo, hi)):
        yield row[0], _pick(sources, columns, dict(zip(used, row[1:], strict=True)))


def _rollup_rows(store, level, sources, used, columns, lo, hi):
    ids = store.rollup_ids(used)
    if not ids:
        return
    means = ", ".join(f"sum_{cid} / n_{cid}" for cid in ids)
    sql = (
        f"SELECT t_ms, {means} FROM {rollups.TABLE[level]} "
        "WHERE t_ms >= ? AND t_ms < ? ORDER BY t_ms"
    )
    names = list(ids.values())
    for row in store.conn.execute(sql, (lo, hi)):
        yield row[0], _pick(sources, columns, dict(zip(names, row[1:], strict=True)))


def write_csv(
    store: Store,
    out: str | Path | None,
    t0_s: float | None = None,
    t1_s: float | None = None,
    tz: str = "UTC",
    columns: Sequence[str] = CLIMATE_COLUMNS,
) -> int:
    """Write climate.csv for t0..t1 to `out` (temp file + rename) or stdout; return the rows."""
    zone = _zone(tz)

    def emit(fh: TextIO) -> int:
        n = 0
        fh.write("time," + ",".join(columns) + "\n")
        for t_ms, values in export_rows(store, t0_s, t1_s, columns):
            fh.write(_iso(t_ms, zone) + "," + ",".join(_fmt(v) for v in values) + "\n")
            n += 1
        return n

    if out is None:
        return emit(sys.stdout)
    out = Path(out)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            n = emit(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def parse_time(text: str, where: str) -> float:
    """ISO 8601 time with a UTC offset -> UTC seconds; CsvImportError naming `where`."""
    try:
        t = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CsvImportError(
            f"{where}: {text!r} is not an ISO 8601 time; write e.g. 2024-03-01T12:00:00+01:00"
        ) from None
    if t.tzinfo is None:
        raise CsvImportError(
            f"{where}: {text!r} has no UTC offset; write e.g. 2024-03-01T12:00:00+01:00"
        )
    return t.timestamp()


def read_csv(
    path: str | Path,
    channels: Mapping[str, str],
    *,
    limits: Mapping[str, tuple[float, float]] | None = None,
    latest_s: float | None = None,
) -> list[timeseries.Row]:
    """Check a whole climate CSV and return its tick rows; `channels` maps allowed CSV columns
    to database channels. Refuses unknown columns, bad times, non-numbers, duplicate times,
    values outside `limits` (CSV column -> plausible lo..hi, both included) and times after
    `latest_s` (UTC seconds; the caller's wall clock plus a tolerance)."""
    path = Path(path)
    limits = limits or {}
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CsvImportError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise CsvImportError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    with io.StringIO(text, newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise CsvImportError(f"{path}: the file is empty; expected a header row") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CsvImportError(f"{path}, row 1: cannot parse ({exc})") from None
        header = [h.strip() for h in header]
        if not header or header[0] != "time":
            raise CsvImportError(
                f"{path}, row 1, column 1: first column must be 'time', got {header[:1]!r}"
            )
        for i, name in enumerate(header[1:], start=2):
            if name not in channels:
                raise CsvImportError(
                    f"{path}, row 1, column {i}: unknown column {name!r}; "
                    f"allowed: {', '.join(sorted(channels))}"
                )
            if name in header[1 : i - 1]:
                raise CsvImportError(f"{path}, row 1, column {i}: column {name!r} repeated")
        targets = [channels[name] for name in header[1:]]
        rows: list[timeseries.Row] = []
        seen: dict[int, int] = {}
        try:
            for line_no, fields in enumerate(reader, start=2):
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) != len(header):
                    raise CsvImportError(_field_count(path, line_no, header, fields))
                where = f"{path}, row {line_no}, column time"
                t_s = parse_time(fields[0], where)
                if latest_s is not None and t_s > latest_s:
                    raise CsvImportError(
                        f"{where}: {fields[0].strip()!r} is in the future (latest allowed "
                        f"{_iso(timeseries.to_ms(latest_s), ZoneInfo('UTC'))}); "
                        "fix the time or the clock"
                    )
                t_ms = timeseries.to_ms(t_s)
                if t_ms in seen:
                    raise CsvImportError(
                        f"{path}, row {line_no}, column time: {fields[0]!r} repeats row "
                        f"{seen[t_ms]}; every time may appear once"
                    )
                seen[t_ms] = line_no
                values: dict[str, float | int | None] = {}
                for name, target, text in zip(header[1:], targets, fields[1:], strict=True):
                    where = f"{path}, row {line_no}, column {name}"
                    values[target] = _in_range(_cell(text, where), limits.get(name), name, where)
                rows.append((t_ms, None, values))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CsvImportError(f"{path}, row {reader.line_num}: cannot parse ({exc})") from None
    if not rows:
        raise CsvImportError(f"{path}: no data rows after the header")
    return rows


def _field_count(path: Path, line_no: int, header: list[str], fields: list[str]) -> str:
    where = f"{path}, row {line_no}"
    if len(fields) > len(header):
        return (
            f"{where}, column {len(header) + 1}: extra field {fields[len(header)]!r}; "
            f"the header has {len(header)} columns"
        )
    return (
        f"{where}, column {header[len(fields)]}: missing; "
        f"{len(fields)} fields, the header has {len(header)}"
    )


def _cell(text: str, where: str) -> float | None:
    text = text.strip()
    if not text or text.lower() in ("nan", "na", "null"):
        return None
    try:
        x = float(text)
    except ValueError:
        raise CsvImportError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(x):
        raise CsvImportError(f"{where}: {text!r} is not a finite number")
    return x


def _in_range(
    x: float | None, limit: tuple[float, float] | None, name: str, where: str
) -> float | None:
    if x is None or limit is None or limit[0] <= x <= limit[1]:
        return x
    raise CsvImportError(
        f"{where}: {x:g} is outside the plausible range of {name}, "
        f"{limit[0]:g}..{limit[1]:g}; fix or empty the cell"
    )


def import_csv(
    store: Store,
    path: str | Path,
    channels: Mapping[str, str],
    who: str = "serra db import",
    *,
    limits: Mapping[str, tuple[float, float]] | None = None,
    latest_s: float | None = None,
) -> int:
    """Import a climate CSV all-or-nothing (one transaction, with a `data_import` event).

    The file is checked whole first (`read_csv`, with `limits` and `latest_s`)."""
    rows = read_csv(path, channels, limits=limits, latest_s=latest_s)
    try:
        _write_import(store, path, channels, rows, who)
    except sqlite3.Error as exc:
        raise CsvImportError(f"{path}: writing failed, nothing was imported ({exc})") from None
    return len(rows)


def _write_import(store, path, channels, rows, who) -> None:
    times = [r[0] for r in rows]
    with store.write():
        timeseries.write_rows(store, rows)
        rollups.roll_up(store)
        events.append_rows(
            store,
            [
                events.event_row(
                    max(times) / 1000.0,
                    "data_import",
                    "store.csvio",
                    f"imported {len(rows)} rows from {Path(path).name}",
                    who,
                    {
                        "file": str(path),
                        "rows": len(rows),
                        "from_s": min(times) / 1000.0,
                        "to_s": max(times) / 1000.0,
                        "columns": sorted(set(channels) & set(_header_of(rows, channels))),
                    },
                )
            ],
        )


def _header_of(rows: list[timeseries.Row], channels: Mapping[str, str]) -> list[str]:
    back = {v: k for k, v in channels.items()}
    return [back[c] for c in rows[0][2] if c in back]
