"""Replay, config and price files that would silently change nothing (or crash) are refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from controllers.actuator_replay import ACTUATOR_COLUMNS
from controllers.setpoints import SETPOINT_RANGES

_FIXTURES_OK = [HealthCheck.function_scoped_fixture]


def _refused(capsys, *argv) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("serra: error: ")
    return err


@settings(max_examples=25, deadline=None, suppress_health_check=_FIXTURES_OK)
@given(
    option=st.sampled_from(["--setpoints", "--actuators"]),
    n_columns=st.integers(min_value=0, max_value=4),
    blank_rows=st.integers(min_value=0, max_value=3),
    data=st.data(),
)
def test_header_only_or_all_empty_replay_files_are_refused(
    tmp_path, capsys, option, n_columns, blank_rows, data
):
    allowed = sorted(SETPOINT_RANGES if option == "--setpoints" else ACTUATOR_COLUMNS)
    columns = data.draw(st.lists(st.sampled_from(allowed), min_size=n_columns,
                                 max_size=n_columns, unique=True))  # fmt: skip
    lines = [",".join(["time", *columns])]
    empty_rows = data.draw(st.booleans())
    if empty_rows:  # rows with times but no value anywhere
        lines += [f"2018-08-14T{h:02d}:00:00+02:00" + "," * len(columns) for h in range(3)]
    lines += [""] * blank_rows
    path = tmp_path / "replay.csv"
    path.write_text("\n".join(lines) + "\n")
    err = _refused(capsys, "sim", "run", "--days", "1", option, str(path))
    assert "replay.csv" in err
    assert any(
        s in err for s in ("no column after 'time'", "no data rows", "every value cell is empty")
    ), err


def test_serra_run_refuses_a_header_only_setpoint_file_before_touching_anything(tmp_path, capsys):
    path = tmp_path / "sp.csv"
    path.write_text("time,heat_c\n")
    db = tmp_path / "serra.db"
    err = _refused(capsys, "run", "--setpoints", str(path), "--db", str(db))
    assert "sp.csv: no data rows after the header" in err and not db.exists()


@pytest.mark.parametrize("option", ["--setpoints", "--actuators"])
def test_rows_all_outside_the_season_are_refused(tmp_path, capsys, option):
    column = "heat_c" if option == "--setpoints" else "vent_lee_pct"
    path = tmp_path / "late.csv"
    path.write_text(f"time,{column}\n2019-08-14T00:00:00+02:00,20\n2019-08-14T06:00:00+02:00,21\n")
    err = _refused(capsys, "sim", "run", "--days", "1", option, str(path))
    assert f"{option} late.csv: no row falls in the season 2018-08-14 00:00 CEST" in err
    path.write_text(f"time,{column}\n2018-08-01T00:00:00+02:00,20\n2018-08-01T06:00:00+02:00,21\n")
    err = _refused(capsys, "sim", "run", "--days", "1", option, str(path))
    assert "no row falls in the season" in err


def test_a_replay_file_covering_part_of_the_season_is_reported(tmp_path, capsys):
    path = tmp_path / "sp.csv"
    path.write_text(
        "time,heat_c\n2018-08-14T06:00:00+02:00,19\n2018-08-14T12:00:00+02:00,20\n"
        "2018-08-14T18:00:00+02:00,19\n"
    )
    assert main(["sim", "run", "--days", "2", "--setpoints", str(path)]) == 0
    out, err = capsys.readouterr()
    coverage = json.loads(out)["replay_coverage"]["setpoints"]
    assert coverage == {
        "file": "sp.csv",
        "first_row": "2018-08-14T06:00:00+02:00",
        "last_row": "2018-08-14T18:00:00+02:00",
        "strategy_hours_before_first_row": 6.0,
        "held_hours_after_last_row": 24.0,  # covered to 00:00 (rows 6 h apart), season to 16 Aug
    }
    assert "the grower rules drove the first 6.0 h" in err
    assert "its last row was held for the last 24.0 h" in err


@pytest.mark.parametrize("option", ["--config", "--prices"])
@pytest.mark.parametrize("text", ["", "\n  \n", "# nothing set yet\n"])
def test_an_empty_config_or_price_file_is_refused(tmp_path, capsys, option, text):
    path = tmp_path / "over.toml"
    path.write_text(text)
    err = _refused(capsys, "sim", "run", "--days", "1", option, str(path))
    assert err.strip() == f"serra: error: {path} is empty: remove {option} to use the defaults"


@pytest.mark.parametrize("option", ["--setpoints", "--actuators"])
def test_a_huge_cell_in_a_replay_file_is_one_line(tmp_path, capsys, option):
    column = "heat_c" if option == "--setpoints" else "vent_lee_pct"
    path = tmp_path / "big.csv"
    path.write_text(f'time,{column}\n2018-08-14T00:00:00+02:00,"{"9" * 10_000_000}\n')
    err = _refused(capsys, "sim", "run", "--days", "1", option, str(path))
    assert "big.csv row 2: a cell longer than 131072 characters" in err


def test_library_loaders_refuse_empty_files_too(tmp_path):
    from sim.config import ConfigError, load_config
    from sim.economics import EconomicsError, load_prices

    path = tmp_path / "e.toml"
    path.write_text("")
    with pytest.raises(ConfigError, match="is empty"):
        load_config(path)
    with pytest.raises(EconomicsError, match="is empty"):
        load_prices(path)
