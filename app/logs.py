"""Where Serra's diagnostics go: the one place that configures `logging`.

Every module logs through its own `logging.getLogger(__name__)`; library packages (sim,
controllers, models, store, supply, drivers) never add handlers. The desktop app and `serra run`
call `configure_logging` once at start:

- a rotating file `serra-<kind>.log` (1 MB, 3 old files kept) in the user log directory
  (platformdirs `user_log_dir("serra")`, e.g. ~/.local/state/serra/log on Linux), or in
  `$SERRA_LOG_DIR` when set: everything from `level` up, with tracebacks;
- stderr: warnings and up, one line each (tracebacks follow), prefixed `serra <kind>:`.

Other commands print what they have to say and keep logging's default (warnings to stderr).
"""

from __future__ import annotations

import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

#: Size of one log file before it is rotated, and how many old files are kept.
MAX_BYTES = 1_000_000
BACKUPS = 3
#: The variable that moves the log files elsewhere (a service's log folder, a test's tmp dir).
LOG_DIR_ENV = "SERRA_LOG_DIR"

#: `extra=` of a record its command already printed on stderr: it goes to the log file only.
PRINTED = {"printed": True}

log = logging.getLogger(__name__)


class _Stderr(logging.StreamHandler):
    """A stream handler writing to whatever `sys.stderr` is at the time of each record."""

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record to the current stderr (tests and redirections swap it)."""
        self.stream = sys.stderr
        super().emit(record)


def log_dir() -> Path:
    """The folder of Serra's log files: `$SERRA_LOG_DIR`, else the user log directory."""
    folder = os.environ.get(LOG_DIR_ENV)
    if folder:
        return Path(folder)
    from platformdirs import user_log_dir

    return Path(user_log_dir("serra", appauthor=False))


def log_path(kind: str) -> Path:
    """The log file of `kind` ("gui" for the desktop app, "run" for `serra run`)."""
    return log_dir() / f"serra-{kind}.log"


def configure_logging(kind: str, level: int = logging.INFO) -> Path | None:
    """Send the root logger's records to `serra-<kind>.log` (from `level` up) and to stderr
    (warnings and up); return the log file, or None when its folder cannot be written (then
    stderr alone, and a warning says why).

    Calling it again replaces the handlers it added before (nothing else's).
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_serra", False)]:
        root.removeHandler(handler)
        handler.close()
    stderr = _Stderr()
    stderr.setLevel(logging.WARNING)
    stderr.addFilter(lambda record: not getattr(record, "printed", False))
    stderr.setFormatter(logging.Formatter(f"serra {kind}: %(levelname)s %(name)s: %(message)s"))
    handlers: list[logging.Handler] = [stderr]
    target = log_path(kind)
    path: Path | None = target
    problem = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        file = RotatingFileHandler(
            target, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        problem, path = exc, None
    else:
        file.setLevel(level)
        file.setFormatter(
            logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
        )
        handlers.append(file)
    for handler in handlers:
        handler._serra = True  # type: ignore[attr-defined]  # marks the handlers this module owns
        root.addHandler(handler)
    root.setLevel(min(level, logging.WARNING))
    if problem is not None:
        log.warning("no log file (%s); diagnostics go to stderr only", problem)
    return path
