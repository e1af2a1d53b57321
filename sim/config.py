"""Greenhouse configuration: the shipped AGC-compartment defaults plus a user TOML on top.

Every numeric parameter is addressed as "section.key" (e.g. "heating.boiler_capacity_w_m2").
The simulator kernel reads them from a flat float array in `PARAM_NAMES` order.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np


class ConfigError(ValueError):
    """A greenhouse configuration that cannot be used; the message names file and key."""


def _read_defaults() -> dict[str, dict[str, Any]]:
    text = resources.files("sim").joinpath("greenhouse.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


_DEFAULTS = _read_defaults()

#: Flat names of every numeric parameter, in the order of the kernel's parameter array.
PARAM_NAMES: tuple[str, ...] = tuple(
    f"{section}.{key}" for section, table in _DEFAULTS.items() if section != "site" for key in table
)
PARAM_INDEX: dict[str, int] = {name: i for i, name in enumerate(PARAM_NAMES)}

# Parameters that may be zero (everything else numeric must be strictly positive).
_MAY_BE_ZERO = {
    "structure.soil_exchange_w_m2_k",
    "structure.soil_deep_c",
    "screens.blackout_transmission",
    "fogging.capacity_g_m2_h",
    "co2.dosing_capacity_kg_m2_h",
    "lamps.par_umol_m2_s",
    "irrigation.slab_initial_l_m2",
}
_FRACTIONS = {
    "structure.cover_transmission",
    "structure.sun_to_air_fraction",
    "screens.energy_saving",
    "screens.energy_transmission",
    "screens.blackout_saving",
    "screens.blackout_transmission",
    "lamps.convective_fraction",
    "heating.pipe_emissivity",
    "crop.extinction_coefficient",
    "crop.fruit_dm_content",
    "crop.growth_efficiency",
}


@dataclass(frozen=True)
class GreenhouseConfig:
    """A complete, validated greenhouse configuration."""

    site_name: str
    latitude_deg: float
    longitude_deg: float
    timezone: str
    values: dict[str, float] = field(repr=False)
    source: str = "defaults"

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def to_array(self) -> np.ndarray:
        """The parameters as a float array in `PARAM_NAMES` order, for the kernel."""
        return np.array([self.values[name] for name in PARAM_NAMES], dtype=np.float64)


def replace_values(config: GreenhouseConfig, changes: dict[str, float]) -> GreenhouseConfig:
    """A copy of `config` with the given "section.key" values replaced, validated."""
    values = dict(config.values)
    for name, value in changes.items():
        values[name] = check_param(name, value, config.source)
    return GreenhouseConfig(
        config.site_name,
        config.latitude_deg,
        config.longitude_deg,
        config.timezone,
        values,
        config.source,
    )


def check_param(name: str, value: Any, source: str) -> float:
    """Return `value` as a float if greenhouse parameter `name` may take it, else raise.

    ConfigError's message starts with `source` and says what is allowed: an unknown name lists
    the keys of its section (or the sections), a bad value the parameter's range.
    """
    if name not in PARAM_INDEX:
        section = name.split(".")[0]
        keys = [p.split(".", 1)[1] for p in PARAM_NAMES if p.split(".")[0] == section]
        allowed = (
            f"allowed in [{section}]: {', '.join(keys)}"
            if keys
            else f"write section.key; sections: {', '.join(s for s in _DEFAULTS if s != 'site')}"
        )
        raise ConfigError(f"{source}: unknown greenhouse parameter {name!r}; {allowed}")
    return _check_value(name, value, source)


def _check_value(name: str, value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source}: {name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{source}: {name} must be finite, got {value}")
    if name in _FRACTIONS and not 0.0 <= value <= 1.0:
        raise ConfigError(f"{source}: {name} = {value} must lie in 0..1")
    if name in _MAY_BE_ZERO:
        if value < 0 and name != "structure.soil_deep_c":
            raise ConfigError(f"{source}: {name} = {value} must not be negative")
    elif value <= 0:
        raise ConfigError(f"{source}: {name} = {value} must be positive")
    return value


def load_config(path: str | Path | None = None) -> GreenhouseConfig:
    """Load the shipped defaults, then the user's TOML file on top (any subset of keys).

    Raises ConfigError naming the file and the key for unknown sections or keys, non-numbers,
    and values outside their physical range.
    """
    user: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            user = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{source}: no such config file") from None
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read the config file ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{source}: not UTF-8 text; save the config as UTF-8") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML ({exc})") from None
    if path is not None and not user:
        raise ConfigError(
            f"{source} is empty: give at least one [section] key = value, or no config file "
            "for the defaults"
        )
    merged = {section: dict(table) for section, table in _DEFAULTS.items()}
    for section, table in user.items():
        if section not in merged:
            raise ConfigError(
                f"{source}: unknown section [{section}]; allowed: {', '.join(merged)}"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: [{section}] must be a table")
        for key, value in table.items():
            if key not in merged[section]:
                raise ConfigError(
                    f"{source}: unknown key {section}.{key}; "
                    f"allowed in [{section}]: {', '.join(merged[section])}"
                )
            merged[section][key] = value
    site = merged["site"]
    values = {
        name: _check_value(name, merged[name.split(".")[0]][name.split(".")[1]], source)
        for name in PARAM_NAMES
    }
    lat, lon = float(site["latitude_deg"]), float(site["longitude_deg"])
    if not -90 <= lat <= 90 or not -180 <= lon <= 180:
        raise ConfigError(f"{source}: site latitude/longitude out of range ({lat}, {lon})")
    return GreenhouseConfig(str(site["name"]), lat, lon, str(site["timezone"]), values, source)
