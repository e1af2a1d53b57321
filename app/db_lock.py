"""One writer per database file, whatever name it is reached by.

The control loop of `serra run` and the GUI's session both write ticks; two of them on one
database would interleave two plants' records. Each takes this lock before opening the
database for writing and keeps it until it stops. Readers (`serra db export`, `backup`,
`info`, the GUI's history) take no lock.

On POSIX the lock is `flock` on the database file itself, so it follows the file's identity
(device and inode), not the path string: a symlink, a hard link or `./x/../serra.db` all meet
the same lock. That matters beyond interleaving: SQLite names its write-ahead log after the
name it was opened by, so a writer through a hard link would keep its records in another
`-wal` file (a symlink is resolved by SQLite and shares the log). `flock` and SQLite's own
POSIX `fcntl` record locks are independent on Linux. A database that does not exist yet is
created empty by the lock (SQLite takes an empty file as an empty database), so two processes
starting on a new file race for one inode. A file marked read-only (no write bit, even for
root) or not writable by this user is refused: Serra would control without recording.

The lock is an operating-system lock on the open file, not a file's existence: the kernel
drops it when the process ends, however it ends (kill -9 included), so nothing left behind
ever blocks a restart. `<resolved db>.lock` holds the writer's pid only to name it in the
refusal (on Linux the kernel's lock table, /proc/locks, names it first, whatever name the
holder used).

One POSIX trap shapes the code: closing *any* descriptor of a file drops every `fcntl` lock
this process holds on it, SQLite's included. So a descriptor opened here on a database is never
closed while the process may have SQLite connections on it: unlocking only releases the flock,
and the descriptor is kept (one per file) for the next lock of the same file. On Windows
(`msvcrt.locking` is mandatory and would collide with SQLite's lock bytes) the lock is taken on
the `.lock` file at the resolved path instead, so symlinks meet it but hard links do not.
No Qt here: headless commands use it too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import threading
from pathlib import Path
from types import TracebackType

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
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
    """Another process holds the database's lock; `holder_pid` is its pid, if known."""

    def __init__(self, message: str, holder_pid: int | None) -> None:
        super().__init__(message)
        self.holder_pid = holder_pid


class DbReadOnlyError(DbLockError):
    """The database file cannot be written by this process (or is marked read-only)."""


def lock_path(db_path: str | Path) -> Path:
    """The pid file of a database: `<db>.lock` next to it, symlinks resolved."""
    return Path(os.path.realpath(db_path) + ".lock")


# descriptors of database files, by (device, inode), kept open for the process's life (see the
# module docstring), and the identities this process holds locked
_fds: dict[tuple[int, int], int] = {}
_held: set[tuple[int, int]] = set()
_spare: list[int] = []
_registry = threading.Lock()


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace").split()
        return int(text[0]) if text else None
    except (OSError, ValueError):
        return None


def _kernel_holder(st: os.stat_result) -> int | None:
    """The pid holding a flock on this file, from Linux's lock table (None elsewhere)."""
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    try:
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            for line in f:
                parts = line.split()
                # "1: FLOCK  ADVISORY  WRITE 8941 fe:00:2146401 0 EOF" ("->" marks a waiter)
                if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == dev:
                    pid = int(parts[4])
                    return pid if pid > 0 else None
    except (OSError, ValueError):
        return None
    return None


def _read_only(db: Path, reason: str) -> DbReadOnlyError:
    return DbReadOnlyError(
        f"database {db} is read-only ({reason}): Serra would control without recording; "
        "make it writable (chmod u+w) or use another database"
    )


def _in_use(db: Path, pid: int | None) -> DbInUseError:
    who = f"pid {pid}" if pid is not None else "pid unknown"
    return DbInUseError(
        f"database {db} is in use by another Serra process ({who}); stop it first "
        "or use another database",
        pid,
    )


class DbLock:
    """A held database lock; `unlock()` (or leaving a `with` block) releases it."""

    def __init__(self, db_path: Path, path: Path, fd: int, key: tuple[int, int] | None) -> None:
        self.db_path = db_path
        self.path = path
        self._fd: int | None = fd
        self._key = key

    @property
    def locked(self) -> bool:
        """Whether this process still holds the lock."""
        return self._fd is not None

    def unlock(self) -> None:
        """Release the lock and remove the pid file (idempotent)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            _unlock(fd)
        if self._key is None:  # pragma: no cover - Windows: the descriptor is the pid file's
            os.close(fd)
            return
        with _registry:
            _held.discard(self._key)

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
    """Lock the database file at `db_path` for writing by this process; return the held lock.

    Creates an empty database file when there is none. Raises DbInUseError naming the database
    and the holder's pid when another process (or another part of this one) holds it,
    DbReadOnlyError when the file cannot be written, DbLockError naming the file when it cannot
    be created or opened (e.g. a missing folder).
    """
    db = Path(db_path)
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return _acquire_pid_file_lock(db)
    for _attempt in range(10):
        fd, key = _open_db(db)
        with _registry:
            if key in _held:
                raise _in_use(db, os.getpid())
            if not _try_lock(fd):
                held_by = _kernel_holder(os.fstat(fd)) or _read_pid(lock_path(db))
                raise _in_use(db, held_by)
            _held.add(key)
        lock = DbLock(db, lock_path(db), fd, key)
        try:
            st = os.stat(db)
        except FileNotFoundError:
            st = None
        if st is None or _identity(st) != key:  # renamed or removed meanwhile: lock the new one
            lock.unlock()
            continue
        if not st.st_mode & 0o222:  # root may write anyway; the grower marked it read-only
            lock.unlock()
            raise _read_only(db, f"mode {st.st_mode & 0o777:o}")
        try:
            pid_fd = os.open(lock.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        except OSError as exc:
            lock.unlock()
            raise DbLockError(
                f"database {db}: cannot create its lock file {lock.path} ({exc.strerror})"
            ) from None
        try:
            os.write(pid_fd, f"{os.getpid()}\n".encode("ascii"))
        finally:
            os.close(pid_fd)
        return lock
    raise DbLockError(f"database {db} keeps being replaced while locking it; try again")


def _open_db(db: Path) -> tuple[int, tuple[int, int]]:
    """The kept descriptor of the database file (created empty if missing) and its identity.

    A file this process opened before is not opened again: closing a second descriptor would
    drop SQLite's locks (see the module docstring).
    """
    with contextlib.suppress(OSError):
        key = _identity(os.stat(db))
        with _registry:
            kept = _fds.get(key)
        if kept is not None and os.fstat(kept).st_nlink > 0:
            return kept, key
    try:
        fd = os.open(db, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and db.is_file():
            raise _read_only(db, exc.strerror or str(exc)) from None
        what = "open" if db.exists() else "create"
        raise DbLockError(f"database {db}: cannot {what} it ({exc.strerror})") from None
    key = _identity(os.fstat(fd))
    with _registry:
        kept = _fds.get(key)
        if kept is not None and os.fstat(kept).st_nlink > 0:
            # replaced between stat and open by a file opened before: keep both open
            _spare.append(fd)
            return kept, key
        _fds[key] = fd  # a former file of this identity is deleted: its descriptor is moot
    return fd, key


def _acquire_pid_file_lock(db: Path) -> DbLock:  # pragma: no cover - Windows only
    path = lock_path(db)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DbLockError(
            f"database {db}: cannot create its lock file {path} ({exc.strerror})"
        ) from None
    if not _try_lock(fd):
        os.close(fd)
        raise _in_use(db, _read_pid(path))
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()}\n".encode("ascii"))
    return DbLock(db, path, fd, None)
