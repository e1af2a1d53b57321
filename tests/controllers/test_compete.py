"""The competition engine: lockstep compartments, team kinds, forecast rule, file checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from controllers.compete import CompeteError
from controllers.compete_board import leaderboard
from controllers.compete_file import parse_competition
from controllers.compete_teams import build_lockstep
from controllers.grower_rules import GrowerRules
from controllers.replay_log import load_log
from controllers.season import CLIMATE_COLUMNS, run_season
from controllers.setpoints import SETPOINTS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _doc(teams, days=2, interval=3600, hours=0.0, start="2018-09-01"):
    return {
        "season": {"start": start, "days": days},
        "decisions": {"interval_s": interval},
        "forecast": {"hours": hours},
        "teams": teams,
    }


def _play(doc, seed=None):
    lockstep = build_lockstep(parse_competition(doc, "t.toml", EXAMPLES), seed)
    while not lockstep.finished:
        lockstep.step()
    return lockstep


def test_hourly_decisions_give_the_season_runners_grower_season():
    """Stepping per hour changes nothing for a strategy that depends on time only: the grower
    team's climate and money equal one `run_season` call and one decision per day."""
    hourly = _play(_doc([{"name": "g", "kind": "grower"}], interval=3600))
    daily = _play(_doc([{"name": "g", "kind": "grower"}], interval=86400))
    assert hourly.n_decisions == 48 and daily.n_decisions == 2
    h, d = hourly.results()[0], daily.results()[0]
    ref = run_season(hourly.weather, GrowerRules(), hourly.config, prices=hourly.prices)[0]
    np.testing.assert_array_equal(h.climate, d.climate)
    np.testing.assert_array_equal(h.climate, ref.climate)
    assert h.summary["net_profit_eur_m2"] == ref.summary["net_profit_eur_m2"]
    assert h.summary["heat_kwh_m2"] == ref.summary["heat_kwh_m2"] > 0


def test_compartment_team_holds_its_logged_setpoints():
    lockstep = _play(_doc([{"name": "ref", "kind": "schedule", "compartment": "reference"}]))
    log = load_log("reference")
    logged = log.setpoints()["heat_c"]
    t = lockstep.times
    idx = np.searchsorted(log.time_s, t, side="right") - 1
    held = lockstep.setpoints[0, :, SETPOINTS.index("heat_c")]
    ok = ~np.isnan(logged[idx])
    assert ok.mean() > 0.95
    np.testing.assert_allclose(held[ok], logged[idx][ok])
    lamps = lockstep.setpoints[0, :, SETPOINTS.index("lamps_pct")]
    np.testing.assert_allclose(lamps, np.clip(log.values["lamps_pct"][idx], 0, 100))


def test_plugin_same_seed_same_result_other_seed_differs():
    teams = [{"name": "p", "kind": "plugin", "path": "plugin_strategy.py"}]
    a = _play(_doc(teams, days=1), seed=3).results()[0].climate
    b = _play(_doc(teams, days=1), seed=3).results()[0].climate
    c = _play(_doc(teams, days=1), seed=4).results()[0].climate
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.01


def test_teams_share_the_weather_and_rank_by_net_profit():
    lockstep = _play(
        _doc(
            [
                {"name": "g", "kind": "grower"},
                {"name": "p", "kind": "plugin", "path": "plugin_strategy.py"},
            ]
        )
    )
    results = lockstep.results()
    tout = CLIMATE_COLUMNS.index("tout_c")
    np.testing.assert_array_equal(results[0].climate[:, tout], results[1].climate[:, tout])
    rows = leaderboard(results, ["grower", "plugin"])
    assert [r["rank"] for r in rows] == [1, 2]
    assert rows[0]["net_profit_eur_m2"] >= rows[1]["net_profit_eur_m2"]
    assert rows[0]["heat_kwh_per_kg"] is None or rows[0]["heat_kwh_per_kg"] > 0


class _Spy:
    name = "spy"

    def __init__(self):
        self.seen = []
        self.settings = GrowerRules().settings

    def setpoints(self, times_s, context):
        self.seen.append((times_s.copy(), context.weather["tout_c"].copy(), context.state))
        return GrowerRules().setpoints(times_s, context)


@pytest.mark.parametrize("hours", [0.0, 0.5])
def test_strategies_see_only_the_allowed_forecast(hours):
    lockstep = build_lockstep(
        parse_competition(
            _doc([{"name": "r", "kind": "remote"}], days=1, hours=hours), "t", EXAMPLES
        )
    )
    spy = _Spy()
    lockstep.strategies[0] = spy
    lockstep.step()
    lockstep.step()
    _times, tout, state = spy.seen[1]
    actual = lockstep.weather["tout_c"][12:24]
    allowed = round(hours * 12)
    np.testing.assert_array_equal(tout[:allowed], actual[:allowed])
    assert np.all(tout[allowed:] == lockstep.weather["tout_c"][11])  # persistence, not future
    assert state is not None and state["tair_c"] == lockstep.climate[0, 11, 0]
    assert spy.seen[0][2] is None  # nothing measured before the first decision


def test_remote_setpoints_are_held_for_the_interval():
    lockstep = build_lockstep(
        parse_competition(_doc([{"name": "r", "kind": "remote"}]), "t", EXAMPLES)
    )
    row = GrowerRules().setpoints(lockstep.times[:1], lockstep._planning_context(0, 1, 0))[0]
    row[SETPOINTS.index("heat_c")] = 25.0
    lockstep.step({0: row})
    assert lockstep.index == 12
    np.testing.assert_array_equal(lockstep.setpoints[0, :12], np.tile(row, (12, 1)))
    assert np.isnan(lockstep.setpoints[0, 12:]).all()


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"seazon": {}}, "seazon"),
        ({"season": {"days": -1}}, "season.days"),
        ({"season": {"start": "1 Sept"}}, "season.start"),
        ({"season": {"weather": "nowhere.csv"}}, "season.weather"),
        ({"decisions": {"interval_s": 7000}}, "decisions.interval_s"),
        ({"forecast": {"hours": "a lot"}}, "forecast.hours"),
        ({"teams": []}, "teams"),
        ({"teams": [{"name": "a b", "kind": "grower"}]}, "teams[0].name"),
        ({"teams": [{"name": "a", "kind": "robot"}]}, "teams[0].kind"),
        ({"teams": [{"name": "a", "kind": "plugin"}]}, "teams[0].path"),
        ({"teams": [{"name": "a", "kind": "grower", "path": "x"}]}, "teams[0].path"),
        (
            {"teams": [{"name": "a", "kind": "schedule", "compartment": "x"}]},
            "teams[0].compartment",
        ),
        (
            {"teams": [{"name": "a", "kind": "remote", "token_sha256": "x"}]},
            "teams[0].token_sha256",
        ),
        ({"teams": [{"name": "a", "kind": "grower"}] * 2}, "teams[1].name"),
    ],
)
def test_invalid_files_are_refused_naming_the_key(change, key):
    doc = {**_doc([{"name": "g", "kind": "grower"}]), **change}
    with pytest.raises(CompeteError) as info:
        parse_competition(doc, "bad.toml", EXAMPLES)
    message = str(info.value)
    assert message.startswith(f"bad.toml: {key}") and "\n" not in message


def test_a_broken_plugin_is_refused_naming_the_file(tmp_path):
    (tmp_path / "bad.py").write_text("raise RuntimeError('oops')\n")
    (tmp_path / "none.py").write_text("x = 1\n")
    for name, why in (("bad.py", "failed on import"), ("none.py", "no make_strategy")):
        doc = _doc([{"name": "p", "kind": "plugin", "path": name}])
        with pytest.raises(CompeteError, match=f"team p: {name} .*{why}"):
            build_lockstep(parse_competition(doc, "t.toml", tmp_path))


def test_a_learned_team_is_refused_with_its_reason_not_run_on_a_context_it_misreads():
    doc = _doc([{"name": "l", "kind": "learned"}])
    with pytest.raises(CompeteError, match="team l: the learned strategy plans whole days") as err:
        build_lockstep(parse_competition(doc, "t.toml", EXAMPLES))
    assert "\n" not in str(err.value)
