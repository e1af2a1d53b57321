"""The canonical day table: feature and target names (units in the names) and how a day's
weather becomes the weather features. Pure numpy on canonical signals; no simulator here."""

from __future__ import annotations

import numpy as np

#: The daily setpoint plan a strategy chooses (bounds live with the strategy, in controllers).
PLAN_FEATURES: tuple[str, ...] = (
    "plan_heat_day_c",
    "plan_heat_night_c",
    "plan_vent_offset_c",
    "plan_co2_day_ppm",
    "plan_lamp_hours_h",
    "plan_screen_energy_max_pct",
    "plan_irrigation_interval_min",
)
#: The crop state at the start of the day (end of the day before).
CROP_FEATURES: tuple[str, ...] = (
    "days_since_planting_d",
    "lai",
    "fruits_on_plant_m2",
    "fruit_dm_on_plant_g_m2",
    "leaf_dm_g_m2",
    "stem_dm_g_m2",
    "t24_c",
)
#: The day's weather, aggregated (from a forecast when planning).
WEATHER_FEATURES: tuple[str, ...] = (
    "tout_mean_c",
    "tout_min_c",
    "tout_max_c",
    "iglob_sum_mj_m2",
    "rhout_mean_pct",
    "wind_mean_m_s",
    "day_length_h",
)
FEATURES: tuple[str, ...] = (*CROP_FEATURES, *WEATHER_FEATURES, *PLAN_FEATURES)
#: What the day brings: climate aggregates, crop growth and harvest, resource use.
TARGETS: tuple[str, ...] = (
    "tair_mean_c",
    "tair_day_mean_c",
    "tair_night_mean_c",
    "par_sum_mol_m2",
    "co2_day_mean_ppm",
    "hd_mean_g_m3",
    "fruit_growth_kg_m2",
    "harvest_kg_m2",
    "harvest_fruits_m2",
    "heat_kwh_m2",
    "electricity_kwh_m2",
    "co2_kg_m2",
    "water_l_m2",
)

_UNITS = (
    ("_kwh_m2", "kWh/m2"),
    ("_mj_m2", "MJ/m2"),
    ("_mol_m2", "mol/m2"),
    ("_kg_m2", "kg/m2"),
    ("_g_m2", "g/m2"),
    ("_l_m2", "L/m2"),
    ("_g_m3", "g/m3"),
    ("fruits_m2", "fruits/m2"),
    ("_on_plant_m2", "fruits/m2"),
    ("_m_s", "m/s"),
    ("_pct", "%"),
    ("_ppm", "ppm"),
    ("_min", "min"),
    ("_h", "h"),
    ("_d", "d"),
    ("_c", "°C"),
)


def unit_of(name: str) -> str:
    """The unit a column name carries in its suffix ('' for a pure number such as `lai`)."""
    for suffix, unit in _UNITS:
        if name.endswith(suffix):
            return unit
    return ""


def weather_features(
    weather: dict[str, np.ndarray], step_s: float, day_length_h: float
) -> dict[str, float]:
    """The day's weather features from rows of canonical signals `step_s` apart."""
    tout = np.asarray(weather["tout_c"], dtype=np.float64)
    iglob = np.asarray(weather["iglob_w_m2"], dtype=np.float64)
    return {
        "tout_mean_c": float(tout.mean()),
        "tout_min_c": float(tout.min()),
        "tout_max_c": float(tout.max()),
        "iglob_sum_mj_m2": float(iglob.sum() * step_s / 1e6),
        "rhout_mean_pct": float(np.mean(weather["rhout_pct"])),
        "wind_mean_m_s": float(np.mean(weather["wind_m_s"])),
        "day_length_h": float(day_length_h),
    }
