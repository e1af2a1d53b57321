"""Why the lamps are off, read from the climate computer's own state after real steps."""

from __future__ import annotations

import numpy as np

from controllers.climate_computer import (
    ClimateComputerSettings,
    climate_computer_step,
    new_state,
)
from controllers.reasons import lamp_reason
from controllers.setpoints import SETPOINTS
from drivers.signals import ACTUATORS, MEASUREMENTS


def step(state, lamps_sp: float, iglob: float, par: float, minutes: int = 1):
    """Run the kernel `minutes` one-minute steps at 10:00 with the given light."""
    settings = ClimateComputerSettings()
    sp = np.full((1, len(SETPOINTS)), np.nan)
    sp[0, SETPOINTS.index("lamps_pct")] = lamps_sp
    meas = np.full((1, len(MEASUREMENTS)), np.nan)
    meas[0, MEASUREMENTS.index("iglob_w_m2")] = iglob
    meas[0, MEASUREMENTS.index("par_umol_m2_s")] = par
    out = np.zeros((1, len(ACTUATORS)))
    for _ in range(minutes):
        climate_computer_step(sp, meas, 10.0, 60.0, settings.to_array()[None, :],
                              state, out)  # fmt: skip
    return out[0, ACTUATORS.index("lamps_pct")], lamp_reason(state[0], settings)


def test_each_reason_lamps_are_off_is_the_kernels():
    st = new_state(1)
    assert step(st, 0.0, 10.0, 0.0) == (0.0, "off: the lamp setpoint is 0 % now")
    value, why = step(st, 100.0, 300.0, 0.0)
    assert value == 0.0 and why == "off: sun 300 W/m², lamps switch on below 40 W/m²"
    value, why = step(st, 100.0, 10.0, 0.0)
    assert value == 100.0 and why.startswith("on: lamp setpoint 100 %")
    # 24 h of 300 µmol/m²/s under the lamps reach the 20 mol/m² light sum: they go off
    value, why = step(st, 100.0, 10.0, 300.0, minutes=24 * 60)
    assert value == 0.0
    assert why.startswith("off: daily light sum reached (light sum today")
