"""Model check without Qt: replay a logged compartment through the simulator (`serra sim replay`)
for the GUI's Model check view.

The log is a shipped AGC 2018 compartment, a file or folder, or this greenhouse's own database
(its recorded climate exported as `serra db export` writes it, then replayed like any climate
CSV). `run_model_check_in_process` runs the replay in a child process, so the simulation never
holds the GUI process's interpreter lock; progress comes back per simulated day through a queue.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.child_run import ChildRunError, one_line, run_in_child

#: Log choices of the view: key and words.
LOG_CHOICES = (
    ("reference", "AGC 2018 Reference growers (shipped)"),
    ("igrow", "AGC 2018 iGrow (shipped)"),
    ("croperators", "AGC 2018 Croperators (shipped)"),
    ("file", "Open file/folder…"),
    ("database", "This greenhouse's database"),
)
#: Replay modes: key and words.
MODE_CHOICES = (
    ("actuators", "Open loop: logged actuators"),
    ("setpoints", "Closed loop: logged setpoints"),
)
DATABASE_LOG_NAME = "this greenhouse's database"


class ModelCheckError(ValueError):
    """A model check that cannot run as asked; the message is one line saying what to fix."""


@dataclass(frozen=True)
class ModelCheckRequest:
    """What to replay: the log choice (a `LOG_CHOICES` key), its path for `file`, the
    database for `database`, the mode, and optionally the first local day and the days."""

    choice: str
    path: str | None = None
    db_path: str | None = None
    mode: str = "actuators"
    start: str | None = None
    days: float | None = None
    columns: str | None = None
    time_format: str | None = None


def log_source(path: str) -> str:
    """The source `load_log` reads for a chosen path: a challenge folder when its
    Greenhouse_climate.csv is chosen (so vip.csv and Production.csv come along), else the path."""
    p = Path(path)
    if p.is_file() and p.name.lower().startswith("greenhouse_climate."):
        return str(p.parent)
    return path


def _parse_columns(text: str | None) -> dict[str, str] | None:
    from app.pairs import split_pairs

    if not text or not text.strip():
        return None
    try:
        return dict(split_pairs(text, "canonical=column", "tair_c=Tair"))
    except ValueError as exc:
        raise ModelCheckError(f"columns: {exc}") from None


def export_database(db_path: str | None, out: Path) -> int:
    """Write the database's recorded climate as climate.csv (site-local times); return rows."""
    from app.cli_db import site_timezone
    from store.csvio import write_csv
    from store.db import open_store

    if not db_path:
        raise ModelCheckError("no database is open; start the greenhouse first")
    with open_store(db_path, readonly=True, create=False) as store:
        n = write_csv(store, out, tz=site_timezone())
    if n == 0:
        raise ModelCheckError(
            "this greenhouse's database holds no recorded climate yet; let the loop run, "
            "or choose a logged compartment"
        )
    return n


def _load(request: ModelCheckRequest, folder: Path):
    from app.cli_replay import log_weather
    from controllers.replay_log import SHIPPED, load_log

    columns = _parse_columns(request.columns)
    if request.choice in SHIPPED:
        log = load_log(request.choice)
    elif request.choice == "file":
        if not request.path:
            raise ModelCheckError("choose the log first: Open file/folder…")
        log = load_log(
            log_source(request.path), columns=columns, time_format=request.time_format or None
        )
    elif request.choice == "database":
        csv = folder / "climate.csv"
        export_database(request.db_path, csv)
        log = load_log(str(csv))
        log.name = DATABASE_LOG_NAME
    else:
        raise ModelCheckError(f"unknown log choice {request.choice!r}")
    weather = log_weather(log)
    if weather.step_s > 300:
        weather = weather.resample(300)
    return log, weather


def run_model_check(request: ModelCheckRequest, progress: Callable[[float], None] | None = None):
    """Replay the requested log and return its `controllers.replay.ReplayReport`."""
    from controllers.replay import replay

    if request.days is not None and not request.days > 0:
        raise ModelCheckError(f"days must be positive, got {request.days:g}")
    with tempfile.TemporaryDirectory(prefix="serra-model-check-") as tmp:
        log, weather = _load(request, Path(tmp))
        if progress is not None:
            progress(0.02)
        report, _ = replay(
            log,
            weather,
            mode=request.mode,
            start=request.start,
            days=request.days,
            progress=progress,
        )
    return report


def _input_errors() -> tuple[type[Exception], ...]:
    from app.cli_replay import replay_input_errors
    from store.errors import StoreError

    return (ModelCheckError, StoreError, *replay_input_errors())


def _checked_model_check(request: ModelCheckRequest, progress: Callable[[float], None]):
    """`run_model_check`, with an unexpected failure named as one (in the child process)."""
    try:
        return run_model_check(request, progress=progress)
    except _input_errors():
        raise
    except Exception as exc:
        raise ModelCheckError(f"the model check failed: {one_line(exc)}") from None


def run_model_check_in_process(
    request: ModelCheckRequest, progress: Callable[[float], None] | None = None
):
    """`run_model_check` in a spawned child process; raises ModelCheckError with its message."""
    try:
        return run_in_child(_checked_model_check, request, progress)
    except ChildRunError as exc:
        raise ModelCheckError(str(exc)) from None
