"""Real processes: kill -9 during ingest, a loop and a GUI on one file, backup while writing.

Child processes are forked (fast to start, already importing Serra) and killed with SIGKILL;
they report each committed batch on a pipe so the parent knows what must be in the file.
"""

from __future__ import annotations

import os
import random
import signal

import pytest

from store import timeseries
from store.backup import backup
from store.db import open_store
from store.recorder import SqliteRecorder
from tests.store.conftest import T0, event, tick

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")


def _fork(target, *args) -> tuple[int, object]:
    """Run target(write_fd, *args) in a child process; return (pid, line reader)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 1
        try:
            os.close(r)
            target(w, *args)
            code = 0
        except BaseException as exc:
            os.write(2, f"child failed: {exc!r}\n".encode())
        finally:
            os._exit(code)
    os.close(w)
    return pid, os.fdopen(r, "r")


def _ingest(w, path, start, batch, n_batches, announce=False):
    rec = SqliteRecorder(path, batch_ticks=batch)
    for i in range(start, start + batch * n_batches):
        record = tick(i, step_s=1.0, health={f"node{k}.errors": float(i + k) for k in range(20)})
        commits = (i - start) % batch == batch - 1
        if commits and announce:
            os.write(w, b"begin\n")  # this record_tick writes and commits the batch
        rec.record_tick(record)
        if commits:
            os.write(w, f"{i}\n".encode())  # batch committed when record_tick returns
    rec.close()


def _wal_state(path):
    try:
        st = os.stat(f"{path}-wal")
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


def test_kill_9_during_ingest_twenty_times_loses_only_the_open_batch(db_path):
    rng = random.Random(5)
    batch = 40
    committed_through = []
    for run in range(20):
        start = run * 100_000
        pid, lines = _fork(_ingest, db_path, start, batch, 10_000, True)
        last = None
        for _ in range(rng.randint(1, 4)):
            assert lines.readline() == "begin\n"
            last = int(lines.readline())
        # Kill inside a commit: once the child starts a batch's write and the WAL file changes
        # (frames being appended, fsync pending), not while it builds tick objects in Python.
        assert lines.readline() == "begin\n"
        before = _wal_state(db_path)
        for _ in range(5_000_000):
            if _wal_state(db_path) != before:
                break
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        for line in lines:  # the batch may have committed (and been reported) before the kill
            if line != "begin\n":
                last = int(line)
        lines.close()
        committed_through.append((start, last))
    with open_store(db_path) as s:
        assert s.integrity_check() == "ok"
        for start, last in committed_through:
            lo, hi = timeseries.to_ms(T0 + start), timeseries.to_ms(T0 + start + 99_999)
            n = s.conn.execute(
                "SELECT COUNT(*) FROM ticks WHERE t_ms >= ? AND t_ms <= ?", (lo, hi)
            ).fetchone()[0]
            # Every reported batch is there, no batch in part; the batch being committed when
            # the kill came is there whole or not at all.
            assert n in (last - start + 1, last - start + 1 + batch)


def _loop_writer(w, path, n):
    rec = SqliteRecorder(path)
    for i in range(n):
        rec.record_tick(tick(i))
    rec.close()
    os.write(w, b"done\n")


def test_loop_and_gui_processes_share_one_database(db_path):
    open_store(db_path).close()
    pid, lines = _fork(_loop_writer, db_path, 400)
    gui = open_store(db_path)
    acks = SqliteRecorder(db_path)
    seen = []
    for k in range(100):
        acks.record_event(event(T0 + k, "alarm_acknowledged", f"ack {k}", alarm="a"))
        gui.reload_channels()
        if "tair_c" in gui.channels:
            latest = timeseries.latest(gui, ["tair_c"])
            seen.append(latest["tair_c"].t_s)
            timeseries.downsample(gui, ["tair_c"], T0, T0 + 400 * 60, points=50)
    acks.close()
    assert lines.readline() == "done\n"
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert seen == sorted(seen)  # the reader only ever sees the file move forward
    n_ticks = gui.conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0]
    n_events = gui.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    assert (n_ticks, n_events) == (400, 100)
    gui.close()


def test_backup_while_another_process_writes(db_path, tmp_path):
    pid, lines = _fork(_ingest, db_path, 0, 10, 300)
    first = int(lines.readline())
    copies = []
    for k in range(3):
        out = tmp_path / f"copy{k}.db"
        backup(db_path, out)
        copies.append(out)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    lines.close()
    counts = []
    for out in copies:
        with open_store(out) as s:
            assert s.integrity_check() == "ok"
            counts.append(s.conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0])
    assert counts == sorted(counts) and counts[0] >= first + 1
    assert all(c % 10 == 0 for c in counts)
    assert not list(tmp_path.glob(".copy*"))
