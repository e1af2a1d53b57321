"""The exception root of the drivers package and its specific failures."""

from __future__ import annotations


class DriverError(Exception):
    """Root of every error raised by `drivers` (bad configuration or failed bus I/O)."""


class MapError(DriverError):
    """A register map or nodes file that cannot be used; the message names the file and key."""


class BusError(DriverError):
    """A Modbus transaction that did not produce a valid answer."""


class NoResponseError(BusError):
    """The slave sent nothing before the timeout."""


class FrameError(BusError):
    """Bytes arrived but no frame with a valid CRC from the addressed slave was among them."""


class WrongSlaveError(BusError):
    """A valid frame arrived, but from another slave address than the one addressed."""


class SlaveExceptionError(BusError):
    """The slave answered with a Modbus exception response (e.g. illegal address)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class WrongDeviceError(BusError):
    """The node answered, but its identity register says it is not the device its map is for."""


class PortError(BusError):
    """The port itself failed (unplugged adapter, closed socket); it must be reopened."""


class WriteRejectedError(DriverError):
    """A command refused before it reached the bus: unknown, read-only or out of bounds."""
