"""Compact greenhouse climate physics (after Vanthoor 2011 / GreenLight, reduced for control).

States per greenhouse (columns of `x`, see STATES): air temperature, a lumped canopy/floor mass
temperature, heating-rail and grow-pipe water temperatures, air vapour density, CO2 and the water
held by the substrate slabs. Fluxes are per m2 of floor. The air temperature, vapour and CO2 are
integrated exactly over a sub-step for fluxes linear in the state (exponential integration), which
stays stable with the fast air dynamics at any step; the slow mass and pipe states step explicitly.
Each flux is booked in `acc` with the same value that moved the state, so the ledgers close.
"""

from __future__ import annotations

import math

from drivers.signals import ACTUATORS
from sim.config import PARAM_INDEX
from sim.constants import (
    AIR_DENSITY_KG_M3,
    AIR_HEAT_CAPACITY_J_M3_K,
    CO2_MG_M3_PER_PPM,
    GRAVITY_M_S2,
    KELVIN,
    LATENT_HEAT_J_G,
    PAR_PER_GLOBAL_UMOL_J,
    PSYCHROMETRIC_PA_K,
    SIGMA_W_M2_K4,
    VAPOUR_G_K_M3_PA,
    WATER_HEAT_J_L_K,
)
from sim.jit import njit, njit_inline
from sim.psychro import (
    saturation_density_g_m3,
    saturation_pressure_pa,
    saturation_pressure_slope_pa_k,
)

STATES: tuple[str, ...] = (
    "tair_c",
    "tmass_c",
    "pipe_c",
    "pipe_grow_c",
    "vapour_g_m3",
    "co2_ppm",
    "slab_l_m2",
)
#: Weather inputs of one physics step, in this column order.
WEATHER_INPUTS: tuple[str, ...] = (
    "tout_c",
    "rhout_pct",
    "iglob_w_m2",
    "wind_m_s",
    "rain",
    "tsky_c",
    "co2out_ppm",
)
#: Season accumulators (per m2). The E_, V_ and C_ terms are the energy, vapour and CO2 ledgers.
ACCOUNTS: tuple[str, ...] = (
    "heat_j",
    "lamp_peak_j",
    "lamp_offpeak_j",
    "co2_dosed_kg",
    "irrigation_l",
    "drain_l",
    "transpiration_l",
    "growth_water_l",
    "e_sun_j",
    "e_lamp_j",
    "e_boiler_j",
    "e_cover_j",
    "e_vent_j",
    "e_soil_j",
    "e_latent_j",
    "v_transpiration_g",
    "v_fog_g",
    "v_exchange_g",
    "v_condensation_g",
    "c_dose_mg",
    "c_exchange_mg",
    "c_crop_mg",
    "par_mol",
    "tair_c_s",
    "time_s",
    "lamp_on_s",
)

(X_TAIR, X_TMASS, X_PIPE, X_GROW, X_VAP, X_CO2, X_SLAB) = range(len(STATES))
(W_TOUT, W_RHOUT, W_IGLOB, W_WIND, W_RAIN, W_TSKY, W_CO2OUT) = range(len(WEATHER_INPUTS))
_A = {name: i for i, name in enumerate(ACCOUNTS)}
ACC_HEAT = _A["heat_j"]
ACC_LAMP_PEAK = _A["lamp_peak_j"]
ACC_LAMP_OFFPEAK = _A["lamp_offpeak_j"]
ACC_CO2 = _A["co2_dosed_kg"]
ACC_IRRIGATION = _A["irrigation_l"]
ACC_DRAIN = _A["drain_l"]
ACC_TRANSP = _A["transpiration_l"]
ACC_GROWTH_WATER = _A["growth_water_l"]
ACC_E_SUN = _A["e_sun_j"]
ACC_E_LAMP = _A["e_lamp_j"]
ACC_E_BOILER = _A["e_boiler_j"]
ACC_E_COVER = _A["e_cover_j"]
ACC_E_VENT = _A["e_vent_j"]
ACC_E_SOIL = _A["e_soil_j"]
ACC_E_LATENT = _A["e_latent_j"]
ACC_V_TRANSP = _A["v_transpiration_g"]
ACC_V_FOG = _A["v_fog_g"]
ACC_V_EXCH = _A["v_exchange_g"]
ACC_V_COND = _A["v_condensation_g"]
ACC_C_DOSE = _A["c_dose_mg"]
ACC_C_EXCH = _A["c_exchange_mg"]
ACC_C_CROP = _A["c_crop_mg"]
ACC_PAR = _A["par_mol"]
ACC_TAIR = _A["tair_c_s"]
ACC_TIME = _A["time_s"]
ACC_LAMP_ON = _A["lamp_on_s"]

_ACT = {name: i for i, name in enumerate(ACTUATORS)}
A_PIPE = _ACT["pipe_sp_c"]
A_GROW = _ACT["pipe_grow_sp_c"]
A_LEE = _ACT["vent_lee_pct"]
A_WIND = _ACT["vent_wind_pct"]
A_SCREEN_E = _ACT["screen_energy_pct"]
A_SCREEN_B = _ACT["screen_blackout_pct"]
A_LAMPS = _ACT["lamps_pct"]
A_CO2 = _ACT["co2_valve_pct"]
A_FOG = _ACT["fog_pct"]
A_IRRIGATION = _ACT["irrigation_pct"]

P_HEIGHT = PARAM_INDEX["structure.air_height_m"]
P_COVER_RATIO = PARAM_INDEX["structure.cover_area_ratio"]
P_TAU = PARAM_INDEX["structure.cover_transmission"]
P_H_IN = PARAM_INDEX["structure.h_in_w_m2_k"]
P_H_RAD = PARAM_INDEX["structure.h_rad_cover_w_m2_k"]
P_HEC_IN = PARAM_INDEX["structure.cover_convection_w_m2_k133"]
P_MASS_CAP = PARAM_INDEX["structure.mass_capacity_j_m2_k"]
P_MASS_EXCH = PARAM_INDEX["structure.mass_exchange_w_m2_k"]
P_SOIL_EXCH = PARAM_INDEX["structure.soil_exchange_w_m2_k"]
P_SOIL_T = PARAM_INDEX["structure.soil_deep_c"]
P_SUN_AIR = PARAM_INDEX["structure.sun_to_air_fraction"]
P_RAIL_D = PARAM_INDEX["heating.rail_diameter_m"]
P_RAIL_L = PARAM_INDEX["heating.rail_length_m_m2"]
P_GROW_D = PARAM_INDEX["heating.grow_diameter_m"]
P_GROW_L = PARAM_INDEX["heating.grow_length_m_m2"]
P_PIPE_EPS = PARAM_INDEX["heating.pipe_emissivity"]
P_BOILER = PARAM_INDEX["heating.boiler_capacity_w_m2"]
P_PIPE_TAU = PARAM_INDEX["heating.pipe_time_constant_s"]
P_LEE_AREA = PARAM_INDEX["ventilation.lee_area_fraction"]
P_WIND_AREA = PARAM_INDEX["ventilation.wind_area_fraction"]
P_CD = PARAM_INDEX["ventilation.discharge_coefficient"]
P_CW = PARAM_INDEX["ventilation.wind_coefficient"]
P_WIND_GAIN = PARAM_INDEX["ventilation.wind_side_gain"]
P_VENT_H = PARAM_INDEX["ventilation.vent_height_m"]
P_LEAK = PARAM_INDEX["ventilation.leakage_coefficient"]
P_SE_SAVE = PARAM_INDEX["screens.energy_saving"]
P_SE_TAU = PARAM_INDEX["screens.energy_transmission"]
P_SB_SAVE = PARAM_INDEX["screens.blackout_saving"]
P_SB_TAU = PARAM_INDEX["screens.blackout_transmission"]
P_SCREEN_K = PARAM_INDEX["screens.screen_permeability_m3_m2_s_k"]
P_LAMP_PAR = PARAM_INDEX["lamps.par_umol_m2_s"]
P_LAMP_EFF = PARAM_INDEX["lamps.efficacy_umol_j"]
P_LAMP_CONV = PARAM_INDEX["lamps.convective_fraction"]
P_CO2_CAP = PARAM_INDEX["co2.dosing_capacity_kg_m2_h"]
P_FOG_CAP = PARAM_INDEX["fogging.capacity_g_m2_h"]
P_VALVE_FLOW = PARAM_INDEX["irrigation.valve_flow_l_m2_h"]
P_SLAB_CAP = PARAM_INDEX["irrigation.slab_capacity_l_m2"]

_SIGMA = SIGMA_W_M2_K4
_AIR_DENSITY_KG_M3 = AIR_DENSITY_KG_M3
# a screen exchanges air even with no temperature difference across it (wind, pressure)
_SCREEN_MIN_DT_K = 1.0
# flow standing for an open screen: no resistance worth counting (m3/m2/s)
_OPEN_SCREEN_FLOW = 1.0e3
# leaf boundary-layer resistance to heat and vapour, s/m (Stanghellini 1987: rb ~ 275 s/m)
_BOUNDARY_RESISTANCE_S_M = 275.0
# absorbed short-wave minus the canopy's long-wave loss to the cover, as a share
_NET_RADIATION_SHARE = 0.4
# all-wave radiation is absorbed less steeply through the canopy than PAR alone
_NET_RADIATION_EXTINCTION = 0.7
# stomata close further in the dark than the light response alone says
_NIGHT_STOMATA = 3.0
# below this share of its capacity the substrate limits transpiration
_DRY_SLAB_SHARE = 0.2
_STEEL_WALL_J_M_K = 1100.0  # ~3 mm steel wall of a 51 mm pipe per metre
# free-convection coefficient of a horizontal heating pipe, W/m2/K^1.32 (Vanthoor 2011 Table 8.4)
_PIPE_CONVECTION = 1.99
# outside cover heat transfer h = 2.8 + 1.2 u W/m2/K (Vanthoor 2011 eq. 8.46, cover to outside)
_H_OUT_STILL = 2.8
_H_OUT_WIND = 1.2
# the boiler heats a circuit only when its setpoint is this far above the air
_PIPE_ON_MARGIN_K = 0.5


@njit
def _relax(value: float, source: float, sink: float, capacity: float, dt: float):
    """Exact step of capacity*dv/dt = source - sink*v; returns (new value, mean over the step)."""
    if sink <= 0.0:
        new = value + source * dt / capacity
        return new, 0.5 * (value + new)
    rate = sink * dt / capacity
    equilibrium = source / sink
    # mean of exp(-t) over the step, with its series where the division would lose precision
    share = 1.0 - 0.5 * rate if rate < 1e-6 else -math.expm1(-rate) / rate
    new = equilibrium + (value - equilibrium) * math.exp(-rate)
    mean = equilibrium + (value - equilibrium) * share
    return new, mean


@njit
def pipe_capacity_j_m2_k(diameter: float, length: float) -> float:
    """Heat capacity of a pipe circuit's water and steel per m2 of floor."""
    water_l = math.pi * (0.5 * diameter) ** 2 * length * 1000.0
    return water_l * WATER_HEAT_J_L_K + _STEEL_WALL_J_M_K * length * diameter / 0.051


@njit
def light_transmission(p, screen_e: float, screen_b: float) -> float:
    """Share of outside global radiation reaching the crop through cover and screens."""
    return (
        p[P_TAU] * (1.0 - screen_e * (1.0 - p[P_SE_TAU])) * (1.0 - screen_b * (1.0 - p[P_SB_TAU]))
    )


@njit
def canopy_par(p, act, iglob: float) -> tuple[float, float]:
    """(sun PAR, lamp PAR) at the top of the canopy, umol/m2/s."""
    tau = light_transmission(p, act[A_SCREEN_E] / 100.0, act[A_SCREEN_B] / 100.0)
    sun = max(iglob, 0.0) * PAR_PER_GLOBAL_UMOL_J * tau
    lamps = min(max(act[A_LAMPS], 0.0), 100.0) / 100.0 * p[P_LAMP_PAR]
    return sun, lamps


@njit
def vent_flow_m3_m2_s(
    cd: float, area: float, height: float, dt: float, mean_k: float, cw: float, wind: float
) -> float:
    """Flow through roof vents of `area` (m2/m2 floor): buoyancy + wind (Boulard & Baille 1995,
    Vanthoor 2011 eq. 8.65): cd*area/2*sqrt(g*h/2*dT/T + cw*u^2)."""
    drive = GRAVITY_M_S2 * height / 2.0 * max(dt, 0.0) / mean_k + cw * wind * wind
    return cd * area / 2.0 * math.sqrt(drive)


@njit
def leakage_m3_m2_s(coefficient: float, wind: float) -> float:
    """Leakage through the closed cover, c*max(u, 0.25) (Vanthoor 2011 eq. 8.71)."""
    return coefficient * max(wind, 0.25)


@njit
def screen_flow_m3_m2_s(closed: float, permeability: float, dt: float, mean_k: float) -> float:
    """Air flow through a screen layer closed to share `closed` (De Zwart 1996 eq. 5.68,
    Vanthoor 2011 eq. 8.41): through the cloth u*K*|dT|^0.66, through the gap by the density
    difference (1-u)/rho*sqrt(rho/2*(1-u)*g*drho)."""
    dt = max(abs(dt), _SCREEN_MIN_DT_K)
    cloth = closed * permeability * dt**0.66
    drho = _AIR_DENSITY_KG_M3 * dt / mean_k
    gap = (
        (1.0 - closed)
        / _AIR_DENSITY_KG_M3
        * math.sqrt(0.5 * _AIR_DENSITY_KG_M3 * (1.0 - closed) * GRAVITY_M_S2 * drho)
    )
    return cloth + gap


@njit
def outside_flow_m3_m2_s(p, act, tair: float, tout: float, wind: float) -> float:
    """Exchange of the space above the screens with outside through vents and leakage."""
    lee = min(max(act[A_LEE], 0.0), 100.0) / 100.0
    windside = min(max(act[A_WIND], 0.0), 100.0) / 100.0
    area = p[P_LEE_AREA] * lee + p[P_WIND_GAIN] * p[P_WIND_AREA] * windside
    mean_k = 0.5 * (tair + tout) + KELVIN
    flow = vent_flow_m3_m2_s(p[P_CD], area, p[P_VENT_H], tair - tout, mean_k, p[P_CW], wind)
    return flow + leakage_m3_m2_s(p[P_LEAK], wind)


@njit
def screens_flow_m3_m2_s(p, act, tair: float, tout: float) -> float:
    """Air exchange through the energy and blackout screens in series (m3/m2/s); open
    screens give a flow far above any vent's. The space above is taken halfway between
    inside and outside temperature."""
    screen_e = min(max(act[A_SCREEN_E], 0.0), 100.0) / 100.0
    screen_b = min(max(act[A_SCREEN_B], 0.0), 100.0) / 100.0
    mean_k = 0.5 * (tair + tout) + KELVIN
    dt = 0.5 * (tair - tout)
    resistance = 0.0
    if screen_e > 0.0:
        resistance += 1.0 / screen_flow_m3_m2_s(screen_e, p[P_SCREEN_K], dt, mean_k)
    if screen_b > 0.0:
        resistance += 1.0 / screen_flow_m3_m2_s(screen_b, p[P_SCREEN_K], dt, mean_k)
    return 1.0 / resistance if resistance > 0.0 else _OPEN_SCREEN_FLOW


@njit
def series(a: float, b: float) -> float:
    """Two conductances in series."""
    return a * b / (a + b) if a + b > 0.0 else 0.0


@njit
def ventilation_m3_m2_s(p, act, tair: float, tout: float, wind: float) -> float:
    """Air exchange of the compartment with outside (m3 per m2 floor per s): vents and leakage
    take air from the space above the screens, closed screens put their resistance in series
    (the space above, small in capacity, taken as steady)."""
    return series(
        screens_flow_m3_m2_s(p, act, tair, tout), outside_flow_m3_m2_s(p, act, tair, tout, wind)
    )


@njit
def cover_condensation_m_s(hec_in: float, dt: float) -> float:
    """Vapour transfer coefficient to the inner cover per m2 cover (m/s): the convective heat
    transfer cHecIn*|dT|^0.33 (Vanthoor 2011 eq. 8.43, Table 8.4) over rho*cp (Lewis analogy)."""
    return hec_in * abs(dt) ** 0.33 / AIR_HEAT_CAPACITY_J_M3_K


@njit
def stomatal_resistance_s_m(rad_per_leaf_w_m2: float, co2_ppm: float) -> float:
    """Leaf stomatal resistance (s/m) to vapour: Stanghellini 1987 light response
    82*(R+4.3)/(R+0.54) on the radiation absorbed per m2 of leaf surface, raised in the dark and
    by CO2 above 200 ppm (Vanthoor 2011 eq. 8.49-8.51, rfCO2 = 1 + 6.1e-7 (CO2-200)^2)."""
    r = max(rad_per_leaf_w_m2, 0.0)
    r_s = (
        82.0
        * (r + 4.3)
        / (r + 0.54)
        * _NIGHT_STOMATA
        / (1.0 + (_NIGHT_STOMATA - 1.0) * min(r / 20.0, 1.0))
    )
    return r_s * (1.0 + 6.1e-7 * (max(co2_ppm, 200.0) - 200.0) ** 2)


@njit
def transpiration_terms(p, tair: float, lai: float, net_rad: float, co2: float):
    """Stanghellini transpiration as a0 - a1*vapour (g/m2/s, vapour in g/m3)."""
    if lai <= 0.0:
        return 0.0, 0.0
    r_s = stomatal_resistance_s_m(max(net_rad, 0.0) / (2.0 * lai), co2)
    slope = saturation_pressure_slope_pa_k(tair)
    denom = slope + PSYCHROMETRIC_PA_K * (1.0 + r_s / _BOUNDARY_RESISTANCE_S_M)
    conductance = 2.0 * lai * AIR_HEAT_CAPACITY_J_M3_K / _BOUNDARY_RESISTANCE_S_M
    # latent flux W/m2 = (slope*Rn + conductance*VPD)/denom, VPD = es - vapour*(T+KELVIN)/2.1668
    pa_per_g = (tair + KELVIN) / VAPOUR_G_K_M3_PA
    a0 = (slope * max(net_rad, 0.0) + conductance * saturation_pressure_pa(tair)) / denom
    a1 = conductance * pa_per_g / denom
    return a0 / LATENT_HEAT_J_G, a1 / LATENT_HEAT_J_G


@njit
def transpiration_g_m2_s(p, tair: float, lai: float, net_rad: float, co2: float, vapour: float):
    """Crop transpiration (g/m2 floor/s) at air vapour density `vapour` (g/m3), Stanghellini
    1987: lambda*E = (s*Rn + 2 LAI rho cp VPD/rb) / (s + gamma (1 + rs/rb))."""
    a0, a1 = transpiration_terms(p, tair, lai, net_rad, co2)
    return a0 - a1 * vapour


@njit
def net_radiation_w_m2(q_sun: float, lamp_w: float, lai: float) -> float:
    """Net radiation the canopy turns into latent heat (W/m2): its share of the sun and half
    the lamp heat, absorbed by 1 - exp(-0.7 LAI)."""
    absorbed = 1.0 - math.exp(-_NET_RADIATION_EXTINCTION * lai)
    return _NET_RADIATION_SHARE * (q_sun + 0.5 * lamp_w) * absorbed


@njit
def lamp_heat_w_m2(p, lamp_par: float) -> tuple[float, float, float]:
    """(electric power, convective heat to the air, radiant heat to canopy and floor), W/m2:
    every electric watt ends as heat (PAR included), split by the lamps' convective share."""
    lamp_w = lamp_par / p[P_LAMP_EFF]
    to_air = p[P_LAMP_CONV] * lamp_w
    return lamp_w, to_air, lamp_w - to_air


@njit
def cover_heat_transfer(
    p, tair: float, tout: float, tsky: float, wind: float, screen_e: float, screen_b: float
) -> tuple[float, float, float]:
    """Heat loss through the cover as (U W/m2 floor/K, equivalent outside temperature C, cover
    temperature C): inside transfer h_in in series with outside convection 2.8 + 1.2 u and
    long-wave exchange with the sky (U per m2 cover times the cover/floor ratio); closed screens
    cut U by their energy saving. Loss = U (Tair - Text)."""
    h_out = _H_OUT_STILL + _H_OUT_WIND * wind
    h_in = p[P_H_IN]
    h_rad = p[P_H_RAD]
    t_ext = (h_out * tout + h_rad * tsky) / (h_out + h_rad)
    u_cover = h_in * (h_out + h_rad) / (h_in + h_out + h_rad) * p[P_COVER_RATIO]
    u_cover *= (1.0 - screen_e * p[P_SE_SAVE]) * (1.0 - screen_b * p[P_SB_SAVE])
    t_cover = (h_in * tair + h_out * tout + h_rad * tsky) / (h_in + h_out + h_rad)
    return u_cover, t_ext, t_cover


@njit
def pipe_convection_w_m2_k(diameter: float, length: float, t_pipe: float, t_air: float) -> float:
    """Convective conductance of a heating pipe to the air per m2 floor (W/m2/K): free
    convection 1.99 pi d L |dT|^0.32 (Vanthoor 2011 eq. 8.53, Table 8.4)."""
    return _PIPE_CONVECTION * math.pi * diameter * length * abs(t_pipe - t_air) ** 0.32


@njit
def pipe_radiation_w_m2(
    emissivity: float, diameter: float, length: float, t_pipe: float, t_surface: float
) -> float:
    """Long-wave radiation of a heating pipe to the surfaces around it per m2 floor (W/m2):
    eps sigma pi d L (Tp^4 - Ts^4) (Vanthoor 2011 eq. 8.38, view factor 1)."""
    area = math.pi * diameter * length
    return emissivity * _SIGMA * area * ((t_pipe + KELVIN) ** 4 - (t_surface + KELVIN) ** 4)


@njit
def co2_dose_mg_m2_s(p, valve_pct: float) -> float:
    """CO2 dosed (mg/m2/s) by a valve open `valve_pct` % of the dosing capacity (kg/m2/h)."""
    return min(max(valve_pct, 0.0), 100.0) / 100.0 * p[P_CO2_CAP] * 1e6 / 3600.0


@njit
def fog_g_m2_s(p, fog_pct: float, vapour: float, vapour_sat: float) -> float:
    """Water evaporated by the fogging system (g/m2/s); none into saturated air."""
    if vapour >= vapour_sat:
        return 0.0
    return min(max(fog_pct, 0.0), 100.0) / 100.0 * p[P_FOG_CAP] / 3600.0


@njit
def boiler_heat_w_m2(
    p,
    setpoint: float,
    t_pipe: float,
    t_air: float,
    emitted: float,
    capacity: float,
    dt: float,
    available: float,
) -> float:
    """Heat the boiler puts into one pipe circuit (W/m2): what brings the water to its setpoint
    within the pipe time constant plus what the pipe gives off, within the boiler's capacity
    left; none while the setpoint is not above the air."""
    if setpoint <= t_air + _PIPE_ON_MARGIN_K:
        return 0.0
    want = capacity * (setpoint - t_pipe) / max(p[P_PIPE_TAU], dt) + emitted
    return min(max(want, 0.0), available)


@njit_inline
def _vapour_step(x, p, act, w, lai, net_rad, g_scr, g_out, t_cover, dt, acc) -> tuple[float, float]:
    """Vapour balance of the air over `dt`: transpiration, fogging, exchange through the
    screens to the space above and on to outside, condensation on the cover. Returns the
    transpiration booked (g/m2/s, negative when the crop takes up vapour) and the fogging."""
    tair = x[X_TAIR]
    height = p[P_HEIGHT]
    vap_out = w[W_RHOUT] / 100.0 * saturation_density_g_m3(w[W_TOUT])
    a0, a1 = transpiration_terms(p, tair, lai, net_rad, x[X_CO2])
    # stomata close as the substrate dries out
    water_share = min(max(x[X_SLAB] / (_DRY_SLAB_SHARE * p[P_SLAB_CAP]), 0.0), 1.0)
    a0 *= water_share
    a1 *= water_share
    fog = fog_g_m2_s(p, act[A_FOG], x[X_VAP], saturation_density_g_m3(tair))
    vap_cover = saturation_density_g_m3(t_cover)
    k_cond = 0.0
    if x[X_VAP] > vap_cover:
        k_cond = cover_condensation_m_s(p[P_HEC_IN], tair - t_cover) * p[P_COVER_RATIO]
    # vents, leakage and the cover draw vapour from the space above the screens, through them
    share = g_scr / (g_scr + g_out + k_cond)
    g_vap = g_out * share
    k_cond *= share
    source = a0 + fog + g_vap * vap_out + k_cond * vap_cover
    sink = a1 + g_vap + k_cond
    vap_new, vap_mean = _relax(x[X_VAP], source, sink, height, dt)
    transp_booked = a0 - a1 * vap_mean
    x[X_VAP] = max(vap_new, 0.0)
    acc[ACC_V_TRANSP] += transp_booked * dt
    acc[ACC_V_FOG] += fog * dt
    acc[ACC_V_EXCH] += g_vap * (vap_mean - vap_out) * dt
    acc[ACC_V_COND] += k_cond * (vap_mean - vap_cover) * dt
    acc[ACC_TRANSP] += max(transp_booked, 0.0) * dt / 1000.0
    acc[ACC_E_LATENT] += fog * LATENT_HEAT_J_G * dt
    return transp_booked, fog


@njit_inline
def _co2_step(x, p, act, w, g_ex, gross_assim_mg, resp_mg, dt, acc) -> None:
    """CO2 balance of the air over `dt`: dosing, exchange with outside, crop uptake and
    respiration; the crop cannot draw the air below zero."""
    height = p[P_HEIGHT]
    dose = co2_dose_mg_m2_s(p, act[A_CO2])
    crop = gross_assim_mg - resp_mg
    co2_source = (dose - crop) / CO2_MG_M3_PER_PPM + g_ex * w[W_CO2OUT]
    co2_new, co2_mean = _relax(x[X_CO2], co2_source, g_ex, height, dt)
    if co2_new < 0.0:  # book only what the crop could take
        crop += co2_new * height * CO2_MG_M3_PER_PPM / dt
        co2_new = 0.0
    x[X_CO2] = co2_new
    acc[ACC_C_DOSE] += dose * dt
    acc[ACC_C_CROP] += crop * dt
    acc[ACC_C_EXCH] += g_ex * (co2_mean - w[W_CO2OUT]) * CO2_MG_M3_PER_PPM * dt
    acc[ACC_CO2] += dose * dt * 1e-6


@njit_inline
def _substrate_step(x, p, act, transpiration: float, dt: float, acc) -> None:
    """Slab water over `dt`: irrigation in, crop uptake out, drain above capacity."""
    irrigation = min(max(act[A_IRRIGATION], 0.0), 100.0) / 100.0 * p[P_VALVE_FLOW] * dt / 3600.0
    slab = x[X_SLAB] + irrigation - max(transpiration, 0.0) * dt / 1000.0
    drain = 0.0
    if slab > p[P_SLAB_CAP]:
        drain = slab - p[P_SLAB_CAP]
        slab = p[P_SLAB_CAP]
    x[X_SLAB] = max(slab, 0.0)
    acc[ACC_IRRIGATION] += irrigation
    acc[ACC_DRAIN] += drain


@njit
def physics_substep(x, p, act, w, lai, gross_assim_mg, resp_mg, peak, dt, acc):
    """Advance one greenhouse's climate states `x` by `dt` seconds.

    `act` actuators (ACTUATORS order), `w` weather (WEATHER_INPUTS order), `lai` leaf area index,
    `gross_assim_mg` canopy CO2 uptake (mg/m2/s) and `resp_mg` crop respiration (mg/m2/s),
    `peak` True when electricity is at the peak tariff. Books every flux in `acc`.
    """
    tair = x[X_TAIR]
    tmass = x[X_TMASS]
    tout = w[W_TOUT]
    wind = max(w[W_WIND], 0.0)
    screen_e = min(max(act[A_SCREEN_E], 0.0), 100.0) / 100.0
    screen_b = min(max(act[A_SCREEN_B], 0.0), 100.0) / 100.0

    # radiation and lamps
    sun_par, lamp_par = canopy_par(p, act, w[W_IGLOB])
    q_sun = max(w[W_IGLOB], 0.0) * light_transmission(p, screen_e, screen_b)
    lamp_w, lamp_air, lamp_mass = lamp_heat_w_m2(p, lamp_par)
    net_rad = net_radiation_w_m2(q_sun, lamp_w, lai)

    # air exchange and cover
    u_cover, t_ext, t_cover = cover_heat_transfer(
        p, tair, tout, w[W_TSKY], wind, screen_e, screen_b
    )
    g_out = outside_flow_m3_m2_s(p, act, tair, tout, wind)
    g_scr = screens_flow_m3_m2_s(p, act, tair, tout)
    g_ex = series(g_scr, g_out)

    transp, fog = _vapour_step(x, p, act, w, lai, net_rad, g_scr, g_out, t_cover, dt, acc)

    # pipes: convective share to air (linearised on this step), radiative share to the mass
    eps = p[P_PIPE_EPS]
    g_rail = pipe_convection_w_m2_k(p[P_RAIL_D], p[P_RAIL_L], x[X_PIPE], tair)
    g_grow = pipe_convection_w_m2_k(p[P_GROW_D], p[P_GROW_L], x[X_GROW], tair)
    rad_rail = pipe_radiation_w_m2(eps, p[P_RAIL_D], p[P_RAIL_L], x[X_PIPE], tmass)
    rad_grow = pipe_radiation_w_m2(eps, p[P_GROW_D], p[P_GROW_L], x[X_GROW], tmass)

    # air temperature, exact for the linear conductances
    g_mass = p[P_MASS_EXCH]
    g_vent = AIR_HEAT_CAPACITY_J_M3_K * g_ex
    q_fog = fog * LATENT_HEAT_J_G
    source = (
        p[P_SUN_AIR] * q_sun
        + lamp_air
        - q_fog
        + u_cover * t_ext
        + g_vent * tout
        + g_mass * tmass
        + g_rail * x[X_PIPE]
        + g_grow * x[X_GROW]
    )
    sink = u_cover + g_vent + g_mass + g_rail + g_grow
    tair_new, tair_mean = _relax(tair, source, sink, p[P_HEIGHT] * AIR_HEAT_CAPACITY_J_M3_K, dt)
    q_rail = g_rail * (x[X_PIPE] - tair_mean)
    q_grow = g_grow * (x[X_GROW] - tair_mean)
    x[X_TAIR] = tair_new

    # lumped canopy/floor mass: rest of sun and lamps, pipe radiation, latent heat of the crop
    q_latent = transp * LATENT_HEAT_J_G
    q_soil = p[P_SOIL_EXCH] * (tmass - p[P_SOIL_T])
    q_mass_in = (
        (1.0 - p[P_SUN_AIR]) * q_sun
        + lamp_mass
        + rad_rail
        + rad_grow
        + g_mass * (tair_mean - tmass)
        - q_latent
        - q_soil
    )
    x[X_TMASS] = tmass + q_mass_in * dt / p[P_MASS_CAP]

    # boiler: brings each circuit towards its setpoint, rail first, within capacity
    emit_rail = q_rail + rad_rail
    emit_grow = q_grow + rad_grow
    cap_rail = pipe_capacity_j_m2_k(p[P_RAIL_D], p[P_RAIL_L])
    cap_grow = pipe_capacity_j_m2_k(p[P_GROW_D], p[P_GROW_L])
    q_in_rail = boiler_heat_w_m2(
        p, act[A_PIPE], x[X_PIPE], tair, emit_rail, cap_rail, dt, p[P_BOILER]
    )
    q_in_grow = boiler_heat_w_m2(
        p, act[A_GROW], x[X_GROW], tair, emit_grow, cap_grow, dt, p[P_BOILER] - q_in_rail
    )
    boiler = q_in_rail + q_in_grow
    x[X_PIPE] += (q_in_rail - emit_rail) * dt / cap_rail
    x[X_GROW] += (q_in_grow - emit_grow) * dt / cap_grow

    _co2_step(x, p, act, w, g_ex, gross_assim_mg, resp_mg, dt, acc)
    _substrate_step(x, p, act, transp, dt, acc)

    # energy ledger and season sums
    acc[ACC_HEAT] += boiler * dt
    acc[ACC_E_BOILER] += boiler * dt
    acc[ACC_E_SUN] += q_sun * dt
    acc[ACC_E_LAMP] += lamp_w * dt
    acc[ACC_E_COVER] += u_cover * (tair_mean - t_ext) * dt
    acc[ACC_E_VENT] += g_vent * (tair_mean - tout) * dt
    acc[ACC_E_SOIL] += q_soil * dt
    acc[ACC_E_LATENT] += q_latent * dt
    if peak:
        acc[ACC_LAMP_PEAK] += lamp_w * dt
    else:
        acc[ACC_LAMP_OFFPEAK] += lamp_w * dt
    if lamp_par > 0.0:
        acc[ACC_LAMP_ON] += dt
    acc[ACC_PAR] += (sun_par + lamp_par) * dt * 1e-6
    acc[ACC_TAIR] += tair_mean * dt
    acc[ACC_TIME] += dt
    return q_sun, sun_par + lamp_par, boiler


@njit
def stored_heat_j_m2(x, p) -> float:
    """Sensible heat held by air, mass and both pipe circuits (J/m2 above 0 C), for ledgers."""
    return (
        p[P_HEIGHT] * AIR_HEAT_CAPACITY_J_M3_K * x[X_TAIR]
        + p[P_MASS_CAP] * x[X_TMASS]
        + pipe_capacity_j_m2_k(p[P_RAIL_D], p[P_RAIL_L]) * x[X_PIPE]
        + pipe_capacity_j_m2_k(p[P_GROW_D], p[P_GROW_L]) * x[X_GROW]
    )
