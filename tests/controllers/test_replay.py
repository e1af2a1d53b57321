"""Replay of logged compartments: the metrics, the log readers, and what a replay refuses."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from controllers.replay import ReplayError, replay, replay_window
from controllers.replay_log import ReplayLogError, load_log
from controllers.replay_metrics import agreement
from sim.weather import default_weather

FIXTURE = Path(__file__).parent / "data" / "agc2018_reference_7d"


def test_metrics_match_hand_computed_values():
    measured = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    simulated = np.array([2.0, 2.0, 4.0, 3.0, 9.0])  # errors 1, 0, 1, -1 (NaN pair left out)
    months = np.array(["2018-08", "2018-08", "2018-09", "2018-09", "2018-09"])
    hours = np.array([0, 1, 0, 1, 5])
    a = agreement(measured, simulated, months, hours)
    assert a.n == 4
    assert a.rmse == pytest.approx(math.sqrt(3 / 4))
    assert a.bias == pytest.approx(0.25)
    # SSres = 3, SStot = 2.25 + 0.25 + 0.25 + 2.25 = 5
    assert a.r2 == pytest.approx(1 - 3 / 5)
    assert a.bias_by_month == pytest.approx({"2018-08": 0.5, "2018-09": 0.0})
    assert a.bias_by_hour == pytest.approx({0: 1.0, 1: -0.5})
    assert a.measured_mean == pytest.approx(2.5)
    assert a.simulated_mean == pytest.approx(2.75)


@given(
    st.lists(st.floats(-50, 50), min_size=2, max_size=40),
    st.floats(-5, 5),
)
def test_a_constant_offset_is_all_bias_and_rmse_bounds_bias(values, offset):
    m = np.array(values)
    a = agreement(m, m + offset)
    assert a.bias == pytest.approx(offset, abs=1e-9)
    assert a.rmse == pytest.approx(abs(offset), abs=1e-9)
    b = agreement(m, m[::-1])
    assert b.rmse >= abs(b.bias) - 1e-9


def test_no_pairs_gives_nan_not_a_crash():
    a = agreement(np.array([np.nan, 1.0]), np.array([2.0, np.nan]))
    assert a.n == 0 and math.isnan(a.rmse)


def test_challenge_folder_reads_through_the_shipped_mapping():
    log = load_log(str(FIXTURE))
    assert len(log.time_s) == 7 * 288
    # 2018-09-01 00:00 local (CEST) is 2018-08-31 22:00 UTC; rows every 5 min
    assert log.time_s[0] == datetime.fromisoformat("2018-09-01T00:00+02:00").timestamp()
    assert set(np.diff(log.time_s)) == {300.0}
    assert log.values["tair_c"][0] == 18.8 and log.values["pipe_c"][0] == 30.9
    assert log.values["screen_blackout_pct"][0] == 100.0
    sp = log.setpoints()
    assert sp["heat_c"][0] == 19.0 and sp["co2_ppm"][0] == 400.0
    assert sp["humidity_deficit_g_m3"][0] == pytest.approx(2.2 * 1.2)  # logged in g/kg
    assert log.harvest is not None and log.harvest.dates[0] == "2018-09-01"
    assert log.harvest.yield_kg_m2[-1] == pytest.approx(0.0526, abs=1e-3)


def test_shipped_compartments_cover_the_season():
    log = load_log("iGrow")
    assert len(log.time_s) > 33000
    assert log.harvest is not None
    assert log.harvest.yield_kg_m2[-1] == pytest.approx(46.76, abs=0.01)  # Production.csv


def test_logger_export_through_a_column_mapping_reads_like_the_challenge_file(tmp_path):
    path = tmp_path / "logger.csv"
    path.write_text(
        "Stamp;Temp;RH;Lee\n".replace(";", ",")
        + "2018-09-01 00:00,18.8,87,0\n"
        + "2018-09-01 00:05,19.1,86.9,NaN\n"
    )
    log = load_log(
        str(path),
        columns={"time": "Stamp", "tair_c": "temp", "rh_pct": "RH", "vent_lee_pct": "Lee"},
    )
    assert log.time_s[0] == datetime.fromisoformat("2018-09-01T00:00+02:00").timestamp()
    assert log.values["tair_c"].tolist() == [18.8, 19.1]
    assert math.isnan(log.values["vent_lee_pct"][1])


def test_canonical_climate_csv_with_outdoor_columns_brings_its_own_weather(tmp_path):
    path = tmp_path / "climate.csv"
    rows = ["time,tair_c,rh_pct,co2_ppm,tout_c,rhout_pct,iglob_w_m2,wind_m_s,heat_w_m2"]
    for i in range(3):
        rows.append(f"2018-09-01T00:{5 * i:02d}:00+02:00,20,80,500,12,90,0,3,40")
    path.write_text("\n".join(rows) + "\n")
    log = load_log(str(path))
    assert log.values["co2_ppm"].tolist() == [500.0] * 3
    assert log.weather_path == path
    assert any("heat_w_m2" in n for n in log.notes)


def test_unknown_columns_without_a_mapping_are_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("Date,T\n2018-09-01,20\n")
    with pytest.raises(ReplayLogError, match="--columns"):
        load_log(str(path))


def test_a_mapping_for_a_shipped_compartment_is_refused():
    with pytest.raises(ReplayLogError, match="its own mapping"):
        load_log("reference", columns={"time": "x"})


def test_a_log_without_rows_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("time,tair_c,rh_pct\n")
    with pytest.raises(ReplayError, match="no data rows"):
        replay_window(load_log(str(path)), default_weather())


def test_a_log_outside_the_weather_is_refused(tmp_path):
    path = tmp_path / "later.csv"
    path.write_text("time,tair_c\n2021-03-01T00:00:00+01:00,20\n2021-03-01T00:05:00+01:00,20\n")
    with pytest.raises(ReplayError, match="no hour in common"):
        replay_window(load_log(str(path)), default_weather())


def test_a_period_outside_the_log_is_refused():
    with pytest.raises(ReplayError, match="holds none of it"):
        replay_window(load_log(str(FIXTURE)), default_weather(), start="2018-10-01", days=2)


def test_window_is_the_log_span_inside_the_weather():
    w = replay_window(load_log(str(FIXTURE)), default_weather(), start="2018-09-02", days=2)
    assert w.time_s[0] == datetime.fromisoformat("2018-09-02T00:00+02:00").timestamp()
    assert len(w) == 2 * 288


def test_vent_setpoint_zero_is_replayed_and_negative_co2_refused(tmp_path):
    folder = tmp_path / "comp"
    folder.mkdir()
    for name in ("Greenhouse_climate.csv", "Production.csv"):
        (folder / name).write_text((FIXTURE / name).read_text())
    vip = (FIXTURE / "vip.csv").read_text().splitlines()
    header = vip[0].split(",")
    lee = header.index("VentLeew_Vip")
    zeroed = [vip[0]] + [",".join("0" if j == lee else c for j, c in enumerate(r.split(",")))
                         for r in vip[1:]]  # fmt: skip
    (folder / "vip.csv").write_text("\n".join(zeroed) + "\n")
    log = load_log(str(folder))
    report, _ = replay(log, default_weather(), mode="setpoints", start="2018-09-02", days=1)
    assert report.signals["tair_c"].n == 288
    co2 = header.index("CO2_Vip")
    negative = [vip[0]] + [",".join("-5" if j == co2 else c for j, c in enumerate(r.split(",")))
                           for r in vip[1:]]  # fmt: skip
    (folder / "vip.csv").write_text("\n".join(negative) + "\n")
    with pytest.raises(ReplayError, match="co2_ppm = -5"):
        replay(load_log(str(folder)), default_weather(), mode="setpoints", days=1)


def test_open_loop_forces_the_logged_positions_and_names_what_was_never_logged(tmp_path):
    path = tmp_path / "few.csv"
    rows = ["time,tair_c,rh_pct,vent_lee_pct"]
    for i in range(288):
        h, m = divmod(5 * i, 60)
        rows.append(f"2018-09-02T{h:02d}:{m:02d}:00+02:00,21,80,{37 if i < 144 else 0}")
    path.write_text("\n".join(rows) + "\n")
    report, result = replay(load_log(str(path)), default_weather())
    lee = result.climate[:, list(result_columns()).index("vent_lee_pct")]
    assert np.all(lee[:144] == 37.0) and np.all(lee[144:] == 0.0)
    assert report.never_logged["pipe_c"].startswith("0")
    assert report.never_logged["co2_ppm"] == "not compared"
    assert "sp.co2_ppm" in report.never_logged
    assert report.never_logged["fog_pct"].startswith("climate computer")
    assert set(report.signals) == {"tair_c", "rh_pct"}


def test_fogging_in_a_canonical_csv_is_forced_as_logged(tmp_path):
    # `serra db export` writes fog_pct; a replay that dropped it would let the climate computer
    # fog instead (docs/calibrate.md: its fogging loop makes the replayed climate zigzag)
    path = tmp_path / "fogged.csv"
    rows = ["time,tair_c,rh_pct,vent_lee_pct,fog_pct"]
    for i in range(288):
        h, m = divmod(5 * i, 60)
        rows.append(f"2018-09-02T{h:02d}:{m:02d}:00+02:00,21,80,0,{40 if 130 <= i < 160 else 0}")
    path.write_text("\n".join(rows) + "\n")
    log = load_log(str(path))
    assert not log.notes  # every column used
    report, result = replay(log, default_weather())
    fog = result.climate[:, list(result_columns()).index("fog_pct")]
    assert np.all(fog[130:160] == 40.0) and np.all(fog[:130] == 0.0) and np.all(fog[160:] == 0.0)
    assert "fog_pct" not in report.never_logged


def result_columns():
    from controllers.season import CLIMATE_COLUMNS

    return CLIMATE_COLUMNS


def test_idle_pipes_compare_at_air_temperature():
    from controllers.replay import comparable

    tair = np.array([20.0, 20.0, 20.0])
    got = comparable("pipe_c", np.array([0.0, 45.0, np.nan]), tair)
    assert got[0] == 20.0 and got[1] == 45.0 and math.isnan(got[2])
