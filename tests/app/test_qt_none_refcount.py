"""Qt calls keep Python's `None`, `True` and `False` alive (PySide6 6.12.0 on Python 3.11 did not).

PySide6 6.12.0 drops one reference to `None` on every Qt call returning nothing on Python 3.11
(and to `True` on every signal emit); the app then dies within minutes with `Fatal Python error:
none_dealloc`. pyproject.toml excludes that release; this test catches the same class of bug in any
future one. The calls run in a child process that stops a kind as soon as it has lost more than the
slack and gives the lost references back, so a broken release fails this test with figures instead
of crashing the test run. Only a drop counts: a reference taken and never given back keeps the
object alive, harmless (6.11.3 takes one to None per pyqtgraph setData, 10,000 in this test).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

CALLS = 10_000
BATCH = 10
SLACK = 50  # references dropped by unrelated work (caches, the interpreter)
SINGLETONS = {"None": None, "True": True, "False": False}
KINDS = ("QLabel.setText", "QWidget.setToolTip", "PlotDataItem.setData", "Signal.emit")


def _probe() -> None:
    """Child process: call each kind CALLS times; print how the singletons' counts moved."""
    import ctypes
    import gc

    import numpy as np
    import PySide6
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QLabel, QWidget

    app = QApplication([])
    import pyqtgraph as pg

    class Source(QObject):
        changed = Signal(float)

    received = []
    source = Source()
    source.changed.connect(received.append)  # a Python slot returning None
    label, widget = QLabel(), QWidget()
    plot = pg.PlotWidget()
    curve = plot.plot([0.0, 1.0], [0.0, 1.0])
    x = np.arange(200.0)
    y = np.sin(x / 10.0)

    def emit() -> None:
        source.changed.emit(1.0)
        received.clear()

    calls = dict(zip(KINDS, (
        lambda: label.setText("21.5 C"),
        lambda: widget.setToolTip("air temperature"),
        lambda: curve.setData(x, y),
        emit,
    ), strict=True))  # fmt: skip

    def counts() -> dict[str, int]:
        return {k: sys.getrefcount(obj) for k, obj in SINGLETONS.items()}

    out = {"pyside": PySide6.__version__, "python": sys.version.split()[0], "kinds": {}}
    for name, call in calls.items():
        start = counts()
        for _ in range(BATCH):  # warm-up: first calls may fill caches holding these objects
            call()
        gc.collect()
        before = counts()
        done, delta = 0, dict.fromkeys(SINGLETONS, 0)
        while done < CALLS and -min(delta.values()) <= SLACK:  # more would crash us
            for _ in range(BATCH):
                call()
            done += BATCH
            delta = {k: n - before[k] for k, n in counts().items()}
            if -min(delta.values()) > SLACK:  # garbage not yet collected, or a lost reference?
                gc.collect()
                delta = {k: n - before[k] for k, n in counts().items()}
        app.processEvents()
        out["kinds"][name] = {"calls": done, "delta": delta}
        for k, n in counts().items():
            for _ in range(max(0, start[k] - n)):
                # give back what a broken release took, so the probe lives to report every kind
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(SINGLETONS[k]))
    print(json.dumps(out), flush=True)
    os._exit(0)  # a broken release may have left too few references for a clean shutdown


def test_10000_qt_calls_of_each_kind_lose_no_reference_to_none_true_or_false():
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    proc = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert list(report["kinds"]) == list(KINDS)
    broken = [
        f"{name}: {got['delta']} after {got['calls']} calls"
        for name, got in report["kinds"].items()
        if got["calls"] != CALLS or -min(got["delta"].values()) > SLACK
    ]
    assert not broken, (
        f"PySide6 {report['pyside']} on Python {report['python']} mis-counts references "
        f"(exclude it in pyproject.toml): " + "; ".join(broken)
    )


if __name__ == "__main__":
    _probe()
