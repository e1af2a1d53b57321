"""`serra device` and `serra poll` end to end, in subprocesses, with the real simulated plant."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from app.cli import main

SERRA = [sys.executable, "-m", "app"]


def _start_device(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [*SERRA, "device", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    address = proc.stdout.readline().strip()
    if not address:
        proc.kill()
        raise AssertionError(f"device printed no address: {proc.stderr.read()}")
    return proc, address


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    return err


def test_poll_once_json_against_device_listening_on_socket():
    proc, url = _start_device("--listen", "socket://127.0.0.1:0", "--speed", "60")
    try:
        assert url.startswith("socket://127.0.0.1:")
        out = subprocess.run(
            [*SERRA, "poll", "--port", url, "--once", "--json"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        err = _stop(proc)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    signals = doc["signals"]
    assert len(signals) == 22
    tair = signals["tair_c"]
    assert set(tair) >= {"value", "unit", "quality", "age_s"}
    assert tair["unit"] == "C" and tair["quality"] == "good" and 0 <= tair["age_s"] < 5
    assert 5.0 < tair["value"] < 40.0 and 300 < signals["co2_ppm"]["value"] < 2000
    assert signals["vent_lee_pct"]["value"] == 5.0  # safe state at power-up
    climate = doc["health"]["climate"]
    assert climate["ok"] == 1 and climate["identity_checks"] == 1
    assert climate["wrong_device"] is False
    assert climate["identity"] == "model code 101 (expected 101)"
    assert '"requests": 7' in err


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="pseudo-terminals are POSIX only")
def test_device_on_pty_prints_its_path_and_serves_the_real_plant():
    from drivers.nodes import load_nodes
    from drivers.poller import BusPoller

    proc, path = _start_device("--pty", "--speed", "600", "--watchdog-s", "0")
    try:
        assert path.startswith("/dev/")
        poller = BusPoller(load_nodes(), path)
        poller.write_many({"pipe_sp_c": 70.0, "co2_valve_pct": 100.0})
        first = poller.poll_once()
        poller.close()
    finally:
        _stop(proc)
    assert first["pipe_sp_c"].value == 70.0 and first["co2_valve_pct"].value == 100.0
    assert first["rh_pct"].quality.value == "good"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["device", "--pty", "--fault-crc", "1.5"], "crc_p=1.5 must be within 0..1"),
        (["device", "--pty", "--disconnect", "5"], "--disconnect '5': expected START:END"),
        (["device", "--listen", "tcp://x:1"], "must look like socket://HOST:PORT"),
        (["device", "--pty", "--speed", "0"], "--speed 0.0: must be a positive number"),
        (["device", "--listen", "socket://127.0.0.1:0", "--link", "x"], "only applies to --pty"),
        (["poll", "--nodes", "/nonexistent/n.toml", "--once"], "cannot read nodes file"),
        (["poll", "--once"], "no port given"),
        (
            ["poll", "--port", "socket://127.0.0.1:1", "--once"],
            "serra: error: cannot open port socket://127.0.0.1:1: connection refused; is the "
            "device (serra device --listen) running there?",
        ),
        (
            ["poll", "--port", "/dev/serra-no-such-tty", "--once"],
            "serra: error: cannot open port /dev/serra-no-such-tty: no such device; check the "
            "name (ls /dev/serial/by-id/) and that the adapter is plugged in",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err
    port = argv[argv.index("--port") + 1] if "--port" in argv else None
    assert port is None or err.count(port) == 1  # issue 12: the port named once


def test_poll_table_gives_value_unit_quality_and_age_of_every_signal(serve, poller_for, capsys):
    from app.cli_device import _print_cycle

    _, server = serve("socket")
    poller = poller_for(server.address)
    poller.poll_once()
    _print_cycle(poller, as_json=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["signal", "value", "unit", "quality", "age", "node"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:] if line}
    assert len(rows) == 22
    assert rows["tout_c"][:3] == ["-3.25", "C", "good"] and rows["tout_c"][4] == "weather"
    assert rows["co2_ppm"][:3] == ["812", "ppm", "good"]
    assert all(float(r[3].rstrip("s")) < 5.0 for r in rows.values())


def _saved_plant_s(db) -> float | None:
    import sqlite3

    try:
        with sqlite3.connect(db) as c:
            row = c.execute("SELECT t_ms FROM sim_state WHERE key = 'plant'").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return None
    return None if row is None else row[0] / 1000.0


def _wait_saved_past(db, proc, t_s: float) -> float:
    import time

    deadline = time.monotonic() + 60.0
    while (saved := _saved_plant_s(db)) is None or saved < t_s:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, f"no state saved past {t_s}"
        time.sleep(0.1)
    return saved


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 is POSIX")
def test_device_with_a_state_file_continues_its_season_across_stop_and_kill_9(tmp_path):
    from app.resume import SAVE_EVERY_S
    from sim.weather import default_weather

    state = tmp_path / "device.db"
    season_start = float(default_weather().time_s[0])
    args = ("--listen", "socket://127.0.0.1:0", "--speed", "6000", "--state", str(state))
    first, _ = _start_device(*args)
    _wait_saved_past(state, first, season_start + 3 * SAVE_EVERY_S)
    err = _stop(first)
    stopped_s = json.loads(err.strip().splitlines()[-1].split("stopped; ", 1)[1])["plant_time_s"]
    assert _saved_plant_s(state) == pytest.approx(
        stopped_s, abs=1e-3
    )  # the clean stop saved the plant as it stopped

    second, _ = _start_device(*args)
    saved = _wait_saved_past(state, second, stopped_s + 2 * SAVE_EVERY_S)
    second.send_signal(signal.SIGKILL)
    second.wait(10)
    err = second.stderr.read()
    assert "serra device: simulated greenhouse resumed from its state of" in err

    third, _ = _start_device(*args)
    err = _stop(third)
    assert "resumed from its state of" in err
    end_s = json.loads(err.strip().splitlines()[-1].split("stopped; ", 1)[1])["plant_time_s"]
    # the season went on from the last save before the kill, never back to its first day
    assert end_s > saved + 60.0 > stopped_s + 2 * SAVE_EVERY_S
    import sqlite3

    with sqlite3.connect(state) as c:
        started = [json.loads(d) for (d,) in c.execute(
            "SELECT data FROM events WHERE kind = 'sim_started' ORDER BY id")]  # fmt: skip
    assert [s["resumed"] for s in started] == [False, True, True]
    assert started[2]["saved_s"] >= saved


def test_device_state_file_refuses_start_over_a_saved_state(tmp_path, capsys):
    state = tmp_path / "device.db"
    from sim.plant import Plant
    from store.db import open_store
    from store.state import save_state

    with open_store(state) as store, store.write():
        save_state(store, "plant", 0.0, Plant().save_state())
    code = main(["device", "--listen", "socket://127.0.0.1:0", "--state", str(state),
                 "--start", "2018-09-01"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "holds a saved plant state; drop --start to continue it" in err[0]
