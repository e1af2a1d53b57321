"""Solar geometry against published sunrise/sunset times and simple astronomy."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from sim.sun import clear_sky_global_w_m2, solar_elevation_deg, sunrise_sunset_utc

AMS = ZoneInfo("Europe/Amsterdam")


def _noon(day: str, tz: ZoneInfo) -> float:
    return datetime.fromisoformat(day + "T12:00").replace(tzinfo=tz).timestamp()


def _clock(t: float, tz: ZoneInfo) -> float:
    """Local clock time in hours."""
    d = datetime.fromtimestamp(float(t), tz)
    return d.hour + d.minute / 60 + d.second / 3600


def _hm(text: str) -> float:
    h, m = text.split(":")
    return int(h) + int(m) / 60


@pytest.mark.parametrize(
    ("lat", "lon", "zone", "day", "rise", "set_"),
    [
        # Published almanac times (sun's upper limb with refraction, i.e. zenith 90.833 deg).
        (51.5074, -0.1278, "Europe/London", "2018-06-21", "04:43", "21:21"),
        (52.37, 4.90, "Europe/Amsterdam", "2018-12-21", "08:48", "16:29"),
        (52.37, 4.90, "Europe/Amsterdam", "2018-06-21", "05:18", "22:06"),
    ],
)
def test_sunrise_sunset_match_published_times(lat, lon, zone, day, rise, set_):
    tz = ZoneInfo(zone)
    r, s = sunrise_sunset_utc(_noon(day, tz), lat, lon)
    assert _clock(r, tz) == pytest.approx(_hm(rise), abs=2 / 60)
    assert _clock(s, tz) == pytest.approx(_hm(set_), abs=2 / 60)


def test_bleiswijk_season_start_and_end():
    # Brief: about 06:28 / 21:01 CEST and 08:39 / 16:29 CET; those round figures are for the
    # geometric horizon. With refraction and the sun's radius the day is ~6 min longer.
    r, s = sunrise_sunset_utc(_noon("2018-08-14", AMS), 52.03, 4.53)
    assert _hm("06:20") < _clock(r, AMS) < _hm("06:30")
    assert _hm("21:00") < _clock(s, AMS) < _hm("21:10")
    r, s = sunrise_sunset_utc(_noon("2018-12-07", AMS), 52.03, 4.53)
    assert _hm("08:33") < _clock(r, AMS) < _hm("08:41")
    assert _hm("16:27") < _clock(s, AMS) < _hm("16:34")


def test_vectorised_any_second_of_the_local_day_gives_that_day():
    day0 = datetime(2018, 8, 14, tzinfo=AMS).timestamp()
    t = day0 + np.array([0.0, 3600.0, 12 * 3600.0, 23.9 * 3600.0])
    r, s = sunrise_sunset_utc(t, 52.03, 4.53, utc_offset_s=7200.0)
    assert r.shape == (4,)
    assert np.ptp(r) < 1.0 and np.ptp(s) < 1.0
    assert _clock(r[0], AMS) == pytest.approx(6.4, abs=0.1)
    # Without the offset the day is the mean solar day: 00:00 and 01:00 CEST (22:18 and 23:18
    # solar time) still belong to 13 August.
    r2, _ = sunrise_sunset_utc(t, 52.03, 4.53)
    assert r2[:2] == pytest.approx(r[:2] - 86400, abs=180)
    assert r2[2:] == pytest.approx(r[2:], abs=1.0)


def test_polar_day_and_night_are_nan():
    r, s = sunrise_sunset_utc(np.array([_noon("2018-06-21", AMS), _noon("2018-12-21", AMS)]), 80, 0)
    assert np.isnan(r).all() and np.isnan(s).all()


def test_equinox_day_length_at_equator():
    tz = ZoneInfo("UTC")
    r, s = sunrise_sunset_utc(_noon("2018-03-20", tz), 0.0, 0.0)
    # 12 h plus ~7 min for refraction and the sun's radius.
    assert (s - r) / 3600 == pytest.approx(12.11, abs=0.03)


def test_elevation_at_solstice_noon_and_its_time():
    day0 = datetime(2018, 6, 21, tzinfo=AMS).timestamp()
    t = day0 + np.arange(0, 86400, 60.0)
    e = solar_elevation_deg(t, 52.03, 4.53)
    assert e.max() == pytest.approx(90 - 52.03 + 23.44, abs=0.05)
    # Solar noon at 4.53 E in late June: 12:00 UTC - 18 min + 2 min = 13:44 CEST.
    assert _clock(t[e.argmax()], AMS) == pytest.approx(_hm("13:44"), abs=2 / 60)
    assert e.min() == pytest.approx(-(90 - 52.03 - 23.44), abs=0.1)


def test_clear_sky_radiation():
    assert float(clear_sky_global_w_m2(-5.0)) == 0.0
    assert float(clear_sky_global_w_m2(61.4)) == pytest.approx(903, abs=5)
    assert float(clear_sky_global_w_m2(14.5)) == pytest.approx(219, abs=5)
