"""Moist-air relations used by the physics, the climate computer and the drivers' derived values."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from sim.constants import (
    AIR_HEAT_CAPACITY_J_M3_K,
    CO2_MG_M3_PER_PPM,
    KELVIN,
    LATENT_HEAT_J_G,
    VAPOUR_G_K_M3_PA,
)
from sim.jit import njit

# the constants the physics used to take from here, still importable from here
__all__ = [
    "AIR_HEAT_CAPACITY_J_M3_K",
    "CO2_MG_M3_PER_PPM",
    "LATENT_HEAT_J_G",
    "relative_humidity_pct",
    "saturation_density_g_m3",
    "saturation_pressure_pa",
    "saturation_pressure_pa_array",
    "saturation_pressure_slope_pa_k",
    "vapour_density_g_m3",
    "vapour_from_rh",
]


@njit
def saturation_pressure_pa(t_c: float) -> float:
    """Saturation vapour pressure over water (Tetens 1930 / Murray 1967), Pa; 2339 Pa at 20 C.

    The one saturation pressure of the project: physics, climate computer, sky and drivers.
    """
    return 610.78 * math.exp(17.27 * t_c / (t_c + 237.3))


@njit
def saturation_pressure_slope_pa_k(t_c: float) -> float:
    """d(saturation vapour pressure)/dT, Pa/K."""
    return saturation_pressure_pa(t_c) * 17.27 * 237.3 / (t_c + 237.3) ** 2


@njit
def vapour_density_g_m3(pressure_pa: float, t_c: float) -> float:
    """Absolute humidity (g/m3) of air at vapour pressure `pressure_pa` and temperature `t_c`."""
    return pressure_pa * VAPOUR_G_K_M3_PA / (t_c + KELVIN)


@njit
def saturation_density_g_m3(t_c: float) -> float:
    """Absolute humidity of saturated air, g/m3."""
    return vapour_density_g_m3(saturation_pressure_pa(t_c), t_c)


@njit
def relative_humidity_pct(vapour_g_m3: float, t_c: float) -> float:
    """Relative humidity (%) of air holding `vapour_g_m3` at `t_c`."""
    return 100.0 * vapour_g_m3 / saturation_density_g_m3(t_c)


def saturation_pressure_pa_array(t_c: npt.ArrayLike) -> np.ndarray:
    """`saturation_pressure_pa` over an array (same Tetens coefficients), Pa."""
    t_c = np.asarray(t_c, dtype=float)
    return 610.78 * np.exp(17.27 * t_c / (t_c + 237.3))


def vapour_from_rh(rh_pct: npt.ArrayLike, t_c: npt.ArrayLike) -> np.ndarray:
    """Absolute humidity (g/m3) from relative humidity and temperature, vectorised."""
    t_c = np.asarray(t_c, dtype=float)
    es = saturation_pressure_pa_array(t_c)
    return np.asarray(rh_pct, dtype=float) / 100.0 * es * VAPOUR_G_K_M3_PA / (t_c + KELVIN)
