"""`serra sim replay` as a user calls it: figures printed, files written, bad logs refused."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from app.cli import main

FIXTURE = Path(__file__).parents[1] / "controllers" / "data" / "agc2018_reference_7d"
SIGNALS = ("tair_c", "rh_pct", "co2_ppm", "pipe_c", "pipe_grow_c")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_replay_of_the_fixture_prints_figures_and_writes_paired_series(capsys, tmp_path):
    out = tmp_path / "rep"
    code, stdout, _ = run_cli(capsys, "sim", "replay", str(FIXTURE), "--start", "2018-09-02",
                              "--days", "2", "--out", str(out))  # fmt: skip
    assert code == 0
    row = next(line for line in stdout.splitlines() if line.startswith("air temperature"))
    n, rmse, bias, r2 = row.split()[3:7]
    assert float(r2) <= 1.0
    assert int(n) == 576
    assert 0.0 < float(rmse) < 10.0 and abs(float(bias)) <= float(rmse)
    assert "bias by local hour of day" in stdout and "2018-09" in stdout
    with (out / "replay.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["time"] + [f"{k}_{s}" for s in SIGNALS for k in ("measured", "simulated")]
    assert len(rows) == 1 + 576
    assert rows[1][0] == "2018-09-02T00:00:00+02:00"
    assert float(rows[1][1]) == 19.3  # Tair logged at 43345 (Greenhouse_climate.csv line 290)
    png = (out / "replay.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    report = json.loads((out / "report.json").read_text())
    assert report["signals"]["tair_c"]["rmse"] == pytest.approx(float(rmse), abs=0.005)


def test_replay_json_closed_loop_reports_every_signal(capsys):
    code, stdout, _ = run_cli(capsys, "sim", "replay", str(FIXTURE), "--mode", "setpoints",
                              "--start", "2018-09-03", "--days", "1", "--json")  # fmt: skip
    assert code == 0
    report = json.loads(stdout)
    assert report["mode"] == "setpoints"
    assert set(report["signals"]) == set(SIGNALS)
    for figures in report["signals"].values():
        assert figures["n"] == 288 and figures["rmse"] >= abs(figures["bias"])
        assert len(figures["bias_by_hour"]) == 24
    assert report["harvest"] == {
        "compared": False,
        "why": "the replay starts after planting (the log's first day)",
    }


def test_header_only_log_is_refused_in_one_line(capsys, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("time,tair_c,rh_pct\n")
    code, stdout, stderr = run_cli(capsys, "sim", "replay", str(path))
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "no data rows" in stderr


def test_period_outside_the_log_is_refused_in_one_line(capsys):
    code, _, stderr = run_cli(capsys, "sim", "replay", str(FIXTURE), "--start", "2018-11-01")
    assert code == 2
    assert stderr.count("\n") == 1 and "holds none of it" in stderr


def test_missing_log_is_named(capsys, tmp_path):
    code, _, stderr = run_cli(capsys, "sim", "replay", str(tmp_path / "nope.csv"))
    assert code == 2 and "no such file or folder" in stderr
