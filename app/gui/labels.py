"""Words a grower reads for Serra's canonical names, with the unit; the name stays in tooltips.

`channel_label("cmd_co2_valve_pct")` is "CO₂ valve – command (%)"; `channel_tooltip` gives the
canonical name and what it means, so a label can always be traced back to the database column.
"""

from __future__ import annotations

from app.gui.common import unit_of
from drivers.signals import NODE_SEPARATOR

#: Short names of signals, setpoints and grower-rule influences, as a grower says them.
WORDS: dict[str, str] = {
    # inside climate
    "tair_c": "Air temperature",
    "rh_pct": "Relative humidity",
    "co2_ppm": "CO₂",
    "par_umol_m2_s": "PAR light",
    "hd_g_m3": "Humidity deficit",
    "pipe_c": "Rail pipe water temperature",
    "pipe_grow_c": "Grow pipe water temperature",
    "heat_w_m2": "Heat delivered",
    # outside weather
    "tout_c": "Outside temperature",
    "rhout_pct": "Outside humidity",
    "iglob_w_m2": "Global radiation",
    "wind_m_s": "Wind speed",
    "wind_dir_deg": "Wind direction",
    "rain": "Rain (1 = rain)",
    "tsky_c": "Sky temperature",
    "co2out_ppm": "Outside CO₂",
    # actuators
    "pipe_sp_c": "Rail pipe setpoint",
    "pipe_grow_sp_c": "Grow pipe setpoint",
    "vent_lee_pct": "Lee vents",
    "vent_wind_pct": "Wind vents",
    "screen_energy_pct": "Energy screen",
    "screen_blackout_pct": "Blackout screen",
    "lamps_pct": "Lamps",
    "co2_valve_pct": "CO₂ valve",
    "fog_pct": "Fogging",
    "irrigation_pct": "Irrigation",
    # setpoints of the grower rules
    "heat_c": "Heating temperature",
    "vent_lee_c": "Lee vent temperature",
    "vent_wind_c": "Wind vent temperature",
    "vent_min_pct": "Minimum vent",
    "humidity_deficit_g_m3": "Humidity deficit",
    "min_pipe_c": "Minimum pipe",
    "irrigation_interval_min": "Irrigation interval",
    # loop and bus health
    "bus_ok": "Bus answered (1 = yes)",
    "write_ok": "Commands written (1 = yes)",
    "dt_s": "Time between ticks",
    "bus_ms": "Bus poll time",
    "alarms_active": "Active alarms",
    "overrides_active": "Active manual overrides",
    # influences and limits of the climate computer
    "rad_infl_lo_w_m2": "Radiation influence starts at",
    "rad_infl_hi_w_m2": "Radiation influence full at",
    "rad_infl_max_c": "Radiation raises heating by at most",
    "hum_infl_rh_pct": "Humidity influence starts at",
    "hum_infl_band_pct": "Humidity influence band",
    "hum_infl_max_c": "Humidity raises heating by at most",
    "pipe_max_c": "Rail pipe at most",
    "minpipe_rad_lo_w_m2": "Minimum pipe fades from",
    "minpipe_rad_hi_w_m2": "Minimum pipe gone at",
    "vent_pband_lee_c": "Lee vent P-band",
    "vent_pband_wind_c": "Wind vent P-band",
    "wind_lee_hi_m_s": "Lee vents closed from wind",
    "wind_wind_hi_m_s": "Wind vents closed from wind",
    "rain_wind_max_pct": "Wind vents in rain at most",
    "co2_vent_ppm": "CO₂ setpoint with vents open",
    "co2_vent_hi_pct": "CO₂ setpoint lowered fully at lee vent",
    "lamps_on_w_m2": "Lamps on below radiation",
    "lamps_off_w_m2": "Lamps off above radiation",
    "lamps_light_sum_mol_m2": "Lamps off at daily light sum",
    "screen_tout_c": "Energy screen closes below outside",
    "irr_rad_sum_j_cm2": "Irrigation every radiation sum",
    "grow_pipe_min_c": "Grow pipe minimum",
}

#: What a column prefix of the database adds to the words.
_PREFIXES = (
    ("sp_", "{} – setpoint"),
    ("cmd_", "{} – command"),
    ("rb_", "{} – read back"),
    ("h_", "{}"),
)
_NODE_HEALTH = {"ok": "answers", "consecutive_failures": "failures in a row"}


def channel_words(name: str) -> str:
    """The words for a canonical name without the unit; unknown names come back as they are."""
    for prefix, pattern in _PREFIXES:
        if name.startswith(prefix):
            base = name[len(prefix) :]
            if prefix == "h_" and "." in base:
                node, counter = base.split(".", 1)
                return f"Node {node}: {_NODE_HEALTH.get(counter, counter)}"
            return pattern.format(WORDS.get(base, base))
    signal, _, node = name.partition(NODE_SEPARATOR)
    if node:  # a second node carrying the signal: `tair_c:climate.east`
        return f"{WORDS.get(signal, signal)} – node {node}"
    return WORDS.get(name, name)


def channel_label(name: str) -> str:
    """Words and unit of a canonical name, e.g. "CO₂ valve – command (%)"."""
    unit = unit_of(name)
    words = channel_words(name)
    return f"{words} ({unit})" if unit else words


def channel_tooltip(name: str) -> str:
    """The canonical name (as in the database and CSV) and, for signals, what it measures."""
    from drivers.signals import SIGNALS, signal_of

    base = name
    for prefix, _pattern in _PREFIXES:
        base = base.removeprefix(prefix)
    signal = SIGNALS.get(signal_of(base))
    return f"{name}: {signal.description}" if signal is not None else name


def channel_sort_key(name: str) -> tuple[int, str]:
    """Order for channel lists: climate and weather, then actuators, setpoints, health."""
    group = 3 if name.startswith("h_") else 2 if name.startswith("sp_") else 0
    if group == 0 and name.startswith(("cmd_", "rb_")):
        group = 1
    return group, channel_words(name).lower()
