"""Nothing on the bus raises: the frame finder and the master fuzzed, garbage peers on a socket."""

from __future__ import annotations

import socket
import threading

import pytest
import serial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterResponse,
)

from drivers.errors import BusError, FrameError
from drivers.frames import Found, crc16, decode_request, find_frame, frame_size
from drivers.nodes import NodeConfig, NodesConfig
from drivers.poller import BusPoller
from drivers.readings import Quality
from drivers.regmap import load_map
from drivers.rtu import RtuMaster

_FRAMER = FramerRTU(DecodePDU(is_server=False))


def _with_crc(body: bytes) -> bytes:
    crc = crc16(body)
    return body + bytes([crc & 0xFF, crc >> 8])


def _any(d: int, f: int) -> bool:
    return True


def _other_slave(d: int, f: int) -> bool:
    return d != 1 and 1 <= d <= 247


@pytest.mark.parametrize(
    "buf",
    ["0518", "051800", "05180001", "052b", "052b0e", "0118", "01ab", "012b0e01", "0104ff"],
)
def test_short_tails_that_crashed_pymodbus_need_more_bytes_or_are_no_frame(buf):
    data = bytes.fromhex(buf)
    for accept in (_any, _other_slave):
        for requests in (False, True):
            found = find_frame(data, accept, requests)
            assert found is None or (isinstance(found, int) and found > 0)


@given(st.binary(max_size=300))
@settings(max_examples=500)
def test_find_frame_never_raises_and_only_returns_frames_whose_crc_holds(buf):
    for accept in (_any, _other_slave, [b"\x01\x03", b"\x01\x83"]):
        for requests in (False, True):
            found = find_frame(buf, accept, requests)
            if isinstance(found, Found):
                frame = buf[found.start : found.end]
                assert _with_crc(frame[:-2]) == frame
                assert found.end - found.start == frame_size(buf, found.start, requests)
                if requests:
                    decode_request(found)  # fields pymodbus refuses give None, never raise
            else:
                assert found is None or found > 0


@given(
    st.binary(max_size=40),
    st.integers(1, 247),
    st.lists(st.integers(0, 0xFFFF), min_size=1, max_size=125),
    st.sampled_from([3, 4]),
)
def test_a_good_reply_is_found_exactly_behind_garbage_without_a_frame(junk, slave, regs, fc):
    cls = ReadHoldingRegistersResponse if fc == 3 else ReadInputRegistersResponse
    frame = _FRAMER.buildFrame(cls(registers=regs, dev_id=slave))
    accept = lambda d, f: d == slave and f in (fc, fc | 0x80)  # noqa: E731
    if isinstance(find_frame(junk, accept), Found):
        return  # the junk holds a valid frame of its own (astronomically rare)
    found = find_frame(junk + frame, accept)
    assert isinstance(found, Found)
    if found.start == len(junk):
        assert found.end == len(junk) + len(frame)
        assert found.data == bytes([2 * len(regs)]) + b"".join(r.to_bytes(2) for r in regs)


def test_crc_matches_the_reference_and_pymodbus_frames_have_the_size_we_compute():
    assert _with_crc(bytes.fromhex("01030000000a")).hex() == "01030000000ac5cd"
    replies = [
        ReadInputRegistersResponse(registers=[1, 2, 3], dev_id=9),
        ReadHoldingRegistersResponse(registers=[7], dev_id=9),
        WriteSingleRegisterResponse(address=4, registers=[5], dev_id=9),
        WriteMultipleRegistersResponse(address=4, count=2, dev_id=9),
    ]
    for pdu in replies:
        frame = _FRAMER.buildFrame(pdu)
        assert frame_size(frame, 0) == len(frame)
        assert isinstance(find_frame(frame, _any), Found)


@given(st.binary(max_size=80))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
def test_master_turns_any_reply_into_registers_or_a_bus_error(reply):
    port = serial.serial_for_url("loop://", timeout=0.005)
    write = port.write
    port.write = lambda data: write(reply)  # the peer's answer instead of our request's echo
    master = RtuMaster(port, timeout_s=0.005, silence_s=0.001)
    try:
        master.read_registers(1, 4, 0, 2)
    except BusError:
        pass
    finally:
        port.close()


class GarbagePeer:
    """A TCP peer on 127.0.0.1 that answers every 8-byte request with the same bytes."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.requests = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._listener.settimeout(0.05)
        conn = None
        while conn is None and not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
        if conn is None:
            return
        conn.settimeout(0.05)
        pending = b""
        with conn:
            while not self._stop.is_set():
                try:
                    data = conn.recv(256)
                except TimeoutError:
                    continue
                if not data:
                    return
                pending += data
                while len(pending) >= 8:
                    pending = pending[8:]
                    self.requests += 1
                    conn.sendall(self.reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()


def _one_node(timeout_s: float, retries: int) -> NodesConfig:
    from drivers.nodes import BusConfig

    bus = BusConfig(timeout_s=timeout_s, retries=retries, retry_delay_s=0.0)
    node = NodeConfig(name="sht20", slave=1, regmap=load_map("drivers/maps/sht20.toml"))
    return NodesConfig(bus=bus, nodes=(node,))


@pytest.mark.parametrize(
    "reply",
    ["0518", "051800", "052b0e", "0184", "01040400"],
    ids=lambda r: r,
)
def test_a_peer_sending_garbage_is_a_counted_error_and_a_bad_reading(reply):
    """The issue's `05 18` from a peer made `serra poll --once` end in an IndexError."""
    peer = GarbagePeer(bytes.fromhex(reply))
    config = _one_node(timeout_s=0.25, retries=1)
    poller = BusPoller(config, peer.url, sleep=lambda s: None)
    try:
        readings = poller.poll_once()
    finally:
        poller.close()
        peer.close()
    health = poller.health()["sht20"]
    assert health.ok == 0
    assert health.crc_errors == 2  # both attempts counted (the first and its retry)
    assert health.consecutive_failures == 2
    assert "no valid frame from slave 1" in health.last_error
    assert {k: r.quality for k, r in readings.items()} == {
        "tair_c": Quality.BAD,
        "rh_pct": Quality.BAD,
    }


def test_valid_frame_with_the_wrong_byte_count_is_a_frame_error():
    reply = _with_crc(bytes.fromhex("01040200 07"))  # one register where two were asked for
    port = serial.serial_for_url("loop://", timeout=0.01)
    write = port.write
    port.write = lambda data: write(reply)
    master = RtuMaster(port, timeout_s=0.01)
    with pytest.raises(FrameError, match="sent 2 data bytes, asked for 2 registers"):
        master.read_registers(1, 4, 0, 2)
