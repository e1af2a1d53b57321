"""GS1-128 codes as a keyboard-wedge scanner types them.

Two spellings are read: the raw element string, where FNC1 (the separator after a
variable-length field) arrives as the GS character `\\x1d` (a `]C1` symbology prefix is
dropped), and the human-readable form with the identifiers in parentheses,
`(01)09501101530003(17)260131(10)AB12`. Application identifiers read: 01 GTIN, 10 lot,
11 production date, 15 best-before, 17 expiry, 37 count, 310n net weight in kg.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from supply.errors import BarcodeError

GS = "\x1d"
_KNOWN = "01, 10, 11, 15, 17, 37, 3100-3105"
# AI -> (fixed length or None for variable, maximum length, charset)
_FIELDS: dict[str, tuple[int | None, int, str]] = {
    "01": (14, 14, "digits"),
    "10": (None, 20, "text"),
    "11": (6, 6, "digits"),
    "15": (6, 6, "digits"),
    "17": (6, 6, "digits"),
    "37": (None, 8, "digits"),
    **{f"310{n}": (6, 6, "digits") for n in range(6)},
}
_DATE_NAMES = {"11": "production date", "15": "best-before date", "17": "expiry date"}
# GS1 "invariant" characters allowed in AI 10 (the 82-character set).
_TEXT = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$")


@dataclass(frozen=True)
class Gs1:
    """What a code said; fields it did not carry are `None`."""

    gtin: str | None = None
    lot: str | None = None
    production: date | None = None
    best_before: date | None = None
    expiry: date | None = None
    count: int | None = None
    net_kg: float | None = None


def is_digits(text: str) -> bool:
    """True for ASCII 0-9 only: `str.isdigit` also passes superscripts and other scripts' digits,
    which a barcode never holds (and `int` turns some into other numbers, some into errors)."""
    return bool(text) and text.isascii() and text.isdigit()


def check_digit(digits: str) -> int:
    """GS1 mod-10 check digit of `digits` (everything but the check digit itself)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def _date(ai: str, text: str, today: date) -> date:
    yy, mm, dd = int(text[0:2]), int(text[2:4]), int(text[4:6])
    # GS1 General Specifications 7.12: the century that puts the year within -49..+50 of today.
    year = today.year // 100 * 100 + yy
    if year - today.year > 50:
        year -= 100
    elif year - today.year < -49:
        year += 100
    if not 1 <= mm <= 12:
        raise BarcodeError(
            f"AI {ai} ({_DATE_NAMES[ai]}): month {mm:02d} in {text!r} is not 01-12 (YYMMDD)"
        )
    last = calendar.monthrange(year, mm)[1]
    if dd == 0:  # DD=00 means the last day of the month
        dd = last
    if dd > last:
        raise BarcodeError(
            f"AI {ai} ({_DATE_NAMES[ai]}): day {dd:02d} in {text!r} does not exist (YYMMDD)"
        )
    return date(year, mm, dd)


def _split_parentheses(code: str) -> list[tuple[str, str]]:
    parts = re.findall(r"\(([^()]*)\)([^(]*)", code)
    if not parts or "".join(f"({a}){v}" for a, v in parts) != code:
        raise BarcodeError(
            f"cannot read {code!r}: in the parentheses form every value follows an (AI)"
        )
    return [(ai, value) for ai, value in parts]


def _ai_at(code: str, pos: int) -> str:
    for length in (2, 4):
        ai = code[pos : pos + length]
        if ai in _FIELDS:
            return ai
    shown = code[pos : pos + 4]
    raise BarcodeError(
        f"unknown application identifier at position {pos + 1} ({shown!r}...); "
        f"readable AIs: {_KNOWN}"
    )


def _split_raw(code: str) -> list[tuple[str, str]]:
    pairs = []
    pos = 0
    while pos < len(code):
        if code[pos] == GS:
            pos += 1
            continue
        ai = _ai_at(code, pos)
        pos += len(ai)
        fixed = _FIELDS[ai][0]
        if fixed is not None:
            value = code[pos : pos + fixed]
            pos += fixed
        else:
            end = code.find(GS, pos)
            end = len(code) if end < 0 else end
            value = code[pos:end]
            pos = end
        pairs.append((ai, value))
    return pairs


def parse(code: str, today: date) -> Gs1:
    """Read a scanned GS1-128 code; raise `BarcodeError` saying what was wrong.

    `today` chooses the century of two-digit years (GS1's 50-year window).
    """
    code = code.strip("\r\n\t ")
    if code.startswith("]C1"):
        code = code[3:]
    if not code:
        raise BarcodeError("empty code: scan the GS1-128 label again")
    pairs = _split_parentheses(code) if code.startswith("(") else _split_raw(code)
    fields: dict[str, object] = {}
    for ai, value in pairs:
        if ai not in _FIELDS:
            raise BarcodeError(f"unknown application identifier ({ai}); readable AIs: {_KNOWN}")
        fixed, maximum, charset = _FIELDS[ai]
        if fixed is not None and len(value) != fixed:
            raise BarcodeError(f"AI {ai} needs {fixed} digits, got {len(value)} ({value!r})")
        if not value or len(value) > maximum:
            raise BarcodeError(f"AI {ai} needs 1 to {maximum} characters, got {len(value)}")
        if charset == "digits" and not is_digits(value):
            raise BarcodeError(f"AI {ai} must be digits only, got {value!r}")
        if charset == "text" and not _TEXT.match(value):
            raise BarcodeError(f"AI {ai} has characters GS1 does not allow: {value!r}")
        if ai == "01":
            expected = check_digit(value[:13])
            if int(value[13]) != expected:
                raise BarcodeError(
                    f"GTIN {value} has check digit {value[13]}, expected {expected}; "
                    "rescan or type the code again"
                )
            fields["gtin"] = value
        elif ai == "10":
            fields["lot"] = value
        elif ai in _DATE_NAMES:
            key = {"11": "production", "15": "best_before", "17": "expiry"}[ai]
            fields[key] = _date(ai, value, today)
        elif ai == "37":
            fields["count"] = int(value)
        else:
            fields["net_kg"] = int(value) / 10 ** int(ai[3])
    return Gs1(**fields)  # type: ignore[arg-type]


def encode(fields: Gs1, parentheses: bool = False) -> str:
    """Write `fields` as a scanner types them (fixed fields first, GS after variable ones)."""
    items: list[tuple[str, str]] = []
    if fields.gtin is not None:
        items.append(("01", fields.gtin))
    for ai, d in (("11", fields.production), ("15", fields.best_before), ("17", fields.expiry)):
        if d is not None:
            items.append((ai, d.strftime("%y%m%d")))
    if fields.net_kg is not None:
        # As many decimals (310n, n <= 3 here) as fit the six digits: 25.5 kg as 3103 025500,
        # a 1,200 kg big bag as 3102 120000.
        n = next((n for n in (3, 2, 1, 0) if round(fields.net_kg * 10**n) < 1_000_000), None)
        if n is None:
            raise BarcodeError(f"net weight {fields.net_kg} kg does not fit AI 310n (6 digits)")
        items.append((f"310{n}", f"{round(fields.net_kg * 10**n):06d}"))
    if fields.count is not None:
        items.append(("37", str(fields.count)))
    if fields.lot is not None:
        items.append(("10", fields.lot))
    if parentheses:
        return "".join(f"({ai}){v}" for ai, v in items)
    out = ""
    for i, (ai, v) in enumerate(items):
        out += ai + v
        if _FIELDS[ai][0] is None and i < len(items) - 1:
            out += GS
    return out
