"""`serra supply ...` and the CSV import/export behind it."""

from __future__ import annotations

import csv
import json
import time
from datetime import date

import pytest

from app.cli import main
from supply.errors import InputError
from supply.service import SupplyService

PRODUCTS = (
    "code,name,unit,pack_size,shelf_life_days,alert_days,removal_days,storage,lead_time_days,"
    "safety_stock\n"
    "PIG-GROW,Pig grower pellets,kg,25,90,30,7,dry,5,200\n"
    "CO2,CO2 cylinder,piece,1,,,,,10,2\n"
)
BAYS = "code,warehouse,zone,kind,capacity,sequence,storage\nA-01,W1,A,bay,,1,dry\n"


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def db(tmp_path):
    db = str(tmp_path / "serra.db")
    assert (
        main(["supply", "import", "products", _write(tmp_path / "p.csv", PRODUCTS), "--db", db])
        == 0
    )
    assert main(["supply", "import", "bays", _write(tmp_path / "b.csv", BAYS), "--db", db]) == 0
    return db


def test_import_lots_then_export_stock_round_trip(db, tmp_path, capsys):
    lots = _write(
        tmp_path / "l.csv",
        "product,lot_no,qty,bay,production_date,expiry_date\n"
        "PIG-GROW,L1,300,A-01,2026-01-01,\nPIG-GROW,L2,100,A-01,,2026-12-01\n",
    )
    assert main(["supply", "import", "lots", lots, "--db", db, "--who", "luca"]) == 0
    out = tmp_path / "stock.csv"
    assert main(["supply", "export", "stock", "--db", db, "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["lot_no"], float(r["qty"]), r["expiry"]) for r in rows] == [
        ("L1", 300.0, "2026-04-01"),
        ("L2", 100.0, "2026-12-01"),
    ]
    capsys.readouterr()
    assert main(["supply", "export", "products", "--db", db]) == 0
    exported = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [(r["code"], r["shelf_life_days"]) for r in exported] == [
        ("CO2", ""),
        ("PIG-GROW", "90"),
    ]
    with SupplyService(db) as svc:
        assert [m.who for m in svc.moves()] == ["luca", "luca"]


def test_a_bad_row_refuses_the_whole_file(db, tmp_path, capsys):
    lots = _write(
        tmp_path / "l.csv",
        "product,lot_no,qty,bay\nPIG-GROW,L1,300,A-01\nPIG-GROW,L2,-4,A-01\n",
    )
    assert main(["supply", "import", "lots", lots, "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "serra: error: l.csv row 3: column qty must be > 0, got -4.0"
    with SupplyService(db) as svc:
        assert svc.on_hand("PIG-GROW") == 0
        assert svc.lots() == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,name,colour\nX,Y,red\n", "unknown column 'colour'"),
        ("name\nY\n", "missing column.* code"),
        ("code,name,pack_size\nX,Y,big\n", "row 2: column pack_size: 'big' is not a number"),
        ("code,name,shelf_life_days,alert_days\nX,Y,30,30\n", "shorter than the shelf life"),
    ],
)
def test_bad_product_files(tmp_path, text, message):
    svc = SupplyService(tmp_path / "x.db")
    with pytest.raises(InputError, match=message):
        svc.import_csv("products", _write(tmp_path / "p.csv", text), "luca")
    assert svc.products() == []


def test_alerts_and_reorder_commands(db, capsys):
    with SupplyService(db) as svc:
        svc.receive("PIG-GROW", "OLD", 40, "A-01", "luca", production=date(2025, 1, 1))
        svc.receive("PIG-GROW", "NEW", 300, "A-01", "luca", production=date(2026, 3, 1))
    capsys.readouterr()
    assert (
        main(["supply", "alerts", "--db", db, "--date", "2026-03-15", "--json", "--buckets"]) == 0
    )
    got = json.loads(capsys.readouterr().out)
    assert [(a["lot_no"], a["expired"], a["on_hand"]) for a in got["alerts"]] == [("OLD", True, 40)]
    assert got["buckets"]["expired"] == 40 and got["buckets"]["<=90"] == 300
    assert main(["supply", "alerts", "--db", db, "--date", "2026-03-15"]) == 0
    assert "EXPIRED" in capsys.readouterr().out
    args = ["supply", "reorder", "--db", db, "--json", "--herd", "PIG-GROW=finishing_pig:100"]
    assert main(args) == 0
    s = {x["product"]: x for x in json.loads(capsys.readouterr().out)}["PIG-GROW"]
    assert s["product"] == "PIG-GROW" and s["daily_demand"] == pytest.approx(195)
    assert s["qty"] % 25 == 0 and s["qty"] > 0
    assert main(["supply", "reorder", "--db", db, "--use", "CO2=1,2,3", "--json", "--all"]) == 0
    co2 = {x["product"]: x for x in json.loads(capsys.readouterr().out)}["CO2"]
    assert co2["daily_demand"] == 2 and co2["qty"] == 50  # up to RP (2 x 10 + 2) + 14 days x 2


def test_reorder_command_says_what_it_holds_back(db, capsys):
    with SupplyService(db) as svc:
        svc.receive("PIG-GROW", "L1", 100, "A-01", "luca", production=date.today())
        svc.receive("CO2", "C1", 5, "A-01", "luca")
    capsys.readouterr()
    # no use recorded, 100 kg under a 200 kg safety stock: four 25 kg packs
    assert main(["supply", "reorder", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "PIG-GROW" in out and " 100 kg" in out
    assert "no use recorded: tops up to the safety stock" in out
    # with a use so small that one pack outlives its shelf life, nothing is ordered and the
    # command says so instead of claiming every product is above its reorder point
    assert main(["supply", "reorder", "--db", db, "--use", "PIG-GROW=0.01"]) == 0
    out = capsys.readouterr().out
    assert "above its reorder point" not in out
    assert out.startswith(
        "nothing to order for PIG-GROW (below its reorder point): one pack is more"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reorder", "--herd", "PIG-GROW=cow:3"], "unknown livestock kind 'cow'"),
        (["reorder", "--demand", "PIG-GROW"], "write CODE=VALUE"),
        (["reorder", "--demand", "NOPE=3"], "unknown product 'NOPE'"),
        (["reorder", "--use", "CO2=1,x"], "numbers separated by commas"),
        (["alerts", "--date", "2026-02-30"], "is not a date"),
        (["import", "lots", "/nonexistent/l.csv"], "cannot read"),
    ],
)
def test_bad_command_lines_exit_2_with_one_line(db, capsys, argv, message):
    assert main(["supply", *argv, "--db", db]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_not_a_database_is_refused(tmp_path, capsys):
    bad = tmp_path / "junk.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    assert main(["supply", "alerts", "--db", str(bad)]) == 2
    assert "not a SQLite database" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["alerts"], ["reorder"], ["export", "stock"]])
def test_reading_commands_do_not_create_a_missing_database(tmp_path, capsys, argv):
    missing = tmp_path / "typo.db"
    assert main(["supply", *argv, "--db", str(missing)]) == 2
    assert f"{missing}: no Serra database there" in capsys.readouterr().err
    assert not missing.exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bin.csv", b"\xff\xfeproduct", "bin.csv: byte 1 is not UTF-8; save the file as UTF-8"),
        ("extra.csv", b"product,lot_no,qty,bay\nPIG-GROW,L1,5,A-01,x\n", "row 2: 5 cells, but"),
        ("ctl.csv", b"product,lot_no,qty,bay\nPIG-GROW,L\x012,5,A-01\n", "row 2: lot number"),
    ],
)
def test_unreadable_lot_files_exit_2_with_one_line_and_change_nothing(
    db, tmp_path, capsys, name, data, message
):
    path = tmp_path / name
    path.write_bytes(data)
    assert main(["supply", "import", "lots", str(path), "--db", db]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    with SupplyService(db) as svc:
        assert svc.lots() == [] and svc.moves() == []


@pytest.mark.parametrize("column", ["pack_size", "lead_time_days", "safety_stock", "max_stock"])
def test_non_finite_product_numbers_are_refused_with_the_row(tmp_path, column):
    svc = SupplyService(tmp_path / "x.db")
    text = f"code,name,{column}\nX,Y,nan\n"
    with pytest.raises(InputError, match=f"p.csv row 2: product X: {column} must be a finite"):
        svc.import_csv("products", _write(tmp_path / "p.csv", text), "luca")
    assert svc.products() == []


@pytest.fixture
def utc_local_time(monkeypatch):
    """The command's --date means a local day: pin the local zone so day ends are known."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("utc_local_time")
def test_reorder_and_alerts_export_as_seen_on_a_date(db, capsys):
    from datetime import UTC, datetime

    from tests.supply.conftest import Clock

    clock = Clock(datetime(2026, 3, 1, 8, tzinfo=UTC))
    with SupplyService(db, clock=clock) as svc:
        old = svc.receive("PIG-GROW", "L1", 1000, "A-01", "luca", production=date(2026, 1, 1))
        svc.receive("PIG-GROW", "L2", 100, "A-01", "luca", production=date(2026, 3, 1))
        for day in range(11, 21):  # 30 kg a day from 11 to 20 March
            clock.now = datetime(2026, 3, day, 8, tzinfo=UTC)
            svc.issue(old, "A-01", 30, "luca")
    capsys.readouterr()

    def pig(day: str) -> dict:
        argv = ["supply", "reorder", "--db", db, "--json", "--all", "--history-days", "10"]
        assert main([*argv, "--date", day]) == 0
        return {x["product"]: x for x in json.loads(capsys.readouterr().out)}["PIG-GROW"]

    # 20 March: 300 kg in the last 10 days; L1 (removal 25 March) and L2 both usable.
    s = pig("2026-03-20")
    assert (s["daily_demand"], s["position"], s["reorder_point"], s["qty"]) == (30, 800, 350, 0)
    # 25 March: 5 of those days in the window; L1 is past its removal date, 100 kg left.
    # Reorder point 15 x 5 + 200 = 275, up to 275 + 14 x 15 = 485: 385 -> 400 kg (16 bags).
    s = pig("2026-03-25")
    assert (s["daily_demand"], s["position"], s["reorder_point"], s["qty"]) == (15, 100, 275, 400)

    def alert_lots(day: str) -> list[str]:
        assert main(["supply", "export", "alerts", "--db", db, "--date", day]) == 0
        return [r["lot_no"] for r in csv.DictReader(capsys.readouterr().out.splitlines())]

    assert alert_lots("2026-03-01") == []
    assert alert_lots("2026-03-02") == ["L1"]  # alert date: 1 April - 30 days


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reorder", "--date", "2026-13-01"], "--date '2026-13-01' is not a date"),
        (["reorder", "--review-days", "-1"], "--review-days must be a number >= 0"),
        (["reorder", "--review-days", "nan"], "--review-days must be a number >= 0"),
        (["reorder", "--demand", "CO2=-3"], "--demand CO2=-3: daily use must be finite"),
        (["reorder", "--herd", "PIG-GROW=finishing_pig"], "give KIND:HEAD[:BODY_KG]"),
        (["reorder", "--herd", "PIG-GROW=finishing_pig:-3"], "head count of finishing_pig"),
        (["export", "stock", "--date", "2026-03-01"], "--date applies to the alerts export only"),
        (["export", "stock", "--out", "/nonexistent/s.csv"], "cannot write"),
    ],
)
def test_more_bad_command_lines_exit_2_with_one_line(db, capsys, argv, message):
    assert main(["supply", *argv, "--db", db]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
