"""The cucumber crop on its own: fed known assimilates at a known temperature, day after day."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import load_config, replace_values
from sim.crop import (
    C_HARV_A_KG,
    C_HARV_A_N,
    C_HARV_B_N,
    C_LAI,
    C_LEAF,
    CROP_STATES,
    N_COHORTS,
    crop_step,
    gross_assimilation_umol,
    init_crop,
)

STEP_S = 300.0


def grow(days: float, ch2o_g_m2_day: float, tair_c: float = 20.0, **params) -> dict:
    """Run the crop alone; returns its final states and the day of the first harvest."""
    p = replace_values(load_config(), params).to_array()
    crop = np.zeros(len(CROP_STATES))
    fn, fw, fs = np.zeros(N_COHORTS), np.zeros(N_COHORTS), np.zeros(N_COHORTS)
    init_crop(p, crop, fn, fw, fs)
    first_harvest = None
    per_step = ch2o_g_m2_day * STEP_S / 86400.0
    for k in range(int(days * 86400 / STEP_S)):
        crop_step(p, crop, fn, fw, fs, tair_c, per_step, STEP_S)
        if first_harvest is None and crop[C_HARV_A_N] + crop[C_HARV_B_N] > 0:
            first_harvest = k * STEP_S / 86400.0
    out = dict(zip(CROP_STATES, crop, strict=True))
    out["first_harvest_day"] = first_harvest
    out["fruits"] = crop[C_HARV_A_N] + crop[C_HARV_B_N]
    return out


@pytest.fixture(scope="module")
def plenty():
    return grow(60, 60.0)


def test_fruits_are_harvested_at_about_0_4_kg_and_mostly_class_a(plenty):
    assert plenty["fruits"] > 40.0
    mean_kg = plenty[CROP_STATES[C_HARV_A_KG]] / plenty["harvest_a_n_m2"]
    assert mean_kg == pytest.approx(0.40, abs=0.01)
    assert plenty["harvest_b_n_m2"] / plenty["fruits"] < 0.06  # shape defects only


def test_short_assimilates_abort_fruits_and_make_class_b(plenty):
    short = grow(60, 12.0)
    assert short["fruits"] < 0.6 * plenty["fruits"]
    assert short["aborted_n_m2"] > plenty["aborted_n_m2"] + 20.0
    # bent fruits grown short of assimilates: over twice the 3 % class B of a well-fed crop
    # (weight grades none: a fully developed fruit heavy enough to sell is picked as class A)
    short_b = short["harvest_b_n_m2"] / max(short["fruits"], 1e-9)
    plenty_b = plenty["harvest_b_n_m2"] / max(plenty["fruits"], 1e-9)
    assert plenty_b == pytest.approx(0.03, abs=0.005)
    assert short_b > 2.0 * plenty_b


def test_fruits_maintained_and_stem_density_set_how_many_fruits_grow(plenty):
    half_kept = grow(60, 60.0, **{"crop.fruits_maintained_pct": 35.0})
    half_stems = grow(60, 60.0, **{"crop.stems_per_m2": 1.2})
    assert half_kept["fruits"] / plenty["fruits"] == pytest.approx(0.5, abs=0.1)
    assert half_stems["fruits"] / plenty["fruits"] == pytest.approx(0.5, abs=0.1)


def test_warmth_speeds_fruit_development():
    warm = grow(40, 60.0, tair_c=24.0)
    cool = grow(40, 60.0, tair_c=17.0)
    assert warm["first_harvest_day"] < cool["first_harvest_day"] - 3.0


def test_plant_density_sets_the_young_crop():
    sparse = grow(0.01, 0.0, **{"crop.plants_per_m2": 1.0})
    dense = grow(0.01, 0.0, **{"crop.plants_per_m2": 2.0})
    assert dense[CROP_STATES[C_LEAF]] == pytest.approx(2.0 * sparse[CROP_STATES[C_LEAF]], rel=0.01)
    assert dense[CROP_STATES[C_LAI]] == pytest.approx(2.0 * sparse[CROP_STATES[C_LAI]], rel=0.01)


def test_canopy_assimilation_rises_with_light_and_co2_and_falls_in_the_cold():
    p = load_config().to_array()
    base = gross_assimilation_umol(p, 500.0, 400.0, 20.0, 3.0)
    assert 10.0 < base < 40.0
    assert gross_assimilation_umol(p, 1000.0, 400.0, 20.0, 3.0) > 1.3 * base
    assert gross_assimilation_umol(p, 500.0, 1000.0, 20.0, 3.0) > 1.15 * base
    assert gross_assimilation_umol(p, 500.0, 400.0, 6.0, 3.0) < 0.5 * base  # near freezing
    assert gross_assimilation_umol(p, 0.0, 400.0, 20.0, 3.0) == 0.0
