"""Grower rules: the cucumber autumn program's setpoints, seasons and sweep overrides."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from controllers.climate_computer import ClimateComputerSettings
from controllers.grower_rules import GrowerRules, SeasonStep
from controllers.setpoints import SETPOINTS, SetpointError, validate_setpoints
from controllers.strategy import Strategy, make_context

SITE = SimpleNamespace(latitude_deg=52.03, longitude_deg=4.53, timezone="Europe/Amsterdam")
AMS = ZoneInfo("Europe/Amsterdam")


def at(rules: GrowerRules, *local: str) -> dict[str, np.ndarray]:
    """Setpoints at site-local wall-clock times, as {name: values}."""
    t = np.array([datetime.fromisoformat(s).replace(tzinfo=AMS).timestamp() for s in local])
    out = rules.setpoints(t, make_context(SITE, t))
    return {name: out[:, j] for j, name in enumerate(SETPOINTS)}


def test_is_a_strategy_named_grower():
    rules = GrowerRules()
    assert isinstance(rules, Strategy)
    assert rules.name == GrowerRules.name == "grower"
    assert isinstance(rules.settings, ClimateComputerSettings)


def test_night_and_day_temperatures_with_vents_above_heating():
    sp = at(GrowerRules(), "2018-10-15T01:00", "2018-10-15T13:00")
    assert sp["heat_c"].tolist() == [18.5, 20.5]
    assert (sp["vent_lee_c"] - sp["heat_c"]).tolist() == [1.5, 2.0]
    assert np.all(sp["vent_wind_c"] > sp["vent_lee_c"])
    assert sp["min_pipe_c"].tolist() == [35.0, 35.0]


def test_pre_dawn_minimum_pipe_follows_sunrise():
    # sunrise at Bleiswijk: ~06:45 CEST on 20 Aug, ~08:10 CET on 20 Nov; the 40 C minimum
    # ramps in (from 35 C) over the 90 min before sunrise and holds until 2 h after it
    t = ("2018-08-20T05:00", "2018-08-20T07:00", "2018-11-20T07:00", "2018-11-20T08:30")
    sp = at(GrowerRules(), *t)
    assert sp["min_pipe_c"][[0, 1, 3]].tolist() == [35.0, 40.0, 40.0]
    assert 35.0 < sp["min_pipe_c"][2] < 40.0


def test_lamp_window_and_season():
    rules = GrowerRules()
    oct_ = at(rules, "2018-10-15T01:00", "2018-10-15T03:00", "2018-10-15T17:00", "2018-10-15T19:00")
    assert oct_["lamps_pct"].tolist() == [0.0, 100.0, 100.0, 0.0]
    aug = at(rules, "2018-08-20T03:00", "2018-08-31T23:00", "2018-09-01T03:00")
    assert aug["lamps_pct"].tolist() == [0.0, 0.0, 100.0]  # lamps from September


def test_southern_site_runs_the_program_half_a_year_later():
    sydney = SimpleNamespace(latitude_deg=-33.9, longitude_deg=151.2, timezone="Australia/Sydney")
    tz = ZoneInfo(sydney.timezone)
    local = ("2019-01-15T03:00", "2019-02-28T03:00", "2019-03-01T03:00", "2019-04-15T13:00",
             "2019-07-15T03:00", "2019-09-15T13:00", "2019-12-15T03:00")  # fmt: skip
    t = np.array([datetime.fromisoformat(s).replace(tzinfo=tz).timestamp() for s in local])
    out = GrowerRules().setpoints(t, make_context(sydney, t))
    lamps = out[:, SETPOINTS.index("lamps_pct")]
    co2 = out[:, SETPOINTS.index("co2_ppm")]
    # no lamps in the southern summer (Dec-Feb), lamps from 1 March and through the winter
    assert lamps.tolist() == [0.0, 0.0, 100.0, 100.0, 100.0, 100.0, 0.0]
    assert co2[[3, 5]].tolist() == [1000.0, 900.0]  # CO2 +100 from 1 April to 31 August


def test_co2_daytime_setpoint_rises_in_october():
    sp = at(GrowerRules(), "2018-09-15T13:00", "2018-10-15T13:00")
    assert sp["co2_ppm"].tolist() == [900.0, 1000.0]


def test_a_whole_season_of_setpoints_is_valid():
    t0 = datetime(2018, 8, 14, tzinfo=AMS).timestamp()
    t = t0 + np.arange(0, 115 * 86400, 300.0)
    out = GrowerRules().setpoints(t, make_context(SITE, t))
    assert out.shape == (len(t), len(SETPOINTS))
    validate_setpoints(out, source="grower rules")
    heat = out[:, SETPOINTS.index("heat_c")]
    assert 19.0 < heat.mean() < 20.5
    lamps_h = (out[:, SETPOINTS.index("lamps_pct")] > 0).sum() * 300 / 3600
    assert 98 * 16 * 0.95 < lamps_h < 98 * 16 * 1.05  # 16 h window, 1 Sep .. 7 Dec (98 days)


def test_overrides_shift_the_profile_and_set_settings():
    rules = GrowerRules.from_overrides({"heat_c": 21.5, "co2_ppm": 1000, "pipe_max_c": 80})
    sp = at(rules, "2018-09-15T01:00", "2018-09-15T13:00")
    assert sp["heat_c"].tolist() == [19.5, 21.5]  # day set to 21.5, night shifted by +1
    assert sp["co2_ppm"].tolist()[1] == 1000.0
    assert rules.settings.pipe_max_c == 80.0
    default = GrowerRules.from_overrides({"vent_min_pct": 3.0})  # no period sets it
    assert at(default, "2018-09-15T13:00")["vent_min_pct"].tolist() == [3.0]


def test_overrides_reject_unknown_names_and_out_of_range_values():
    with pytest.raises(SetpointError, match=r"override: unknown name 'heating'; allowed: heat_c"):
        GrowerRules.from_overrides({"heating": 20.0})
    with pytest.raises(SetpointError, match=r"override: heat_c = 40 is outside 5\.\.35 C"):
        GrowerRules.from_overrides({"heat_c": 40.0})
    with pytest.raises(SetpointError, match=r"^--set: climate-computer setting pipe_max_c = 120"):
        GrowerRules.from_overrides({"pipe_max_c": 120.0}, where="--set")
    with pytest.raises(SetpointError, match=r"unknown setpoint 'lamps'"):
        SeasonStep("09-01", scale={"lamps": 0.0})
    with pytest.raises(SetpointError, match=r"'9/1' is not MM-DD"):
        SeasonStep("9/1")


def test_rules_survive_a_json_round_trip_and_give_the_same_setpoints():
    import json

    edited = GrowerRules.from_overrides({"heat_c": 21.0, "co2_ppm": 1000.0, "pipe_max_c": 70.0})
    back = GrowerRules.from_dict(json.loads(json.dumps(edited.as_dict())))
    assert back == edited
    site = SimpleNamespace(latitude_deg=52.0, longitude_deg=4.4, timezone="Europe/Amsterdam")
    times = np.arange(0.0, 2 * 86400.0, 900.0) + datetime(2018, 10, 3).timestamp()
    context = make_context(site, times)
    assert np.array_equal(back.setpoints(times, context), edited.setpoints(times, context))
    assert back.setpoints(times, context)[:, SETPOINTS.index("heat_c")].max() == 21.0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: d.pop("periods"), "not grower rules"),
        (lambda d: d["defaults"].pop("heat_c"), "defaults lack heat_c"),
        (lambda d: d["defaults"].update(heat_c=99.0), "heat_c = 99"),
        (lambda d: d["periods"][0].update(start_ref="noon"), "start_ref 'noon'"),
        (lambda d: d["settings"].update(nonsense=1.0), "unknown climate-computer setting"),
    ],
)
def test_damaged_saved_rules_are_refused_in_one_line(change, words):
    d = GrowerRules().as_dict()
    change(d)
    with pytest.raises(SetpointError) as err:
        GrowerRules.from_dict(d)
    message = str(err.value)
    assert message.startswith("saved rules: ") and words in message and "\n" not in message
    assert not message.startswith("saved rules: saved rules")
