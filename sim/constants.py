"""Physical constants of the greenhouse model, each with its unit and value source, in one place.

The physics (`sim.physics`), the psychrometrics (`sim.psychro`), the sky model (`sim.sky`) and
the crop (`sim.crop`) take their constants from here, so a value is written once.
"""

from __future__ import annotations

#: 0 C in kelvin
KELVIN = 273.15
#: Stefan-Boltzmann constant, W/m2/K4 (Vanthoor 2011 Table 8.1: 5.670e-8)
SIGMA_W_M2_K4 = 5.670e-8
#: gravitational acceleration, m/s2
GRAVITY_M_S2 = 9.81
#: density of greenhouse air near 20 C, kg/m3 (Vanthoor 2011 Table 8.1: rhoAir0 1.20)
AIR_DENSITY_KG_M3 = 1.2
#: specific heat of air, J/kg/K (Vanthoor 2011 Table 8.1: cpAir 1e3; 1006 at 20 C)
AIR_SPECIFIC_HEAT_J_KG_K = 1006.0
#: rho * cp of air, J/m3/K
AIR_HEAT_CAPACITY_J_M3_K = AIR_DENSITY_KG_M3 * AIR_SPECIFIC_HEAT_J_KG_K
#: latent heat of vaporisation of water near 20 C, J/g (Vanthoor 2011 Table 8.1: 2.45e6 J/kg)
LATENT_HEAT_J_G = 2450.0
#: psychrometric constant at sea level, Pa/K (Stanghellini 1987: gamma = 66.5 Pa/K)
PSYCHROMETRIC_PA_K = 66.5
#: vapour density per vapour pressure and kelvin, g K/(m3 Pa): Mw/R = 18.015/8.314
VAPOUR_G_K_M3_PA = 2.1668
#: mg/m3 of CO2 per ppm at about 20 C (44.01 g/mol / 24.4 L/mol)
CO2_MG_M3_PER_PPM = 1.805
#: mg of CO2 per umol
CO2_MG_PER_UMOL = 0.044
#: g of CH2O per g of CO2 fixed (30/44)
CH2O_PER_CO2 = 30.0 / 44.0
#: heat capacity of water, J/L/K
WATER_HEAT_J_L_K = 4180.0
#: PAR photons per joule of global radiation above the cover (Vanthoor 2011 Table 8.1, etaGlobPar;
#: about half of global radiation is PAR at ~4.6 umol/J, McCree 1972)
PAR_PER_GLOBAL_UMOL_J = 2.3
