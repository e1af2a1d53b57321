"""Run slow work off the GUI thread: a QRunnable with signals for result, error and progress.

The GUI thread only displays: every database query, simulation and bus access goes through
`run_in_worker`. Errors arrive as one plain line (never a traceback).
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.session import plain_error


class WorkerSignals(QObject):
    """Signals of a worker: `done(result)`, `failed(message)`, `progress(fraction)`."""

    done = Signal(object)
    failed = Signal(str)
    progress = Signal(float)


class Worker(QRunnable):
    """Calls `fn(*args, **kwargs)` in the thread pool; with `progress=True` it also gets a
    `progress` keyword argument, a callable taking a fraction 0..1 (any thread)."""

    def __init__(self, fn: Callable[..., Any], *args: Any, progress: bool = False, **kwargs: Any):
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.signals = WorkerSignals()
        if progress:
            self.kwargs["progress"] = self.signals.progress.emit
        self.setAutoDelete(True)

    def run(self) -> None:
        """Run the function; emit `done` or `failed`."""
        try:
            result = self.fn(*self.args, **self.kwargs)
        except Exception as exc:
            log_exception(exc)
            with contextlib.suppress(RuntimeError):  # the receiver is gone (window closed)
                self.signals.failed.emit(plain_error(exc))
            return
        with contextlib.suppress(RuntimeError):
            self.signals.done.emit(result)


_running: set[Worker] = set()


def run_in_worker(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> Worker:
    """Start `fn` in a pool thread; callbacks run on the GUI thread (queued signals)."""
    worker = Worker(fn, *args, progress=on_progress is not None, **kwargs)
    _running.add(worker)
    worker.signals.done.connect(lambda _r: _running.discard(worker))
    worker.signals.failed.connect(lambda _m: _running.discard(worker))
    if on_done is not None:
        worker.signals.done.connect(on_done)
    if on_error is not None:
        worker.signals.failed.connect(on_error)
    if on_progress is not None:
        worker.signals.progress.connect(on_progress)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker


def log_exception(exc: BaseException) -> None:
    """Write the full traceback to the log file (the user sees one plain line)."""
    try:
        from pathlib import Path

        import platformdirs

        log = Path(platformdirs.user_log_dir("serra", appauthor=False)) / "serra-gui.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("a", encoding="utf-8") as f:
            f.write("".join(traceback.format_exception(exc)))
    except OSError:
        pass
