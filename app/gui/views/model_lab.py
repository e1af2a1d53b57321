"""Model lab: the registry's learned day models, their metrics per target, side-by-side
comparison, promote and roll back, and training a new model in a child process (issue 13)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
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
from app.gui.common import ErrorLine, colour, style_plot
from app.gui.workers import run_in_worker
from app.model_lab_run import ModelLabError, TrainRequest, check_name, train_in_child

#: Targets in an agronomist's words (the canonical name is in each row's tooltip).
TARGET_WORDS: dict[str, str] = {
    "tair_mean_c": "Air temperature, 24 h mean",
    "tair_day_mean_c": "Air temperature, day",
    "tair_night_mean_c": "Air temperature, night",
    "par_sum_mol_m2": "Light sum (sun + lamps)",
    "co2_day_mean_ppm": "CO₂ by day",
    "hd_mean_g_m3": "Humidity deficit",
    "fruit_growth_kg_m2": "Fruit growth",
    "harvest_kg_m2": "Harvest, daily",
    "harvest_fruits_m2": "Harvest, fruits",
    "harvest_week_kg_m2": "Harvest, weekly",
    "heat_kwh_m2": "Heat",
    "electricity_kwh_m2": "Electricity",
    "co2_kg_m2": "CO₂ dosed",
    "water_l_m2": "Water",
}
KIND_WORDS = {"gradient_boosting": "gradient boosting", "extra_trees": "extra trees", "mlp": "MLP"}
#: Short target labels for the bar plot's axis.
SHORT = {
    "tair_mean_c": "T 24h",
    "tair_day_mean_c": "T day",
    "tair_night_mean_c": "T night",
    "par_sum_mol_m2": "light",
    "co2_day_mean_ppm": "CO₂",
    "hd_mean_g_m3": "HD",
    "fruit_growth_kg_m2": "growth",
    "harvest_kg_m2": "harv. d",
    "harvest_fruits_m2": "fruits",
    "harvest_week_kg_m2": "harv. wk",
    "heat_kwh_m2": "heat",
    "electricity_kwh_m2": "elec.",
    "co2_kg_m2": "CO₂ dose",
    "water_l_m2": "water",
}
LIST_COLUMNS = ("Model", "In use", "Kinds", "Trained", "Training data", "Held-out R²\n(mean)")
METRIC_COLUMNS = ("Target", "Unit", "Kind", "R²", "MAE")
CV_COLUMN = "CV R²\nGB / ET / MLP"
COMPARE_COLUMNS = ("R² ({b})", "MAE ({b})", "ΔR²")
IMPORTANCE_SHOWN = 8


def nice_unit(unit: str) -> str:
    """ "kg/m2" -> "kg/m²"."""
    return unit.replace("m2", "m²").replace("m3", "m³")


def fmt_num(x: Any, digits: int) -> str:
    """A figure with `digits` after the point (real minus), '–' when missing."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    text = f"{v:.{digits}f}"
    return "−" + text[1:] if text.startswith("-") else text


def mae_digits(mae: float) -> int:
    """Enough digits for an MAE to show 2–3 significant figures."""
    if mae <= 0 or not math.isfinite(mae):
        return 2
    return max(0, min(4, 2 - math.floor(math.log10(mae))))


@dataclass
class Entry:
    """A registry model as the lab lists it: its metadata, or the one-line reason it has none."""

    name: str
    meta: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def metrics(self) -> dict[str, dict[str, Any]]:
        """Held-out R2/MAE/unit per target ({} when none were stored)."""
        return dict(self.meta.get("metrics_held_out") or {})

    def mean_r2(self) -> float:
        """Mean held-out R2 over the targets (NaN when none)."""
        r2 = [float(m["r2"]) for m in self.metrics().values() if "r2" in m]
        return float(np.mean(r2)) if r2 else math.nan

    def kinds(self) -> str:
        """ "gradient boosting ×13" or "gradient boosting ×9, MLP ×4"."""
        counts: dict[str, int] = {}
        for kind in (self.meta.get("choice") or {}).values():
            counts[kind] = counts.get(kind, 0) + 1
        return ", ".join(f"{KIND_WORDS.get(k, k)} ×{n}" for k, n in sorted(counts.items()))


@dataclass
class Listing:
    """The registry read once: its models and the active one."""

    root: str
    entries: list[Entry]
    active: str
    error: str = ""


def read_registry(root: str | None) -> Listing:
    """Every model's metadata (not the models themselves) and the active name; worker thread."""
    from models.registry import Registry, RegistryError

    reg = Registry(Path(root) if root else None)
    entries = []
    for name in reg.names():
        try:
            entries.append(Entry(name, reg.meta(name)))
        except RegistryError as exc:
            entries.append(Entry(name, error=str(exc)))
    try:
        active, error = reg.active(), ""
    except RegistryError as exc:
        active, error = "", str(exc)
    return Listing(str(reg.root), entries, active, error)


def promote_model(root: str | None, name: str) -> str:
    """Promote `name` (it must load: versions and types checked); the active name after."""
    from models.registry import Registry

    reg = Registry(Path(root) if root else None)
    before = reg.active()
    reg.promote(name)
    return f"{name} now drives the learned strategy (was {before})"


def rollback_model(root: str | None) -> str:
    """Roll back to the model active before the last promote; one line saying which."""
    from models.registry import Registry

    reg = Registry(Path(root) if root else None)
    before = reg.active()
    after = reg.rollback()
    return f"rolled back: {after} drives the learned strategy again (was {before})"


class ModelLabView(QWidget):
    """The registry's models, one model's metrics and plots, a comparison, promote/rollback,
    and training a new model with progress (in a child process, never in the GUI thread)."""

    def __init__(self, registry_root: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = registry_root
        self.listing: Listing | None = None
        self.training = False
        self.busy = False
        prepare_child_runs()
        outer = QVBoxLayout(self)

        # -- the registry ----------------------------------------------------------------
        box = QGroupBox("Learned day models in the registry")
        grid = QVBoxLayout(box)
        self.models = QTableWidget(0, len(LIST_COLUMNS))
        self.models.setHorizontalHeaderLabels(list(LIST_COLUMNS))
        self.models.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.models.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.models.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.models.verticalHeader().hide()
        header = self.models.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.models.setToolTip(
            "each model the learned strategy can use; R² on weathers it never saw in training "
            "(1 = perfect, 0 = no better than the mean); click a model to see its metrics"
        )
        self.models.itemSelectionChanged.connect(self._model_chosen)
        self.models.setMaximumHeight(150)  # a few models; the metrics and plots need the room
        grid.addWidget(self.models)
        row = QHBoxLayout()
        self.refresh_button = QPushButton("Re&fresh")
        self.refresh_button.setToolTip("read the registry folder again")
        self.refresh_button.clicked.connect(self.reload)
        self.promote_button = QPushButton("P&romote…")
        self.promote_button.setToolTip(
            "make the selected model the one the learned strategy plans with (it is loaded and "
            "checked first: library versions and allowed types)"
        )
        self.promote_button.clicked.connect(self.promote)
        self.rollback_button = QPushButton("Ro&ll back…")
        self.rollback_button.setToolTip("go back to the model in use before the last promote")
        self.rollback_button.clicked.connect(self.rollback)
        self.result = QLabel("")
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for w in (self.refresh_button, self.promote_button, self.rollback_button):
            row.addWidget(w)
        row.addWidget(self.result, stretch=1)
        grid.addLayout(row)
        self.error = ErrorLine()
        grid.addWidget(self.error)
        outer.addWidget(box)

        # -- one model (and another to compare) -------------------------------------------
        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        pick = QHBoxLayout()
        self.title = QLabel("")
        self.title.setStyleSheet("font-weight: bold;")
        self.compare = QComboBox()
        self.compare.setToolTip("a second model whose held-out metrics sit beside the selected")
        self.compare.currentIndexChanged.connect(lambda _i: self._show_model())
        compare_label = QLabel("&Compare with")
        compare_label.setBuddy(self.compare)
        pick.addWidget(self.title, stretch=1)
        pick.addWidget(compare_label)
        pick.addWidget(self.compare)
        lv.addLayout(pick)
        self.metrics = QTableWidget(0, len(METRIC_COLUMNS))
        self.metrics.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.metrics.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.metrics.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.metrics.verticalHeader().hide()
        self.metrics.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.metrics.setToolTip(
            "per target on held-out weathers: R² (1 = perfect) and mean absolute error in the "
            "target's unit; CV R²: grouped cross-validation of each kind of model (the best kind "
            "serves the target); click a row to plot that target"
        )
        self.metrics.itemSelectionChanged.connect(self._target_chosen)
        lv.addWidget(self.metrics, stretch=1)
        split.addWidget(left)

        plots = QWidget()
        pg_grid = QGridLayout(plots)
        pg_grid.setContentsMargins(0, 0, 0, 0)
        tpick = QHBoxLayout()
        self.target = QComboBox()
        self.target.setToolTip("the target the lower plots show (or click its row)")
        self.target.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.target.currentIndexChanged.connect(lambda _i: self._plot_target())
        target_label = QLabel("Tar&get")
        target_label.setBuddy(self.target)
        tpick.addWidget(target_label)
        tpick.addWidget(self.target)
        tpick.addStretch(1)
        self.r2_plot = pg.PlotWidget(title="Held-out R² per target")
        self.pairs_plot = pg.PlotWidget()
        self.importance_plot = pg.PlotWidget()
        for p in (self.r2_plot, self.pairs_plot, self.importance_plot):
            style_plot(p)
            for axis in ("left", "bottom"):
                p.getPlotItem().getAxis(axis).enableAutoSIPrefix(False)  # no "(x0.001)"
        self.r2_legend = QLabel("")
        pg_grid.addWidget(self.r2_legend, 0, 0, 1, 2)
        pg_grid.addWidget(self.r2_plot, 1, 0, 1, 2)
        pg_grid.addLayout(tpick, 2, 0, 1, 2)
        pg_grid.addWidget(self.pairs_plot, 3, 0)
        pg_grid.addWidget(self.importance_plot, 3, 1)
        pg_grid.setRowStretch(1, 1)
        pg_grid.setRowStretch(3, 1)
        split.addWidget(plots)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([700, 700])  # the compared metrics need their columns readable
        outer.addWidget(split, stretch=1)

        # -- training ---------------------------------------------------------------------
        train = QGroupBox("Build a dataset and train a new model")
        tl = QHBoxLayout(train)
        self.name = QLineEdit("lab-1")
        self.name.setToolTip("the new model's name in the registry (letters, digits, - _ .)")
        name_label = QLabel("New model &name")
        name_label.setBuddy(self.name)
        self.seasons = QSpinBox()
        self.seasons.setRange(4, 200)
        self.seasons.setValue(8)
        self.seasons.setToolTip(
            "simulated seasons under random setpoint plans, two per weather; the first weather "
            "(AGC 2018) is held out to measure the model"
        )
        seasons_label = QLabel("Seasons &to simulate")
        seasons_label.setBuddy(self.seasons)
        self.days = QSpinBox()
        self.days.setRange(10, 115)
        self.days.setValue(60)
        self.days.setSuffix(" days")
        days_label = QLabel("&Days per season")
        days_label.setBuddy(self.days)
        self.train_button = QPushButton("&Build dataset and train")
        self.train_button.setToolTip(
            "simulate the seasons and train three kinds of model (quick search), in the "
            "background; the new model is listed when done (promote it to use it)"
        )
        self.train_button.clicked.connect(self.train)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setFormat("%p %")
        self.stage = QLabel("")
        for control in (name_label, self.name, seasons_label, self.seasons, days_label, self.days):
            tl.addWidget(control)
        tl.addWidget(self.train_button)
        tl.addWidget(self.progress, stretch=1)
        tl.addWidget(self.stage)
        outer.addWidget(train)
        self._update_buttons()

    # -- the registry ------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the registry in a worker; the list fills when it is read."""
        run_in_worker(read_registry, self.root, on_done=self._listed, on_error=self._failed)

    def entry(self, name: str) -> Entry | None:
        """The listed model `name` (None when not listed)."""
        if self.listing is None:
            return None
        return next((e for e in self.listing.entries if e.name == name), None)

    def selected(self) -> str | None:
        """The name of the selected model (None when none is)."""
        rows = self.models.selectionModel().selectedRows() if self.models.selectionModel() else []
        if not rows:
            return None
        item = self.models.item(rows[0].row(), 0)
        return item.text() if item else None

    def _listed(self, listing: Listing) -> None:
        keep = self.selected()
        self.listing = listing
        if listing.error:
            self.error.show_error(listing.error)
        self.models.setRowCount(len(listing.entries))
        bold = QFont()
        bold.setBold(True)
        for i, e in enumerate(listing.entries):
            active = e.name == listing.active
            trained = str(e.meta.get("trained", ""))[:16].replace("T", " ")
            sha = str(e.meta.get("data_sha256", ""))
            rows = e.meta.get("rows_trained")
            data = f"{sha[:12]}… ({rows:,} days)" if sha and rows else sha[:12]
            cells = (
                e.name,
                "● in use" if active else "",
                e.error or e.kinds(),
                trained,
                data,
                fmt_num(e.mean_r2(), 2),
            )
            tips = {
                2: self._kinds_tip(e),
                4: f"training data sha256 {sha}\nheld-out weathers: "
                + ", ".join(e.meta.get("held_out_weathers", [])),
            }
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if active:
                    item.setFont(bold)
                if j == 5:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if j in tips:
                    item.setToolTip(tips[j])
                self.models.setItem(i, j, item)
        names = [e.name for e in listing.entries]
        current = self.compare.currentText()
        self.compare.blockSignals(True)
        self.compare.clear()
        self.compare.addItem("(none)", None)
        for n in names:
            self.compare.addItem(n, n)
        self.compare.setCurrentIndex(max(0, self.compare.findText(current)))
        self.compare.blockSignals(False)
        want = keep if keep in names else listing.active
        if want in names:
            self.models.selectRow(names.index(want))
        self._update_buttons()
        self._show_model()

    def _kinds_tip(self, e: Entry) -> str:
        choice = e.meta.get("choice") or {}
        return "\n".join(
            f"{TARGET_WORDS.get(t, t)}: {KIND_WORDS.get(k, k)}" for t, k in choice.items()
        )

    def _failed(self, message: str) -> None:
        self.busy = False
        self.error.show_error(message)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.promote_button.setEnabled(has and not self.busy)
        self.rollback_button.setEnabled(not self.busy and self.listing is not None)
        self.train_button.setEnabled(not self.training)

    # -- promote / rollback ------------------------------------------------------------------
    def ask(self, title: str, text: str) -> bool:
        """A Yes/No confirmation (No is the default)."""
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def promote(self) -> None:
        """After a confirmation, promote the selected model in a worker; the result in one line."""
        name = self.selected()
        if name is None or self.busy:
            return
        active = self.listing.active if self.listing else ""
        if name == active:
            self.result.setText(f"{name} already drives the learned strategy")
            return
        if not self.ask(
            "Promote model",
            f"Let {name} drive the greenhouse's learned strategy instead of {active}?\n"
            "The change is logged in the registry; Roll back returns to "
            f"{active}.",
        ):
            return
        self._start(promote_model, self.root, name)

    def rollback(self) -> None:
        """After a confirmation, roll back in a worker; the result in one line."""
        if self.busy:
            return
        if not self.ask(
            "Roll back model",
            "Go back to the model that drove the learned strategy before the last promote?",
        ):
            return
        self._start(rollback_model, self.root)

    def _start(self, fn, *args) -> None:
        self.busy = True
        self.error.clear_error()
        self.result.setText("")
        self._update_buttons()
        run_in_worker(fn, *args, on_done=self._changed, on_error=self._failed)

    def _changed(self, line: str) -> None:
        self.busy = False
        self.result.setText(line)
        self.reload()

    # -- one model ---------------------------------------------------------------------------
    def _model_chosen(self) -> None:
        self._update_buttons()
        self._show_model()

    def _show_model(self) -> None:
        name = self.selected()
        entry = self.entry(name) if name else None
        other_name = self.compare.currentData()
        other = self.entry(other_name) if other_name and other_name != name else None
        self.metrics.clearContents()
        if entry is None:
            self.metrics.setRowCount(0)
            return
        if entry.error:
            self.error.show_error(entry.error)
        elif self.error.text() and self.error.text().startswith(f"model {name!r}"):
            self.error.clear_error()
        meta = entry.meta
        held = ", ".join(meta.get("held_out_weathers", [])) or "none"
        self.title.setText(f"{name}: held-out weathers {held}")
        self.title.setToolTip(
            f"{meta.get('cv', {}).get('cv', '')}; preset {meta.get('preset', '?')}, "
            f"seed {meta.get('seed', '?')}; scikit-learn "
            f"{meta.get('versions', {}).get('scikit-learn', '?')}"
        )
        columns = list(METRIC_COLUMNS)
        if other is not None:
            columns += [c.format(a=name, b=other.name) for c in COMPARE_COLUMNS]
        columns.append(CV_COLUMN)  # last: the comparison stays in view
        self.metrics.setColumnCount(len(columns))
        self.metrics.setHorizontalHeaderLabels(columns)
        m, om = entry.metrics(), (other.metrics() if other else {})
        targets = list(m) or list(meta.get("targets", {}))
        cv = meta.get("cv", {}).get("cv_r2", {})
        self.metrics.setRowCount(len(targets))
        for i, t in enumerate(targets):
            row = m.get(t, {})
            unit = nice_unit(str(row.get("unit", meta.get("targets", {}).get(t, ""))))
            mae = float(row.get("mae", math.nan))
            cv_text = " / ".join(
                fmt_num(cv.get(k, {}).get(t), 2)
                for k in ("gradient_boosting", "extra_trees", "mlp")
            )
            kind = (meta.get("choice") or {}).get(t, "")
            cells = [
                TARGET_WORDS.get(t, t),
                unit,
                KIND_WORDS.get(kind, kind) if kind else "(weekly sum)",
                fmt_num(row.get("r2"), 3),
                fmt_num(mae, mae_digits(mae)),
            ]
            if other is not None:
                o = om.get(t, {})
                omae = float(o.get("mae", math.nan))
                delta = float(row.get("r2", math.nan)) - float(o.get("r2", math.nan))
                cells += [
                    fmt_num(o.get("r2"), 3),
                    fmt_num(omae, mae_digits(omae)),
                    ("+" if delta > 0 else "") + fmt_num(delta, 3),
                ]
            cells.append(cv_text if t in cv.get("gradient_boosting", {}) else "")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, t)
                if j >= 3:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if j == 0:
                    item.setToolTip(t)
                self.metrics.setItem(i, j, item)
        current = self.target.currentData()
        self.target.blockSignals(True)
        self.target.clear()
        for t in targets:
            self.target.addItem(TARGET_WORDS.get(t, t), t)
        self.target.setCurrentIndex(max(0, self.target.findData(current or "fruit_growth_kg_m2")))
        self.target.blockSignals(False)
        self._plot_r2(entry, other)
        self._plot_target()

    def metric_cell(self, target: str, column: int) -> str:
        """The text of the metrics table's cell of `target` in `column`."""
        for i in range(self.metrics.rowCount()):
            item = self.metrics.item(i, column)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == target:
                return item.text()
        raise KeyError(target)

    def _target_chosen(self) -> None:
        items = self.metrics.selectedItems()
        if items:
            index = self.target.findData(items[0].data(Qt.ItemDataRole.UserRole))
            if index >= 0:
                self.target.setCurrentIndex(index)

    # -- plots -------------------------------------------------------------------------------
    def _plot_r2(self, entry: Entry, other: Entry | None) -> None:
        item = self.r2_plot.getPlotItem()
        item.clear()
        m = entry.metrics()
        targets = list(m)
        if not targets:
            self.r2_plot.setTitle(f"{entry.name}: no held-out metrics stored")
            self.r2_legend.setText("")
            return
        self.r2_plot.setTitle("Held-out R² per target (1 = perfect)")
        x = np.arange(len(targets), dtype=float)
        width = 0.8 if other is None else 0.4
        shift = 0.0 if other is None else -0.2
        a = [max(-0.2, float(m[t]["r2"])) for t in targets]
        item.addItem(pg.BarGraphItem(x=x + shift, height=a, width=width, brush=colour(1)))
        legend = f'<span style="color:{colour(1).name()}">■</span> {entry.name}'
        if other is not None:
            om = other.metrics()
            b = [max(-0.2, float(om.get(t, {}).get("r2", math.nan))) for t in targets]
            item.addItem(pg.BarGraphItem(x=x + 0.2, height=b, width=0.4, brush=colour(0)))
            legend += f'&nbsp;&nbsp; <span style="color:{colour(0).name()}">■</span> {other.name}'
        self.r2_legend.setText(legend)
        item.getAxis("bottom").setTicks([[(i, SHORT.get(t, t)) for i, t in enumerate(targets)]])
        item.setXRange(-0.6, len(targets) - 0.4, padding=0)
        item.setYRange(min(0.0, min(a)), 1.0, padding=0.02)

    def _plot_target(self) -> None:
        name = self.selected()
        entry = self.entry(name) if name else None
        target = self.target.currentData()
        pairs, imp = self.pairs_plot.getPlotItem(), self.importance_plot.getPlotItem()
        pairs.clear()
        imp.clear()
        if entry is None or not target:
            return
        words = TARGET_WORDS.get(target, target)
        unit = nice_unit(str(entry.metrics().get(target, {}).get("unit", "")))
        stored = (entry.meta.get("held_out_pairs") or {}).get(target)
        if stored:
            actual = np.asarray(stored["actual"], dtype=float)
            predicted = np.asarray(stored["predicted"], dtype=float)
            self.pairs_plot.setTitle(f"{words} ({unit}): predicted vs actual", size="9pt")
            pairs.plot(
                actual, predicted, pen=None, symbol="o", symbolSize=4,
                symbolBrush=colour(1), symbolPen=None,
            )  # fmt: skip
            lo = float(min(actual.min(), predicted.min()))
            hi = float(max(actual.max(), predicted.max()))
            pairs.plot([lo, hi], [lo, hi], pen=pg.mkPen(colour(0), width=1.5))
            pairs.setLabel("bottom", "actual (simulated)")
            pairs.setLabel("left", "predicted")
        else:
            self.pairs_plot.setTitle(
                f"{words}: predicted vs actual not stored in {entry.name}", size="9pt"
            )
        importance = (entry.meta.get("importance") or {}).get(target)
        if importance:
            top = sorted(importance.items(), key=lambda kv: kv[1], reverse=True)
            top = top[:IMPORTANCE_SHOWN][::-1]
            y = np.arange(len(top), dtype=float)
            imp.addItem(
                pg.BarGraphItem(
                    x0=0, y=y, height=0.7, width=[max(0.0, v) for _f, v in top], brush=colour(3)
                )
            )
            imp.getAxis("left").setTicks([[(i, f) for i, (f, _v) in enumerate(top)]])
            imp.setYRange(-0.6, len(top) - 0.4, padding=0)
            imp.setXRange(0, max(1e-3, max(v for _f, v in top)) * 1.05, padding=0)
            self.importance_plot.setTitle(f"{words}: R² lost if shuffled", size="9pt")
        else:
            self.importance_plot.setTitle(
                f"Feature importance not stored in {entry.name}", size="9pt"
            )

    # -- training ----------------------------------------------------------------------------
    def request(self) -> TrainRequest:
        """What the training controls ask for (ModelLabError for a bad name)."""
        from models.registry import default_root

        return TrainRequest(
            name=check_name(self.name.text()),
            root=self.root or str(default_root()),
            seasons=self.seasons.value(),
            days=float(self.days.value()),
        )

    def train(self) -> None:
        """Build the dataset and train in a child process; the list refreshes when done."""
        if self.training:
            return
        try:
            request = self.request()
        except ModelLabError as exc:
            self.error.show_error(str(exc))
            return
        if self.entry(request.name) is not None:
            self.error.show_error(f"a model {request.name!r} exists; give the new one a new name")
            return
        self.error.clear_error()
        self.training = True
        self.progress.setValue(0)
        self.stage.setText("simulating seasons…")
        self._update_buttons()
        run_in_worker(
            train_in_child,
            request,
            on_done=self._trained,
            on_error=self._train_failed,
            on_progress=self._train_progress,
        )

    def _train_progress(self, fraction: float) -> None:
        self.progress.setValue(round(100 * fraction))
        self.stage.setText("simulating seasons…" if fraction < 0.4 else "training…")

    def _trained(self, summary: dict[str, Any]) -> None:
        self.training = False
        self.progress.setValue(100)
        self.stage.setText(
            f"{summary['name']}: {summary['rows']:,} days, {summary['seconds']:.0f} s"
        )
        self._update_buttons()
        self.reload()

    def _train_failed(self, message: str) -> None:
        self.training = False
        self.progress.setValue(0)
        self.stage.setText("")
        self.error.show_error(message)
        self._update_buttons()
