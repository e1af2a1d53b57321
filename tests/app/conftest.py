"""GUI test setup: Qt offscreen, a main window on a real session with a manual clock."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from controllers.clock import ManualClock


@pytest.fixture
def manual_clock() -> ManualClock:
    """Wall clock of device and loop that moves only when the test says so."""
    return ManualClock(1000.0)


@pytest.fixture
def settings(tmp_path):
    """QSettings in a temporary INI file, so tests never touch the user's settings."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, tmp_path, manual_clock, settings):
    """Build a started main window on the embedded default (pty, real loop, real database).

    The loop does not tick by itself (`autorun=False`): `tick(window, n)` advances the manual
    clock by one plant minute and ticks, so tests are deterministic and never sleep.
    """
    from app.gui.main_window import MainWindow
    from app.session import SessionConfig

    made = []

    def make(**overrides):
        config = SessionConfig(
            db_path=tmp_path / "serra.sqlite", clock=manual_clock, autorun=False, speed=60.0,
            **overrides,
        )  # fmt: skip
        window = MainWindow(config, settings)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.session_started, timeout=60_000):
            window.start_session()
        assert window.start_error == ""
        made.append(window)
        return window

    yield make
    for window in made:
        window.session.stop()


def tick(window, n: int = 1, clock: ManualClock | None = None, seconds: float = 1.0) -> None:
    """Advance the clock (1 wall second = 60 plant seconds at speed 60) and tick `n` times."""
    for _ in range(n):
        if clock is not None:
            clock.advance(seconds)
        window.session.tick()
    window.refresh()
