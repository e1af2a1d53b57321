"""One writer per database: a second `serra run` on a database a running loop holds is refused,
readers keep working meanwhile, and the lock goes with the process (SIGTERM or kill -9)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from app.cli import main
from app.db_lock import lock_path
from tests.e2e.test_run_restart import count, device, events, plant_start, serra_run

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals are POSIX")

__all__ = ["device"]  # the fixture, shared with the restart tests


def wait_for_ticks(proc: subprocess.Popen, db, n: int) -> None:
    """Wait (polling the database, at most 30 s) until the loop has recorded `n` ticks."""
    deadline = time.monotonic() + 30.0
    while count(db, "SELECT COUNT(*) FROM ticks") < n:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the loop recorded no ticks"
        time.sleep(0.1)


def test_second_run_on_a_held_database_is_refused_while_readers_work(
    device, tmp_path, capsys
):  # fmt: skip
    dev, server = device
    db = tmp_path / "serra.db"
    first = serra_run(server.address, db, "--start", plant_start(dev))
    try:
        wait_for_ticks(first, db, 3)
        assert lock_path(db).read_text() == f"{first.pid}\n"
        second = serra_run(server.address, db, "--max-ticks", "1")
        _out, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert err == (
            f"serra: error: database {db} is in use by another Serra process "
            f"(pid {first.pid}); stop it first or use another database\n"
        )
        # readers need no lock: info, export and backup work while the loop writes
        assert main(["db", "info", "--db", str(db)]) == 0
        info = json.loads(capsys.readouterr().out)
        assert info["ticks"] >= 3
        assert main(["db", "export", "--db", str(db)]) == 0
        rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
        assert rows[0][0] == "time" and "tair_c" in rows[0] and len(rows) - 1 >= 3
        backup = tmp_path / "backup.db"
        assert main(["db", "backup", "--db", str(db), "--out", str(backup)]) == 0
        assert count(backup, "SELECT COUNT(*) FROM ticks") >= 3
        assert first.poll() is None  # the loop went on
    finally:
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=20)
    assert first.returncode == 0, err
    assert not lock_path(db).exists()  # released on SIGTERM
    # so the next writer starts on it
    again = serra_run(server.address, db, "--max-ticks", "2")
    _out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "(resumed)" in err


def test_a_second_run_through_a_symlink_or_a_hard_link_is_refused(device, tmp_path):
    dev, server = device
    db = tmp_path / "serra.db"
    first = serra_run(server.address, db, "--start", plant_start(dev))
    (tmp_path / "elsewhere").mkdir()
    symlink, hardlink = tmp_path / "elsewhere" / "link.db", tmp_path / "hard.db"
    try:
        wait_for_ticks(first, db, 3)
        symlink.symlink_to(db)
        os.link(db, hardlink)
        for name in (symlink, hardlink):
            second = serra_run(server.address, name, "--max-ticks", "1")
            _out, err = second.communicate(timeout=60)
            assert second.returncode == 2, err
            assert err == (
                f"serra: error: database {name} is in use by another Serra process "
                f"(pid {first.pid}); stop it first or use another database\n"
            )
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=20)
    assert first.returncode == 0, err
    # one loop wrote: one start, one stop, every tick it counted, and no log under another name
    log = events(db)
    assert [e[1] for e in log if e[1] in ("loop_started", "loop_stopped")] == [
        "loop_started", "loop_stopped",
    ]  # fmt: skip
    assert count(db, "SELECT COUNT(*) FROM ticks") == log[-1][3]["ticks"]
    assert not (tmp_path / "hard.db-wal").exists()
    assert not (tmp_path / "elsewhere" / "link.db-wal").exists()


def test_keep_raw_days_keeps_only_that_much_raw_data(tmp_path, capsys):
    db = tmp_path / "serra.db"
    # nothing listens on port 1: ticks are still recorded, each 0.02 s x 9000 = 3 plant minutes
    args = ["run", "--port", "socket://127.0.0.1:1", "--db", str(db), "--tick", "0.02",
            "--speed", "9000", "--start", "2018-09-01", "--max-ticks", "80"]  # fmt: skip
    assert main([*args, "--keep-raw-days", "0.05"]) == 0
    capsys.readouterr()
    n, lo, hi = (
        count(db, f"SELECT {f}(t_ms) FROM ticks") for f in ("COUNT", "MIN", "MAX")
    )  # fmt: skip
    span_h = (hi - lo) / 3.6e6
    first_h = count(db, "SELECT MIN(t_ms) FROM rollup_1h") / 3.6e6
    # >= 80 ticks x 3 plant minutes = 4 h recorded. Retention runs as each hour begins and cuts
    # on the whole hour 1.2 h (0.05 days) back, so what stays starts at most one hour before
    # the cut the last tick implies. (Plant time follows the wall clock at 9000x, so a tick late
    # under load moves it by minutes: only bounds that hold for any tick timing are asserted.)
    last_cut_h = (hi / 3.6e6 - 1.2) // 1
    assert lo / 3.6e6 >= last_cut_h - 1.0, (lo / 3.6e6, last_cut_h)
    assert span_h < 3.5, span_h
    assert n < 80
    assert lo / 3.6e6 - first_h >= 1.0  # the older hours remain as hourly rollups
    # the default (30 days) keeps every tick of the same run
    db2 = tmp_path / "default.db"
    assert main([*args[:4], str(db2), *args[5:]]) == 0
    assert count(db2, "SELECT COUNT(*) FROM ticks") == 80
