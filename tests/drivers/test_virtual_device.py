"""The device's register logic, driven with pymodbus request PDUs and a fake clock."""

import pytest
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadInputRegistersRequest,
    WriteMultipleRegistersRequest,
    WriteSingleRegisterRequest,
)

from sim.device_faults import FaultConfig, FaultInjector
from sim.virtual_device import DeviceError, VirtualDevice
from tests.drivers.conftest import FakeClock
from tests.drivers.plant_stand_in import StandInPlant


def _device(clock, **options) -> VirtualDevice:
    return VirtualDevice(StandInPlant(), clock=clock, **options)


def test_power_up_is_the_documented_safe_state():
    dev = _device(FakeClock())
    act = dev.plant.actuators()
    assert act["pipe_sp_c"] == 40.0 and act["vent_lee_pct"] == 5.0
    assert act["co2_valve_pct"] == act["lamps_pct"] == act["pipe_grow_sp_c"] == 0.0


def test_input_registers_encode_the_plant_measurements():
    dev = _device(FakeClock())
    climate = dev.handle(ReadInputRegistersRequest(address=0, count=4, dev_id=1))
    assert list(climate.registers) == [2150, 6825, 812, 3456]
    weather = dev.handle(ReadInputRegistersRequest(address=0, count=1, dev_id=2))
    assert list(weather.registers) == [0x10000 - 325]  # -3.25 C


def test_writes_move_plant_actuators_and_read_back():
    dev = _device(FakeClock())
    dev.handle(WriteMultipleRegistersRequest(address=0, registers=[555, 0, 333], dev_id=3))
    dev.handle(WriteSingleRegisterRequest(address=6, registers=[1000], dev_id=3))
    act = dev.plant.actuators()
    assert act["pipe_sp_c"] == 55.5 and act["vent_lee_pct"] == pytest.approx(33.3)
    assert act["lamps_pct"] == 100.0
    back = dev.handle(ReadHoldingRegistersRequest(address=0, count=10, dev_id=3))
    assert list(back.registers) == [555, 0, 333, 0, 0, 0, 1000, 0, 0, 0]
    assert dev.writes == 2


@pytest.mark.parametrize(
    ("request_pdu", "code"),
    [
        (WriteSingleRegisterRequest(address=2, registers=[1001], dev_id=3), 3),  # 100.1 %
        (WriteSingleRegisterRequest(address=10, registers=[1], dev_id=3), 2),  # unmapped
        (ReadInputRegistersRequest(address=3, count=2, dev_id=1), 2),  # runs past the map
        (ReadHoldingRegistersRequest(address=0, count=1, dev_id=1), 2),  # sensors hold none
    ],
)
def test_refused_requests_get_exception_replies_and_change_nothing(request_pdu, code):
    dev = _device(FakeClock())
    before = dev.plant.actuators()
    reply = dev.handle(request_pdu)
    assert reply.function_code == request_pdu.function_code | 0x80
    assert reply.exception_code == code
    assert dev.plant.actuators() == before


def test_watchdog_puts_actuators_in_safe_state_after_silence():
    clock = FakeClock()
    dev = _device(clock, watchdog_s=10.0)
    dev.handle(WriteMultipleRegistersRequest(address=2, registers=[500, 500], dev_id=3))
    dev.handle(WriteSingleRegisterRequest(address=7, registers=[800], dev_id=3))
    clock.advance(9.9)
    dev.sync()
    assert dev.plant.actuators()["vent_lee_pct"] == 50.0 and dev.watchdog_trips == 0
    clock.advance(0.1)
    dev.sync()
    act = dev.plant.actuators()
    assert (act["vent_lee_pct"], act["vent_wind_pct"], act["co2_valve_pct"]) == (5.0, 0.0, 0.0)
    assert act["pipe_sp_c"] == 40.0
    assert dev.watchdog_trips == 1 and dev.safe_state
    clock.advance(100.0)
    dev.sync()
    assert dev.watchdog_trips == 1  # one trip per silence


def test_plant_advances_speed_times_the_clock_in_steps():
    clock = FakeClock()
    dev = _device(clock, speed=60.0, watchdog_s=0.0)
    for _ in range(10):
        clock.advance(0.01)  # 0.6 plant-s each: batched until a full second
        dev.sync()
    assert dev.plant.advanced_s == pytest.approx(6.0)
    assert dev.plant.steps == 5


def test_fault_draws_are_seeded_and_probabilities_checked():
    a = FaultInjector(FaultConfig(crc_p=0.2, drop_p=0.3, seed=4))
    b = FaultInjector(FaultConfig(crc_p=0.2, drop_p=0.3, seed=4))
    assert [a.plan() for _ in range(200)] == [b.plan() for _ in range(200)]
    assert 40 <= a.counts["drop"] <= 80 and 20 <= a.counts["crc"] <= 60
    with pytest.raises(ValueError, match=r"add up to 1\.2"):
        FaultConfig(crc_p=0.6, drop_p=0.6)
    with pytest.raises(ValueError, match="start < end"):
        FaultConfig(disconnect=((5.0, 2.0),))


def test_map_signal_the_plant_lacks_is_refused(tmp_path):
    from drivers.nodes import load_nodes

    (tmp_path / "m.toml").write_text(
        '[registers.tsky_c]\ntable = "input"\naddress = 0\ntype = "int16"\n'
    )
    (tmp_path / "n.toml").write_text('[nodes.sky]\nslave = 4\nmap = "m.toml"\n')
    with pytest.raises(DeviceError, match=r"registers.tsky_c: the plant has no measurement"):
        VirtualDevice(StandInPlant(), load_nodes(tmp_path / "n.toml"))


def test_back_to_back_requests_step_the_plant_at_most_every_max_lag():
    clock = FakeClock()
    dev = _device(clock, speed=600.0, watchdog_s=0.0, max_lag_s=0.125)
    request = ReadInputRegistersRequest(address=0, count=4, dev_id=1)
    for _ in range(512):  # a request every 2 ms (2**-9 s) for a second: 1.2 plant-s apart
        clock.advance(2.0**-9)
        assert dev.reply(request) is not None
    assert dev.plant.steps == 8  # not 512: replies do not each wait for the physics
    assert 600.0 - 0.125 * 600.0 <= dev.plant.advanced_s <= 600.0  # at most max_lag_s behind
    dev.sync()  # an idle tick of the server catches up fully
    assert dev.plant.advanced_s == pytest.approx(600.0)
