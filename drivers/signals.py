"""The one vocabulary of signal names used everywhere in Serra.

Every sensor, actuator and weather quantity has one canonical name with its unit in the name.
The same name is used in register maps, CSV columns, database channels, the GUI and the docs.
The ordered tuples below also fix the column order of the arrays the simulator and the climate
computer exchange, so `MEASUREMENTS.index("tair_c")` is the column of air temperature.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Signal:
    """A canonical signal: name (with unit), unit, kind, plausible physical range, meaning."""

    name: str
    unit: str
    kind: str
    lo: float
    hi: float
    description: str


_SIGNALS = (
    # inside climate, as sensors measure it
    Signal("tair_c", "C", "climate", -20.0, 60.0, "greenhouse air temperature"),
    Signal("rh_pct", "%", "climate", 0.0, 100.0, "greenhouse relative humidity"),
    Signal("co2_ppm", "ppm", "climate", 0.0, 5000.0, "greenhouse CO2 concentration"),
    Signal("par_umol_m2_s", "umol/m2/s", "climate", 0.0, 3000.0, "PAR above the canopy"),
    Signal("hd_g_m3", "g/m3", "climate", 0.0, 40.0, "humidity deficit of the greenhouse air"),
    Signal("pipe_c", "C", "climate", 0.0, 110.0, "heating rail water temperature"),
    Signal("pipe_grow_c", "C", "climate", 0.0, 110.0, "grow pipe water temperature"),
    Signal("heat_w_m2", "W/m2", "climate", 0.0, 1000.0, "heat delivered by both pipe circuits"),
    # outside weather
    Signal("tout_c", "C", "weather", -40.0, 50.0, "outside air temperature"),
    Signal("rhout_pct", "%", "weather", 0.0, 100.0, "outside relative humidity"),
    Signal("iglob_w_m2", "W/m2", "weather", 0.0, 1500.0, "outside global radiation"),
    Signal("wind_m_s", "m/s", "weather", 0.0, 70.0, "outside wind speed"),
    Signal("wind_dir_deg", "deg", "weather", 0.0, 360.0, "outside wind direction"),
    Signal("rain", "1", "weather", 0.0, 1.0, "rain detector, 1 = rain"),
    Signal("tsky_c", "C", "weather", -80.0, 50.0, "apparent sky temperature"),
    Signal("co2out_ppm", "ppm", "weather", 200.0, 1000.0, "outside CO2 concentration"),
    # actuators (commands; a readback carries the same name)
    Signal("pipe_sp_c", "C", "actuator", 0.0, 95.0, "heating rail water temperature command"),
    Signal("pipe_grow_sp_c", "C", "actuator", 0.0, 95.0, "grow pipe water temperature command"),
    Signal("vent_lee_pct", "%", "actuator", 0.0, 100.0, "lee-side vent opening"),
    Signal("vent_wind_pct", "%", "actuator", 0.0, 100.0, "wind-side vent opening"),
    Signal("screen_energy_pct", "%", "actuator", 0.0, 100.0, "energy screen closure"),
    Signal("screen_blackout_pct", "%", "actuator", 0.0, 100.0, "blackout screen closure"),
    Signal("lamps_pct", "%", "actuator", 0.0, 100.0, "assimilation lamp output"),
    Signal("co2_valve_pct", "%", "actuator", 0.0, 100.0, "CO2 dosing valve opening"),
    Signal("fog_pct", "%", "actuator", 0.0, 100.0, "fogging capacity in use"),
    Signal("irrigation_pct", "%", "actuator", 0.0, 100.0, "irrigation valve open time share"),
)

SIGNALS: dict[str, Signal] = {s.name: s for s in _SIGNALS}

#: Column order of the measurement arrays the climate computer reads.
MEASUREMENTS: tuple[str, ...] = (
    "tair_c",
    "rh_pct",
    "co2_ppm",
    "par_umol_m2_s",
    "pipe_c",
    "pipe_grow_c",
    "tout_c",
    "rhout_pct",
    "iglob_w_m2",
    "wind_m_s",
    "rain",
)

#: Column order of the actuator arrays the climate computer writes and the plant obeys.
ACTUATORS: tuple[str, ...] = (
    "pipe_sp_c",
    "pipe_grow_sp_c",
    "vent_lee_pct",
    "vent_wind_pct",
    "screen_energy_pct",
    "screen_blackout_pct",
    "lamps_pct",
    "co2_valve_pct",
    "fog_pct",
    "irrigation_pct",
)


class UnknownSignalError(KeyError):
    """A name that is not in the vocabulary."""


def signal(name: str) -> Signal:
    """Return the canonical signal called `name`, or raise with the list of known names."""
    try:
        return SIGNALS[name]
    except KeyError:
        raise UnknownSignalError(
            f"unknown signal {name!r}; known signals: {', '.join(sorted(SIGNALS))}"
        ) from None


#: Joins a signal and a node in the key of a reading when an earlier node already carries the
#: signal (`tair_c:climate.east`). A character the store allows in a column name; no signal
#: name contains it, so everything before the first one is the signal.
NODE_SEPARATOR = ":"


def node_key(name: str, node: str) -> str:
    """The key of signal `name` read from `node` when another node carries it first."""
    return f"{name}{NODE_SEPARATOR}{node}"


def signal_of(key: str) -> str:
    """The signal name of a reading key (`tair_c:climate.east` -> `tair_c`)."""
    return key.partition(NODE_SEPARATOR)[0]
