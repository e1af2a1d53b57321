"""End-to-end fixtures: the virtual greenhouse device served over a pty or socket://, and a
control loop polling it through the real BusPoller, all on one manual clock."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from controllers.clock import ManualClock, PlantClock
from controllers.grower_rules import GrowerRules
from controllers.loop import ControlLoop
from drivers.nodes import load_nodes
from drivers.poller import BusPoller
from sim.device_faults import FaultConfig
from sim.device_server import PtyServer, TcpServer
from sim.virtual_device import VirtualDevice
from tests.controllers.test_loop import MemoryRecorder


@dataclass
class Rig:
    """A device, its server, a poller and a loop sharing one manual clock."""

    clock: ManualClock
    device: VirtualDevice
    server: object
    bus: BusPoller
    loop: ControlLoop
    recorder: MemoryRecorder


@pytest.fixture
def rig():
    """rig(kind, speed, tick_s, watchdog_s, disconnect, timeout_s) -> Rig.

    `timeout_s` is the bus's reply timeout, in wall seconds (the only wall time here): long
    by default so a loaded machine never turns a slow reply into a lost one; a test that
    makes the device silent gives a short one, so a silent poll costs milliseconds.
    """
    made: list[Rig] = []

    def make(kind="socket", speed=60.0, tick_s=1.0, watchdog_s=0.0, disconnect=(), timeout_s=2.0):
        from sim.plant import Plant

        clock = ManualClock(1000.0)
        plant = Plant()
        plant.advance(1.0)
        faults = FaultConfig(disconnect=tuple(disconnect)) if disconnect else None
        device = VirtualDevice(plant, speed=speed, clock=clock, watchdog_s=watchdog_s,
                               faults=faults)  # fmt: skip
        server = (PtyServer(device) if kind == "pty" else TcpServer(device)).start()
        cfg = load_nodes()
        cfg = dataclasses.replace(cfg, bus=dataclasses.replace(cfg.bus, timeout_s=timeout_s))
        bus = BusPoller(cfg, server.address, clock=clock, sleep=clock.sleep)
        recorder = MemoryRecorder()
        loop = ControlLoop(
            bus, GrowerRules(), recorder, plant_clock=PlantClock(plant.time_s, speed, clock),
            clock=clock, sleep=clock.sleep, tick_s=tick_s,
        )  # fmt: skip
        r = Rig(clock, device, server, bus, loop, recorder)
        made.append(r)
        return r

    yield make
    for r in made:
        r.bus.close()
        r.server.stop()
