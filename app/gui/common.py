"""Small shared pieces of the GUI: units, time formatting, error line, tiles, plot colours."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QLayout,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from drivers.signals import signal_of

#: Site time zone of the shipped greenhouse (times are stored UTC, shown site-local).
SITE_TZ = ZoneInfo("Europe/Amsterdam")

_UNITS = (
    ("_umol_m2_s", "µmol/m²/s"),
    ("_mol_m2", "mol/m²"),
    ("_j_cm2", "J/cm²"),
    ("_w_m2", "W/m²"),
    ("_g_m3", "g/m³"),
    ("_m_s", "m/s"),
    ("_ppm", "ppm"),
    ("_pct", "%"),
    ("_deg", "°"),
    ("_min", "min"),
    ("_kg_m2", "kg/m²"),
    ("_c", "°C"),
    ("_ms", "ms"),
    ("_s", "s"),
)
#: Colours that read on light and dark backgrounds alike.
SERIES_COLOURS = ("#e4572e", "#17bebb", "#ffc914", "#76b041", "#8e6c8a", "#2e86ab", "#f18f01")


def unit_of(name: str) -> str:
    """The display unit of a canonical name (from its suffix), '' if it has none."""
    if not name.startswith("h_"):  # a second node's reading: `tair_c:climate.east`
        name = signal_of(name)
    base = name.split(".")[-1]
    for prefix in ("sp_", "cmd_", "rb_", "h_"):
        if base.startswith(prefix):
            base = base[len(prefix) :]
    for suffix, unit in _UNITS:
        if base.endswith(suffix):
            return unit
    return ""


def fmt_value(value: float | None, name: str = "", digits: int = 1) -> str:
    """A value with its unit, '–' when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    unit = unit_of(name)
    return f"{value:.{digits}f} {unit}".rstrip()


def site_offset_west_s(t_s: float) -> int:
    """Seconds the site's clock is behind UTC at `t_s` (pyqtgraph's sign: CEST is -7200)."""
    try:
        offset = datetime.fromtimestamp(float(t_s), UTC).astimezone(SITE_TZ).utcoffset()
    except (OverflowError, OSError, ValueError):
        return 0
    return -int(offset.total_seconds()) if offset is not None else 0


class SiteDateAxis(pg.DateAxisItem):
    """A date axis labelled in the greenhouse's local time, whatever the computer's zone is."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph's name
        """Tick positions, with the site's UTC offset at the middle of the view."""
        self.utcOffset = site_offset_west_s(0.5 * (minVal + maxVal))
        return super().tickValues(minVal, maxVal, size)


def fmt_time(t_s: float | None, seconds: bool = False) -> str:
    """Site-local date and time of a UTC time."""
    if t_s is None:
        return "–"
    dt = datetime.fromtimestamp(t_s, UTC).astimezone(SITE_TZ)
    return dt.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def style_plot(plot: pg.PlotWidget) -> None:
    """Plot background and axes in the palette's colours (light or dark)."""
    pal = QApplication.palette()
    plot.setBackground(pal.color(QPalette.ColorRole.Base))
    fg = pal.color(QPalette.ColorRole.Text)
    for name in ("left", "bottom", "right"):
        axis = plot.getPlotItem().getAxis(name)
        axis.setPen(fg)
        axis.setTextPen(fg)
    plot.showGrid(x=True, y=True, alpha=0.25)


def add_legend(plot: pg.PlotWidget, **kwargs) -> pg.LegendItem:
    """A legend in the palette's text colour on a backing of the plot's own background."""
    pal = QApplication.palette()
    back = QColor(pal.color(QPalette.ColorRole.Base))
    back.setAlpha(220)
    return plot.addLegend(labelTextColor=pal.color(QPalette.ColorRole.Text), brush=back, **kwargs)


class ErrorLine(QLabel):
    """A one-line error shown in place, in plain words; hidden when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet("color: #d1242f; font-weight: bold;")
        self.setAccessibleName("error")
        self.hide()

    def show_error(self, text: str) -> None:
        """Show `text` (empty hides the line)."""
        self.setText(text)
        self.setVisible(bool(text))

    def clear_error(self) -> None:
        """Hide the line."""
        self.show_error("")


class Tile(QFrame):
    """A live value tile: caption, big value with unit, small detail line."""

    def __init__(self, caption: str, tooltip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setToolTip(tooltip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("font-size: 11px; opacity: 0.8;")
        self.value = QLabel("–")
        self.value.setStyleSheet("font-size: 22px; font-weight: bold;")
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail = QLabel("")
        self.detail.setStyleSheet("font-size: 11px;")
        self._colour: str | None = None
        for w in (self.caption, self.value, self.detail):
            layout.addWidget(w)

    def set(self, value: str, detail: str = "", colour: str | None = None) -> None:
        """Show a value (already formatted with unit) and a detail line."""
        self.value.setText(value)
        self.detail.setText(detail)
        if colour != self._colour:  # a style sheet re-polishes the label: only when it changes
            self._colour = colour
            self.value.setStyleSheet(
                "font-size: 22px; font-weight: bold;" + (f" color: {colour};" if colour else "")
            )


def show_axis_values(plot: pg.PlotWidget, shown: bool) -> None:
    """Show or hide the numbers on a plot's left and bottom axes: hidden until there is data,
    so an empty plot does not read 0.1 .. 0.9 or a 1970 time axis."""
    for axis in ("left", "bottom"):
        plot.getPlotItem().getAxis(axis).setStyle(showValues=shown)


def legend_html(items: list[tuple[QColor, str, bool]]) -> str:
    """A legend to sit above a plot: (colour, words, dashed) per curve, text in palette colour."""
    parts = []
    for c, words, dashed in items:
        line = "╌╌" if dashed else "━━"
        parts.append(
            f'<span style="color:{QColor(c).name()}; font-weight:bold">{line}</span>&nbsp;{words}'
        )
    return "&nbsp;&nbsp;&nbsp; ".join(parts)


def colour(i: int) -> QColor:
    """The i-th series colour."""
    return QColor(SERIES_COLOURS[i % len(SERIES_COLOURS)])


def cell(table: QTableWidget, row: int, column: int) -> QTableWidgetItem:
    """The item of a table cell, an empty one put there first if the cell has none."""
    item = table.item(row, column)
    if item is None:
        item = QTableWidgetItem()
        table.setItem(row, column, item)
    return item


def header_cell(table: QTableWidget, column: int) -> QTableWidgetItem:
    """The header item of a table column, an empty one put there first if it has none."""
    item = table.horizontalHeaderItem(column)
    if item is None:
        item = QTableWidgetItem()
        table.setHorizontalHeaderItem(column, item)
    return item


def clear_layout(layout: QLayout) -> None:
    """Remove every item of `layout`, deleting its widgets."""
    while layout.count():
        item = layout.takeAt(0)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()
