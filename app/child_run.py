"""Long simulations for the GUI in a spawned, lower-priority child process.

The compiled kernels hold Python's interpreter lock while they run, so a season in a thread of
the GUI's process would freeze the window. `run_in_child` runs `work(payload, progress)` in a
spawned process at a lower priority and hands its progress fractions, its result or its error
(one line, never a traceback) back to the caller, which runs in a GUI worker thread.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
from collections.abc import Callable
from typing import Any


class ChildRunError(Exception):
    """The work failed in the child, or the child died; the message is one line."""


def one_line(exc: BaseException) -> str:
    """The first line of an error's message, or its type name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _child(work: Callable[..., Any], payload: Any, out: Any) -> None:
    if hasattr(os, "nice"):
        os.nice(10)  # the GUI and the control loop come first on a busy farm PC
    try:
        result = work(payload, progress=lambda f: out.put(("progress", f)))
        out.put(("done", result))
    except Exception as exc:  # reported in one line, never a traceback in a view
        out.put(("error", one_line(exc)))


def run_in_child(
    work: Callable[..., Any],
    payload: Any,
    progress: Callable[[float], None] | None = None,
) -> Any:
    """`work(payload, progress=...)` in a spawned child; its result, or ChildRunError.

    `work` must be a module-level function (it is pickled by name for the spawned process).
    """
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_child, args=(work, payload, out))
    proc.daemon = True
    proc.start()
    try:
        while True:
            try:
                kind, value = out.get(timeout=0.5)
            except queue_module.Empty:
                if not proc.is_alive():
                    raise ChildRunError(
                        f"the simulation stopped unexpectedly (exit code {proc.exitcode})"
                    ) from None
                continue
            if kind == "progress":
                if progress is not None:
                    progress(value)
            elif kind == "done":
                return value
            else:
                raise ChildRunError(value)
    finally:
        proc.join(timeout=10)


def prepare_child_runs() -> None:
    """Start multiprocessing's helper (the resource tracker) now, not during the first run:
    starting it forks this process, which stalls every thread for a moment."""
    if os.name == "posix":
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()
