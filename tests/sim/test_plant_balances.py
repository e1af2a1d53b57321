"""The simulated plant conserves energy, vapour, CO2 and water: every flux is booked."""

from __future__ import annotations

import pytest

from sim.config import load_config
from sim.physics import STATES
from sim.plant import Plant
from sim.psychro import CO2_MG_M3_PER_PPM
from sim.weather import default_weather

# Two days of changing commands: heating, vents, screens, lamps, CO2, fogging, irrigation.
_PROGRAM = [
    {"pipe_sp_c": 55.0, "pipe_grow_sp_c": 40.0, "screen_energy_pct": 100.0, "lamps_pct": 100.0},
    {"vent_lee_pct": 30.0, "vent_wind_pct": 10.0, "co2_valve_pct": 80.0, "screen_energy_pct": 0},
    {"pipe_sp_c": 0.0, "pipe_grow_sp_c": 0.0, "fog_pct": 100.0, "irrigation_pct": 20.0},
    {"vent_lee_pct": 0.0, "vent_wind_pct": 0.0, "fog_pct": 0.0, "screen_blackout_pct": 100.0},
]


@pytest.fixture(scope="module")
def plant_run():
    weather = default_weather().window("2018-10-01", 3)
    plant = Plant(load_config(), weather)
    before = (plant.stored_heat_j_m2(), plant.states())
    for hour in range(48):
        plant.apply(_PROGRAM[(hour // 3) % len(_PROGRAM)])
        plant.advance(3600.0)
    return plant, before


def test_energy_ledger_closes(plant_run):
    plant, (heat_before, _) = plant_run
    a = plant.accounts()
    gains = a["e_sun_j"] + a["e_lamp_j"] + a["e_boiler_j"]
    losses = a["e_cover_j"] + a["e_vent_j"] + a["e_soil_j"] + a["e_latent_j"]
    stored = plant.stored_heat_j_m2() - heat_before
    assert gains > 1e6  # the program really heated and lit
    assert gains - losses == pytest.approx(stored, abs=1e-6 * gains)


def test_vapour_ledger_closes(plant_run):
    plant, (_, states) = plant_run
    a = plant.accounts()
    height = load_config()["structure.air_height_m"]
    change = (plant.states()["vapour_g_m3"] - states["vapour_g_m3"]) * height
    booked = a["v_transpiration_g"] + a["v_fog_g"] - a["v_exchange_g"] - a["v_condensation_g"]
    assert a["v_fog_g"] > 100.0
    assert booked == pytest.approx(change, abs=1e-6 * a["v_transpiration_g"])


def test_co2_ledger_closes(plant_run):
    plant, (_, states) = plant_run
    a = plant.accounts()
    height = load_config()["structure.air_height_m"]
    change = (plant.states()["co2_ppm"] - states["co2_ppm"]) * height * CO2_MG_M3_PER_PPM
    booked = a["c_dose_mg"] - a["c_crop_mg"] - a["c_exchange_mg"]
    assert a["c_dose_mg"] > 1e4
    assert booked == pytest.approx(change, abs=1e-6 * a["c_dose_mg"])


def test_water_ledger_closes(plant_run):
    plant, (_, states) = plant_run
    a = plant.accounts()
    change = plant.states()["slab_l_m2"] - states["slab_l_m2"]
    booked = a["irrigation_l"] - a["drain_l"] - a["transpiration_l"] - a["growth_water_l"]
    assert a["irrigation_l"] > 1.0
    assert booked == pytest.approx(change, abs=1e-9 + 1e-6 * a["irrigation_l"])


def test_states_stay_physical(plant_run):
    plant, _ = plant_run
    s = plant.states()
    assert set(s) == set(STATES)
    assert 0.0 < s["tair_c"] < 45.0
    assert 0.0 <= plant.measurements()["rh_pct"] <= 100.0
    assert s["co2_ppm"] > 0.0
