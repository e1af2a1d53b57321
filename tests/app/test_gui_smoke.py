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
