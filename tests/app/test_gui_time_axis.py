"""Plot axes show the greenhouse's local clock, whatever time zone the computer is in."""

from __future__ import annotations

from datetime import datetime


def test_axis_labels_are_site_local_in_summer_and_winter(qtbot):
    import pyqtgraph as pg

    from app.gui.common import SiteDateAxis

    axis = SiteDateAxis()
    plot = pg.PlotWidget(axisItems={"bottom": axis})
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    summer = datetime.fromisoformat("2018-08-14T04:00:00+00:00").timestamp()  # 06:00 CEST
    winter = datetime.fromisoformat("2018-12-01T11:00:00+00:00").timestamp()  # 12:00 CET
    for t, expected in ((summer, "06:00"), (winter, "12:00")):
        plot.setXRange(t - 3 * 3600, t + 3 * 3600, padding=0)
        plot.grab()  # paint once: the axis measures its font and picks its zoom level
        values = axis.tickValues(t - 3 * 3600, t + 3 * 3600, 600)
        spacing, ticks = next((s, v) for s, v in values if t in v)
        assert axis.tickStrings([t], 1.0, spacing)[0] == expected
        assert len(ticks) >= 3
