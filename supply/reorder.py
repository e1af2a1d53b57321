"""Demand forecasts and reorder suggestions (pure functions; no database).

Demand comes from one of three places: the consumption history (issues per day), livestock head
counts times daily intake (defaults in `DAILY_INTAKE_KG`), or the greenhouse's own daily use
of water and fertiliser handed in as a number or a series. Supply does not import the simulator or
the controllers: the caller passes the figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from supply.errors import InputError

#: Daily feed intake per head, kg as fed: mid-range of the usual feeding-guide ranges (finishing
#: pig 1.7-2.2, laying hen 0.11-0.16). Lactating sow: the survey mean of 11.5 lb (range 8-15 lb,
#: 3.6-6.8 kg) in Aherne, "Feeding the Lactating Sow", eXtension 2010. The finishing-pig,
#: gestating-sow and laying-hen ranges, the dry-matter fractions and the broiler FCR below are
#: common extension figures still waiting for a primary source; set them per farm.
DAILY_INTAKE_KG: dict[str, float] = {
    "finishing_pig": 1.95,
    "lactating_sow": 5.2,
    "gestating_sow": 2.5,
    "laying_hen": 0.135,
}
#: Dry-matter intake as a fraction of body weight per day.
DM_FRACTION_OF_BODY_WEIGHT: dict[str, float] = {"beef_cow": 0.0205, "dairy_cow": 0.03}
#: Broiler feed conversion ratio (kg feed per kg gain) and a default daily gain.
BROILER_FCR = 1.65
BROILER_DAILY_GAIN_KG = 0.06
LIVESTOCK_KINDS: tuple[str, ...] = (
    *DAILY_INTAKE_KG,
    "broiler",
    *DM_FRACTION_OF_BODY_WEIGHT,
)


@dataclass(frozen=True)
class Herd:
    """A group of animals eating one feed: kind, head count and (for cattle) body weight."""

    kind: str
    head: int
    body_weight_kg: float | None = None
    intake_kg: float | None = None  # a farm's own figure per head and day wins over the default


def intake_per_head_kg(herd: Herd, feed_dm_fraction: float = 0.88) -> float:
    """Daily feed per head in kg as fed; cattle from body weight and the feed's dry matter."""
    if herd.intake_kg is not None:
        if herd.intake_kg <= 0:
            raise InputError(f"intake for {herd.kind} must be > 0 kg/day, got {herd.intake_kg}")
        return herd.intake_kg
    if herd.kind in DAILY_INTAKE_KG:
        return DAILY_INTAKE_KG[herd.kind]
    if herd.kind == "broiler":
        return BROILER_FCR * BROILER_DAILY_GAIN_KG
    if herd.kind in DM_FRACTION_OF_BODY_WEIGHT:
        if herd.body_weight_kg is None or herd.body_weight_kg <= 0:
            raise InputError(f"{herd.kind} needs a body weight in kg (> 0) to forecast intake")
        if not 0 < feed_dm_fraction <= 1:
            raise InputError(f"feed dry matter fraction must be in (0, 1], got {feed_dm_fraction}")
        dm = DM_FRACTION_OF_BODY_WEIGHT[herd.kind] * herd.body_weight_kg
        return dm / feed_dm_fraction
    raise InputError(f"unknown livestock kind {herd.kind!r}; known: {', '.join(LIVESTOCK_KINDS)}")


def demand_from_livestock(herds: Iterable[Herd], feed_dm_fraction: float = 0.88) -> float:
    """Daily demand in kg: sum over herds of head count x intake per head."""
    total = 0.0
    for herd in herds:
        if herd.head < 0:
            raise InputError(f"head count of {herd.kind} must be >= 0, got {herd.head}")
        total += herd.head * intake_per_head_kg(herd, feed_dm_fraction)
    return total


def demand_from_history(issues: Iterable[tuple[date, float]], today: date, days: int) -> float:
    """Mean daily consumption over the `days` days before `today` from (day, quantity) issues."""
    if days <= 0:
        raise InputError(f"history window must be > 0 days, got {days}")
    total = 0.0
    for day, qty in issues:
        if 0 < (today - day).days <= days:
            total += abs(qty)
    return total / days


def demand_from_use(daily_use: float | Sequence[float]) -> float:
    """Daily demand from a measured daily use: a number, or the mean of a series of days."""
    if isinstance(daily_use, int | float):
        values = [float(daily_use)]
    else:
        values = [float(v) for v in daily_use]
    if not values:
        raise InputError("daily use series is empty; give at least one day")
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise InputError("daily use must be finite and >= 0 on every day")
    return sum(values) / len(values)


def fertiliser_demand_kg(water_l_per_day: float | Sequence[float], dose_g_per_l: float) -> float:
    """Daily fertiliser in kg from the irrigation water given per day and the dose in g/l."""
    if dose_g_per_l < 0:
        raise InputError(f"fertiliser dose must be >= 0 g/l, got {dose_g_per_l}")
    return demand_from_use(water_l_per_day) * dose_g_per_l / 1000.0


@dataclass(frozen=True)
class Suggestion:
    """What to order for one product and why."""

    product: str
    daily_demand: float
    position: float  # on hand (not allocated) + on order
    reorder_point: float
    order_up_to: float
    qty: float  # what to order now: a multiple of the pack size, 0 when above the reorder point
    cap: float | None  # most of a new order used before it expires; None without shelf life
    note: str = ""


def suggest(
    *,
    product: str,
    daily_demand: float,
    on_hand: float,
    on_order: float,
    lead_time_days: float,
    safety_stock: float,
    pack_size: float,
    max_stock: float | None = None,
    review_days: float = 14.0,
    shelf_life_days: int | None = None,
    removal_days: int = 0,
) -> Suggestion:
    """Reorder point = demand x lead time + safety stock; below it, order up to the maximum.

    The maximum is `max_stock`, or the reorder point plus `review_days` of demand. The quantity is
    rounded up to whole packs, then capped, rounded down to whole packs, at what is used before it
    reaches its removal date: FEFO first uses the stock still there when the order arrives
    (position - demand x lead time), so the cap is demand x (shelf life - removal margin) minus
    that stock. Without use (demand 0) a position below the safety stock is topped up to it in
    whole packs, with no expiry cap (nothing says how fast it will be used).
    """
    for name, value in (
        ("daily demand", daily_demand),
        ("lead time", lead_time_days),
        ("safety stock", safety_stock),
        ("on hand", on_hand),
        ("on order", on_order),
        ("review period", review_days),
    ):
        if not (math.isfinite(value) and value >= 0):
            raise InputError(f"{product}: {name} must be finite and >= 0, got {value}")
    if not (math.isfinite(pack_size) and pack_size > 0):
        raise InputError(f"{product}: pack size must be > 0, got {pack_size}")
    position = on_hand + on_order
    reorder_point = daily_demand * lead_time_days + safety_stock
    order_up_to = max_stock if max_stock is not None else reorder_point + daily_demand * review_days
    cap = None
    if shelf_life_days is not None and daily_demand > 0:
        ahead = max(position - daily_demand * lead_time_days, 0.0)
        cap = max(daily_demand * max(shelf_life_days - removal_days, 0) - ahead, 0.0)
    if position > reorder_point or (position == reorder_point and daily_demand == 0):
        return Suggestion(product, daily_demand, position, reorder_point, order_up_to, 0.0, cap)
    need = max(order_up_to - position, 0.0)
    qty = math.ceil(need / pack_size - 1e-9) * pack_size
    note = ""
    if daily_demand == 0:
        # no use to forecast from: the safety stock is the grower's own floor, so top it up
        # (whole packs) and leave the expiry cap out, as nothing says how fast it is used
        note = "no use recorded: tops up to the safety stock"
    elif cap is not None and qty > cap:
        qty = math.floor(cap / pack_size + 1e-9) * pack_size
        note = "capped so the order is used before it expires"
        if qty == 0:
            note = "one pack is more than is used before it expires; order less often or smaller"
    return Suggestion(
        product, daily_demand, position, reorder_point, order_up_to, float(qty), cap, note
    )
