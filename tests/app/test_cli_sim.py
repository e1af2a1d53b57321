"""`serra sim run` / `serra sim sweep` as a user calls them: outputs, and bad input refused."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from app.cli import main

SUMMARY_KEYS = {
    "start", "days", "yield_kg_m2", "yield_class_a_kg_m2", "fruits_per_m2", "revenue_eur_m2",
    "costs_eur_m2", "net_profit_eur_m2", "heat_kwh_m2", "electricity_kwh_m2", "co2_kg_m2",
    "water_l_m2", "mean_tair_c",
}  # fmt: skip
CLIMATE_KEYS = [
    "time", "tair_c", "rh_pct", "co2_ppm", "pipe_c", "pipe_grow_c", "vent_lee_pct", "vent_wind_pct",
    "screen_energy_pct", "screen_blackout_pct", "lamps_pct", "par_umol_m2_s", "heat_w_m2", "tout_c",
    "iglob_w_m2",
]  # fmt: skip


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sim_run_prints_the_summary_and_writes_season_files(capsys, tmp_path):
    out = tmp_path / "season"
    code, stdout, _ = run_cli(capsys, "sim", "run", "--start", "2018-09-01", "--days", "3",
                              "--out", str(out))  # fmt: skip
    assert code == 0
    summary = json.loads(stdout)
    assert set(summary) >= SUMMARY_KEYS
    assert summary["start"] == "2018-09-01T00:00:00+02:00"
    assert summary["days"] == 3.0
    assert set(summary["costs_eur_m2"]) == {
        "heat",
        "electricity",
        "co2",
        "water",
        "labour",
        "plants",
    }
    assert json.loads((out / "summary.json").read_text()) == summary
    with (out / "climate.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert set(CLIMATE_KEYS) <= set(rows[0])
    assert len(rows) == 3 * 288
    assert rows[0]["time"] == "2018-09-01T00:00:00+02:00"
    assert 10.0 < float(rows[150]["tair_c"]) < 40.0
    crop_rows = (out / "crop.csv").read_text().splitlines()
    assert crop_rows[0].startswith("date,lai,")
    assert [r.split(",")[0] for r in crop_rows[1:]] == ["2018-09-01", "2018-09-02", "2018-09-03"]
    assert not list(out.glob(".*"))  # no temporary files left


def test_setpoint_replay_and_forced_actuators_change_the_season(capsys, tmp_path):
    setpoints = tmp_path / "sp.csv"
    setpoints.write_text("time,heat_c\n2018-11-01T00:00:00+01:00,24\n")
    actuators = tmp_path / "act.csv"
    actuators.write_text("time,lamps_pct\n2018-11-01T00:00:00+01:00,0\n")
    base_args = ("sim", "run", "--start", "2018-11-01", "--days", "4")
    _, base, _ = run_cli(capsys, *base_args)
    _, warm, _ = run_cli(
        capsys, *base_args, "--strategy", "schedule", "--setpoints", str(setpoints)
    )
    _, dark, _ = run_cli(capsys, *base_args, "--actuators", str(actuators))
    base, warm, dark = json.loads(base), json.loads(warm), json.loads(dark)
    assert warm["strategy"] == "schedule"
    assert warm["mean_tair_c"] > base["mean_tair_c"] + 1.5
    assert base["electricity_kwh_m2"] > 4.0  # HPS lamps ~14 h a day in November
    assert dark["electricity_kwh_m2"] == 0.0


def test_sweep_prints_one_row_per_run(capsys):
    code, stdout, _ = run_cli(capsys, "sim", "sweep", "--vary", "heat_c=18..23", "--n", "3",
                              "--start", "2018-11-01", "--days", "3", "--workers", "2")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(stdout)))
    assert [float(r["heat_c"]) for r in rows] == [18.0, 20.5, 23.0]
    temps = [float(r["mean_tair_c"]) for r in rows]
    assert temps[0] < temps[1] < temps[2]
    assert {"run", "yield_kg_m2", "net_profit_eur_m2", "cost_heat_eur_m2"} <= set(rows[0])


def _wur(lines: list[str]) -> str:
    header = "%time,AbsHumOut,Iglob,PARout,Pyrgeo,RadSum,Rain,Rhout,Tout,Winddir,Windsp"
    return "\n".join([header, *lines]) + "\n"


BAD_INPUTS = pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        (
            {"w.csv": "when,temp\n2018-08-14T00:00,17\n"},
            ["--weather", "@w.csv"],
            "w.csv",
        ),
        (
            {"w.csv": _wur([
                "43326.00000,13,0,0,-30,0,0,88,17.7,32,3.2",
                "43326.00347,13,0,0,-30,0,0,88,17.7,32,3.2",
                "43326.00000,13,0,0,-30,0,0,88,17.7,32,3.2",
            ])},
            ["--weather", "@w.csv"],
            "time runs backwards at line 4",
        ),
        ({}, ["--start", "2017-01-01"], "2018-08-14"),
        ({}, ["--start", "2018-12-01", "--days", "30"], "2018-12-07"),
        (
            {"sp.csv": "time,heat_c\n2018-08-14T00:00:00+02:00,80\n"},
            ["--setpoints", "@sp.csv"],
            "sp.csv row 2: heat_c = 80 is outside 5..35 C",
        ),
        ({}, ["--set", "heat_c=80"], "heat_c = 80 is outside 5..35 C"),
        (
            {"gh.toml": "[heating]\nboiler_kw = 3\n"},
            ["--config", "@gh.toml"],
            "unknown key heating.boiler_kw",
        ),
        (
            {"act.csv": "time,vent_lee_pct\n2018-08-14T00:00:00+02:00,150\n"},
            ["--actuators", "@act.csv"],
            "act.csv row 2: vent_lee_pct = 150 is outside 0..100 %",
        ),
        ({}, ["--days", "0"], "--days must be positive"),
        ({"gh.toml": "\udcff"}, ["--config", "@gh.toml"], "not UTF-8 text"),
        ({"sp.csv": "time,heat_c\n\udcff\n"}, ["--setpoints", "@sp.csv"], "not UTF-8 text"),
        ({}, ["--weather-columns", "time=Date"], "give --weather too"),
    ],
    ids=[
        "unknown-weather-columns", "time-backwards", "start-before-file", "length-past-file",
        "setpoint-out-of-range", "set-out-of-range", "unknown-config-key", "actuator-out-of-range",
        "zero-days", "config-not-utf8", "setpoints-not-utf8", "columns-no-weather",
    ],
)  # fmt: skip


def _files(tmp_path, setup: dict[str, str], args: list[str]) -> list[str]:
    for name, text in setup.items():
        (tmp_path / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    return [str(tmp_path / a[1:]) if a.startswith("@") else a for a in args]


@BAD_INPUTS
def test_bad_input_is_one_clear_line_and_writes_nothing(capsys, tmp_path, setup, args, expected):
    args = _files(tmp_path, setup, args)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(capsys, "sim", "run", *args, "--out", str(out))
    assert code != 0
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert expected in stderr
    assert not out.exists()


def test_out_naming_a_file_is_refused_before_the_season_runs(capsys, tmp_path):
    out = tmp_path / "season.json"
    out.write_text("keep me")
    code, stdout, stderr = run_cli(capsys, "sim", "run", "--days", "1", "--out", str(out))
    assert (code, stdout) == (2, "")
    assert f"--out {out}: exists and is not a folder" in stderr
    assert out.read_text() == "keep me"


@BAD_INPUTS
def test_sweep_refuses_the_same_bad_input_in_one_line(capsys, tmp_path, setup, args, expected):
    args = _files(tmp_path, setup, args)
    code, stdout, stderr = run_cli(
        capsys, "sim", "sweep", "--vary", "co2_ppm=800..900", "--n", "2", "--workers", "1", *args
    )
    assert code != 0
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert expected in stderr


@pytest.mark.parametrize(
    ("vary", "expected"),
    [
        (["heat_c=22..18"], "--vary 'heat_c=22..18': LO must not exceed HI"),
        (["heat_c=18"], "write NAME=LO..HI"),
        (["heat_c=18..80"], "--vary heat_c=18..80: heat_c = 80 is outside 5..35 C"),
        (["heat_c=18..20", "heat_c=19..21"], "each --vary name may appear once"),
        (["heating.boiler=1..2"], "'heating.boiler'; allowed in [heating]: rail_diameter_m"),
        (["heatin.boiler=1..2"], "sections: structure, heating"),
        (["heating.boiler_capacity_w_m2=0..100"], "boiler_capacity_w_m2 = 0.0 must be positive"),
        (["pipe_max_c=70..120"], "pipe_max_c = 120 is outside the allowed 0..95"),
        (["lamps_pct=50..80", "nonsense=1..2"], "--vary nonsense=1..2: unknown name 'nonsense'"),
    ],
)
def test_sweep_refuses_bad_vary_in_one_line(capsys, vary, expected):
    argv = [a for v in vary for a in ("--vary", v)]
    code, stdout, stderr = run_cli(capsys, "sim", "sweep", *argv, "--n", "2", "--days", "1")
    assert code != 0
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert expected in stderr


def test_sweep_varies_a_greenhouse_parameter_and_a_setpoint_together(capsys):
    code, stdout, _ = run_cli(capsys, "sim", "sweep", "--vary", "lamps.par_umol_m2_s=0..200",
                              "--vary", "co2_ppm=600..1000", "--n", "4", "--seed", "3",
                              "--start", "2018-11-01", "--days", "1", "--workers", "1")  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(stdout)))
    par = np.array([float(r["lamps.par_umol_m2_s"]) for r in rows])
    co2 = np.array([float(r["co2_ppm"]) for r in rows])
    # a Latin hypercube: each quarter of each range holds exactly one run
    assert sorted(np.floor(par / 50).astype(int)) == [0, 1, 2, 3]
    assert sorted(np.floor((co2 - 600) / 100).astype(int)) == [0, 1, 2, 3]
    # the parameter reaches the plant: more lamp PAR per run, more light on the crop
    light = np.array([float(r["par_mol_m2"]) for r in rows])
    order = np.argsort(par)
    assert np.all(np.diff(light[order]) > 0)
    assert light[order[-1]] - light[order[0]] > 5.0  # ~16 h of up to 200 umol/m2/s


def test_a_reader_that_goes_away_stops_the_output_quietly():
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "sim", "run", "--days", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # like `serra sim run | head -c 10` once head has had enough
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in stderr


def test_sweep_needs_at_least_one_worker(capsys):
    code, stdout, stderr = run_cli(capsys, "sim", "sweep", "--vary", "heat_c=18..20", "--n", "2",
                                   "--workers", "0")  # fmt: skip
    assert (code, stdout) == (2, "")
    assert "--workers must be at least 1, got 0" in stderr
