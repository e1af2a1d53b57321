"""Read a logged compartment for `serra sim replay`: climate, actuators, setpoints, harvest.

Four kinds of log come in: a shipped AGC 2018 compartment by name (`reference`, `igrow`,
`croperators`), a challenge folder (`Greenhouse_climate.csv`, `vip.csv`, `Production.csv`, and
`ResourceCalculations.csv` for the daily CO2 dose), the
canonical climate CSV that `serra db export` writes, and any other logger CSV read through a
column mapping (canonical name -> column, like `--weather-columns`). Everything comes back under
the canonical names of ARCHITECTURE.md; setpoints carry a `sp.` prefix in mappings so that
`sp.co2_ppm` (the CO2 setpoint) is told apart from `co2_ppm` (the measured CO2).
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from controllers.setpoints import SETPOINT_RANGES
from drivers.signals import ACTUATORS
from sim.weather import BLEISWIJK, Site, WeatherError
from sim.weather_files import parse_times  # one time parser for weather files and loggers

#: Measured signals a replay compares (the simulator reports them under the same names).
MEASURED: tuple[str, ...] = ("tair_c", "rh_pct", "co2_ppm", "pipe_c", "pipe_grow_c")
#: Actuator positions a replay can force (logged water temperatures `pipe_c`/`pipe_grow_c` too).
POSITIONS: tuple[str, ...] = tuple(
    # the positions in %: the water temperatures are commanded as setpoints, irrigation is a
    # valve the logs do not hold; fogging: `serra db export` writes it, the AGC logs lack it
    a
    for a in ACTUATORS
    if a.endswith("_pct") and a != "irrigation_pct"
)
#: Outdoor weather columns that make a log carry its own weather.
WEATHER_KEYS: tuple[str, ...] = ("tout_c", "rhout_pct", "iglob_w_m2", "wind_m_s")
SP_PREFIX = "sp."
MAPPING_KEYS: tuple[str, ...] = (
    "time",
    *MEASURED,
    *POSITIONS,
    *WEATHER_KEYS,
    *(SP_PREFIX + name for name in SETPOINT_RANGES),
)

#: The challenge's files (COLUMNS.md of the AGC 2018 data) in canonical names.
AGC_CLIMATE: dict[str, str] = {
    "time": "GHtime",
    "tair_c": "Tair",
    "rh_pct": "RHair",
    "co2_ppm": "CO2air",
    "pipe_c": "PipeLow",
    "pipe_grow_c": "PipeGrow",
    "vent_lee_pct": "VentLee",
    "vent_wind_pct": "Ventwind",
    "screen_energy_pct": "EnScr",
    "screen_blackout_pct": "BlackScr",
    "lamps_pct": "AssimLight",
}
AGC_VIP: dict[str, str] = {
    "time": "time",
    "sp.heat_c": "HeatTemp_Vip",
    "sp.vent_lee_c": "VentLeew_Vip",
    "sp.vent_wind_c": "VentWind_Vip",
    "sp.vent_min_pct": "VentLeewMin_Vip",
    "sp.co2_ppm": "CO2_Vip",
    "sp.humidity_deficit_g_m3": "HumDef_Vip",
    "sp.min_pipe_c": "MinPipeLow_Vip",
    "sp.irrigation_interval_min": "WaterSupInt_Vip",
}
#: HumDef_Vip is logged in g/kg; times the density of greenhouse air (1.2 kg/m3) gives g/m3.
AGC_SCALE: dict[str, float] = {"sp.humidity_deficit_g_m3": 1.2}
_DATA = Path(__file__).parent / "data"
#: Compartments shipped in controllers/data (see its README).
SHIPPED: dict[str, str] = {"reference": "Reference", "igrow": "iGrow", "croperators": "Croperators"}


class ReplayLogError(ValueError):
    """A log that cannot be replayed; the message says what to fix."""


@dataclass
class Harvest:
    """Daily cumulative harvest: local dates, kg/m2 and fruits/m2 since the log's first day."""

    dates: list[str]
    yield_kg_m2: np.ndarray
    fruits_m2: np.ndarray


@dataclass
class DailyDose:
    """CO2 dosed per local day as logged (the challenge's ResourceCalculations CO2_dosage)."""

    dates: list[str]  # local dates, ISO
    kg_m2: np.ndarray  # kg CO2 per m2 that day; NaN where the day was not logged
    source: str  # the file it came from


@dataclass
class ReplayLog:
    """A logged compartment in canonical names, on its own time axis (UTC s)."""

    name: str
    time_s: np.ndarray
    values: dict[str, np.ndarray]  # measured, positions, weather and `sp.` columns as logged
    harvest: Harvest | None = None
    weather_path: Path | None = None
    weather_columns: dict[str, str] | None = None
    weather_time_format: str | None = None
    notes: list[str] = field(default_factory=list)
    #: the daily dosed CO2 as logged, which an open-loop replay forces (None: not logged)
    co2_dose: DailyDose | None = None

    def setpoints(self) -> dict[str, np.ndarray]:
        """The logged setpoints by setpoint name (without the `sp.` prefix)."""
        n = len(SP_PREFIX)
        return {k[n:]: v for k, v in self.values.items() if k.startswith(SP_PREFIX)}


def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        raise ReplayLogError(f"{path}: cannot read the file ({exc.strerror})") from None
    except (UnicodeDecodeError, gzip.BadGzipFile, EOFError):
        raise ReplayLogError(f"{path}: not a UTF-8 CSV (or gzip of one)") from None
    rows = [r for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)]
    if not rows:
        raise ReplayLogError(f"{path.name}: empty file; expected a header row")
    return [h.strip() for h in rows[0]], rows[1:]


def _cell(text: str, where: str) -> float:
    t = text.strip()
    if not t or t.lower() in ("nan", "na", "null", "none"):
        return np.nan
    try:
        return float(t)
    except ValueError:
        raise ReplayLogError(f"{where}: {t!r} is not a number") from None


def read_mapped(
    path: Path,
    mapping: dict[str, str],
    *,
    time_format: str | None,
    site: Site = BLEISWIJK,
    scale: dict[str, float] | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """`(time_s, {canonical: values})` of a CSV whose columns `mapping` names (case-insensitive).

    Rows whose time repeats or steps back (a logger's daylight-saving repeat) are dropped.
    Raises ReplayLogError naming the file, key and column for anything that does not fit.
    """
    for key in mapping:
        if key not in MAPPING_KEYS:
            raise ReplayLogError(
                f"{path.name}: unknown key {key!r} in the column mapping; allowed: "
                f"{', '.join(MAPPING_KEYS)}"
            )
    if "time" not in mapping:
        raise ReplayLogError(f"{path.name}: the column mapping needs time=<column>")
    header, rows = _read_rows(path)
    lower = {h.lower(): i for i, h in enumerate(header)}
    index = {}
    for key, col in mapping.items():
        if col.lower() not in lower:
            raise ReplayLogError(
                f"{path.name}: no column {col!r} (for {key}); it has: {', '.join(header)}"
            )
        index[key] = lower[col.lower()]
    keys = [k for k in mapping if k != "time"]
    cells, data, lines = [], [], []
    for line, r in enumerate(rows, start=2):
        if len(r) < len(header):
            raise ReplayLogError(
                f"{path.name} row {line}: {len(r)} cells, the header has {len(header)}"
            )
        cells.append(r[index["time"]])
        lines.append(line)
        data.append([_cell(r[index[k]], f"{path.name} row {line}, {mapping[k]}") for k in keys])
    if not rows:
        return np.zeros(0), {k: np.zeros(0) for k in keys}
    try:
        utc, keep = parse_times(cells, np.array(lines), time_format, site.tz, path.name)
    except WeatherError as exc:
        raise ReplayLogError(str(exc)) from None
    arr = np.array(data, dtype=np.float64).reshape(-1, len(keys))[keep]
    utc = utc[keep]
    if time_format == "excel":  # serial days carry ~1e-5 d of rounding; loggers write whole minutes
        utc = np.round(utc / 60.0) * 60.0
    later = np.concatenate([[True], utc[1:] > np.maximum.accumulate(utc)[:-1]])
    utc, arr = utc[later], arr[later]
    scale = scale or {}
    return utc, {k: arr[:, i] * scale.get(k, 1.0) for i, k in enumerate(keys)}


def _read_production(path: Path) -> Harvest:
    header, rows = _read_rows(path)
    lower = {h.lower(): i for i, h in enumerate(header)}
    need = ("time", "total_prod_cum")
    if any(n not in lower for n in need):
        raise ReplayLogError(f"{path.name}: expected columns time and Total_Prod_cum")
    fruit_cols = [lower[c] for c in ("proda_num", "prodb_num") if c in lower]
    days, kg, fruits = [], [], []
    for line, r in enumerate(rows, start=2):
        where = f"{path.name} row {line}"
        day = _cell(r[lower["time"]], where)
        if np.isnan(day):
            continue
        days.append(round(float(day)))
        kg.append(_cell(r[lower["total_prod_cum"]], where))
        fruits.append(sum(np.nan_to_num(_cell(r[c], where)) for c in fruit_cols))
    dates = [_excel_date(d) for d in days]
    cum_fruits = np.cumsum(fruits) if fruit_cols else np.full(len(days), np.nan)
    return Harvest(dates, np.array(kg, dtype=np.float64), np.asarray(cum_fruits, dtype=np.float64))


def _excel_date(day: float) -> str:
    from datetime import date, timedelta

    return (date(1899, 12, 30) + timedelta(days=round(day))).isoformat()


def read_daily_dose(path: Path) -> DailyDose:
    """The daily CO2_dosage (kg/m2/day) of a challenge ResourceCalculations file by local date."""
    header, rows = _read_rows(path)
    lower = {h.lower(): i for i, h in enumerate(header)}
    if "time" not in lower or "co2_dosage" not in lower:
        raise ReplayLogError(f"{path.name}: expected columns time and CO2_dosage (kg/m2/day)")
    dates, kg = [], []
    for line, r in enumerate(rows, start=2):
        where = f"{path.name} row {line}"
        day = _cell(r[lower["time"]], where)
        if np.isnan(day):
            continue
        dose = _cell(r[lower["co2_dosage"]], where)
        if dose < 0:
            raise ReplayLogError(f"{where}: CO2_dosage {dose:g} kg/m2 is negative")
        dates.append(_excel_date(day))
        kg.append(dose)
    return DailyDose(dates, np.array(kg, dtype=np.float64), path.name)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.csv", f"{stem}.csv.gz"):
        for p in folder.iterdir():
            if p.name.lower() == name.lower():
                return p
    return None


def merge_columns(
    t_a: np.ndarray, a: dict[str, np.ndarray], t_b: np.ndarray, b: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Columns of `b` put onto the time axis `t_a` (step-wise: the last row at or before)."""
    out = dict(a)
    if len(t_b) == 0:
        return out
    idx = np.searchsorted(t_b, t_a, side="right") - 1
    for k, v in b.items():
        col = np.full(len(t_a), np.nan)
        ok = idx >= 0
        col[ok] = v[idx[ok]]
        out[k] = col
    return out


def load_agc(
    climate: Path,
    vip: Path | None,
    production: Path | None,
    name: str,
    site: Site = BLEISWIJK,
    resources: Path | None = None,
) -> ReplayLog:
    """A compartment in the challenge's file layout, read through the shipped mapping.

    `resources` (ResourceCalculations) gives the daily CO2 dose an open-loop replay forces.
    """
    t, values = read_mapped(climate, AGC_CLIMATE, time_format="excel", site=site)
    notes = []
    if vip is not None:
        tv, sp = read_mapped(vip, AGC_VIP, time_format="excel", site=site, scale=AGC_SCALE)
        values = merge_columns(t, values, tv, sp)
        notes.append("HumDef_Vip (g/kg) x 1.2 kg/m3 = humidity deficit setpoint in g/m3")
        notes.append("MinPipeGrow_Vip is not used: the climate computer has one minimum pipe")
    harvest = _read_production(production) if production is not None else None
    dose = read_daily_dose(resources) if resources is not None else None
    return ReplayLog(name, t, values, harvest, notes=notes, co2_dose=dose)


def _load_folder(folder: Path, site: Site) -> ReplayLog:
    climate = _find(folder, "Greenhouse_climate")
    if climate is None:
        raise ReplayLogError(
            f"{folder}: no Greenhouse_climate.csv in the folder; give a challenge compartment "
            "folder, a climate CSV, or a shipped name (reference, igrow, croperators)"
        )
    log = load_agc(
        climate,
        _find(folder, "vip"),
        _find(folder, "Production"),
        folder.name or str(folder),
        site,
        _find(folder, "ResourceCalculations"),
    )
    weather = next(
        (p for p in sorted(folder.iterdir()) if "weather" in p.name.lower() and ".csv" in p.name),
        None,
    )
    log.weather_path = weather
    return log


def load_log(
    source: str,
    *,
    columns: dict[str, str] | None = None,
    time_format: str | None = None,
    site: Site = BLEISWIJK,
) -> ReplayLog:
    """Read the log `source` names: a shipped compartment, a challenge folder or a CSV file.

    A CSV without `columns` must be the canonical climate CSV (`time` then canonical names,
    optionally `sp.<setpoint>` columns); any other CSV needs `columns` (canonical -> column).
    """
    if source.lower() in SHIPPED and not Path(source).exists():
        if columns is not None:
            raise ReplayLogError(
                f"{source}: a shipped compartment is read through its own mapping; "
                "--columns is for a CSV file"
            )
        stem = f"agc2018_{source.lower()}"
        return load_agc(
            _DATA / f"{stem}_climate.csv.gz",
            _DATA / f"{stem}_vip.csv.gz",
            _DATA / f"{stem}_production.csv.gz",
            f"AGC 2018 {SHIPPED[source.lower()]} (shipped)",
            site,
            _DATA / f"{stem}_resources.csv.gz",
        )
    path = Path(source)
    if not path.exists():
        raise ReplayLogError(
            f"{source}: no such file or folder; give a climate CSV, a challenge compartment "
            f"folder, or a shipped name ({', '.join(SHIPPED)})"
        )
    if path.is_dir():
        if columns is not None:
            raise ReplayLogError("--columns maps the columns of a CSV file, not of a folder")
        return _load_folder(path, site)
    if columns is None:
        header, _ = _read_rows(path)
        unknown = [h for h in header[1:] if h not in MAPPING_KEYS]
        known = [h for h in header[1:] if h in MAPPING_KEYS]
        if not header or header[0] != "time" or not known:
            raise ReplayLogError(
                f"{path.name}: not a canonical climate CSV (first column 'time', then names such "
                "as tair_c, rh_pct, vent_lee_pct); for a logger export give "
                "--columns time=<column>,tair_c=<column>,..."
            )
        columns = {"time": "time", **{h: h for h in known}}
        notes = [f"columns not used by a replay: {', '.join(unknown)}"] if unknown else []
    else:
        notes = []
    t, values = read_mapped(path, columns, time_format=time_format, site=site)
    log = ReplayLog(path.name, t, values, notes=notes)
    if all(k in values for k in WEATHER_KEYS):
        log.weather_path = path
        log.weather_columns = {"time": columns["time"], **{k: columns[k] for k in WEATHER_KEYS}}
        log.weather_time_format = time_format
    return log
