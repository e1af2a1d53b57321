"""Strategy decisions as a grower reads them: one event per change of plan, not per ramp step.

A day period ramps a setpoint over an hour or two; the strategy is asked every few plant minutes,
so each call nudges the value a little (`heat_c 19.49 -> 19.5`). `DecisionLog` keeps a change
open while the setpoint keeps moving and records it once it settles (or at once, for the first
plan of a fresh database): "Heating temperature 18.5 -> 19.5 °C (ramped over 90 min)".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from controllers.setpoints import SETPOINTS, setpoint_unit

#: Grower words for the setpoints (the canonical name stays in the event's data).
SETPOINT_WORDS: dict[str, str] = {
    "heat_c": "Heating temperature",
    "vent_lee_c": "Lee vent temperature",
    "vent_wind_c": "Wind vent temperature",
    "vent_min_pct": "Minimum vent",
    "co2_ppm": "CO₂ setpoint",
    "humidity_deficit_g_m3": "Humidity deficit",
    "min_pipe_c": "Minimum pipe temperature",
    "lamps_pct": "Lamps",
    "screen_energy_pct": "Energy screen at most",
    "screen_blackout_pct": "Blackout screen at most",
    "irrigation_interval_min": "Irrigation interval",
}
#: A change still moving after this long is recorded anyway (a strategy that never settles).
MAX_OPEN_S = 3 * 3600.0
#: A ramp that ends where it started is no decision below this difference.
CHANGE_ABS_TOL = 1e-6
CHANGE_REL_TOL = 1e-6


def setpoint_words(name: str, value: float | None) -> str:
    """`value` of setpoint `name` with its unit in a grower's words, e.g. "19.5 °C"."""
    if value is None:
        return "–"
    unit = setpoint_unit(name).replace("C", "°C").replace("g/m3", "g/m³")
    return f"{value:.4g} {unit}".rstrip()


def changed_setpoints(old, new) -> dict[str, list[float | None]]:
    """Setpoints whose new value differs from the one in force: {name: [old, new]}.

    NaN in `new` means "keep", so it is never a change; NaN in `old` (none in force yet) is
    reported as None, as the event log stores strict JSON.
    """
    out: dict[str, list[float | None]] = {}
    for name, o, n in zip(SETPOINTS, old, new, strict=True):
        if math.isnan(n):
            continue
        if math.isnan(o):
            out[name] = [None, float(n)]
        elif not math.isclose(o, n, rel_tol=CHANGE_REL_TOL, abs_tol=CHANGE_ABS_TOL):
            out[name] = [float(o), float(n)]
    return out


@dataclass
class _Open:
    old: float
    new: float
    since_s: float
    steps: int = 1


@dataclass(frozen=True)
class Decision:
    """One change of plan to record: message in words and {name: [old, new]}."""

    message: str
    changed: dict[str, list[float | None]]
    since_s: float


class DecisionLog:
    """Coalesces the strategy's successive setpoint changes into decisions."""

    def __init__(self) -> None:
        self._open: dict[str, _Open] = {}

    def update(self, now: float, changed: Mapping[str, list[float | None]]) -> list[Decision]:
        """Feed the changes of one strategy call; return the decisions complete at `now`."""
        out: list[Decision] = []
        first = {n: v for n, v in changed.items() if v[0] is None}
        if first:
            parts = [
                f"{SETPOINT_WORDS.get(n, n)} {setpoint_words(n, v[1])}" for n, v in first.items()
            ]
            out.append(Decision("First plan: " + ", ".join(parts), dict(first), now))
        settled = {n: c for n, c in self._open.items() if n not in changed}
        for name, (old, new) in changed.items():
            if old is None or new is None:
                continue
            if name in self._open:
                c = self._open[name]
                c.new, c.steps = float(new), c.steps + 1
            else:
                self._open[name] = _Open(float(old), float(new), now)
        stale = {
            n: c
            for n, c in self._open.items()
            if n not in settled and now - c.since_s >= MAX_OPEN_S
        }
        for name in (*settled, *stale):
            del self._open[name]
        out += self._decisions(now, settled, "")
        out += self._decisions(now, stale, ", still changing")
        return out

    def _decisions(self, now: float, done: dict[str, _Open], tail: str) -> list[Decision]:
        """One decision per group of setpoints that started changing together."""
        groups: dict[tuple[float, int], dict[str, _Open]] = {}
        for name, c in done.items():
            if math.isclose(c.old, c.new, rel_tol=CHANGE_REL_TOL, abs_tol=CHANGE_ABS_TOL):
                continue
            groups.setdefault((c.since_s, c.steps), {})[name] = c
        out = []
        for (since, steps), group in sorted(groups.items()):
            parts = [
                f"{SETPOINT_WORDS.get(n, n)} {c.old:.4g} -> {setpoint_words(n, c.new)}"
                for n, c in sorted(group.items(), key=lambda kv: SETPOINTS.index(kv[0]))
            ]
            minutes = (now - since) / 60.0
            how = f" (ramped over {minutes:.0f} min{tail})" if steps > 1 or tail else ""
            changed: dict[str, list[float | None]] = {n: [c.old, c.new] for n, c in group.items()}
            out.append(Decision(", ".join(parts) + how, changed, since))
        return out
