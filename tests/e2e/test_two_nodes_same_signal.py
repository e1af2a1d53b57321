"""Two nodes carrying the same signal, polled from the virtual device and recorded into a real
SQLite file: the second node's reading gets its own column and every tick is recorded."""

from __future__ import annotations

import sqlite3

from controllers.clock import ManualClock, PlantClock
from controllers.grower_rules import GrowerRules
from controllers.loop import ControlLoop
from drivers.nodes import load_nodes
from drivers.poller import BusPoller
from sim.device_server import TcpServer
from sim.virtual_device import VirtualDevice
from store.recorder import SqliteRecorder

NODES = """
[bus]
timeout_s = 2.0

[nodes.climate]
slave = 1
map = "climate_node.toml"

[nodes.weather]
slave = 2
map = "weather_station.toml"

[nodes.actuators]
slave = 3
map = "actuator_node.toml"

[nodes."climate.east"]
slave = 4
map = "climate_node.toml"
"""


def test_a_second_node_with_the_same_signal_is_recorded_in_its_own_column(tmp_path):
    from sim.plant import Plant

    path = tmp_path / "nodes.toml"
    path.write_text(NODES, encoding="utf-8")
    cfg = load_nodes(path)
    clock = ManualClock(1000.0)
    plant = Plant()
    plant.advance(1.0)
    device = VirtualDevice(plant, cfg, speed=60.0, clock=clock, watchdog_s=0.0)
    server = TcpServer(device).start()
    bus = BusPoller(cfg, server.address, clock=clock, sleep=clock.sleep)
    db = tmp_path / "serra.db"
    recorder = SqliteRecorder(db)
    loop = ControlLoop(
        bus, GrowerRules(), recorder, plant_clock=PlantClock(plant.time_s, 60.0, clock),
        clock=clock, sleep=clock.sleep, tick_s=1.0,
    )  # fmt: skip
    try:
        loop.run(max_ticks=5)
    finally:
        bus.close()
        server.stop()
        recorder.close()
    east = {r.signal: k for k, r in bus.readings().items() if r.node == "climate.east"}
    assert east["tair_c"] != "tair_c"  # the first node keeps the plain name
    assert not loop.alarms.is_active("recording_error")
    assert recorder.lost == 0
    tair, co2 = east["tair_c"], east["co2_ppm"]
    with sqlite3.connect(db) as c:
        rows = c.execute(
            f'SELECT tair_c, "{tair}", "q_{tair}", co2_ppm, "{co2}" FROM ticks ORDER BY t_ms'
        ).fetchall()
    # five ticks, both nodes read the same plant: the same values, flagged good
    assert len(rows) == 5
    for t, t_east, q_east, c, c_east in rows:
        assert t_east == t and c_east == c and q_east == 0
