"""Worker results arrive in order of asking: an older reload finishing late is dropped."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThreadPool

from app.gui import workers
from app.gui.workers import run_in_worker as run_in_pool


@pytest.fixture
def pool():
    """Threads enough for every held worker at once, whatever the machine's core count."""
    p = QThreadPool()
    p.setMaxThreadCount(8)
    yield p
    p.waitForDone(30_000)


@pytest.fixture
def run_in_worker(pool):
    return lambda *a, **k: run_in_pool(*a, pool=pool, **k)


class View:
    """Stands for a view whose `fill` shows what its latest reload read."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.errors: list[str] = []

    def fill(self, rows: str) -> None:
        self.shown.append(rows)

    def show_error(self, message: str) -> None:
        self.errors.append(message)


def _slow(release: threading.Event, value: str) -> str:
    assert release.wait(30), "never released"
    return value


def _fail_after(release: threading.Event) -> str:
    assert release.wait(30), "never released"
    raise OSError("database is locked")


def test_an_older_reload_finishing_after_a_newer_one_is_dropped(qtbot, run_in_worker):
    view, release = View(), threading.Event()
    old = run_in_worker(_slow, release, "1 row (before the acknowledgement)", on_done=view.fill)
    new = run_in_worker(lambda: "1 row, acknowledged by anna", on_done=view.fill)
    assert new.seq > old.seq
    qtbot.waitUntil(lambda: view.shown == ["1 row, acknowledged by anna"], timeout=10_000)
    release.set()  # the older read finishes last
    qtbot.waitUntil(lambda: old not in workers._running, timeout=10_000)
    assert view.shown == ["1 row, acknowledged by anna"]
    assert workers._latest == {}  # nothing kept once the newest has arrived


def test_an_older_reload_failing_late_shows_no_error_over_the_newer_result(qtbot, run_in_worker):
    view, release = View(), threading.Event()
    old = run_in_worker(_fail_after, release, on_done=view.fill, on_error=view.show_error)
    run_in_worker(lambda: "3 rows", on_done=view.fill, on_error=view.show_error)
    qtbot.waitUntil(lambda: view.shown == ["3 rows"], timeout=10_000)
    release.set()
    qtbot.waitUntil(lambda: old not in workers._running, timeout=10_000)
    assert view.errors == []


def test_the_newest_error_is_shown(qtbot, run_in_worker):
    view, release = View(), threading.Event()
    release.set()
    run_in_worker(_fail_after, release, on_done=view.fill, on_error=view.show_error)
    qtbot.waitUntil(lambda: view.errors != [], timeout=10_000)
    assert view.errors == ["database is locked"] and view.shown == []


def test_different_views_and_one_off_actions_do_not_supersede_each_other(
    qtbot, run_in_worker, pool
):
    a, b, done = View(), View(), []
    release = threading.Event()
    run_in_worker(_slow, release, "a's rows", on_done=a.fill)
    run_in_worker(_slow, release, "b's rows", on_done=b.fill)
    for n in range(3):  # actions (a new closure each) are never dropped
        run_in_worker(_slow, release, f"order {n} saved", on_done=lambda r: done.append(r))
    release.set()
    pool.waitForDone(30_000)
    qtbot.waitUntil(lambda: len(done) == 3 and bool(a.shown and b.shown), timeout=10_000)
    assert (a.shown, b.shown) == (["a's rows"], ["b's rows"])
    assert sorted(done) == ["order 0 saved", "order 1 saved", "order 2 saved"]


def test_an_explicit_key_supersedes_across_callbacks(qtbot, run_in_worker, pool):
    shown, release = [], threading.Event()
    run_in_worker(_slow, release, "old", on_done=lambda r: shown.append(r), key="history")
    run_in_worker(lambda: "new", on_done=lambda r: shown.append(r), key="history")
    qtbot.waitUntil(lambda: shown == ["new"], timeout=10_000)
    release.set()
    pool.waitForDone(30_000)
    qtbot.waitUntil(lambda: not workers._running, timeout=10_000)
    assert shown == ["new"]


def test_a_failing_worker_shows_one_line_and_files_its_traceback(
    qtbot, run_in_worker, tmp_path, monkeypatch
):
    import logging

    from app.logs import LOG_DIR_ENV, configure_logging

    monkeypatch.setenv(LOG_DIR_ENV, str(tmp_path))
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    path = configure_logging("gui")
    try:
        view, release = View(), threading.Event()
        release.set()
        run_in_worker(_fail_after, release, on_done=view.fill, on_error=view.show_error)
        qtbot.waitUntil(lambda: view.errors != [], timeout=10_000)
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
    assert view.errors == ["database is locked"]
    text = path.read_text()
    assert "ERROR app.gui.workers: _fail_after failed" in text
    assert 'raise OSError("database is locked")\nOSError: database is locked' in text
