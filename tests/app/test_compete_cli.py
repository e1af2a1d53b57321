"""`serra compete run`: leaderboard on stdout, files in --out, same file and seed -> same result."""

from __future__ import annotations

import json
from pathlib import Path

from app.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

_FILE = """
name = "two days"
seed = 5
[season]
start = "2018-09-01"
days = 2
[[teams]]
name = "grower"
kind = "grower"
[[teams]]
name = "warm"
kind = "plugin"
path = "{plugin}"
[[teams]]
name = "igrow"
kind = "schedule"
compartment = "igrow"
"""


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(_FILE.format(plugin=EXAMPLES / "plugin_strategy.py"))
    return path


def test_run_writes_the_leaderboard_and_repeats_it_exactly(tmp_path, capsys):
    path = _file(tmp_path)
    assert main(["compete", "run", str(path), "--out", str(tmp_path / "a")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split()[:3] == ["#", "team", "kind"] and len(printed) == 4
    assert main(["compete", "run", str(path), "--out", str(tmp_path / "b"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    a = (tmp_path / "a" / "leaderboard.json").read_text()
    assert a == (tmp_path / "b" / "leaderboard.json").read_text()
    assert json.loads(a) == rows
    assert {r["team"] for r in rows} == {"grower", "warm", "igrow"}
    for r in rows:
        costs = sum(r[f"cost_{k}_eur_m2"] for k in ("heat", "electricity", "co2", "water",
                                                    "labour", "plants"))  # fmt: skip
        assert abs(r["revenue_eur_m2"] - costs - r["net_profit_eur_m2"]) < 1e-3
    csv_lines = (tmp_path / "a" / "leaderboard.csv").read_text().splitlines()
    assert csv_lines[0].startswith("rank,team,kind,net_profit_eur_m2") and len(csv_lines) == 4
    climate = (tmp_path / "a" / "teams" / "igrow" / "climate.csv").read_text().splitlines()
    assert climate[0].startswith("time,tair_c") and len(climate) == 1 + 2 * 288
    png = (tmp_path / "a" / "summary.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_bad_files_exit_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[season]\ndays = "many"\n[[teams]]\nname = "g"\nkind = "grower"\n')
    assert main(["compete", "run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == "serra: error: bad.toml: season.days: must be a number, got 'many'\n"
    assert main(["compete", "run", str(EXAMPLES / "week.toml")]) == 2
    assert "remote-1 is remote" in capsys.readouterr().err
    assert main(["compete", "run", str(tmp_path / "none.toml")]) == 2
