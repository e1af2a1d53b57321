"""Run slow work off the GUI thread: a QRunnable with signals for result, error and progress.

The GUI thread only displays: every database query, simulation and bus access goes through
`run_in_worker`. Errors arrive as one plain line (never a traceback).

Every call gets a sequence number. Calls with the same key (by default the same bound `on_done`
method: a view reloading itself) supersede each other: only the newest call's result or error is
delivered, so an older reload that finishes late never overwrites a newer one.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Callable, Hashable
from types import MethodType
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.session import plain_error

log = logging.getLogger(__name__)


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
        self.seq = next(_sequence)
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
            log.error("%s failed", getattr(self.fn, "__qualname__", self.fn), exc_info=exc)
            with contextlib.suppress(RuntimeError):  # the receiver is gone (window closed)
                self.signals.failed.emit(plain_error(exc))
            return
        with contextlib.suppress(RuntimeError):
            self.signals.done.emit(result)


_sequence = itertools.count(1)
_running: set[Worker] = set()
_latest: dict[Hashable, int] = {}  # key -> sequence number of the newest call with that key


def run_in_worker(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
    pool: QThreadPool | None = None,
    key: Hashable | None = None,
    **kwargs: Any,
) -> Worker:
    """Start `fn` in a pool thread; callbacks run on the GUI thread (queued signals).

    `key` (default: `on_done` when it is a bound method, else none): a later call with the same
    key supersedes this one, whose result and error are then dropped.
    """
    worker = Worker(fn, *args, progress=on_progress is not None, **kwargs)
    if key is None and isinstance(on_done, MethodType):
        key = on_done
    if key is not None:
        _latest[key] = worker.seq

    def newest() -> bool:
        """Forget the worker; True when no later call with its key was started."""
        _running.discard(worker)
        if key is None:
            return True
        if _latest.get(key) != worker.seq:
            return False
        del _latest[key]
        return True

    def done(result: Any) -> None:
        if newest() and on_done is not None:
            on_done(result)

    def failed(message: str) -> None:
        if newest() and on_error is not None:
            on_error(message)

    _running.add(worker)
    worker.signals.done.connect(done)
    worker.signals.failed.connect(failed)
    if on_progress is not None:
        worker.signals.progress.connect(on_progress)
    (pool or QThreadPool.globalInstance()).start(worker)
    return worker
