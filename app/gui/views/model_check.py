"""Model check: replay a logged compartment through the simulator and show how closely the
simulated climate follows the measured one (`serra sim replay` in the app)."""

from __future__ import annotations

import calendar
import math
from datetime import datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.child_run import prepare_child_runs
from app.gui.common import (
    SITE_TZ,
    ErrorLine,
    SiteDateAxis,
    add_legend,
    colour,
    show_axis_values,
    style_plot,
)
from app.gui.labels import WORDS
from app.gui.workers import run_in_worker
from app.model_check_run import (
    LOG_CHOICES,
    MODE_CHOICES,
    ModelCheckRequest,
    run_model_check_in_process,
)

#: Compared signals: name, unit, digits, words when the model reads low and high.
SIGNALS = (
    ("tair_c", "°C", 2, "too cold", "too warm"),
    ("rh_pct", "%", 1, "too dry", "too humid"),
    ("co2_ppm", "ppm", 0, "too little CO₂", "too much CO₂"),
    ("pipe_c", "°C", 2, "too cool", "too warm"),
    ("pipe_grow_c", "°C", 2, "too cool", "too warm"),
)
_SIGNAL = {s[0]: s for s in SIGNALS}
#: Columns of the results table.
COLUMNS = (
    "Measured\n(mean)",
    "Simulated\n(mean)",
    "Typical error\n(RMSE)",
    "Bias\n(sim − measured)",
    "R²\n(1 = perfect)",
    "In words",
)
COL_MEASURED, COL_SIMULATED, COL_RMSE, COL_BIAS, COL_R2, COL_WORDS = range(len(COLUMNS))
HARVEST_ROW = "harvest_kg_m2"
MEASURED_PEN_WIDTH = 1.5


def signal_title(name: str) -> str:
    """ "Air temperature (°C)" for tair_c."""
    return f"{WORDS.get(name, name)} ({_SIGNAL[name][1]})" if name in _SIGNAL else name


def fmt(x: float | None, digits: int, unit: str = "") -> str:
    """A figure with its unit, '–' when missing (NaN or None)."""
    if x is None or not math.isfinite(x):
        return "–"
    text = f"{x:,.{digits}f}"
    if text.startswith("-"):
        text = "−" + text[1:]  # a real minus reads better in a table
    return f"{text} {unit}".rstrip()


def fit_words(r2: float) -> str:
    """How well the simulated series follows the measured swings, from R²."""
    if not math.isfinite(r2):
        return ""
    if r2 >= 0.8:
        return "follows the swings well"
    if r2 >= 0.5:
        return "follows the swings partly"
    if r2 >= 0.0:
        return "follows the swings poorly"
    return "misses the swings (the measured mean is closer)"


def bias_words(name: str, bias: float) -> str:
    """The bias in a grower's words: "3.02 °C too cold on average"."""
    _n, unit, digits, low, high = _SIGNAL[name]
    if not math.isfinite(bias):
        return ""
    if round(abs(bias), digits) == 0:
        return "no bias on average"
    return f"{fmt(abs(bias), digits, unit)} {low if bias < 0 else high} on average"


def harvest_words(measured: float, simulated: float) -> str:
    """The harvest at the end of the replay in words: "6.67 kg/m² less than measured"."""
    diff = simulated - measured
    if round(abs(diff), 2) == 0:
        return "as much as measured by the end"
    return f"{fmt(abs(diff), 2, 'kg/m²')} {'less' if diff < 0 else 'more'} than measured by the end"


def month_words(key: str) -> str:
    """ "2018-09" -> "Sep 2018"."""
    try:
        year, month = key.split("-")
        return f"{calendar.month_abbr[int(month)]} {year}"
    except (ValueError, IndexError):
        return key


class ModelCheckView(QWidget):
    """Log, mode and period; run with progress; agreement table and plots of the replay."""

    def __init__(self, db_path: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.file_path: str | None = None
        self.report = None
        self.running = False
        prepare_child_runs()
        outer = QVBoxLayout(self)
        setup = QGroupBox("Replay a logged greenhouse through the simulator")
        grid = QGridLayout(setup)
        self.log = QComboBox()
        for key, label in LOG_CHOICES:
            self.log.addItem(label, key)
        self.log.setToolTip(
            "the logged compartment to replay: a shipped AGC 2018 compartment, a challenge "
            "folder (choose its Greenhouse_climate.csv), a climate CSV of serra db export or a "
            "logger export (give its columns), or this greenhouse's own recorded climate"
        )
        self.log.activated.connect(self._log_chosen)
        self.mode = QComboBox()
        for key, label in MODE_CHOICES:
            self.mode.addItem(label, key)
        self.mode.setToolTip(
            "open loop: the logged heating, vents, screens and lamps are forced as logged; "
            "closed loop: the logged setpoints go through the climate computer, which drives "
            "heating, vents and CO₂"
        )
        self.from_day = QCheckBox("&From")
        self.from_day.setToolTip("replay from this local day (else from the log's first day)")
        self.start = QDateEdit(QDate(2018, 8, 14))
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        self.start.setEnabled(False)
        self.from_day.toggled.connect(lambda on: self.start.setEnabled(bool(on)))
        self.days = QSpinBox()
        self.days.setRange(0, 400)
        self.days.setSuffix(" days")
        self.days.setSpecialValueText("whole log")
        self.days.setToolTip("days to replay (whole log: all of it)")
        log_label = QLabel("&Log")
        log_label.setBuddy(self.log)
        mode_label = QLabel("Mo&de")
        mode_label.setBuddy(self.mode)
        days_label = QLabel("Da&ys")
        days_label.setBuddy(self.days)
        grid.addWidget(log_label, 0, 0)
        grid.addWidget(self.log, 0, 1)
        grid.addWidget(mode_label, 0, 2)
        grid.addWidget(self.mode, 0, 3)
        grid.addWidget(self.from_day, 0, 4)
        grid.addWidget(self.start, 0, 5)
        grid.addWidget(days_label, 0, 6)
        grid.addWidget(self.days, 0, 7)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 1)
        self.columns = QLineEdit()
        self.columns.setPlaceholderText(
            "only for a logger export: time=Stamp,tair_c=T,rh_pct=RH,vent_lee_pct=Lee,…"
        )
        self.columns.setToolTip(
            "canonical=column pairs of a logger CSV (as serra sim replay --columns); leave "
            "empty for a climate CSV of serra db export or a challenge folder"
        )
        self.time_format = QLineEdit()
        self.time_format.setPlaceholderText("ISO 8601; or excel, unix, %d-%m-%Y %H:%M")
        self.time_format.setToolTip("time column of a logger export (--time-format)")
        self.file_row = QWidget()
        fr = QHBoxLayout(self.file_row)
        fr.setContentsMargins(0, 0, 0, 0)
        self.file_label = QLabel("")
        columns_label = QLabel("&Columns")
        columns_label.setBuddy(self.columns)
        time_label = QLabel("&Time format")
        time_label.setBuddy(self.time_format)
        fr.addWidget(self.file_label, stretch=2)
        fr.addWidget(columns_label)
        fr.addWidget(self.columns, stretch=3)
        fr.addWidget(time_label)
        fr.addWidget(self.time_format, stretch=1)
        self.file_row.hide()
        grid.addWidget(self.file_row, 1, 0, 1, 8)
        row = QHBoxLayout()
        self.run_button = QPushButton("&Run model check")
        self.run_button.setToolTip(
            "simulate the logged period (in the background) and compare with what was measured"
        )
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setFormat("%p % simulated")
        row.addWidget(self.run_button)
        row.addWidget(self.progress, stretch=1)
        grid.addLayout(row, 2, 0, 1, 8)
        self.error = ErrorLine()
        grid.addWidget(self.error, 3, 0, 1, 8)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.info, 4, 0, 1, 8)
        outer.addWidget(setup)

        # the table across the top (every column readable), the plots below it
        split = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(
            COL_WORDS, QHeaderView.ResizeMode.Stretch
        )
        self.table.setToolTip(
            "per signal over the replayed period: typical error (root mean square of simulated "
            "minus measured), bias (mean of simulated minus measured: below 0 the model reads "
            "low) and R² (1 = follows every swing, 0 = no better than the measured mean); "
            "click a row to plot it"
        )
        self.table.itemSelectionChanged.connect(self._row_chosen)
        split.addWidget(self.table)

        plots = QWidget()
        pg_grid = QGridLayout(plots)
        pg_grid.setContentsMargins(0, 0, 0, 0)
        pick = QHBoxLayout()
        self.signal = QComboBox()
        for name, *_rest in SIGNALS:
            self.signal.addItem(signal_title(name), name)
        self.signal.setToolTip("the signal the plots show (or click its row in the table)")
        self.signal.currentIndexChanged.connect(lambda _i: self._plot_signal())
        signal_label = QLabel("Si&gnal")
        signal_label.setBuddy(self.signal)
        pick.addWidget(signal_label)
        pick.addWidget(self.signal)
        pick.addStretch(1)
        self.series_plot = pg.PlotWidget(axisItems={"bottom": SiteDateAxis()})
        self.series_plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.series_plot.getPlotItem().setClipToView(True)
        self.harvest_plot = pg.PlotWidget(
            title="Cumulative harvest (kg/m²)", axisItems={"bottom": SiteDateAxis()}
        )
        self.hour_plot = pg.PlotWidget()
        self.month_plot = pg.PlotWidget()
        for p in (self.series_plot, self.harvest_plot, self.hour_plot, self.month_plot):
            style_plot(p)
            show_axis_values(p, False)  # until a replay has run
        for p in (self.series_plot, self.harvest_plot):
            add_legend(p, offset=(5, 2), colCount=2)
        pg_grid.addLayout(pick, 0, 0, 1, 2)
        pg_grid.addWidget(self.series_plot, 1, 0)
        pg_grid.addWidget(self.harvest_plot, 1, 1)
        pg_grid.addWidget(self.hour_plot, 2, 0)
        pg_grid.addWidget(self.month_plot, 2, 1)
        pg_grid.setColumnStretch(0, 3)
        pg_grid.setColumnStretch(1, 2)
        pg_grid.setRowStretch(1, 3)
        pg_grid.setRowStretch(2, 2)
        split.addWidget(plots)
        split.setStretchFactor(1, 1)
        self.split = split
        outer.addWidget(split, stretch=1)
        self._titles()

    # -- choosing --------------------------------------------------------------------------
    def _log_chosen(self, _i: int) -> None:
        if self.log.currentData() == "file":
            path, _ = QFileDialog.getOpenFileName(
                self,
                "Logged climate: a CSV, or a challenge folder's Greenhouse_climate.csv",
                self.file_path or "",
                "Climate logs (*.csv *.csv.gz);;All files (*)",
            )
            if path:
                self.set_log_path(path)
        self.file_row.setVisible(self.log.currentData() == "file")

    def set_log_path(self, path: str) -> None:
        """Replay `path` (a CSV file or a compartment folder), as Open file/folder… would."""
        self.file_path = path
        self.log.setCurrentIndex(self.log.findData("file"))
        self.file_label.setText(path)
        self.file_label.setToolTip(path)
        self.file_row.setVisible(True)

    def request(self) -> ModelCheckRequest:
        """What the controls ask for."""
        days = self.days.value()
        return ModelCheckRequest(
            choice=self.log.currentData(),
            path=self.file_path,
            db_path=self.db_path,
            mode=self.mode.currentData(),
            start=self.start.date().toString("yyyy-MM-dd") if self.from_day.isChecked() else None,
            days=float(days) if days > 0 else None,
            columns=self.columns.text().strip() or None,
            time_format=self.time_format.text().strip() or None,
        )

    # -- running ---------------------------------------------------------------------------
    def run(self) -> None:
        """Start the replay in a worker (child process); results arrive on the GUI thread."""
        if self.running:
            return
        request = self.request()
        if request.choice == "file" and not request.path:
            self.error.show_error("choose the log first: Open file/folder…")
            return
        self.error.clear_error()
        self.running = True
        self.run_button.setEnabled(False)
        self.progress.setValue(0)
        run_in_worker(
            run_model_check_in_process,
            request,
            on_done=self._done,
            on_error=self._failed,
            on_progress=lambda f: self.progress.setValue(round(100 * f)),
        )

    def _failed(self, message: str) -> None:
        self.running = False
        self.run_button.setEnabled(True)
        self.progress.setValue(0)
        self.error.show_error(message)

    def _done(self, report) -> None:
        self.running = False
        self.run_button.setEnabled(True)
        self.progress.setValue(100)
        self.report = report
        self._show_info(report)
        self._fill_table(report)
        # one plot per event-loop turn, so the GUI is never held long
        QTimer.singleShot(0, self, self._plot_signal)
        QTimer.singleShot(60, self, self._plot_harvest)

    def _show_info(self, report) -> None:
        mode = dict(MODE_CHOICES)[report.mode].lower()
        start = report.start.replace("T", " ")[:16]
        end = report.end.replace("T", " ")[:16]
        lines = [
            f"<b>{report.log}</b>, {mode}: {start} – {end} ({report.days:.1f} days); "
            f"weather {report.weather}"
        ]
        extra = []
        if report.never_logged:
            extra.append(
                "never logged, replaced: "
                + "; ".join(f"{k} = {v}" for k, v in report.never_logged.items())
            )
        if report.drove_gaps:
            extra.append(
                "climate computer decided in log gaps: "
                + ", ".join(
                    f"{WORDS.get(k, k).lower()} {v:.1f} h" for k, v in report.drove_gaps.items()
                )
            )
        extra += [n for n in report.notes if not n.startswith("weather:")]
        if extra:
            lines.append(f"<small>{' · '.join(extra)}</small>")
        self.info.setText("<br>".join(lines))
        self.info.setToolTip("\n".join(extra))

    def _fill_table(self, report) -> None:
        rows = [n for n, *_r in SIGNALS if n in report.signals]
        h = report.harvest
        with_harvest = bool(h and h.get("compared"))
        self.table.blockSignals(True)
        self.table.clearContents()
        self.table.setRowCount(len(rows) + (1 if with_harvest else 0))
        labels = []
        for i, name in enumerate(rows):
            _n, unit, digits, *_w = _SIGNAL[name]
            a = report.signals[name]
            labels.append(WORDS.get(name, name))
            cells = (
                fmt(a.measured_mean, digits, unit),
                fmt(a.simulated_mean, digits, unit),
                fmt(a.rmse, digits, unit),
                fmt(a.bias, digits, unit),
                fmt(a.r2, 2),
                "; ".join(w for w in (bias_words(name, a.bias), fit_words(a.r2)) if w),
            )
            self._set_row(i, cells, name)
        if with_harvest:
            c = h["curve"]
            labels.append("Harvest (cumulative)")
            cells = (
                fmt(h["measured_kg_m2"], 2, "kg/m²"),
                fmt(h["simulated_kg_m2"], 2, "kg/m²"),
                fmt(c["rmse"], 2, "kg/m²"),
                fmt(c["bias"], 2, "kg/m²"),
                fmt(c["r2"] if c["r2"] is not None else math.nan, 2),
                harvest_words(h["measured_kg_m2"], h["simulated_kg_m2"]),
            )
            self._set_row(len(rows), cells, HARVEST_ROW)
        self.table.setVerticalHeaderLabels(labels)
        self.table.resizeColumnsToContents()
        self.table.blockSignals(False)
        self._fit_table()
        current = self.signal.currentData()
        if current in rows:
            self.table.selectRow(rows.index(current))

    def _fit_table(self) -> None:
        """Give the table the height its rows need; the plots get the rest."""
        need = (
            self.table.horizontalHeader().height()
            + sum(self.table.rowHeight(i) for i in range(self.table.rowCount()))
            + 2 * self.table.frameWidth()
            + 2
        )
        self.table.setMinimumHeight(need)  # holds while the tab is hidden, too
        total = sum(self.split.sizes())
        if total > need:
            self.split.setSizes([need, total - need])

    def _set_row(self, i: int, cells: tuple[str, ...], name: str) -> None:
        for j, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, name)
            if j != COL_WORDS:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(i, j, item)

    def cell(self, name: str, column: int) -> str:
        """The text of the table cell of signal `name` (or HARVEST_ROW) in `column`."""
        for i in range(self.table.rowCount()):
            item = self.table.item(i, column)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == name:
                return item.text()
        raise KeyError(name)

    def _row_chosen(self) -> None:
        items = self.table.selectedItems()
        if not items:
            return
        name = items[0].data(Qt.ItemDataRole.UserRole)
        index = self.signal.findData(name)
        if index >= 0:
            self.signal.setCurrentIndex(index)

    # -- plotting --------------------------------------------------------------------------
    def _titles(self) -> None:
        name = self.signal.currentData()
        unit = _SIGNAL[name][1]
        self.series_plot.setTitle(f"{signal_title(name)}: measured and simulated")
        self.hour_plot.setTitle(f"Bias by hour of day ({unit}, simulated − measured)")
        self.month_plot.setTitle(f"Bias by month ({unit})")

    def _plot_signal(self) -> None:
        """Measured against simulated over time, and the biases, of the chosen signal."""
        self._titles()
        for p in (self.series_plot, self.hour_plot, self.month_plot):
            p.getPlotItem().clear()
        report = self.report
        name = self.signal.currentData()
        if report is None or name not in report.signals:
            for p in (self.series_plot, self.hour_plot, self.month_plot):
                show_axis_values(p, False)
            if report is not None:
                self.series_plot.setTitle(f"{signal_title(name)}: not logged, not compared")
            return
        for p in (self.series_plot, self.hour_plot, self.month_plot):
            show_axis_values(p, True)
        t = np.asarray(report.time_s, dtype=np.float64)
        text = QApplication.instance().palette().color(QPalette.ColorRole.Text)
        item = self.series_plot.getPlotItem()
        item.plot(
            t,
            report.paired[f"measured_{name}"],
            pen=pg.mkPen(text, width=MEASURED_PEN_WIDTH),
            name="measured",
            connect="finite",
        )
        item.plot(
            t,
            report.paired[f"simulated_{name}"],
            pen=pg.mkPen(colour(0), width=1.5),
            name="simulated",
            connect="finite",
        )
        item.enableAutoRange()
        a = report.signals[name]
        self._bars(self.hour_plot, sorted(a.bias_by_hour.items()), hours=True)
        self._bars(self.month_plot, sorted(a.bias_by_month.items()), hours=False)

    def _bars(self, plot: pg.PlotWidget, items: list, hours: bool) -> None:
        item = plot.getPlotItem()
        if not items:
            return
        keys = [k for k, _v in items]
        values = [v for _k, v in items]
        x = np.array(keys, dtype=float) if hours else np.arange(len(keys), dtype=float)
        brushes = [colour(0) if v >= 0 else colour(1) for v in values]
        item.addItem(pg.BarGraphItem(x=x, height=values, width=0.8, brushes=brushes))
        axis = item.getAxis("bottom")
        if hours:
            axis.setTicks([[(h, f"{h:02d}") for h in range(0, 24, 3)]])
            item.setXRange(-0.6, 23.6, padding=0)
        else:
            axis.setTicks([[(i, month_words(k)) for i, k in enumerate(keys)]])
            item.setXRange(-0.6, len(keys) - 0.4, padding=0)
        lo, hi = min(0.0, min(values)), max(0.0, max(values))
        span = max(hi - lo, 1e-9)
        item.setYRange(lo - 0.05 * span, hi + 0.05 * span, padding=0)
        item.addLine(y=0.0, pen=pg.mkPen(item.getAxis("left").pen().color(), width=1))

    def _plot_harvest(self) -> None:
        item = self.harvest_plot.getPlotItem()
        item.clear()
        report = self.report
        show_axis_values(self.harvest_plot, bool(report is not None and report.harvest))
        if report is None:
            return
        h, daily = report.harvest, report.harvest_daily
        if not h:
            self.harvest_plot.setTitle("Cumulative harvest: not logged")
            return
        if not h.get("compared") or not daily:
            self.harvest_plot.setTitle(f"Cumulative harvest: not compared ({h.get('why', '')})")
            return
        self.harvest_plot.setTitle("Cumulative harvest (kg/m²) by day")
        t = np.array(
            [datetime.fromisoformat(d).replace(hour=12, tzinfo=SITE_TZ).timestamp()
             for d in daily["dates"]]
        )  # fmt: skip
        text = QApplication.instance().palette().color(QPalette.ColorRole.Text)
        item.plot(
            t, daily["measured_kg_m2"], pen=pg.mkPen(text, width=2), name="measured",
            symbol="o", symbolSize=4, symbolBrush=text,
        )  # fmt: skip
        item.plot(t, daily["simulated_kg_m2"], pen=pg.mkPen(colour(0), width=2), name="simulated")
        item.enableAutoRange()
