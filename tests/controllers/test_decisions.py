"""Strategy decisions: a morning of grower rules is a handful of events in a grower's words."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from controllers.decisions import DecisionLog, changed_setpoints
from controllers.grower_rules import GrowerRules
from controllers.setpoints import SETPOINTS
from controllers.strategy import make_context
from sim.config import load_config


def run_morning(every_s: float) -> list:
    """Grower rules asked every `every_s` from local midnight to noon of 1 Nov 2018."""
    site = load_config()
    rules = GrowerRules()
    start = datetime(2018, 11, 1, 0, 0, tzinfo=ZoneInfo(site.timezone)).timestamp()
    times = np.arange(start, start + 12 * 3600.0 + 1, every_s)
    plan = rules.setpoints(times, make_context(site, times))
    log = DecisionLog()
    in_force = np.full(len(SETPOINTS), np.nan)
    decisions = []
    for t, row in zip(times, plan, strict=True):
        changed = changed_setpoints(in_force, row)
        in_force = row.copy()
        decisions += [(t, d) for d in log.update(float(t), changed)]
    return decisions


def ramp_minutes(message: str) -> int:
    """The N of "(ramped over N min)" at the end of a message."""
    found = re.search(r"\(ramped over (\d+) min\)$", message)
    assert found, message
    return int(found.group(1))


def test_a_morning_of_ramps_is_a_handful_of_decisions_in_words():
    for every_s in (60.0, 300.0):
        decisions = run_morning(every_s)
        messages = [d.message for _t, d in decisions]
        # the first plan, lamps on at 02:00, the pre-dawn ramp and the day ramp
        assert len(decisions) == 4, messages
        assert messages[0].startswith("First plan: Heating temperature 18.5 °C")
        assert messages[1] == "Lamps 0 -> 100 %"
        pre_dawn = messages[2]
        assert pre_dawn.startswith("Heating temperature 18.5 -> 19.5 °C")
        assert "Minimum pipe temperature 35 -> 40 °C" in pre_dawn
        assert 90 <= ramp_minutes(pre_dawn) <= 90 + every_s / 60.0 + 1
        assert "Heating temperature 19.5 -> 20.5 °C" in messages[3]
        assert 120 <= ramp_minutes(messages[3]) <= 120 + every_s / 60.0 + 1
        assert not any("heat_c" in m for m in messages)
        # the data keeps canonical names with old and new values of the whole ramp
        assert decisions[2][1].changed["heat_c"] == [18.5, 19.5]


def test_a_setpoint_that_never_settles_is_recorded_every_three_hours():
    log = DecisionLog()
    out = []
    for k in range(1, 8 * 60):
        out += log.update(60.0 * k, {"co2_ppm": [800.0 + k - 1, 800.0 + k]})
    assert len(out) == 2
    assert out[0].changed["co2_ppm"] == [800.0, 981.0]
    assert out[0].message.endswith("(ramped over 180 min, still changing)")
