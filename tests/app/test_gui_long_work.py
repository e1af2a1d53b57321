"""A what-if season and a year of history run together in workers and both show right results.

How late the GUI thread is meanwhile (target < 50 ms) is measured by bench/bench_gui_latency.py:
wall-clock figures are not asserted in tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from store import rollups, timeseries
from store.db import open_store

YEAR_START_S = 1514764800.0  # 2018-01-01 UTC


@pytest.fixture(scope="session")
def year_db(tmp_path_factory):
    """A database holding a year of 1-minute ticks of air and outside temperature."""
    path = tmp_path_factory.mktemp("year") / "year.sqlite"
    t = YEAR_START_S + np.arange(365 * 1440) * 60.0
    day = np.sin((t % 86400.0) / 86400.0 * 2 * np.pi)
    tair = 20.0 + 3.0 * day
    tout = 10.0 + 8.0 * day - 6.0 * np.cos((t - YEAR_START_S) / (365 * 86400.0) * 2 * np.pi)
    rows = [
        (int(a * 1000), "normal", {"tair_c": float(b), "tout_c": float(c)})
        for a, b, c in zip(t, tair, tout, strict=True)
    ]
    with open_store(path) as store:
        with store.write():
            timeseries.write_rows(store, rows)
        with store.write():
            rollups.roll_up(store)
    return path


def test_season_and_year_query_run_together_and_both_show_their_results(qtbot, year_db):
    from app.gui.views.history import HistoryView
    from app.gui.views.whatif import WhatIfView

    history = HistoryView(str(year_db))
    whatif = WhatIfView()
    for w in (history, whatif):
        qtbot.addWidget(w)
        w.resize(1000, 600)
        w.show()
    history.reload()
    qtbot.waitUntil(lambda: history.channels.count() == 2 and bool(history.buckets), timeout=60_000)
    history.set_selected(["tair_c", "tout_c"])
    whatif.run()  # the whole 115-day AGC season, three variants
    history.show_last(365 * 86400.0)  # a year of 1-minute data
    qtbot.waitUntil(lambda: history.buckets["tair_c"].level == "1h", timeout=60_000)
    year_points = len(history.buckets["tair_c"].t_s)
    for days in (90, 30, 7, 1):  # zooming in, each a fresh downsampled query
        history.set_range(YEAR_START_S + 100 * 86400.0, YEAR_START_S + (100 + days) * 86400.0)
    qtbot.waitUntil(lambda: whatif.result is not None, timeout=300_000)
    qtbot.waitUntil(lambda: history.buckets["tair_c"].level == "raw", timeout=60_000)
    drawn = whatif.yield_plot.getPlotItem().listDataItems
    qtbot.waitUntil(lambda: len(drawn()) == 3, timeout=5_000)
    assert whatif.error.isHidden(), whatif.error.text()
    assert whatif.result.summaries[0]["days"] == 115
    assert 300 < year_points <= 1100
    assert history.buckets["tair_c"].t_s[0] >= YEAR_START_S + 100 * 86400.0 - 60.0  # the 1-day zoom
