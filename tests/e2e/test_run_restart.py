"""`serra run` in a subprocess against the virtual device: kill -9, restart, resume."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from app.db_lock import lock_path
from sim.device_server import TcpServer
from sim.virtual_device import VirtualDevice

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")

SPEED = 600.0


@pytest.fixture
def device():
    from sim.plant import Plant

    plant = Plant()
    plant.advance(1.0)
    dev = VirtualDevice(plant, speed=SPEED, watchdog_s=0.0)
    server = TcpServer(dev).start()
    yield dev, server
    server.stop()


def serra_run(address: str, db, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "app", "run", "--port", address, "--db", str(db),
         "--tick", "0.1", "--speed", str(SPEED), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def plant_start(dev) -> str:
    """The device's plant time now, as the --start of a loop started now."""
    return datetime.fromtimestamp(dev.plant.time_s, UTC).isoformat()


def count(db, sql: str) -> int:
    with sqlite3.connect(db) as c:
        try:
            return c.execute(sql).fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def events(db) -> list[tuple]:
    import json

    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT t_ms, kind, who, data FROM events ORDER BY t_ms, id").fetchall()
    return [(t / 1000.0, k, w, json.loads(d)) for t, k, w, d in rows]


def test_killed_loop_restarts_and_resumes_setpoints_and_overrides(device, tmp_path):
    dev, server = device
    db = tmp_path / "serra.db"
    first = serra_run(
        server.address, db, "--start", plant_start(dev),
        "--override", "vent_lee_pct=0:600:anna:spraying",
    )  # fmt: skip
    deadline = time.monotonic() + 30.0
    while count(db, "SELECT COUNT(*) FROM ticks") < 15:
        assert first.poll() is None, first.stderr.read()
        assert time.monotonic() < deadline, "the loop recorded no ticks"
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert first.returncode == -signal.SIGKILL
    # its lock file stays behind, naming the dead process; the kernel has dropped the lock
    assert lock_path(db).read_text() == f"{first.pid}\n"
    before = events(db)
    kinds = [e[1] for e in before]
    assert [k for k in kinds if k != "strategy_decision"] == ["loop_started", "override_set"]
    assert kinds[2] == "strategy_decision"  # the first plan; no loop_stopped: no clean stop
    ticks_before = count(db, "SELECT COUNT(*) FROM ticks")
    with sqlite3.connect(db) as c:
        last_sp = dict(
            zip(
                ("heat_c", "co2_ppm"),
                c.execute(
                    'SELECT "sp_heat_c", "sp_co2_ppm" FROM ticks ORDER BY t_ms DESC'
                ).fetchone(),
                strict=True,
            )
        )
    with sqlite3.connect(db) as c:
        last_tick_s = c.execute("SELECT MAX(t_ms) FROM ticks").fetchone()[0] / 1000.0
    killed_at = time.monotonic()
    # no --start: plant time continues from the first run's clock anchor in the database
    second = serra_run(server.address, db, "--max-ticks", "10")
    _out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "(resumed)" in err
    assert not lock_path(db).exists()  # the stale lock did not block; the clean stop removed it
    after = events(db)[len(before) :]
    started = after[0]
    assert started[1] == "loop_started" and started[3]["resumed"] is True
    assert started[3]["setpoints"]["heat_c"] == pytest.approx(last_sp["heat_c"])
    assert started[3]["setpoints"]["co2_ppm"] == pytest.approx(last_sp["co2_ppm"])
    (ov,) = started[3]["overrides"]
    assert (ov["actuator"], ov["value"], ov["who"], ov["why"]) == (
        "vent_lee_pct", 0.0, "anna", "spraying",
    )  # fmt: skip
    assert after[-1][1] == "loop_stopped" and after[-1][3]["left_safe"] is True
    assert count(db, "SELECT COUNT(*) FROM ticks") == ticks_before + 10
    with sqlite3.connect(db) as c:
        first_new_s = (
            c.execute(
                "SELECT MIN(t_ms) FROM ticks WHERE t_ms > ?", (last_tick_s * 1000.0,)
            ).fetchone()[0]
            / 1000.0
        )
    gap_s = first_new_s - last_tick_s  # plant seconds between the runs
    assert 0.0 < gap_s <= (time.monotonic() - killed_at + 1.0) * SPEED
    # the restarted loop kept the vents forced closed
    with sqlite3.connect(db) as c:
        vents = [r[0] for r in c.execute(
            'SELECT "cmd_vent_lee_pct" FROM ticks ORDER BY t_ms DESC LIMIT 10')]  # fmt: skip
    assert vents == [0.0] * 10


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_or_sigint_stops_cleanly_with_actuators_safe(device, tmp_path, signum):
    dev, server = device
    db = tmp_path / "serra.db"
    proc = serra_run(server.address, db, "--start", plant_start(dev))
    deadline = time.monotonic() + 30.0
    while count(db, "SELECT COUNT(*) FROM ticks") < 5:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    log = events(db)
    assert log[0][1] == "loop_started" and log[-1][1] == "loop_stopped"
    assert log[-1][3]["left_safe"] is True
    # records flushed: every tick the loop made is in the database
    assert count(db, "SELECT COUNT(*) FROM ticks") == log[-1][3]["ticks"]
    assert err.splitlines()[-1].endswith("actuators left in their safe state")
    act = dev.plant.actuators()
    assert act["co2_valve_pct"] == 0.0 and act["lamps_pct"] == 0.0
    assert act["pipe_sp_c"] == 40.0 and act["vent_lee_pct"] == 5.0


def test_stop_with_the_bus_unreachable_says_the_actuators_were_not_left_safe(tmp_path, capsys):
    from app.cli import main

    db = tmp_path / "serra.db"
    # nothing listens on port 1: every poll and the final fail-safe write fail
    code = main(["run", "--port", "socket://127.0.0.1:1", "--db", str(db), "--tick", "0.01",
                 "--max-ticks", "2"])  # fmt: skip
    err = capsys.readouterr().err.splitlines()
    assert code == 0
    assert err[-1] == (
        "serra run: stopped after 2 ticks; actuators unreachable "
        "(the nodes' watchdogs must apply their safe state)"
    )
    assert "serra run: alarm raised: bus down: no node answered or a write failed" in err
    stopped = [e for e in events(db) if e[1] == "loop_stopped"]
    assert [e[3]["left_safe"] for e in stopped] == [False]


def _heat_plan(rules, times) -> list[float]:
    import numpy as np

    from controllers.loop import default_site
    from controllers.setpoints import SETPOINTS
    from controllers.strategy import make_context

    times = np.asarray(times, dtype=float)
    plan = rules.setpoints(times, make_context(default_site(), times))
    return [float(v) for v in plan[:, SETPOINTS.index("heat_c")]]


def test_rules_set_by_serra_run_survive_kill_9_and_a_restart_without_set(device, tmp_path):
    from controllers.grower_rules import GrowerRules

    dev, server = device
    db = tmp_path / "serra.db"
    first = serra_run(server.address, db, "--start", plant_start(dev), "--set", "heat_c=21")
    deadline = time.monotonic() + 30.0
    while count(db, "SELECT COUNT(*) FROM ticks") < 10:
        assert first.poll() is None, first.stderr.read()
        assert time.monotonic() < deadline, "the loop recorded no ticks"
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    (applied,) = [e for e in events(db) if e[1] == "setpoint_change"]
    assert applied[3]["changed"] == {"heat_c": 21.0}
    assert applied[3]["why"] == "serra run --set heat_c=21"
    n_before = len(events(db))
    ticks_before = count(db, "SELECT COUNT(*) FROM ticks")

    second = serra_run(server.address, db, "--max-ticks", "8")  # no --set this time
    _out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    with sqlite3.connect(db) as c:
        rows = c.execute(
            'SELECT t_ms, "sp_heat_c" FROM ticks ORDER BY t_ms LIMIT -1 OFFSET ?', (ticks_before,)
        ).fetchall()
    times = [t / 1000.0 for t, _ in rows]
    heat = [sp for _, sp in rows]
    assert len(rows) == 8
    set_rules = GrowerRules.from_overrides({"heat_c": 21.0})
    default = _heat_plan(GrowerRules(), times)
    # every resumed tick follows the rules --set put in force: the default plus 0.5 C
    assert heat == pytest.approx(_heat_plan(set_rules, times), abs=1e-9)
    assert heat == pytest.approx([d + 0.5 for d in default], abs=1e-9)
    after = events(db)[n_before:]
    assert [e[1] for e in after if e[1] == "setpoint_change"] == []
    for t, kind, _who, data in after:  # no decision puts heat_c back to its default
        if kind == "strategy_decision" and "heat_c" in data["changed"]:
            assert data["changed"]["heat_c"][1] != pytest.approx(_heat_plan(GrowerRules(), [t])[0])


@pytest.mark.parametrize(
    ("value", "words"),
    [("heat_c", "write NAME=VALUE"), ("heat_c=hot", "must be a number"),
     ("heat_c=99", "heat_c"), ("nonsense=1", "unknown name 'nonsense'")],
)  # fmt: skip
def test_a_bad_set_is_refused_before_anything_runs(tmp_path, capsys, value, words):
    from app.cli import main

    db = tmp_path / "serra.db"
    code = main(["run", "--port", "socket://127.0.0.1:1", "--db", str(db), "--set", value])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0] and "--set" in err[0]
    assert not db.exists()
