"""The collector steward: start-up objects parked out of full passes, new garbage still collected.

A full pass of CPython's collector walks every tracked object with the interpreter lock held; with
the app's libraries loaded that held the window up for 60-120 ms (bench/soak_app.py measures the
blocks). These tests check the mechanism: what is alive when the session starts is no longer
walked, code imported later is parked once its imports are over, and garbage made afterwards is
still collected (the steward must not turn into a leak).
"""

from __future__ import annotations

import gc
import sys
import textwrap
import weakref

import pytest

from app.gui.collector import CollectorSteward


class Node:
    """An object that can hold a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def steward(qapp):
    made = CollectorSteward(interval_ms=10_000)  # checks driven by the test, not by time
    yield made
    made.deleteLater()
    gc.unfreeze()
    gc.enable()


def test_collection_is_held_off_until_the_session_runs_then_resumes(steward):
    assert not gc.isenabled()
    steward.resume()
    assert gc.isenabled()


def test_objects_alive_at_resume_are_no_longer_walked_by_full_passes(steward):
    keep = [Node() for _ in range(20_000)]  # like a loaded library: long-lived, tracked
    walked_before = len(gc.get_objects())
    steward.resume()
    walked_after = len(gc.get_objects())
    assert walked_before > 20_000
    assert walked_after < walked_before - 20_000
    assert gc.get_freeze_count() >= 20_000
    del keep


def test_garbage_made_after_resume_is_still_collected(steward):
    steward.resume()
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle only the collector can free
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None


def test_code_imported_later_is_parked_once_the_imports_are_over(steward, tmp_path, monkeypatch):
    steward.resume()
    (tmp_path / "serra_late_library.py").write_text(
        textwrap.dedent(
            """
            TABLE = [[i] for i in range(5000)]  # lists are always tracked
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    frozen = gc.get_freeze_count()
    import serra_late_library  # noqa: F401  (a view importing its library on first use)

    steward.check()  # the import burst may still be going on: wait one check
    assert gc.get_freeze_count() == frozen
    steward.check()  # nothing new since the last check: park
    assert gc.get_freeze_count() >= frozen + 5000
    del sys.modules["serra_late_library"]
