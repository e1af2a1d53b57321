"""`serra run` refuses bad input with one line and exit code 2, before touching the bus."""

from __future__ import annotations

import pytest

from app.cli import main


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tick", "0"], "--tick 0.0: must be a positive number"),
        (["--speed", "-1"], "--speed -1.0: must be a positive number"),
        (["--strategy", "schedule"], "--strategy schedule needs --setpoints CSV"),
        (["--override", "vent_lee_pct=0"], "expected NAME=VALUE:MINUTES:WHO:WHY"),
        (["--override", "vent_lee_pct=150:30:a:b"], "--override: override vent_lee_pct = 150"),
        (["--override", "pipe_c=1:30:a:b"], "unknown actuator 'pipe_c'"),
        (["--max-ticks", "0"], "--max-ticks 0: must be at least 1"),
        (["--strategy-every", "0"], "--strategy-every 0.0: must be a positive number"),
        (["--notify-command", " "], "--notify-command is empty"),
        (["--start", "yesterday", "--speed", "60"], "--start 'yesterday'"),
        (["--keep-raw-days", "0"], "--keep-raw-days 0.0: must be a positive number"),
        (["--keep-raw-days", "-7"], "--keep-raw-days -7.0: must be a positive number"),
        (["--keep-raw-days", "inf"], "--keep-raw-days inf: must be a positive number"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, message, capsys, tmp_path):
    code = main(["run", "--port", "loop://", "--db", str(tmp_path / "x.db"), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.db").exists()


def test_bad_setpoint_file_is_named(tmp_path, capsys):
    bad = tmp_path / "sp.csv"
    bad.write_text("time,heat_c\n2018-08-14T00:00:00+02:00,99\n")
    code = main(["run", "--port", "loop://", "--db", str(tmp_path / "x.db"), "--setpoints",
                 str(bad)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "sp.csv row 2: heat_c = 99 is outside 5..35" in err
