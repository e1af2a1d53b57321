"""Lot dates from shelf life and margins, and expiry buckets.

The dates follow Odoo's lot model (expiration = production or receipt + shelf life; removal and
alert dates = expiration minus their margins); the buckets are OpenBoxes' (expired, <=30, <=60,
<=90, <=180, <=365 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from supply.errors import InputError

#: Upper bounds in days of the expiry buckets; a lot falls in the first bucket that holds it.
BUCKETS: tuple[tuple[str, int], ...] = (
    ("<=30", 30),
    ("<=60", 60),
    ("<=90", 90),
    ("<=180", 180),
    ("<=365", 365),
)
BUCKET_NAMES: tuple[str, ...] = ("expired", *(b for b, _ in BUCKETS), ">365", "no expiry")


@dataclass(frozen=True)
class LotDates:
    """Every date of a lot; `None` where the product does not expire."""

    production: date | None
    expiry: date | None
    best_before: date | None
    removal: date | None
    alert: date | None


def lot_dates(
    *,
    production: date | None,
    expiry: date | None,
    received: date,
    shelf_life_days: int | None,
    alert_days: int,
    removal_days: int,
    best_before_days: int,
    best_before: date | None = None,
) -> LotDates:
    """Derive a lot's dates: expiry = (production or receipt) + shelf life unless given.

    Best-before, removal and alert dates are the expiry minus the product's margins; a
    best-before date printed on the label wins over the derived one.
    """
    if expiry is None and shelf_life_days is not None:
        expiry = (production or received) + timedelta(days=shelf_life_days)
    if expiry is not None and production is not None and expiry < production:
        raise InputError(
            f"expiry date {expiry.isoformat()} is before production date "
            f"{production.isoformat()}; the expiry must be on or after production"
        )
    if expiry is None:
        return LotDates(production, None, best_before, None, None)
    return LotDates(
        production=production,
        expiry=expiry,
        best_before=best_before or expiry - timedelta(days=best_before_days),
        removal=expiry - timedelta(days=removal_days),
        alert=expiry - timedelta(days=alert_days),
    )


def bucket(expiry: date | None, today: date) -> str:
    """Name of the expiry bucket of a lot expiring on `expiry`, seen on `today`."""
    if expiry is None:
        return "no expiry"
    days = (expiry - today).days
    if days <= 0:
        return "expired"
    for name, limit in BUCKETS:
        if days <= limit:
            return name
    return ">365"


def parse_date(text: str, what: str) -> date:
    """Parse an ISO `YYYY-MM-DD` date or raise `InputError` naming `what`."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InputError(f"{what}: {text!r} is not a date; use YYYY-MM-DD") from None
