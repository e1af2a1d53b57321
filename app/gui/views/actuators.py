"""Actuators and alarms: positions against commands, manual overrides with a timer, alarms."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.common import ErrorLine, cell, fmt_time, fmt_value, unit_of
from app.gui.labels import channel_label, channel_tooltip
from app.gui.workers import run_in_worker


def read_alarm_history(db_path: str, limit: int = 200):
    """The latest alarm episodes from the event log, newest first (worker)."""
    from store.db import open_store
    from store.events import alarm_history

    with open_store(db_path, readonly=True) as store:
        return list(reversed(alarm_history(store)))[:limit]


class ActuatorsView(QWidget):
    """Actuator table, override form, active alarms (acknowledge) and past alarms."""

    def __init__(self, window, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from drivers.signals import ACTUATORS

        self.window_ = window
        self.actuators = ACTUATORS
        outer = QVBoxLayout(self)
        split = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(split)

        top = QWidget()
        th = QHBoxLayout(top)
        self.table = QTableWidget(len(ACTUATORS), 5)
        self.table.setHorizontalHeaderLabels(
            ["Actuator", "Command", "Position (read back)", "Difference", "Manual override"]
        )
        self.table.setToolTip("what the loop commands and where each actuator really is")
        for i, name in enumerate(ACTUATORS):
            item = QTableWidgetItem(channel_label(name))
            item.setToolTip(channel_tooltip(name))
            self.table.setItem(i, 0, item)
            for j in range(1, 5):
                self.table.setItem(i, j, QTableWidgetItem("–"))
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        th.addWidget(self.table, stretch=3)

        box = QGroupBox("Manual override")
        form = QFormLayout(box)
        self.ov_actuator = QComboBox()
        for i, name in enumerate(ACTUATORS):
            self.ov_actuator.addItem(channel_label(name), name)
            self.ov_actuator.setItemData(i, channel_tooltip(name), Qt.ItemDataRole.ToolTipRole)
        self.ov_actuator.setToolTip("the actuator to force")
        self.ov_actuator.currentIndexChanged.connect(self._actuator_changed)
        self.ov_value = QDoubleSpinBox()
        self.ov_value.setDecimals(1)
        self.ov_value.setToolTip("the value to hold it at")
        self.ov_minutes = QDoubleSpinBox()
        self.ov_minutes.setRange(1, 24 * 60)
        self.ov_minutes.setValue(30)
        self.ov_minutes.setSuffix(" min")
        self.ov_minutes.setToolTip("greenhouse minutes until control resumes by itself")
        from app.session import current_user

        self.ov_who = QLineEdit(current_user())
        self.ov_who.setToolTip("who sets the override (logged)")
        self.ov_why = QLineEdit()
        self.ov_why.setPlaceholderText("e.g. repair on the lee-side vent motor")
        self.ov_why.setToolTip("why (logged)")
        form.addRow("Ac&tuator", self.ov_actuator)
        form.addRow("&Value", self.ov_value)
        form.addRow("&Duration", self.ov_minutes)
        form.addRow("Wh&o", self.ov_who)
        form.addRow("Wh&y", self.ov_why)
        row = QHBoxLayout()
        self.ov_set = QPushButton("&Force")
        self.ov_set.setToolTip("hold the actuator at the value for the duration")
        self.ov_set.clicked.connect(self.set_override)
        self.ov_cancel = QPushButton("&Release")
        self.ov_cancel.setToolTip("end the override of this actuator now; control resumes")
        self.ov_cancel.clicked.connect(self.cancel_override)
        row.addWidget(self.ov_set)
        row.addWidget(self.ov_cancel)
        form.addRow(row)
        self.ov_error = ErrorLine()
        form.addRow(self.ov_error)
        th.addWidget(box, stretch=2)
        split.addWidget(top)
        self._actuator_changed(0)

        bottom = QWidget()
        bh = QHBoxLayout(bottom)
        active = QGroupBox("Active alarms")
        av = QVBoxLayout(active)
        self.alarms = QTableWidget(0, 4)
        self.alarms.setHorizontalHeaderLabels(["Raised", "Alarm", "State", "Acknowledged by"])
        self.alarms.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.alarms.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.alarms.horizontalHeader().setStretchLastSection(True)
        self.alarms.setToolTip("alarms raised and not yet cleared; select one to acknowledge")
        av.addWidget(self.alarms)
        self.ack = QPushButton("Ac&knowledge selected")
        self.ack.setToolTip("mark the selected alarm as seen (it clears when its cause is gone)")
        self.ack.clicked.connect(self.acknowledge_selected)
        av.addWidget(self.ack)
        self.alarm_error = ErrorLine()
        av.addWidget(self.alarm_error)
        bh.addWidget(active)
        past = QGroupBox("Past alarms")
        pv = QVBoxLayout(past)
        self.past = QTableWidget(0, 5)
        self.past.setHorizontalHeaderLabels(["Raised", "Alarm", "Acknowledged", "By", "Cleared"])
        self.past.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.past.horizontalHeader().setStretchLastSection(True)
        pv.addWidget(self.past)
        reload = QPushButton("Re&load past alarms")
        reload.clicked.connect(self.reload_past)
        pv.addWidget(reload)
        bh.addWidget(past)
        split.addWidget(bottom)
        self._alarm_keys: list[str] = []
        self._last_alarm_state: tuple = ()

    def _actuator_changed(self, _i: int) -> None:
        from drivers.signals import SIGNALS

        sig = SIGNALS[self.ov_actuator.currentData()]
        self.ov_value.setRange(sig.lo, sig.hi)
        self.ov_value.setSuffix(f" {unit_of(sig.name)}")

    # -- live ------------------------------------------------------------------------------
    def show_snapshot(self, snap) -> None:
        """Update the actuator and active-alarm tables."""
        rec = snap.record
        overrides = {o.actuator: o for o in snap.overrides}
        now = snap.time_s
        for i, name in enumerate(self.actuators):
            cmd = rec.commands.get(name) if rec else None
            rb = rec.readbacks.get(name) if rec else None
            cell(self.table, i, 1).setText(fmt_value(cmd, name))
            cell(self.table, i, 2).setText(fmt_value(rb, name))
            diff = None if cmd is None or rb is None else rb - cmd
            cell(self.table, i, 3).setText(fmt_value(diff, name))
            ov = overrides.get(name)
            if ov is None:
                cell(self.table, i, 4).setText("")
            else:
                left = max(0.0, (ov.until_s - now) / 60.0) if now else 0.0
                cell(self.table, i, 4).setText(
                    f"{ov.value:g} {unit_of(name)} for {left:.0f} more min ({ov.who}: {ov.why})"
                )
        state = tuple((a.key, a.state) for a in snap.alarms)
        if state != self._last_alarm_state:
            self._last_alarm_state = state
            self._fill_alarms(snap.alarms)
            self.reload_past()

    def _fill_alarms(self, alarms) -> None:
        selected = self.selected_alarm()
        self.alarms.setRowCount(len(alarms))
        self._alarm_keys = [a.key for a in alarms]
        for i, a in enumerate(alarms):
            cells = [fmt_time(a.raised_s), a.message, a.state, a.acknowledged_by or ""]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if a.state == "raised":
                    item.setForeground(Qt.GlobalColor.red)
                self.alarms.setItem(i, j, item)
            if a.key == selected:
                self.alarms.selectRow(i)
        self.alarms.resizeColumnsToContents()

    def selected_alarm(self) -> str | None:
        """Key of the selected active alarm."""
        rows = self.alarms.selectionModel().selectedRows() if self.alarms.selectionModel() else []
        if not rows or rows[0].row() >= len(self._alarm_keys):
            return None
        return self._alarm_keys[rows[0].row()]

    def acknowledge_selected(self) -> bool:
        """Acknowledge the selected alarm as the current user."""
        from app.session import SessionError

        key = self.selected_alarm()
        if key is None:
            self.alarm_error.show_error("Select an alarm in the list first.")
            return False
        try:
            self.window_.session.acknowledge(key, who=self.ov_who.text() or "grower")
        except SessionError as exc:
            self.alarm_error.show_error(str(exc))
            return False
        self.alarm_error.clear_error()
        self.window_.refresh()
        return True

    def reload_past(self) -> None:
        """Read past alarms from the event log (worker)."""
        run_in_worker(
            read_alarm_history,
            str(self.window_.config.db_path),
            on_done=self._fill_past,
            on_error=self.alarm_error.show_error,
        )

    def _fill_past(self, episodes) -> None:
        self.past.setRowCount(len(episodes))
        for i, e in enumerate(episodes):
            cells = [
                fmt_time(e.raised_s),
                e.message,
                fmt_time(e.acknowledged_s),
                e.acknowledged_by or "",
                fmt_time(e.cleared_s),
            ]
            for j, text in enumerate(cells):
                self.past.setItem(i, j, QTableWidgetItem(text))
        self.past.resizeColumnsToContents()

    # -- overrides -------------------------------------------------------------------------
    def set_override(self) -> bool:
        """Force the chosen actuator (errors shown in place)."""
        from app.session import SessionError

        try:
            self.window_.session.set_override(
                self.ov_actuator.currentData(),
                self.ov_value.value(),
                self.ov_minutes.value(),
                who=self.ov_who.text(),
                why=self.ov_why.text(),
            )
        except SessionError as exc:
            self.ov_error.show_error(str(exc))
            return False
        self.ov_error.clear_error()
        self.window_.refresh()
        return True

    def cancel_override(self) -> bool:
        """Release the chosen actuator's override."""
        from app.session import SessionError

        try:
            done = self.window_.session.cancel_override(
                self.ov_actuator.currentData(), who=self.ov_who.text() or "grower"
            )
        except SessionError as exc:
            self.ov_error.show_error(str(exc))
            return False
        if done is None:
            self.ov_error.show_error("This actuator has no manual override.")
            return False
        self.ov_error.clear_error()
        self.window_.refresh()
        return True
