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

This module is the one place to import weather from. The parts it gathers depend one way:
sim.local_time <- sim.weather_series (`Weather`, `Site`, `WeatherError`) <- sim.weather_files
(`load_weather`) <- here (the shipped seasons).
"""

from __future__ import annotations

import functools
from pathlib import Path

from sim.local_time import utc_offsets_s
from sim.weather_files import load_weather
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

__all__ = [
    "BLEISWIJK",
    "CANONICAL",
    "DEFAULT_CO2OUT_PPM",
    "DEFAULT_WEATHER_FILE",
    "MAX_GAP_S",
    "PYRGEO_KEY",
    "REFERENCE_YEAR",
    "REFERENCE_YEAR_FILE",
    "REQUIRED",
    "Site",
    "Weather",
    "WeatherError",
    "default_weather",
    "load_weather",
    "reference_year",
    "utc_offsets_s",
]

_DATA_DIR = Path(__file__).parent / "data"
DEFAULT_WEATHER_FILE = _DATA_DIR / "bleiswijk_2018-08_2018-12_5min.csv.gz"
REFERENCE_YEAR_FILE = _DATA_DIR / "netherlands_reference_year_hourly.csv.gz"


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
