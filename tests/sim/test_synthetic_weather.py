"""Synthetic weather: deterministic, physically plausible for latitude and season."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from sim.sun import solar_elevation_deg
from sim.synthetic_weather import seasonal_mean_temp_c, synthetic_weather
from sim.weather import BLEISWIJK, CANONICAL, Site, WeatherError

EQUATOR = Site("Equator", 0.0, 0.0, "UTC")


def test_same_seed_same_weather_other_seed_other_weather():
    a = synthetic_weather(BLEISWIJK, "2018-09-01", 3, seed=7)
    b = synthetic_weather(BLEISWIJK, "2018-09-01", 3, seed=7)
    c = synthetic_weather(BLEISWIJK, "2018-09-01", 3, seed=8)
    for name in CANONICAL:
        np.testing.assert_array_equal(a[name], b[name])
    assert not np.allclose(a["tout_c"], c["tout_c"])
    assert not np.allclose(a["iglob_w_m2"], c["iglob_w_m2"])


def test_grid_starts_at_local_midnight_and_has_all_signals():
    w = synthetic_weather(BLEISWIJK, "2018-09-01", 2, step_s=600)
    assert len(w) == 288 and w.step_s == 600.0
    assert datetime.fromtimestamp(w.time_s[0], BLEISWIJK.tz).isoformat() == (
        "2018-09-01T00:00:00+02:00"
    )
    for name in CANONICAL:
        assert np.isfinite(w[name]).all(), name
    assert w.source.startswith("synthetic Bleiswijk from 2018-09-01")
    assert w.window("2018-09-02", 1).local_hour()[0] == 0.0


def test_radiation_is_zero_at_night_and_follows_the_sun():
    w = synthetic_weather(BLEISWIJK, "2018-09-01", 5, seed=3)
    elev = solar_elevation_deg(w.time_s, BLEISWIJK.latitude_deg, BLEISWIJK.longitude_deg)
    assert (w["iglob_w_m2"][elev <= 0] == 0).all()
    assert (w["iglob_w_m2"][elev > 20] > 50).all()  # even full cloud leaves a quarter of the light


@pytest.mark.parametrize(
    ("start", "lo", "hi"),
    [("2018-06-21", 850, 920), ("2018-12-21", 200, 240), ("2018-03-21", 590, 650)],
)
def test_clear_sky_noon_radiation_for_season_at_52n(start, lo, hi):
    w = synthetic_weather(BLEISWIJK, start, 1, cloudiness=0.0)
    assert lo < w["iglob_w_m2"].max() < hi


def test_clouds_cut_radiation():
    clear = synthetic_weather(BLEISWIJK, "2018-07-01", 10, cloudiness=0.0)
    half = synthetic_weather(BLEISWIJK, "2018-07-01", 10, cloudiness=0.5, seed=1)
    overcast = synthetic_weather(BLEISWIJK, "2018-07-01", 10, cloudiness=1.0)
    np.testing.assert_allclose(overcast["iglob_w_m2"], 0.25 * clear["iglob_w_m2"])
    ratio = half["iglob_w_m2"].sum() / clear["iglob_w_m2"].sum()
    assert 0.6 < ratio < 0.95
    assert (half["iglob_w_m2"] <= clear["iglob_w_m2"] + 1e-9).all()


def test_day_length_equator_against_52n_in_june():
    def daylight_hours(site):
        w = synthetic_weather(site, "2018-06-21", 1, step_s=60, cloudiness=0.0)
        return np.count_nonzero(w["iglob_w_m2"] > 0) / 60

    assert daylight_hours(EQUATOR) == pytest.approx(12.0, abs=0.15)
    assert daylight_hours(BLEISWIJK) == pytest.approx(16.5, abs=0.3)


def test_temperature_by_latitude_season_and_hour():
    july = synthetic_weather(BLEISWIJK, "2018-07-01", 31, seed=2)
    january = synthetic_weather(BLEISWIJK, "2018-01-01", 31, seed=2)
    tropics = synthetic_weather(EQUATOR, "2018-01-01", 31, seed=2)
    assert 15 < july["tout_c"].mean() < 21
    assert 0 < january["tout_c"].mean() < 6
    assert 25 < tropics["tout_c"].mean() < 29
    # Warmest in the afternoon, coldest near dawn.
    hour = july.local_hour()
    profile = np.array([july["tout_c"][np.floor(hour) == h].mean() for h in range(24)])
    assert 14 <= profile.argmax() <= 17
    assert 3 <= profile.argmin() <= 7
    fixed = synthetic_weather(BLEISWIJK, "2018-01-01", 31, seed=2, mean_temp_c=20.0)
    assert fixed["tout_c"].mean() == pytest.approx(20.0, abs=1.5)


def test_seasonal_climatology():
    assert float(seasonal_mean_temp_c(52.0, 200)) == pytest.approx(18.3, abs=0.1)
    assert float(seasonal_mean_temp_c(52.0, 17)) == pytest.approx(2.7, abs=0.1)
    assert float(seasonal_mean_temp_c(-52.0, 17)) == pytest.approx(18.3, abs=0.1)
    assert float(seasonal_mean_temp_c(0.0, 100)) == pytest.approx(27.0)


def test_humidity_falls_as_air_warms_and_signals_stay_in_range():
    w = synthetic_weather(BLEISWIJK, "2018-05-01", 30, seed=5)
    assert np.corrcoef(w["tout_c"], w["rhout_pct"])[0, 1] < -0.3
    assert w["rhout_pct"].min() >= 15 and w["rhout_pct"].max() <= 100
    assert w["wind_m_s"].min() > 0 and 2.5 < w["wind_m_s"].mean() < 5
    assert set(np.unique(w["rain"])) <= {0.0, 1.0}
    assert 0.0 < w["rain"].mean() < 0.15
    assert (w["tsky_c"] < w["tout_c"]).all()
    assert (w["co2out_ppm"] == 410).all()
    assert (w["wind_dir_deg"] >= 0).all() and (w["wind_dir_deg"] < 360).all()


def test_bad_arguments():
    with pytest.raises(WeatherError, match="days must be a positive number"):
        synthetic_weather(BLEISWIJK, "2018-05-01", 0)
    with pytest.raises(WeatherError, match=r"cloudiness must be in 0\.\.1"):
        synthetic_weather(BLEISWIJK, "2018-05-01", 1, cloudiness=1.5)
    with pytest.raises(WeatherError, match="is not a date"):
        synthetic_weather(BLEISWIJK, "May 1st", 1)


SYDNEY = Site("Sydney", -33.87, 151.21, "Australia/Sydney")
LONGYEARBYEN = Site("Longyearbyen", 78.22, 15.65, "Arctic/Longyearbyen")


def test_southern_site_has_its_summer_in_january():
    def daylight_hours(start):
        w = synthetic_weather(SYDNEY, start, 1, step_s=60, cloudiness=0.0)
        return np.count_nonzero(w["iglob_w_m2"] > 0) / 60

    assert daylight_hours("2018-12-21") == pytest.approx(14.4, abs=0.3)
    assert daylight_hours("2018-06-21") == pytest.approx(9.9, abs=0.3)
    january = synthetic_weather(SYDNEY, "2018-01-01", 31, seed=4)
    july = synthetic_weather(SYDNEY, "2018-07-01", 31, seed=4)
    assert 22 < january["tout_c"].mean() < 27 and 12 < july["tout_c"].mean() < 17
    assert january["iglob_w_m2"].mean() > 2 * july["iglob_w_m2"].mean()
    # local clock: the grid starts at local midnight (AEDT, UTC+11, in January)
    assert january.local_hour()[0] == 0.0


@pytest.mark.parametrize(
    ("site", "start"),
    [(LONGYEARBYEN, "2018-12-10"), (Site("South", -78.0, 0.0, "UTC"), "2018-06-10")],
)
def test_polar_night_is_dark_and_cold(site, start):
    w = synthetic_weather(site, start, 5, seed=1)
    assert np.all(w["iglob_w_m2"] == 0.0)
    assert -35 < w["tout_c"].mean() < -15
    assert all(np.isfinite(w[k]).all() for k in w.values)
    assert w["rhout_pct"].min() >= 15 and w["rhout_pct"].max() <= 100


def test_midnight_sun_lights_every_hour():
    w = synthetic_weather(LONGYEARBYEN, "2018-06-15", 5, seed=1, cloudiness=0.0)
    assert np.all(w["iglob_w_m2"] > 20.0)  # the sun stays ~11 deg up at midnight
    hour = w.local_hour()
    midnight = w["iglob_w_m2"][hour < 1].mean()
    noon = w["iglob_w_m2"][(hour >= 13) & (hour < 14)].mean()  # solar noon ~13:00 CEST
    assert 3 < noon / midnight < 6
    assert -8 < w["tout_c"].mean() < 8
