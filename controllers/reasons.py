"""Why the climate computer holds an actuator where it is, in a grower's words.

The kernel (`climate_computer_step`) keeps what it decides from in its state row: setpoint in
force, measurements, lamp state and timers, the day's light sum. These functions read that row
with the same tests the kernel makes, so the Overview can say why lamps are off while the day
periods allow them.
"""

from __future__ import annotations

import numpy as np

from controllers.climate_computer import CC_STATE, ClimateComputerSettings

_I = {name: i for i, name in enumerate(CC_STATE)}


def lamp_reason(state: np.ndarray, settings: ClimateComputerSettings) -> str:
    """Why the lamps are on or off now, from one greenhouse's state row."""
    st = np.asarray(state, dtype=np.float64).reshape(-1)
    sp = float(st[_I["sp_lamps_pct"]])
    iglob = float(st[_I["meas_iglob_w_m2"]])
    lsum = float(st[_I["light_sum_mol_m2"]])
    age_min = float(st[_I["lamps_age_s"]]) / 60.0
    on = st[_I["lamps_on"]] > 0.5
    light = f"light sum today {lsum:.1f} of {settings.lamps_light_sum_mol_m2:g} mol/m²"
    if on:
        return f"on: lamp setpoint {sp:g} %, sun {iglob:.0f} W/m², {light}"
    if sp <= 0.0:
        return "off: the lamp setpoint is 0 % now"
    if lsum >= settings.lamps_light_sum_mol_m2:
        return f"off: daily light sum reached ({light})"
    if iglob >= settings.lamps_on_w_m2:
        return f"off: sun {iglob:.0f} W/m², lamps switch on below {settings.lamps_on_w_m2:g} W/m²"
    if age_min < settings.lamps_min_off_s / 60.0:
        return f"off: minimum off time ({age_min:.0f} of {settings.lamps_min_off_s / 60:g} min)"
    return "off: switching on at the next tick"
