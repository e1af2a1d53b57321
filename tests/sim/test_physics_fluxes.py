"""Each flux function against a worked value from its source, not only ledger closure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivers.signals import ACTUATORS
from sim.config import load_config
from sim.physics import (
    cover_condensation_m_s,
    leakage_m3_m2_s,
    screen_flow_m3_m2_s,
    screens_flow_m3_m2_s,
    vent_flow_m3_m2_s,
    ventilation_m3_m2_s,
)
from sim.psychro import saturation_density_g_m3, saturation_pressure_pa
from sim.sky import saturation_vapour_pressure_pa


def test_saturation_pressure_is_the_tabulated_one_everywhere():
    # 2.339 kPa at 20 C, 4.246 kPa at 30 C (WMO tables); sky and physics share it
    assert saturation_pressure_pa(20.0) == pytest.approx(2339.0, rel=2e-3)
    assert saturation_pressure_pa(30.0) == pytest.approx(4246.0, rel=3e-3)
    assert float(saturation_vapour_pressure_pa(np.array([20.0]))[0]) == saturation_pressure_pa(20.0)
    # saturated air holds 17.3 g/m3 at 20 C
    assert saturation_density_g_m3(20.0) == pytest.approx(17.3, abs=0.1)


def test_roof_vent_flow_follows_boulard_baille():
    # Vanthoor 2011 eq. 8.65 worked by hand: cD 0.75, 0.1 m2/m2, h 0.68 m, dT 10 K, 4 m/s
    mean_k = 288.15
    expected = 0.75 * 0.1 / 2.0 * math.sqrt(9.81 * 0.68 / 2.0 * 10.0 / mean_k + 0.09 * 16.0)
    got = vent_flow_m3_m2_s(0.75, 0.1, 0.68, 10.0, mean_k, 0.09, 4.0)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == pytest.approx(0.0468, abs=5e-4)
    # no stack effect when outside is warmer: wind alone
    assert vent_flow_m3_m2_s(0.75, 0.1, 0.68, -5.0, mean_k, 0.09, 0.0) == 0.0


def test_leakage_has_a_floor_at_a_quarter_metre_per_second():
    # Vanthoor 2011 eq. 8.71: 1e-4 m3/m2/s per m/s, 0.25 m/s at least
    assert leakage_m3_m2_s(1e-4, 4.0) == pytest.approx(4e-4)
    assert leakage_m3_m2_s(1e-4, 0.0) == pytest.approx(2.5e-5)


def test_closed_screen_lets_through_only_its_cloth_flow():
    # De Zwart 1996 eq. 5.68: fully closed, K*dT^0.66: 5e-4 * 4^0.66 = 1.25e-3 m3/m2/s
    assert screen_flow_m3_m2_s(1.0, 5e-4, 4.0, 290.0) == pytest.approx(5e-4 * 4.0**0.66)
    # an open screen passes ~0.25 m3/m2/s at 4 K: far above any vent, so no resistance
    assert screen_flow_m3_m2_s(0.0, 5e-4, 4.0, 290.0) > 0.2
    # a 15 % gap passes about ten times what the closed cloth does
    assert screen_flow_m3_m2_s(0.85, 5e-4, 4.0, 290.0) > 10 * 5e-4 * 4.0**0.66


def _act(**positions: float) -> np.ndarray:
    act = np.zeros(len(ACTUATORS))
    for name, value in positions.items():
        act[ACTUATORS.index(name)] = value
    return act


def test_a_closed_energy_screen_cuts_the_night_air_exchange():
    p = load_config().to_array()
    open_vents = _act(vent_lee_pct=30.0)
    screened = _act(vent_lee_pct=30.0, screen_energy_pct=100.0)
    g_open = ventilation_m3_m2_s(p, open_vents, 20.0, 5.0, 4.0)
    g_screened = ventilation_m3_m2_s(p, screened, 20.0, 5.0, 4.0)
    # the screen sits in series: the exchange is below the screen cloth's own flow
    assert g_screened < screens_flow_m3_m2_s(p, screened, 20.0, 5.0)
    assert g_screened < 0.3 * g_open
    # closed vents and no screen: leakage alone, ~0.25 air changes per hour at 6 m and 4 m/s
    g_leak = ventilation_m3_m2_s(p, _act(), 20.0, 5.0, 4.0)
    assert g_leak * 3600.0 / 6.0 == pytest.approx(0.24, abs=0.01)


def test_condensation_coefficient_is_free_convection_over_rho_cp():
    # cHecIn 1.86 W/m2/K^1.33 at 8 K: 1.86*8^0.33 = 3.7 W/m2/K -> 3.1 mm/s vapour transfer
    assert cover_condensation_m_s(1.86, 8.0) == pytest.approx(1.86 * 8.0**0.33 / (1.2 * 1006.0))
    assert cover_condensation_m_s(1.86, 8.0) == pytest.approx(3.06e-3, rel=0.01)
