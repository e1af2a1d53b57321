"""Outdoor weather for the simulator: load measured files, fill short gaps, derive what is missing.

Three kinds of file load (plain or gzipped):

* the WUR 5-min format of the Autonomous Greenhouse Challenge (`%time` Excel serial day in the
  local clock time of Europe/Amsterdam, daylight saving included; `Tout, Rhout, Iglob, Windsp,
  Winddir, Rain, Pyrgeo, ...`),
* the hourly Dutch reference year distributed with GreenLight (two-line quoted headers, `t` seconds
  since 1 Jan 00:00, `To, RH, Io, vo, Tsky, CO2o_ppm`), treated as a typical, cyclic year,
* any CSV through a `columns` mapping from canonical names to its columns.

The result is a `Weather`: UTC epoch seconds on a strictly regular grid and one array per canonical
signal (`CANONICAL`). docs/weather.md describes the conversions and the gap rules.
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from sim.sun import clear_sky_global_w_m2, solar_elevation_deg, sunrise_sunset_utc

#: The canonical weather signals every loaded `Weather` carries (see drivers/signals.py).
CANONICAL: tuple[str, ...] = (
    "tout_c",
    "rhout_pct",
    "iglob_w_m2",
    "wind_m_s",
    "wind_dir_deg",
    "rain",
    "tsky_c",
    "co2out_ppm",
)
#: Canonical names a `columns` mapping must give (besides "time").
REQUIRED: tuple[str, ...] = ("tout_c", "rhout_pct", "iglob_w_m2", "wind_m_s")
#: Extra mapping key: net long-wave radiation (W/m2, negative = loss), used for `tsky_c`.
PYRGEO_KEY = "pyrgeo_w_m2"
DEFAULT_CO2OUT_PPM = 410.0
#: Longest run of missing or NaN samples that is interpolated without `fill_gaps`.
MAX_GAP_S = 3600.0
SIGMA = 5.670374419e-8  # Stefan-Boltzmann, W/m2/K4
#: The year the cyclic reference year is laid on (not a leap year).
REFERENCE_YEAR = 2019

_DAY_S = 86400.0
_EXCEL_EPOCH_DAYS = 25569.0  # Excel serial day of 1970-01-01
_DATA_DIR = Path(__file__).parent / "data"
DEFAULT_WEATHER_FILE = _DATA_DIR / "bleiswijk_2018-08_2018-12_5min.csv.gz"
REFERENCE_YEAR_FILE = _DATA_DIR / "netherlands_reference_year_hourly.csv.gz"

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


class WeatherError(ValueError):
    """A weather file or request that cannot be used; the message names file, row or key."""


@dataclass(frozen=True)
class Site:
    """A place on earth: name, latitude (deg N), longitude (deg E) and IANA time zone."""

    name: str
    latitude_deg: float
    longitude_deg: float
    timezone: str

    @property
    def tz(self) -> tzinfo:
        """The site's time zone as a tzinfo (zoneinfo)."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise WeatherError(
                f"site {self.name!r}: unknown time zone {self.timezone!r}; "
                "use an IANA name such as 'Europe/Amsterdam'"
            ) from None


BLEISWIJK = Site("Bleiswijk", 52.03, 4.53, "Europe/Amsterdam")


# ---------------------------------------------------------------------------------------------
# time zone helpers (vectorised: zoneinfo is only asked per day, and per row on transition days)


def utc_offsets_s(time_s: np.ndarray, tz: tzinfo) -> np.ndarray:
    """UTC offset (s) of the time zone at each UTC epoch second."""
    t = np.asarray(time_s, dtype=np.float64)
    days = np.floor(t / _DAY_S)
    out = np.empty_like(t)
    uniq, inverse = np.unique(days, return_inverse=True)
    for k, d in enumerate(uniq):
        rows = inverse == k
        a = datetime.fromtimestamp(d * _DAY_S, tz).utcoffset()
        b = datetime.fromtimestamp((d + 1) * _DAY_S, tz).utcoffset()
        if a == b:
            out[rows] = a.total_seconds()
        else:
            out[rows] = [
                datetime.fromtimestamp(float(x), tz).utcoffset().total_seconds() for x in t[rows]
            ]
    return out


def _wall_offsets(local_s: np.ndarray, tz: tzinfo) -> tuple[np.ndarray, np.ndarray]:
    """UTC offsets (s) of naive local wall-clock seconds with fold=0 and fold=1 (PEP 495)."""
    days = np.floor(local_s / _DAY_S)
    off0 = np.empty_like(local_s)
    off1 = np.empty_like(local_s)
    epoch = datetime(1970, 1, 1)
    uniq, inverse = np.unique(days, return_inverse=True)

    def offsets(x: float) -> tuple[float, float]:
        dt = (epoch + timedelta(seconds=x)).replace(tzinfo=tz)
        return (
            dt.utcoffset().total_seconds(),
            dt.replace(fold=1).utcoffset().total_seconds(),
        )

    for k, d in enumerate(uniq):
        rows = inverse == k
        a0, a1 = offsets(d * _DAY_S)
        b0, b1 = offsets((d + 1) * _DAY_S)
        if a0 == a1 == b0 == b1:
            off0[rows] = a0
            off1[rows] = a0
        else:
            pairs = np.array([offsets(float(x)) for x in local_s[rows]])
            off0[rows] = pairs[:, 0]
            off1[rows] = pairs[:, 1]
    return off0, off1


def _fmt_local(t_utc: float, tz: tzinfo) -> str:
    return datetime.fromtimestamp(float(t_utc), tz).strftime("%Y-%m-%d %H:%M %Z")


def _fmt_duration(seconds: float) -> str:
    minutes = round(seconds / 60.0)
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if h else f"{m} min"


# ---------------------------------------------------------------------------------------------
# physics of the derived signals


def saturation_vapour_pressure_pa(t_c: np.ndarray) -> np.ndarray:
    """Saturation vapour pressure over water (Pa), Magnus-Tetens (Alduchov & Eskridge 1996)."""
    t = np.asarray(t_c, dtype=np.float64)
    return 610.94 * np.exp(17.625 * t / (t + 243.04))


def sky_temperature_from_pyrgeo(tout_c: np.ndarray, pyrgeo_w_m2: np.ndarray) -> np.ndarray:
    """Sky temperature (C) from a pyrgeometer's net long-wave radiation (W/m2, negative = loss).

    The surface is taken at air temperature with emissivity 1:
    L_sky = L_net + sigma*(Tout+273.15)^4, Tsky = (L_sky/sigma)^0.25 - 273.15.
    """
    l_sky = np.asarray(pyrgeo_w_m2) + SIGMA * (np.asarray(tout_c) + 273.15) ** 4
    # A sky colder than 100 K is not physical; it only appears with a faulty pyrgeometer.
    l_sky = np.maximum(l_sky, SIGMA * 100.0**4)
    return (l_sky / SIGMA) ** 0.25 - 273.15


def sky_temperature_c(
    tout_c: np.ndarray, rhout_pct: np.ndarray, cloud_fraction: np.ndarray | float = 0.0
) -> np.ndarray:
    """Sky temperature (C) from air temperature, humidity and cloud cover (Brunt + clouds).

    Brunt (1932) with the usual coefficients: eps_clear = 0.52 + 0.065*sqrt(e / hPa), e the vapour
    pressure. Clouds (fraction 0..1, default clear) raise it as eps = (1 - 0.84c)*eps_clear + 0.84c
    (Crawford & Duchon 1999). Tsky = eps^0.25 * (Tout + 273.15) - 273.15.
    """
    t = np.asarray(tout_c, dtype=np.float64)
    e_hpa = saturation_vapour_pressure_pa(t) * np.clip(rhout_pct, 0.0, 100.0) / 100.0 / 100.0
    eps_clear = np.clip(0.52 + 0.065 * np.sqrt(e_hpa), 0.0, 1.0)
    c = np.clip(cloud_fraction, 0.0, 1.0)
    eps = (1.0 - 0.84 * c) * eps_clear + 0.84 * c
    return eps**0.25 * (t + 273.15) - 273.15


def cloud_fraction_from_radiation(
    time_s: np.ndarray, iglob_w_m2: np.ndarray, site: Site
) -> np.ndarray:
    """Cloud cover 0..1 estimated from measured against clear-sky radiation, held over night.

    While the sun is over 10 deg high, the clearness kt = Iglob / clear sky (Haurwitz) gives the
    cover by inverting Kasten & Czeplak (1980), kt = 1 - 0.75*c^3.4; between those hours it is
    interpolated, then smoothed over 3 h. Clear (0) if the data hold no daylight at all.
    """
    elev = solar_elevation_deg(time_s, site.latitude_deg, site.longitude_deg)
    day = elev > 10.0
    if not day.any():
        return np.zeros(len(time_s))
    kt = np.clip(iglob_w_m2[day] / clear_sky_global_w_m2(elev[day]), 0.0, 1.0)
    cover = np.interp(time_s, time_s[day], np.clip((1.0 - kt) / 0.75, 0.0, 1.0) ** (1 / 3.4))
    step = float(np.median(np.diff(time_s))) if len(time_s) > 1 else 3600.0
    k = max(1, round(3 * 3600 / step))
    if k > 1 and len(cover) > k:
        padded = np.concatenate(
            (np.full(k // 2, cover[0]), cover, np.full(k - 1 - k // 2, cover[-1]))
        )
        cover = np.convolve(padded, np.ones(k) / k, mode="valid")
    return cover


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


# ---------------------------------------------------------------------------------------------
# the Weather object


class _ReadOnlyDict(dict):
    """A dict that refuses changes, so a cached Weather cannot be corrupted by a caller."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("this weather is shared (cached) and read-only; copy it to change it")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore[assignment]

    def __reduce__(self):
        # Pickled copies (worker processes) are independent, so a plain dict is right there.
        return (dict, (dict(self),))


@dataclass(frozen=True)
class Weather:
    """Outdoor weather on a strictly regular UTC grid.

    `time_s` are UTC epoch seconds, `step_s` apart; `values` holds one float64 array per canonical
    signal (`CANONICAL`). `cyclic` marks a typical year (the reference year): `window` then maps
    any year's month/day onto it and wraps around the year end.
    """

    site: Site
    time_s: np.ndarray
    step_s: float
    values: dict[str, np.ndarray]
    source: str
    cyclic: bool = False

    def __post_init__(self) -> None:
        n = len(self.time_s)
        if n == 0:
            raise WeatherError(f"{self.source}: weather has no rows")
        missing = [k for k in CANONICAL if k not in self.values]
        if missing:
            raise WeatherError(f"{self.source}: weather lacks {', '.join(missing)}")
        for k, v in self.values.items():
            if len(v) != n:
                raise WeatherError(f"{self.source}: {k} has {len(v)} rows, time has {n}")
        if n > 1:
            d = np.diff(self.time_s)
            if np.max(np.abs(d - self.step_s)) > 1e-6 * max(self.step_s, 1.0):
                raise WeatherError(f"{self.source}: time is not on a regular {self.step_s} s grid")

    def __getitem__(self, name: str) -> np.ndarray:
        """The array of one canonical signal, e.g. `weather["tout_c"]`."""
        try:
            return self.values[name]
        except KeyError:
            raise WeatherError(
                f"{self.source}: no weather signal {name!r}; known: {', '.join(self.values)}"
            ) from None

    def __len__(self) -> int:
        return len(self.time_s)

    @property
    def days(self) -> float:
        """Length covered by the rows, in days (rows times step)."""
        return len(self.time_s) * self.step_s / _DAY_S

    def local_range(self) -> str:
        """'first .. last' row time in the site's local clock, for messages."""
        tz = self.site.tz
        return (
            f"{_fmt_local(self.time_s[0], tz)} .. {_fmt_local(self.time_s[-1], tz)} "
            f"({self.site.timezone})"
        )

    def _start_utc(self, start: datetime | date | str) -> float:
        tz = self.site.tz
        if isinstance(start, str):
            try:
                start = datetime.fromisoformat(start.strip())
            except ValueError:
                raise WeatherError(
                    f"{self.source}: start {start!r} is not a date; use YYYY-MM-DD "
                    "or YYYY-MM-DDTHH:MM (local time at the site)"
                ) from None
        if not isinstance(start, datetime):
            start = datetime(start.year, start.month, start.day)
        if start.tzinfo is None:
            start = start.replace(tzinfo=tz)
        return start.timestamp()

    def window(
        self, start: datetime | date | str | None = None, days: float | None = None
    ) -> Weather:
        """The rows from `start` (local date/datetime at the site; None = first row) for `days`.

        The window is half-open: `days * 86400 / step_s` rows, the first at or after `start`.
        `days=None` runs to the last row. A typical (cyclic) year takes month, day and time of
        `start` in any year and relabels its times to that year, wrapping around the year end.
        """
        if days is not None and not (days > 0 and math.isfinite(days)):
            raise WeatherError(f"{self.source}: days must be a positive number, got {days!r}")
        if self.cyclic:
            return self._cyclic_window(start, days)
        t = self.time_s
        t0 = t[0] if start is None else self._start_utc(start)
        tol = 1e-6 * self.step_s
        if t0 < t[0] - tol or t0 > t[-1] + tol:
            raise WeatherError(
                f"{self.source}: start {_fmt_local(t0, self.site.tz)} is outside the file's "
                f"range {self.local_range()}"
            )
        i0 = int(np.searchsorted(t, t0 - tol, side="left"))
        if days is None:
            i1 = len(t)
        else:
            i1 = i0 + round(days * _DAY_S / self.step_s)
            if i1 > len(t):
                room = (len(t) - i0) * self.step_s / _DAY_S
                raise WeatherError(
                    f"{self.source}: {days:g} days from {_fmt_local(t[i0], self.site.tz)} run "
                    f"past the file's end; at most {room:.2f} days fit in {self.local_range()}"
                )
        if i1 <= i0:
            raise WeatherError(f"{self.source}: the window holds no row (days={days!r})")
        return Weather(
            self.site,
            t[i0:i1],
            self.step_s,
            {k: v[i0:i1] for k, v in self.values.items()},
            self.source,
        )

    def _cyclic_window(self, start: datetime | date | str | None, days: float | None) -> Weather:
        t = self.time_s
        period = len(t) * self.step_s
        tz = self.site.tz
        if start is None:
            t_req = float(t[0])
            t_map = t_req
        else:
            t_req = self._start_utc(start)
            local = datetime.fromtimestamp(t_req, tz)
            file_year = datetime.fromtimestamp(float(t[0]) + period / 2, tz).year
            try:
                mapped = local.replace(year=file_year)
            except ValueError:  # 29 February onto a non-leap typical year
                mapped = local.replace(year=file_year, day=28) + timedelta(days=1)
            t_map = mapped.timestamp()
        i0 = math.ceil((t_map - t[0]) / self.step_s - 1e-6)
        n = len(t) if days is None else round(days * _DAY_S / self.step_s)
        if n <= 0:
            raise WeatherError(f"{self.source}: the window holds no row (days={days!r})")
        idx = (i0 + np.arange(n)) % len(t)
        first = t_req + (t[0] + i0 * self.step_s - t_map)
        return Weather(
            self.site,
            first + np.arange(n) * self.step_s,
            self.step_s,
            {k: v[idx] for k, v in self.values.items()},
            f"{self.source} (typical year)",
        )

    def resample(self, step_s: float) -> Weather:
        """The same weather on a `step_s` grid from the first row, by linear interpolation.

        Wind direction is interpolated as a vector so that 350 -> 10 deg passes through north;
        rain stays a fraction in 0..1. A cyclic year stays cyclic (wrapping around its end).
        """
        if not (step_s > 0 and math.isfinite(step_s)):
            raise WeatherError(f"{self.source}: step_s must be a positive number, got {step_s!r}")
        t = self.time_s
        if self.cyclic:
            period = len(t) * self.step_s
            n = round(period / step_s)
            if abs(n * step_s - period) > 1e-6:
                raise WeatherError(
                    f"{self.source}: step_s {step_s} does not divide the typical year "
                    f"({period:g} s)"
                )
        else:
            n = math.floor((t[-1] - t[0]) / step_s + 1e-9) + 1
        grid = t[0] + np.arange(n) * float(step_s)
        period = len(t) * self.step_s if self.cyclic else None
        return Weather(
            self.site,
            grid,
            float(step_s),
            _interp_values(grid, t, self.values, period),
            self.source,
            self.cyclic,
        )

    def local_hour(self) -> np.ndarray:
        """Local clock hour 0..24 (float) of each row at the site, daylight saving included."""
        local = self.time_s + utc_offsets_s(self.time_s, self.site.tz)
        return np.mod(local, _DAY_S) / 3600.0

    def sunrise_sunset(self) -> tuple[np.ndarray, np.ndarray]:
        """Per row, UTC epoch seconds of sunrise and sunset of that row's local day (NaN: none)."""
        off = utc_offsets_s(self.time_s, self.site.tz)
        return sunrise_sunset_utc(
            self.time_s, self.site.latitude_deg, self.site.longitude_deg, utc_offset_s=off
        )

    def frozen(self) -> Weather:
        """A copy whose arrays and value dict cannot be changed (for sharing a cached object)."""
        time_s = self.time_s.copy()
        time_s.flags.writeable = False
        values = {}
        for k, v in self.values.items():
            a = np.array(v, dtype=np.float64, copy=True)
            a.flags.writeable = False
            values[k] = a
        return Weather(
            self.site, time_s, self.step_s, _ReadOnlyDict(values), self.source, self.cyclic
        )


def _interp_values(
    grid: np.ndarray, t: np.ndarray, values: Mapping[str, np.ndarray], period: float | None
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, v in values.items():
        if k == "wind_dir_deg":
            rad = np.radians(v)
            s = np.interp(grid, t, np.sin(rad), period=period)
            c = np.interp(grid, t, np.cos(rad), period=period)
            out[k] = np.mod(np.degrees(np.arctan2(s, c)), 360.0)
        else:
            out[k] = np.interp(grid, t, v, period=period)
    out["rain"] = np.clip(out["rain"], 0.0, 1.0)
    return out


# ---------------------------------------------------------------------------------------------
# reading files


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


def _header(text: str, name: str) -> _Table:
    reader = csv.reader(io.StringIO(text))
    try:
        first = next(reader)
    except StopIteration:
        raise WeatherError(f"{name}: empty file; expected a CSV header line") from None
    names = [f.strip() for f in first]
    return _Table(names, reader.line_num, text)


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
    reader = csv.reader(io.StringIO(table.text))
    next(reader)
    rows = []
    for rec in reader:
        if not rec or all(not f.strip() for f in rec):
            continue
        row = []
        for c in cols:
            cell = rec[c].strip() if c < len(rec) else ""
            if cell == "":
                row.append(math.nan)
                continue
            try:
                row.append(float(cell))
            except ValueError:
                raise WeatherError(
                    f"{name}: line {reader.line_num}, column {table.names[c]!r}: "
                    f"{cell!r} is not a number"
                ) from None
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(-1, len(cols))


def _column_index(table: _Table, column: str, key: str, name: str) -> int:
    try:
        return table.names.index(column)
    except ValueError:
        raise WeatherError(
            f"{name}: no column {column!r} (for {key}); the file has: {', '.join(table.names)}"
        ) from None


def _reference_names(names: list[str]) -> list[str]:
    """'To\\n[C]' -> 'To': the reference year's headers carry the unit on a second line."""
    return [n.split()[0] if n.split() else n for n in names]


def _local_to_utc(local_s: np.ndarray, tz: tzinfo) -> tuple[np.ndarray, np.ndarray]:
    """UTC seconds of naive local wall-clock seconds, and a mask of rows to keep.

    Ambiguous times (the repeated autumn hour) are the first occurrence unless the clock steps
    back into the repeat; times that do not exist (the skipped spring hour) are dropped.
    """
    off0, off1 = _wall_offsets(local_s, tz)
    ambiguous = off0 > off1
    keep = ~(off0 < off1)
    utc = local_s - off0
    back = np.nonzero(np.diff(local_s) <= 0)[0] + 1
    for i in back:
        if ambiguous[i] and local_s[i - 1] - local_s[i] < off0[i] - off1[i] + 1e-6:
            j = i
            while j < len(local_s) and ambiguous[j] and (j == i or local_s[j] > local_s[j - 1]):
                utc[j] = local_s[j] - off1[j]
                j += 1
    return utc, keep


def _check_increasing(utc: np.ndarray, lines: np.ndarray, tz: tzinfo, name: str) -> None:
    bad = np.nonzero(np.diff(utc) <= 0)[0]
    if bad.size:
        i = int(bad[0]) + 1
        raise WeatherError(
            f"{name}: time runs backwards at line {int(lines[i])} "
            f"({_fmt_local(utc[i], tz)} after {_fmt_local(utc[i - 1], tz)}); "
            "times must increase (only the repeated autumn daylight-saving hour may step back)"
        )


def _parse_times(
    cells: list[str], lines: np.ndarray, time_format: str | None, tz: tzinfo, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """UTC seconds and keep-mask from the time column's text cells."""
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
            local = np.round((x - _EXCEL_EPOCH_DAYS) * _DAY_S)
            return _local_to_utc(local, tz)
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
    return _local_to_utc(secs, tz)


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
            f"{_fmt_local(a, tz)} to {_fmt_local(b, tz)} ({_fmt_duration(b - a + step_s)})"
            for a, b in merged[:4]
        )
        more = f"; and {len(merged) - 4} more" if len(merged) > 4 else ""
        raise WeatherError(
            f"{name}: {len(merged)} gap(s) longer than 1 h (local time): {shown}{more}; "
            "shorter gaps are interpolated, pass fill_gaps=True to interpolate these too"
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
    median step).
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
        raise WeatherError(
            f"{name}: unknown weather columns ({', '.join(table.names[:12])}); expected the WUR "
            "format ('%time', Tout, Rhout, Iglob, Windsp, ...), the reference-year format "
            "(t, Io, vo, To, Tsky, RH) or a columns= mapping such as "
            "{'time': 'Date', 'tout_c': 'T', 'rhout_pct': 'RH', 'iglob_w_m2': 'Glob', "
            "'wind_m_s': 'Wind'}"
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
            local = np.round((raw_t - _EXCEL_EPOCH_DAYS) * _DAY_S)
            utc, keep = _local_to_utc(local, tz)
        else:
            # t = seconds since 1 Jan 00:00 UTC at the end of each hour's average; centre it.
            utc = datetime(REFERENCE_YEAR, 1, 1, tzinfo=UTC).timestamp() + raw_t - 1800.0
            keep = np.ones(len(utc), dtype=bool)
    else:
        cells, cols, lines = _read_mapped(table, time_idx, keys, col_idx, name)
        utc, keep = _parse_times(cells, lines, time_format, tz, name)

    if len(utc) == 0:
        raise WeatherError(f"{name}: no data rows after the header")
    utc, lines = utc[keep], lines[keep]
    cols = {k: v[keep] for k, v in cols.items()}
    _check_increasing(utc, lines, tz, name)
    if len(utc) < 2:
        raise WeatherError(f"{name}: only {len(utc)} data row; need at least 2")

    if grid_step is None:
        grid_step = float(np.median(np.diff(utc)))
        grid_step = max(1.0, round(grid_step))

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
    period = 365 * _DAY_S
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
            raise WeatherError(
                f"{name}: unknown key {key!r} in columns; allowed keys: {', '.join(allowed)}"
            )
    missing = [k for k in ("time", *REQUIRED) if k not in columns]
    if missing:
        raise WeatherError(
            f"{name}: columns mapping lacks required key(s) {', '.join(missing)}; "
            f"required: time, {', '.join(REQUIRED)}"
        )
    for key, col in columns.items():
        _column_index(table, col, key, name)
    return dict(columns)


def _read_mapped(
    table: _Table, time_idx: int, keys: list[str], col_idx: list[int], name: str
) -> tuple[list[str], dict[str, np.ndarray], np.ndarray]:
    reader = csv.reader(io.StringIO(table.text))
    next(reader)
    cells: list[str] = []
    lines: list[int] = []
    rows: list[list[float]] = []
    width = len(table.names)
    for rec in reader:
        if not rec or all(not f.strip() for f in rec):
            continue
        if len(rec) < width:
            raise WeatherError(
                f"{name}: line {reader.line_num} has {len(rec)} fields, the header {width}"
            )
        cells.append(rec[time_idx])
        lines.append(reader.line_num)
        row = []
        for key, c in zip(keys, col_idx, strict=True):
            cell = rec[c].strip()
            if cell == "" or cell.lower() in ("nan", "na", "null"):
                row.append(math.nan)
                continue
            try:
                row.append(float(cell))
            except ValueError:
                raise WeatherError(
                    f"{name}: line {reader.line_num}, column {table.names[c]!r} ({key}): "
                    f"{cell!r} is not a number"
                ) from None
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


@functools.lru_cache(maxsize=1)
def default_weather() -> Weather:
    """The shipped AGC 2018 season at Bleiswijk (14 Aug - 7 Dec 2018, 5 min), read-only and cached.

    The file holds four gaps longer than 1 h (the longest 4 h 55 min on 29 Aug); they are
    interpolated (fill_gaps=True), as the season would otherwise not load.
    """
    return load_weather(DEFAULT_WEATHER_FILE, fill_gaps=True).frozen()


def reference_year() -> Weather:
    """The shipped Dutch reference year (hourly, cyclic typical year at Bleiswijk)."""
    return load_weather(REFERENCE_YEAR_FILE)
