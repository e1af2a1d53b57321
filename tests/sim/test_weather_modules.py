"""The weather modules depend one way: the readers never import the module that re-exports them."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("module", "must_not_load"),
    [
        ("sim.local_time", ["sim.weather_series", "sim.weather_files", "sim.weather"]),
        ("sim.weather_series", ["sim.weather_files", "sim.weather"]),
        ("sim.weather_files", ["sim.weather"]),
        ("sim.synthetic_weather", ["sim.weather_files", "sim.weather"]),
    ],
)
def test_a_weather_part_loads_without_the_parts_above_it(
    module: str, must_not_load: list[str]
) -> None:
    listed = ",".join(must_not_load)
    code = f"import sys, {module}; print([m for m in {listed!r}.split(',') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sim_weather_reexports_the_parts_it_gathers() -> None:
    import sim.weather as weather
    import sim.weather_files as files
    import sim.weather_series as series

    assert weather.Weather is series.Weather
    assert weather.WeatherError is series.WeatherError
    assert weather.load_weather is files.load_weather
    assert [n for n in weather.__all__ if not hasattr(weather, n)] == []
