"""A PNG summary of a competition for `serra compete run --out`, drawn with pyqtgraph.

Three panels: net profit per team (bars), cumulative yield per day, daily mean air temperature.
Runs without a display (Qt's offscreen platform unless another is set); Qt is imported only here.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from controllers.season import CLIMATE_COLUMNS, CROP_COLUMNS, SeasonResult

_PENS = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]  # fmt: skip


def write_competition_png(
    path: str | Path, results: Sequence[SeasonResult], title: str, width: int = 1400
) -> Path:
    """Draw the summary of `results` (one per team, in file order) into `path`; returns path."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    import pyqtgraph.exporters
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])
    layout = pg.GraphicsLayoutWidget()
    layout.setBackground("w")
    layout.resize(width, 900)
    layout.addLabel(title, row=0, col=0, color="k")
    names = [r.summary["team"] for r in results]
    profit = layout.addPlot(row=1, col=0)
    profit.setLabel("left", "net profit EUR/m2", color="k")
    xs = np.arange(len(results))
    profit.addItem(
        pg.BarGraphItem(
            x=xs,
            height=[r.summary["net_profit_eur_m2"] for r in results],
            width=0.6,
            brushes=[_PENS[i % len(_PENS)] for i in range(len(results))],
        )
    )
    profit.getAxis("bottom").setTicks([list(zip(xs.tolist(), names, strict=True))])
    yield_plot = layout.addPlot(row=2, col=0)
    yield_plot.setLabel("left", "cumulative yield kg/m2", color="k")
    yield_plot.setLabel("bottom", "day", color="k")
    yield_plot.addLegend(offset=(10, 5), labelTextColor="k")
    tair_plot = layout.addPlot(row=3, col=0)
    tair_plot.setLabel("left", "daily mean air C", color="k")
    tair_plot.setLabel("bottom", "day", color="k")
    j_yield = CROP_COLUMNS.index("yield_kg_m2")
    j_tair = CLIMATE_COLUMNS.index("tair_c")
    for i, r in enumerate(results):
        pen = pg.mkPen(_PENS[i % len(_PENS)], width=2)
        if r.crop is not None and len(r.crop):
            days = np.arange(1, len(r.crop) + 1)
            yield_plot.plot(days, r.crop[:, j_yield], pen=pen, name=names[i])
        if r.climate is not None and r.climate_time_s is not None and len(r.climate):
            day = np.floor((r.climate_time_s - r.climate_time_s[0]) / 86400.0)
            uniq, inv = np.unique(day, return_inverse=True)
            mean = np.bincount(inv, weights=r.climate[:, j_tair]) / np.bincount(inv)
            tair_plot.plot(uniq + 1, mean, pen=pen)
    layout.show()  # lays the scene out; offscreen, nothing appears
    exporter = pyqtgraph.exporters.ImageExporter(layout.scene())
    exporter.parameters()["width"] = width
    out = Path(path)
    tmp = out.with_name(f".{out.stem}.tmp.png")
    exporter.export(str(tmp))
    os.replace(tmp, out)
    layout.close()
    return out
