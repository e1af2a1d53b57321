"""`serra run` exit codes a supervisor acts on: refused at start (2), records lost (3), fatal (1).

Real processes on real SQLite files; a full disk is a file-size limit (RLIMIT_FSIZE) on the
process, under which SQLite's writes fail as on a full disk.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from app.cli import main
from tests.e2e.test_run_restart import count, device, events, plant_start

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and rlimits")

__all__ = ["device"]

# nothing listens on port 1: every poll fails, ticks are still made and recorded
NO_BUS = ["--port", "socket://127.0.0.1:1", "--tick", "0.01", "--speed", "6000",
          "--start", "2018-09-01"]  # fmt: skip


def test_a_read_only_database_is_refused_with_one_line_before_any_tick(device, tmp_path, capsys):
    dev, server = device
    db = tmp_path / "serra.db"
    assert main(["run", *NO_BUS, "--db", str(db), "--max-ticks", "2"]) == 0
    capsys.readouterr()
    before = (count(db, "SELECT COUNT(*) FROM ticks"), len(events(db)))
    db.chmod(0o444)
    code = main(["run", "--port", server.address, "--db", str(db), "--tick", "0.1",
                 "--speed", "600", "--start", plant_start(dev), "--max-ticks", "5"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        f"serra: error: database {db} is read-only (mode 444): Serra would control without "
        "recording; make it writable (chmod u+w) or use another database\n"
    )
    # nothing controlled: the device never saw a request, and nothing was recorded
    assert dev.requests == 0 and dev.writes == 0
    assert (count(db, "SELECT COUNT(*) FROM ticks"), len(events(db))) == before


def test_a_disk_full_mid_run_exits_3_naming_how_many_ticks_were_not_recorded(tmp_path):
    import resource

    db = tmp_path / "serra.db"
    limit = 500_000  # bytes per file: the schema and some ticks fit, the log then fills it

    def full_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "app", "run", *NO_BUS, "--db", str(db), "--max-ticks", "400"],
        preexec_fn=full_disk, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    lines = proc.stderr.splitlines()
    assert proc.returncode == 3, proc.stderr
    assert "serra run: alarm raised: recording failed: records may be lost" in lines
    made = int(re.fullmatch(r"serra run: stopped after (\d+) ticks;.*", lines[-2]).group(1))
    lost = re.fullmatch(r"serra run: error: (\d+) ticks were not recorded: (.+)", lines[-1])
    assert lost, lines[-1]
    recorded = count(db, "SELECT COUNT(*) FROM ticks")
    assert made == 400 and 0 < recorded < 400
    assert int(lost.group(1)) == made - recorded  # every tick is either stored or counted
    assert lost.group(2) == "disk I/O error"


# the real `serra run` with its climate computer failing from the 4th tick on (the kernel is
# looked up when the loop is built, so replacing it in the module injects the fault)
FAILING_COMPUTER = """
import sys
import controllers.loop as loop
real = loop.climate_computer_step
calls = [0]

def flaky(*args):
    calls[0] += 1
    if calls[0] >= 4:
        raise RuntimeError("kernel fault")
    real(*args)

loop.climate_computer_step = flaky
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_loop_that_keeps_failing_exits_1_for_the_supervisor_with_tracebacks(tmp_path):
    db = tmp_path / "serra.db"
    proc = subprocess.run(
        [sys.executable, "-c", FAILING_COMPUTER, "run", *NO_BUS, "--db", str(db),
         "--max-failed-ticks", "3"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": os.getcwd()},
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    err = proc.stderr
    lines = err.splitlines()
    assert lines[-1] == (
        "serra run: fatal: the control loop failed 3 ticks in a row (last: RuntimeError: "
        "kernel fault)"
    )
    assert lines[-2].startswith("serra run: stopped after 3 ticks;")
    # each failure logged with its traceback, and the alarm raised once
    assert err.count("serra run: ERROR controllers.loop: control tick failed") == 3
    assert err.count("Traceback (most recent call last):") == 3
    assert err.count(", in flaky\nRuntimeError: kernel fault\n") == 3
    assert err.count("alarm raised: control loop failed (RuntimeError: kernel fault)") == 1
    kinds = [(k, d.get("alarm")) for _t, k, _w, d in events(db)]
    assert ("alarm_raised", "loop_failed") in kinds and kinds[-1][0] == "loop_stopped"
    assert count(db, "SELECT COUNT(*) FROM ticks") == 3
