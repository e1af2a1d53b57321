"""Loading weather: the shipped 2018 season, the reference year, crafted files for gaps, errors."""

from __future__ import annotations

import gzip
import pickle
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from sim.sky import cloud_fraction_from_radiation, sky_temperature_c, sky_temperature_from_pyrgeo
from sim.sun import clear_sky_global_w_m2, solar_elevation_deg
from sim.weather import (
    BLEISWIJK,
    CANONICAL,
    DEFAULT_WEATHER_FILE,
    REFERENCE_YEAR_FILE,
    Site,
    Weather,
    WeatherError,
    default_weather,
    load_weather,
    reference_year,
)

TZ = BLEISWIJK.tz
HEADER = "%time,AbsHumOut,Iglob,PARout,Pyrgeo,RadSum,Rain,Rhout,Tout,Winddir,Windsp"


def _local(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).timestamp()


def _clock(t: float) -> str:
    return datetime.fromtimestamp(float(t), TZ).strftime("%Y-%m-%d %H:%M %Z")


def _excel(dt: datetime) -> str:
    return f"{(dt - datetime(1899, 12, 30)).total_seconds() / 86400:.5f}"


def _wur_file(path: Path, rows: list[tuple[datetime, float | None]]) -> Path:
    """A WUR-format file: each row (local time, Tout or None for a NaN row)."""
    lines = [HEADER]
    for dt, tout in rows:
        if tout is None:
            lines.append(_excel(dt) + ",NaN" * 10)
        else:
            lines.append(f"{_excel(dt)},8.0,100,210,-40,5,0,80,{tout},32,3.0")
    path.write_text("\n".join(lines) + "\n")
    return path


def _series(start: str, n: int, step_min: int = 5) -> list[datetime]:
    t0 = datetime.fromisoformat(start)
    return [t0 + timedelta(minutes=step_min * k) for k in range(n)]


# --- the shipped 2018 season -----------------------------------------------------------------


def test_default_season_rows_and_range():
    w = default_weather()
    # 33,133 file rows + 12 for the autumn hour the file's local clock lists only once.
    assert len(w) == 33145
    assert w.step_s == 300.0
    assert _clock(w.time_s[0]) == "2018-08-14 00:00 CEST"
    assert _clock(w.time_s[-1]) == "2018-12-07 01:00 CET"
    assert np.all(np.diff(w.time_s) == 300.0)
    assert set(w.values) == set(CANONICAL)
    for name in CANONICAL:
        assert np.isfinite(w[name]).all(), name
    assert w.source == "bleiswijk_2018-08_2018-12_5min.csv.gz"


def test_default_season_numbers():
    w = default_weather()
    assert w["tout_c"].mean() == pytest.approx(12.58, abs=0.05)
    assert w["iglob_w_m2"].max() == pytest.approx(881, abs=2)
    assert 0.03 < w["rain"].mean() < 0.06
    assert w["rain"].min() >= 0.0 and w["rain"].max() <= 1.0
    assert (w["co2out_ppm"] == 410.0).all()
    # Sky temperature from the pyrgeometer: colder than the air on average, by a cloudy-sky margin.
    assert 5.0 < (w["tout_c"] - w["tsky_c"]).mean() < 15.0
    # The WUR bit-coded sectors become degrees; SW (225) is the most frequent.
    values, counts = np.unique(np.round(w["wind_dir_deg"]), return_counts=True)
    assert values[counts.argmax()] == 225.0


def test_default_weather_is_cached_and_read_only():
    w = default_weather()
    assert default_weather() is w
    with pytest.raises(ValueError):
        w["tout_c"][0] = 99.0
    with pytest.raises(ValueError):
        w.time_s[0] = 0.0
    with pytest.raises(TypeError):
        w.values["tout_c"] = np.zeros(len(w))
    assert w.window("2018-09-01", 1)["tout_c"].flags.writeable is False


def test_cached_weather_pickles_for_worker_processes():
    w = pickle.loads(pickle.dumps(default_weather()))
    np.testing.assert_array_equal(w["tout_c"], default_weather()["tout_c"])
    w.values["tout_c"] = np.zeros(len(w))  # an independent copy may be changed
    assert default_weather()["tout_c"].max() > 20


def test_radiation_peaks_near_13_50_in_august_and_12_25_in_november():
    for start, expected in (("2018-08-14", 13 + 50 / 60), ("2018-11-01", 12 + 25 / 60)):
        w = default_weather().window(start, 28)
        hour = w.local_hour()
        bins = np.floor(hour * 4) / 4
        centres = np.arange(0, 24, 0.25)
        profile = np.array([w["iglob_w_m2"][bins == c].mean() for c in centres])
        centroid = float((centres + 0.125) @ profile / profile.sum())
        assert centroid == pytest.approx(expected, abs=0.2)


def test_autumn_day_has_25_hours_and_local_hour_repeats():
    w = default_weather().window("2018-10-28", 1)
    # One local day = 24 h of clock time, but 25 h of real time on the fall-back day: the
    # half-open window of 1 day gives 288 rows, ending at 23:00 CET.
    assert len(w) == 288
    assert _clock(w.time_s[-1]) == "2018-10-28 22:55 CET"
    hours = w.local_hour()
    assert np.count_nonzero((hours >= 2) & (hours < 3)) == 24


def test_sunrise_sunset_per_row():
    w = default_weather()
    rise, sets = w.sunrise_sunset()
    assert rise.shape == (len(w),)
    first_rise = datetime.fromtimestamp(rise[0], TZ)
    last_set = datetime.fromtimestamp(sets[-1], TZ)
    assert (first_rise.date().isoformat(), last_set.date().isoformat()) == (
        "2018-08-14",
        "2018-12-07",
    )
    assert 6 + 20 / 60 < first_rise.hour + first_rise.minute / 60 < 6 + 30 / 60
    assert 16 + 27 / 60 < last_set.hour + last_set.minute / 60 < 16 + 34 / 60
    # Every row of one local day carries the same sunrise.
    day = w.window("2018-09-01", 1).sunrise_sunset()[0]
    assert np.ptp(day) == 0.0


def test_real_file_reports_its_long_gaps():
    with pytest.raises(WeatherError) as err:
        load_weather(DEFAULT_WEATHER_FILE)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("bleiswijk_2018-08_2018-12_5min.csv.gz: 4 gap(s) longer than 1 h")
    assert "2018-08-29 20:40 CEST to 2018-08-30 01:30 CEST (4 h 55 min)" in msg
    assert "2018-10-28 01:50 CEST to 2018-10-28 02:55 CET (2 h 10 min)" in msg
    assert "fill_gaps=True" in msg


# --- window and resample ---------------------------------------------------------------------


def test_window_takes_local_days():
    w = default_weather().window("2018-09-01", 2)
    assert len(w) == 576
    assert _clock(w.time_s[0]) == "2018-09-01 00:00 CEST"
    assert w.local_hour()[0] == 0.0
    whole = default_weather().window(None, None)
    assert len(whole) == len(default_weather())
    assert len(default_weather().window("2018-08-14", 115)) == 115 * 288


def test_window_outside_the_file_names_its_range():
    with pytest.raises(
        WeatherError,
        match=r"start 2019-01-01 00:00 CET is outside the file's range "
        r"2018-08-14 00:00 CEST \.\. 2018-12-07 01:00 CET",
    ):
        default_weather().window("2019-01-01", 1)
    with pytest.raises(
        WeatherError,
        match=r"10 days from 2018-12-01 00:00 CET run past the file's "
        r"end; at most 6\.05 days fit",
    ):
        default_weather().window("2018-12-01", 10)
    with pytest.raises(WeatherError, match="is not a date"):
        default_weather().window("first of May", 1)
    with pytest.raises(WeatherError, match="days must be a positive number"):
        default_weather().window("2018-09-01", 0)


def test_resample_interpolates_and_keeps_wind_direction_on_the_circle():
    site = BLEISWIJK
    t = 1.5e9 + np.arange(3) * 600.0
    values = {k: np.zeros(3) for k in CANONICAL}
    values["tout_c"] = np.array([10.0, 12.0, 11.0])
    values["wind_dir_deg"] = np.array([350.0, 10.0, 10.0])
    values["rain"] = np.array([0.0, 1.0, 1.0])
    w = Weather(site, t, 600.0, values, "test")
    r = w.resample(300.0)
    assert len(r) == 5
    np.testing.assert_allclose(r["tout_c"], [10, 11, 12, 11.5, 11])
    assert min(r["wind_dir_deg"][1], 360 - r["wind_dir_deg"][1]) < 1e-9
    np.testing.assert_allclose(r["rain"], [0, 0.5, 1, 1, 1])
    assert len(default_weather().window("2018-09-01", 1).resample(3600.0)) == 24


def test_unknown_signal_name():
    with pytest.raises(WeatherError, match="no weather signal 'tair_c'"):
        default_weather()["tair_c"]


# --- crafted files: gaps ---------------------------------------------------------------------


def test_short_gaps_are_interpolated_and_edges_filled(tmp_path):
    times = _series("2018-09-01T00:00", 40)
    rows = [(dt, 10.0 + k * 0.1) for k, dt in enumerate(times)]
    rows[0] = (times[0], None)  # leading NaN rows take the first value
    rows[1] = (times[1], None)
    for k in range(10, 16):  # 30 min of NaN rows
        rows[k] = (times[k], None)
    del rows[25:34]  # 45 min of missing rows
    rows[-1] = (rows[-1][0], None)  # a trailing NaN row takes the last value
    w = load_weather(_wur_file(tmp_path / "gaps.csv", rows))
    assert len(w) == 40
    expected = 10.0 + np.arange(40) * 0.1
    expected[:2] = expected[2]
    expected[-1] = expected[-2]
    np.testing.assert_allclose(w["tout_c"], expected, atol=1e-9)


def test_gap_of_exactly_one_hour_is_allowed_and_longer_is_an_error(tmp_path):
    times = _series("2018-09-01T10:00", 40)
    one_hour = [(dt, 10.0) for dt in times]
    for k in range(5, 17):  # 12 NaN rows = 60 min
        one_hour[k] = (times[k], None)
    assert len(load_weather(_wur_file(tmp_path / "ok.csv", one_hour))) == 40
    long = [(dt, 10.0) for dt in times]
    for k in range(5, 19):  # 14 NaN rows = 70 min
        long[k] = (times[k], None)
    path = _wur_file(tmp_path / "long.csv", long)
    with pytest.raises(WeatherError) as err:
        load_weather(path)
    assert str(err.value) == (
        "long.csv: 1 gap(s) longer than 1 h (local time): 2018-09-01 10:25 CEST to "
        "2018-09-01 11:30 CEST (1 h 10 min); shorter gaps are interpolated; to interpolate "
        "these too pass fill_gaps=True"
    )
    assert err.value.cli.endswith("to interpolate these too add --fill-gaps")
    assert np.isfinite(load_weather(path, fill_gaps=True)["tout_c"]).all()


def test_long_leading_nan_run_is_an_error(tmp_path):
    times = _series("2018-09-01T10:00", 30)
    rows = [(dt, None if k < 13 else 10.0) for k, dt in enumerate(times)]
    with pytest.raises(WeatherError, match="10:00 CEST to 2018-09-01 11:00 CEST"):
        load_weather(_wur_file(tmp_path / "lead.csv", rows))


# --- crafted files: time -----------------------------------------------------------------


def test_autumn_repeated_hour_in_local_time_becomes_monotonic_utc(tmp_path):
    first = _series("2018-10-28T01:00", 24)  # 01:00 .. 02:55, first pass (CEST)
    again = _series("2018-10-28T02:00", 24)  # 02:00 .. 03:55, second pass (CET)
    rows = [(dt, 10.0) for dt in first + again]
    w = load_weather(_wur_file(tmp_path / "fold.csv", rows))
    assert len(w) == 48
    assert _clock(w.time_s[0]) == "2018-10-28 01:00 CEST"
    assert _clock(w.time_s[-1]) == "2018-10-28 03:55 CET"


def test_spring_forward_hour_that_does_not_exist_is_dropped(tmp_path):
    path = tmp_path / "spring.csv"
    lines = ["time,T,RH,G,W"]
    for dt in _series("2020-03-29T01:00", 36):  # 01:00 .. 03:55 local, 02:xx does not exist
        lines.append(f"{dt.isoformat()},5,80,0,2")
    path.write_text("\n".join(lines) + "\n")
    cols = {"time": "time", "tout_c": "T", "rhout_pct": "RH", "iglob_w_m2": "G", "wind_m_s": "W"}
    w = load_weather(path, columns=cols)
    assert len(w) == 24  # 00:00 .. 01:55 UTC
    assert _clock(w.time_s[11]) == "2020-03-29 01:55 CET"
    assert _clock(w.time_s[12]) == "2020-03-29 03:00 CEST"


def test_time_running_backwards_names_the_line(tmp_path):
    times = _series("2018-09-01T10:00", 10)
    times[6] = times[2]  # line 8 (header is line 1) jumps back 20 minutes
    path = _wur_file(tmp_path / "back.csv", [(dt, 10.0) for dt in times])
    with pytest.raises(WeatherError) as err:
        load_weather(path)
    assert str(err.value).startswith(
        "back.csv: time runs backwards at line 8 "
        "(2018-09-01 10:10 CEST after 2018-09-01 10:25 CEST)"
    )


# --- crafted files: columns ---------------------------------------------------------------


def test_unknown_columns_name_the_file_and_what_is_allowed(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("when,temp,hum\n2018-09-01T00:00,10,80\n")
    with pytest.raises(WeatherError) as err:
        load_weather(path)
    msg = str(err.value)
    assert msg.startswith("odd.csv: unknown weather columns (when, temp, hum); expected the WUR")
    assert "columns= mapping" in msg and "\n" not in msg


def test_mapping_errors_name_the_key(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("when,temp,hum,glob,wind\n2018-09-01T00:00,10,80,0,2\n")
    good = {
        "time": "when",
        "tout_c": "temp",
        "rhout_pct": "hum",
        "iglob_w_m2": "glob",
        "wind_m_s": "wind",
    }
    with pytest.raises(
        WeatherError,
        match=r"m\.csv: no column 'Temp' \(for tout_c\); the file "
        r"has: when, temp, hum, glob, wind",
    ):
        load_weather(path, columns={**good, "tout_c": "Temp"})
    with pytest.raises(WeatherError, match="unknown key 'tair' in columns; allowed keys: time"):
        load_weather(path, columns={**good, "tair": "temp"})
    without_wind = {k: v for k, v in good.items() if k != "wind_m_s"}
    with pytest.raises(WeatherError, match=r"lacks required key\(s\) wind_m_s"):
        load_weather(path, columns=without_wind)


def test_bad_number_names_line_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER + "\n43326.00000,1,0,0,-40,0,0,80,ten,32,3\n43326.00347,1,0,0,-40,0,0,80,10,32,3\n"
    )
    with pytest.raises(
        WeatherError, match=r"bad\.csv: line 2, column 'Tout': 'ten' is not a number"
    ):
        load_weather(path)


def test_column_mapped_csv_with_offsets_gz_and_derived_signals(tmp_path):
    lines = ["Date,T (C),RH (%),Global (W/m2),Wind (m/s),CO2"]
    t0 = datetime.fromisoformat("2018-06-21T12:00:00+02:00")
    for k in range(13):
        if k in (4, 5):  # two missing rows
            continue
        lines.append(f"{(t0 + timedelta(minutes=10 * k)).isoformat()},{20 + k * 0.5},60,800,3,")
    path = tmp_path / "station.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    cols = {
        "time": "Date",
        "tout_c": "T (C)",
        "rhout_pct": "RH (%)",
        "iglob_w_m2": "Global (W/m2)",
        "wind_m_s": "Wind (m/s)",
        "co2out_ppm": "CO2",
    }
    with pytest.raises(WeatherError, match="the column for co2out_ppm holds no number"):
        load_weather(path, columns=cols)
    del cols["co2out_ppm"]
    w = load_weather(path, columns=cols, step_s=300)
    assert w.step_s == 300.0 and len(w) == 25
    assert w.time_s[0] == t0.timestamp()
    np.testing.assert_allclose(w["tout_c"][::2], 20 + np.arange(13) * 0.5)
    assert (w["co2out_ppm"] == 410.0).all() and (w["rain"] == 0).all()
    assert (w["wind_dir_deg"] == 0).all()
    # No pyrgeometer: Brunt with clouds from the radiation, between clear and overcast.
    clear = sky_temperature_c(w["tout_c"], w["rhout_pct"])
    overcast = sky_temperature_c(w["tout_c"], w["rhout_pct"], 1.0)
    assert np.all(w["tsky_c"] > clear + 1.0) and np.all(w["tsky_c"] < overcast - 1.0)


def test_cloud_fraction_from_radiation():
    t = _local("2018-06-21T00:00") + np.arange(0, 86400, 300.0)
    elev = solar_elevation_deg(t, BLEISWIJK.latitude_deg, BLEISWIJK.longitude_deg)
    clear = clear_sky_global_w_m2(elev)
    assert cloud_fraction_from_radiation(t, clear, BLEISWIJK).max() < 0.01
    np.testing.assert_allclose(cloud_fraction_from_radiation(t, 0.25 * clear, BLEISWIJK), 1.0)
    # Kasten & Czeplak: half cover removes only 7 % of the light.
    half = cloud_fraction_from_radiation(t, (1 - 0.75 * 0.5**3.4) * clear, BLEISWIJK)
    np.testing.assert_allclose(half, 0.5, atol=1e-6)
    # Before sunrise only: no daylight to judge by, taken as clear.
    assert (cloud_fraction_from_radiation(t[:60], np.zeros(60), BLEISWIJK) == 0).all()


def test_naive_local_times_and_strptime_format(tmp_path):
    path = tmp_path / "naive.csv"
    path.write_text("t,a,b,c,d\n01/09/2018 00:00,1,2,3,4\n01/09/2018 01:00,1,2,3,4\n")
    cols = {"time": "t", "tout_c": "a", "rhout_pct": "b", "iglob_w_m2": "c", "wind_m_s": "d"}
    w = load_weather(path, columns=cols, time_format="%d/%m/%Y %H:%M")
    assert _clock(w.time_s[0]) == "2018-09-01 00:00 CEST" and w.step_s == 3600.0
    with pytest.raises(WeatherError, match=r"line 2: time '01/09/2018 00:00' does not parse"):
        load_weather(path, columns=cols)


def test_other_site_time_zone(tmp_path):
    site = Site("Almeria", 36.84, -2.46, "Europe/Madrid")
    rows = [(dt, 20.0) for dt in _series("2018-09-01T00:00", 12)]
    w = load_weather(_wur_file(tmp_path / "alm.csv", rows), site=site)
    assert datetime.fromtimestamp(w.time_s[0], site.tz).hour == 0
    with pytest.raises(WeatherError, match="unknown time zone 'Mars/Olympus'"):
        load_weather(tmp_path / "alm.csv", site=Site("x", 0, 0, "Mars/Olympus"))


def test_missing_file():
    with pytest.raises(WeatherError, match=r"nope\.csv: no such weather file"):
        load_weather("nope.csv")


# --- physics of derived signals ---------------------------------------------------------------


def test_sky_temperature_formulas():
    # No net long-wave exchange: the sky is as warm as the air.
    assert float(sky_temperature_from_pyrgeo(10.0, 0.0)) == pytest.approx(10.0)
    # -50 W/m2 at 10 C: (364.5 - 50) W/m2 -> 272.9 K.
    assert float(sky_temperature_from_pyrgeo(10.0, -50.0)) == pytest.approx(-0.25, abs=0.05)
    # Brunt at 10 C, 80 %: e = 9.82 hPa, eps 0.724 -> -12.0 C; overcast eps 0.956 -> 6.9 C.
    assert float(sky_temperature_c(10.0, 80.0)) == pytest.approx(-12.0, abs=0.3)
    assert float(sky_temperature_c(10.0, 80.0, 1.0)) == pytest.approx(6.9, abs=0.3)


# --- the reference year -------------------------------------------------------------------


def test_reference_year_loads_as_a_cyclic_typical_year():
    w = reference_year()
    assert len(w) == 8760 and w.step_s == 3600.0 and w.cyclic
    assert datetime.fromtimestamp(w.time_s[0], TZ).year == 2019
    assert w["tout_c"].mean() == pytest.approx(9.39, abs=0.01)
    assert (w["co2out_ppm"] == 320.0).all()  # the file's own column wins over the default
    assert w["tsky_c"].min() == pytest.approx(-33.7, abs=0.5)
    # Hourly means stamped at the end of their hour, centred: noon is near 12:40 CET.
    dec = w.window("2019-12-01", 31)
    hour = dec.local_hour()
    profile = np.array([dec["iglob_w_m2"][np.round(hour) == h].mean() for h in range(24)])
    assert float(np.arange(24) @ profile / profile.sum()) == pytest.approx(12.6, abs=0.3)


def test_reference_year_window_takes_month_and_day_from_any_year():
    ref = reference_year()
    w = ref.window("2018-12-31", 2)
    assert len(w) == 48
    assert _clock(w.time_s[0]) == "2018-12-31 00:00 CET"
    np.testing.assert_array_equal(w["tout_c"][24:], ref.window("2019-01-01", 1)["tout_c"])
    assert len(ref.window("2024-02-29", 1)) == 24
    assert len(ref.window("2018-08-14", 400)) == 400 * 24
    assert len(load_weather(REFERENCE_YEAR_FILE, step_s=1800)) == 2 * 8760


def test_the_grid_follows_the_loggers_interval_not_its_gaps(tmp_path):
    path = tmp_path / "gappy.csv"
    path.write_text(
        "time,T,RH,G,W\n"
        "2018-09-01T00:00:00+02:00,10,80,0,2\n"
        "2018-09-01T00:50:00+02:00,11,80,0,2\n"
        "2018-09-01T00:55:00+02:00,12,80,0,2\n"
    )
    columns = {"time": "time", "tout_c": "T", "rhout_pct": "RH", "iglob_w_m2": "G", "wind_m_s": "W"}
    weather = load_weather(path, columns=columns)
    assert weather.step_s == 300.0
    assert len(weather) == 12
    assert weather["tout_c"][5] == pytest.approx(10.5)  # 00:25, halfway through the gap
