"""A PNG of measured against simulated for `serra sim replay --out`, drawn with pyqtgraph.

Runs without a display: Qt's offscreen platform is chosen when nothing else is set, and Qt is
imported only here, when a plot is asked for.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

_MEASURED_PEN = (40, 40, 40)
_SIMULATED_PEN = (200, 60, 30)


def write_replay_png(
    path: str | Path,
    time_s: np.ndarray,
    paired: dict[str, np.ndarray],
    labels: dict[str, str],
    title: str,
    width: int = 1400,
) -> Path:
    """One panel per signal (days since start on x), measured dark, simulated red; returns path."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    import pyqtgraph.exporters
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])
    signals = [k.removeprefix("measured_") for k in paired if k.startswith("measured_")]
    days = (np.asarray(time_s, dtype=np.float64) - float(time_s[0])) / 86400.0
    layout = pg.GraphicsLayoutWidget()
    layout.setBackground("w")
    layout.resize(width, 220 * max(1, len(signals)) + 40)
    layout.addLabel(title, row=0, col=0, color="k")
    for row, name in enumerate(signals, start=1):
        plot = layout.addPlot(row=row, col=0)
        plot.setLabel("left", labels.get(name, name), color="k")
        plot.setLabel("bottom", "days since start", color="k")
        plot.addLegend(offset=(10, 5), labelTextColor="k")
        plot.showGrid(x=True, y=True, alpha=0.3)
        for key, pen, label in (
            (f"measured_{name}", _MEASURED_PEN, "measured"),
            (f"simulated_{name}", _SIMULATED_PEN, "simulated"),
        ):
            plot.plot(days, paired[key], pen=pg.mkPen(pen, width=1), name=label, connect="finite")
    layout.show()  # lays the scene out; offscreen, nothing appears
    exporter = pyqtgraph.exporters.ImageExporter(layout.scene())
    exporter.parameters()["width"] = width
    path = Path(path)
    exporter.export(str(path))
    layout.close()
    return path
