"""NAME=VALUE lists typed by people, shared by the CLI, what-if variants and supply orders."""

from __future__ import annotations

import pytest

from app.pairs import split_pairs


def test_semicolons_commas_and_spaces_all_separate():
    text = " heat_c = 21 ; co2_ppm=1000,lamps_pct=50;; "
    assert split_pairs(text, "NAME=VALUE", "heat_c=21") == [
        ("heat_c", "21"),
        ("co2_ppm", "1000"),
        ("lamps_pct", "50"),
    ]


@pytest.mark.parametrize("bad", ["heat_c", "=21", "heat_c="])
def test_a_part_without_name_or_value_names_the_form(bad):
    with pytest.raises(ValueError, match=rf"'{bad}': write NAME=VALUE, e.g. heat_c=21"):
        split_pairs(f"co2_ppm=900; {bad}", "NAME=VALUE", "heat_c=21")
