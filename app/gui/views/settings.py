"""Settings: the embedded simulated greenhouse or a real port with node maps; test connection."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.common import ErrorLine
from app.gui.workers import run_in_worker
from app.session import SPEEDS, NodeHealthRow, SessionConfig, check_connection, node_health

SIMULATED = "Simulated greenhouse (built in)"


def serial_ports() -> list[str]:
    """Serial ports the operating system knows (COM3, /dev/ttyUSB0, ...)."""
    try:
        from serial.tools import list_ports

        return [p.device for p in list_ports.comports()]
    except Exception:  # no port enumeration on this platform
        return []


class SettingsDialog(QDialog):
    """Choose the link, node maps, demo speed and database; test the connection per node."""

    def __init__(self, config: SessionConfig, session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Serra settings")
        self.config = config
        self.session = session
        v = QVBoxLayout(self)
        form = QFormLayout()
        self.port = QComboBox()
        self.port.setEditable(True)
        self.port.addItem(SIMULATED)
        for p in serial_ports():
            self.port.addItem(p)
        self.port.setCurrentText(config.port or SIMULATED)
        self.port.setToolTip(
            "the serial port of the RS-485 bus (COM3, /dev/ttyUSB0) or a pyserial URL "
            "(socket://host:port); or the built-in simulated greenhouse"
        )
        self.nodes = QLineEdit(config.nodes_path or "")
        self.nodes.setPlaceholderText("virtual greenhouse node maps (default)")
        self.nodes.setToolTip("the nodes TOML file: which slave has which register map")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        nodes_row = QHBoxLayout()
        nodes_row.addWidget(self.nodes)
        nodes_row.addWidget(browse)
        self.speed = QComboBox()
        for s in SPEEDS:
            self.speed.addItem(f"{s:g}× (plant seconds per second)", s)
        self.speed.setCurrentIndex(max(0, self.speed.findData(config.speed)))
        self.speed.setToolTip("how fast the simulated greenhouse runs, for demos")
        self.db = QLineEdit(str(config.db_path))
        self.db.setToolTip("the SQLite database the loop records into")
        form.addRow("&Link", self.port)
        nodes_label = QLabel("&Node maps")  # a row of widgets gives no buddy by itself
        nodes_label.setBuddy(self.nodes)
        form.addRow(nodes_label, nodes_row)
        form.addRow("&Speed (simulated)", self.speed)
        form.addRow("&Database", self.db)
        v.addLayout(form)
        self.test = QPushButton("&Test connection")
        self.test.setToolTip("poll every node once and show its health")
        self.test.clicked.connect(self.run_test)
        v.addWidget(self.test)
        self.health = QTableWidget(0, 6)
        self.health.setHorizontalHeaderLabels(
            ["Node", "Slave", "Health", "Answers", "Failures", "Latency (ms)"]
        )
        v.addWidget(self.health)
        self.error = ErrorLine()
        v.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Apply and restart the loop")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        v.addWidget(buttons)
        self.resize(640, 420)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Nodes file", "", "TOML (*.toml)")
        if path:
            self.nodes.setText(path)

    def chosen_port(self) -> str | None:
        """The port URL, or None for the simulated greenhouse."""
        text = self.port.currentText().strip()
        return None if text in ("", SIMULATED) else text

    def result_config(self) -> SessionConfig:
        """The configuration chosen in the dialog."""
        return SessionConfig(
            db_path=Path(self.db.text().strip() or self.config.db_path),
            port=self.chosen_port(),
            nodes_path=self.nodes.text().strip() or None,
            speed=float(self.speed.currentData()),
        )

    def run_test(self) -> None:
        """Poll each node once (worker) and show its health."""
        port = self.chosen_port()
        if port is None:
            if self.session is not None and self.session.poller is not None:
                self._show(node_health(self.session.poller))
            else:
                self.error.show_error("The simulated greenhouse is not running yet.")
            return
        self.test.setEnabled(False)
        run_in_worker(
            check_connection,
            port,
            self.nodes.text().strip() or None,
            on_done=self._show,
            on_error=self._failed,
        )

    def _failed(self, message: str) -> None:
        self.test.setEnabled(True)
        self.error.show_error(message)

    def _show(self, rows: list[NodeHealthRow]) -> None:
        self.test.setEnabled(True)
        self.error.clear_error()
        self.health.setRowCount(len(rows))
        for i, r in enumerate(rows):
            lat = r["latency_ms"]
            cells = [
                r["node"],
                str(r["slave"]),
                "OK" if r["ok"] else f"FAIL: {r['error'] or 'no answer'}",
                str(r["answers"]),
                str(r["failures"]),
                "–" if lat is None else f"{lat:.1f}",
            ]
            for j, text in enumerate(cells):
                self.health.setItem(i, j, QTableWidgetItem(text))
        self.health.resizeColumnsToContents()
