"""Season economics: hand-computed costs, tiered CO2, week prices, TOML overrides and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.economics import (
    ALLOWED_KEYS,
    EconomicsError,
    Prices,
    SeasonAccounts,
    co2_cost,
    is_peak_hour,
    load_prices,
    merge_prices,
    price_per_piece_a,
    season_economics,
)


@pytest.fixture(scope="module")
def prices() -> Prices:
    return load_prices()


def _accounts(**over) -> SeasonAccounts:
    """A season with nothing in it; tests switch on one quantity at a time."""
    base = dict(
        days=115.0,
        harvest_week=np.array([34], dtype=np.int64),
        fruits_a_per_m2=np.array([0.0]),
        fruits_b_per_m2=np.array([0.0]),
        yield_a_kg_m2=0.0,
        yield_b_kg_m2=0.0,
        heat_kwh_m2=0.0,
        electricity_peak_kwh_m2=0.0,
        electricity_offpeak_kwh_m2=0.0,
        co2_kg_m2=0.0,
        water_l_m2=0.0,
        stem_days_per_m2=0.0,
        plants_per_m2=0.0,
    )
    base.update(over)
    return SeasonAccounts(**base)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my_prices.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_agc_price_list(prices: Prices) -> None:
    assert prices.heat_eur_per_mj == 0.0083
    assert prices.electricity_peak_eur_per_kwh == 0.08
    assert prices.electricity_offpeak_eur_per_kwh == 0.04
    assert (prices.peak_start_hour, prices.peak_end_hour) == (7.0, 23.0)
    assert (prices.co2_eur_per_kg, prices.co2_tier_kg_m2) == (0.08, 12.0)
    assert prices.co2_above_tier_eur_per_kg == 0.20
    assert prices.labour_eur_per_stem_day == 0.0085
    assert prices.class_b_factor == 0.5
    assert 1.0 <= prices.water_eur_per_m3 <= 1.5
    assert 0.5 <= prices.plant_eur_per_plant <= 1.0


def test_heat_100_kwh_costs_2_988(prices: Prices) -> None:
    out = season_economics(_accounts(heat_kwh_m2=100.0), prices)
    assert out["costs_eur_m2"]["heat"] == pytest.approx(2.988, abs=1e-9)
    assert out["net_profit_eur_m2"] == pytest.approx(-2.988, abs=1e-9)


def test_electricity_peak_and_offpeak(prices: Prices) -> None:
    out = season_economics(
        _accounts(electricity_peak_kwh_m2=100.0, electricity_offpeak_kwh_m2=50.0), prices
    )
    assert out["costs_eur_m2"]["electricity"] == pytest.approx(100 * 0.08 + 50 * 0.04)


@pytest.mark.parametrize(("kg", "eur"), [(0.0, 0.0), (10.0, 0.80), (12.0, 0.96), (15.0, 1.56)])
def test_co2_is_tiered(prices: Prices, kg: float, eur: float) -> None:
    assert co2_cost(kg, prices) == pytest.approx(eur)
    assert season_economics(_accounts(co2_kg_m2=kg), prices)["costs_eur_m2"]["co2"] == (
        pytest.approx(eur)
    )


def test_labour_water_plants(prices: Prices) -> None:
    out = season_economics(
        _accounts(stem_days_per_m2=2.5 * 115, water_l_m2=273.0, plants_per_m2=1.5), prices
    )
    costs = out["costs_eur_m2"]
    assert costs["labour"] == pytest.approx(round(2.5 * 115 * 0.0085, 4))  # 2.4438
    assert costs["water"] == pytest.approx(0.273 * prices.water_eur_per_m3)
    assert costs["plants"] == pytest.approx(1.5 * prices.plant_eur_per_plant)
    assert set(costs) == {"heat", "electricity", "co2", "water", "labour", "plants"}


def test_revenue_pays_class_b_at_half(prices: Prices) -> None:
    week = np.array([34, 46])
    out = season_economics(
        _accounts(
            harvest_week=week,
            fruits_a_per_m2=np.array([10.0, 10.0]),
            fruits_b_per_m2=np.array([4.0, 2.0]),
        ),
        prices,
    )
    # week 34 = 0.295, week 46 = 0.3875 in the shipped table
    expected = 10 * 0.295 + 10 * 0.3875 + 0.5 * (4 * 0.295 + 2 * 0.3875)
    assert out["revenue_eur_m2"] == pytest.approx(expected, abs=1e-4)
    assert out["net_profit_eur_m2"] == pytest.approx(expected, abs=1e-4)


def test_net_profit_adds_up_from_the_rounded_parts(prices: Prices) -> None:
    out = season_economics(
        _accounts(
            harvest_week=np.arange(34, 50),
            fruits_a_per_m2=np.full(16, 7.77777),
            fruits_b_per_m2=np.full(16, 0.33333),
            heat_kwh_m2=158.123,
            electricity_peak_kwh_m2=99.9,
            electricity_offpeak_kwh_m2=49.1,
            co2_kg_m2=9.81,
            water_l_m2=273.3,
            stem_days_per_m2=287.5,
            plants_per_m2=1.5,
        ),
        prices,
    )
    total = out["revenue_eur_m2"] - sum(out["costs_eur_m2"].values())
    assert out["net_profit_eur_m2"] == pytest.approx(total, abs=1e-9)
    assert out["net_profit_eur_m2"] == round(out["net_profit_eur_m2"], 4)


def test_price_table_in_agc_range_and_rising_aug_to_dec(prices: Prices) -> None:
    p = price_per_piece_a(prices, np.arange(33, 51))
    assert p.min() >= 0.295 and p.max() <= 0.3875
    assert np.all(np.diff(p) >= 0)
    assert p[0] == pytest.approx(0.295) and p[-1] == pytest.approx(0.3875)


def test_weeks_outside_table_take_nearest(prices: Prices) -> None:
    p = price_per_piece_a(prices, np.array([20, 30, 51, 52, 1, 3]))
    # summer weeks before the table take week 33; winter weeks wrap to week 50
    np.testing.assert_allclose(p, [0.295, 0.295, 0.3875, 0.3875, 0.3875, 0.3875])


def test_bad_week_refused(prices: Prices) -> None:
    with pytest.raises(EconomicsError, match=r"1\.\.53"):
        price_per_piece_a(prices, np.array([34, 54]))


def test_agc_reference_growers_fruit_value(prices: Prices) -> None:
    # Reference growers: 124 class-A fruits/m2 were worth ~EUR 43.9/m2 (mean ~0.35 per piece).
    weeks = np.repeat(np.arange(34, 50), 7)
    fruits = np.full(weeks.size, 124.0 / weeks.size)
    out = season_economics(
        _accounts(harvest_week=weeks, fruits_a_per_m2=fruits, fruits_b_per_m2=np.zeros(weeks.size)),
        prices,
    )
    assert 40.0 <= out["revenue_eur_m2"] <= 47.0
    assert 0.33 <= out["revenue_eur_m2"] / 124.0 <= 0.37


def test_peak_hours_default_7_to_23(prices: Prices) -> None:
    hours = np.array([0.0, 6.99, 7.0, 12.5, 22.99, 23.0, 23.5])
    np.testing.assert_array_equal(
        is_peak_hour(hours, prices), [False, False, True, True, True, False, False]
    )
    assert is_peak_hour(np.arange(24), prices).sum() == 16


def test_peak_window_over_midnight(prices: Prices) -> None:
    night = merge_prices(prices, {"peak_start_hour": 22, "peak_end_hour": 6})
    np.testing.assert_array_equal(
        is_peak_hour(np.array([21.0, 22.0, 3.0, 6.0]), night), [False, True, True, False]
    )


def test_toml_overrides_one_price(tmp_path: Path, prices: Prices) -> None:
    path = _write(tmp_path, "heat_eur_per_mj = 0.01\n")
    mine = load_prices(path)
    assert mine.heat_eur_per_mj == 0.01
    assert mine.co2_eur_per_kg == prices.co2_eur_per_kg
    assert mine.price_a_eur_per_piece == prices.price_a_eur_per_piece
    cost = season_economics(_accounts(heat_kwh_m2=100.0), mine)["costs_eur_m2"]["heat"]
    assert cost == pytest.approx(3.6)


def test_toml_overrides_one_week(tmp_path: Path) -> None:
    mine = load_prices(_write(tmp_path, "[price_a_eur_per_piece]\n40 = 0.5\n51 = 0.45\n"))
    p = price_per_piece_a(mine, np.array([39, 40, 41, 51]))
    np.testing.assert_allclose(p, [0.32, 0.5, 0.34, 0.45])


def test_unknown_key_names_file_key_and_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path, "heat_eur_per_kwh = 0.03\n")
    with pytest.raises(EconomicsError) as err:
        load_prices(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg and "heat_eur_per_kwh" in msg
    assert all(key in msg for key in ALLOWED_KEYS)


def test_unknown_week_key(tmp_path: Path) -> None:
    with pytest.raises(EconomicsError, match=r"price_a_eur_per_piece\.60"):
        load_prices(_write(tmp_path, "[price_a_eur_per_piece]\n60 = 0.3\n"))


@pytest.mark.parametrize(
    "text", ["co2_eur_per_kg = -0.1\n", "[price_a_eur_per_piece]\n40 = -0.3\n"]
)
def test_negative_price_refused(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(EconomicsError, match=">= 0") as err:
        load_prices(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('water_eur_per_m3 = "cheap"\n', "must be a number"),
        ("peak_end_hour = 25\n", r"0\.\.24"),
        ("heat_eur_per_mj = \n", "invalid TOML"),
    ],
)
def test_bad_values_refused(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(EconomicsError, match=match):
        load_prices(_write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EconomicsError, match="cannot read"):
        load_prices(tmp_path / "nope.toml")


def test_mismatched_harvest_arrays_refused(prices: Prices) -> None:
    acc = _accounts(harvest_week=np.array([34, 35]), fruits_a_per_m2=np.array([1.0]))
    with pytest.raises(EconomicsError, match="same length"):
        season_economics(acc, prices)


def test_non_finite_total_refused(prices: Prices) -> None:
    with pytest.raises(EconomicsError, match="heat_kwh_m2"):
        season_economics(_accounts(heat_kwh_m2=float("nan")), prices)
