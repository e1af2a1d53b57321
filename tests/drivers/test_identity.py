"""Know which device answers: the [identity] check of a register map, against real devices."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from drivers.errors import MapError, WrongDeviceError
from drivers.nodes import load_nodes
from drivers.readings import Quality
from drivers.regmap import MAPS_DIR, load_map
from sim.device_server import PtyServer
from sim.virtual_device import VirtualDevice
from tests.drivers.conftest import TRANSPORTS, FakeClock
from tests.drivers.plant_stand_in import StandInPlant

CLIMATE = ("tair_c", "rh_pct", "co2_ppm", "par_umol_m2_s")


def _other_model(tmp_path, identity: str | None = "value = 555"):
    """The virtual greenhouse's nodes, but the climate node is another model (or has none)."""
    text = (MAPS_DIR / "climate_node.toml").read_text(encoding="utf-8")
    assert "value = 101" in text
    if identity is None:
        start = text.index("[identity]")
        text = text[:start] + text[text.index("[registers.") :]
    else:
        text = text.replace("value = 101", identity)
    (tmp_path / "climate_node.toml").write_text(text, encoding="utf-8")
    nodes = (MAPS_DIR / "virtual_greenhouse.toml").read_text(encoding="utf-8")
    (tmp_path / "nodes.toml").write_text(nodes, encoding="utf-8")
    return load_nodes(tmp_path / "nodes.toml")


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_another_model_at_the_address_is_a_wrong_device_with_bad_readings(
    kind, tmp_path, serve, poller_for
):
    device, server = serve(kind, nodes=_other_model(tmp_path))
    poller = poller_for(server.address)
    for _ in range(3):
        readings = poller.poll_once()
    health = poller.health()
    climate = health["climate"]
    assert climate.wrong_device is True
    assert climate.identity == "model code 555 (expected 101)"
    assert climate.identity_checks == 3  # checked again each cycle until it passes
    assert "wrong device at slave 1" in climate.last_error
    assert {readings[s].quality for s in CLIMATE} == {Quality.BAD}
    assert all(readings[s].value is None for s in CLIMATE)  # its registers are never taken
    # the other nodes are who they say they are and read normally
    assert not health["weather"].wrong_device and health["weather"].identity_checks == 1
    assert readings["tout_c"].quality is Quality.GOOD
    # three checks of the climate node and none of its reads; one check of each other node
    # and three cycles of their three read requests (weather 1, actuators 2)
    assert device.requests == 3 + 2 + 3 * 3


def test_nothing_is_written_to_a_wrong_device(tmp_path, serve, poller_for):
    _other_model(tmp_path)
    actuator_map = (MAPS_DIR / "actuator_node.toml").read_text(encoding="utf-8")
    (tmp_path / "actuator_node.toml").write_text(
        actuator_map.replace("value = 103", "value = 7"), encoding="utf-8"
    )
    device, server = serve("socket", nodes=load_nodes(tmp_path / "nodes.toml"))
    poller = poller_for(server.address)
    with pytest.raises(WrongDeviceError, match="not writing to node actuators: wrong device"):
        poller.write_many({"vent_lee_pct": 40.0})
    assert device.writes == 0 and device.plant.actuators()["vent_lee_pct"] == 5.0


def test_a_device_that_refuses_the_identity_register_is_a_wrong_device(tmp_path, serve, poller_for):
    _, server = serve("socket", nodes=_other_model(tmp_path, identity=None))
    poller = poller_for(server.address)
    readings = poller.poll_once()
    climate = poller.health()["climate"]
    assert climate.wrong_device and climate.exceptions == 1
    assert climate.identity == "model code refused (exception 2) (expected 101)"
    assert readings["tair_c"].quality is Quality.BAD


@pytest.mark.skipif("pty" not in TRANSPORTS, reason="pseudo-terminals are POSIX only")
def test_after_a_reopen_another_device_on_the_same_path_is_not_read_as_good(tmp_path, poller_for):
    """The issue: a device vanished, another process took its pty, its replies were good."""
    link = str(tmp_path / "serra-bus")
    first = PtyServer(VirtualDevice(StandInPlant(), watchdog_s=0.0), link=link).start()
    clock = FakeClock()
    poller = poller_for(link, clock=clock)
    assert poller.poll_once()["tair_c"].quality is Quality.GOOD
    first.stop()
    poller.poll_once()
    assert not poller.is_open

    impostor = VirtualDevice(StandInPlant(), nodes=_other_model(tmp_path), watchdog_s=0.0)
    second = PtyServer(impostor, link=link).start()
    try:
        clock.advance(1.0)  # past the reopen backoff
        readings = poller.poll_once()
        assert poller.opens == 2
        climate = poller.health()["climate"]
        assert climate.wrong_device and climate.identity == "model code 555 (expected 101)"
        assert {readings[s].quality for s in CLIMATE} == {Quality.BAD}
        assert readings["tout_c"].quality is Quality.GOOD  # the same models still identify
    finally:
        poller.close()
        second.stop()


def test_serra_poll_json_reports_the_wrong_device(tmp_path, serve, capsys):
    _, server = serve("socket", nodes=_other_model(tmp_path))
    assert main(["poll", "--port", server.address, "--once", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["health"]["climate"]["wrong_device"] is True
    assert doc["health"]["climate"]["identity"] == "model code 555 (expected 101)"
    assert doc["signals"]["tair_c"]["quality"] == "bad"
    assert doc["health"]["weather"]["wrong_device"] is False


def test_serra_poll_table_names_the_wrong_device(tmp_path, serve, capsys):
    _, server = serve("socket", nodes=_other_model(tmp_path))
    assert main(["poll", "--port", server.address, "--once"]) == 0
    out = capsys.readouterr().out
    assert "node climate: wrong device at slave 1: model code 555 (expected 101)" in out


def test_shipped_maps_declare_an_identity():
    for name in ("climate_node", "weather_station", "actuator_node", "sht20", "senseair_s8"):
        assert load_map(MAPS_DIR / f"{name}.toml").identity is not None, name


_BASE = '[registers.co2_ppm]\ntable = "input"\naddress = 3\ntype = "uint16"\n'


@pytest.mark.parametrize(
    ("identity", "key", "words"),
    [
        ('table = "input"\naddress = 9\n', "identity", "needs the expected value"),
        ('table = "input"\naddress = 9\nvalue = 1\nlo = 0\n', "identity.value", "not both"),
        ('table = "input"\naddress = 3\nvalue = 1\n', "identity.address", "already used"),
        ('table = "coil"\naddress = 9\nvalue = 1\n', "identity.table", "allowed: input"),
        ('table = "input"\naddress = 9\nlo = 5\nhi = 1\n', "identity.lo", "above hi"),
        ('table = "input"\naddress = 9\nvalue = 1\nmodel = 2\n', "identity.model", "unknown key"),
    ],
)
def test_bad_identity_is_refused_with_one_line(tmp_path, identity, key, words):
    path = tmp_path / "m.toml"
    path.write_text(f"[identity]\n{identity}\n{_BASE}", encoding="utf-8")
    with pytest.raises(MapError) as err:
        load_map(path)
    assert str(err.value).startswith(f"{path}: {key}: ") and words in str(err.value)
    assert "\n" not in str(err.value)
