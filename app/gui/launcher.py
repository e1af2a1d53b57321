"""`serra` with no arguments: the main window on the embedded default, up at once.

The window shows before anything slow happens; the simulated plant, bus and loop start in a
worker ("starting simulator..."). One instance per database: a second one is refused with a
plain message (the database lock file sits next to the database).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QLockFile, QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

from app.session import SessionConfig


def acquire_instance_lock(db_path: Path) -> QLockFile | None:
    """Lock `db_path` for this process; None when another Serra holds it."""
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(db_path) + ".lock")
    lock.setStaleLockTime(0)  # a crashed instance's lock is detected by its dead process id
    if not lock.tryLock(0):
        lock.removeStaleLockFile()
        if not lock.tryLock(0):
            return None
    return lock


def install_excepthook() -> None:
    """Unexpected errors go to the log file and the status bar, never as a traceback dialog."""
    from app.gui.workers import log_exception
    from app.session import plain_error

    def hook(exc_type, exc, tb):
        log_exception(exc)
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

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Serra")
    app.setOrganizationName("serra")
    settings = QSettings("serra", "serra")
    config = config or load_session_settings(settings, SessionConfig())
    lock = acquire_instance_lock(config.db_path)
    if lock is None:
        QMessageBox.critical(
            None,
            "Serra is already running",
            f"Another Serra window is using {config.db_path}.\n"
            "Switch to that window, or close it first.",
        )
        return 1
    install_excepthook()
    tune_interpreter()
    window = MainWindow(config, settings)
    window.show()
    window.start_session()
    try:
        return app.exec()
    finally:
        lock.unlock()
