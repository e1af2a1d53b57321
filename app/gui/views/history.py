"""History: pick channels and a range; pan and zoom over a year via downsampled queries."""

from __future__ import annotations

import csv
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDateTime, QSettings, Qt, QTimer, QTimeZone
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.gui.common import SITE_TZ, ErrorLine, SiteDateAxis, add_legend, colour, style_plot
from app.gui.labels import channel_label, channel_sort_key, channel_tooltip
from app.gui.workers import run_in_worker

_SITE_QTZ = QTimeZone(SITE_TZ.key.encode())

RANGES = (
    ("24 h", 86400.0),
    ("7 d", 7 * 86400.0),
    ("30 d", 30 * 86400.0),
    ("1 year", 365 * 86400.0),
)
DEFAULT_CHANNELS = ("tair_c", "tout_c")


def query_channels(db_path: str) -> tuple[list[str], float | None, float | None]:
    """Value channels and the first/last tick time of the database (worker)."""
    from store.db import open_store
    from store.timeseries import tick_span

    if not Path(db_path).exists():
        return [], None, None
    with open_store(db_path, readonly=True) as store:
        names = sorted(n for n, kind in store.channels.items() if kind != "quality")
        span = tick_span(store)
    return names, span.first_s, span.last_s


def query_buckets(db_path: str, channels: list[str], t0: float, t1: float, points: int):
    """Downsampled min/mean/max of `channels` over t0..t1 (worker)."""
    from store.db import open_store
    from store.timeseries import downsample

    with open_store(db_path, readonly=True) as store:
        return downsample(store, channels, t0, t1, points=points)


class HistoryView(QWidget):
    """Channel list, range, plot (mean line with a min–max band) and CSV/PNG export."""

    def __init__(self, db_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.buckets: dict = {}
        self.data_range: tuple[float | None, float | None] = (None, None)
        self._query_id = 0
        self._applying = False
        self.queries = 0

        split = QSplitter()
        outer = QVBoxLayout(self)
        outer.addWidget(split)
        left = QWidget()
        lv = QVBoxLayout(left)
        channels_label = QLabel("&Channels")
        lv.addWidget(channels_label)
        self.channels = QListWidget()
        self.channels.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.channels.setToolTip(
            "tick the channels to plot; hover one for its name in the database and CSV"
        )
        channels_label.setBuddy(self.channels)
        lv.addWidget(self.channels)
        refresh = QPushButton("&Reload channels")
        refresh.setToolTip("read the channel list and time span from the database again")
        refresh.clicked.connect(self.reload)
        lv.addWidget(refresh)
        split.addWidget(left)

        right = QWidget()
        rv = QVBoxLayout(right)
        bar = QHBoxLayout()
        rv.addLayout(bar)
        bar.addWidget(QLabel("From"))
        self.t_from = QDateTimeEdit()
        self.t_to = QDateTimeEdit()
        for w, tip in (
            (self.t_from, "start of the range (site-local)"),
            (self.t_to, "end of the range (site-local)"),
        ):
            w.setDisplayFormat("yyyy-MM-dd HH:mm")
            w.setTimeZone(_SITE_QTZ)
            w.setCalendarPopup(True)
            w.setToolTip(tip)
        bar.addWidget(self.t_from)
        bar.addWidget(QLabel("to"))
        bar.addWidget(self.t_to)
        show = QPushButton("&Show")
        show.setToolTip("plot the chosen channels over the chosen range")
        show.clicked.connect(self.show_range)
        bar.addWidget(show)
        for label, span in RANGES:
            b = QPushButton(f"last {label}")
            b.setToolTip(f"the last {label} of logged data")
            b.clicked.connect(lambda _=False, s=span: self.show_last(s))
            bar.addWidget(b)
        bar.addStretch(1)
        self.csv_button = QPushButton("Export &CSV…")
        self.csv_button.setToolTip("save the plotted buckets (mean, min, max per channel) as CSV")
        self.csv_button.clicked.connect(self._ask_csv)
        self.png_button = QPushButton("Export P&NG…")
        self.png_button.setToolTip("save the plot as an image")
        self.png_button.clicked.connect(self._ask_png)
        bar.addWidget(self.csv_button)
        bar.addWidget(self.png_button)
        self.error = ErrorLine()
        rv.addWidget(self.error)
        self.plot = pg.PlotWidget(axisItems={"bottom": SiteDateAxis()})
        add_legend(self.plot, offset=(5, 5))
        style_plot(self.plot)
        self.plot.setToolTip("drag to pan, wheel to zoom; the detail follows the zoom")
        rv.addWidget(self.plot, stretch=1)
        self.info = QLabel("")
        rv.addWidget(self.info)
        split.addWidget(right)
        split.setStretchFactor(1, 4)
        self.splitter = split

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self._query_view)
        self.plot.getPlotItem().sigXRangeChanged.connect(self._range_moved)
        self.channels.itemChanged.connect(lambda _i: self._debounce.start())
        # until the database answers: the last day up to now, not an empty 1970/2000 axis
        now = time.time()
        self._applying = True
        self.plot.setXRange(now - 86400.0, now, padding=0)
        self._applying = False
        self._set_edits(now - 86400.0, now)

    # -- settings --------------------------------------------------------------------------
    def save(self, settings: QSettings) -> None:
        """Remember the chosen channels and the splitter."""
        if self.channels.count():  # a list never loaded is no choice of channels
            settings.setValue("history/channels", self.selected())
        settings.setValue("history/splitter", self.splitter.saveState())

    def restore(self, settings: QSettings) -> None:
        """Restore the channel choice and splitter."""
        chosen = settings.value("history/channels")
        self._wanted = list(chosen) if isinstance(chosen, list) else list(DEFAULT_CHANNELS)
        state = settings.value("history/splitter")
        if state is not None:
            self.splitter.restoreState(state)

    # -- channels --------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the channel list from the database (worker)."""
        run_in_worker(
            query_channels,
            self.db_path,
            on_done=self._channels_loaded,
            on_error=self.error.show_error,
        )

    def _channels_loaded(self, result) -> None:
        names, lo, hi = result
        wanted = set(self.selected()) or set(getattr(self, "_wanted", DEFAULT_CHANNELS))
        self.channels.blockSignals(True)
        self.channels.clear()
        for name in sorted(names, key=channel_sort_key):
            label = channel_label(name)
            item = QListWidgetItem(label)
            item.setToolTip(f"{label}\n{channel_tooltip(name)}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in wanted else Qt.CheckState.Unchecked)
            self.channels.addItem(item)
        self.channels.blockSignals(False)
        self._fit_channel_list()
        self.data_range = (lo, hi)
        if lo is None:
            self.error.show_error("Nothing logged yet: the database has no measurements.")
            return
        self.error.clear_error()
        if not self.buckets:
            self.show_last(86400.0)

    def _fit_channel_list(self) -> None:
        """Widen the list so the longest channel name shows whole (at most a third of the view)."""
        metrics = self.channels.fontMetrics()
        widest = max(
            (
                metrics.horizontalAdvance(self.channels.item(i).text())
                for i in range(self.channels.count())
            ),
            default=0,
        )
        want = min(widest + 60, max(self.width() // 3, 320))
        self.channels.setMinimumWidth(want)
        sizes = self.splitter.sizes()
        if sizes and sizes[0] < want:
            self.splitter.setSizes([want, max(sum(sizes) - want, 1)])

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Load channels and the last day while nothing is plotted (the database may be new)."""
        super().showEvent(event)
        if not self.buckets:
            self.reload()

    def selected(self) -> list[str]:
        """The ticked channel names."""
        out = []
        for i in range(self.channels.count()):
            item = self.channels.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def set_selected(self, names: list[str]) -> None:
        """Tick exactly `names`."""
        self.channels.blockSignals(True)
        for i in range(self.channels.count()):
            item = self.channels.item(i)
            on = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.channels.blockSignals(False)

    # -- range -----------------------------------------------------------------------------
    def show_last(self, span_s: float) -> None:
        """Show the last `span_s` seconds of logged data (all of it when the log is younger)."""
        lo, hi = self.data_range
        if hi is None:
            hi = time.time()
        start = hi - span_s if lo is None else max(hi - span_s, lo - 60.0)
        self.set_range(start, hi + 60.0)

    def show_range(self) -> None:
        """Show the range typed in the From/To fields."""
        t0 = self.t_from.dateTime().toSecsSinceEpoch()
        t1 = self.t_to.dateTime().toSecsSinceEpoch()
        if t1 <= t0:
            self.error.show_error("The end of the range must come after its start.")
            return
        self.set_range(float(t0), float(t1))

    def set_range(self, t0: float, t1: float) -> None:
        """Plot t0..t1 (UTC s) and query its buckets."""
        self._applying = True
        self.plot.setXRange(t0, t1, padding=0)
        self._applying = False
        self._set_edits(t0, t1)
        self._query_view()

    def _set_edits(self, t0: float, t1: float) -> None:
        for w, t in ((self.t_from, t0), (self.t_to, t1)):
            w.blockSignals(True)
            w.setDateTime(QDateTime.fromSecsSinceEpoch(int(t), _SITE_QTZ))
            w.blockSignals(False)

    def _range_moved(self, *_args) -> None:
        if not self._applying:
            self._debounce.start()

    def _query_view(self) -> None:
        channels = self.selected()
        if not channels:
            self.plot.clear()
            self.buckets = {}
            self.info.setText("Tick one or more channels.")
            return
        (t0, t1) = self.plot.getPlotItem().viewRange()[0]
        self._set_edits(t0, t1)
        points = max(200, int(self.plot.width()))
        self._query_id += 1
        qid = self._query_id
        self.queries += 1
        run_in_worker(
            query_buckets,
            self.db_path,
            channels,
            float(t0),
            float(t1),
            points,
            on_done=lambda b: self._show_buckets(qid, b),
            on_error=self.error.show_error,
        )

    def _show_buckets(self, qid: int, buckets: dict) -> None:
        if qid != self._query_id:
            return  # a newer view was asked for meanwhile
        self.error.clear_error()
        self.buckets = buckets
        item = self.plot.getPlotItem()
        self._applying = True
        vr = item.viewRange()
        item.clear()
        if item.legend is not None:
            item.legend.clear()
        for i, (name, b) in enumerate(buckets.items()):
            if len(b.t_s) == 0:
                continue
            t = b.t_s + b.width_s / 2.0
            c = colour(i)
            if b.width_s > 90:  # min and max of each bucket as faint lines around the mean
                faint = QColor(c)
                faint.setAlpha(110)
                for edge in (b.min, b.max):
                    item.plot(t, edge, pen=pg.mkPen(faint, width=1))
            item.plot(t, b.mean, pen=pg.mkPen(c, width=1), name=channel_label(name))
        item.setXRange(*vr[0], padding=0)
        self._applying = False
        level = next(iter(buckets.values())).level if buckets else "-"
        width = next(iter(buckets.values())).width_s if buckets else 0
        n = sum(len(b.t_s) for b in buckets.values())
        self.info.setText(
            f"{n} points · bucket {width / 60:.3g} min from the {level} table · "
            "faint lines = min and max"
        )

    # -- export ----------------------------------------------------------------------------
    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", "history.csv", "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def _ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export PNG", "history.png", "PNG (*.png)")
        if path:
            self.export_png(path)

    def export_csv(self, path: str) -> bool:
        """Write the plotted buckets: time (ISO, UTC offset) and mean/min/max per channel."""
        from datetime import UTC, datetime

        if not self.buckets:
            self.error.show_error("Nothing to export: plot some channels first.")
            return False
        times = sorted({float(t) for b in self.buckets.values() for t in b.t_s})
        index = {t: i for i, t in enumerate(times)}
        cols = []
        table = np.full((len(times), 3 * len(self.buckets)), np.nan)
        for j, (name, b) in enumerate(self.buckets.items()):
            cols += [name, f"{name}_min", f"{name}_max"]
            rows = [index[float(t)] for t in b.t_s]
            table[rows, 3 * j] = b.mean
            table[rows, 3 * j + 1] = b.min
            table[rows, 3 * j + 2] = b.max
        target = Path(path)
        try:
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(fd, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["time", *cols])
                for t, row in zip(times, table, strict=True):
                    iso = datetime.fromtimestamp(t, UTC).isoformat()
                    w.writerow([iso, *("" if np.isnan(v) else f"{v:.4g}" for v in row)])
            os.replace(tmp, target)
        except OSError as exc:
            self.error.show_error(f"Could not write {target}: {exc.strerror or exc}.")
            return False
        self.error.clear_error()
        return True

    def export_png(self, path: str) -> bool:
        """Save the plot as it is shown."""
        if not self.plot.grab().save(path):
            self.error.show_error(f"Could not write the image {path}.")
            return False
        self.error.clear_error()
        return True
