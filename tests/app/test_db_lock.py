"""The database write lock across real processes, and the GUI session and launcher taking it."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from app.db_lock import DbInUseError, DbLockError, DbReadOnlyError, acquire_db_lock, lock_path

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


def test_a_database_that_cannot_be_created_is_one_line_naming_it(tmp_path):
    db = tmp_path / "missing" / "serra.db"
    with pytest.raises(DbLockError) as info:
        acquire_db_lock(db)
    assert not isinstance(info.value, DbInUseError)
    assert str(info.value) == f"database {db}: cannot create it (No such file or directory)"


def test_a_new_database_is_created_empty_and_locked(tmp_path):
    db = tmp_path / "new.db"
    with acquire_db_lock(db):
        assert db.stat().st_size == 0  # SQLite takes an empty file as an empty database
        assert probe(db).returncode == 3
    with sqlite3.connect(db) as c:
        assert c.execute("PRAGMA user_version").fetchone() == (0,)


@pytest.mark.skipif(os.name == "nt", reason="POSIX file identity")
def test_every_name_of_the_file_meets_the_same_lock(tmp_path):
    db = tmp_path / "serra.db"
    (tmp_path / "sub").mkdir()
    symlink, hardlink = tmp_path / "sub" / "link.db", tmp_path / "hard.db"
    with acquire_db_lock(db):
        symlink.symlink_to(db)
        os.link(db, hardlink)
        for name in (symlink, hardlink, tmp_path / "sub" / ".." / "serra.db"):
            other = probe(name)
            assert other.returncode == 3, name
            pid, message = other.stdout.strip().split("|")
            # the holder is named whatever name it used (from the kernel's lock table on
            # Linux; elsewhere from the pid file a symlink leads to)
            if sys.platform.startswith("linux") or name != hardlink:
                assert int(pid) == os.getpid(), name
                assert message.startswith(f"database {name} is in use by another Serra process "
                                          f"(pid {os.getpid()})")  # fmt: skip
    assert probe(hardlink).returncode == 0 and probe(symlink).returncode == 0


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_a_read_only_database_file_is_refused_even_for_root(tmp_path):
    db = tmp_path / "serra.db"
    db.write_bytes(b"")
    db.chmod(0o444)
    with pytest.raises(DbReadOnlyError) as info:
        acquire_db_lock(db)
    assert str(info.value).startswith(f"database {db} is read-only (")
    assert str(info.value).endswith(
        "Serra would control without recording; make it writable (chmod u+w) or use another "
        "database"
    )
    assert not lock_path(db).exists()
    db.chmod(0o644)
    acquire_db_lock(db).unlock()


@pytest.mark.skipif(os.name == "nt", reason="POSIX record locks")
def test_locking_never_drops_the_sqlite_locks_this_process_holds(tmp_path):
    # closing any descriptor of a file drops all of a process's fcntl locks on it, SQLite's
    # included: a reader's SHARED lock here must keep blocking another process's commit
    db = tmp_path / "serra.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE t (x)")
    reader = sqlite3.connect(db, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT * FROM t").fetchall()  # rollback-journal mode: SHARED lock held
    lock = acquire_db_lock(db)
    with pytest.raises(DbInUseError):
        acquire_db_lock(tmp_path / "." / "serra.db")
    lock.unlock()
    acquire_db_lock(db).unlock()
    writer = subprocess.run(
        [sys.executable, "-c",
         "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=0)\n"
         "c.execute('INSERT INTO t VALUES (1)'); c.commit()",
         str(db)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert writer.returncode != 0 and "database is locked" in writer.stderr
    reader.execute("COMMIT")
    reader.close()


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
