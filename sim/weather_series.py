"""The `Weather` object, the `Site` it belongs to and `WeatherError`: weather on a regular UTC grid.

Readers (sim.weather_files, sim.synthetic_weather) build a `Weather`; import all of it from
`sim.weather`, which also holds the shipped seasons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from sim.local_time import DAY_S, fmt_local, utc_offsets_s
from sim.sun import sunrise_sunset_utc

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
#: The year the cyclic reference year is laid on (not a leap year).
REFERENCE_YEAR = 2019


class WeatherError(ValueError):
    """A weather file or request that cannot be used; the message names file, row or key.

    `cli` is the same message worded for the command line (`--fill-gaps` rather than
    `fill_gaps=True`, `--start` rather than the file's name); it is the message when not given.
    """

    def __init__(self, message: str, cli: str | None = None) -> None:
        super().__init__(message)
        self.cli = message if cli is None else cli

    def __reduce__(self):
        return (type(self), (str(self), self.cli))


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


class _ReadOnlyDict(dict):
    """A dict that refuses changes, so a cached Weather cannot be corrupted by a caller."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("this weather is shared (cached) and read-only; copy it to change it")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _refuse

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
        return len(self.time_s) * self.step_s / DAY_S

    def local_range(self) -> str:
        """'first .. last' row time in the site's local clock, for messages."""
        tz = self.site.tz
        return (
            f"{fmt_local(self.time_s[0], tz)} .. {fmt_local(self.time_s[-1], tz)} "
            f"({self.site.timezone})"
        )

    def start_utc(self, start: datetime | date | str) -> float:
        """UTC epoch second of `start`: a date or naive datetime is local time at the site."""
        tz = self.site.tz
        if isinstance(start, str):
            try:
                start = datetime.fromisoformat(start.strip())
            except ValueError:
                form = "use YYYY-MM-DD or YYYY-MM-DDTHH:MM (local time at the site)"
                raise WeatherError(
                    f"{self.source}: start {start!r} is not a date; {form}",
                    cli=f"--start {start!r} is not a date; {form}",
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
        t0 = t[0] if start is None else self.start_utc(start)
        tol = 1e-6 * self.step_s
        if t0 < t[0] - tol or t0 > t[-1] + tol:
            when = fmt_local(t0, self.site.tz)
            raise WeatherError(
                f"{self.source}: start {when} is outside the file's range {self.local_range()}",
                cli=f"--start {when} is outside the weather, which runs {self.local_range()}; "
                "give a start in that range",
            )
        i0 = int(np.searchsorted(t, t0 - tol, side="left"))
        if days is None:
            i1 = len(t)
        else:
            i1 = i0 + round(days * DAY_S / self.step_s)
            if i1 > len(t):
                room = (len(t) - i0) * self.step_s / DAY_S
                when = fmt_local(t[i0], self.site.tz)
                raise WeatherError(
                    f"{self.source}: {days:g} days from {when} run past the file's end; "
                    f"at most {room:.2f} days fit in {self.local_range()}",
                    cli=f"--days {days:g} from {when} runs past the weather's end; give --days "
                    f"{math.floor(room * 100) / 100:g} or less (the weather runs "
                    f"{self.local_range()})",
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
            t_req = self.start_utc(start)
            local = datetime.fromtimestamp(t_req, tz)
            file_year = datetime.fromtimestamp(float(t[0]) + period / 2, tz).year
            try:
                mapped = local.replace(year=file_year)
            except ValueError:  # 29 February onto a non-leap typical year
                mapped = local.replace(year=file_year, day=28) + timedelta(days=1)
            t_map = mapped.timestamp()
        i0 = math.ceil((t_map - t[0]) / self.step_s - 1e-6)
        n = len(t) if days is None else round(days * DAY_S / self.step_s)
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
        cycle_s = len(t) * self.step_s if self.cyclic else None
        return Weather(
            self.site,
            grid,
            float(step_s),
            _interp_values(grid, t, self.values, cycle_s),
            self.source,
            self.cyclic,
        )

    def local_hour(self) -> np.ndarray:
        """Local clock hour 0..24 (float) of each row at the site, daylight saving included."""
        local = self.time_s + utc_offsets_s(self.time_s, self.site.tz)
        return np.mod(local, DAY_S) / 3600.0

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
