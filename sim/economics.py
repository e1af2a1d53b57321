"""AGC-style season economics: fruit revenue minus heat, electricity, CO2, water, labour, plants.

Prices live in TOML (shipped defaults in ``sim/prices.toml``); a user file overrides any subset.
All money is EUR per m2 of greenhouse floor.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

MJ_PER_KWH = 3.6
WEEK_TABLE_KEY = "price_a_eur_per_piece"
_ISO_WEEKS = 53
_DECIMALS = 4


class EconomicsError(ValueError):
    """Bad price file, bad price value, or inconsistent season accounts."""


@dataclass(frozen=True)
class Prices:
    """One price table; every field is a key of the price TOML (units in the name)."""

    # (ISO week, EUR per class-A piece), sorted by week; a tuple so Prices stays hashable.
    price_a_eur_per_piece: tuple[tuple[int, float], ...]
    class_b_factor: float
    heat_eur_per_mj: float
    electricity_peak_eur_per_kwh: float
    electricity_offpeak_eur_per_kwh: float
    peak_start_hour: float
    peak_end_hour: float
    co2_eur_per_kg: float
    co2_tier_kg_m2: float
    co2_above_tier_eur_per_kg: float
    water_eur_per_m3: float
    labour_eur_per_stem_day: float
    plant_eur_per_plant: float


SCALAR_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Prices) if f.name != WEEK_TABLE_KEY)
ALLOWED_KEYS: tuple[str, ...] = (*SCALAR_KEYS, WEEK_TABLE_KEY)
_HOUR_KEYS = ("peak_start_hour", "peak_end_hour")


@dataclass(frozen=True)
class SeasonAccounts:
    """Physical totals of one simulated season, per m2, as produced by the simulator."""

    days: float
    harvest_week: np.ndarray  # ISO week of each daily harvest record
    fruits_a_per_m2: np.ndarray  # pieces harvested per record, class A
    fruits_b_per_m2: np.ndarray
    yield_a_kg_m2: float
    yield_b_kg_m2: float
    heat_kwh_m2: float
    electricity_peak_kwh_m2: float
    electricity_offpeak_kwh_m2: float
    co2_kg_m2: float
    water_l_m2: float
    stem_days_per_m2: float  # integral of stem density over the season (stems/m2 x days)
    plants_per_m2: float


def _check_number(value: Any, key: str, source: str) -> float:
    """Return value as a finite non-negative float or raise a one-line EconomicsError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EconomicsError(f"{source}: {key} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise EconomicsError(f"{source}: {key} must be a finite number >= 0, got {value!r}")
    return value


def _parse_week_table(table: Any, source: str) -> dict[int, float]:
    """Validate a {week: price} TOML table (keys are strings '1'..'53')."""
    if not isinstance(table, Mapping):
        raise EconomicsError(f"{source}: {WEEK_TABLE_KEY} must be a table of week = price")
    out: dict[int, float] = {}
    for raw_week, raw_price in table.items():
        try:
            week = int(raw_week)
        except (TypeError, ValueError):
            week = 0
        if not 1 <= week <= _ISO_WEEKS or str(raw_week).strip() != str(week):
            raise EconomicsError(
                f"{source}: unknown key {WEEK_TABLE_KEY}.{raw_week}; allowed: ISO weeks 1..53"
            )
        out[week] = _check_number(raw_price, f"{WEEK_TABLE_KEY}.{week}", source)
    return out


def merge_prices(base: Prices, overrides: Mapping[str, Any], source: str = "<overrides>") -> Prices:
    """Return base with the keys of overrides replaced (week prices merged week by week).

    source names where overrides came from (a file path) for error messages.
    """
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in ALLOWED_KEYS:
            raise EconomicsError(
                f"{source}: unknown key {key!r}; allowed: {', '.join(ALLOWED_KEYS)}"
            )
        if key == WEEK_TABLE_KEY:
            weeks = dict(base.price_a_eur_per_piece)
            weeks.update(_parse_week_table(value, source))
            changes[key] = tuple(sorted(weeks.items()))
        else:
            changes[key] = _check_number(value, key, source)
    for key in _HOUR_KEYS:
        if key in changes and changes[key] > 24:
            raise EconomicsError(f"{source}: {key} must be an hour 0..24, got {changes[key]!r}")
    return replace(base, **changes)


def _read_toml(path: Path, source: str) -> dict[str, Any]:
    """Parse a TOML file, turning I/O and syntax problems into one-line EconomicsErrors."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise EconomicsError(f"{source}: cannot read price file ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise EconomicsError(f"{source}: invalid TOML ({exc})") from exc
    except UnicodeDecodeError:
        raise EconomicsError(f"{source}: not UTF-8 text; save the price file as UTF-8") from None


@lru_cache(maxsize=1)
def _default_prices() -> Prices:
    """Load the shipped sim/prices.toml once; every key must be present there."""
    resource = resources.files("sim") / "prices.toml"
    source = "sim/prices.toml"
    with resources.as_file(resource) as path:
        data = _read_toml(path, source)
    missing = [k for k in ALLOWED_KEYS if k not in data]
    if missing:
        raise EconomicsError(f"{source}: missing keys {', '.join(missing)}")
    blank = Prices(price_a_eur_per_piece=(), **{k: 0.0 for k in SCALAR_KEYS})
    prices = merge_prices(blank, data, source)
    if not prices.price_a_eur_per_piece:
        raise EconomicsError(f"{source}: {WEEK_TABLE_KEY} is empty")
    return prices


def load_prices(path: str | Path | None = None) -> Prices:
    """Return the shipped default prices, overridden by the keys of the TOML file at path.

    None gives the defaults. Unknown keys, non-numbers and negative prices raise EconomicsError.
    """
    defaults = _default_prices()
    if path is None:
        return defaults
    path = Path(path)
    table = _read_toml(path, str(path))
    if not table:
        raise EconomicsError(
            f"{path} is empty: give at least one price, or no price file for the defaults"
        )
    return merge_prices(defaults, table, str(path))


@lru_cache(maxsize=32)
def _dense_week_table(table: tuple[tuple[int, float], ...]) -> np.ndarray:
    """Price for every ISO week 0..53 (index = week), filling gaps with the circularly nearest week.

    Circular so that a winter season (weeks 51, 52, 1, 2) takes the December prices, not August's.
    Ties go to the earlier table week.
    """
    if not table:
        raise EconomicsError(f"{WEEK_TABLE_KEY} is empty; give at least one week")
    weeks = np.array([w for w, _ in table], dtype=np.int64)
    values = np.array([p for _, p in table], dtype=np.float64)
    all_weeks = np.arange(_ISO_WEEKS + 1)[:, None]
    dist = np.abs(all_weeks - weeks[None, :])
    dist = np.minimum(dist, 52 - dist)
    dense = values[np.argmin(dist, axis=1)]
    dense.setflags(write=False)
    return dense


def price_per_piece_a(prices: Prices, week: np.ndarray) -> np.ndarray:
    """EUR per class-A piece for each ISO week in week (weeks outside the table: nearest)."""
    w = np.asarray(week)
    bad = (w < 1) | (w > _ISO_WEEKS) | (w != np.round(w))
    if np.any(bad):
        raise EconomicsError(f"ISO weeks must be whole numbers 1..53, got {w[bad].ravel()[:5]}")
    return _dense_week_table(prices.price_a_eur_per_piece)[w.astype(np.int64)]


def is_peak_hour(local_hour: np.ndarray, prices: Prices) -> np.ndarray:
    """True where the site-local hour (0 <= h < 24, fractional allowed) is in the peak tariff.

    Peak is [peak_start_hour, peak_end_hour); a start after the end means a window over midnight.
    """
    h = np.asarray(local_hour, dtype=np.float64)
    start, end = prices.peak_start_hour, prices.peak_end_hour
    if start <= end:
        return (h >= start) & (h < end)
    return (h >= start) | (h < end)


def co2_cost(co2_kg_m2: float, prices: Prices) -> float:
    """Tiered CO2 cost, EUR/m2: the first co2_tier_kg_m2 at the base price, the rest higher."""
    base = min(co2_kg_m2, prices.co2_tier_kg_m2)
    above = max(co2_kg_m2 - prices.co2_tier_kg_m2, 0.0)
    return base * prices.co2_eur_per_kg + above * prices.co2_above_tier_eur_per_kg


def _check_accounts(acc: SeasonAccounts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the harvest arrays as flat numpy arrays after checking lengths and finiteness."""
    week = np.asarray(acc.harvest_week).ravel()
    a = np.asarray(acc.fruits_a_per_m2, dtype=np.float64).ravel()
    b = np.asarray(acc.fruits_b_per_m2, dtype=np.float64).ravel()
    if not (week.size == a.size == b.size):
        raise EconomicsError(
            f"season accounts: harvest_week ({week.size}), fruits_a_per_m2 ({a.size}) and "
            f"fruits_b_per_m2 ({b.size}) must have the same length"
        )
    for name in (
        "heat_kwh_m2",
        "electricity_peak_kwh_m2",
        "electricity_offpeak_kwh_m2",
        "co2_kg_m2",
        "water_l_m2",
        "stem_days_per_m2",
        "plants_per_m2",
    ):
        if not math.isfinite(getattr(acc, name)):
            raise EconomicsError(f"season accounts: {name} is not finite")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise EconomicsError("season accounts: harvested fruit counts must be finite")
    return week, a, b


def season_economics(acc: SeasonAccounts, prices: Prices) -> dict[str, Any]:
    """Revenue, costs by kind and net profit of one season, EUR/m2, rounded to 4 decimals.

    Returns {"revenue_eur_m2", "costs_eur_m2": {heat, electricity, co2, water, labour, plants},
    "net_profit_eur_m2"}; net profit is computed from the rounded parts so the JSON adds up.
    """
    week, a, b = _check_accounts(acc)
    price_a = price_per_piece_a(prices, week)
    revenue = float(np.dot(a, price_a) + prices.class_b_factor * np.dot(b, price_a))
    costs = {
        "heat": acc.heat_kwh_m2 * MJ_PER_KWH * prices.heat_eur_per_mj,
        "electricity": acc.electricity_peak_kwh_m2 * prices.electricity_peak_eur_per_kwh
        + acc.electricity_offpeak_kwh_m2 * prices.electricity_offpeak_eur_per_kwh,
        "co2": co2_cost(acc.co2_kg_m2, prices),
        "water": acc.water_l_m2 / 1000.0 * prices.water_eur_per_m3,
        "labour": acc.stem_days_per_m2 * prices.labour_eur_per_stem_day,
        "plants": acc.plants_per_m2 * prices.plant_eur_per_plant,
    }
    costs = {k: round(float(v), _DECIMALS) for k, v in costs.items()}
    revenue = round(revenue, _DECIMALS)
    net = round(revenue - sum(costs.values()), _DECIMALS)
    return {"revenue_eur_m2": revenue, "costs_eur_m2": costs, "net_profit_eur_m2": net}
