"""Catalogue input that used to crash or be stored wrongly is refused in one line (exit 2)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cli import main
from supply import gs1
from supply.columns import ALLOWED
from supply.errors import BarcodeError

_FIXTURES_OK = [HealthCheck.function_scoped_fixture]
GTIN = "09501101530003"
# digits str.isdigit() accepts that are not ASCII 0-9: superscripts, Arabic-Indic, fullwidth
FOREIGN_DIGITS = "²³¹⁰٣٠۵０９߁"


def _import(tmp_path, capsys, kind: str, text: str) -> tuple[int, str]:
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    code = main(["supply", "import", kind, str(path), "--db", str(tmp_path / "s.db")])
    return code, capsys.readouterr().err


def _stored_products(tmp_path) -> int:
    import sqlite3

    if not (tmp_path / "s.db").exists():
        return 0
    with sqlite3.connect(tmp_path / "s.db") as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM supply_products").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


@settings(max_examples=40, deadline=None, suppress_health_check=_FIXTURES_OK)
@given(pos=st.integers(min_value=0, max_value=13), digit=st.sampled_from(FOREIGN_DIGITS))
def test_gtins_with_non_ascii_digits_are_refused(tmp_path, capsys, pos, digit):
    gtin = GTIN[:pos] + digit + GTIN[pos + 1 :]
    code, err = _import(tmp_path, capsys, "products", f"code,name,gtin\nP{pos},Pellets,{gtin}\n")
    assert code == 2 and err.count("\n") == 1
    assert "GTIN must be 14 digits 0-9" in err
    assert _stored_products(tmp_path) == 0
    with pytest.raises(BarcodeError, match="digits only"):
        gs1.parse("01" + gtin, today=None)


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("bays", "code,warehouse,zone,sequence\nA-1,W,Z,100000000000000000000\n",
         "sequence must lie within +-1000000000"),
        ("products", "code,name,shelf_life_days\nP,Pellets,100000000000\n",
         "shelf_life_days must be at most 36500"),
        ("products", "code,name,alert_days\nP,Pellets,99999999999\n",
         "alert_days must be at most 36500"),
        ("products", "code,name,lead_time_days\nP,Pellets,1e11\n",
         "lead_time_days must be at most 36500"),
    ],
)  # fmt: skip
def test_huge_numbers_are_refused_not_overflowed(tmp_path, capsys, kind, text, message):
    code, err = _import(tmp_path, capsys, kind, text)
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert "Overflow" not in err


@settings(max_examples=40, deadline=None, suppress_health_check=_FIXTURES_OK)
@given(kind=st.sampled_from(sorted(ALLOWED)), data=st.data())
def test_a_column_named_twice_is_refused(tmp_path, capsys, kind, data):
    columns = list(ALLOWED[kind])
    header = data.draw(st.permutations(columns))
    twice = data.draw(st.sampled_from(columns))
    at = data.draw(st.integers(min_value=0, max_value=len(header)))
    header = [*header[:at], twice, *header[at:]]
    code, err = _import(tmp_path, capsys, kind, ",".join(header) + "\n")
    assert code == 2 and err.count("\n") == 1
    assert f"column {twice!r} appears twice in the header" in err
    assert _stored_products(tmp_path) == 0
