"""Each flux function against a worked value from its source, not only ledger closure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivers.signals import ACTUATORS
from sim.config import load_config
from sim.crop import gross_assimilation_umol
from sim.physics import (
    co2_dose_mg_m2_s,
    cover_condensation_m_s,
    cover_heat_transfer,
    lamp_heat_w_m2,
    leakage_m3_m2_s,
    pipe_convection_w_m2_k,
    pipe_radiation_w_m2,
    screen_flow_m3_m2_s,
    screens_flow_m3_m2_s,
    stomatal_resistance_s_m,
    transpiration_g_m2_s,
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


def test_heating_pipe_heat_per_metre_is_vanthoors_convection_plus_radiation():
    # Vanthoor 2011 eq. 8.53 / Table 8.4 and eq. 8.38, a 51 mm pipe at 60 C in 20 C air with the
    # surroundings at 20 C, per metre of pipe (length 1 m/m2): worked by hand,
    # convection 1.99*pi*0.051*40^1.32 = 0.3188*130.2 = 41.5 W/m,
    # radiation 0.88*5.67e-8*pi*0.051*(333.15^4 - 293.15^4) = 0.88*5.67e-8*0.1602*4.933e9 = 39.4 W/m
    conv = pipe_convection_w_m2_k(0.051, 1.0, 60.0, 20.0) * 40.0
    rad = pipe_radiation_w_m2(0.88, 0.051, 1.0, 60.0, 20.0)
    assert conv == pytest.approx(41.5, abs=0.1)
    assert rad == pytest.approx(39.4, abs=0.1)
    # 81 W/m in all: the formula sits below the 90-100 W/m of heating tables for a 51 mm pipe at
    # 40 K over the air (they count radiation to a colder cover); kept as published
    assert 75.0 < conv + rad < 100.0
    # the convective conductance grows as dT^0.32: at 10 K it is (10/40)^0.32 of that at 40 K
    ratio = pipe_convection_w_m2_k(0.051, 1.0, 30.0, 20.0) / pipe_convection_w_m2_k(
        0.051, 1.0, 60.0, 20.0
    )
    assert ratio == pytest.approx(0.25**0.32, rel=1e-12)


def test_cover_loses_heat_through_inside_and_outside_resistances_in_series():
    p = load_config().to_array()
    # h_in 7, outside convection 2.8 + 1.2*4 = 7.6 W/m2/K and sky exchange 5 W/m2/K:
    # U = 7*(7.6+5)/(7+7.6+5) = 4.5 W/m2 cover/K, times 1.2 m2 cover per m2 floor = 5.4
    u, t_ext, t_cover = cover_heat_transfer(p, 20.0, 5.0, -10.0, 4.0, 0.0, 0.0)
    assert u == pytest.approx(5.4, rel=1e-9)
    # outside air and sky weighted by their conductances: (7.6*5 + 5*(-10))/12.6 = -0.95 C
    assert t_ext == pytest.approx((7.6 * 5.0 - 50.0) / 12.6, rel=1e-9)
    # the cover sits between: (7*20 + 7.6*5 - 5*10)/19.6 = 6.53 C
    assert t_cover == pytest.approx(128.0 / 19.6, rel=1e-9)
    # a closed energy screen saves its 35 %
    u_screened, _, _ = cover_heat_transfer(p, 20.0, 5.0, -10.0, 4.0, 1.0, 0.0)
    assert u_screened == pytest.approx(0.65 * 5.4, rel=1e-9)


def test_stanghellini_transpiration_worked_example():
    # Stanghellini 1987 with Vanthoor 2011 eq. 8.49-8.51 stomata, worked by hand at 20 C,
    # LAI 3, 300 W/m2 net radiation absorbed by the canopy, VPD 1 kPa, 400 ppm:
    #   radiation per leaf surface 300/(2*3) = 50 W/m2
    #   rs = 82*(50+4.3)/(50+0.54) * (1 + 6.1e-7*200^2) = 88.1*1.0244 = 90.25 s/m
    #   s = 2338*17.27*237.3/257.3^2 = 144.7 Pa/K, gamma 66.5 Pa/K, rb 275 s/m
    #   lambda E = (144.7*300 + 2*3*1207/275*1000) / (144.7 + 66.5*(1 + 90.25/275))
    #            = (43420 + 26340) / 233.1 = 299 W/m2  ->  E = 299/2450 = 0.122 g/m2/s
    assert stomatal_resistance_s_m(50.0, 400.0) == pytest.approx(90.25, abs=0.01)
    p = load_config().to_array()
    vapour = (saturation_pressure_pa(20.0) - 1000.0) * 2.1668 / 293.15
    e = transpiration_g_m2_s(p, 20.0, 3.0, 300.0, 400.0, vapour)
    assert e == pytest.approx(0.122, abs=0.001)
    # inside the 0.1-0.15 g/m2/s a full tomato or cucumber canopy transpires at noon
    assert 0.1 < e < 0.15
    # in the dark the stomata close (three times the light-response resistance at zero light)
    assert stomatal_resistance_s_m(0.0, 400.0) == pytest.approx(
        3.0 * 82.0 * 4.3 / 0.54 * 1.0244, rel=1e-4
    )
    assert transpiration_g_m2_s(p, 20.0, 3.0, 0.0, 400.0, vapour) < 0.3 * e
    # no leaves, no transpiration
    assert transpiration_g_m2_s(p, 20.0, 0.0, 300.0, 400.0, vapour) == 0.0


def test_lamp_heat_splits_the_electric_power_between_air_and_canopy():
    p = load_config().to_array()
    # HPS at 187 umol/m2/s and 1.6 umol/J draw 116.9 W/m2; 35 % of it heats the air directly
    total, to_air, radiant = lamp_heat_w_m2(p, 187.0)
    assert total == pytest.approx(187.0 / 1.6)
    assert to_air == pytest.approx(0.35 * 116.875)
    assert radiant == pytest.approx(0.65 * 116.875)
    assert to_air + radiant == pytest.approx(total, rel=1e-12)


def test_co2_dosing_capacity_per_second():
    p = load_config().to_array()
    # 0.0128 kg/m2/h = 12.8 g/m2/h = 3.56 mg/m2/s with the valve fully open
    assert co2_dose_mg_m2_s(p, 100.0) == pytest.approx(12800.0 / 3600.0)
    assert co2_dose_mg_m2_s(p, 25.0) == pytest.approx(0.25 * 12800.0 / 3600.0)
    assert co2_dose_mg_m2_s(p, 150.0) == co2_dose_mg_m2_s(p, 100.0)
    assert co2_dose_mg_m2_s(p, -5.0) == 0.0


def test_canopy_co2_uptake_worked_example():
    # rectangular hyperbola per leaf layer, three-point Gauss over the canopy (Goudriaan &
    # van Laar 1994), cucumber defaults: eps0 0.085, Pmax 50 umol/m2/s, K 300 ppm, k 0.8.
    # At 1000 ppm, 22 C: Gamma = 1.7*22 = 37.4 ppm, eps = 0.085*(962.6/1074.8) = 0.0761,
    # Pmax = 50*1*1*(962.6/1262.6) = 38.12. With LAI 3 and 500 umol/m2/s PAR, layer depths
    # 0.1127/0.5/0.8873: absorbed 0.8*500*exp(-0.8*3*z) = 305.2, 120.5, 47.6 umol/m2/s,
    # leaf rates eps*I*Pmax/(eps*I + Pmax) = 14.4, 7.4, 3.3; weighted 0.2778/0.4444/0.2778:
    # 8.21 per m2 leaf, times LAI 3 = 24.6 umol/m2/s = 1.08 mg CO2/m2/s
    p = load_config().to_array()
    gross = gross_assimilation_umol(p, 500.0, 1000.0, 22.0, 3.0)
    assert gross == pytest.approx(24.6, abs=0.1)
    # 1000 ppm instead of 400 raises uptake by a quarter at this light (20.0 -> 24.6)
    assert gross_assimilation_umol(p, 500.0, 400.0, 22.0, 3.0) == pytest.approx(20.0, abs=0.1)
    # none in the dark
    assert gross_assimilation_umol(p, 0.0, 1000.0, 22.0, 3.0) == 0.0
