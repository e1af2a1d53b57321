"""Setpoints: day periods (fixed times or sunrise/sunset offsets), influences and limits.

Every cell is checked as it is typed (the allowed range is in the header's tooltip); a wrong
cell turns red and the error line says why. Apply puts the rules in force on the running loop
and logs the change with who and why.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import asdict, replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.common import ErrorLine, cell, header_cell, unit_of
from app.gui.labels import channel_label, channel_words

FIXED = ("Starts at", "Offset / time", "Ramp (min)")
START_HELP = (
    "sunrise, sunset or clock. With sunrise/sunset the offset is minutes (e.g. -90); "
    "with clock it is a local time HH:MM"
)
INFLUENCES = (
    "rad_infl_lo_w_m2",
    "rad_infl_hi_w_m2",
    "rad_infl_max_c",
    "hum_infl_rh_pct",
    "hum_infl_band_pct",
    "hum_infl_max_c",
    "pipe_max_c",
    "minpipe_rad_lo_w_m2",
    "minpipe_rad_hi_w_m2",
    "vent_pband_lee_c",
    "vent_pband_wind_c",
    "wind_lee_hi_m_s",
    "wind_wind_hi_m_s",
    "rain_wind_max_pct",
    "co2_vent_ppm",
    "co2_vent_hi_pct",
    "lamps_on_w_m2",
    "lamps_off_w_m2",
    "lamps_light_sum_mol_m2",
    "screen_tout_c",
    "irr_rad_sum_j_cm2",
    "grow_pipe_min_c",
)
BAD = QBrush(QColor("#f7c6c5"))


def parse_start(ref: str, text: str) -> float:
    """Offset minutes of a period start: "HH:MM" for clock, signed minutes for the sun."""
    text = text.strip()
    if ref == "clock":
        try:
            hh, mm = text.split(":")
            h, m = int(hh), int(mm)
        except ValueError:
            raise ValueError(f"time {text!r} is not HH:MM (e.g. 02:00)") from None
        if not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError(f"time {text!r} is not a time of day 00:00..23:59")
        return float(h * 60 + m)
    try:
        value = float(text.replace("min", "").strip())
    except ValueError:
        raise ValueError(f"offset {text!r} is not a number of minutes (e.g. -90)") from None
    if not -720 <= value <= 720:
        raise ValueError(f"offset {value:g} min is outside -720..720 min")
    return value


def format_start(ref: str, offset_min: float) -> str:
    """The text of a start offset as `parse_start` reads it."""
    if ref == "clock":
        m = round(offset_min) % 1440
        return f"{m // 60:02d}:{m % 60:02d}"
    return f"{offset_min:+g}"


def _two_lines(label: str) -> str:
    """A column header wrapped to short lines, the unit on its own, so all columns fit."""
    words, sep, unit = label.rpartition(" (")
    if not sep:
        words, unit = label, ""
    lines = textwrap.wrap(words, width=11)
    return "\n".join(lines + ([f"({unit}"] if unit else []))


class SetpointsView(QWidget):
    """Editable grower rules of the running loop."""

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from controllers.setpoints import SETPOINT_RANGES, SETPOINTS

        self.window_ = window
        self.names = SETPOINTS
        self.ranges = SETPOINT_RANGES
        self.rules = None
        self.problems: dict[tuple[str, int, int], str] = {}
        outer = QVBoxLayout(self)
        intro = QLabel(
            "Day periods start at a clock time or at sunrise/sunset ± minutes and ramp from the "
            "previous value. An empty cell keeps the value of the previous period."
        )
        intro.setWordWrap(True)
        outer.addWidget(intro)
        split = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(split, stretch=1)
        self.periods = QTableWidget(0, len(FIXED) + len(SETPOINTS))
        headers = [*FIXED, *(_two_lines(channel_label(n)) for n in SETPOINTS)]
        self.periods.setHorizontalHeaderLabels(headers)
        for j, name in enumerate(SETPOINTS):
            lo, hi = SETPOINT_RANGES[name]
            header_cell(self.periods, len(FIXED) + j).setToolTip(
                f"{name}: allowed {lo:g}..{hi:g} {unit_of(name)}"
                " (the name to use in what-if variants)"
            )
        header_cell(self.periods, 0).setToolTip(START_HELP)
        header_cell(self.periods, 1).setToolTip(START_HELP)
        header_cell(self.periods, 2).setToolTip("minutes to ramp from the previous value")
        self.periods.setToolTip("day periods of the grower rules; type to change a value")
        self.periods.itemChanged.connect(self._period_edited)
        split.addWidget(self.periods)

        lower = QWidget()
        lh = QHBoxLayout(lower)
        self.influences = QTableWidget(0, 2)
        self.influences.setHorizontalHeaderLabels(["Influence / limit", "Value"])
        self.influences.setToolTip(
            "climate-computer influences (radiation, humidity, wind) and limits; "
            "hover a name for its key"
        )
        self.influences.itemChanged.connect(self._influence_edited)
        lh.addWidget(self.influences, stretch=2)
        limits = QLabel(
            "<b>Allowed ranges</b><br>"
            + "<br>".join(
                f"{channel_words(n)}: {lo:g}..{hi:g} {unit_of(n)}"
                for n, (lo, hi) in SETPOINT_RANGES.items()
            )
        )
        limits.setToolTip("values outside these ranges are refused as typos")
        lh.addWidget(limits, stretch=1)
        split.addWidget(lower)

        self.error = ErrorLine()
        outer.addWidget(self.error)
        form = QFormLayout()
        from app.session import current_user

        self.who = QLineEdit(current_user())
        self.who.setToolTip("who makes the change (logged)")
        self.why = QLineEdit()
        self.why.setPlaceholderText("e.g. warmer nights for generative steering")
        self.why.setToolTip("why the change is made (logged in the event log)")
        form.addRow("&Who", self.who)
        form.addRow("W&hy", self.why)
        outer.addLayout(form)
        buttons = QHBoxLayout()
        self.apply_button = QPushButton("&Apply to the running loop")
        self.apply_button.setToolTip("put the edited rules in force from the next control tick")
        self.apply_button.clicked.connect(self.apply)
        self.revert_button = QPushButton("Re&vert")
        self.revert_button.setToolTip("discard the edits and show the rules in force")
        self.revert_button.clicked.connect(lambda: self.load_rules(self.rules))
        self.status = QLabel("")
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.status, stretch=1)
        outer.addLayout(buttons)

    # -- filling ---------------------------------------------------------------------------
    def load_rules(self, rules) -> None:
        """Show `rules` (controllers.grower_rules.GrowerRules) for editing."""
        if rules is None:
            return
        self.rules = rules
        self.problems.clear()
        t = self.periods
        t.blockSignals(True)
        t.setRowCount(len(rules.periods) + 1)
        for i, p in enumerate(rules.periods):
            self._set_row(
                i, p.start_ref, format_start(p.start_ref, p.offset_min), f"{p.ramp_min:g}", p.values
            )
        self._set_row(len(rules.periods), "default", "", "", rules.defaults)
        t.setVerticalHeaderLabels([*(f"P{i + 1}" for i in range(len(rules.periods))), "rest"])
        t.blockSignals(False)
        t.resizeColumnsToContents()
        inf = self.influences
        inf.blockSignals(True)
        settings = asdict(rules.settings)
        inf.setRowCount(len(INFLUENCES))
        for i, name in enumerate(INFLUENCES):
            key = QTableWidgetItem(channel_label(name))
            key.setToolTip(name)
            key.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            key.setData(Qt.ItemDataRole.UserRole, name)
            inf.setItem(i, 0, key)
            inf.setItem(i, 1, QTableWidgetItem(f"{settings[name]:g}"))
        inf.blockSignals(False)
        inf.resizeColumnsToContents()
        inf.horizontalHeader().setStretchLastSection(True)
        self.error.clear_error()
        self.status.setText("")

    def _set_row(self, i: int, ref: str, start: str, ramp: str, values: dict) -> None:
        t = self.periods
        fixed = [ref, start, ramp]
        for j, text in enumerate(fixed):
            item = QTableWidgetItem(text)
            if ref == "default":
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip("values used where no period sets a name")
            t.setItem(i, j, item)
        for j, name in enumerate(self.names):
            v = values.get(name)
            t.setItem(i, len(FIXED) + j, QTableWidgetItem("" if v is None else f"{v:g}"))

    # -- validation as typed ----------------------------------------------------------------
    def _period_edited(self, item: QTableWidgetItem) -> None:
        self._check_period_row(item.row())
        self._show_problems()

    def _influence_edited(self, item: QTableWidgetItem) -> None:
        row = item.row()
        key = ("inf", row, 1)
        self.problems.pop(key, None)
        name = cell(self.influences, row, 0).data(Qt.ItemDataRole.UserRole)
        try:
            v = float(cell(self.influences, row, 1).text())
            if not math.isfinite(v) or v < 0:
                raise ValueError
        except ValueError:
            self.problems[key] = f"{channel_words(name)}: type a number ≥ 0"
        self._paint(self.influences.item(row, 1), key in self.problems)
        self._show_problems()

    def _check_period_row(self, row: int) -> None:
        t = self.periods
        is_default = row == t.rowCount() - 1
        for j in range(t.columnCount()):
            self.problems.pop(("p", row, j), None)
        ref = cell(t, row, 0).text().strip().lower()
        label = "rest of the day" if is_default else f"period P{row + 1}"
        if not is_default:
            if ref not in ("sunrise", "sunset", "clock"):
                self.problems[("p", row, 0)] = f"{label}: start at sunrise, sunset or clock"
            else:
                try:
                    parse_start(ref, cell(t, row, 1).text())
                except ValueError as exc:
                    self.problems[("p", row, 1)] = f"{label}: {exc}"
            try:
                ramp = float(cell(t, row, 2).text() or 0)
                if not 0 <= ramp <= 720:
                    raise ValueError
            except ValueError:
                self.problems[("p", row, 2)] = f"{label}: ramp must be 0..720 min"
        for j, name in enumerate(self.names):
            col = len(FIXED) + j
            text = cell(t, row, col).text().strip()
            if not text:
                if is_default:
                    self.problems[("p", row, col)] = f"{label}: {channel_words(name)} needs a value"
                continue
            lo, hi = self.ranges[name]
            try:
                v = float(text)
            except ValueError:
                self.problems[("p", row, col)] = (
                    f"{label}: {channel_words(name)} {text!r} is not a number"
                )
                continue
            if not lo <= v <= hi:
                words, unit = channel_words(name), unit_of(name)
                self.problems[("p", row, col)] = (
                    f"{label}: {words} {v:g} is outside {lo:g}..{hi:g} {unit}"
                )
        for j in range(t.columnCount()):
            self._paint(t.item(row, j), ("p", row, j) in self.problems)

    def _paint(self, item: QTableWidgetItem | None, bad: bool) -> None:
        if item is None:
            return
        item.setBackground(BAD if bad else QBrush())

    def _show_problems(self) -> None:
        if self.problems:
            first = next(iter(self.problems.values()))
            more = len(self.problems) - 1
            self.error.show_error(first + (f" (and {more} more)" if more else ""))
        else:
            self.error.clear_error()
        self.apply_button.setEnabled(not self.problems)

    # -- building and applying -------------------------------------------------------------
    def edited_rules(self):
        """The rules as edited (raises ValueError with a plain message when a cell is wrong)."""
        from controllers.climate_computer import ClimateComputerSettings
        from controllers.day_periods import DayPeriod

        for row in range(self.periods.rowCount()):
            self._check_period_row(row)
        self._show_problems()
        if self.problems:
            raise ValueError(next(iter(self.problems.values())))
        t = self.periods
        periods = []
        for row in range(t.rowCount() - 1):
            ref = cell(t, row, 0).text().strip().lower()
            values = {}
            for j, name in enumerate(self.names):
                text = t.item(row, len(FIXED) + j).text().strip()
                if text:
                    values[name] = float(text)
            periods.append(
                DayPeriod(
                    ref,
                    parse_start(ref, cell(t, row, 1).text()),
                    float(cell(t, row, 2).text() or 0),
                    values,
                )
            )
        last = t.rowCount() - 1
        defaults = {
            name: float(t.item(last, len(FIXED) + j).text()) for j, name in enumerate(self.names)
        }
        settings = asdict(self.rules.settings)
        for i in range(self.influences.rowCount()):
            name = cell(self.influences, i, 0).data(Qt.ItemDataRole.UserRole)
            settings[name] = float(cell(self.influences, i, 1).text())
        return replace(
            self.rules,
            periods=periods,
            defaults=defaults,
            settings=ClimateComputerSettings.from_dict(settings),
        )

    def apply(self) -> bool:
        """Apply the edited rules to the running loop; show the outcome in place."""
        from app.session import SessionError

        try:
            rules = self.edited_rules()
            self.window_.session.apply_rules(rules, who=self.who.text(), why=self.why.text())
        except (ValueError, SessionError) as exc:
            self.error.show_error(str(exc))
            return False
        self.rules = rules
        self.error.clear_error()
        self.status.setText("Applied: in force from the next control tick, logged.")
        self.why.clear()
        return True

    def set_cell(self, period: int, name: str, text: str) -> None:
        """Type `text` into period `period`'s `name` cell (the last row is the default)."""
        col = FIXED.index(name) if name in FIXED else len(FIXED) + self.names.index(name)
        cell(self.periods, period, col).setText(text)
