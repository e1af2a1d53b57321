"""`serra sim run/sweep`: weather and option mistakes refused in one line that names the option."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from sim.weather import WeatherError, load_weather

MAP = "time=Date,tout_c=T,rhout_pct=RH,iglob_w_m2=G,wind_m_s=W"


def _weather(path, *, gap=False, cell=None, header="Date,T,RH,G,W"):
    """Three days of 5-min weather from 1 Sep 2018; `gap`: 3 h 15 min empty; `cell`: RH of row 5."""
    rows = [header]
    t0 = datetime(2018, 9, 1)
    for i in range(3 * 288):
        t = (t0 + timedelta(minutes=5 * i)).isoformat()
        if gap and 200 < i < 240:
            rows.append(f"{t},,,,")
        else:
            rh = cell if (cell is not None and i == 4) else "80"
            rows.append(f"{t},{15 + i % 7},{rh},100,3")
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def _refused(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("serra: error: ")
    return err


def test_gap_error_names_the_fill_gaps_option_not_the_python_argument(tmp_path, capsys):
    path = _weather(tmp_path / "gap.csv", gap=True)
    err = _refused(capsys, "sim", "run", "--weather", path, "--weather-columns", MAP)
    assert "3 h 15 min" in err and err.rstrip().endswith("add --fill-gaps")
    assert "fill_gaps=True" not in err
    with pytest.raises(WeatherError, match=r"pass fill_gaps=True$"):  # the library keeps its word
        load_weather(path, columns=dict(p.split("=") for p in MAP.split(",")))


def test_unknown_columns_error_suggests_weather_columns(tmp_path, capsys):
    err = _refused(capsys, "sim", "run", "--weather", _weather(tmp_path / "w.csv"))
    assert "--weather-columns time=Date," in err and "columns=" not in err


def test_start_outside_the_shipped_weather_names_its_range_not_its_file(capsys):
    err = _refused(capsys, "sim", "run", "--start", "2019-01-01", "--days", "1")
    assert err.startswith("serra: error: --start 2019-01-01 00:00 CET is outside the weather")
    assert "2018-08-14 00:00 CEST .. 2018-12-07 01:00 CET" in err and ".gz" not in err
    err = _refused(capsys, "sim", "run", "--start", "2018-13-01")
    assert "--start '2018-13-01' is not a date" in err and ".gz" not in err
    err = _refused(capsys, "sim", "run", "--start", "2018-09-01", "--days", "200")
    assert "--days 200 from 2018-09-01 00:00 CEST runs past" in err and "97.08 or less" in err


@pytest.mark.parametrize(
    ("name", "nearest"), [("heat", "heat_c"), ("co2", "co2_ppm"), ("vent_lee", "vent_lee_c")]
)
def test_unknown_set_name_suggests_the_nearest(capsys, name, nearest):
    err = _refused(capsys, "sim", "run", "--days", "1", "--set", f"{name}=21.5")
    assert f"unknown name {name!r}; did you mean {nearest}" in err
    assert len(err) < 120  # one suggestion, not the ~70 names


def test_unknown_vary_name_suggests_the_nearest(capsys):
    err = _refused(capsys, "sim", "sweep", "--days", "1", "--n", "2", "--vary", "heatc=18..22")
    assert "did you mean heat_c?" in err


def test_a_name_given_twice_is_refused(capsys):
    err = _refused(capsys, "sim", "run", "--set", "heat_c=20", "--set", "heat_c=21")
    assert "heat_c is given twice (20, 21)" in err


def test_sweep_prints_values_with_six_significant_digits(capsys):
    argv = ["sim", "sweep", "--days", "0.25", "--n", "3", "--workers", "1"]
    assert main([*argv, "--vary", "heat_c=18..22", "--vary", "co2_ppm=600..1000"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 3
    for row in rows:
        for name, lo, hi in (("heat_c", 18, 22), ("co2_ppm", 600, 1000)):
            text = row[name]
            assert lo <= float(text) <= hi
            assert len(text.replace(".", "").lstrip("0")) <= 6, text


def test_one_file_column_mapped_to_two_signals_is_refused(tmp_path, capsys):
    path = _weather(tmp_path / "w.csv")
    bad = "time=Date,tout_c=RH,rhout_pct=RH,iglob_w_m2=G,wind_m_s=W"
    err = _refused(capsys, "sim", "run", "--weather", path, "--weather-columns", bad)
    assert "column 'RH' is mapped to both tout_c and rhout_pct" in err
    twice = "time=Date,tout_c=RH,tout_c=T,rhout_pct=RH,iglob_w_m2=G,wind_m_s=W"
    err = _refused(capsys, "sim", "run", "--weather", path, "--weather-columns", twice)
    assert "tout_c is given twice (RH, T)" in err


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_infinite_weather_is_refused_at_load(tmp_path, capsys, value):
    path = _weather(tmp_path / "w.csv", cell=value)
    err = _refused(capsys, "sim", "run", "--weather", path, "--weather-columns", MAP)
    assert "w.csv: line 6, column 'RH' (rhout_pct):" in err and "not a finite number" in err


def test_a_huge_cell_is_one_line_naming_file_and_line(tmp_path, capsys):
    path = _weather(tmp_path / "w.csv", cell='"' + "x" * 10_000_000)
    err = _refused(capsys, "sim", "run", "--weather", path, "--weather-columns", MAP)
    assert "w.csv: line 6: a cell longer than 131072 characters" in err
    assert "_csv.Error" not in err


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    dup=st.sampled_from(["Date", "T", "RH", "G", "W"]),
    where=st.integers(min_value=0, max_value=5),
)
def test_a_duplicated_header_column_is_refused(tmp_path, capsys, dup, where):
    names = ["Date", "T", "RH", "G", "W"]
    names.insert(where, dup)
    lines = [",".join(names)] + [
        ",".join([f"2018-09-01T00:{5 * i:02d}:00" if n == "Date" else str(10 + i) for n in names])
        for i in range(6)
    ]
    path = tmp_path / "dup.csv"
    path.write_text("\n".join(lines) + "\n")
    err = _refused(capsys, "sim", "run", "--weather", str(path), "--weather-columns", MAP)
    assert f"names column {dup!r} twice" in err
