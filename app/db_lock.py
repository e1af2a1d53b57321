"""One writer per database: a lock file next to it (`<db>.lock`) holding the writer's pid.

The control loop of `serra run` and the GUI's session both write ticks; two of them on one
database would interleave two plants' records. Each takes this lock before opening the
database for writing and keeps it until it stops. Readers (`serra db export`, `backup`,
`info`, the GUI's history) take no lock.

The lock is an operating-system lock on the open file (`fcntl.flock` on POSIX, `msvcrt.locking`
on Windows), not the file's existence: the kernel drops it when the process ends, however it
ends (kill -9 included), so a lock file left behind by a crashed writer never blocks a restart
and no pid has to be checked for staleness. The pid written into the file only names the
holder in the refusal message. No Qt here: headless commands use it too.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    # locked byte far beyond the pid text, so other processes can still read who holds it
    _WIN_LOCK_OFFSET = 1 << 30

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class DbLockError(Exception):
    """A database lock that cannot be taken; the message names the database and why."""


class DbInUseError(DbLockError):
    """Another process holds the database's lock; `holder_pid` is its pid, if it wrote one."""

    def __init__(self, message: str, holder_pid: int | None) -> None:
        super().__init__(message)
        self.holder_pid = holder_pid


def lock_path(db_path: str | Path) -> Path:
    """The lock file of a database: `<db>.lock` next to it."""
    return Path(str(db_path) + ".lock")


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace").split()
        return int(text[0]) if text else None
    except (OSError, ValueError):
        return None


class DbLock:
    """A held database lock; `unlock()` (or leaving a `with` block) releases it."""

    def __init__(self, db_path: Path, path: Path, fd: int) -> None:
        self.db_path = db_path
        self.path = path
        self._fd: int | None = fd

    @property
    def locked(self) -> bool:
        """Whether this process still holds the lock."""
        return self._fd is not None

    def unlock(self) -> None:
        """Release the lock and remove the lock file (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        if os.name != "nt":
            # removed while still locked: a waiting process that opened this file finds it
            # unlinked after locking it and retries on the new one (see acquire_db_lock)
            with contextlib.suppress(OSError):
                self.path.unlink()
        with contextlib.suppress(OSError):
            _unlock(fd)
        os.close(fd)
        if os.name == "nt":  # pragma: no cover - an open file cannot be removed there
            with contextlib.suppress(OSError):
                self.path.unlink()

    def __enter__(self) -> DbLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.unlock()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.unlock()


def acquire_db_lock(db_path: str | Path) -> DbLock:
    """Lock `db_path` for writing by this process; return the held lock.

    Raises DbInUseError naming the database and the holder's pid when another process holds
    it, DbLockError naming the lock file when that cannot be created (e.g. a missing folder).
    """
    db = Path(db_path)
    path = lock_path(db)
    for _attempt in range(10):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise DbLockError(
                f"database {db}: cannot create its lock file {path} ({exc.strerror})"
            ) from None
        if not _try_lock(fd):
            os.close(fd)
            pid = _read_pid(path)
            who = f"pid {pid}" if pid is not None else "pid unknown"
            raise DbInUseError(
                f"database {db} is in use by another Serra process ({who}); stop it first "
                "or use another database",
                pid,
            )
        if os.name != "nt":
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(path))
            except FileNotFoundError:
                same = False
            if not same:  # the holder released and removed it meanwhile: lock the new file
                _unlock(fd)
                os.close(fd)
                continue
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        return DbLock(db, path, fd)
    raise DbLockError(f"database {db}: its lock file {path} keeps being replaced; try again")
