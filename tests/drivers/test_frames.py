"""Frame-level behaviour: pymodbus frames over pyserial's loop://, hunting through bad bytes."""

import pytest
import serial
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.register_message import ReadInputRegistersResponse

from drivers.errors import FrameError, NoResponseError
from drivers.frames import Found, decode_request, find_frame
from drivers.rtu import RtuMaster


def _reply(slave: int, regs: list[int]) -> bytes:
    return FramerRTU(DecodePDU(is_server=False)).buildFrame(
        ReadInputRegistersResponse(registers=regs, dev_id=slave)
    )


def _expect(slave: int, fc: int = 4):
    return lambda d, f: d == slave and f in (fc, fc | 0x80)


def test_request_on_loop_matches_the_reference_frame_and_echo_is_no_reply():
    port = serial.serial_for_url("loop://", timeout=0.05)
    sent: list[bytes] = []
    write = port.write
    port.write = lambda data: (sent.append(bytes(data)), write(data))[1]
    master = RtuMaster(port, timeout_s=0.05)
    with pytest.raises(FrameError):  # our own echoed request is no valid reply
        master.read_registers(1, 3, 0, 10)
    # The classic example of the Modbus over serial line guide: read 10 holding registers.
    assert sent == [bytes.fromhex("01030000000ac5cd")]
    found = find_frame(sent[0], lambda d, f: d == 1, requests=True)
    assert isinstance(found, Found)
    pdu = decode_request(found)
    assert pdu is not None and (pdu.function_code, pdu.address, pdu.count) == (3, 0, 10)


def test_silent_loop_times_out_as_no_response():
    port = serial.serial_for_url("loop://", timeout=0.02)
    master = RtuMaster(port, timeout_s=0.02)
    port.write = lambda data: len(data)  # a bus with nothing on it: nothing comes back
    with pytest.raises(NoResponseError):
        master.read_registers(1, 4, 0, 2)


def test_garbage_before_reply_is_skipped():
    frame = _reply(3, [1, 2, 3])
    found = find_frame(b"\x03\xff\x00\x03\x04" + frame, _expect(3))
    assert isinstance(found, Found)
    assert found.start == 5 and found.end == 5 + len(frame)
    assert found.data == bytes.fromhex("06 0001 0002 0003")


def test_corrupt_frame_then_good_frame_finds_the_good_one():
    good = _reply(3, [7, 8])
    bad = good[:-1] + bytes([good[-1] ^ 1])
    found = find_frame(bad + good, _expect(3))
    assert isinstance(found, Found) and found.start == len(bad)
    assert find_frame(bad, _expect(3)) is None


def test_reply_from_other_slave_is_not_taken_and_partial_frame_asks_for_more():
    frame = _reply(4, [5])
    assert find_frame(frame, _expect(3)) is None
    assert find_frame(frame[:4], _expect(4)) == len(frame) - 4
