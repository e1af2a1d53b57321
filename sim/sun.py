"""Solar geometry for a site: elevation, sunrise and sunset (NOAA solar calculator equations).

Pure numpy and vectorised over time. Times are UTC epoch seconds (float). The equations are the
ones of NOAA's solar calculator spreadsheet (after Meeus, "Astronomical Algorithms"): declination
and equation of time from the Julian century, accurate to well under a minute of time for
sunrise/sunset between +-72 degrees latitude.
"""

from __future__ import annotations

import numpy as np

_DAY_S = 86400.0
#: Zenith angle of the sun's centre at sunrise/sunset: 90 deg + refraction (34') + radius (16').
_SUNRISE_ZENITH_DEG = 90.833


def _declination_eqtime(time_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solar declination (radians) and equation of time (minutes) at UTC epoch seconds."""
    jd = np.asarray(time_s, dtype=np.float64) / _DAY_S + 2440587.5
    t = (jd - 2451545.0) / 36525.0
    l0 = np.radians(np.mod(280.46646 + t * (36000.76983 + t * 0.0003032), 360.0))
    m = np.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
    e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    c = (
        np.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + np.sin(2 * m) * (0.019993 - 0.000101 * t)
        + np.sin(3 * m) * 0.000289
    )
    omega = np.radians(125.04 - 1934.136 * t)
    app_long = np.radians(np.degrees(l0) + c - 0.00569 - 0.00478 * np.sin(omega))
    eps0 = 23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0
    eps = np.radians(eps0 + 0.00256 * np.cos(omega))
    decl = np.arcsin(np.sin(eps) * np.sin(app_long))
    y = np.tan(eps / 2.0) ** 2
    eqtime = 4.0 * np.degrees(
        y * np.sin(2 * l0)
        - 2 * e * np.sin(m)
        + 4 * e * y * np.sin(m) * np.cos(2 * l0)
        - 0.5 * y * y * np.sin(4 * l0)
        - 1.25 * e * e * np.sin(2 * m)
    )
    return decl, eqtime


def solar_elevation_deg(
    time_s: np.ndarray | float, latitude_deg: float, longitude_deg: float
) -> np.ndarray:
    """Geometric elevation of the sun's centre above the horizon, in degrees, at UTC epoch seconds.

    No refraction correction (it matters only within a degree of the horizon, where radiation is
    negligible anyway). Longitude is positive east.
    """
    t = np.asarray(time_s, dtype=np.float64)
    decl, eqtime = _declination_eqtime(t)
    minutes_utc = np.mod(t, _DAY_S) / 60.0
    true_solar_min = minutes_utc + eqtime + 4.0 * longitude_deg
    hour_angle = np.radians(true_solar_min / 4.0 - 180.0)
    lat = np.radians(latitude_deg)
    sin_elev = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(hour_angle)
    return np.degrees(np.arcsin(np.clip(sin_elev, -1.0, 1.0)))


def _event_utc(
    day0_s: np.ndarray, latitude_deg: float, longitude_deg: float, sign: float
) -> np.ndarray:
    """Sunrise (sign -1) or sunset (sign +1) on the UTC-dated day starting at day0_s (UTC s)."""
    lat = np.radians(latitude_deg)
    # Start from local solar noon, then refine twice with the sun's position at the event itself.
    guess = day0_s + (720.0 - 4.0 * longitude_deg) * 60.0
    event = guess
    for _ in range(3):
        decl, eqtime = _declination_eqtime(guess)
        cos_ha = np.cos(np.radians(_SUNRISE_ZENITH_DEG)) / (np.cos(lat) * np.cos(decl)) - np.tan(
            lat
        ) * np.tan(decl)
        with np.errstate(invalid="ignore"):
            ha_deg = np.degrees(np.arccos(np.where(np.abs(cos_ha) <= 1.0, cos_ha, np.nan)))
        event = day0_s + (720.0 - 4.0 * (longitude_deg - sign * ha_deg) - eqtime) * 60.0
        guess = np.where(np.isnan(event), guess, event)
    return event


def sunrise_sunset_utc(
    day_start_s: np.ndarray | float,
    latitude_deg: float,
    longitude_deg: float,
    utc_offset_s: np.ndarray | float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sunrise and sunset (UTC epoch seconds) of the local day that contains each given UTC second.

    With `utc_offset_s` (the site's offset from UTC at those seconds, e.g. 7200 for CEST) the day
    is the civil day of that clock. Without it, it is the local mean solar day at the longitude
    (midnight at 24:00 UTC - longitude/15 h), which matches the civil day except for the hour or
    two after civil midnight; a time near local noon is always safe. NaN during polar day or
    polar night. Accurate to about a minute.
    """
    t = np.asarray(day_start_s, dtype=np.float64)
    if utc_offset_s is None:
        local_day = np.floor((t + longitude_deg / 360.0 * _DAY_S) / _DAY_S)
    else:
        local_day = np.floor((t + np.asarray(utc_offset_s, dtype=np.float64)) / _DAY_S)
    # The events of a local day are those of the UTC-dated day nearest its solar noon.
    day0 = local_day * _DAY_S
    return (
        _event_utc(day0, latitude_deg, longitude_deg, -1.0),
        _event_utc(day0, latitude_deg, longitude_deg, +1.0),
    )


def clear_sky_global_w_m2(elevation_deg: np.ndarray | float) -> np.ndarray:
    """Global horizontal radiation under a clear sky (W/m2), Haurwitz (1945): zero below horizon.

    I = 1098 * cos(z) * exp(-0.057 / cos(z)), z the zenith angle. About 900 W/m2 at a June noon
    and 220 W/m2 at a December noon in the Netherlands.
    """
    cz = np.sin(np.radians(np.asarray(elevation_deg, dtype=np.float64)))
    safe = np.maximum(cz, 1e-6)
    return np.where(cz > 0.0, 1098.0 * safe * np.exp(-0.057 / safe), 0.0)
