"""The desktop app (PySide6 + pyqtgraph). Imported only by `serra` with no arguments."""
