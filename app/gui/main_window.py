"""The main window: navigation between views, fail-safe banner, status bar, session life cycle."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.gui.common import fmt_time
from app.gui.labels import channel_words
from app.gui.workers import run_in_worker
from app.session import SPEEDS, Session, SessionConfig, SessionError
from drivers.signals import NODE_SEPARATOR

REFRESH_MS = 500


class MainWindow(QMainWindow):
    """Serra's main window around one `Session` (started in a worker, stopped on close)."""

    status_text = Signal(str)
    session_started = Signal()

    def __init__(self, config: SessionConfig, settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Serra – greenhouse controller")
        self.settings = settings or QSettings("serra", "serra")
        self.config = config
        self.session = Session(config)
        self.start_error = ""
        self._seen = 0
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.status_text.connect(self._show_status)
        self._restore_layout()

    # -- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        from app.gui.views.actuators import ActuatorsView
        from app.gui.views.events import EventsView
        from app.gui.views.history import HistoryView
        from app.gui.views.model_check import ModelCheckView
        from app.gui.views.model_lab import ModelLabView
        from app.gui.views.overview import OverviewView
        from app.gui.views.setpoints import SetpointsView
        from app.gui.views.supply import SupplyView
        from app.gui.views.whatif import WhatIfView

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        self.banner = QLabel("")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setStyleSheet(
            "background: #d1242f; color: white; font-size: 16px; font-weight: bold; padding: 6px;"
        )
        self.banner.hide()
        layout.addWidget(self.banner)
        self.starting = QLabel("starting simulator...")
        self.starting.setStyleSheet("font-size: 14px; padding: 4px;")
        layout.addWidget(self.starting)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, stretch=1)
        self.setCentralWidget(central)

        db = str(self.config.db_path)
        self.overview = OverviewView()
        self.history = HistoryView(db)
        self.setpoints = SetpointsView(self)
        self.actuators = ActuatorsView(self)
        self.events = EventsView(db)
        self.whatif = WhatIfView()
        self.supply = SupplyView(db)
        self.model_check = ModelCheckView(db)
        self.model_lab = ModelLabView()
        self.views = [
            ("&Overview", self.overview, "live climate, actuators, alarms and crop"),
            ("&History", self.history, "logged channels over any range; export CSV or PNG"),
            ("Set&points", self.setpoints, "day periods, influences and limits of the rules"),
            ("&Actuators && alarms", self.actuators, "positions, manual overrides, alarms"),
            ("&Events", self.events, "the event log: who changed what, and why"),
            ("&What-if", self.whatif, "simulate seasons with other setpoints and compare"),
            ("S&upply", self.supply, "orders, lots, pick lists, reorder"),
            ("&Model check", self.model_check, "replay a logged greenhouse: simulated vs measured"),
            ("A&I model lab", self.model_lab, "learned models: metrics, compare, promote, train"),
        ]
        for i, (title, view, tip) in enumerate(self.views):
            self.tabs.addTab(view, title)
            self.tabs.setTabToolTip(i, f"{tip} (Ctrl+{i + 1})")
            action = QAction(self)
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _=False, k=i: self.tabs.setCurrentIndex(k))
            self.addAction(action)

        menu = self.menuBar().addMenu("&Serra")
        settings_action = menu.addAction("&Settings…")
        settings_action.setShortcut(QKeySequence("Ctrl+,"))
        settings_action.triggered.connect(self.open_settings)
        quit_action = menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        bar = self.statusBar()
        self.link_label = QLabel("")
        self.link_label.setToolTip("the serial link the control loop polls")
        self.time_label = QLabel("")
        self.time_label.setToolTip("greenhouse (plant) time of the last control tick, site-local")
        self.speed = QComboBox()
        self.speed.setToolTip("speed of the simulated greenhouse: plant seconds per wall second")
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}× speed", s)
        self.speed.setCurrentIndex(max(0, self.speed.findData(self.config.speed)))
        self.speed.currentIndexChanged.connect(self._speed_changed)
        self.speed.setVisible(self.config.simulated)
        bar.addPermanentWidget(self.link_label)
        bar.addPermanentWidget(self.time_label)
        bar.addPermanentWidget(self.speed)

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        tab = self.settings.value("window/tab", 0)
        with contextlib.suppress(TypeError, ValueError):
            self.tabs.setCurrentIndex(int(str(tab)))
        self.history.restore(self.settings)

    def save_layout(self) -> None:
        """Remember geometry, splitters and the open view (QSettings)."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        self.history.save(self.settings)
        self.settings.sync()

    # -- session ---------------------------------------------------------------------------
    def start_session(self) -> None:
        """Start the session in a worker; the window stays responsive meanwhile."""
        self.starting.setText(f"starting {self.config.describe()}...")
        self.starting.show()
        run_in_worker(
            self.session.start,
            status=self.status_text.emit,
            on_done=lambda _r: self._started(),
            on_error=self._start_failed,
        )

    def _show_status(self, text: str) -> None:
        self.starting.setText(text)

    def _started(self) -> None:
        self.starting.hide()
        self.link_label.setText(f"{self.config.describe()} on {self.session.address or ''}")
        self.timer.start()
        self.setpoints.load_rules(self.session.rules)
        self.model_lab.reload()
        self.history.reload()  # channels and the last day of data, without a button press
        self.refresh()
        self.session_started.emit()
        snap = self.session.snapshot()
        from app.gui.views.overview import read_trend_history

        end = self.session.plant_time() if snap.running else None
        if end is not None:
            run_in_worker(
                read_trend_history,
                str(self.config.db_path),
                end,
                on_done=self.overview.load_history,
                on_error=lambda m: None,
            )

    def _start_failed(self, message: str) -> None:
        self.start_error = message
        self.starting.setText(f"Could not start: {message}. Change the link in Settings (Ctrl+,).")
        self.starting.setStyleSheet("color: #d1242f; font-size: 14px; padding: 4px;")
        self.session_started.emit()

    def refresh(self) -> None:
        """Show the session's latest state in every live view."""
        snap = self.session.snapshot()
        self._seen, records = self.session.records_since(self._seen)
        self.overview.add_records(records)
        self.overview.show_snapshot(snap, self.actuator_reasons(snap))
        self.actuators.show_snapshot(snap)
        self.time_label.setText(fmt_time(snap.time_s, seconds=True))
        if snap.mode == "failsafe":
            bad = []
            if snap.record is not None:
                bad = [
                    k
                    for k, q in snap.record.quality.items()
                    if q != "good" and NODE_SEPARATOR not in k
                ]
                bad.sort(key=_input_order)
            words = [channel_words(k).lower() for k in bad[:6]]
            more = f" and {len(bad) - 6} more" if len(bad) > 6 else ""
            self.banner.setText(
                "FAIL-SAFE: actuators held at their safe positions – no trusted reading of "
                + (", ".join(words) + more if words else "the bus")
            )
            self.banner.setToolTip(
                "Inputs of some actuators are not trusted: they are held at their fail-safe "
                "values until the readings are good again. Untrusted: " + (", ".join(bad) or "bus")
            )
            self.banner.show()
        else:
            self.banner.hide()
        if self.session.error:
            self.starting.setText(f"The control loop stopped: {self.session.error}")
            self.starting.show()

    def actuator_reasons(self, snap) -> dict[str, str]:
        """Why the rules hold an actuator where it is (lamps), from the climate computer's state."""
        import numpy as np

        from controllers.climate_computer import ClimateComputerSettings
        from controllers.reasons import lamp_reason
        from controllers.strategy import make_context

        loop, rules = self.session.loop, self.session.rules
        # the loop keeps the climate computer's state row; read-only here, like a snapshot
        state = getattr(loop, "_cc_state", None)
        if loop is None or state is None or snap.record is None:
            return {}
        settings = getattr(rules, "settings", None) or ClimateComputerSettings()
        text = lamp_reason(state[0], settings)
        season_note = getattr(rules, "season_note", None)
        if text.endswith("setpoint is 0 % now") and season_note is not None:
            t = snap.record.time_s
            note = season_note("lamps_pct", t, make_context(loop.site, np.array([t])))
            if note:
                text += f" (grower rules' {note} %)"
        return {"lamps_pct": text}

    def _speed_changed(self, _index: int) -> None:
        speed = float(self.speed.currentData())
        try:
            self.session.set_speed(speed)
        except SessionError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return
        self.settings.setValue("session/speed", speed)

    def open_settings(self) -> None:
        """The settings dialog: link, node maps, speed, database; test connection."""
        from app.gui.views.settings import SettingsDialog

        dialog = SettingsDialog(self.config, self.session, self)
        if dialog.exec():
            new = dialog.result_config()
            save_session_settings(self.settings, new)
            self.restart(new)

    def restart(self, config: SessionConfig) -> None:
        """Stop the running session and start one with `config`."""
        self.timer.stop()
        self.session.stop()
        old, self.config = self.config, config
        self.session = Session(config, changed_from=old)
        self._seen = 0
        self.speed.setVisible(config.simulated)
        self.start_session()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Save the layout, then stop the loop cleanly: actuators safe, records flushed."""
        self.save_layout()
        self.timer.stop()
        self.statusBar().showMessage("stopping the control loop…")
        try:
            self.session.stop()
        except Exception as exc:  # closing must never hang on an error
            QMessageBox.warning(self, "Serra", f"The loop did not stop cleanly: {exc}")
        super().closeEvent(event)


def _input_order(name: str) -> tuple[int, str]:
    """Climate readings first (in the vocabulary's order), then actuator read-backs."""
    from drivers.signals import MEASUREMENTS

    return (MEASUREMENTS.index(name), "") if name in MEASUREMENTS else (len(MEASUREMENTS), name)


def save_session_settings(settings: QSettings, config: SessionConfig) -> None:
    """Remember the link choice for the next start."""
    settings.setValue("session/port", config.port or "")
    settings.setValue("session/nodes", config.nodes_path or "")
    settings.setValue("session/speed", config.speed)
    settings.setValue("session/db", str(config.db_path))


def load_session_settings(settings: QSettings, config: SessionConfig) -> SessionConfig:
    """Apply remembered link settings to `config` (defaults where none are saved)."""
    from pathlib import Path

    port = str(settings.value("session/port", "") or "") or None
    nodes = str(settings.value("session/nodes", "") or "") or None
    db = str(settings.value("session/db", "") or "") or None
    try:
        speed = float(str(settings.value("session/speed", config.speed)))
    except (TypeError, ValueError):
        speed = config.speed
    config.port = port
    config.nodes_path = nodes
    config.speed = speed if speed > 0 else config.speed
    if db:
        config.db_path = Path(db)
    return config
