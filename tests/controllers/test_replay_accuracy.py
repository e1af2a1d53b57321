"""How closely the shipped model follows logged AGC 2018 compartments (issue 10).

The fast checks replay the shipped 7-day Reference fixture (1-7 Sep 2018) and run in CI; the
bounds are today's figures plus a margin, so a change that makes the model follow the log worse
fails. The full-season checks (three compartments, both modes) run with SERRA_SLOW=1; their
bounds are the figures reached so far, not yet issue 10's targets (open loop: air temperature
RMSE <= 1.0 C, RH <= 6 %, CO2 <= 80 ppm; closed loop: yield within 5 %).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from controllers.replay import replay
from controllers.replay_log import load_log
from sim.weather import default_weather

FIXTURE = Path(__file__).parent / "data" / "agc2018_reference_7d"

# mode: (air temp RMSE C, |air temp bias| C, RH RMSE %, CO2 RMSE ppm); measured 7 Sep figures:
# open loop 1.77 / +0.47 / 12.3 / 192 (218 before the logged daily CO2 dose was forced),
# closed loop 1.56 / +0.76 / 13.1 / 204
WEEK_BOUNDS = {
    "actuators": (2.0, 0.8, 14.0, 215.0),
    "setpoints": (1.8, 1.0, 15.0, 230.0),
}


@pytest.fixture(scope="module")
def weather():
    return default_weather()


@pytest.mark.parametrize("mode", sorted(WEEK_BOUNDS))
def test_week_replay_follows_the_logged_compartment(weather, mode):
    report, _ = replay(load_log(str(FIXTURE)), weather, mode=mode)
    s = report.signals
    t_rmse, t_bias, rh_rmse, co2_rmse = WEEK_BOUNDS[mode]
    assert report.days == pytest.approx(7.0, abs=0.01)
    assert s["tair_c"].rmse <= t_rmse
    assert abs(s["tair_c"].bias) <= t_bias
    assert s["rh_pct"].rmse <= rh_rmse
    assert s["co2_ppm"].rmse <= co2_rmse


# (mode, compartment): (air temp RMSE, |monthly air temp bias| max, RH RMSE, CO2 RMSE,
# |season yield error| share); figures reached: see docs/physics.md
SEASON_BOUNDS = {
    ("actuators", "reference"): (1.7, 1.2, 8.0, 280.0, 0.25),
    ("actuators", "igrow"): (1.9, 2.8, 7.5, 230.0, 0.2),
    ("actuators", "croperators"): (2.0, 1.7, 9.0, 175.0, 0.10),
    ("setpoints", "reference"): (1.15, 0.6, 8.5, 270.0, 0.30),
    ("setpoints", "igrow"): (1.5, 1.3, 9.5, 230.0, 0.25),
    ("setpoints", "croperators"): (1.45, 1.2, 10.5, 190.0, 0.10),
}


@pytest.mark.skipif(not os.environ.get("SERRA_SLOW"), reason="full seasons: set SERRA_SLOW=1")
@pytest.mark.parametrize(("mode", "name"), sorted(SEASON_BOUNDS))
def test_season_replay_follows_the_logged_compartment(weather, mode, name):
    report, _ = replay(load_log(name), weather, mode=mode)
    s = report.signals
    t_rmse, month_bias, rh_rmse, co2_rmse, yield_err = SEASON_BOUNDS[(mode, name)]
    assert s["tair_c"].rmse <= t_rmse
    assert max(abs(b) for b in s["tair_c"].bias_by_month.values()) <= month_bias
    assert s["rh_pct"].rmse <= rh_rmse
    assert s["co2_ppm"].rmse <= co2_rmse
    h = report.harvest
    assert abs(h["simulated_kg_m2"] - h["measured_kg_m2"]) <= yield_err * h["measured_kg_m2"]
