"""`serra sim calibrate` as a user calls it: progress, before/after, a usable TOML, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.cli import main
from sim.config import load_config

FIXTURE = Path(__file__).parents[1] / "controllers" / "data" / "agc2018_reference_7d"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_calibrate_writes_a_config_that_run_and_replay_accept_with_the_reported_error(
    capsys, tmp_path
):
    out = tmp_path / "fitted.toml"
    fit = "structure.cover_transmission,ventilation.leakage_coefficient"
    code, stdout, stderr = run_cli(capsys, "sim", "calibrate", str(FIXTURE), "--days", "1",
                                   "--fit", fit, "--out", str(out), "--max-evals", "24",
                                   "--popsize", "6", "--workers", "2", "--json")  # fmt: skip
    assert code == 0, stderr
    assert "calibrate: generation 1, best error" in stderr and "evaluations" in stderr
    report = json.loads(stdout)
    assert [p["name"] for p in report["parameters"]] == fit.split(",")
    assert 24 <= report["evaluations"] <= 25 + 6  # the start values, then whole generations
    assert report["objective_after"] <= report["objective_before"] + 1e-9
    fitted = load_config(out)
    for p in report["parameters"]:
        assert fitted[p["name"]] == p["fitted"]
        assert p["range"][0] <= p["fitted"] <= p["range"][1]
        assert p["change_pct"] == pytest.approx((p["fitted"] / p["start"] - 1) * 100)
    code, stdout, _ = run_cli(capsys, "sim", "replay", str(FIXTURE), "--days", "1",
                              "--config", str(out), "--json")  # fmt: skip
    assert code == 0
    signals = json.loads(stdout)["signals"]
    for name, rmse in report["rmse_after"][0].items():
        assert signals[name]["rmse"] == pytest.approx(rmse, abs=5e-4)
    code, stdout, _ = run_cli(capsys, "sim", "run", "--start", "2018-09-01", "--days", "1",
                              "--config", str(out))  # fmt: skip
    assert code == 0 and json.loads(stdout)["days"] == 1.0


def test_calibrate_prints_errors_before_and_after_and_each_change(capsys, tmp_path):
    out = tmp_path / "fitted.toml"
    code, stdout, _ = run_cli(capsys, "sim", "calibrate", str(FIXTURE), "--days", "1",
                              "--fit", "structure.h_in_w_m2_k", "--out", str(out),
                              "--max-evals", "8", "--popsize", "4", "--workers", "1")  # fmt: skip
    assert code == 0
    lines = stdout.splitlines()
    air = next(line for line in lines if line.strip().startswith("air temperature"))
    assert all(float(x) > 0 for x in air.split()[-2:])  # RMSE before and after
    error = next(line for line in lines if line.split()[:1] == ["error"] and len(line.split()) == 3)
    before, after = (float(x) for x in error.split()[-2:])
    assert after <= before
    row = next(line for line in lines if line.startswith("structure.h_in_w_m2_k"))
    assert row.split()[1:2] == ["7"] and "3..12" in row.split()
    assert f"wrote {out} (use it as --config)" in stdout
    assert "# fitted, start 7.0, range 3..12" in out.read_text()


@pytest.mark.parametrize(
    ("fit", "message"),
    [
        ("heating.rail_diameter_m", "--fit heating.rail_diameter_m: no fitting range in"),
        ("structure.cover_transmision", "did you mean structure.cover_transmission"),
        ("bogus", "--fit bogus: unknown greenhouse parameter"),
    ],
)
def test_bad_fit_keys_are_refused_in_one_line_and_nothing_written(capsys, tmp_path, fit, message):
    out = tmp_path / "fitted.toml"
    code, stdout, stderr = run_cli(capsys, "sim", "calibrate", str(FIXTURE), "--fit", fit,
                                   "--out", str(out))  # fmt: skip
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and message in stderr
    assert not out.exists()


def test_other_bad_requests_are_refused_in_one_line(capsys, tmp_path):
    cases = [
        (["--out", str(tmp_path)], "is a folder"),
        (["--out", str(tmp_path / "no" / "f.toml")], "create it first"),
        (["--out", str(tmp_path / "f.toml"), "--max-evals", "0"], "--max-evals must be"),
        (["--out", str(tmp_path / "f.toml"), "--start", "2019-05-01"], "holds none of it"),
    ]
    for extra, message in cases:
        code, stdout, stderr = run_cli(capsys, "sim", "calibrate", str(FIXTURE), "--fit",
                                       "structure.h_in_w_m2_k", *extra)  # fmt: skip
        assert code == 2 and stdout == "", extra
        assert stderr.count("\n") == 1 and message in stderr, stderr
    assert not (tmp_path / "f.toml").exists()


def _synthetic_csv(path: Path, changes: dict[str, float], days: float) -> None:
    """A canonical climate CSV: the fixture's logged actuators and setpoints with the climate
    the simulator gives under `changes` (so the truth is known, whatever the model)."""
    from controllers.replay import on_grid, replay
    from controllers.replay_log import load_log
    from controllers.season import CLIMATE_COLUMNS
    from sim.config import replace_values
    from sim.weather import default_weather

    log = load_log(str(FIXTURE))
    config = replace_values(load_config(), changes)
    report, result = replay(log, default_weather(), config=config, days=days)
    assert result.climate is not None
    grid = report.time_s
    columns = {k: on_grid(log.time_s, v, grid, 300.0) for k, v in log.values.items()}
    for name in ("tair_c", "rh_pct", "co2_ppm"):
        columns[name] = report.paired[f"simulated_{name}"]
    columns["fog_pct"] = result.climate[:, CLIMATE_COLUMNS.index("fog_pct")]
    names = list(columns)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("time," + ",".join(names) + "\n")
        for i, t in enumerate(grid):
            when = datetime.fromtimestamp(float(t), UTC).isoformat()
            fh.write(when + "," + ",".join(f"{columns[n][i]:.9g}" for n in names) + "\n")


def test_a_value_that_ends_on_its_range_is_flagged(capsys, tmp_path):
    log = tmp_path / "climate.csv"
    _synthetic_csv(log, {"structure.h_in_w_m2_k": 15.0}, days=1)  # above its range, 3..12
    out = tmp_path / "fitted.toml"
    code, stdout, _ = run_cli(capsys, "sim", "calibrate", str(log), "--fit",
                              "structure.h_in_w_m2_k", "--out", str(out), "--max-evals", "40",
                              "--workers", "1")  # fmt: skip
    assert code == 0
    row = next(line for line in stdout.splitlines() if line.startswith("structure.h_in_w_m2_k"))
    assert float(row.split()[2]) == pytest.approx(12.0, rel=0.005)
    assert row.endswith("3..12  at the upper end")
    assert "note: a value at an end of its range means the logs would have it further out" in stdout


UNCERTAIN = (
    "ventilation.leakage_coefficient,screens.screen_permeability_m3_m2_s_k,"
    "structure.h_rad_cover_w_m2_k,structure.sun_to_air_fraction,heating.pipe_emissivity"
)


def test_cross_check_fits_on_two_compartments_and_checks_on_the_third_in_each_rotation(capsys):
    from app.cli_cross_check import format_cross_check

    logs = ["reference", "igrow", "croperators"]
    code, stdout, stderr = run_cli(capsys, "sim", "cross-check", *logs, "--start", "2018-10-15",
                                   "--days", "3", "--fit", UNCERTAIN, "--max-evals", "40",
                                   "--workers", "1", "--json")  # fmt: skip
    assert code == 0, stderr
    assert "cross-check: rotation 3, generation 1, best error" in stderr
    report = json.loads(stdout)
    rows = report["rotations"]
    assert [r["checked_on"] for r in rows] == logs
    for r in rows:
        assert sorted(r["fitted_on"] + [r["checked_on"]]) == sorted(logs)
        assert r["fit_objective_after"] <= r["fit_objective_before"]
        # what two compartments fit must not make the third, never seen, worse (5 % margin)
        assert r["held_out_objective_after"] <= 1.05 * r["held_out_objective_before"], r
        assert set(r["held_out_rmse_after"]) == {"tair_c", "rh_pct", "co2_ppm"}
        for p in report["parameters"]:
            assert p["range"][0] <= r["fitted"][p["name"]] <= p["range"][1]
    text = format_cross_check(report).splitlines()
    assert text[3].split()[:4] == ["rot", "fitted", "on", "checked"]
    first = text[4].split()
    before = f"{rows[0]['held_out_objective_before']:.3f}"
    assert first[:5] == ["1", "igrow,", "croperators", "reference", before]
    leak = next(line for line in text if line.startswith("ventilation.leakage_coefficient"))
    assert leak.split()[1:] == [
        f"{x:.4g}"
        for x in (
            rows[0]["start"]["ventilation.leakage_coefficient"],
            *(r["fitted"]["ventilation.leakage_coefficient"] for r in rows),
        )
    ] + ["2e-05..0.0005"]


def test_calibrate_reports_a_checked_log_it_did_not_fit_on(capsys, tmp_path):
    out = tmp_path / "fitted.toml"
    code, stdout, stderr = run_cli(capsys, "sim", "calibrate", str(FIXTURE), "--check", "igrow",
                                   "--start", "2018-09-02", "--days", "1", "--fit",
                                   "structure.h_rad_cover_w_m2_k", "--out", str(out),
                                   "--max-evals", "8", "--popsize", "4", "--workers", "1",
                                   "--json")  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout)
    assert len(report["logs"]) == 1 and "iGrow" in report["checked"][0]["log"]
    checked = report["checked"][0]
    code, replayed, _ = run_cli(capsys, "sim", "replay", "igrow", "--start", "2018-09-02",
                                "--days", "1", "--config", str(out), "--json")  # fmt: skip
    for name, rmse in checked["rmse_after"].items():
        assert json.loads(replayed)["signals"][name]["rmse"] == pytest.approx(rmse, abs=5e-4)
    assert checked["objective_after"] == pytest.approx(
        sum(checked["rmse_after"][k] / s for k, s in report["scales"].items()), rel=1e-9
    )
    from app.cli_calibrate import format_result

    assert "(checked, not fitted on)" in format_result(report)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["calibrate", "reference", "--check", "reference", "--out", "x.toml"], "also fitted on"),
        (["cross-check", "reference"], "two logs at least"),
        (["cross-check", "reference", "reference"], "a log is given twice"),
    ],
)
def test_a_check_on_a_fitted_log_is_refused(capsys, tmp_path, argv, message):
    argv = [str(tmp_path / a) if a == "x.toml" else a for a in argv]
    code, stdout, stderr = run_cli(capsys, "sim", *argv, "--fit", "structure.h_in_w_m2_k")
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and message in stderr
