"""Diagnostics go through `logging`: a rotating log file per program, warnings also on stderr."""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.logs import LOG_DIR_ENV, configure_logging

ROOT = Path(__file__).resolve().parents[2]

# `serra run` whose alarm notifier cannot start its command (as when the shell is missing):
# the loop must go on and the failure be reported, never swallowed
BROKEN_NOTIFIER = """
import sys
import controllers.notify

def cannot_start(self, alarm):
    raise OSError("cannot start the notify command")

controllers.notify.CommandNotifier.__call__ = cannot_start
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def own_handlers():
    """Leave the root logger as it was found (configure_logging adds handlers to it)."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in before]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.mark.skipif(sys.platform == "win32", reason="shell notifier")
def test_serra_run_logs_to_its_file_and_warnings_reach_stderr(tmp_path):
    logs = tmp_path / "logs"
    proc = subprocess.run(
        [sys.executable, "-c", BROKEN_NOTIFIER, "run", "--port", "socket://127.0.0.1:1",
         "--tick", "0.01", "--speed", "6000", "--start", "2018-09-01", "--max-ticks", "3",
         "--db", str(tmp_path / "serra.db"), "--notify-command", "true", "--quiet"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, LOG_DIR_ENV: str(logs), "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = (logs / "serra-run.log").read_text()
    start = "grower on socket://127.0.0.1:1, tick 0.01 s, speed 6000, recording to"
    # the documented start and stop lines: printed once on stderr, kept in the file
    assert f"INFO app.cli_run: {start}" in text
    assert "INFO app.cli_run: stopped after 3 ticks;" in text
    assert proc.stderr.count(start) == 1
    # the alarm (bus down) raised: its notifier failed; a warning on stderr, the traceback filed
    warning = "serra run: WARNING controllers.alarms: alarm notification failed: cannot start"
    assert warning in proc.stderr
    assert "WARNING controllers.alarms: alarm notification failed" in text
    assert "OSError: cannot start the notify command" in text
    assert "Traceback (most recent call last):" in text


def test_records_below_warning_go_to_the_file_only_and_configuring_twice_does_not_repeat(
    tmp_path, monkeypatch, capsys, own_handlers
):
    monkeypatch.setenv(LOG_DIR_ENV, str(tmp_path))
    configure_logging("gui")
    path = configure_logging("gui")  # e.g. a second window in the same process
    log = logging.getLogger("tests.app.test_logs")
    log.info("session started")
    log.warning("bus slow")
    err = capsys.readouterr().err
    assert path == tmp_path / "serra-gui.log"
    lines = path.read_text().splitlines()
    assert [ln.split(" ", 3)[3] for ln in lines] == [
        "INFO tests.app.test_logs: session started",
        "WARNING tests.app.test_logs: bus slow",
    ]
    assert err == "serra gui: WARNING tests.app.test_logs: bus slow\n"


def test_a_log_folder_that_cannot_be_made_leaves_stderr_and_says_why(
    tmp_path, monkeypatch, capsys, own_handlers
):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the log folder should be\n")
    monkeypatch.setenv(LOG_DIR_ENV, str(blocker / "serra"))
    assert configure_logging("run") is None
    logging.getLogger("controllers.loop").error("control tick failed")
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("serra run: WARNING app.logs: no log file ([Errno 20] Not a directory")
    assert err[1:] == ["serra run: ERROR controllers.loop: control tick failed"]


LIBRARIES = ("sim", "controllers", "models", "store", "supply", "drivers")


def test_library_packages_never_configure_logging():
    calls = []
    for package in LIBRARIES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr in (
                    "addHandler",
                    "basicConfig",
                    "dictConfig",
                    "fileConfig",
                ):
                    calls.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.attr}")
    assert calls == []
