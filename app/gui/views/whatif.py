"""What-if: run variants of the grower rules, setpoint schedules replayed over them, or the learned
strategy with the active model, over a weather file and compare the seasons."""

from __future__ import annotations

import textwrap

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDate, QTimer
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
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
    ErrorLine,
    add_legend,
    cell,
    colour,
    header_cell,
    show_axis_values,
    style_plot,
)
from app.gui.workers import run_in_worker
from app.whatif_run import (
    Variant,
    WhatIfError,
    WhatIfRun,
    check_variant,
    run_whatif_in_process,
)

WEATHER_CHOICES = (
    ("agc2018", "AGC 2018 season, Bleiswijk (shipped, 5 min)"),
    ("reference", "Dutch reference year (shipped, hourly)"),
    ("file", "Weather file…"),
)


def _default_variants() -> tuple[tuple[str, str], ...]:
    """The rules as shipped, one degree warmer, and more CO₂, named by the values they set.

    A setpoint change sets the highest value the day periods give it (the day value) and shifts
    the others with it, so the names say that day value, taken from the shipped rules.
    """
    from controllers.grower_rules import cucumber_periods

    def day(name: str) -> float:
        return max(p.values[name] for p in cucumber_periods() if name in p.values)

    heat, co2 = day("heat_c") + 1.0, day("co2_ppm") + 100.0
    return (
        ("Grower rules", ""),
        (f"Warmer: day heating {heat:g} °C (+1)", f"heat_c={heat:g}"),
        (f"More CO₂: day {co2:g} ppm (+100)", f"co2_ppm={co2:g}"),
    )


DEFAULT_VARIANTS = _default_variants()
#: Strategy column: key and words.
STRATEGY_CHOICES = (
    ("grower", "Grower rules"),
    ("schedule", "Setpoint schedule…"),
    ("learned", "Learned"),
)


def strategy_label(key: str, label: str) -> str:
    """The combo box's words for a strategy; the learned one names the active model."""
    if key != "learned":
        return label
    from models.registry import Registry, RegistryError

    try:
        return f"Learned (model {Registry().active()})"
    except RegistryError:
        return "Learned (active model)"


#: Columns of the variants table.
COL_NAME, COL_STRATEGY, COL_CHANGES, COL_FILE = range(4)
#: Rows of the comparison table: summary key, label, unit, digits.
METRICS = (
    ("yield_kg_m2", "Yield", "kg/m²", 2),
    ("yield_class_a_kg_m2", "Yield class A", "kg/m²", 2),
    ("fruits_per_m2", "Fruits", "1/m²", 1),
    ("revenue_eur_m2", "Revenue", "€/m²", 2),
    ("net_profit_eur_m2", "Net profit", "€/m²", 2),
    ("heat_kwh_m2", "Heat", "kWh/m²", 1),
    ("electricity_kwh_m2", "Electricity", "kWh/m²", 1),
    ("co2_kg_m2", "CO₂ dosed", "kg/m²", 2),
    ("water_l_m2", "Net water", "L/m²", 0),
    ("mean_tair_c", "Mean air temperature", "°C", 2),
)


#: Headroom above the data so the one-row legend at the top never covers a bar or line.
LEGEND_ROOM = 1.35


def cost_words(kind: str) -> str:
    """A cost kind as a word: "co2" is CO₂, "electricity_peak" is "Electricity peak"."""
    return "CO₂" if kind == "co2" else kind.replace("_", " ").capitalize()


class WhatIfView(QWidget):
    """Variants table, weather window, run with progress, side-by-side results and plots."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: WhatIfRun | None = None
        self.file_path: str | None = None
        self.running = False
        prepare_child_runs()
        outer = QVBoxLayout(self)
        setup = QGroupBox("Season")
        grid = QGridLayout(setup)
        self.weather = QComboBox()
        for key, label in WEATHER_CHOICES:
            self.weather.addItem(label, key)
        self.weather.setToolTip("the outside weather the seasons are simulated in")
        self.weather.activated.connect(self._weather_chosen)
        self.start = QDateEdit(QDate(2018, 8, 14))
        self.start.setCalendarPopup(True)
        self.start.setDisplayFormat("yyyy-MM-dd")
        self.start.setToolTip("first day of the season (site-local)")
        self.days = QSpinBox()
        self.days.setRange(1, 366)
        self.days.setValue(115)
        self.days.setSuffix(" days")
        self.days.setToolTip("season length")
        grid.addWidget(QLabel("Weather"), 0, 0)
        grid.addWidget(self.weather, 0, 1)
        grid.addWidget(QLabel("Start"), 0, 2)
        grid.addWidget(self.start, 0, 3)
        grid.addWidget(QLabel("Length"), 0, 4)
        grid.addWidget(self.days, 0, 5)
        self.variants = QTableWidget(0, 4)
        self.variants.setHorizontalHeaderLabels(
            ["Variant", "Strategy", "Setpoint changes (NAME=VALUE; …)", "Schedule file (CSV)"]
        )
        header = self.variants.horizontalHeader()
        header.setSectionResizeMode(COL_CHANGES, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_FILE, QHeaderView.ResizeMode.Stretch)
        self.variants.setColumnWidth(COL_NAME, 190)
        self.variants.setColumnWidth(COL_STRATEGY, 170)
        self.variants.setToolTip(
            "each row is one season; changes shift the grower rules, e.g. heat_c=21.5; "
            "co2_ppm=1000 (names as in Setpoints, or climate-computer settings); a setpoint "
            "schedule replays a CSV (time plus setpoint columns) over the grower rules"
        )
        for name, text in DEFAULT_VARIANTS:
            self.add_variant(name, text)
        self.variants.setMaximumHeight(150)
        grid.addWidget(self.variants, 1, 0, 1, 6)
        row = QHBoxLayout()
        add = QPushButton("Add &variant")
        add.clicked.connect(lambda: self.add_variant(f"Variant {self.variants.rowCount() + 1}", ""))
        remove = QPushButton("Remove varian&t")
        remove.clicked.connect(self._remove_variant)
        self.run_button = QPushButton("&Run seasons")
        self.run_button.setToolTip("simulate every variant (in the background) and compare")
        self.run_button.clicked.connect(self.run)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setFormat("%p % simulated")
        for w in (add, remove, self.run_button):
            row.addWidget(w)
        row.addWidget(self.progress, stretch=1)
        grid.addLayout(row, 2, 0, 1, 6)
        self.error = ErrorLine()
        grid.addWidget(self.error, 3, 0, 1, 6)
        outer.addWidget(setup)

        split = QSplitter()
        self.table = QTableWidget(0, 0)
        self.table.setToolTip("season results side by side; costs per m² of greenhouse")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        split.addWidget(self.table)
        plots = QWidget()
        pv = QVBoxLayout(plots)
        self.costs_plot = pg.PlotWidget(title="Costs by kind (€/m²)")
        self.tair_plot = pg.PlotWidget(title="Daily mean air temperature (°C) by season day")
        self.yield_plot = pg.PlotWidget(title="Cumulative yield (kg/m²) by season day")
        for p in (self.costs_plot, self.tair_plot, self.yield_plot):
            style_plot(p)
            show_axis_values(p, False)  # until a run has results: no 0.1 .. 0.9 axes
            pv.addWidget(p)
        # the bars share the lines' colours: one legend row on the line plots, none over bars
        for p in (self.tair_plot, self.yield_plot):
            add_legend(p, offset=(5, 2), colCount=len(DEFAULT_VARIANTS))
        split.addWidget(plots)
        split.setSizes([600, 760])  # three variants side by side without scrolling
        self.split = split
        outer.addWidget(split, stretch=1)

    def add_variant(
        self, name: str, changes: str, strategy: str = "grower", setpoints: str | None = None
    ) -> None:
        """Append a variant row (`strategy` grower or schedule, `setpoints` the schedule CSV)."""
        i = self.variants.rowCount()
        self.variants.insertRow(i)
        self.variants.setItem(i, COL_NAME, QTableWidgetItem(name))
        self.variants.setItem(i, COL_CHANGES, QTableWidgetItem(changes))
        file = QTableWidgetItem(setpoints or "")
        file.setToolTip("the setpoint schedule to replay; type a path or choose Setpoint schedule…")
        self.variants.setItem(i, COL_FILE, file)
        box = QComboBox()
        for key, label in STRATEGY_CHOICES:
            box.addItem(strategy_label(key, label), key)
        box.setCurrentIndex(max(0, box.findData(strategy)))
        box.setToolTip(
            "grower rules (with the changes), a setpoint schedule CSV whose columns "
            "replace the grower rules' setpoints (as serra sim run --strategy schedule), or "
            "the learned strategy planning each day with the active model, the grower rules "
            "with the changes as its fallback (as serra sim run --strategy learned)"
        )
        box.activated.connect(lambda _i, b=box: self._strategy_chosen(b))
        self.variants.setCellWidget(i, COL_STRATEGY, box)

    def _strategy_chosen(self, box: QComboBox) -> None:
        """Choosing a setpoint schedule asks for its file (unless the row has one)."""
        row = next(
            (i for i in range(self.variants.rowCount())
             if self.variants.cellWidget(i, COL_STRATEGY) is box),
            -1,
        )  # fmt: skip
        if row < 0 or box.currentData() != "schedule":
            return
        item = self.variants.item(row, COL_FILE)
        if item is not None and item.text().strip():
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Setpoint schedule", "", "Setpoint schedule CSV (*.csv)"
        )
        if path:
            cell(self.variants, row, COL_FILE).setText(path)

    def _remove_variant(self) -> None:
        row = self.variants.currentRow()
        if row >= 0:
            self.variants.removeRow(row)

    def _weather_chosen(self, _i: int) -> None:
        if self.weather.currentData() == "file":
            path, _ = QFileDialog.getOpenFileName(
                self, "Weather file", "", "Weather CSV (*.csv *.csv.gz)"
            )
            self.file_path = path or None
            if path:
                self.weather.setItemText(2, f"Weather file: {path}")

    def variant_rows(self) -> list[Variant]:
        """Every variant row: name, changes, strategy and schedule file."""
        out = []
        for i in range(self.variants.rowCount()):
            name = self.variants.item(i, COL_NAME)
            text = self.variants.item(i, COL_CHANGES)
            file = self.variants.item(i, COL_FILE)
            box = self.variants.cellWidget(i, COL_STRATEGY)
            strategy = box.currentData() if isinstance(box, QComboBox) else "grower"
            out.append(
                Variant(
                    name.text() if name else f"Variant {i + 1}",
                    text.text() if text else "",
                    strategy,
                    (file.text().strip() or None) if file and strategy == "schedule" else None,
                )
            )
        return out

    def set_strategy(self, row: int, strategy: str, setpoints: str | None = None) -> None:
        """Set a row's strategy (and schedule file) as choosing it would, without a dialog."""
        if setpoints is not None:
            cell(self.variants, row, COL_FILE).setText(setpoints)
        box = self.variants.cellWidget(row, COL_STRATEGY)
        assert isinstance(box, QComboBox)  # each row's strategy cell is a combo box
        box.setCurrentIndex(box.findData(strategy))

    def run(self) -> None:
        """Start the seasons in a worker; progress and results arrive on the GUI thread.

        Changes, strategy and whether the schedule file is there are checked here; the file's
        contents are read (and any row or column error reported) by the run itself."""
        if self.running:
            return
        try:
            for variant in self.variant_rows():
                check_variant(variant)
        except WhatIfError as exc:
            self.error.show_error(str(exc))
            return
        self.error.clear_error()
        self.running = True
        self.run_button.setEnabled(False)
        self.progress.setValue(0)
        run_in_worker(
            run_whatif_in_process,
            self.weather.currentData(),
            self.file_path,
            self.start.date().toString("yyyy-MM-dd"),
            float(self.days.value()),
            self.variant_rows(),
            on_done=self._done,
            on_error=self._failed,
            on_progress=lambda f: self.progress.setValue(round(100 * f)),
        )

    def _failed(self, message: str) -> None:
        self.running = False
        self.run_button.setEnabled(True)
        self.error.show_error(message)

    def _done(self, run: WhatIfRun) -> None:
        self.running = False
        self.run_button.setEnabled(True)
        self.progress.setValue(100)
        self.result = run
        costs = sorted({k for s in run.summaries for k in s.get("costs_eur_m2", {})})
        rows = [(k, f"{label} [{unit}]", d) for k, label, unit, d in METRICS]
        rows += [(f"costs_eur_m2.{k}", f"Cost: {cost_words(k)} [€/m²]", 2) for k in costs]
        self.table.clear()
        self.table.setRowCount(len(rows))
        self.table.setColumnCount(len(run.names))
        # long variant names on two lines, so every column fits beside the plots
        self.table.setHorizontalHeaderLabels([textwrap.fill(n, 18) for n in run.names])
        for j in range(len(run.names)):  # the variant's colour in bars and lines
            swatch = QPixmap(12, 12)
            swatch.fill(colour(j))
            header_cell(self.table, j).setIcon(QIcon(swatch))
        self.table.setVerticalHeaderLabels([label for _k, label, _d in rows])
        for j, s in enumerate(run.summaries):
            for i, (key, _label, digits) in enumerate(rows):
                if key.startswith("costs_eur_m2."):
                    v = s.get("costs_eur_m2", {}).get(key.split(".", 1)[1])
                else:
                    v = s.get(key)
                text = "–" if v is None else f"{v:,.{digits}f}"
                self.table.setItem(i, j, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self._fit_table()
        self._plot(run, costs)

    def _fit_table(self) -> None:
        """Give the results table the width its columns need (at most 60 % of the view)."""
        header = self.table.horizontalHeader()
        need = (
            sum(header.sectionSize(j) for j in range(self.table.columnCount()))
            + self.table.verticalHeader().width()
            + 2 * self.table.frameWidth()
            + self.table.verticalScrollBar().sizeHint().width()
        )
        total = sum(self.split.sizes())
        want = min(need, int(0.6 * total))
        if self.split.sizes()[0] < want:
            self.split.setSizes([want, total - want])

    def _plot(self, run: WhatIfRun, costs: list[str]) -> None:
        # one plot per event-loop turn: drawing all three at once would hold the GUI > 50 ms
        QTimer.singleShot(0, self, lambda: self._plot_costs(run, costs))
        QTimer.singleShot(60, self, lambda: self._plot_series(self.tair_plot, run, run.tair_daily))
        QTimer.singleShot(120, self, lambda: self._plot_series(self.yield_plot, run, run.yield_cum))

    def _plot_costs(self, run: WhatIfRun, costs: list[str]) -> None:
        cp = self.costs_plot.getPlotItem()
        cp.clear()
        show_axis_values(self.costs_plot, True)
        n = len(run.names)
        width = 0.8 / max(1, n)
        for j, s in enumerate(run.summaries):
            values = [s.get("costs_eur_m2", {}).get(k, 0.0) for k in costs]
            x = np.arange(len(costs)) + (j - (n - 1) / 2) * width
            bars = pg.BarGraphItem(
                x=x, height=values, width=width * 0.9, brush=colour(j), name=run.names[j]
            )
            cp.addItem(bars)
        cp.getAxis("bottom").setTicks([[(i, cost_words(k)) for i, k in enumerate(costs)]])
        top = max(max(s.get("costs_eur_m2", {}).values(), default=0.0) for s in run.summaries)
        cp.setYRange(0.0, 1.05 * max(top, 1e-9), padding=0)

    def _plot_series(self, plot: pg.PlotWidget, run: WhatIfRun, series: list) -> None:
        item = plot.getPlotItem()
        item.clear()
        show_axis_values(plot, True)
        for j, values in enumerate(series):
            item.plot(
                np.arange(len(values)), values, pen=pg.mkPen(colour(j), width=2), name=run.names[j]
            )
        finite = [v for values in series for v in values if np.isfinite(v)]
        if finite:
            lo, hi = min(finite), max(finite)
            span = max(hi - lo, 1e-9)
            item.setYRange(lo - 0.05 * span, lo + LEGEND_ROOM * span, padding=0)
