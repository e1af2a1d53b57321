"""Fixtures: a fake clock, and the virtual device served over a pty or a TCP socket."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from drivers.nodes import NodesConfig, load_nodes
from drivers.poller import BusPoller
from sim.device_faults import FaultConfig
from sim.device_server import PtyServer, TcpServer
from sim.virtual_device import VirtualDevice
from tests.drivers.plant_stand_in import StandInPlant


class FakeClock:
    """Seconds that move only when a test says so."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def fast_bus(config: NodesConfig, **changes) -> NodesConfig:
    """The same nodes with a short timeout, so injected faults cost milliseconds."""
    bus = dataclasses.replace(config.bus, timeout_s=0.05, retry_delay_s=0.0, **changes)
    return dataclasses.replace(config, bus=bus)


TRANSPORTS = ["pty", "socket"] if sys.platform != "win32" else ["socket"]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def serve():
    """serve(kind, faults=None, **device_options) -> (device, server); stopped at teardown."""
    servers = []

    def start(kind: str = "socket", faults: FaultConfig | None = None, **options):
        options.setdefault("watchdog_s", 0.0)
        device = VirtualDevice(
            options.pop("plant", None) or StandInPlant(), faults=faults, **options
        )
        server = PtyServer(device) if kind == "pty" else TcpServer(device)
        servers.append(server.start())
        return device, server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def poller_for():
    """poller_for(address, config=None, clock=None) -> BusPoller with a fast bus; closed after."""
    pollers = []

    def make(address: str, config: NodesConfig | None = None, clock=None, **bus_changes):
        cfg = fast_bus(config or load_nodes(), **bus_changes)
        kwargs = {"sleep": lambda s: None}
        if clock is not None:
            kwargs["clock"] = clock
        p = BusPoller(cfg, address, **kwargs)
        pollers.append(p)
        return p

    yield make
    for p in pollers:
        p.close()
