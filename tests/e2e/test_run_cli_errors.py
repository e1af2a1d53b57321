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


def _recorded(db) -> tuple[int, int]:
    import sqlite3

    with sqlite3.connect(db) as c:
        return c.execute(
            "SELECT (SELECT COUNT(*) FROM ticks), (SELECT COUNT(*) FROM events)"
        ).fetchone()


@pytest.fixture
def db_with_ticks(tmp_path):
    """A database whose last loop tick is 2024-06-01 02:02 site time (00:02 UTC)."""
    from store.recorder import SqliteRecorder
    from tests.store.conftest import tick

    db = tmp_path / "serra.db"
    rec = SqliteRecorder(db)
    for i in range(3):
        rec.record_tick(tick(i))
    rec.close()
    return db


@pytest.mark.parametrize(
    ("args", "starts"),
    [
        (["--start", "2024-05-31", "--speed", "600"], "2024-05-31T00:00:00+02:00"),
        (["--start", "2024-06-01T02:02", "--speed", "600"], "2024-06-01T02:02:00+02:00"),
        # no --start at a speed never run in this file: the shipped weather's first day
        (["--speed", "300"], "2018-08-14T00:00:00+02:00"),
    ],
)
def test_a_start_not_after_the_databases_last_tick_is_refused_up_front(db_with_ticks, args,
                                                                        starts):  # fmt: skip
    import subprocess
    import sys

    before = _recorded(db_with_ticks)
    done = subprocess.run(
        [sys.executable, "-m", "app", "run", "--port", "loop://", "--db", str(db_with_ticks),
         "--tick", "0.1", "--max-ticks", "2", "--quiet", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"serra: error: {db_with_ticks}: its last tick is at 2024-06-01T02:02:00+02:00 and "
        f"this run would start at {starts}, so every tick would be refused as not later; "
        "give a --start after its last tick or another --db\n"
    )
    assert _recorded(db_with_ticks) == before  # nothing run, nothing written


def test_a_start_after_the_databases_last_tick_records(db_with_ticks):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "app", "run", "--port", "loop://", "--db", str(db_with_ticks),
         "--tick", "0.1", "--max-ticks", "2", "--quiet", "--speed", "600",
         "--start", "2024-06-01T02:03"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _recorded(db_with_ticks)[0] == 3 + 2


def test_a_run_on_the_wall_clock_behind_the_database_still_controls(tmp_path):
    # a greenhouse whose clock was set back is not left uncontrolled (exit 2 is not restarted):
    # it runs, and says its ticks were refused (exit 3)
    import subprocess
    import sys

    from store.recorder import SqliteRecorder
    from tests.store.conftest import tick

    db = tmp_path / "serra.db"
    rec = SqliteRecorder(db)
    rec.record_tick(tick(0, time_s=4_102_444_800.0))  # 2100-01-01
    rec.close()
    done = subprocess.run(
        [sys.executable, "-m", "app", "run", "--port", "loop://", "--db", str(db),
         "--tick", "0.1", "--max-ticks", "1", "--quiet"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "stopped after 1 ticks" in done.stderr and "1 ticks refused as out of time order" in (
        done.stderr
    )
