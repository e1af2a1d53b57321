"""The main window starts on the embedded default and shows live values."""

from __future__ import annotations

import math

from tests.app.conftest import tick


def test_window_starts_and_shows_live_climate(make_window, manual_clock):
    window = make_window()
    tick(window, 3, manual_clock)
    snap = window.session.snapshot()
    assert snap.ticks == 3
    tair = snap.record.measurements["tair_c"]
    assert math.isfinite(tair) and 5 < tair < 40
    shown = window.overview.tiles["tair_c"].value.text()
    assert shown == f"{tair:.1f} °C"
    assert window.session.address.startswith("/dev/pts/") or window.session.address.startswith(
        "socket://"
    )


def test_keyboard_reaches_every_view(make_window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    window = make_window()
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    seen = []
    for k in (3, 7, 1, 9, 8, 5, 2, 6, 4):
        qtbot.keyClick(window, getattr(Qt.Key, f"Key_{k}"), Qt.KeyboardModifier.ControlModifier)
        seen.append(window.tabs.currentIndex() + 1)
    assert seen == [3, 7, 1, 9, 8, 5, 2, 6, 4]
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    letters = [t[t.index("&") + 1].lower() for t in titles]  # Alt+letter opens each view
    assert len(set(letters)) == len(titles) == 9, titles
