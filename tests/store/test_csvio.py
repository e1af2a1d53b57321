"""climate.csv export and all-or-nothing import through `serra db`."""

from __future__ import annotations

import csv
import json
import re
import sqlite3

import pytest

from app.cli import main
from app.cli_db import import_channels
from drivers.signals import ACTUATORS, SIGNALS
from store.csvio import CLIMATE_COLUMNS, import_csv
from store.db import open_store
from store.errors import CsvImportError
from store.recorder import SqliteRecorder
from tests.store.conftest import T0, tick


def _recorded(path, n=10):
    rec = SqliteRecorder(path)
    for i in range(n):
        rec.record_tick(tick(i))
    rec.close()


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def test_climate_columns_are_canonical_names():
    assert set(CLIMATE_COLUMNS) <= set(SIGNALS)
    assert set(ACTUATORS) <= set(CLIMATE_COLUMNS)
    assert import_channels()["vent_lee_pct"] == "rb_vent_lee_pct"
    assert import_channels()["tair_c"] == "tair_c"


def test_export_writes_time_with_offset_and_canonical_columns(tmp_path, capsys):
    db = tmp_path / "serra.db"
    _recorded(db)
    out = tmp_path / "climate.csv"
    code = main(
        [
            "db", "export", "--db", str(db), "--out", str(out), "--tz", "Europe/Amsterdam",
            "--from", "2024-06-01T02:02:00", "--to", "2024-06-01T02:05:00",
        ]
    )  # fmt: skip
    assert code == 0
    rows = _read(out)
    assert rows[0] == ["time", *CLIMATE_COLUMNS]
    assert [r[0] for r in rows[1:]] == [
        "2024-06-01T02:02:00+02:00",
        "2024-06-01T02:03:00+02:00",
        "2024-06-01T02:04:00+02:00",
    ]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["tair_c"] == "21" and first["rh_pct"] == "72"
    assert first["vent_lee_pct"] == "1.5"  # the readback, not the command (2)
    assert first["pipe_sp_c"] == "45" and first["iglob_w_m2"] == ""


def test_export_import_round_trip(tmp_path):
    db = tmp_path / "a.db"
    rec = SqliteRecorder(db)
    for i in range(30):
        over = {"readbacks": {"vent_lee_pct": float(i % 100) + 0.5}}
        if i == 3:  # a faulty sensor: out of range, flagged bad by the poller
            over["measurements"] = {"tair_c": -500.0, "rh_pct": 70.0, "co2_ppm": 400.0}
            over["quality"] = {"tair_c": "bad", "rh_pct": "good", "co2_ppm": "good"}
        rec.record_tick(tick(i, **over))
    rec.close()
    first = tmp_path / "one.csv"
    assert main(["db", "export", "--db", str(db), "--out", str(first)]) == 0
    assert _read(first)[4][1] == ""  # the bad sample is left out, as in rollup means
    other = tmp_path / "b.db"
    assert main(["db", "import", "--db", str(other), str(first)]) == 0
    second = tmp_path / "two.csv"
    assert main(["db", "export", "--db", str(other), "--out", str(second)]) == 0
    assert _read(first) == _read(second) and len(_read(first)) == 31
    conn = sqlite3.connect(other)
    kind, data = conn.execute("SELECT kind, data FROM events").fetchone()
    assert kind == "data_import" and '"rows": 30' in data
    conn.close()


BAD = [
    ("time,tair_c,leaf_colour\n", "row 1, column 3: unknown column 'leaf_colour'"),
    ("tijd,tair_c\n", "row 1, column 1: first column must be 'time'"),
    ("time,tair_c\n2024-06-01T00:00:00+00:00,20\nyesterday,21\n", "row 3, column time"),
    ("time,tair_c\n2024-06-01T00:00:00,20\n", "row 2, column time: .* no UTC offset"),
    ("time,tair_c,rh_pct\n2024-06-01T00:00Z,20,70\n2024-06-01T00:01Z,20,wet\n",
     "row 3, column rh_pct: 'wet' is not a number"),
    ("time,tair_c\n2024-06-01T00:00Z,20\n2024-06-01T00:00Z,21\n", "row 3, column time: .* repeats"),
    ("time,tair_c\n2024-06-01T00:00Z,20,5\n", "row 2, column 3: extra field '5'; the header has 2"),
    ("time,tair_c,rh_pct\n2024-06-01T00:00Z,20\n", "row 2, column rh_pct: missing; 2 fields"),
    ("time,tair_c\n2024-06-01T00:00Z,inf\n", "row 2, column tair_c: 'inf' is not a finite"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_csv_is_refused_naming_row_and_column_and_nothing_is_imported(
    tmp_path, capsys, text, message
):
    db = tmp_path / "serra.db"
    _recorded(db, 3)
    before = db.stat().st_size
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    assert main(["db", "import", "--db", str(db), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("serra: error: ") and re.search(message, err)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] == 3
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    conn.close()
    assert db.stat().st_size == before


def test_a_late_bad_row_leaves_nothing_half_imported(tmp_path, capsys):
    db = tmp_path / "serra.db"
    lines = ["time,tair_c"] + [
        f"2024-06-01T{h:02d}:{m:02d}:00+00:00,{20 + m / 10}" for h in range(10) for m in range(60)
    ]
    lines.append("2024-06-01T10:00:00+00:00,oops")
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    assert main(["db", "import", "--db", str(db), str(tmp_path / "big.csv")]) == 2
    assert "row 602, column tair_c: 'oops'" in capsys.readouterr().err
    assert not db.exists()  # the file is checked whole before the database is touched


def test_a_write_failure_mid_import_rolls_everything_back(tmp_path):
    db = tmp_path / "serra.db"
    _recorded(db, 3)
    lines = ["time,tair_c,rh_pct"] + [
        f"2024-07-01T{h:02d}:{m:02d}:00+00:00,{20 + m / 10},{60 + h}"
        for h in range(24)
        for m in range(60)
    ]
    big = tmp_path / "big.csv"
    big.write_text("\n".join(lines) + "\n")
    with open_store(db) as s:
        pages = s.conn.execute("PRAGMA page_count").fetchone()[0]
        s.conn.execute(f"PRAGMA max_page_count = {pages + 3}")  # room for a few pages only
        with pytest.raises(CsvImportError, match="nothing was imported"):
            import_csv(s, big, import_channels())
        assert s.conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] == 3
        assert s.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
        assert s.integrity_check() == "ok"


def test_export_errors_are_one_line_and_leave_no_file(tmp_path, capsys):
    out = tmp_path / "c.csv"
    assert main(["db", "export", "--db", str(tmp_path / "none.db"), "--out", str(out)]) == 2
    assert "no such database file" in capsys.readouterr().err
    db = tmp_path / "serra.db"
    _recorded(db, 2)
    assert main(["db", "export", "--db", str(db), "--from", "soon", "--out", str(out)]) == 2
    assert "--from 'soon' is not a time" in capsys.readouterr().err
    assert main(["db", "export", "--db", str(db), "--tz", "Mars/Base", "--out", str(out)]) == 2
    capsys.readouterr()
    gone = tmp_path / "gone" / "c.csv"
    assert main(["db", "export", "--db", str(db), "--out", str(gone)]) == 2
    err = capsys.readouterr().err
    assert f"--out {gone}: no such folder" in err and ".c.csv" not in err  # no temp names
    assert list(tmp_path.glob("*.csv")) == [] and list(tmp_path.glob(".c.csv*")) == []


def test_info_reports_the_database(tmp_path, capsys):
    db = tmp_path / "serra.db"
    _recorded(db, 4)
    assert main(["db", "info", "--db", str(db)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (
        info["ticks"] == 4
        and "tair_c" in info["channels"]
        and info["from"].startswith("2024-06-01T00:00:00")
    )
    assert T0 == 1_717_200_000.0


def test_backup_command_copies_and_refuses_bad_targets(tmp_path, capsys):
    db = tmp_path / "serra.db"
    _recorded(db, 5)
    out = tmp_path / "copy.db"
    assert main(["db", "backup", "--db", str(db), "--out", str(out)]) == 0
    conn = sqlite3.connect(out)
    assert conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] == 5
    conn.close()
    assert main(["db", "backup", "--db", str(db), "--out", str(db)]) == 2
    assert "must not overwrite its source" in capsys.readouterr().err
    assert main(["db", "backup", "--db", str(db), "--out", str(tmp_path / "x" / "y.db")]) == 2
    assert "no such folder" in capsys.readouterr().err
