"""Shared pytest options."""

from __future__ import annotations


def pytest_addoption(parser) -> None:
    """`--port /dev/ttyUSB0` opts in to the tests against real serial hardware."""
    parser.addoption(
        "--port",
        action="store",
        default=None,
        help="serial port or pyserial URL of a real Modbus bus (enables hardware tests)",
    )
