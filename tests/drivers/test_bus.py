"""The poller against the virtual device over a pseudo-terminal and over socket://."""

import pytest

from drivers.errors import PortError, WriteRejectedError
from drivers.nodes import load_nodes, parse_nodes
from drivers.readings import Quality
from sim.device_faults import FaultConfig, FaultInjector
from tests.drivers.conftest import TRANSPORTS, FakeClock
from tests.drivers.plant_stand_in import FIXED


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_poll_reads_every_signal_and_writes_commands(kind, serve, poller_for):
    device, server = serve(kind)
    poller = poller_for(server.address)
    readings = poller.poll_once()
    assert len(readings) == 22
    assert {r.quality for r in readings.values()} == {Quality.GOOD}
    for name in ("tair_c", "rh_pct", "co2_ppm", "tout_c", "rhout_pct", "wind_m_s", "rain"):
        assert readings[name].value == FIXED[name]
    assert readings["iglob_w_m2"].value == pytest.approx(123.456, rel=1e-6)  # float32, CDAB
    assert readings["tout_c"].unit == "C" and readings["tout_c"].node == "weather"
    assert readings["vent_lee_pct"].value == 5.0  # power-up safe state read back

    poller.write_many({"pipe_sp_c": 55.5, "vent_lee_pct": 33.3, "vent_wind_pct": 12.0})
    act = device.plant.actuators()
    assert (act["pipe_sp_c"], act["vent_wind_pct"]) == (55.5, 12.0)
    assert act["vent_lee_pct"] == pytest.approx(33.3)
    assert device.writes == 2  # registers 0 alone (FC06), 2..3 as one FC16
    readings = poller.poll_once()
    assert readings["pipe_c"].value == 55.5
    assert readings["vent_lee_pct"].value == pytest.approx(33.3)
    health = poller.health()
    assert health["actuators"].ok == 6 and health["climate"].ok == 2
    # one identity check per node at the first read, counted apart from the data reads
    assert health["climate"].identity_checks == 1 and not health["climate"].wrong_device
    assert health["climate"].identity == "model code 101 (expected 101)"
    assert 0 < health["climate"].last_latency_s < 0.05


def test_out_of_bounds_and_read_only_writes_never_reach_the_bus(serve, poller_for):
    device, server = serve("socket")
    poller = poller_for(server.address)
    with pytest.raises(WriteRejectedError, match=r"vent_lee_pct = 150 outside its bounds"):
        poller.write_many({"pipe_sp_c": 50.0, "vent_lee_pct": 150})
    with pytest.raises(WriteRejectedError, match="'tair_c' is not a writable command"):
        poller.write("tair_c", 20.0)
    with pytest.raises(WriteRejectedError, match="not a finite number"):
        poller.write("lamps_pct", float("nan"))
    assert device.requests == 0


FAULTS = [
    ("crc", FaultConfig(crc_p=0.25, seed=1), "crc_errors"),
    ("drop", FaultConfig(drop_p=0.25, seed=2), "timeouts"),
    ("wrong_slave", FaultConfig(wrong_slave_p=0.25, seed=3), "wrong_slave"),
]


@pytest.mark.parametrize("kind", TRANSPORTS)
@pytest.mark.parametrize(("fault", "faults", "counter"), FAULTS)
def test_each_fault_is_counted_and_survived(kind, fault, faults, counter, serve, poller_for):
    device, server = serve(kind, faults)
    poller = poller_for(server.address)
    for _ in range(12):
        readings = poller.poll_once()
    injected = device.faults.counts[fault]
    assert injected >= 5
    health = poller.health().values()
    counted = sum(getattr(h, counter) for h in health)
    assert counted == injected
    # nothing else went wrong: every request was a good read, a good identity check or a fault
    assert sum(h.ok + h.identity_checks for h in health) + counted == device.requests
    assert sum(h.ok for h in health) >= 12 * 4 - 1
    assert {r.quality for r in readings.values()} == {Quality.GOOD}
    assert readings["tair_c"].value == 21.5


def test_garbage_before_replies_is_skipped_without_errors(serve, poller_for):
    device, server = serve("pty", FaultConfig(garbage_p=0.5, seed=5))
    poller = poller_for(server.address)
    for _ in range(10):
        readings = poller.poll_once()
    assert device.faults.counts["garbage"] >= 10
    health = poller.health().values()
    assert sum(h.ok for h in health) == 40
    assert sum(h.crc_errors + h.timeouts + h.wrong_slave for h in health) == 0
    assert readings["co2_ppm"].value == 812.0


def test_garbage_sent_to_the_device_does_not_stop_it(serve, poller_for):
    import serial

    _, server = serve("socket")
    junk = serial.serial_for_url(server.address, timeout=0.05)
    junk.write(bytes(range(256)) + b"\x01\x04\x00")  # noise and half a request
    junk.read(300)
    junk.close()
    readings = poller_for(server.address).poll_once()
    assert readings["tair_c"].quality is Quality.GOOD and readings["tair_c"].value == 21.5


def test_slow_replies_time_out_and_the_retry_gets_the_value(serve, poller_for):
    device, server = serve("socket", FaultConfig(slow_p=0.3, slow_s=0.08, seed=6))
    poller = poller_for(server.address)
    for _ in range(6):
        readings = poller.poll_once()
    timeouts = sum(h.timeouts for h in poller.health().values())
    assert device.faults.counts["slow"] >= 3
    assert 1 <= timeouts <= device.faults.counts["slow"]
    assert {r.quality for r in readings.values()} == {Quality.GOOD}


def test_values_go_stale_after_n_failures_or_age_and_bad_when_refused(serve, poller_for):
    clock = FakeClock()
    device, server = serve("socket")
    poller = poller_for(server.address, clock=clock, retries=0)
    poller.poll_once()
    t_read = clock()
    assert poller.readings(t_read + 60.0)["tair_c"].quality is Quality.GOOD
    assert poller.readings(t_read + 60.1)["tair_c"].quality is Quality.STALE  # max_age_s 60

    device.faults = FaultInjector(FaultConfig(drop_p=1.0))  # the line goes dead
    for cycle in (1, 2, 3):
        clock.advance(1.0)
        r = poller.poll_once()["tair_c"]
        assert r.quality is (Quality.GOOD if cycle < 3 else Quality.STALE)
        assert r.value == 21.5 and r.timestamp == t_read
    assert poller.health()["climate"].consecutive_failures == 3

    device.faults = FaultInjector()
    assert poller.poll_once()["tair_c"].quality is Quality.GOOD


def test_exception_reply_marks_signal_bad_without_retries(tmp_path, serve, poller_for):
    (tmp_path / "m.toml").write_text(
        '[registers.tair_c]\ntable = "input"\naddress = 50\ntype = "int16"\n'
    )
    cfg = parse_nodes({"nodes": {"odd": {"slave": 1, "map": "m.toml"}}}, tmp_path / "n.toml")
    _, server = serve("socket")
    poller = poller_for(server.address, cfg)
    r = poller.poll_once()["tair_c"]
    assert r.quality is Quality.BAD and r.value is None
    h = poller.health()["odd"]
    assert (h.exceptions, h.timeouts, h.ok) == (1, 0, 0)
    assert "illegal data address" in h.last_error


def test_watchdog_trip_is_visible_in_the_readback(serve, poller_for):
    dclock = FakeClock()
    device, server = serve("socket", watchdog_s=30.0, clock=dclock)
    poller = poller_for(server.address)
    poller.write_many({"vent_lee_pct": 60.0, "lamps_pct": 100.0, "co2_valve_pct": 50.0})
    assert poller.poll_once()["lamps_pct"].value == 100.0
    dclock.advance(30.0)
    readings = poller.poll_once()
    values = {k: readings[k].value for k in ("vent_lee_pct", "lamps_pct", "co2_valve_pct")}
    assert values == {"vent_lee_pct": 5.0, "lamps_pct": 0.0, "co2_valve_pct": 0.0}
    assert device.watchdog_trips == 1


def test_disconnect_window_closes_the_socket_and_the_poller_reopens_with_backoff(serve, poller_for):
    dclock = FakeClock(0.0)
    _, server = serve("socket", FaultConfig(disconnect=((5.0, 10.0),)), clock=dclock)
    clock = FakeClock()
    poller = poller_for(server.address, clock=clock)
    assert poller.poll_once()["tair_c"].quality is Quality.GOOD

    dclock.advance(6.0)  # inside the window: the device drops the connection
    poller.poll_once()
    assert not poller.is_open and poller.bus_health()["backoff_s"] == 1.0
    assert poller.health()["climate"].port_errors == 1
    clock.advance(0.4)
    poller.poll_once()  # still backing off: no attempt
    assert poller.opens == 1
    clock.advance(0.1)
    poller.poll_once()  # reopens, is dropped again, backs off longer
    assert poller.opens == 2 and not poller.is_open
    assert poller.readings()["tair_c"].quality is Quality.STALE

    dclock.advance(5.0)  # window over
    clock.advance(1.0)
    readings = poller.poll_once()
    assert poller.opens == 3 and poller.is_open
    assert readings["tair_c"].quality is Quality.GOOD
    assert poller.bus_health()["backoff_s"] == 0.5


def test_port_that_cannot_open_is_retried_with_doubling_backoff(serve, poller_for):
    from drivers.transport import open_port

    _, server = serve("pty")
    attempts: list[float] = []
    clock = FakeClock(0.0)

    def flaky_open(url, bus):
        attempts.append(clock())
        if len(attempts) <= 3:
            raise PortError(f"cannot open port {url!r}: unplugged")
        return open_port(url, bus)

    from drivers.poller import BusPoller
    from tests.drivers.conftest import fast_bus

    poller = BusPoller(fast_bus(load_nodes()), server.address, clock=clock, opener=flaky_open)
    for t in (0.0, 0.4, 0.5, 1.0, 1.5, 3.0, 3.5):
        clock.t = t
        readings = poller.poll_once()
    poller.close()
    assert attempts == [0.0, 0.5, 1.5, 3.5]
    assert poller.open_failures == 3 and "unplugged" in poller.last_port_error
    assert readings["co2_ppm"].quality is Quality.GOOD


def test_nodes_sharing_a_signal_are_keyed_by_node(tmp_path, serve, poller_for):
    doc = {
        "nodes": {
            "house1": {"slave": 1, "map": "climate_node.toml"},
            "house2": {"slave": 4, "map": "climate_node.toml"},
        }
    }
    cfg = parse_nodes(doc, tmp_path / "n.toml")
    _, server = serve("socket", nodes=cfg)
    readings = poller_for(server.address, cfg).poll_once()
    assert readings["tair_c"].node == "house1" and readings["tair_c:house2"].node == "house2"
    assert readings["tair_c:house2"].value == 21.5


@pytest.mark.skipif("pty" not in TRANSPORTS, reason="pseudo-terminals are POSIX only")
def test_vanished_pty_is_a_port_error_not_a_crash(serve, poller_for):
    _, server = serve("pty")
    clock = FakeClock()
    poller = poller_for(server.address, clock=clock)
    assert poller.poll_once()["tair_c"].quality is Quality.GOOD
    server.stop()  # the device process dies: its end of the pty closes
    readings = poller.poll_once()
    assert not poller.is_open and poller.health()["climate"].port_errors == 1
    assert readings["tair_c"].value == 21.5 and readings["tair_c"].timestamp == clock()
    clock.advance(0.5)
    poller.poll_once()  # the path is gone: reopening fails and backs off further
    assert poller.open_failures == 1 and poller.bus_health()["backoff_s"] == 2.0


def test_implausible_value_stays_bad_through_failed_reads(serve, poller_for):
    from tests.drivers.plant_stand_in import StandInPlant

    class LeakyCo2Plant(StandInPlant):
        def measurements(self) -> dict[str, float]:
            return {**super().measurements(), "co2_ppm": 6000.0}  # above 0..5000 ppm

    device, server = serve("socket", plant=LeakyCo2Plant())
    poller = poller_for(server.address, retries=0)
    r = poller.poll_once()["co2_ppm"]
    assert (r.value, r.quality) == (6000.0, Quality.BAD)
    device.faults = FaultInjector(FaultConfig(drop_p=1.0))
    r = poller.poll_once()["co2_ppm"]
    assert (r.value, r.quality) == (6000.0, Quality.BAD)
    assert "co2_ppm" not in poller.values() and poller.values()["tair_c"] == 21.5


@pytest.mark.skipif("pty" not in TRANSPORTS, reason="pseudo-terminals are POSIX only")
def test_restarted_device_on_a_new_pty_is_found_again_through_its_link(tmp_path, poller_for):
    import os

    from sim.device_server import PtyServer
    from sim.virtual_device import VirtualDevice
    from tests.drivers.plant_stand_in import StandInPlant

    link = str(tmp_path / "serra-bus")
    os.symlink("/dev/pts/does-not-exist", link)  # left behind by a device killed with -9
    first = PtyServer(VirtualDevice(StandInPlant(), watchdog_s=0.0), link=link).start()
    assert first.address == link and os.readlink(link) == first.pty_path
    clock = FakeClock()
    poller = poller_for(link, clock=clock)
    assert poller.poll_once()["tair_c"].quality is Quality.GOOD
    first.stop()  # the device dies and takes its link with it
    assert not os.path.lexists(link)
    poller.poll_once()
    assert not poller.is_open

    second = PtyServer(VirtualDevice(StandInPlant(), watchdog_s=0.0), link=link).start()
    try:
        clock.advance(1.0)  # past the reopen backoff
        readings = poller.poll_once()
        assert poller.opens == 2 and readings["tair_c"].quality is Quality.GOOD
        # each device: three identity checks (first read, and again after the reopen), four reads
        assert second.device.requests == 3 + 4 and first.device.requests == 3 + 4
    finally:
        poller.close()
        second.stop()
    with pytest.raises(ValueError, match="exists and is not a symlink"):
        PtyServer(VirtualDevice(StandInPlant()), link=str(tmp_path))


def test_float32_command_at_its_bound_is_accepted_by_the_device(tmp_path, serve, poller_for):
    (tmp_path / "m.toml").write_text(
        '[node]\nword_order = "little"\n'
        '[registers.vent_lee_pct]\ntable = "holding"\naddress = 0\ntype = "float32"\n'
        "writable = true\nlo = 0.1\nhi = 99.9\nsafe = 0.1\n"
    )
    cfg = parse_nodes({"nodes": {"vents": {"slave": 5, "map": "m.toml"}}}, tmp_path / "n.toml")
    device, server = serve("socket", nodes=cfg)
    poller = poller_for(server.address, cfg)
    poller.write_many({"vent_lee_pct": 99.9})  # float32 99.9 is 99.90000153, above 99.9
    poller.write("vent_lee_pct", 0.1)
    assert device.writes == 2 and poller.health()["vents"].exceptions == 0
    assert poller.poll_once()["vent_lee_pct"].value == pytest.approx(0.1, rel=1e-7)
