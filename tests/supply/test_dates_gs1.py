"""Lot dates, expiry buckets and GS1-128 scanner codes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supply import gs1
from supply.dates import bucket, lot_dates
from supply.errors import BarcodeError, InputError

TODAY = date(2026, 3, 1)


def test_expiry_is_production_plus_shelf_life_and_margins_count_back():
    d = lot_dates(
        production=date(2026, 1, 10),
        expiry=None,
        received=TODAY,
        shelf_life_days=90,
        alert_days=30,
        removal_days=7,
        best_before_days=14,
    )
    assert d.expiry == date(2026, 4, 10)
    assert d.alert == date(2026, 3, 11)
    assert d.removal == date(2026, 4, 3)
    assert d.best_before == date(2026, 3, 27)


def test_expiry_from_receipt_when_no_production_date_and_label_wins():
    d = lot_dates(
        production=None,
        expiry=None,
        received=TODAY,
        shelf_life_days=30,
        alert_days=0,
        removal_days=0,
        best_before_days=0,
    )
    assert d.expiry == date(2026, 3, 31)
    d = lot_dates(
        production=date(2026, 2, 1),
        expiry=date(2026, 2, 20),
        received=TODAY,
        shelf_life_days=90,
        alert_days=5,
        removal_days=0,
        best_before_days=0,
    )
    assert (d.expiry, d.alert) == (date(2026, 2, 20), date(2026, 2, 15))


def test_expiry_before_production_is_refused():
    with pytest.raises(InputError, match="before production"):
        lot_dates(
            production=date(2026, 2, 1),
            expiry=date(2026, 1, 1),
            received=TODAY,
            shelf_life_days=None,
            alert_days=0,
            removal_days=0,
            best_before_days=0,
        )


@pytest.mark.parametrize(
    ("days", "name"),
    [
        (-3, "expired"),
        (0, "expired"),
        (1, "<=30"),
        (30, "<=30"),
        (31, "<=60"),
        (90, "<=90"),
        (91, "<=180"),
        (180, "<=180"),
        (365, "<=365"),
        (366, ">365"),
    ],
)
def test_buckets(days, name):
    assert bucket(date.fromordinal(TODAY.toordinal() + days), TODAY) == name
    assert bucket(None, TODAY) == "no expiry"


def test_check_digit_of_known_gtins():
    assert gs1.check_digit("0950110153000") == 3
    assert gs1.check_digit("0400638133393") == 1  # GTIN 04006381333931


def test_raw_code_with_gs_separator():
    code = "]C1010950110153000311260115" + "17260415" + "10LOT-7" + gs1.GS + "3103025000"
    g = gs1.parse(code + "\r\n", TODAY)
    assert g.gtin == "09501101530003"
    assert (g.production, g.expiry) == (date(2026, 1, 15), date(2026, 4, 15))
    assert g.lot == "LOT-7"
    assert g.net_kg == pytest.approx(25.0)


def test_parentheses_form_count_best_before_and_day_zero():
    g = gs1.parse("(01)09501101530003(15)260200(37)40(10)A1", TODAY)
    assert g.best_before == date(2026, 2, 28)  # DD=00: last day of the month
    assert (g.count, g.lot) == (40, "A1")


def test_two_digit_years_use_the_50_year_window():
    assert gs1.parse("(17)991231", TODAY).expiry == date(1999, 12, 31)
    assert gs1.parse("(17)751231", TODAY).expiry == date(2075, 12, 31)


@pytest.mark.parametrize(
    ("code", "kg"),
    [
        ("(3100)001200", 1200.0),
        ("(3101)012345", 1234.5),
        ("(3103)025500", 25.5),
        ("(3105)012345", 0.12345),
    ],
)
def test_net_weight_ai_310n_puts_the_decimal_point_n_places_from_the_right(code, kg):
    assert gs1.parse(code, TODAY).net_kg == pytest.approx(kg)


def test_fnc1_as_gs_at_start_between_and_after_fields_and_after_fixed_ones():
    gs = gs1.GS
    code = gs + "0109501101530003" + "10B1" + gs + "37" + "12" + gs + "17260415" + gs
    g = gs1.parse(code, TODAY)
    assert (g.gtin, g.lot, g.count, g.expiry) == ("09501101530003", "B1", 12, date(2026, 4, 15))
    # Without the GS after the lot, the lot runs to the end of the code (GS1's own rule).
    assert gs1.parse("0109501101530003" + "10B1" + "3712", TODAY).lot == "B13712"


def test_encode_chooses_the_310n_decimals_that_fit():
    for kg in (0.5, 25.0, 999.999, 1000.0, 1200.0, 45_000.0, 999_999.0):
        code = gs1.encode(gs1.Gs1(net_kg=kg))
        assert gs1.parse(code, TODAY).net_kg == pytest.approx(kg), code
    assert gs1.encode(gs1.Gs1(net_kg=1200.0)) == "3102120000"
    with pytest.raises(BarcodeError, match="does not fit"):
        gs1.encode(gs1.Gs1(net_kg=1_000_000.0))


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("(01)09501101530004(10)A", "check digit 4, expected 3"),
        ("(01)0950110153(10)A", "needs 14 digits"),
        ("(99)ABC", "unknown application identifier"),
        ("0109501101530003" + "99XYZ", "unknown application identifier at position 17"),
        ("(17)261332", "month 13"),
        ("(17)260230", "day 30"),
        ("(37)12a", "digits only"),
        ("(10)AB CD", "does not allow"),
        ("", "empty code"),
        ("(10)" + "X" * 21, "1 to 20 characters"),
        ("01095011015300", "needs 14 digits"),
        ("(3106)001200", "unknown application identifier"),
        ("0109501101530003" + "37123456789", "1 to 8 characters"),
        ("(11)2601", "needs 6 digits"),
        ("(15)260132", "day 32"),
        ("]C1" + "17260415" + "1", "unknown application identifier at position 9"),
    ],
)
def test_unreadable_codes_say_what_was_wrong(code, message):
    with pytest.raises(BarcodeError, match=message):
        gs1.parse(code, TODAY)


@given(
    lot=st.text(alphabet="ABCXYZ0123456789-/", min_size=1, max_size=20),
    expiry=st.dates(min_value=date(1990, 1, 1), max_value=date(2070, 12, 31)),
    count=st.integers(1, 99_999_999),
    kg=st.integers(1, 999_999).map(lambda g: g / 1000),
    parentheses=st.booleans(),
)
def test_encode_then_parse_gives_the_same_fields(lot, expiry, count, kg, parentheses):
    fields = gs1.Gs1(gtin="09501101530003", lot=lot, expiry=expiry, count=count, net_kg=kg)
    assert gs1.parse(gs1.encode(fields, parentheses), TODAY) == fields
