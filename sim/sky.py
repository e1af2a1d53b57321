"""Sky temperature and cloud cover derived from what weather stations measure."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.constants import KELVIN
from sim.constants import SIGMA_W_M2_K4 as SIGMA
from sim.psychro import saturation_pressure_pa_array
from sim.sun import clear_sky_global_w_m2, solar_elevation_deg

if TYPE_CHECKING:
    from sim.weather_series import Site


def saturation_vapour_pressure_pa(t_c: np.ndarray) -> np.ndarray:
    """Saturation vapour pressure over water (Pa): `sim.psychro`'s, over an array."""
    return saturation_pressure_pa_array(t_c)


def sky_temperature_from_pyrgeo(tout_c: np.ndarray, pyrgeo_w_m2: np.ndarray) -> np.ndarray:
    """Sky temperature (C) from a pyrgeometer's net long-wave radiation (W/m2, negative = loss).

    The surface is taken at air temperature with emissivity 1:
    L_sky = L_net + sigma*(Tout+273.15)^4, Tsky = (L_sky/sigma)^0.25 - 273.15.
    """
    l_sky = np.asarray(pyrgeo_w_m2) + SIGMA * (np.asarray(tout_c) + KELVIN) ** 4
    # A sky colder than 100 K is not physical; it only appears with a faulty pyrgeometer.
    l_sky = np.maximum(l_sky, SIGMA * 100.0**4)
    return (l_sky / SIGMA) ** 0.25 - KELVIN


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
    return eps**0.25 * (t + KELVIN) - KELVIN


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
