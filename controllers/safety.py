"""The safety layer between the climate computer and the bus.

Every command passes, in this order:

1. **Fail-safe** — an actuator whose inputs (ACTUATOR_INPUTS) are not all of good quality gets
   its fail-safe value: CO2 valve 0 %, lamps 0 %, heating rail 40 C (frost-safe minimum), grow
   pipe off, lee vents 5 % (a little air exchange), wind vents 0 %, screens open, fog and
   irrigation off — the same values the actuator node's watchdog applies.
2. **Bounds** — clipped to the actuator's lo..hi.
3. **Rate limit** — at most `rate_per_min` units per plant minute away from the previous
   command, so the way into the fail-safe and the way back to normal control are ramps, not
   jumps (lamps, CO2 and irrigation switch freely: their rate is 100 %/min).
4. **Manual overrides** — a forced value replaces the command as given (a person chose it).
5. **Interlocks** (win over everything above): storm wind closes every vent; rain limits the
   wind-side and lee-side vents; no CO2 dosing while a vent is open beyond `co2_vent_max_pct`;
   no lamps while the blackout screen is closed for darkness (lamp setpoint 0 and the screen
   commanded closed beyond `darkness_blackout_pct`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from drivers.signals import ACTUATORS


class SafetyError(ValueError):
    """A safety configuration that cannot be used; the message says what is allowed."""


@dataclass(frozen=True)
class ActuatorLimits:
    """Bounds, rate limit (units per plant minute) and fail-safe value of one actuator."""

    lo: float
    hi: float
    rate_per_min: float
    failsafe: float


DEFAULT_LIMITS: dict[str, ActuatorLimits] = {
    "pipe_sp_c": ActuatorLimits(0.0, 95.0, 3.0, 40.0),
    "pipe_grow_sp_c": ActuatorLimits(0.0, 95.0, 3.0, 0.0),
    "vent_lee_pct": ActuatorLimits(0.0, 100.0, 10.0, 5.0),
    "vent_wind_pct": ActuatorLimits(0.0, 100.0, 10.0, 0.0),
    "screen_energy_pct": ActuatorLimits(0.0, 100.0, 10.0, 0.0),
    "screen_blackout_pct": ActuatorLimits(0.0, 100.0, 10.0, 0.0),
    "lamps_pct": ActuatorLimits(0.0, 100.0, 100.0, 0.0),
    "co2_valve_pct": ActuatorLimits(0.0, 100.0, 100.0, 0.0),
    "fog_pct": ActuatorLimits(0.0, 100.0, 20.0, 0.0),
    "irrigation_pct": ActuatorLimits(0.0, 100.0, 100.0, 0.0),
}

#: Measurements each actuator's control depends on; any of them not good -> fail-safe.
ACTUATOR_INPUTS: dict[str, tuple[str, ...]] = {
    "pipe_sp_c": ("tair_c",),
    "pipe_grow_sp_c": ("tair_c",),
    "vent_lee_pct": ("tair_c", "rh_pct", "wind_m_s", "rain"),
    "vent_wind_pct": ("tair_c", "rh_pct", "wind_m_s", "rain"),
    "screen_energy_pct": ("tair_c", "tout_c", "iglob_w_m2"),
    "screen_blackout_pct": ("iglob_w_m2",),
    "lamps_pct": ("iglob_w_m2",),
    "co2_valve_pct": ("co2_ppm", "iglob_w_m2"),
    "fog_pct": ("tair_c", "rh_pct"),
    "irrigation_pct": ("iglob_w_m2",),
}


def inputs_needed(actuators: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Each measurement that `actuators` depend on, with the actuators that need it."""
    needed: dict[str, list[str]] = {}
    for name in actuators:
        for m in ACTUATOR_INPUTS.get(name, ()):
            needed.setdefault(m, []).append(name)
    return {m: tuple(users) for m, users in needed.items()}


@dataclass(frozen=True)
class SafetyConfig:
    """Limits per actuator and the interlock thresholds."""

    limits: dict[str, ActuatorLimits] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    storm_wind_m_s: float = 15.0
    rain_vent_wind_max_pct: float = 10.0
    rain_vent_lee_max_pct: float = 50.0
    co2_vent_max_pct: float = 25.0
    darkness_blackout_pct: float = 95.0

    def __post_init__(self) -> None:
        for name, lim in self.limits.items():
            if name not in ACTUATORS:
                raise SafetyError(f"safety limits: unknown actuator {name!r}; allowed: {ACTUATORS}")
            if not (lim.lo <= lim.failsafe <= lim.hi and lim.rate_per_min > 0):
                raise SafetyError(
                    f"safety limits.{name}: need lo <= failsafe <= hi and rate_per_min > 0, "
                    f"got {lim}"
                )

    def with_map_bounds(self, entries: Mapping[str, object]) -> SafetyConfig:
        """Narrow bounds (and take fail-safe values) from register-map entries with lo/hi/safe."""
        limits = dict(self.limits)
        for name, e in entries.items():
            if name not in limits:
                continue
            lim = limits[name]
            e_lo, e_hi = getattr(e, "lo", None), getattr(e, "hi", None)
            lo = lim.lo if e_lo is None else max(lim.lo, float(e_lo))
            hi = lim.hi if e_hi is None else min(lim.hi, float(e_hi))
            safe = getattr(e, "safe", None)
            failsafe = lim.failsafe if safe is None else float(safe)
            limits[name] = ActuatorLimits(lo, hi, lim.rate_per_min, min(max(failsafe, lo), hi))
        return replace(self, limits=limits)

    def failsafe_commands(self) -> dict[str, float]:
        """The fail-safe value of every actuator (what the loop leaves behind when it stops)."""
        return {name: lim.failsafe for name, lim in self.limits.items()}


@dataclass(frozen=True)
class SafetyResult:
    """Commands after the safety layer, and what it did: fail-safe, interlocks, rate limits."""

    commands: dict[str, float]
    failsafe: tuple[str, ...]
    interlocks: tuple[str, ...]
    rate_limited: tuple[str, ...]


class SafetyLayer:
    """Applies fail-safe, bounds, rate limits, overrides and interlocks (see module docstring)."""

    def __init__(self, config: SafetyConfig | None = None) -> None:
        self.config = config or SafetyConfig()

    def apply(
        self,
        commands: Mapping[str, float],
        *,
        good: Mapping[str, bool],
        measurements: Mapping[str, float],
        setpoints: Mapping[str, float],
        previous: Mapping[str, float] | None,
        dt_s: float,
        overrides: Mapping[str, float] | None = None,
    ) -> SafetyResult:
        """Return safe commands for `commands` (by ACTUATORS name).

        `good[m]` says whether measurement `m` is good this tick; `measurements` holds the
        values (NaN when not good); `previous` the commands of the last tick (None: no rate
        limit, e.g. nothing known yet); `dt_s` plant seconds since then.
        """
        cfg = self.config
        out: dict[str, float] = {}
        failsafe: list[str] = []
        limited: list[str] = []
        for name, value in commands.items():
            lim = cfg.limits.get(name)
            if lim is None:
                out[name] = float(value)
                continue
            v = float(value)
            inputs = ACTUATOR_INPUTS.get(name, ())
            if not math.isfinite(v) or not all(good.get(m, False) for m in inputs):
                v = lim.failsafe
                failsafe.append(name)
            v = min(max(v, lim.lo), lim.hi)
            if previous is not None and name in previous and math.isfinite(previous[name]):
                step = lim.rate_per_min * max(dt_s, 0.0) / 60.0
                p = float(previous[name])
                if abs(v - p) > step + 1e-9:
                    v = p + math.copysign(step, v - p)
                    limited.append(name)
            out[name] = v
        for name, value in (overrides or {}).items():
            if name in out:
                lim = cfg.limits.get(name)
                v = float(value)
                out[name] = v if lim is None else min(max(v, lim.lo), lim.hi)
        interlocks = self._interlocks(out, good, measurements, setpoints)
        return SafetyResult(out, tuple(failsafe), tuple(interlocks), tuple(limited))

    def _interlocks(
        self,
        out: dict[str, float],
        good: Mapping[str, bool],
        meas: Mapping[str, float],
        setpoints: Mapping[str, float],
    ) -> list[str]:
        cfg = self.config
        active: list[str] = []
        vents = ("vent_lee_pct", "vent_wind_pct")
        wind = meas.get("wind_m_s", math.nan)
        if good.get("wind_m_s", False) and wind >= cfg.storm_wind_m_s:
            for v in vents:
                if out.get(v, 0.0) > 0.0:
                    out[v] = 0.0
            active.append("storm")
        elif good.get("rain", False) and meas.get("rain", 0.0) >= 0.5:
            caps = {"vent_wind_pct": cfg.rain_vent_wind_max_pct}
            caps["vent_lee_pct"] = cfg.rain_vent_lee_max_pct
            if any(out.get(v, 0.0) > cap for v, cap in caps.items()):
                active.append("rain")
            for v, cap in caps.items():
                if v in out:
                    out[v] = min(out[v], cap)
        vents_open = max(out.get(v, 0.0) for v in vents) > cfg.co2_vent_max_pct
        if vents_open and out.get("co2_valve_pct", 0.0) > 0.0:
            out["co2_valve_pct"] = 0.0
            active.append("co2_vents")
        dark = (
            setpoints.get("lamps_pct", 0.0) <= 0.0
            and out.get("screen_blackout_pct", 0.0) >= cfg.darkness_blackout_pct
        )
        if dark and out.get("lamps_pct", 0.0) > 0.0:
            out["lamps_pct"] = 0.0
            active.append("lamps_darkness")
        return active
