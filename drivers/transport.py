"""Opening a port: any pyserial URL (/dev/ttyUSB0, COM3, socket://, rfc2217://, loop://)."""

from __future__ import annotations

import serial

from drivers.errors import PortError
from drivers.nodes import BusConfig


def open_port(url: str, bus: BusConfig | None = None) -> serial.SerialBase:
    """Open `url` through pyserial's serial_for_url with the bus's line settings."""
    bus = bus or BusConfig()
    try:
        return serial.serial_for_url(
            url,
            baudrate=bus.baudrate,
            bytesize=bus.bytesize,
            parity=bus.parity,
            stopbits=bus.stopbits,
            timeout=bus.timeout_s,
            write_timeout=max(bus.timeout_s, 1.0),
        )
    except (serial.SerialException, OSError, ValueError) as exc:
        raise PortError(f"cannot open port {url!r}: {exc}") from None
