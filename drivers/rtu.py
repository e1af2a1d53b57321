"""Modbus RTU over any pyserial port: frames and CRC come from pymodbus, timing from us.

pymodbus' FramerRTU gives up on a whole buffer when the first candidate frame fails its CRC, so
we hunt for frame starts ourselves (an expected address and function code) and let pymodbus check
the CRC and decode the PDU at each candidate. That keeps garbage before a reply, replies from other
slaves and corrupted frames apart, which the poller counts separately.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import serial
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadInputRegistersRequest,
    WriteMultipleRegistersRequest,
    WriteSingleRegisterRequest,
)

from drivers.errors import (
    FrameError,
    NoResponseError,
    PortError,
    SlaveExceptionError,
    WrongSlaveError,
)

try:
    import termios

    # pyserial lets termios.error (not an OSError) through from tcflush when a tty vanishes.
    _PORT_FAILURES: tuple[type[BaseException], ...] = (
        serial.SerialException,
        OSError,
        termios.error,
    )
except ImportError:  # Windows
    _PORT_FAILURES = (serial.SerialException, OSError)

READ_REQUESTS = {3: ReadHoldingRegistersRequest, 4: ReadInputRegistersRequest}
EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "slave device failure",
    6: "slave device busy",
}


@dataclass(frozen=True)
class Found:
    """A frame located in a buffer: where it starts and ends, its address and PDU."""

    start: int
    end: int
    dev_id: int
    pdu: ModbusPDU


def find_frame(
    buf: bytes | bytearray, decoder: DecodePDU, accept: Callable[[int, int], bool]
) -> Found | int | None:
    """Hunt `buf` for the first frame whose (address, function code) `accept` takes.

    Returns the frame, or the number of further bytes the earliest complete-looking candidate
    still needs (an int), or None when no candidate start is in the buffer.
    """
    need: int | None = None
    for i in range(len(buf) - 1):
        dev_id, fc = buf[i], buf[i + 1]
        if not accept(dev_id, fc):
            continue
        view = bytes(buf[i:])
        pdu_class = decoder.lookupPduClass(view)
        if pdu_class is None:
            continue
        size = pdu_class.calculateRtuFrameSize(view)
        if not size or size < FramerRTU.MIN_SIZE or size > FramerRTU.MAX_SIZE:
            if need is None:
                need = 1
            continue
        if len(view) < size:
            if need is None:
                need = size - len(view)
            continue
        crc = (view[size - 2] << 8) | view[size - 1]
        if not FramerRTU.check_CRC(view[: size - 2], crc):
            continue
        pdu = decoder.decode(view[1 : size - 2])
        if pdu is None:
            continue
        pdu.dev_id = dev_id
        return Found(i, i + size, dev_id, pdu)
    return need


class RtuMaster:
    """A Modbus RTU master on one open pyserial port; one transaction at a time."""

    def __init__(
        self, port: serial.SerialBase, timeout_s: float = 0.3, silence_s: float | None = None
    ) -> None:
        self.port = port
        self.timeout_s = timeout_s
        if silence_s is None:
            # 3.5 characters of 11 bits, but never below 5 ms: USB adapters, ptys and TCP
            # deliver bytes in bursts with gaps of their own.
            silence_s = max(0.005, 3.5 * 11 / float(getattr(port, "baudrate", 19200) or 19200))
        self.silence_s = silence_s
        self._framer = FramerRTU(DecodePDU(is_server=False))
        self._decoder = DecodePDU(is_server=False)
        self._any_decoder = DecodePDU(is_server=False)
        self.bytes_sent = 0
        self.bytes_received = 0

    def read_registers(self, slave: int, function: int, address: int, count: int) -> list[int]:
        """Read `count` registers with function 3 (holding) or 4 (input)."""
        request = READ_REQUESTS[function](address=address, count=count, dev_id=slave)
        response = self.transact(request, 5 + 2 * count)
        registers = list(response.registers)
        if len(registers) != count:
            raise FrameError(f"slave {slave} sent {len(registers)} registers, asked for {count}")
        return registers

    def write_registers(self, slave: int, address: int, values: list[int]) -> None:
        """Write registers: function 6 for a single one, 16 for several."""
        if len(values) == 1:
            request: ModbusPDU = WriteSingleRegisterRequest(
                address=address, registers=values, dev_id=slave
            )
        else:
            request = WriteMultipleRegistersRequest(address=address, registers=values, dev_id=slave)
        response = self.transact(request, 8)
        if response.address != address:
            raise FrameError(f"slave {slave} confirmed address {response.address}, not {address}")

    def transact(self, request: ModbusPDU, reply_size: int) -> ModbusPDU:
        """Send `request` and return the slave's reply PDU, or raise a BusError subclass."""
        slave, fc = request.dev_id, request.function_code
        frame = self._framer.buildFrame(request)
        try:
            self.port.reset_input_buffer()  # a late reply to an earlier request must not match
            self.port.write(frame)
            self.bytes_sent += len(frame)
            buf = self._receive(slave, fc, reply_size)
        except _PORT_FAILURES as exc:
            raise PortError(f"port failed: {exc}") from None
        found = find_frame(buf, self._decoder, lambda d, f: d == slave and f in (fc, fc | 0x80))
        if isinstance(found, Found):
            if found.pdu.function_code & 0x80:
                code = found.pdu.exception_code
                name = EXCEPTION_NAMES.get(code, "unknown")
                raise SlaveExceptionError(
                    f"slave {slave} answered function {fc} with exception {code} ({name})", code
                )
            return found.pdu
        if not buf:
            raise NoResponseError(f"no reply from slave {slave} within {self.timeout_s} s")
        other = find_frame(buf, self._any_decoder, lambda d, f: d != slave and 1 <= d <= 247)
        if isinstance(other, Found):
            raise WrongSlaveError(f"reply from slave {other.dev_id}, expected slave {slave}")
        raise FrameError(f"no valid frame from slave {slave} in {len(buf)} bytes (CRC/garbage)")

    def _receive(self, slave: int, fc: int, reply_size: int) -> bytearray:
        # Read exactly what the reply needs (an exception reply is 5 bytes, the shortest), so a
        # clean answer costs two reads and no waiting for an inter-frame silence.
        deadline = time.monotonic() + self.timeout_s
        buf = bytearray()
        want = 5
        accept = lambda d, f: d == slave and f in (fc, fc | 0x80)  # noqa: E731
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return buf
            self.port.timeout = remaining
            chunk = self.port.read(want)
            if chunk:
                buf += chunk
                self.bytes_received += len(chunk)
            found = find_frame(buf, self._decoder, accept)
            if isinstance(found, Found):
                return buf
            if len(chunk) < want:
                return buf
            if isinstance(found, int):
                want = found
            elif len(buf) < reply_size:
                want = reply_size - len(buf)
            else:
                # A full reply's worth of bytes and no valid frame: only bytes that follow
                # without a pause (one inter-frame silence) can still complete a frame.
                want = 1
                deadline = min(deadline, time.monotonic() + self.silence_s)
