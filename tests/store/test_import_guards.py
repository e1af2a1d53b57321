"""`serra db import` cannot hurt the record: future times and implausible values refuse the file,
and retention counts from the loop's clock, never from a stray row's time."""

from __future__ import annotations

import io
import sqlite3
import string
from contextlib import redirect_stderr
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.cli_db
from app.cli import main
from store import rollups, timeseries
from store.db import open_store
from store.recorder import SqliteRecorder
from tests.store.conftest import T0, tick

NOW = T0 + 10 * 86400.0  # the wall clock of these tests: 2024-06-11


@pytest.fixture(autouse=True)
def _wall_clock(monkeypatch):
    monkeypatch.setattr(app.cli_db, "wall_clock", lambda: NOW)


def _counts(db) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("ticks", "events")
        )
    finally:
        conn.close()


def _loop_db(tmp_path, n=5):
    db = tmp_path / "serra.db"
    rec = SqliteRecorder(db)
    for i in range(n):
        rec.record_tick(tick(i))
    rec.close()
    return db


def _iso(t_s: float) -> str:
    return datetime.fromtimestamp(t_s, UTC).isoformat()


def test_a_row_dated_9999_is_refused_naming_the_row(tmp_path, capsys):
    db = _loop_db(tmp_path)
    before = db.read_bytes()
    csv = tmp_path / "stray.csv"
    csv.write_text(f"time,tair_c\n{_iso(T0 - 60)},20\n9999-12-31T00:00:00+00:00,21.5\n")
    assert main(["db", "import", "--db", str(db), str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "row 3, column time" in err and "in the future" in err
    assert db.read_bytes() == before


def test_a_time_within_the_hour_of_tolerance_is_imported(tmp_path):
    db = _loop_db(tmp_path)
    csv = tmp_path / "skew.csv"
    csv.write_text(f"time,tair_c\n{_iso(NOW + 3599)},20\n")
    assert main(["db", "import", "--db", str(db), str(csv)]) == 0
    csv.write_text(f"time,tair_c\n{_iso(NOW + 3601)},20\n")
    assert main(["db", "import", "--db", str(db), str(csv)]) == 2
    assert _counts(db) == (6, 1)


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("tair_c", "-500", "-500 is outside the plausible range of tair_c, -20..60"),
        ("tair_c", "1e308", "1e+308 is outside the plausible range of tair_c, -20..60"),
        ("rh_pct", "1000", "1000 is outside the plausible range of rh_pct, 0..100"),
        ("co2_ppm", "1e5", "100000 is outside the plausible range of co2_ppm, 0..5000"),
        ("vent_lee_pct", "-1", "-1 is outside the plausible range of vent_lee_pct, 0..100"),
    ],
)
def test_implausible_values_refuse_the_whole_file(tmp_path, capsys, column, value, shown):
    db = _loop_db(tmp_path)
    before = db.read_bytes()
    csv = tmp_path / "bad.csv"
    csv.write_text(f"time,{column}\n{_iso(T0 - 120)},1\n{_iso(T0 - 60)},{value}\n")
    assert main(["db", "import", "--db", str(db), str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"row 3, column {column}: {shown}" in err
    assert db.read_bytes() == before


def test_a_stray_future_row_never_makes_retention_delete_the_real_ticks(tmp_path):
    """The defect: one row at 9999 made the next retention pass delete every raw tick."""
    db = tmp_path / "serra.db"
    rec = SqliteRecorder(db, retention=rollups.Retention(raw_s=86400.0))
    for i in range(3 * 60):  # three hours of loop ticks
        rec.record_tick(tick(i))
    with rec.store.write():  # a stray row from an old import, far in the future
        timeseries.write_rows(rec.store, [(timeseries.to_ms(253402214400.0), None, {"tair_c": 99})])
    for i in range(3 * 60, 4 * 60 + 1):  # the loop goes on into a new hour: retention runs
        rec.record_tick(tick(i))
    rec.close()
    with open_store(db) as s:
        loop_ticks = s.conn.execute("SELECT COUNT(*) FROM ticks WHERE mode IS NOT NULL")
        assert loop_ticks.fetchone()[0] == 4 * 60 + 1
        assert s.get_meta("raw_from_ms") is None
        # rollups stop at the loop's clock, not at the year 9999
        assert int(s.get_meta("rollup_5m_until_ms")) == timeseries.to_ms(T0 + 4 * 3600)
        assert int(s.get_meta("rollup_1h_until_ms")) == timeseries.to_ms(T0 + 4 * 3600)


# -- property: any CSV either changes nothing and says why, or imports what it reports --------

_COLUMNS = ["tair_c", "rh_pct", "co2_ppm", "vent_lee_pct", "wind_dir_deg", "leaf", "time", ""]
_cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(-100, 6000).map(lambda x: f"{x:.3f}"),
    st.sampled_from(["", "nan", "NA", "wet", "1e308", "-0", " 5 "]),
    st.text(string.printable, max_size=6),
)
_times = st.one_of(
    st.floats(T0 - 86400 * 400, NOW + 7200).map(_iso),
    st.sampled_from(["9999-12-31T00:00:00+00:00", "2024-06-01T00:00:00", "yesterday", ""]),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
)


@st.composite
def _csv_text(draw) -> str:
    header = ["time", *draw(st.lists(st.sampled_from(_COLUMNS), max_size=4))]
    rows = draw(
        st.lists(
            st.tuples(_times, st.lists(_cells, min_size=len(header) - 1, max_size=len(header))),
            max_size=6,
        )
    )
    lines = [",".join(header)] + [",".join([t, *cells]) for t, cells in rows]
    return "\n".join(lines) + "\n"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_csv_text())
def test_any_csv_is_imported_as_reported_or_changes_nothing(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("prop")
    db = _loop_db(folder, n=3)
    before_bytes, before = db.read_bytes(), _counts(db)
    csv = folder / "x.csv"
    csv.write_text(text)
    err = io.StringIO()
    with redirect_stderr(err):
        code = main(["db", "import", "--db", str(db), str(csv)])
    message = err.getvalue().strip()
    assert message.count("\n") == 0, message
    if code == 2:
        assert message.startswith("serra: error: ")
        assert db.read_bytes() == before_bytes and _counts(db) == before
        return
    assert code == 0, message
    n = int(message.split()[1])  # "imported N rows into ..."
    data = [ln for ln in text.splitlines()[1:] if ln.replace(",", "").strip()]
    times = {timeseries.to_ms(datetime.fromisoformat(ln.split(",")[0]).timestamp()) for ln in data}
    assert n == len(data) == len(times)
    with open_store(db) as s:
        stored = {r[0] for r in s.conn.execute("SELECT t_ms FROM ticks")}
        assert times <= stored
        (events,) = s.conn.execute("SELECT data FROM events WHERE kind = 'data_import'")
        assert f'"rows": {n}' in events[0]
        hi = s.conn.execute("SELECT MAX(t_ms) FROM ticks WHERE mode IS NULL").fetchone()[0]
        new = s.conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0] - before[0]
        assert 0 <= new <= n
        assert hi is None or hi <= timeseries.to_ms(NOW + 3600)
        limits = app.cli_db.import_limits()
        for c in s.channels:
            if c.removeprefix("rb_") in limits:
                lo_v, hi_v = limits[c.removeprefix("rb_")]
                bad = s.conn.execute(
                    f'SELECT COUNT(*) FROM ticks WHERE mode IS NULL AND ("{c}" < ? OR "{c}" > ?)',
                    (lo_v, hi_v),
                ).fetchone()[0]
                assert bad == 0
