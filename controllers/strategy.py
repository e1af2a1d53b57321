"""The setpoint-strategy protocol and the context a strategy plans from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import numpy as np

from sim.local_time import utc_offset_s
from sim.sun import sunrise_sunset_utc


@dataclass
class StrategyContext:
    """What a strategy knows about the times it plans for.

    `site` has `latitude_deg`, `longitude_deg` and `timezone` (IANA name, e.g. Europe/Amsterdam).
    `local_hour`, `sunrise_s`, `sunset_s` are arrays over the planned times (sunrise/sunset in
    UTC seconds of the local day). `weather` is the forecast over the same times under canonical
    names (`tout_c`, `iglob_w_m2`, ...); for a strategy with a forecaster it is the forecast.
    `state` holds the latest measurements (or, in the season runner, the crop state), if any.
    """

    site: Any
    local_hour: np.ndarray
    sunrise_s: np.ndarray
    sunset_s: np.ndarray
    weather: dict[str, np.ndarray] = field(default_factory=dict)
    state: dict[str, float] | None = None
    #: Yesterday's weather (same names), given to strategies that plan from a forecast.
    past_weather: dict[str, np.ndarray] | None = None


@runtime_checkable
class Strategy(Protocol):
    """Decides setpoints: one row per time, columns in `controllers.setpoints.SETPOINTS` order."""

    name: str

    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        """Return `[len(times_s), len(SETPOINTS)]` setpoints for the given UTC times."""
        ...


def local_hours(times_s: np.ndarray, tz_name: str) -> np.ndarray:
    """Return the site-local clock hour (0..24, daylight saving included) of each UTC time."""
    times_s = np.asarray(times_s, dtype=np.float64)
    tz = ZoneInfo(tz_name)
    if len(times_s) == 0:
        return times_s.copy()
    # UTC offsets change twice a year: evaluate them per hour bucket, not per sample
    hours = np.floor(times_s / 3600.0)
    uniq, inv = np.unique(hours, return_inverse=True)
    offs = np.array(
        [utc_offset_s(datetime.fromtimestamp(h * 3600.0, tz=UTC).astimezone(tz)) for h in uniq]
    )
    local = times_s + offs[inv]
    return np.mod(local, 86400.0) / 3600.0


def utc_offsets_s(times_s: np.ndarray, local_hour: np.ndarray) -> np.ndarray:
    """Return the UTC offset (s, whole quarter hours) implied by UTC times and local hours."""
    utc_sec = np.mod(np.asarray(times_s, dtype=np.float64), 86400.0)
    off = np.mod(np.asarray(local_hour, dtype=np.float64) * 3600.0 - utc_sec + 43200.0, 86400.0)
    return np.round((off - 43200.0) / 900.0) * 900.0


def make_context(
    site: Any,
    times_s: np.ndarray,
    weather: dict[str, np.ndarray] | None = None,
    state: dict[str, float] | None = None,
) -> StrategyContext:
    """Build a StrategyContext for `times_s` (UTC seconds) at `site`: local hours and sun times.

    Where the sun does not rise or set (polar day/night), 06:00 and 18:00 local stand in.
    """
    times_s = np.asarray(times_s, dtype=np.float64)
    lh = local_hours(times_s, site.timezone)
    off = utc_offsets_s(times_s, lh)
    rise, sett = sunrise_sunset_utc(times_s, site.latitude_deg, site.longitude_deg, off)
    midnight = times_s - lh * 3600.0
    rise = np.where(np.isnan(rise), midnight + 6 * 3600.0, rise)
    sett = np.where(np.isnan(sett), midnight + 18 * 3600.0, sett)
    return StrategyContext(
        site=site,
        local_hour=lh,
        sunrise_s=rise,
        sunset_s=sett,
        weather=dict(weather or {}),
        state=state,
    )
