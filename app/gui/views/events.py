"""The event log: alarms, setpoint changes, overrides, loop starts and stops, with who and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui.common import ErrorLine, fmt_time
from app.gui.workers import run_in_worker

if TYPE_CHECKING:
    from store.events import LoggedEvent


def read_events(db_path: str, text: str, limit: int = 500):
    """The newest events, optionally containing `text` (worker)."""
    from pathlib import Path

    from store.db import open_store
    from store.events import search

    if not Path(db_path).exists():
        return []
    with open_store(db_path, readonly=True) as store:
        return search(store, text=text or None, limit=limit, newest_first=True)


class EventsView(QWidget):
    """Searchable table of the append-only event log, newest first."""

    def __init__(self, db_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db_path = db_path
        self.rows: list[LoggedEvent] = []
        outer = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("search message, who, why…")
        self.search.setToolTip("show only events containing this text")
        self.search.returnPressed.connect(self.reload)
        refresh = QPushButton("&Refresh")
        refresh.clicked.connect(self.reload)
        bar.addWidget(self.search, stretch=1)
        bar.addWidget(refresh)
        outer.addLayout(bar)
        self.error = ErrorLine()
        outer.addWidget(self.error)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Time", "Kind", "Who", "Message", "Source"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(False)
        # column widths from the first rows only: measuring all 500 doubled each reload's cost
        self.table.horizontalHeader().setResizeContentsPrecision(40)
        outer.addWidget(self.table, stretch=1)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Reload whenever the view is shown."""
        super().showEvent(event)
        self.reload()

    def reload(self) -> None:
        """Read the log (worker)."""
        run_in_worker(
            read_events,
            self.db_path,
            self.search.text(),
            on_done=self._fill,
            on_error=self.error.show_error,
        )

    def _fill(self, rows) -> None:
        self.rows = rows
        self.error.clear_error()
        self.table.setRowCount(len(rows))
        for i, e in enumerate(rows):
            for j, text in enumerate(
                (fmt_time(e.time_s, True), e.kind.replace("_", " ").capitalize(), e.who,
                 e.message, e.source)
            ):  # fmt: skip
                item = QTableWidgetItem(text)
                if j == 1:
                    item.setToolTip(e.kind)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
