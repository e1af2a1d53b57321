"""The Model check view replays a log in the background and shows what `serra sim replay` finds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.app.conftest import tick

FIXTURE = Path(__file__).parents[1] / "controllers" / "data" / "agc2018_reference_7d"


@pytest.fixture(scope="module")
def direct_two_days():
    """The same replay, done directly: the 7-day Reference fixture, first 2 days, open loop."""
    from controllers.replay import replay
    from controllers.replay_log import load_log
    from sim.weather import default_weather

    report, _ = replay(load_log(str(FIXTURE)), default_weather(), mode="actuators", days=2)
    return report


def test_two_day_replay_shows_the_figures_of_controllers_replay(qtbot, direct_two_days):
    from app.gui.views.model_check import (
        COL_BIAS,
        COL_MEASURED,
        COL_R2,
        COL_RMSE,
        COL_SIMULATED,
        COL_WORDS,
        HARVEST_ROW,
        SIGNALS,
        ModelCheckView,
        fmt,
    )

    view = ModelCheckView()
    qtbot.addWidget(view)
    view.resize(1400, 860)
    view.show()
    view.set_log_path(str(FIXTURE / "Greenhouse_climate.csv"))  # the folder's climate file
    view.days.setValue(2)
    seen = []
    view.progress.valueChanged.connect(seen.append)
    view.run()
    assert not view.run_button.isEnabled()  # one run at a time
    qtbot.waitUntil(lambda: view.report is not None, timeout=180_000)
    assert view.error.isHidden(), view.error.text()
    assert seen[-1] == 100 and len(seen) >= 3  # per-day progress
    direct = direct_two_days
    assert view.report.start == direct.start == "2018-09-01T00:00+02:00"
    assert view.report.days == pytest.approx(2.0)
    for name, unit, digits, *_w in SIGNALS:
        a, b = view.report.signals[name], direct.signals[name]
        assert a.rmse == pytest.approx(b.rmse, rel=1e-9), name
        assert view.cell(name, COL_RMSE) == fmt(b.rmse, digits, unit)
        assert view.cell(name, COL_BIAS) == fmt(b.bias, digits, unit)
        assert view.cell(name, COL_R2) == fmt(b.r2, 2)
        assert view.cell(name, COL_MEASURED) == fmt(b.measured_mean, digits, unit)
        assert view.cell(name, COL_SIMULATED) == fmt(b.simulated_mean, digits, unit)
    tair = direct.signals["tair_c"]
    assert view.cell("tair_c", COL_RMSE) == f"{tair.rmse:.2f} °C"
    words = view.cell("tair_c", COL_WORDS)
    assert f"{abs(tair.bias):.2f} °C too {'cold' if tair.bias < 0 else 'warm'}" in words
    assert view.cell(HARVEST_ROW, COL_MEASURED) == "0.00 kg/m²"  # planted on the log's first day

    # air temperature is plotted by default: 2 days of 5-min pairs, measured and simulated
    qtbot.waitUntil(lambda: len(view.series_plot.getPlotItem().listDataItems()) == 2)
    measured, simulated = view.series_plot.getPlotItem().listDataItems()
    assert len(direct.time_s) == 576
    for curve, key in ((measured, "measured_tair_c"), (simulated, "simulated_tair_c")):
        x, y = curve.getOriginalDataset()
        assert len(x) == len(y) == 576
        np.testing.assert_allclose(y, direct.paired[key], equal_nan=True)
    bars = view.hour_plot.getPlotItem().items
    heights = next(b for b in bars if hasattr(b, "opts") and "height" in b.opts).opts["height"]
    assert len(heights) == 24
    assert heights[6] == pytest.approx(tair.bias_by_hour[6])
    qtbot.waitUntil(lambda: len(view.harvest_plot.getPlotItem().listDataItems()) == 2)

    # choosing another signal re-plots it; so does clicking its row in the table
    view.signal.setCurrentIndex(view.signal.findData("co2_ppm"))
    x, y = view.series_plot.getPlotItem().listDataItems()[1].getOriginalDataset()
    np.testing.assert_allclose(y, direct.paired["simulated_co2_ppm"], equal_nan=True)
    assert "CO₂ (ppm)" in view.series_plot.getPlotItem().titleLabel.text
    view.table.selectRow(1)
    assert view.signal.currentData() == "rh_pct"
    assert view.run_button.isEnabled()


def test_a_bad_file_is_one_line_in_the_view(qtbot, tmp_path):
    from app.gui.views.model_check import ModelCheckView

    view = ModelCheckView()
    qtbot.addWidget(view)
    view.log.setCurrentIndex(view.log.findData("file"))
    view.run()  # nothing chosen yet: said at once, nothing started
    assert view.error.text() == "choose the log first: Open file/folder…"
    assert not view.running
    bad = tmp_path / "logger.csv"
    bad.write_text("Stamp;T;RH\n01-09-2018 00:00;18.2;80\n", encoding="utf-8")
    view.set_log_path(str(bad))
    view.run()
    qtbot.waitUntil(lambda: not view.running, timeout=60_000)
    text = view.error.text()
    assert text.startswith("logger.csv: not a canonical climate CSV"), text
    assert "\n" not in text and "Traceback" not in text
    assert view.report is None and view.run_button.isEnabled()
    # the columns of a logger export are checked too
    view.columns.setText("time=Stamp,tair_c")
    view.run()
    qtbot.waitUntil(lambda: not view.running, timeout=60_000)
    assert "columns:" in view.error.text() and "\n" not in view.error.text()


def test_replays_this_greenhouses_own_database(make_window, manual_clock, qtbot):
    window = make_window()
    tick(window, 4 * 60, manual_clock)  # four plant hours, one tick per plant minute
    view = window.model_check
    view.log.setCurrentIndex(view.log.findData("database"))
    view.run()
    qtbot.waitUntil(lambda: not view.running, timeout=180_000)
    assert view.error.isHidden(), view.error.text()
    report = view.report
    assert report.log == "this greenhouse's database"
    assert report.signals["tair_c"].n >= 200  # a pair per recorded plant minute
    # the database carries its own outdoor weather: no shipped season stands in for it
    assert "climate.csv" in report.weather


def test_view_mnemonics_do_not_clash_with_the_tabs(make_window):
    from PySide6.QtWidgets import QAbstractButton, QLabel

    window = make_window()
    tabs = {
        window.tabs.tabText(i)[window.tabs.tabText(i).index("&") + 1].lower()
        for i in range(window.tabs.count())
    }
    view = window.model_check
    texts = [w.text() for w in view.findChildren(QAbstractButton) + view.findChildren(QLabel)]
    letters = [t[t.index("&") + 1].lower() for t in texts if "&" in t and "&&" not in t]
    assert len(letters) >= 6
    assert not set(letters) & (tabs | {"s"}), letters  # Alt+S opens the Serra menu
    assert len(set(letters)) == len(letters)
