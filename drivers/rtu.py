"""Modbus RTU over any pyserial port: requests built by pymodbus, replies located by us.

Replies are located and checked by `drivers.frames` (length by function code, CRC) and decoded
here, so garbage before a reply, replies from other slaves and corrupted frames are kept apart
(the poller counts them separately) and no byte sequence on the line makes a transaction raise
anything but a `BusError`.
"""

from __future__ import annotations

import time

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
from drivers.frames import Found, find_frame

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


def _starts(slave: int, fc: int) -> tuple[bytes, bytes]:
    """The two ways the addressed slave's reply can begin: the function code or its exception."""
    return bytes((slave, fc)), bytes((slave, fc | 0x80))


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
        self.bytes_sent = 0
        self.bytes_received = 0

    def read_registers(self, slave: int, function: int, address: int, count: int) -> list[int]:
        """Read `count` registers with function 3 (holding) or 4 (input)."""
        request = READ_REQUESTS[function](address=address, count=count, dev_id=slave)
        data = self.transact(request, 5 + 2 * count).data
        if data[0] != 2 * count:
            raise FrameError(
                f"slave {slave} sent {data[0]} data bytes, asked for {count} registers"
            )
        return [data[i] << 8 | data[i + 1] for i in range(1, 1 + 2 * count, 2)]

    def write_registers(self, slave: int, address: int, values: list[int]) -> None:
        """Write registers: function 6 for a single one, 16 for several."""
        if len(values) == 1:
            request: ModbusPDU = WriteSingleRegisterRequest(
                address=address, registers=values, dev_id=slave
            )
        else:
            request = WriteMultipleRegistersRequest(address=address, registers=values, dev_id=slave)
        data = self.transact(request, 8).data
        confirmed = data[0] << 8 | data[1]
        if confirmed != address:
            raise FrameError(f"slave {slave} confirmed address {confirmed}, not {address}")

    def transact(self, request: ModbusPDU, reply_size: int) -> Found:
        """Send `request` and return the slave's reply frame, or raise a BusError subclass."""
        slave, fc = request.dev_id, request.function_code
        frame = self._framer.buildFrame(request)
        try:
            self.port.reset_input_buffer()  # a late reply to an earlier request must not match
            self.port.write(frame)
            self.bytes_sent += len(frame)
            buf = self._receive(slave, fc, reply_size)
        except _PORT_FAILURES as exc:
            raise PortError(f"port failed: {exc}") from None
        found = find_frame(buf, _starts(slave, fc))
        if isinstance(found, Found):
            if found.function_code & 0x80:
                code = found.data[0]
                name = EXCEPTION_NAMES.get(code, "unknown")
                raise SlaveExceptionError(
                    f"slave {slave} answered function {fc} with exception {code} ({name})", code
                )
            return found
        if not buf:
            raise NoResponseError(f"no reply from slave {slave} within {self.timeout_s} s")
        other = find_frame(buf, lambda d, f: d != slave and 1 <= d <= 247)
        if isinstance(other, Found):
            raise WrongSlaveError(f"reply from slave {other.dev_id}, expected slave {slave}")
        raise FrameError(f"no valid frame from slave {slave} in {len(buf)} bytes (CRC/garbage)")

    def _receive(self, slave: int, fc: int, reply_size: int) -> bytearray:
        # Read exactly what the reply needs (an exception reply is 5 bytes, the shortest), so a
        # clean answer costs two reads and no waiting for an inter-frame silence.
        deadline = time.monotonic() + self.timeout_s
        buf = bytearray()
        want = 5
        accept = _starts(slave, fc)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return buf
            self.port.timeout = remaining
            chunk = self.port.read(want)
            if chunk:
                buf += chunk
                self.bytes_received += len(chunk)
            found = find_frame(buf, accept)
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
