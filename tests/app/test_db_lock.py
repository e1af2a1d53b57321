"""The database write lock across real processes, and the GUI session and launcher taking it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.db_lock import DbInUseError, DbLockError, acquire_db_lock, lock_path

# a second process: exit 0 with the lock taken, or 3 printing the refusal
PROBE = (
    "import sys\n"
    "from app.db_lock import DbInUseError, acquire_db_lock\n"
    "try:\n"
    "    acquire_db_lock(sys.argv[1]).unlock()\n"
    "except DbInUseError as exc:\n"
    "    print(exc.holder_pid, exc, sep='|'); sys.exit(3)\n"
)


def probe(db) -> subprocess.CompletedProcess:
    """Try the lock from another process."""
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(db)], capture_output=True, text=True, timeout=60
    )


def test_a_held_lock_refuses_another_process_naming_the_pid_until_released(tmp_path):
    db = tmp_path / "serra.db"
    lock = acquire_db_lock(db)
    assert lock_path(db).read_text() == f"{os.getpid()}\n"
    other = probe(db)
    assert other.returncode == 3
    pid, message = other.stdout.strip().split("|")
    assert int(pid) == os.getpid()
    assert message == (
        f"database {db} is in use by another Serra process (pid {os.getpid()}); "
        "stop it first or use another database"
    )
    lock.unlock()
    assert not lock_path(db).exists()
    assert probe(db).returncode == 0
    lock.unlock()  # twice is harmless


def test_a_second_lock_in_the_same_process_is_refused_too(tmp_path):
    db = tmp_path / "serra.db"
    with acquire_db_lock(db):
        with pytest.raises(DbInUseError) as info:
            acquire_db_lock(db)
        assert info.value.holder_pid == os.getpid()
    with acquire_db_lock(db) as again:  # released on leaving the block
        assert again.locked


def test_a_stale_lock_file_of_a_dead_process_does_not_block(tmp_path):
    db = tmp_path / "serra.db"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(30)
    lock_path(db).write_text(f"{dead.pid}\n")  # as left by a writer killed with -9
    with acquire_db_lock(db) as lock:
        assert lock_path(db).read_text() == f"{os.getpid()}\n"
        assert lock.locked
    lock_path(db).write_text("garbage from an older version\n")
    acquire_db_lock(db).unlock()


def test_a_lock_file_that_cannot_be_made_is_one_line_naming_it(tmp_path):
    db = tmp_path / "missing" / "serra.db"
    with pytest.raises(DbLockError) as info:
        acquire_db_lock(db)
    assert not isinstance(info.value, DbInUseError)
    assert str(info.value) == (
        f"database {db}: cannot create its lock file {db}.lock (No such file or directory)"
    )


def test_session_refuses_a_database_another_process_writes(tmp_path, manual_clock):
    from app.gui.launcher import database_in_use
    from app.session import Session, SessionConfig, SessionError

    db = tmp_path / "serra.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\nfrom app.db_lock import acquire_db_lock\n"
         "lock = acquire_db_lock(sys.argv[1]); print('held', flush=True); sys.stdin.read()",
         str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "held\n"
        session = Session(SessionConfig(db_path=db, clock=manual_clock, autorun=False))
        with pytest.raises(SessionError) as info:
            session.start()
        assert str(info.value) == (
            f"database {db} is in use by another Serra process (pid {holder.pid}); "
            "stop it first or use another database"
        )
        assert session.recorder is None and not session.running  # nothing opened
        assert database_in_use(db) == (
            f"Another Serra process (pid {holder.pid}) is writing to {db}: a Serra window or "
            "`serra run`.\nSwitch to that window or stop that process first."
        )
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert database_in_use(db) is None
    session = Session(SessionConfig(db_path=db, clock=manual_clock, autorun=False))
    session.start()
    try:
        assert session.db_lock.locked
        assert probe(db).returncode == 3  # held while the session runs
    finally:
        session.stop()
    assert probe(db).returncode == 0  # and released when it stops
