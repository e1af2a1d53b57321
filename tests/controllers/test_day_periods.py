"""Day periods: clock and sun-relative starts, ramps, wrap-around, sun times, local hours."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import numpy as np
import pytest

from controllers.day_periods import DayPeriod, setpoints_from_periods
from controllers.setpoints import SETPOINTS, SetpointError
from controllers.strategy import local_hours, make_context

BLEISWIJK = SimpleNamespace(latitude_deg=52.03, longitude_deg=4.53, timezone="Europe/Amsterdam")
DEFAULTS = {name: 0.0 for name in SETPOINTS} | {"heat_c": 15.0}
H = SETPOINTS.index("heat_c")


def _utc(s: str) -> float:
    return datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp()


def _day(date: str, step_min: float = 1.0):
    t0 = _utc(date + "T00:00:00")
    times = t0 + np.arange(0, 24 * 60, step_min) * 60.0
    return times, make_context(BLEISWIJK, times)


def test_clock_periods_hold_and_wrap_around_midnight():
    periods = [
        DayPeriod("clock", 6 * 60, 0, {"heat_c": 20.0}),
        DayPeriod("clock", 20 * 60, 0, {"heat_c": 18.0}),
    ]
    times = np.arange(24.0) * 3600.0
    hours = np.arange(24.0)
    out = setpoints_from_periods(periods, times, hours, times, times, DEFAULTS)
    assert out[:6, H].tolist() == [18.0] * 6  # before 06:00: yesterday's 20:00 period
    assert out[6:20, H].tolist() == [20.0] * 14
    assert out[20:, H].tolist() == [18.0] * 4
    assert np.all(out[:, SETPOINTS.index("co2_ppm")] == 0.0)  # no period sets it: default


def test_ramp_moves_linearly_from_previous_period_value():
    periods = [
        DayPeriod("clock", 6 * 60, 60, {"heat_c": 20.0}),
        DayPeriod("clock", 20 * 60, 0, {"heat_c": 18.0}),
    ]
    hours = np.array([5.99, 6.0, 6.25, 6.5, 7.0, 9.0])
    out = setpoints_from_periods(periods, hours * 3600, hours, hours, hours, DEFAULTS)
    assert out[:, H] == pytest.approx([18.0, 18.0, 18.5, 19.0, 20.0, 20.0])


def test_names_a_period_does_not_set_keep_the_last_period_that_does():
    periods = [
        DayPeriod("clock", 6 * 60, 0, {"heat_c": 20.0, "co2_ppm": 900.0}),
        DayPeriod("clock", 12 * 60, 0, {"co2_ppm": 700.0}),
        DayPeriod("clock", 20 * 60, 0, {"heat_c": 18.0}),
    ]
    hours = np.array([3.0, 8.0, 13.0, 21.0])
    out = setpoints_from_periods(periods, hours * 3600, hours, hours, hours, DEFAULTS)
    assert out[:, H].tolist() == [18.0, 20.0, 20.0, 18.0]
    assert out[:, SETPOINTS.index("co2_ppm")].tolist() == [700.0, 900.0, 700.0, 700.0]


def test_sun_times_at_bleiswijk_match_almanac_within_five_minutes():
    for date, rise, sett in [
        ("2018-06-21", "2018-06-21T03:19", "2018-06-21T20:05"),
        ("2018-12-21", "2018-12-21T07:48", "2018-12-21T15:31"),
    ]:
        _times, ctx = _day(date, step_min=60)
        assert abs(ctx.sunrise_s[12] - _utc(rise)) < 300
        assert abs(ctx.sunset_s[12] - _utc(sett)) < 300


def test_sunrise_relative_start_moves_with_the_date():
    periods = [
        DayPeriod("sunrise", 30, 0, {"heat_c": 20.0}),
        DayPeriod("sunset", 0, 0, {"heat_c": 18.0}),
    ]

    def switch_utc(date: str) -> float:
        times, ctx = _day(date)
        out = setpoints_from_periods(
            periods, times, ctx.local_hour, ctx.sunrise_s, ctx.sunset_s, DEFAULTS
        )
        first_day = int(np.argmax(out[:, H] == 20.0))
        return times[first_day] - ctx.sunrise_s[first_day]

    for date in ("2018-08-14", "2018-12-07"):
        assert switch_utc(date) == pytest.approx(30 * 60, abs=61)
    _, aug = _day("2018-08-14")
    _, dec = _day("2018-12-07")
    # in local clock hours the start moves by over two hours between August and December
    assert (dec.sunrise_s[0] - _utc("2018-12-07T00:00")) / 3600 - (
        aug.sunrise_s[0] - _utc("2018-08-14T00:00")
    ) / 3600 > 2.5


def test_local_hours_follow_daylight_saving():
    t = np.array([_utc("2018-10-27T12:00"), _utc("2018-10-28T12:00")])
    assert local_hours(t, "Europe/Amsterdam").tolist() == [14.0, 13.0]
    ctx = make_context(BLEISWIJK, t)
    assert ctx.sunrise_s[1] - ctx.sunrise_s[0] == pytest.approx(86400 + 120, abs=60)


def test_bad_periods_are_rejected():
    with pytest.raises(SetpointError, match="start_ref 'noon' is not one of"):
        DayPeriod("noon", 0, 0, {})
    with pytest.raises(SetpointError, match=r"heat_c = 50 is outside 5\.\.35 C"):
        DayPeriod("clock", 0, 0, {"heat_c": 50.0})
    with pytest.raises(SetpointError, match="unknown setpoint 'heat'"):
        DayPeriod("clock", 0, 0, {"heat": 20.0})
    with pytest.raises(SetpointError, match="missing"):
        setpoints_from_periods([], np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1), {})
