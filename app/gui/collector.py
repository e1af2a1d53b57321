"""Keep the garbage collector's full passes short, so the GUI thread is never held up by them.

A full (generation-2) pass of CPython's collector walks every tracked object in the process while
holding the interpreter lock, whichever thread started it. Serra's process holds a quarter of a
million of them once the simulator kernels, scipy and scikit-learn are loaded (functions, module
dicts, types: the code itself), so each pass held the window up for 60-120 ms (bench/soak_app.py).
Those objects live as long as the process: `gc.freeze()` parks them where passes do not walk them.

So: no collection while the app starts (the window is up while the simulator, kernels and
libraries load in a worker); once the session runs, freeze what is there and collect as usual;
afterwards freeze again whenever more modules were loaded (views import their heavy libraries on
first use), after a young-generation pass so that only survivors are parked. Cyclic garbage made
during start-up or already old at a freeze is never collected: a bounded, one-off cost, because
start-up and the number of imports are (measured in the README's soak figures).
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, QTimer

CHECK_MS = 250


def park_loaded_code() -> None:
    """Collect the young generations, then freeze every tracked object that is left."""
    gc.collect(1)
    gc.freeze()


class CollectorSteward(QObject):
    """Holds collection off until `resume()`, then parks newly loaded code (checked every
    `CHECK_MS`)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_MS) -> None:
        super().__init__(parent)
        gc.disable()
        self._parked_modules = 0  # modules loaded at the last freeze
        self._seen_modules = 0  # at the last check
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    def resume(self) -> None:
        """Park everything loaded so far and collect as usual from now on."""
        gc.freeze()
        self._parked_modules = self._seen_modules = len(sys.modules)
        gc.enable()
        self._timer.start()

    def check(self) -> None:
        """Park loaded code once a burst of imports is over (no new module since the last check)."""
        count = len(sys.modules)
        if count == self._seen_modules and count != self._parked_modules:
            park_loaded_code()
            self._parked_modules = count
        self._seen_modules = count
