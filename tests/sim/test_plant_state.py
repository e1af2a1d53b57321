"""A simulated greenhouse saved and resumed steps exactly like one that never stopped."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.plant import Plant, PlantStateError, state_layout
from sim.weather import default_weather


def _all_state(p: Plant) -> dict:
    s = p.save_state()
    return {k: v for k, v in s.items() if k != "layout"}


@pytest.fixture(scope="module")
def season_plant():
    """A plant 25 days into its season with lamps, vents and CO2 dosing in use."""
    plant = Plant()
    plant.apply({"lamps_pct": 100.0, "co2_valve_pct": 60.0, "vent_lee_pct": 20.0})
    plant.advance(25 * 86400.0 + 17 * 60.0)
    return plant


def test_resumed_plant_continues_bit_for_bit(season_plant):
    saved = json.loads(json.dumps(season_plant.save_state()))  # as stored: JSON text
    resumed = Plant.from_state(saved)
    assert resumed.time_s == season_plant.time_s
    # both go on 2 days with a change of actuators half way
    for p in (season_plant, resumed):
        p.advance(86400.0 + 7.0)
        p.apply({"lamps_pct": 0.0, "pipe_sp_c": 55.0})
        p.advance(86400.0)
    a, b = _all_state(season_plant), _all_state(resumed)
    assert a == b  # every float equal, not just close
    assert a["crop"] != Plant().save_state()["crop"]  # the crop did grow (not a fresh plant)
    assert season_plant.measurements() == resumed.measurements()
    # the fruit cohorts are carried over: fruits set before the save are still on the plant
    assert np.count_nonzero(np.asarray(a["fruit_n"])) > 0


def test_resumed_window_plant_keeps_its_weather_and_wrap():
    start = default_weather().time_s[0] + 50 * 86400.0
    from datetime import UTC, datetime

    plant = Plant(start=datetime.fromtimestamp(start, UTC))
    plant.advance(3600.0)
    resumed = Plant.from_state(plant.save_state())
    # past the weather's end both wrap to the same place (the window's start, not the file's)
    for p in (plant, resumed):
        p.advance(70 * 86400.0)
    assert _all_state(plant) == _all_state(resumed)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s["layout"].update(version=0), "layout version 0"),
        (lambda s: s["layout"].update(cohorts=32), "other states"),
        (lambda s: s.__setitem__("fruit_n", [1.0, 2.0]), "damaged"),
        (lambda s: s.__setitem__("time_s", "noon"), "damaged"),
        (lambda s: s["weather"].update(rows=12), "other weather"),
        (lambda s: s.pop("climate"), "damaged"),
    ],
)
def test_an_incompatible_state_is_refused_in_one_line(change, words):
    state = json.loads(json.dumps(Plant().save_state()))
    change(state)
    with pytest.raises(PlantStateError) as err:
        Plant.from_state(state)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_layout_names_every_saved_array():
    layout = state_layout()
    state = Plant().save_state()
    assert len(state["climate"]) == len(layout["states"])
    assert len(state["crop"]) == len(layout["crop_states"])
    assert len(state["fruit_n"]) == layout["cohorts"]
    assert len(state["actuators"]) == len(layout["actuators"])
