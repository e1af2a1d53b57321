"""The learned strategy behind the real-time loop: plans from observed weather only, keeps the
previous plan while the next is made in a worker, and falls back to grower rules with reasons."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controllers.day_plan import plan_setpoints
from controllers.grower_rules import GrowerRules
from controllers.learned_realtime import DAY_S, RealtimeLearned, WeatherHistory
from controllers.learned_strategy import LearnedStrategy
from controllers.loop import default_site
from controllers.strategy import make_context
from models.features import PLAN_FEATURES
from models.registry import Registry
from sim.weather import default_weather

SITE = default_site()
KEYS = ("tout_c", "iglob_w_m2", "rhout_pct", "wind_m_s")


@pytest.fixture(scope="module")
def model():
    return Registry(Path("/nonexistent-serra-registry")).load("default")


def _midnight(day: str) -> float:
    """UTC seconds of local midnight starting `day` (the shipped weather's site)."""
    w = default_weather().window(day, 1)
    return float(w.time_s[0])


def _observed(t0: float, t1: float) -> list[tuple[float, dict[str, float]]]:
    """The shipped weather's rows with t0 <= t < t1, as the station saw them."""
    w = default_weather()
    rows = np.flatnonzero((w.time_s >= t0) & (w.time_s < t1))
    return [(float(w.time_s[i]), {k: float(w[k][i]) for k in KEYS}) for i in rows]


def _measured(t: float) -> dict[str, float]:
    """What the loop hands the strategy: the station's weather and the greenhouse's climate."""
    w = default_weather()
    i = int(np.searchsorted(w.time_s, t))
    return {**{k: float(w[k][i]) for k in KEYS}, "tair_c": 19.0, "par_umol_m2_s": 0.0,
            "co2_ppm": 600.0}  # fmt: skip


def _call(rt: RealtimeLearned, t: float) -> np.ndarray:
    ctx = make_context(SITE, np.array([t]), state=_measured(t))
    return rt.setpoints(np.array([t]), ctx)


def _strategy(model, history: WeatherHistory) -> RealtimeLearned:
    return RealtimeLearned(LearnedStrategy(loaded=model), SITE, weather=history)


def test_persistence_is_the_weather_observed_24_h_before_and_needs_all_of_it() -> None:
    day = _midnight("2018-09-10")
    history = WeatherHistory()
    for t, values in _observed(day - DAY_S, day):
        history.add(t, values)
    times = day + np.arange(288) * 300.0
    forecast, why = history.persistence(times)
    assert why == ""
    yesterday = _observed(day - DAY_S, day)
    assert np.allclose(forecast["tout_c"], [v["tout_c"] for _, v in yesterday])
    # today's real weather differs: the forecast is not the future
    today = [v["tout_c"] for _, v in _observed(day, day + DAY_S)]
    assert np.abs(forecast["tout_c"] - today).max() > 1.0
    # half a day observed: no forecast, and the reason says how much there is
    half = WeatherHistory()
    for t, values in _observed(day - DAY_S / 2, day):
        half.add(t, values)
    forecast, why = half.persistence(times)
    assert forecast is None
    assert why.startswith("observed weather covers 11.9 h of the 24 h before the plan")


def test_first_plan_is_in_force_at_once_and_recorded_with_gain_and_reasons(model) -> None:
    day = _midnight("2018-09-10")
    history = WeatherHistory()
    for t, values in _observed(day - DAY_S, day):
        history.add(t, values)
    rt = _strategy(model, history)
    t = day + 600.0
    row = _call(rt, t)
    (event,) = rt.take_events()
    assert event.kind == "strategy_decision" and event.source == "learned"
    assert event.message.startswith("Learned plan for 2018-09-10 (model default): predicted gain")
    assert len(event.data["reasons"]) == 3 and "grower rules" in event.data["reasons"][0]
    assert isinstance(event.data["predicted_gain_eur_m2"], float)
    plan = np.array([event.data["plan"][n] for n in PLAN_FEATURES])
    ctx = make_context(SITE, np.array([t]))
    expected = plan_setpoints(plan, np.array([t]), ctx, GrowerRules())
    assert np.allclose(row, expected, atol=2e-3)  # the plan's values (recorded to 3 decimals)
    grower = GrowerRules().setpoints(np.array([t]), ctx)
    assert np.abs(row - grower).max() > 0.01  # and not the grower rules'


def test_next_plan_is_made_in_a_worker_while_the_previous_plan_stays_in_force(model) -> None:
    day = _midnight("2018-09-10")
    history = WeatherHistory()
    for t, values in _observed(day - DAY_S, day):
        history.add(t, values)
    learned = LearnedStrategy(loaded=model)
    gate = threading.Event()
    real = learned.setpoints

    def held(times_s, context):  # the second plan waits for the test to let it finish
        if learned.decisions:
            assert gate.wait(120)
        return real(times_s, context)

    learned.setpoints = held  # type: ignore[method-assign]
    rt = RealtimeLearned(learned, SITE, weather=history)
    for t in day + 300.0 + np.arange(287) * 300.0:  # a day of readings, every 5 min
        _call(rt, float(t))
    (first,) = rt.take_events()
    plan1 = rt.plan.copy()
    t = day + DAY_S + 600.0
    row = _call(rt, t)  # the next day's plan is being made: yesterday's plan stays
    assert rt.plan is not None and np.array_equal(rt.plan, plan1)
    ctx = make_context(SITE, np.array([t]))
    assert np.array_equal(row, plan_setpoints(plan1, np.array([t]), ctx, GrowerRules()))
    assert rt.take_events() == []
    gate.set()
    assert rt.wait_for_plan(120)
    _call(rt, t + 300.0)
    (second,) = rt.take_events()
    assert second.kind == "strategy_decision" and second.time_s == t + 300.0
    assert second.data["window_start_s"] == day + DAY_S
    assert first.data["window_start_s"] == day


def test_a_model_failing_later_falls_back_to_grower_rules_with_its_reason(model) -> None:
    day = _midnight("2018-09-10")
    history = WeatherHistory()
    for t, values in _observed(day - DAY_S, day):
        history.add(t, values)
    learned = LearnedStrategy(loaded=model)

    class Broken:
        def predict(self, X):
            raise MemoryError("no room for the trees")

    learned.model = type(model)(model.name, Broken(), model.meta)  # type: ignore[arg-type]
    rt = RealtimeLearned(learned, SITE, weather=history)
    t = day + 600.0
    row = _call(rt, t)
    (event,) = rt.take_events()
    assert event.kind == "strategy_fallback"
    assert event.data["reason"] == "planning failed (MemoryError: no room for the trees)"
    ctx = make_context(SITE, np.array([t]))
    assert np.array_equal(row, GrowerRules().setpoints(np.array([t]), ctx))


def test_without_a_day_of_observed_weather_it_plays_grower_rules_and_says_why(model) -> None:
    day = _midnight("2018-09-10")
    rt = _strategy(model, WeatherHistory())
    t = day + 600.0
    row = _call(rt, t)
    (event,) = rt.take_events()
    assert event.kind == "strategy_fallback"
    assert event.message == (
        "Learned strategy fell back to the grower rules for 2018-09-10: observed weather "
        "covers 0.0 h of the 24 h before the plan; the persistence forecast needs all of it"
    )
    ctx = make_context(SITE, np.array([t]))
    assert np.array_equal(row, GrowerRules().setpoints(np.array([t]), ctx))
    _call(rt, t + 300.0)  # one fallback per planned day, not per call
    assert rt.take_events() == []


def test_hourly_planning_plans_the_next_24_h_at_each_whole_hour(model) -> None:
    day = _midnight("2018-09-10")
    history = WeatherHistory()
    for t, values in _observed(day - DAY_S, day + 3 * 3600.0):
        history.add(t, values)
    rt = RealtimeLearned(LearnedStrategy(loaded=model), SITE, plan_every="hour", weather=history)
    t = day + 2 * 3600.0 + 900.0  # 02:15 local
    _call(rt, t)
    (first,) = rt.take_events()
    assert first.data["window_start_s"] == day + 2 * 3600.0
    assert first.message.startswith("Learned plan for the 24 h from 2018-09-10 02:00 ")
    _call(rt, t + 1800.0)  # 02:45: same hour, no new plan
    assert rt.take_events() == [] and rt.wait_for_plan(0)
    _call(rt, t + 2700.0)  # 03:00: the next hour's plan, made in the worker
    assert rt.wait_for_plan(120)
    _call(rt, t + 3000.0)
    (second,) = rt.take_events()
    assert second.data["window_start_s"] == day + 3 * 3600.0


@settings(max_examples=60, deadline=None)
@given(
    step=st.sampled_from([60.0, 300.0, 450.0, 3600.0]),
    start_offset=st.floats(0.0, 86400.0),
    later=st.lists(st.tuples(st.floats(0.0, DAY_S), st.floats(-30.0, 40.0)), max_size=20),
)
def test_observations_from_the_plans_start_on_never_reach_its_forecast(step, start_offset, later):
    """Whatever is observed at or after a plan's first time (the part of the day or hour already
    begun when the plan is made) leaves the forecast as it was."""
    start = 1_536_530_400.0 + start_offset
    times = start + np.arange(288) * 300.0
    seen = start - DAY_S - 3600.0 + np.arange(0.0, DAY_S + 3600.0, step)
    seen = seen[seen < start]

    def history(extra):
        h = WeatherHistory()
        for i, t in enumerate(seen):
            h.add(float(t), {"tout_c": 10.0 + np.sin(i), "iglob_w_m2": 100.0 + i % 7,
                             "rhout_pct": 80.0, "wind_m_s": 3.0})  # fmt: skip
        for dt, tout in sorted(extra):
            h.add(start + dt, {"tout_c": tout, "iglob_w_m2": 900.0, "rhout_pct": 20.0,
                               "wind_m_s": 9.0})  # fmt: skip
        return h.persistence(times)

    before, why = history([])
    after, why_after = history(later)
    assert why == why_after
    if before is None:
        assert after is None
    else:
        for k in before:
            assert np.array_equal(before[k], after[k])
