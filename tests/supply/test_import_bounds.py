"""Supply imports cannot hurt the record: quantities and capacities are finite and bounded, and
any CSV either changes nothing and says why in one line, or imports what it reports."""

from __future__ import annotations

import csv
import io
import sqlite3
import string
from contextlib import redirect_stderr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from supply.service import SupplyService

BAYS = "code,warehouse,zone,kind,capacity,storage\nA1,W,dry,bay,,dry\nS1,W,silo,silo,50000,\n"
PRODUCTS = "code,name,unit,shelf_life_days,storage\nPELLET,Pellets,kg,90,dry\n"
TABLES = ("supply_products", "supply_bays", "supply_lots", "supply_moves", "supply_stock")


def _db(tmp_path):
    db = tmp_path / "serra.db"
    for kind, text in (("bays", BAYS), ("products", PRODUCTS)):
        (tmp_path / f"{kind}.csv").write_text(text)
        assert main(["supply", "import", kind, str(tmp_path / f"{kind}.csv"), "--db", str(db)]) == 0
    return db


def _counts(db) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


@pytest.mark.parametrize("qty", ["1e308", "inf", "nan", "-5", "1000000001"])
def test_absurd_lot_quantities_are_refused_and_stock_stays_finite(tmp_path, capsys, qty):
    db = _db(tmp_path)
    lots = tmp_path / "lots.csv"
    lots.write_text(f"product,lot_no,qty,bay\nPELLET,L1,10,A1\nPELLET,L2,{qty},A1\n")
    before = db.read_bytes()
    capsys.readouterr()
    assert main(["supply", "import", "lots", str(lots), "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "lots.csv row 3: column qty" in err
    assert db.read_bytes() == before
    with SupplyService(db) as svc:
        assert svc.on_hand("PELLET") == 0.0


def test_two_lots_at_the_bound_sum_to_a_finite_stock(tmp_path):
    db = _db(tmp_path)
    lots = tmp_path / "lots.csv"
    lots.write_text("product,lot_no,qty,bay\nPELLET,L1,1e9,A1\nPELLET,L2,1e9,A1\n")
    assert main(["supply", "import", "lots", str(lots), "--db", str(db)]) == 0
    with SupplyService(db) as svc:
        assert svc.on_hand("PELLET") == 2e9


@pytest.mark.parametrize("capacity", ["inf", "1e308", "nan", "0", "-1"])
def test_absurd_capacities_are_refused(tmp_path, capsys, capacity):
    db = _db(tmp_path)
    bays = tmp_path / "b.csv"
    bays.write_text(f"code,warehouse,zone,kind,capacity\nS2,W,silo,silo,{capacity}\n")
    capsys.readouterr()
    assert main(["supply", "import", "bays", str(bays), "--db", str(db)]) == 2
    assert "b.csv row 2: bay S2: capacity must be > 0 and at most 1e+09" in capsys.readouterr().err


def test_adjustments_are_finite_and_bounded(tmp_path):
    from supply.errors import InputError

    db = _db(tmp_path)
    with SupplyService(db) as svc:
        lot = svc.receive("PELLET", "L1", 10, "A1", "luca")
        for delta in (float("inf"), float("-inf"), 2e9):
            with pytest.raises(InputError, match="at most 1e\\+09"):
                svc.adjust(lot, "A1", delta, "luca", "count")
        assert svc.on_hand("PELLET") == 10


# -- property: every import kind, random CSVs -----------------------------------------------

_HEADERS = {
    "products": ["code", "name", "unit", "pack_size", "shelf_life_days", "alert_days",
                 "lead_time_days", "safety_stock", "max_stock", "bulk", "storage", "gtin"],
    "bays": ["code", "warehouse", "zone", "kind", "capacity", "sequence", "storage"],
    "lots": ["product", "lot_no", "qty", "bay", "production_date", "expiry_date"],
}  # fmt: skip
_cells = st.one_of(
    st.sampled_from(["PELLET", "A1", "S1", "W", "dry", "silo", "bay", "yes", "2024-06-01", ""]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**25), 10**25).map(str),
    st.sampled_from(["1e308", "-1e308", "1e9", "0", "-0", "nan", "9999-12-31", "0001-01-01"]),
    st.text(string.ascii_letters + string.digits + " -.,\"'", max_size=8),
)


@st.composite
def _file(draw):
    kind = draw(st.sampled_from(sorted(_HEADERS)))
    names = _HEADERS[kind] + ["junk"]
    header = draw(st.lists(st.sampled_from(names), min_size=1, max_size=6, unique=True))
    rows = draw(st.lists(st.lists(_cells, min_size=len(header), max_size=len(header)), max_size=4))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return kind, out.getvalue(), len(rows)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=_file())
def test_any_supply_csv_is_imported_as_reported_or_changes_nothing(tmp_path_factory, case):
    kind, text, n_rows = case
    folder = tmp_path_factory.mktemp("prop")
    db = _db(folder)
    before_bytes, before = db.read_bytes(), _counts(db)
    path = folder / "x.csv"
    path.write_text(text)
    err = io.StringIO()
    with redirect_stderr(err):
        code = main(["supply", "import", kind, str(path), "--db", str(db)])
    message = err.getvalue().strip()
    assert message.count("\n") == 0, message
    if code == 2:
        assert message.startswith("serra: error: ")
        assert db.read_bytes() == before_bytes and _counts(db) == before
        return
    assert code == 0, message
    assert message.startswith(f"imported {n_rows} {kind} rows")
    after = _counts(db)
    if kind == "lots":
        assert after["supply_moves"] - before["supply_moves"] == n_rows
    with SupplyService(db) as svc:
        for line in svc.stock():
            assert 0 < line.qty <= 1e9 * max(1, n_rows)
