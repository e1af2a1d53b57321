"""Synthetic outdoor weather for any site and date range: for tests and sites without data.

Deterministic for a seed. The ingredients, each simple and documented in docs/weather.md:
clear-sky radiation from the sun's elevation (Haurwitz), a seeded cloud-cover process that cuts
it (Kasten & Czeplak), a temperature with a seasonal mean by latitude, a daily sine peaking three
hours after solar noon and slow weather noise, humidity from a slowly varying dew point (so RH
falls as the air warms), log-normal wind, occasional rain under heavy cloud, and the sky
temperature from Brunt's emissivity with the same clouds.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np

from sim.local_time import DAY_S, utc_offsets_s
from sim.sky import saturation_vapour_pressure_pa, sky_temperature_c
from sim.sun import clear_sky_global_w_m2, solar_elevation_deg
from sim.weather_series import CANONICAL, DEFAULT_CO2OUT_PPM, Site, Weather, WeatherError


def seasonal_mean_temp_c(latitude_deg: float, day_of_year: np.ndarray | float) -> np.ndarray:
    """Climatological daily mean air temperature (C) by latitude and day of year.

    Annual mean 27 - 0.0061*lat^2 (27 C at the equator, 10.5 C at 52 deg, -3 C at 70 deg) plus a
    seasonal swing of 0.15 C per degree of latitude, warmest on 19 July in the north (and on
    17 January in the south).
    """
    lat = abs(latitude_deg)
    annual = 27.0 - 0.0061 * lat * lat
    swing = 0.15 * lat * (1.0 if latitude_deg >= 0 else -1.0)
    return annual + swing * np.cos(2 * math.pi * (np.asarray(day_of_year) - 200.0) / 365.25)


def _ar1(rng: np.random.Generator, n_knots: int, rho: float) -> np.ndarray:
    """A unit-variance AR(1) series (Python loop over coarse knots only)."""
    eps = rng.standard_normal(n_knots)
    out = np.empty(n_knots)
    out[0] = eps[0]
    scale = math.sqrt(1.0 - rho * rho)
    for i in range(1, n_knots):
        out[i] = rho * out[i - 1] + scale * eps[i]
    return out


def _smooth_noise(
    rng: np.random.Generator, time_s: np.ndarray, tau_s: float, knot_s: float
) -> np.ndarray:
    """Unit-variance noise with correlation time `tau_s`, built on knots and interpolated."""
    t0 = time_s[0]
    n_knots = int((time_s[-1] - t0) // knot_s) + 2
    knots = _ar1(rng, n_knots, math.exp(-knot_s / tau_s))
    return np.interp(time_s, t0 + np.arange(n_knots) * knot_s, knots)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    # Tanh approximation of the normal CDF: error < 2e-4, plenty for a cloud generator.
    return 0.5 * (1.0 + np.tanh(0.7978845608 * (z + 0.044715 * z**3)))


def _parse_start(start: date | str) -> date:
    if isinstance(start, datetime):
        return start.date()
    if isinstance(start, date):
        return start
    try:
        return date.fromisoformat(str(start).strip())
    except ValueError:
        raise WeatherError(
            f"synthetic weather: start {start!r} is not a date (YYYY-MM-DD)"
        ) from None


def synthetic_weather(
    site: Site,
    start: date | str,
    days: float,
    step_s: float = 300.0,
    seed: int = 0,
    cloudiness: float = 0.5,
    mean_temp_c: float | None = None,
    daily_range_c: float | None = None,
    mean_wind_m_s: float = 3.5,
) -> Weather:
    """Weather for `days` from local midnight of `start` at `site`, every `step_s` seconds.

    `cloudiness` is the mean cloud cover 0 (always clear) .. 1 (always overcast). `mean_temp_c`
    replaces the seasonal climatology (`seasonal_mean_temp_c`) by a fixed mean; `daily_range_c`
    the day-night range (default 4 + 8 * noon clear-sky radiation / 1000 W/m2, halved under full
    cloud). The same arguments and seed always give the same weather.
    """
    if not (days > 0 and math.isfinite(days)):
        raise WeatherError(f"synthetic weather: days must be a positive number, got {days!r}")
    if not (step_s > 0 and math.isfinite(step_s)):
        raise WeatherError(f"synthetic weather: step_s must be a positive number, got {step_s!r}")
    if not 0.0 <= cloudiness <= 1.0:
        raise WeatherError(f"synthetic weather: cloudiness must be in 0..1, got {cloudiness!r}")
    if not -90.0 <= site.latitude_deg <= 90.0:
        raise WeatherError(f"synthetic weather: latitude {site.latitude_deg} is not in -90..90")
    d0 = _parse_start(start)
    t0 = datetime(d0.year, d0.month, d0.day, tzinfo=site.tz).timestamp()
    n = max(1, round(days * DAY_S / step_s))
    time_s = t0 + np.arange(n) * float(step_s)
    rng = np.random.default_rng(seed)
    lat, lon = site.latitude_deg, site.longitude_deg

    elev = solar_elevation_deg(time_s, lat, lon)
    clear = clear_sky_global_w_m2(elev)

    # Cloud cover: slow fronts (12 h) plus passing clouds (40 min), mapped to 0..1 so that its
    # mean is `cloudiness` (u**k has mean 1/(k+1) for u uniform).
    z = 0.8 * _smooth_noise(rng, time_s, 12 * 3600.0, 3600.0) + 0.6 * _smooth_noise(
        rng, time_s, 2400.0, 600.0
    )
    u = _normal_cdf(z)
    if cloudiness <= 0.0:
        cloud = np.zeros(n)
    elif cloudiness >= 1.0:
        cloud = np.ones(n)
    else:
        cloud = u ** (1.0 / cloudiness - 1.0)
    iglob = clear * (1.0 - 0.75 * cloud**3.4)

    # Temperature: seasonal mean + slow weather noise + daily sine peaking 3 h after solar noon.
    local = time_s + utc_offsets_s(time_s, site.tz)
    local_day = np.floor(local / DAY_S).astype("int64").astype("datetime64[D]")
    year_start = local_day.astype("datetime64[Y]").astype("datetime64[D]")
    doy_rows = (local_day - year_start).astype(np.float64) + 1.0
    base = (
        np.full(n, float(mean_temp_c))
        if mean_temp_c is not None
        else seasonal_mean_temp_c(lat, doy_rows + np.mod(local, DAY_S) / DAY_S)
    )
    synoptic = 2.5 * _smooth_noise(rng, time_s, 2 * DAY_S, 3 * 3600.0)
    slow_cloud = np.convolve(cloud, np.ones(min(n, 25)) / min(n, 25), mode="same")
    if daily_range_c is None:
        noon_clear = clear_sky_global_w_m2(90.0 - abs(lat - _declination_deg(doy_rows)))
        daily_range = (4.0 + 8.0 * noon_clear / 1000.0) * (1.0 - 0.5 * slow_cloud)
    else:
        daily_range = np.full(n, float(daily_range_c))
    solar_hour = np.mod(time_s / 3600.0 + lon / 15.0, 24.0)
    tout = (
        base
        + synoptic
        + 0.5 * daily_range * np.cos(2 * math.pi * (solar_hour - 15.0) / 24.0)
        + 0.3 * _smooth_noise(rng, time_s, 3600.0, 900.0)
    )

    # Humidity: dew point follows the daily mean, further below it under clear skies, so RH
    # is high at night and falls as the air warms.
    depression = 1.0 + 5.0 * (1.0 - slow_cloud) + 1.0 * _smooth_noise(rng, time_s, DAY_S, 3600.0)
    dew = base + synoptic - np.maximum(depression, 0.2) - 0.2 * daily_range
    rh = np.clip(
        100.0 * saturation_vapour_pressure_pa(dew) / saturation_vapour_pressure_pa(tout), 15, 100
    )

    wind = mean_wind_m_s * np.exp(0.45 * _smooth_noise(rng, time_s, 8 * 3600.0, 1800.0) - 0.1)
    wind *= 1.0 + 0.25 * np.cos(2 * math.pi * (solar_hour - 14.0) / 24.0)
    wind_dir = np.mod(225.0 + 70.0 * _smooth_noise(rng, time_s, DAY_S, 3600.0), 360.0)
    rain_drive = _smooth_noise(rng, time_s, 3 * 3600.0, 1200.0)
    rain = ((cloud > 0.85) & (rain_drive > 0.6)).astype(np.float64)

    values = {
        "tout_c": tout,
        "rhout_pct": rh,
        "iglob_w_m2": iglob,
        "wind_m_s": wind,
        "wind_dir_deg": wind_dir,
        "rain": rain,
        "tsky_c": sky_temperature_c(tout, rh, cloud),
        "co2out_ppm": np.full(n, DEFAULT_CO2OUT_PPM),
    }
    assert set(values) == set(CANONICAL)
    source = (
        f"synthetic {site.name} from {d0.isoformat()} for {days:g} d, seed {seed}, "
        f"cloudiness {cloudiness:g}"
    )
    return Weather(site, time_s, float(step_s), values, source)


def _declination_deg(day_of_year: np.ndarray) -> np.ndarray:
    """Approximate solar declination (deg) by day of year (Cooper 1969)."""
    return 23.44 * np.sin(2 * math.pi * (284.0 + np.asarray(day_of_year)) / 365.0)
