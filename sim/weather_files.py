"""Weather files: the WUR 5-min format, the GreenLight reference year, and column-mapped CSVs.

Each is parsed, its local times turned into UTC, put on a regular grid with short gaps
interpolated, and completed with the derived signals (sim.sky) into a `Weather`
(sim.weather_series). `parse_times` is also the time parser for logged compartments.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path

import numpy as np

from sim.csv_errors import csv_error_text
from sim.local_time import DAY_S, EXCEL_EPOCH_DAYS, fmt_duration, fmt_local, local_to_utc
from sim.sky import cloud_fraction_from_radiation, sky_temperature_c, sky_temperature_from_pyrgeo
from sim.weather_series import (
    BLEISWIJK,
    CANONICAL,
    DEFAULT_CO2OUT_PPM,
    MAX_GAP_S,
    PYRGEO_KEY,
    REFERENCE_YEAR,
    REQUIRED,
    Site,
    Weather,
    WeatherError,
)

_WUR_COLUMNS = {
    "tout_c": "Tout",
    "rhout_pct": "Rhout",
    "iglob_w_m2": "Iglob",
    "wind_m_s": "Windsp",
    "wind_dir_deg": "Winddir",
    "rain": "Rain",
    PYRGEO_KEY: "Pyrgeo",
}
_REFERENCE_COLUMNS = {
    "tout_c": "To",
    "rhout_pct": "RH",
    "iglob_w_m2": "Io",
    "wind_m_s": "vo",
    "tsky_c": "Tsky",
    "co2out_ppm": "CO2o_ppm",
}


_COMPASS_BITS = {1 << k: 45.0 * k for k in range(8)}
_COMPASS_PAIRS = {(1 << k) | (1 << ((k + 1) % 8)): 45.0 * k + 22.5 for k in range(8)}


def _decode_wur_wind_direction(raw: np.ndarray) -> np.ndarray | None:
    """Degrees from the WUR 8-sector bit code, or None when the column holds plain degrees.

    The WUR weather station writes 1, 2, 4, ..., 128 (N, NE, E, SE, S, SW, W, NW; two adjacent bits
    = the direction between them). The sector order is inferred from the data (SW/W are the most
    frequent and windiest sectors in Bleiswijk, E/NE the driest) and is not documented upstream.
    """
    valid = raw[~np.isnan(raw)]
    rounded = np.round(valid)
    codes = {**_COMPASS_BITS, **_COMPASS_PAIRS}
    if valid.size == 0 or np.any(np.abs(valid - rounded) > 1e-3):
        return None
    uniq = np.unique(rounded)
    if not all(int(u) in codes for u in uniq):
        return None
    out = np.full(raw.shape, np.nan)
    for code, deg in codes.items():
        out[np.round(raw) == code] = deg
    return out


@dataclass
class _Table:
    """A parsed CSV: header names, data rows as strings (or floats), physical line numbers."""

    names: list[str]
    header_lines: int
    text: str


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WeatherError(f"{path}: no such weather file") from None
    except OSError as exc:
        raise WeatherError(f"{path}: cannot read weather file ({exc.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise WeatherError(f"{path.name}: broken gzip file ({exc})") from None
    return raw.decode("utf-8-sig", errors="replace")


def _records(text: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every CSV record; a broken record raises WeatherError."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise WeatherError(f"{name}: line {reader.line_num}: {csv_error_text(exc)}") from None
        yield reader.line_num, rec


def _header(text: str, name: str) -> _Table:
    records = _records(text, name)
    try:
        line, first = next(records)
    except StopIteration:
        raise WeatherError(f"{name}: empty file; expected a CSV header line") from None
    names = [f.strip() for f in first]
    return _Table(names, line, text)


def _float_columns(table: _Table, cols: list[int], name: str) -> np.ndarray:
    """Data rows of the given column indices as floats (empty cell = NaN)."""
    try:
        data = np.loadtxt(
            io.StringIO(table.text),
            delimiter=",",
            skiprows=table.header_lines,
            usecols=cols,
            comments=None,
            ndmin=2,
            dtype=np.float64,
        )
        return data
    except ValueError:
        pass
    # Slow path: empty cells, stray quotes, or a bad cell that must be reported by line.
    records = _records(table.text, name)
    next(records)
    rows = []
    for line, rec in records:
        if not rec or all(not f.strip() for f in rec):
            continue
        row = []
        for c in cols:
            cell = rec[c] if c < len(rec) else ""
            where = f"{name}: line {line}, column {table.names[c]!r}"
            row.append(_cell_value(cell, where))
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(-1, len(cols))


def _cell_value(cell: str, where: str) -> float:
    """A data cell as a float; empty, NaN, NA and null are missing (NaN)."""
    cell = cell.strip()
    if cell == "" or cell.lower() in ("nan", "na", "null"):
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise WeatherError(f"{where}: {cell!r} is not a number") from None


def _column_index(table: _Table, column: str, key: str, name: str) -> int:
    try:
        index = table.names.index(column)
    except ValueError:
        raise WeatherError(
            f"{name}: no column {column!r} (for {key}); the file has: {', '.join(table.names)}"
        ) from None
    if table.names.count(column) > 1:
        where = [str(i + 1) for i, n in enumerate(table.names) if n == column]
        raise WeatherError(
            f"{name}: the header names column {column!r} twice (columns {', '.join(where)}); "
            "rename one so it is clear which holds the data"
        )
    return index


def _reference_names(names: list[str]) -> list[str]:
    """'To\\n[C]' -> 'To': the reference year's headers carry the unit on a second line."""
    return [n.split()[0] if n.split() else n for n in names]


def _check_increasing(utc: np.ndarray, lines: np.ndarray, tz: tzinfo, name: str) -> None:
    bad = np.nonzero(np.diff(utc) <= 0)[0]
    if bad.size:
        i = int(bad[0]) + 1
        raise WeatherError(
            f"{name}: time runs backwards at line {int(lines[i])} "
            f"({fmt_local(utc[i], tz)} after {fmt_local(utc[i - 1], tz)}); "
            "times must increase (only the repeated autumn daylight-saving hour may step back)"
        )


def parse_times(
    cells: list[str], lines: np.ndarray, time_format: str | None, tz: tzinfo, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch seconds and a keep-mask from a time column's text cells.

    `time_format` None reads ISO 8601 (all with an offset, or all naive local time at `tz`); a
    strptime pattern reads naive local time; "excel" is a local serial day, "unix"/"epoch" UTC
    seconds. Rows whose local time does not exist (the skipped spring hour) are masked out. `lines`
    (file line of each cell) and `name` (the file) word the WeatherError a bad cell raises.
    """
    n = len(cells)
    if time_format in ("excel", "unix", "epoch"):
        try:
            x = np.array([float(c) for c in cells])
        except ValueError:
            bad = next(k for k, c in enumerate(cells) if not _is_float(c))
            raise WeatherError(
                f"{name}: line {int(lines[bad])}: time {cells[bad]!r} is not a number "
                f"(time_format={time_format!r})"
            ) from None
        if time_format == "excel":
            local = np.round((x - EXCEL_EPOCH_DAYS) * DAY_S)
            return local_to_utc(local, tz)
        return x, np.ones(n, dtype=bool)
    aware = np.zeros(n, dtype=bool)
    secs = np.empty(n)
    epoch = datetime(1970, 1, 1)
    for k, c in enumerate(cells):
        try:
            if time_format is None:
                dt = datetime.fromisoformat(c.strip())
            else:
                dt = datetime.strptime(c.strip(), time_format)
        except ValueError:
            allowed = (
                "ISO 8601 such as 2018-08-14T00:05:00+02:00 or naive local time"
                if time_format is None
                else f"time_format {time_format!r}"
            )
            raise WeatherError(
                f"{name}: line {int(lines[k])}: time {c!r} does not parse; expected {allowed}"
            ) from None
        if dt.tzinfo is not None:
            aware[k] = True
            secs[k] = dt.timestamp()
        else:
            secs[k] = (dt - epoch).total_seconds()
    if aware.all():
        return secs, np.ones(n, dtype=bool)
    if aware.any():
        k = int(np.argmin(aware) if aware[0] else np.argmax(aware))
        raise WeatherError(
            f"{name}: line {int(lines[k])}: time {cells[k]!r} mixes naive and offset times; "
            "use one kind for the whole file"
        )
    return local_to_utc(secs, tz)


def _check_finite(
    cols: dict[str, np.ndarray], mapping: dict[str, str], lines: np.ndarray, name: str
) -> None:
    """Refuse inf at load, before any season runs on it (missing cells are NaN, not inf)."""
    for key, v in cols.items():
        bad = np.nonzero(np.isinf(v))[0]
        if bad.size:
            k = int(bad[0])
            raise WeatherError(
                f"{name}: line {int(lines[k])}, column {mapping[key]!r} ({key}): {v[k]} is not "
                "a finite number; give a value or leave the cell empty (short gaps are "
                "interpolated)"
            )


def _is_float(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _regular(
    utc: np.ndarray,
    columns: dict[str, np.ndarray],
    step_s: float,
    fill_gaps: bool,
    tz: tzinfo,
    name: str,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Put the columns on a regular grid, interpolating gaps; raise on gaps longer than 1 h."""
    n = math.floor((utc[-1] - utc[0]) / step_s + 1e-6) + 1
    grid = utc[0] + np.arange(n) * step_s
    long_gaps: list[tuple[float, float]] = []
    out: dict[str, np.ndarray] = {}
    for key, v in columns.items():
        ok = ~np.isnan(v)
        if not ok.any():
            label = "wind_dir_deg" if key.startswith("_wind_dir") else key
            raise WeatherError(f"{name}: the column for {label} holds no number at all")
        tv = utc[ok]
        # Missing time between valid samples = spacing minus one step; edges count from the file.
        bounds = np.concatenate(([utc[0] - step_s], tv, [utc[-1] + step_s]))
        missing = np.diff(bounds) - step_s
        for g in np.nonzero(missing > MAX_GAP_S + 1e-6)[0]:
            long_gaps.append((bounds[g] + step_s, bounds[g + 1] - step_s))
        out[key] = np.interp(grid, tv, v[ok])
    if long_gaps and not fill_gaps:
        long_gaps.sort()
        merged: list[list[float]] = []
        for a, b in long_gaps:
            if merged and a <= merged[-1][1] + step_s:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        shown = "; ".join(
            f"{fmt_local(a, tz)} to {fmt_local(b, tz)} ({fmt_duration(b - a + step_s)})"
            for a, b in merged[:4]
        )
        more = f"; and {len(merged) - 4} more" if len(merged) > 4 else ""
        what = f"{name}: {len(merged)} gap(s) longer than 1 h (local time): {shown}{more}; "
        raise WeatherError(
            what + "shorter gaps are interpolated; to interpolate these too pass fill_gaps=True",
            cli=what + "shorter gaps are interpolated; to interpolate these too add --fill-gaps",
        )
    return grid, out


def load_weather(
    path: str | Path,
    *,
    columns: dict[str, str] | None = None,
    site: Site = BLEISWIJK,
    time_format: str | None = None,
    fill_gaps: bool = False,
    step_s: float | None = None,
) -> Weather:
    """Load a weather CSV (or .csv.gz) onto a regular grid with all canonical signals.

    Without `columns` the WUR 5-min format and the GreenLight reference-year format are detected
    from the header; any other file needs `columns`: canonical name -> CSV column, plus "time" ->
    the time column and optionally "pyrgeo_w_m2" -> net long-wave radiation. Required: time,
    tout_c, rhout_pct, iglob_w_m2, wind_m_s. Times are ISO 8601 (with offset, or naive local time
    at `site`), or `time_format`: a strptime pattern, "excel" (serial day, local) or "unix" (UTC s).

    Missing or NaN samples are interpolated over gaps up to 1 h; a longer gap raises WeatherError
    naming its local time span unless `fill_gaps` (then it is interpolated too). `step_s` resamples
    the result (default: 300 s for WUR files, 3600 s for the reference year, else the file's
    most common step).
    """
    path = Path(path)
    name = path.name
    text = _read_text(path)
    table = _header(text, name)
    tz = site.tz
    cyclic = False

    if columns is not None:
        mapping = _check_mapping(columns, table, name)
        grid_step = None
        kind = "mapped"
    elif table.names and table.names[0] == "%time":
        mapping = {"time": "%time"}
        for key, col in _WUR_COLUMNS.items():
            if col in table.names:
                mapping[key] = col
        missing = [c for k, c in _WUR_COLUMNS.items() if k in REQUIRED and c not in table.names]
        if missing:
            raise WeatherError(
                f"{name}: WUR weather file lacks column(s) {', '.join(missing)}; "
                f"it has: {', '.join(table.names)}"
            )
        time_format = "excel"
        grid_step = 300.0
        kind = "wur"
    elif _reference_names(table.names)[:1] == ["t"] and {"To", "RH", "Io"} <= set(
        _reference_names(table.names)
    ):
        table.names = _reference_names(table.names)
        mapping = {"time": "t", **{k: c for k, c in _REFERENCE_COLUMNS.items() if c in table.names}}
        if "vo" not in table.names:
            raise WeatherError(f"{name}: reference-year file lacks column 'vo' (wind)")
        grid_step = 3600.0
        kind = "reference"
        cyclic = True
    else:
        what = (
            f"{name}: unknown weather columns ({', '.join(table.names[:12])}); expected the WUR "
            "format ('%time', Tout, Rhout, Iglob, Windsp, ...), the reference-year format "
            "(t, Io, vo, To, Tsky, RH) or "
        )
        raise WeatherError(
            what + "a columns= mapping such as {'time': 'Date', 'tout_c': 'T', "
            "'rhout_pct': 'RH', 'iglob_w_m2': 'Glob', 'wind_m_s': 'Wind'}",
            cli=what + "--weather-columns naming this file's columns, e.g. "
            "--weather-columns time=Date,tout_c=T,rhout_pct=RH,iglob_w_m2=Glob,wind_m_s=Wind",
        )

    keys = [k for k in mapping if k != "time"]
    col_idx = [_column_index(table, mapping[k], k, name) for k in keys]
    time_idx = _column_index(table, mapping["time"], "time", name)

    if kind in ("wur", "reference"):
        data = _float_columns(table, [time_idx, *col_idx], name)
        lines = np.arange(len(data)) + table.header_lines + 1
        raw_t = data[:, 0]
        cols = {k: data[:, i + 1] for i, k in enumerate(keys)}
        if kind == "wur":
            local = np.round((raw_t - EXCEL_EPOCH_DAYS) * DAY_S)
            utc, keep = local_to_utc(local, tz)
        else:
            # t = seconds since 1 Jan 00:00 UTC at the end of each hour's average; centre it.
            utc = datetime(REFERENCE_YEAR, 1, 1, tzinfo=UTC).timestamp() + raw_t - 1800.0
            keep = np.ones(len(utc), dtype=bool)
    else:
        cells, cols, lines = _read_mapped(table, time_idx, keys, col_idx, name)
        utc, keep = parse_times(cells, lines, time_format, tz, name)

    if len(utc) == 0:
        raise WeatherError(f"{name}: no data rows after the header")
    _check_finite(cols, mapping, lines, name)
    utc, lines = utc[keep], lines[keep]
    cols = {k: v[keep] for k, v in cols.items()}
    _check_increasing(utc, lines, tz, name)
    if len(utc) < 2:
        raise WeatherError(f"{name}: only {len(utc)} data row; need at least 2")

    if grid_step is None:
        # the logger's interval is its most common spacing (gaps and jitter aside); on a tie
        # the shorter one, so a gap never sets the grid
        spacings, counts = np.unique(np.round(np.diff(utc)), return_counts=True)
        grid_step = max(1.0, float(spacings[np.argmax(counts)]))

    if "wind_dir_deg" in cols and kind == "wur":
        decoded = _decode_wur_wind_direction(cols["wind_dir_deg"])
        if decoded is not None:
            cols["wind_dir_deg"] = decoded
    if "wind_dir_deg" in cols:
        rad = np.radians(cols.pop("wind_dir_deg"))
        cols["_wind_dir_sin"], cols["_wind_dir_cos"] = np.sin(rad), np.cos(rad)

    if kind == "reference":
        grid, vals = _reference_grid(utc, cols, name)
    else:
        grid, vals = _regular(utc, cols, grid_step, fill_gaps, tz, name)

    values = _complete(vals, grid, site)
    weather = Weather(site, grid, grid_step, values, name, cyclic)
    if step_s is not None and step_s != grid_step:
        weather = weather.resample(step_s)
    return weather


def _reference_grid(
    utc: np.ndarray, cols: dict[str, np.ndarray], name: str
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The typical year on whole UTC hours of `REFERENCE_YEAR`, interpolated cyclically."""
    period = 365 * DAY_S
    if len(utc) != 8760 or abs(utc[-1] - utc[0] - (period - 3600)) > 1:
        raise WeatherError(
            f"{name}: a reference year needs 8760 hourly rows (t = 3600 .. 31536000), "
            f"got {len(utc)}"
        )
    for k, v in cols.items():
        if np.isnan(v).any():
            bad = int(np.argmax(np.isnan(v)))
            raise WeatherError(f"{name}: data row {bad + 1}: {k} is not a number")
    start = datetime(REFERENCE_YEAR, 1, 1, tzinfo=UTC).timestamp()
    grid = start + np.arange(8760) * 3600.0
    return grid, {k: np.interp(grid, utc, v, period=period) for k, v in cols.items()}


def _check_mapping(columns: dict[str, str], table: _Table, name: str) -> dict[str, str]:
    allowed = ("time", *CANONICAL, PYRGEO_KEY)
    for key in columns:
        if key not in allowed:
            keys = f"allowed keys: {', '.join(allowed)}"
            raise WeatherError(
                f"{name}: unknown key {key!r} in columns; {keys}",
                cli=f"--weather-columns: unknown name {key!r}; {keys}",
            )
    missing = [k for k in ("time", *REQUIRED) if k not in columns]
    if missing:
        need = f"{', '.join(missing)}; required: time, {', '.join(REQUIRED)}"
        raise WeatherError(
            f"{name}: columns mapping lacks required key(s) {need}",
            cli=f"--weather-columns lacks {need}",
        )
    by_column: dict[str, str] = {}
    for key, col in columns.items():
        if col in by_column:
            what = f"column {col!r} is mapped to both {by_column[col]} and {key}"
            raise WeatherError(
                f"{name}: {what} in columns; map each signal to its own column",
                cli=f"--weather-columns: {what}; map each signal to its own column",
            )
        by_column[col] = key
        _column_index(table, col, key, name)
    return dict(columns)


def _read_mapped(
    table: _Table, time_idx: int, keys: list[str], col_idx: list[int], name: str
) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    records = _records(table.text, name)
    next(records)
    cells: list[str] = []
    lines: list[int] = []
    rows: list[list[float]] = []
    width = len(table.names)
    for line, rec in records:
        if not rec or all(not f.strip() for f in rec):
            continue
        if len(rec) < width:
            raise WeatherError(f"{name}: line {line} has {len(rec)} fields, the header {width}")
        cells.append(rec[time_idx])
        lines.append(line)
        row = []
        for key, c in zip(keys, col_idx, strict=True):
            where = f"{name}: line {line}, column {table.names[c]!r} ({key})"
            row.append(_cell_value(rec[c], where))
        rows.append(row)
    data = np.array(rows, dtype=np.float64).reshape(-1, len(keys))
    return cells, {k: data[:, i] for i, k in enumerate(keys)}, np.array(lines)


def _complete(vals: dict[str, np.ndarray], time_s: np.ndarray, site: Site) -> dict[str, np.ndarray]:
    """Add the derived and defaulted signals so that every canonical name is present."""
    n = len(time_s)
    out = {k: v for k, v in vals.items() if k in CANONICAL}
    if "_wind_dir_sin" in vals:
        out["wind_dir_deg"] = np.mod(
            np.degrees(np.arctan2(vals["_wind_dir_sin"], vals["_wind_dir_cos"])), 360.0
        )
    else:
        out["wind_dir_deg"] = np.zeros(n)
    out["rain"] = np.clip(out["rain"], 0.0, 1.0) if "rain" in out else np.zeros(n)
    out["iglob_w_m2"] = np.maximum(out["iglob_w_m2"], 0.0)
    out["wind_m_s"] = np.maximum(out["wind_m_s"], 0.0)
    out["rhout_pct"] = np.clip(out["rhout_pct"], 0.0, 100.0)
    if "tsky_c" not in out:
        if PYRGEO_KEY in vals:
            out["tsky_c"] = sky_temperature_from_pyrgeo(out["tout_c"], vals[PYRGEO_KEY])
        else:
            cloud = cloud_fraction_from_radiation(time_s, out["iglob_w_m2"], site)
            out["tsky_c"] = sky_temperature_c(out["tout_c"], out["rhout_pct"], cloud)
    if "co2out_ppm" not in out:
        out["co2out_ppm"] = np.full(n, DEFAULT_CO2OUT_PPM)
    return {k: np.ascontiguousarray(out[k], dtype=np.float64) for k in CANONICAL}
