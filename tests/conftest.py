"""Shared pytest options."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser) -> None:
    """`--port /dev/ttyUSB0` opts in to the tests against real serial hardware."""
    parser.addoption(
        "--port",
        action="store",
        default=None,
        help="serial port or pyserial URL of a real Modbus bus (enables hardware tests)",
    )


@pytest.fixture(autouse=True, scope="session")
def _log_files_in_tmp(tmp_path_factory):
    """`serra run` and the app log to files: here into a temporary folder, never the user's
    log directory (subprocesses inherit the variable)."""
    from app.logs import LOG_DIR_ENV

    old = os.environ.get(LOG_DIR_ENV)
    os.environ[LOG_DIR_ENV] = str(tmp_path_factory.mktemp("logs"))
    yield
    if old is None:
        os.environ.pop(LOG_DIR_ENV, None)
    else:
        os.environ[LOG_DIR_ENV] = old


@pytest.fixture(autouse=True, scope="session")
def _model_registry_in_tmp(tmp_path_factory):
    """The model registry in a fresh temporary folder, as on a new install: tests never read or
    change the user's trained models (subprocesses inherit the variable)."""
    old = os.environ.get("SERRA_MODEL_DIR")
    os.environ["SERRA_MODEL_DIR"] = str(tmp_path_factory.mktemp("models"))
    yield
    if old is None:
        os.environ.pop("SERRA_MODEL_DIR", None)
    else:
        os.environ["SERRA_MODEL_DIR"] = old
