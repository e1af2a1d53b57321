"""Against real hardware, only with `pytest --port /dev/ttyUSB0` (nodes file: $SERRA_NODES,
default drivers/maps/example_rs485.toml, an SHT20-style node and a Senseair S8)."""

from __future__ import annotations

import os

import pytest

from drivers.nodes import load_nodes
from drivers.poller import BusPoller
from drivers.readings import Quality
from drivers.regmap import MAPS_DIR


@pytest.fixture
def real_port(request) -> str:
    port = request.config.getoption("--port")
    if not port:
        pytest.skip("real serial hardware: run with --port /dev/ttyUSB0")
    return port


def test_real_bus_answers_with_plausible_values(real_port):
    nodes = load_nodes(os.environ.get("SERRA_NODES", MAPS_DIR / "example_rs485.toml"))
    poller = BusPoller(nodes, real_port)
    try:
        for _ in range(3):
            readings = poller.poll_once()
    finally:
        poller.close()
    good = [r for r in readings.values() if r.quality is Quality.GOOD]
    assert good, f"no node answered: {[h.as_dict() for h in poller.health().values()]}"
