"""The recorder never goes back in time, refuses a file it cannot write at open, and never loses
records silently: a disk-full backlog is written in bounded batches as space returns."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from store import timeseries
from store.db import open_store
from store.errors import RecordingError, StoreError, TimeOrderError
from store.recorder import SqliteRecorder
from tests.store.conftest import T0, event, tick


def _times(path) -> list[int]:
    with open_store(path) as s:
        return [r[0] for r in s.conn.execute("SELECT t_ms FROM ticks ORDER BY t_ms")]


def test_a_tick_earlier_than_the_last_is_refused_naming_both_times(db_path):
    rec = SqliteRecorder(db_path)
    for i in (0, 1, 2):
        rec.record_tick(tick(i))
    with pytest.raises(TimeOrderError) as err:
        rec.record_tick(tick(1))  # a second timeline interleaving
    assert "2024-06-01T00:01:00.000+00:00" in str(err.value)  # the refused tick
    assert "2024-06-01T00:02:00.000+00:00" in str(err.value)  # the last recorded one
    with pytest.raises(TimeOrderError):
        rec.record_tick(tick(2))  # the same time would overwrite a tick: refused too
    assert rec.refused_ticks == 2 and rec.pending_ticks == 0
    rec.record_tick(tick(3))
    with pytest.raises(RecordingError, match="2 ticks refused as out of time order"):
        rec.close()  # loss is never silent
    assert _times(db_path) == [timeseries.to_ms(T0 + 60 * i) for i in range(4)]


def test_a_second_run_with_an_earlier_clock_has_its_ticks_refused(db_path):
    first = SqliteRecorder(db_path)
    for i in range(10):
        first.record_tick(tick(i))
    first.close()
    second = SqliteRecorder(db_path).open()
    assert second.last_tick_s == T0 + 9 * 60
    with pytest.raises(TimeOrderError, match="not later than the last recorded tick"):
        second.record_tick(tick(5))
    second.record_event(event(T0, "alarm_acknowledged"))  # events keep their writer's clock
    second.record_tick(tick(10))
    with pytest.raises(RecordingError, match="1 records not recorded"):
        second.close()
    assert second.lost == 1
    assert len(_times(db_path)) == 11


def test_imported_rows_do_not_hold_the_loop_back(db_path):
    rec = SqliteRecorder(db_path)
    rec.record_tick(tick(0))
    with rec.store.write():  # `serra db import` of a logger's rows up to an hour ahead
        timeseries.write_rows(rec.store, [(timeseries.to_ms(T0 + 3000), None, {"tair_c": 20.0})])
    rec.close()
    again = SqliteRecorder(db_path)
    again.record_tick(tick(1))  # later than the loop's last tick, earlier than the import
    again.close()
    assert len(_times(db_path)) == 3


def test_the_queue_bound_drops_the_oldest_and_close_reports_it(tmp_path):
    path = tmp_path / "later" / "x.db"
    rec = SqliteRecorder(path, max_queued_ticks=4, retry_s=1e9)
    for i in range(6):
        with pytest.raises(RecordingError):
            rec.record_tick(tick(i))
    assert (rec.pending_ticks, rec.dropped_ticks) == (4, 2)
    assert "unable to open" in rec.last_error
    path.parent.mkdir()
    with pytest.raises(RecordingError, match="2 ticks and 0 events dropped"):
        rec.close()
    assert rec.lost == 2 and len(_times(path)) == 4


def test_a_backlog_is_written_in_batches_of_at_most_write_batch_ticks(db_path):
    rec = SqliteRecorder(db_path, write_batch_ticks=3, retry_s=0.0)
    rec.record_tick(tick(0))
    rec.store.conn.execute("PRAGMA query_only = ON")  # writes fail
    for i in range(1, 8):
        with pytest.raises(RecordingError):
            rec.record_tick(tick(i))
    rec.store.conn.execute("PRAGMA query_only = OFF")
    commits = []
    rec.store.conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else 0)
    rec.flush()
    assert len(commits) == 3 and rec.pending_ticks == 0  # 7 ticks: 3 + 3 + 1
    rec.close()
    assert len(_times(db_path)) == 8


# A file that cannot grow (RLIMIT_FSIZE, in a child so nothing else of pytest is limited):
# the commit of a tick that adds channels fails writing the WAL, and SQLite rolls it back.
_NO_ROOM_CHILD = """
import resource, signal, sys
from store.errors import RecordingError
from store.recorder import SqliteRecorder
from tests.store.conftest import tick

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
rec = SqliteRecorder(sys.argv[1], retry_s=0.0)
rec.record_tick(tick(0, measurements={"rh_pct": 70.0}, quality={}, setpoints={}, commands={},
                     readbacks={}, health={}))
rec.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
_, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
try:
    rec.record_tick(tick(1))  # brings tair_c, co2_ppm, sp_, cmd_, rb_ and h_ columns
    print("tick 1 recorded with the file limited")
except RecordingError as exc:
    print("tick 1 failed:", exc)
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space comes back
for i in (2, 3):
    try:
        rec.record_tick(tick(i))
        print(f"tick {i} recorded")
    except RecordingError as exc:
        print(f"tick {i} failed:", exc)
rec.close()
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_channels_whose_commit_failed_are_added_again_when_space_returns(db_path):
    done = subprocess.run(
        [sys.executable, "-c", _NO_ROOM_CHILD, str(db_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert lines[0].startswith("tick 1 failed: ") and len(lines) == 3, lines
    # the first tick after the space came back writes the backlog with every column: no
    # "table ticks has no column named tair_c" from columns remembered but rolled back
    assert lines[1:] == ["tick 2 recorded", "tick 3 recorded"]
    with open_store(db_path) as s:
        rows = s.conn.execute(
            "SELECT t_ms, rh_pct, tair_c, q_co2_ppm, sp_heat_c, cmd_vent_lee_pct, rb_vent_lee_pct "
            "FROM ticks ORDER BY t_ms"
        ).fetchall()
    assert [r[0] for r in rows] == [timeseries.to_ms(T0 + 60 * i) for i in range(4)]
    assert rows[0][2:] == (None,) * 5
    for i, row in list(enumerate(rows))[1:]:
        expected = tick(i)
        assert row[1:] == (
            expected.measurements["rh_pct"],
            expected.measurements["tair_c"],
            1,  # co2_ppm is stale in the test ticks
            expected.setpoints["heat_c"],
            expected.commands["vent_lee_pct"],
            expected.readbacks["vent_lee_pct"],
        )


# -- a real full disk: a small tmpfs (needs root to mount; skipped otherwise) ----------------


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs mounted for the test."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder) -> int:
    """Fill the disk with a ballast file; return its file descriptor-less size."""
    path = folder / "ballast"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return path.stat().st_size


def _free(folder, kb: int) -> None:
    path = folder / "ballast"
    os.truncate(path, max(0, path.stat().st_size - kb * 1024))


@pytest.mark.parametrize("batch", [500, 10**9])
def test_after_a_long_disk_full_spell_the_backlog_fits_again_as_space_returns(small_disk, batch):
    """3,000 ticks queued while the disk was full; 100 KB come back, then 1 MB. Batches of 500
    commit part of the backlog at once; one transaction (the old way) fits nowhere at 100 KB."""
    rec = SqliteRecorder(
        small_disk / "serra.db", max_queued_ticks=5000, write_batch_ticks=batch, retry_s=0.0
    )
    for i in range(10):
        rec.record_tick(tick(i))
    _fill(small_disk)
    for i in range(10, 3010):
        with pytest.raises(RecordingError, match="full"):
            rec.record_tick(tick(i))
    assert rec.pending_ticks == 3000
    _free(small_disk, 100)
    with pytest.raises(RecordingError):
        rec.flush()
    if batch == 500:
        assert rec.pending_ticks <= 2500  # progress with the little space there is
    else:
        assert rec.pending_ticks == 3000  # all or nothing: nothing
    _free(small_disk, 1024)
    rec.flush()
    rec.close()  # nothing lost: no error
    assert rec.lost == 0 and len(_times(small_disk / "serra.db")) == 3010


# -- a database this process cannot write is refused at open ---------------------------------


def test_a_read_only_filesystem_is_refused_at_open(small_disk):
    path = small_disk / "serra.db"
    SqliteRecorder(path).open().close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(RecordingError, match=r"serra\.db: cannot open the database"):
        SqliteRecorder(path).open()


_PROBE = """
import sys
from store.db import open_store
from store.errors import StoreError
try:
    open_store(sys.argv[1]).close()
    print("opened")
except StoreError as exc:
    print(exc)
"""


def _open_as_another_user(path) -> str:
    """Open for writing as a user the file's mode applies to (root writes any file)."""
    if os.geteuid() != 0:
        try:
            open_store(path).close()
            return "opened"
        except StoreError as exc:
            return str(exc)
    python, runuser = "/usr/bin/python3", shutil.which("runuser")
    if not (runuser and os.path.exists(python)):
        pytest.skip("needs runuser and a system python to drop root")
    site = [p for p in sys.path if p.endswith("site-packages")]
    env = {"PYTHONPATH": os.pathsep.join([os.getcwd(), *site]), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [runuser, "-u", "nobody", "--", python, "-c", _PROBE, str(path)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    if "opened" not in done.stdout and "serra.db" not in done.stdout:
        pytest.skip(f"cannot run the probe as nobody: {done.stderr.strip()[-200:]}")
    return done.stdout.strip()


@pytest.fixture
def shared_dir():
    """A folder another user can reach (pytest's tmp_path is private to its user)."""
    top = tempfile.mkdtemp(prefix="serra-ro-")
    os.chmod(top, 0o755)
    yield Path(top)
    shutil.rmtree(top, ignore_errors=True)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_file_or_folder_is_refused_at_open_with_one_line(shared_dir, what):
    folder = shared_dir / "shared"
    folder.mkdir()
    path = folder / "serra.db"
    SqliteRecorder(path).open().close()
    if what == "file":  # the folder is writable for anyone, the file for nobody
        os.chmod(folder, 0o777)
        os.chmod(path, 0o444)
    else:  # the file is writable for anyone, but no -wal / -shm can be created next to it
        os.chmod(folder, 0o755)
        os.chmod(path, 0o666)
    message = _open_as_another_user(path)
    assert "serra.db: the database is read-only" in message and "\n" not in message
