"""`serra` with no arguments: the main window on the embedded default, up at once.

The window shows before anything slow happens; the simulated plant, bus and loop start in a
worker ("starting simulator..."). One writer per database: while another Serra window or a
`serra run` loop holds the database's lock (app.db_lock, on the database file itself), a
second window is refused with a plain message naming that process.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from app.db_lock import DbInUseError, DbLock, DbLockError, acquire_db_lock
from app.session import SessionConfig

log = logging.getLogger(__name__)


def acquire_instance_lock(db_path: Path) -> DbLock | None:
    """Lock `db_path` for this process; None when another Serra process holds it."""
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return acquire_db_lock(db_path)
    except DbInUseError:
        return None


def database_in_use(db_path: Path) -> str | None:
    """Why `db_path` cannot be written now (another writer holds it, named by pid), or None.

    The session takes the lock itself when it starts and keeps it until it stops, so this only
    probes: a writer starting in between makes the session's start fail with the same reason.
    """
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    try:
        acquire_db_lock(db_path).unlock()
    except DbInUseError as exc:
        pid = f" (pid {exc.holder_pid})" if exc.holder_pid is not None else ""
        return (
            f"Another Serra process{pid} is writing to {db_path}: a Serra window or "
            "`serra run`.\nSwitch to that window or stop that process first."
        )
    except DbLockError:
        return None  # the session's start says what is wrong with the folder
    return None


def install_excepthook() -> None:
    """Unexpected errors go to the log file and the status bar, never as a traceback dialog."""
    from app.session import plain_error

    def hook(exc_type, exc, tb):
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        app = QApplication.instance()
        for w in app.topLevelWidgets() if app else []:
            bar = getattr(w, "statusBar", None)
            if callable(bar):
                bar().showMessage(f"Something went wrong: {plain_error(exc)}", 15000)

    sys.excepthook = hook


def tune_interpreter() -> None:
    """Hand the interpreter lock to the GUI thread sooner (1 ms instead of 5 ms), so worker
    threads running Python code (queries, the control loop) never hold the window up."""
    sys.setswitchinterval(0.001)


def launch(argv: list[str] | None = None, config: SessionConfig | None = None) -> int:
    """Open the main window and run the event loop; return the exit code."""
    from app.gui.main_window import MainWindow, load_session_settings
    from app.logs import configure_logging

    configure_logging("gui")

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Serra")
    app.setOrganizationName("serra")
    settings = QSettings("serra", "serra")
    config = config or load_session_settings(settings, SessionConfig())
    in_use = database_in_use(config.db_path)
    if in_use is not None:
        QMessageBox.critical(None, "Serra is already running", in_use)
        return 1
    install_excepthook()
    tune_interpreter()
    window = MainWindow(config, settings)
    window.show()
    from app.gui.collector import CollectorSteward

    steward = CollectorSteward(window)
    window.session_started.connect(steward.resume)
    window.start_session()
    return app.exec()
