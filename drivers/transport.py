"""Opening a port: any pyserial URL (/dev/ttyUSB0, COM3, socket://, rfc2217://, loop://)."""

from __future__ import annotations

import errno
import re

import serial

from drivers.errors import PortError
from drivers.nodes import BusConfig

# What went wrong and what to do, by the errno pyserial passes on.
_HINTS: dict[int, str] = {
    errno.ENOENT: "no such device; check the name (ls /dev/serial/by-id/) and that the adapter "
    "is plugged in",
    errno.EACCES: "permission denied; add your user to the dialout group (uucp on some "
    "systems) and log in again",
    errno.EBUSY: "the port is busy; close the other program that has it open",
    errno.ENOTTY: "not a serial port; give the adapter's device, e.g. /dev/ttyUSB0",
    errno.EISDIR: "a directory, not a serial port; give the adapter's device, e.g. /dev/ttyUSB0",
    errno.ECONNREFUSED: "connection refused; is the device (serra device --listen) running there?",
    errno.ETIMEDOUT: "connection timed out; check the host and port",
    errno.EHOSTUNREACH: "host unreachable; check the host and port",
    -2: "unknown host name; check the URL",  # socket.EAI_NONAME
}
_ERRNO = re.compile(r"\[Errno (-?\d+)\] ([^:'\]]+)|\((\d+), '([^']+)'\)")


def open_port(url: str, bus: BusConfig | None = None) -> serial.SerialBase:
    """Open `url` through pyserial's serial_for_url with the bus's line settings.

    A failure is a PortError naming the port once, with the reason and what to do.
    """
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
    except ValueError as exc:
        raise PortError(
            f"cannot open port {url}: not a port name or pyserial URL ({exc}); use e.g. "
            "/dev/ttyUSB0, COM3 or socket://HOST:PORT"
        ) from None
    except (serial.SerialException, OSError) as exc:
        raise PortError(f"cannot open port {url}: {open_failure(exc, url)}") from None


def open_failure(exc: BaseException, url: str) -> str:
    """Why pyserial could not open `url`, without the port name it repeats, and what to do."""
    text = str(exc)
    matches = _ERRNO.findall(text)
    errno = getattr(exc, "errno", None)
    code = errno if isinstance(errno, int) else None
    reason = ""
    if matches:
        last = matches[-1]  # the innermost error: pyserial wraps the OSError's text
        code = int(last[0] or last[2])
        reason = (last[1] or last[3]).strip().lower()
    if code in _HINTS:
        return _HINTS[code]
    if not reason:
        reason = re.sub(rf"(?i)could not (open|configure) port( {re.escape(url)})?:?\s*", "", text)
        reason = reason.replace(f"'{url}'", "").replace(url, "").strip(" :") or type(exc).__name__
    return f"{reason}; check the port name and that nothing else holds it"
