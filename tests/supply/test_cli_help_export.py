"""`serra supply export moves` writes readable times; `supply import --help` lists the columns."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime

import pytest

from app.cli import main
from supply.columns import ALLOWED, REQUIRED
from supply.service import SupplyService
from tests.supply.conftest import seed


@pytest.fixture
def amsterdam(monkeypatch):
    """The machine's local zone set to Europe/Amsterdam for the test."""
    monkeypatch.setenv("TZ", "Europe/Amsterdam")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("amsterdam")
def test_moves_export_writes_iso_local_time_with_offset(tmp_path, clock, capsys):
    db = tmp_path / "serra.db"
    svc = SupplyService(db, clock=clock)  # clock: 2026-03-01 08:00 UTC
    seed(svc)
    svc.receive("PIG-GROW", "L1", 500, "A-01", "luca")
    svc.close()
    assert main(["supply", "export", "moves", "--db", str(db)]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert "t_ms" not in rows[0]
    assert rows[0]["time"] == "2026-03-01T09:00:00+01:00"
    assert datetime.fromisoformat(rows[0]["time"]).timestamp() == 1772352000.0
    assert (rows[0]["kind"], float(rows[0]["qty"]), rows[0]["who"]) == ("receipt", 500.0, "luca")


def test_import_help_lists_every_column_of_each_kind(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["supply", "import", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for kind, columns in ALLOWED.items():
        section = text.split(f"  {kind}:", 1)[1].split(":", 1)[0]
        for column in columns:
            marked = f"{column}*" if column in REQUIRED[kind] else column
            assert marked in section.replace("\n", " "), (kind, column)
    assert "code*, name*" in text and "product*, lot_no*, qty*, bay*" in text
