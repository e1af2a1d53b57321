"""`serra db export` in the greenhouse's local time, and `serra db backup` keeping what exists."""

from __future__ import annotations

import csv
import sqlite3

from app.cli import main
from store.recorder import SqliteRecorder
from tests.store.conftest import T0, tick

LOCAL_MIDNIGHT = T0 - 2 * 3600  # 2024-06-01 00:00 in Europe/Amsterdam (CEST, UTC+2)


def _recorded(path, first_s: float, n: int, step_s: float = 600.0) -> None:
    rec = SqliteRecorder(path)
    for i in range(n):
        rec.record_tick(tick(i, step_s, time_s=first_s + i * step_s))
    rec.close()


def _rows(path) -> list[list[str]]:
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def test_from_and_to_dates_are_the_sites_local_midnights(tmp_path):
    db = tmp_path / "serra.db"
    # 31 May 20:00 .. 2 June 04:00 local, every 10 min
    _recorded(db, LOCAL_MIDNIGHT - 4 * 3600, 32 * 6 + 1)
    out = tmp_path / "day.csv"
    args = ["db", "export", "--db", str(db), "--from", "2024-06-01", "--to", "2024-06-02"]
    assert main([*args, "--out", str(out)]) == 0
    times = [r[0] for r in _rows(out)[1:]]
    # the whole local day: 144 ten-minute rows, including the first two local hours
    assert len(times) == 144
    assert times[0] == "2024-06-01T00:00:00+02:00"
    assert times[12] == "2024-06-01T02:00:00+02:00"
    assert times[-1] == "2024-06-01T23:50:00+02:00"


def test_export_help_says_times_are_local_with_offset(capsys):
    try:
        main(["db", "export", "--help"])
    except SystemExit as exc:
        assert exc.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "local midnight" in text and "offset" in text and "site's zone" in text


def test_tz_utc_still_exports_in_utc(tmp_path):
    db = tmp_path / "serra.db"
    _recorded(db, T0, 3)
    out = tmp_path / "utc.csv"
    assert main(["db", "export", "--db", str(db), "--tz", "UTC", "--out", str(out)]) == 0
    assert _rows(out)[1][0] == "2024-06-01T00:00:00+00:00"


def test_local_export_imports_back_unchanged(tmp_path):
    db = tmp_path / "a.db"
    _recorded(db, LOCAL_MIDNIGHT - 3600, 20)
    first, second = tmp_path / "one.csv", tmp_path / "two.csv"
    assert main(["db", "export", "--db", str(db), "--out", str(first)]) == 0
    assert _rows(first)[1][0] == "2024-05-31T23:00:00+02:00"
    other = tmp_path / "b.db"
    assert main(["db", "import", "--db", str(other), str(first)]) == 0
    assert main(["db", "export", "--db", str(other), "--out", str(second)]) == 0
    assert _rows(first) == _rows(second) and len(_rows(first)) == 21


def test_backup_refuses_an_existing_file_unless_force(tmp_path, capsys):
    db = tmp_path / "serra.db"
    _recorded(db, T0, 5)
    out = tmp_path / "copy.db"
    out.write_bytes(b"last week's backup")
    assert main(["db", "backup", "--db", str(db), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--out {out} exists; add --force" in err
    assert out.read_bytes() == b"last week's backup"
    assert main(["db", "backup", "--db", str(db), "--out", str(out), "--force"]) == 0
    conn = sqlite3.connect(out)
    assert conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] == 5
    conn.close()
