"""`serra run` says how the greenhouse does between start and stop (stderr), or not (--quiet)."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import sys

import pytest

from app.run_status import StatusRecorder
from controllers.records import TickRecord

T0 = 1_534_197_600.0  # 2018-08-14 00:00 Europe/Amsterdam, a whole 10 minutes


class _Recorder:
    def __init__(self) -> None:
        self.ticks: list[TickRecord] = []
        self.closed = False

    def record_tick(self, record: TickRecord) -> None:
        self.ticks.append(record)

    def close(self) -> None:
        self.closed = True


def _tick(i: int) -> TickRecord:
    return TickRecord(
        time_s=T0 + 60.0 * i,
        measurements={"tair_c": 20.0 + i / 10, "rh_pct": 75.4, "co2_ppm": float("nan")},
        quality={},
        setpoints={},
        commands={},
        readbacks={},
        health={"alarms_active": 1.0 if i >= 20 else 0.0},
    )


def test_one_line_every_ten_plant_minutes_with_the_climate():
    inner, out = _Recorder(), io.StringIO()
    status = StatusRecorder(inner, 600.0, out, "Europe/Amsterdam")
    for i in range(30):
        status.record_tick(_tick(i))
    status.close()
    lines = out.getvalue().splitlines()
    assert len(inner.ticks) == 30 and inner.closed  # everything still reaches the recorder
    assert lines == [
        "serra run: 2018-08-14 00:00 CEST  tair 20.0 C  rh 75 %  co2 - ppm  alarms 0  ticks 1",
        "serra run: 2018-08-14 00:10 CEST  tair 21.0 C  rh 75 %  co2 - ppm  alarms 0  ticks 11",
        "serra run: 2018-08-14 00:20 CEST  tair 22.0 C  rh 75 %  co2 - ppm  alarms 1  ticks 21",
    ]


@pytest.fixture
def device():
    from sim.device_server import TcpServer
    from sim.plant import Plant
    from sim.virtual_device import VirtualDevice

    plant = Plant()
    plant.advance(1.0)
    server = TcpServer(VirtualDevice(plant, speed=600.0, watchdog_s=0.0)).start()
    yield server
    server.stop()


def _serra_run(address: str, db, *extra: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "app", "run", "--port", address, "--db", str(db), "--tick",
         "0.1", "--speed", "600", "--start", "2018-08-14", "--max-ticks", "25", *extra],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


def test_serra_run_prints_status_lines_and_quiet_silences_them(device, tmp_path):
    err = _serra_run(device.address, tmp_path / "a.db")
    status = [line for line in err.splitlines() if re.search(r"tair [\d.-]+ C", line)]
    # 25 ticks of at least 60 plant-seconds span 24+ plant minutes: lines at least 10 min apart
    assert len(status) >= 2, err
    found = re.findall(r"2018-08-1\d (\d\d):(\d\d) CEST", "\n".join(status))
    minutes = [60 * int(h) + int(m) for h, m in found]
    ticks = [int(t) for t in re.findall(r"ticks (\d+)", "\n".join(status))]
    assert len(minutes) == len(status) and ticks[0] == 1 and ticks == sorted(set(ticks))
    assert all(b // 10 > a // 10 for a, b in itertools.pairwise(minutes)), status
    assert re.fullmatch(
        r"serra run: 2018-08-14 00:\d\d CEST  tair \d+\.\d C  rh \d+ %  co2 \d+ ppm  "
        r"alarms \d+  ticks \d+",
        status[0],
    )
    quiet = _serra_run(device.address, tmp_path / "b.db", "--quiet")
    assert "tair" not in quiet and "stopped after 25 ticks" in quiet
