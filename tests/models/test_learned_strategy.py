"""The learned strategy plans from the past only, and falls back to grower rules with reasons."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from controllers.forecast import PersistenceForecast
from controllers.learned_strategy import LearnedStrategy
from controllers.season import run_season
from controllers.strategy import StrategyContext
from models.registry import Registry
from sim.weather import Weather, default_weather


class Spy(LearnedStrategy):
    """Keeps every context the runner hands it."""

    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        self.seen = [*getattr(self, "seen", []), (times_s.copy(), context)]
        return super().setpoints(times_s, context)


def _weather(days: float, warm_after_day: int | None = None) -> Weather:
    w = default_weather().window("2018-09-10", days)
    if warm_after_day is None:
        return w
    values = {k: np.array(v) for k, v in w.values.items()}
    later = w.time_s >= w.time_s[0] + warm_after_day * 86400.0
    values["tout_c"][later] += 8.0
    values["iglob_w_m2"][later] *= 0.3
    return Weather(w.site, w.time_s, w.step_s, values, w.source)


def test_context_holds_yesterdays_weather_never_the_days() -> None:
    w = _weather(4)
    spy = Spy(forecaster=PersistenceForecast())
    run_season(w, spy, record=False)
    per_day = round(86400 / w.step_s)
    for day, (times, ctx) in enumerate(spy.seen):
        assert times[0] == w.time_s[day * per_day]
        if day == 0:
            assert ctx.weather == {}  # nothing seen yet
            continue
        yesterday = w["tout_c"][(day - 1) * per_day : day * per_day]
        assert np.array_equal(ctx.weather["tout_c"], yesterday)
        today = w["tout_c"][day * per_day : (day + 1) * per_day]
        assert not np.array_equal(ctx.weather["tout_c"], today)


def test_future_weather_does_not_change_todays_plan() -> None:
    plans = []
    for warm in (None, 3):
        s = LearnedStrategy(forecaster=PersistenceForecast())
        run_season(_weather(5, warm), s, record=False)
        plans.append([d["plan"] for d in s.decisions])
    # days 1..3 are planned from days 0..2, identical in both weathers; day 4 sees the change
    assert plans[0][:3] == plans[1][:3]
    assert len(plans[0]) == 4 and plans[0][3] != plans[1][3]


def test_missing_model_falls_back_to_grower_rules_with_reason(tmp_path: Path) -> None:
    s = LearnedStrategy(model_name="ghost", registry=Registry(tmp_path))
    run_season(_weather(3), s, record=False)
    assert s.decisions == []
    assert len(s.events) == 3
    assert all(e["kind"] == "fallback" for e in s.events)
    assert "no model: no model 'ghost'" in s.events[1]["reason"]
    assert s.summary()["fallback_reasons"] == {"no model": 3}


def test_inputs_outside_training_range_fall_back() -> None:
    s = LearnedStrategy()
    w = _weather(2)
    ctx_weather = {k: np.asarray(v[:288]) for k, v in w.values.items()}
    ctx_weather["tout_c"] = ctx_weather["tout_c"] - 40.0  # a frost no training day had
    from controllers.strategy import make_context

    times = w.time_s[288:576]
    ctx = make_context(w.site, times, ctx_weather)
    ctx.state = {"lai": 2.0, "t24_c": 20.0, "fruits_on_plant_m2": 5.0,
                 "fruit_dm_on_plant_g_m2": 30.0, "leaf_dm_g_m2": 80.0, "stem_dm_g_m2": 50.0,
                 "day_index": 20.0}  # fmt: skip
    sp = s.setpoints(times, ctx)
    assert sp.shape == (288, 11)
    assert s.events[-1]["reason"].startswith("outside training range: tout_mean_c")


def test_plan_keeps_the_daily_change_guardrail() -> None:
    s = LearnedStrategy()
    run_season(_weather(6), s, record=False)
    plans = [d["plan"] for d in s.decisions]
    assert len(plans) == 5
    start = {"plan_heat_day_c": 20.5, "plan_co2_day_ppm": 900.0, "plan_lamp_hours_h": 16.0}
    prev = start
    for plan in plans:
        for name, limit in (("plan_heat_day_c", 1.5), ("plan_co2_day_ppm", 200.0),
                            ("plan_lamp_hours_h", 4.0)):  # fmt: skip
            assert abs(plan[name] - prev[name]) <= limit + 1e-9
        prev = plan
    assert all(len(d["reasons"]) == 3 for d in s.decisions)


def test_plan_stays_in_the_trust_region_around_grower_rules() -> None:
    s = LearnedStrategy()
    run_season(_weather(6), s, record=False)
    assert len(s.decisions) == 5
    for d in s.decisions:
        plan = d["plan"]
        assert abs(plan["plan_heat_day_c"] - 20.5) <= 1.0 + 1e-9
        assert abs(plan["plan_heat_night_c"] - 18.5) <= 1.0 + 1e-9
        assert abs(plan["plan_co2_day_ppm"] - 900.0) <= 300.0 + 1e-9
        assert plan["plan_lamp_hours_h"] == 16.0  # grower rules light from 1 September


def test_no_lamp_hours_on_days_grower_rules_burn_none() -> None:
    s = LearnedStrategy()
    august = default_weather().window("2018-08-20", 4)
    run_season(august, s, record=False)
    assert len(s.decisions) == 3
    assert all(d["plan"]["plan_lamp_hours_h"] == 0.0 for d in s.decisions)
