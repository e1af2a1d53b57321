"""High-wire cucumber crop with fruits as pieces (after Marcelis 1994).

Canopy gross assimilation from PAR, CO2 and temperature feeds an assimilate pool. Each step the
pool pays maintenance respiration, then growth of fruits and vegetative parts in proportion to
their sink strengths. Flower nodes appear per stem at a temperature-driven rate; every day the
nodes the grower keeps ("fruits maintained") set as one fruit cohort, fewer when the source/sink
ratio is low, and young fruits abort when it stays low. A cohort is harvested when its fruits
reach the harvest weight (class A), or when fully developed but light (class B).
Cohort arrays: count per m2, dry weight per fruit (g), development stage (0..1).
"""

from __future__ import annotations

import math

from sim.config import PARAM_INDEX
from sim.constants import CH2O_PER_CO2, CO2_MG_PER_UMOL
from sim.jit import njit

CROP_STATES: tuple[str, ...] = (
    "leaf_dm_g_m2",
    "stem_dm_g_m2",
    "pool_ch2o_g_m2",
    "t24_c",
    "supply_ratio_24h",
    "nodes_today_m2",
    "since_cohort_s",
    "age_s",
    "resp_mg_co2_m2_s",
    "harvest_a_n_m2",
    "harvest_a_kg_m2",
    "harvest_b_n_m2",
    "harvest_b_kg_m2",
    "aborted_n_m2",
    "lai",
    "next_cohort",
    "pruned_leaf_dm_g_m2",
    "assimilated_ch2o_g_m2",
    "maintenance_ch2o_g_m2",
    "fruit_growth_dm_g_m2",
)
(
    C_LEAF,
    C_STEM,
    C_POOL,
    C_T24,
    C_SUPPLY24,
    C_NODES,
    C_SINCE_COHORT,
    C_AGE,
    C_RESP,
    C_HARV_A_N,
    C_HARV_A_KG,
    C_HARV_B_N,
    C_HARV_B_KG,
    C_ABORTED,
    C_LAI,
    C_NEXT,
    C_PRUNED,
    C_ASSIM_TOTAL,
    C_MAINT_TOTAL,
    C_FRUIT_GROWTH,
) = range(len(CROP_STATES))

#: Fruit cohorts kept per greenhouse (one per day; more than the longest development time).
N_COHORTS = 64

P_PLANTS = PARAM_INDEX["crop.plants_per_m2"]
P_STEMS = PARAM_INDEX["crop.stems_per_m2"]
P_MAINTAINED = PARAM_INDEX["crop.fruits_maintained_pct"]
P_LEAF0 = PARAM_INDEX["crop.initial_leaf_dm_g_plant"]
P_STEM0 = PARAM_INDEX["crop.initial_stem_dm_g_plant"]
P_MAX_LAI = PARAM_INDEX["crop.max_lai"]
P_SLA = PARAM_INDEX["crop.specific_leaf_area_m2_g"]
P_K = PARAM_INDEX["crop.extinction_coefficient"]
P_QE = PARAM_INDEX["crop.quantum_efficiency"]
P_PMAX = PARAM_INDEX["crop.max_gross_assim_umol_m2_s"]
P_KCO2 = PARAM_INDEX["crop.co2_half_saturation_ppm"]
P_DMC = PARAM_INDEX["crop.fruit_dm_content"]
P_HARVEST_KG = PARAM_INDEX["crop.harvest_weight_kg"]
P_CLASS_B_KG = PARAM_INDEX["crop.class_b_min_weight_kg"]
P_CLASS_B_SHARE = PARAM_INDEX["crop.class_b_base_share"]
P_FRUIT_POT = PARAM_INDEX["crop.fruit_potential_dm_g"]
P_DEV_DAYS = PARAM_INDEX["crop.fruit_development_days_20c"]
P_DEV_BASE = PARAM_INDEX["crop.fruit_dev_base_c"]
P_NODE_RATE = PARAM_INDEX["crop.node_rate_per_day_20c"]
P_VEG_SINK = PARAM_INDEX["crop.veg_sink_g_dm_stem_day"]
P_ABORT = PARAM_INDEX["crop.abortion_threshold"]
P_M_LEAF = PARAM_INDEX["crop.maint_leaf_g_g_day"]
P_M_STEM = PARAM_INDEX["crop.maint_stem_g_g_day"]
P_M_FRUIT = PARAM_INDEX["crop.maint_fruit_g_g_day"]
P_EFF = PARAM_INDEX["crop.growth_efficiency"]
P_FIRST_SET = PARAM_INDEX["crop.first_fruit_set_day"]

_CO2_MG_PER_UMOL = CO2_MG_PER_UMOL
_CH2O_PER_CO2 = CH2O_PER_CO2
_FRUIT_SHAPE = 10.0  # steepness of the logistic potential-growth curve over the stage
_VEG_DMC = 0.08  # dry matter content of leaves and stems, for the water they take up
_DAY_S = 86400.0
_POOL_MAX_G_M2 = 30.0  # reserves: assimilates beyond about a day's demand are not stored
_SET_GAIN = 1.5  # fruit set is complete once the source/sink ratio is 2/3 of the way to 1
_ABORT_SHARE_PER_DAY = 0.5  # young fruits lost per day at a source/sink ratio of zero
_STRESS_CLASS_B = 0.5  # extra class-B share at a source/sink ratio of zero
_FRUITLET_FRESH_G = 0.5  # fresh weight of a fruit at set


@njit
def init_crop(p, crop, fr_n, fr_w, fr_s) -> None:
    """Young plants at planting: leaves and stems, no fruits."""
    crop[:] = 0.0
    crop[C_LEAF] = p[P_LEAF0] * p[P_PLANTS]
    crop[C_STEM] = p[P_STEM0] * p[P_PLANTS]
    crop[C_LAI] = crop[C_LEAF] * p[P_SLA]
    crop[C_T24] = 20.0
    crop[C_SUPPLY24] = 1.0
    fr_n[:] = 0.0
    fr_w[:] = 0.0
    fr_s[:] = 0.0


_GAUSS_DEPTH = (0.1127017, 0.5, 0.8872983)
_GAUSS_WEIGHT = (0.2777778, 0.4444444, 0.2777778)


@njit
def gross_assimilation_umol(p, par: float, co2: float, tair: float, lai: float) -> float:
    """Canopy gross CO2 assimilation (umol/m2 floor/s), integrated over three canopy layers.

    Each leaf layer follows a rectangular hyperbola on the PAR it absorbs (Beer's law with
    the extinction coefficient). The light-use efficiency falls with photorespiration at low
    CO2 (compensation point 1.7*T ppm, Goudriaan); the light-saturated leaf rate rises with CO2
    (Michaelis-Menten) and has a temperature optimum between 18 and 28 C.
    """
    if par <= 0.0 or lai <= 0.0:
        return 0.0
    gamma = 1.7 * max(tair, 0.0)
    c = max(co2, gamma)
    efficiency = p[P_QE] * (c - gamma) / (c + 2.0 * gamma)
    t_factor = min(max((tair - 5.0) / 13.0, 0.0), 1.0) * min(max((40.0 - tair) / 12.0, 0.0), 1.0)
    pmax = p[P_PMAX] * t_factor * (c - gamma) / (c - gamma + p[P_KCO2])
    if pmax <= 0.0:
        return 0.0
    k = p[P_K]
    total = 0.0
    for i in range(3):
        absorbed = k * par * math.exp(-k * lai * _GAUSS_DEPTH[i])
        light = efficiency * absorbed
        total += _GAUSS_WEIGHT[i] * light * pmax / (light + pmax)
    return total * lai


@njit
def _development_rate(p, t24: float) -> float:
    """Fruit development stage per second at a 24-h mean temperature."""
    rel = max(t24 - p[P_DEV_BASE], 0.0) / (20.0 - p[P_DEV_BASE])
    return rel / (p[P_DEV_DAYS] * _DAY_S)


@njit
def _potential_dw(p, stage: float, dstage: float) -> float:
    """Potential dry-weight gain (g per fruit) over a stage increment (logistic curve)."""
    lo = 1.0 / (1.0 + math.exp(-_FRUIT_SHAPE * (stage - 0.5)))
    hi = 1.0 / (1.0 + math.exp(-_FRUIT_SHAPE * (stage + dstage - 0.5)))
    return p[P_FRUIT_POT] * (hi - lo)


@njit
def _harvest(p, crop, n: float, fruit_kg: float) -> None:
    """Book `n` picked fruits of `fruit_kg` each: class A but for the shape-defect share, which
    grows as the crop runs short of assimilates (bent fruits). Weight grades no fruit: every
    fruit picked is above the marketable minimum (the reference growers' class A was 97 % of
    their harvest at a mean 0.39 kg: Hemming et al. 2019, Sensors 19(8):1807, 4TU dataset)."""
    stress = max(p[P_ABORT] - crop[C_SUPPLY24], 0.0) / p[P_ABORT]
    share_b = min(p[P_CLASS_B_SHARE] + _STRESS_CLASS_B * stress, 1.0)
    kg = n * fruit_kg
    crop[C_HARV_A_N] += n * (1.0 - share_b)
    crop[C_HARV_A_KG] += kg * (1.0 - share_b)
    crop[C_HARV_B_N] += n * share_b
    crop[C_HARV_B_KG] += kg * share_b


@njit
def crop_step(p, crop, fr_n, fr_w, fr_s, tair: float, assim_ch2o_g: float, dt: float) -> float:
    """Advance the crop by `dt` seconds given the mean air temperature and the assimilates
    (g CH2O/m2) fixed during the step. Returns the water (L/m2) built into new biomass.
    """
    crop[C_AGE] += dt
    crop[C_T24] += (tair - crop[C_T24]) * min(dt / _DAY_S, 1.0)
    crop[C_POOL] += assim_ch2o_g
    crop[C_ASSIM_TOTAL] += assim_ch2o_g
    q10 = 2.0 ** ((tair - 25.0) / 10.0)
    rate = _development_rate(p, crop[C_T24])
    dstage = rate * dt
    temp_rel = rate * p[P_DEV_DAYS] * _DAY_S  # 1 at 20 C

    fruit_dm = 0.0
    fruit_sink = 0.0
    for k in range(N_COHORTS):
        if fr_n[k] > 0.0:
            fruit_dm += fr_n[k] * fr_w[k]
            fruit_sink += fr_n[k] * _potential_dw(p, fr_s[k], dstage)
    stems = p[P_STEMS]
    veg_sink = p[P_VEG_SINK] * stems * temp_rel * dt / _DAY_S

    maintenance = (
        (p[P_M_LEAF] * crop[C_LEAF] + p[P_M_STEM] * crop[C_STEM] + p[P_M_FRUIT] * fruit_dm)
        * q10
        * dt
        / _DAY_S
    )
    crop[C_POOL] -= maintenance
    crop[C_MAINT_TOTAL] += maintenance
    demand_ch2o = (fruit_sink + veg_sink) / p[P_EFF]
    supply = 1.0
    if demand_ch2o > 0.0:
        supply = min(max(crop[C_POOL], 0.0) / demand_ch2o, 1.0)
    used = demand_ch2o * supply
    crop[C_POOL] -= used
    crop[C_POOL] = min(crop[C_POOL], _POOL_MAX_G_M2)
    growth_resp = used * (1.0 - p[P_EFF])
    crop[C_RESP] = (maintenance + growth_resp) / dt / _CH2O_PER_CO2 * 1000.0
    crop[C_SUPPLY24] += (supply - crop[C_SUPPLY24]) * min(dt / _DAY_S, 1.0)

    water = 0.0
    veg_growth = veg_sink * supply
    crop[C_LEAF] += 0.6 * veg_growth
    crop[C_STEM] += 0.4 * veg_growth
    water += veg_growth * (1.0 / _VEG_DMC - 1.0) / 1000.0
    lai = crop[C_LEAF] * p[P_SLA]
    if lai > p[P_MAX_LAI]:
        keep = p[P_MAX_LAI] / p[P_SLA]
        crop[C_PRUNED] += crop[C_LEAF] - keep
        crop[C_LEAF] = keep
        lai = p[P_MAX_LAI]
    crop[C_LAI] = lai

    dmc = p[P_DMC]
    harvest_dm = p[P_HARVEST_KG] * 1000.0 * dmc
    class_b_dm = p[P_CLASS_B_KG] * 1000.0 * dmc
    for k in range(N_COHORTS):
        if fr_n[k] <= 0.0:
            continue
        gain = _potential_dw(p, fr_s[k], dstage) * supply
        fr_w[k] += gain
        crop[C_FRUIT_GROWTH] += fr_n[k] * gain
        fr_s[k] += dstage
        water += fr_n[k] * gain * (1.0 / dmc - 1.0) / 1000.0
        # picked at the target weight, or once fully developed if marketable by weight
        if fr_w[k] >= harvest_dm or (fr_s[k] >= 1.0 and fr_w[k] >= class_b_dm):
            _harvest(p, crop, fr_n[k], fr_w[k] / dmc / 1000.0)
            fr_n[k] = 0.0
        elif fr_s[k] >= 1.0:
            crop[C_ABORTED] += fr_n[k]
            fr_n[k] = 0.0

    # flower nodes and the daily fruit cohort
    crop[C_NODES] += p[P_NODE_RATE] * temp_rel * stems * dt / _DAY_S
    crop[C_SINCE_COHORT] += dt
    if crop[C_SINCE_COHORT] >= _DAY_S:
        crop[C_SINCE_COHORT] -= _DAY_S
        ratio = crop[C_SUPPLY24]
        threshold = p[P_ABORT]
        set_share = (ratio - threshold) / (1.0 - threshold + 1e-9) * _SET_GAIN
        set_share = min(max(set_share, 0.0), 1.0)
        new = 0.0
        if crop[C_AGE] >= p[P_FIRST_SET] * _DAY_S:
            new = crop[C_NODES] * p[P_MAINTAINED] / 100.0 * set_share
        crop[C_ABORTED] += crop[C_NODES] * p[P_MAINTAINED] / 100.0 - new
        crop[C_NODES] = 0.0
        # young fruits abort while assimilates stay short
        if ratio < threshold:
            drop = _ABORT_SHARE_PER_DAY * (threshold - ratio) / threshold
            for k in range(N_COHORTS):
                if fr_n[k] > 0.0 and fr_s[k] < 0.25:
                    crop[C_ABORTED] += fr_n[k] * drop
                    fr_n[k] *= 1.0 - drop
        if new > 0.0:
            k = int(crop[C_NEXT]) % N_COHORTS
            if fr_n[k] > 0.0:  # ring full: the oldest cohort leaves the plant now
                crop[C_HARV_B_N] += fr_n[k]
                crop[C_HARV_B_KG] += fr_n[k] * fr_w[k] / dmc / 1000.0
            fr_n[k] = new
            fr_w[k] = _FRUITLET_FRESH_G * dmc
            fr_s[k] = 0.0
            crop[C_NEXT] = (k + 1) % N_COHORTS
    return water
