"""Grower rules: the setpoints a good Dutch cucumber grower would use, as the baseline strategy.

The program is an autumn program for high-wire cucumber under HPS lamps, as grown in the 1st
Autonomous Greenhouse Challenge (WUR Bleiswijk, 14 Aug - 7 Dec 2018; Hemming et al. 2019,
Sensors 19(8):1807, "AGC 2018" below) by the reference team of expert growers. Season totals
quoted for the teams are computed from that paper's open dataset (4TU
uuid:e4987a7b-04dd-4c89-9b18-883aad30ba9a). "Climate computers" below means the Priva,
Hoogendoorn and Link4 documentation. Choices and their sources:

- Day periods relative to sunrise/sunset, ramped, as climate computers schedule them (several
  per day, starting at fixed times or at sunrise/sunset plus an offset, ramped).
- Heating: night 18.5 C, pre-dawn 19.5 C, day 20.5 C, evening 19.5 C. Cucumber development
  speed rises with the 24 h mean temperature (Marcelis 1994); with sun the day rises above the
  heating setpoint, so the 24 h mean lands near 20-21 C, a usual cucumber level. The pre-dawn
  rise warms fruits and heads before the sun does, so no dew forms on them.
- Ventilation: lee side at heating + 1.5 C at night and + 2 C by day, wind side 1 C higher
  (climate computers: vent setpoint = heating setpoint + a 1-5 C margin; lee side first).
- CO2: 900 ppm by day, 1000 ppm from October when vents stay closed and dosing is efficient
  (climate computers dose to a setpoint of about 800-1000 ppm); the climate computer lowers it
  as vents open and does not dose in the dark unless lamps burn. The AGC 2018 dosing capacity
  (0.0128 kg/m2/h) is a plant property, not a setpoint.
- Humidity deficit setpoint 2 g/m3 at night, 3 g/m3 by day: below it the climate computer
  opens a humidity gap in the vents and raises the minimum pipe (as climate computers do).
- Minimum rail pipe 35 C day and night, 40 C from 90 min before to 2 h after sunrise: Dutch
  autumn practice for crop activity and a drying air movement, and the warm-up of fruits at
  dawn; the climate computer fades the minimum out between 200 and 400 W/m2 of sun and raises
  it when humid. The grow pipe holds 35 C while heating is needed (typical 35-45 C). Over the
  AGC 2018 season with the shipped plant this gives about 130 kWh/m2 of heat (reference
  growers 158, winner 128 in AGC 2018); without the minimum pipe it was ~70.
- Lamps (HPS, 187 umol/m2/s, as in AGC 2018): allowed 02:00-18:00 local (16 h photoperiod), only
  from 1 September, switched by outside radiation and the day's light sum. Before September the
  natural light sum of a Dutch summer is ample for a young crop.
- Irrigation: at least 20 min between cycles by day; cycles start by radiation sum
  (110 J/cm2, 0.4 L/m2 per cycle; climate computers use ~100 J/cm2 and ~400 ml/m2; lamp light counts
  at its 117 W/m2 electric power, as growers add lamp light to the radiation sum), plus one
  morning start. Over the 2018 AGC weather this gives about 380 L/m2 irrigation with ~23 %
  drain, so ~290 L/m2 net water (reference growers: 273 net).
- Screens: energy screen and blackout screen allowed to close fully (100 %); the climate
  computer closes the energy screen only when it is dark and cold outside and the blackout
  screen only while lamps burn in the dark (Dutch light-emission rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from controllers.climate_computer import CC_PARAMS, ClimateComputerSettings
from controllers.day_periods import DayPeriod, setpoints_from_periods
from controllers.setpoints import SETPOINT_RANGES, SETPOINTS, SetpointError, check_value
from controllers.strategy import Strategy, StrategyContext, utc_offsets_s

#: Values used where no day period sets a name.
CUCUMBER_DEFAULTS: dict[str, float] = {
    "heat_c": 19.0,
    "vent_lee_c": 21.0,
    "vent_wind_c": 22.0,
    "vent_min_pct": 0.0,
    "co2_ppm": 900.0,
    "humidity_deficit_g_m3": 2.5,
    "min_pipe_c": 35.0,
    "lamps_pct": 0.0,
    "screen_energy_pct": 100.0,
    "screen_blackout_pct": 100.0,
    "irrigation_interval_min": 20.0,
}


def cucumber_periods() -> list[DayPeriod]:
    """Return the day periods of the cucumber autumn program (see module docstring)."""
    return [
        DayPeriod("clock", 2 * 60, 0, {"lamps_pct": 100.0}),
        DayPeriod(
            "sunrise",
            -90,
            90,
            {
                "heat_c": 19.5,
                "vent_lee_c": 21.0,
                "vent_wind_c": 22.0,
                "humidity_deficit_g_m3": 2.5,
                "min_pipe_c": 40.0,
                "co2_ppm": 900.0,
            },
        ),
        DayPeriod(
            "sunrise",
            120,
            120,
            {
                "heat_c": 20.5,
                "vent_lee_c": 22.5,
                "vent_wind_c": 23.5,
                "humidity_deficit_g_m3": 3.0,
                "min_pipe_c": 35.0,
            },
        ),
        DayPeriod("clock", 18 * 60, 0, {"lamps_pct": 0.0}),
        DayPeriod(
            "sunset",
            -60,
            60,
            {"heat_c": 19.5, "vent_lee_c": 21.0, "vent_wind_c": 22.0},
        ),
        DayPeriod(
            "sunset",
            60,
            60,
            {
                "heat_c": 18.5,
                "vent_lee_c": 20.0,
                "vent_wind_c": 21.0,
                "humidity_deficit_g_m3": 2.0,
                "co2_ppm": 800.0,
            },
        ),
    ]


def cucumber_settings() -> ClimateComputerSettings:
    """Return climate-computer settings for the cucumber program.

    The climate computer's defaults (from the Priva, Hoogendoorn and Link4 documentation), plus a
    35 C grow pipe while heating and an irrigation start at 110 J/cm2 of sun and lamp light
    (0.4 L/m2 per cycle), which over the AGC 2018 weather gives about 290 L/m2 net water, close
    to the reference growers' 273 (from the open dataset of Hemming et al. 2019).
    """
    return ClimateComputerSettings(
        grow_pipe_min_c=35.0, irr_rad_sum_j_cm2=110.0, irr_lamp_w_m2=117.0
    )


@dataclass(frozen=True)
class SeasonStep:
    """From local date `start` ("MM-DD") until the next step: value * scale + shift per name."""

    start: str
    shift: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.month_day()
        for name in (*self.shift, *self.scale):
            if name not in SETPOINT_RANGES:
                raise SetpointError(
                    f"season step {self.start}: unknown setpoint {name!r}; "
                    f"allowed: {', '.join(SETPOINTS)}"
                )

    def month_day(self) -> tuple[int, int]:
        """Return (month, day) of `start`, raising SetpointError when it is not MM-DD."""
        try:
            mm, dd = (int(x) for x in self.start.split("-"))
        except ValueError:
            raise SetpointError(f"season step start {self.start!r} is not MM-DD") from None
        if not (1 <= mm <= 12 and 1 <= dd <= 31):
            raise SetpointError(f"season step start {self.start!r} is not MM-DD")
        return mm, dd


def cucumber_season() -> list[SeasonStep]:
    """Return the seasonal changes of the cucumber program (lamps from September, CO2 up in Oct)."""
    return [
        SeasonStep("01-01"),
        SeasonStep("06-01", scale={"lamps_pct": 0.0}),
        SeasonStep("09-01"),
        SeasonStep("10-01", shift={"co2_ppm": 100.0}),
    ]


def _local_month_day(times_s: np.ndarray, local_hour: np.ndarray) -> np.ndarray:
    local = times_s + utc_offsets_s(times_s, local_hour)
    days = np.floor(local / 86400.0).astype(np.int64).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    month = (months.astype(np.int64) % 12) + 1
    day = (days - months).astype(np.int64) + 1
    return month * 100 + day


@dataclass
class GrowerRules(Strategy):
    """Grower-rules strategy: day periods + season steps -> setpoints; settings for the computer.

    `setpoints()` is vectorised over time; the result is clipped to SETPOINT_RANGES. Season
    steps are northern-hemisphere dates; at a southern site (latitude < 0) they apply six
    months later (the "09-01" step on 1 March).
    """

    periods: list[DayPeriod] = field(default_factory=cucumber_periods)
    settings: ClimateComputerSettings = field(default_factory=cucumber_settings)
    defaults: dict[str, float] = field(default_factory=lambda: dict(CUCUMBER_DEFAULTS))
    season: list[SeasonStep] = field(default_factory=cucumber_season)
    name: str = "grower"

    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        """Return `[len(times_s), len(SETPOINTS)]` setpoints for UTC `times_s`."""
        times_s = np.asarray(times_s, dtype=np.float64)
        lh = np.asarray(context.local_hour, dtype=np.float64)
        out = setpoints_from_periods(
            self.periods, times_s, lh, context.sunrise_s, context.sunset_s, self.defaults
        )
        if self.season and len(times_s):
            steps = sorted(self.season, key=lambda s: s.month_day())
            keys = np.array([m * 100 + d for m, d in (s.month_day() for s in steps)])
            md = _local_month_day(times_s, lh)
            if getattr(context.site, "latitude_deg", 0.0) < 0.0:
                # southern hemisphere: the same program half a year later (March = September)
                md = ((md // 100 + 5) % 12 + 1) * 100 + md % 100
            which = np.searchsorted(keys, md, side="right") - 1
            which[which < 0] = len(steps) - 1  # before the first step: last step of last year
            for k, step in enumerate(steps):
                rows = which == k
                if not rows.any():
                    continue
                for name, f in step.scale.items():
                    out[rows, SETPOINTS.index(name)] *= f
                for name, d in step.shift.items():
                    out[rows, SETPOINTS.index(name)] += d
        for j, name in enumerate(SETPOINTS):
            lo, hi = SETPOINT_RANGES[name]
            np.clip(out[:, j], lo, hi, out=out[:, j])
        return out

    def season_note(self, name: str, time_s: float, context: StrategyContext) -> str:
        """Why the season program changes setpoint `name` at `time_s`, '' when it does not.

        E.g. "season from 06-01 to 09-01: 0 instead of 100" for the lamps in summer.
        """
        if not self.season:
            return ""
        times = np.array([float(time_s)])
        with_season = self.setpoints(times, context)[0, SETPOINTS.index(name)]
        plain = replace(self, season=[]).setpoints(times, context)[0, SETPOINTS.index(name)]
        if np.isclose(with_season, plain):
            return ""
        steps = sorted(self.season, key=lambda s: s.month_day())
        keys = [m * 100 + d for m, d in (s.month_day() for s in steps)]
        md = int(_local_month_day(times, np.asarray(context.local_hour))[0])
        if getattr(context.site, "latitude_deg", 0.0) < 0.0:
            md = ((md // 100 + 5) % 12 + 1) * 100 + md % 100
        k = int(np.searchsorted(keys, md, side="right")) - 1
        start, end = steps[k].start, steps[(k + 1) % len(steps)].start
        return f"season from {start} to {end}: {with_season:g} instead of {plain:g}"

    def as_dict(self) -> dict[str, Any]:
        """The rules as plain JSON data (what a `setpoint_change` event keeps for a restart)."""
        return {
            "name": self.name,
            "periods": [asdict(p) for p in self.periods],
            "defaults": dict(self.defaults),
            "settings": asdict(self.settings),
            "season": [asdict(s) for s in self.season],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, where: str = "saved rules") -> GrowerRules:
        """Rules from `as_dict()` output; SetpointError (one line, starting with `where`) when
        a part is missing or a value is not allowed. Settings missing keep their defaults."""
        try:
            periods = [
                DayPeriod(
                    str(p["start_ref"]),
                    float(p["offset_min"]),
                    float(p["ramp_min"]),
                    {str(k): float(v) for k, v in p["values"].items()},
                )
                for p in d["periods"]
            ]
            defaults = {str(k): float(v) for k, v in d["defaults"].items()}
            season = [
                SeasonStep(
                    str(s["start"]),
                    {str(k): float(v) for k, v in s["shift"].items()},
                    {str(k): float(v) for k, v in s["scale"].items()},
                )
                for s in d["season"]
            ]
            settings = ClimateComputerSettings.from_dict(dict(d["settings"]), where=where)
            name = str(d.get("name", "grower"))
        except SetpointError as exc:
            text = str(exc)
            raise SetpointError(text if text.startswith(where) else f"{where}: {text}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            what = f"{type(exc).__name__}: {exc}"
            raise SetpointError(f"{where}: not grower rules ({what})") from None
        missing = [n for n in SETPOINTS if n not in defaults]
        if missing:
            raise SetpointError(f"{where}: defaults lack {', '.join(missing)}")
        for n, v in defaults.items():
            check_value(n, v, where=where)
        return cls(periods=periods, settings=settings, defaults=defaults, season=season, name=name)

    @classmethod
    def from_overrides(
        cls,
        overrides: Mapping[str, float],
        base: GrowerRules | None = None,
        *,
        where: str = "override",
    ) -> GrowerRules:
        """Return grower rules with setpoints or settings changed (used by parameter sweeps).

        A setpoint name sets the highest value the day periods give it (e.g. the day heating
        temperature for `heat_c`) and shifts every other period by the same amount, keeping
        the day/night profile; a name no period sets replaces the default. A climate-computer
        setting name (CC_PARAMS) replaces that setting. Unknown names, setpoint values outside
        SETPOINT_RANGES and settings outside their range raise SetpointError; its message starts
        with `where` (e.g. the command-line option the values came from).
        """
        rules = base if base is not None else cls()
        periods = list(rules.periods)
        defaults = dict(rules.defaults)
        settings = asdict(rules.settings)
        for name, value in overrides.items():
            value = float(value)
            if name in SETPOINT_RANGES:
                check_value(name, value, where=where)
                lo, hi = SETPOINT_RANGES[name]
                set_by = [p.values[name] for p in periods if name in p.values]
                if not set_by:
                    defaults[name] = value
                    continue
                delta = value - max(set_by)
                periods = [
                    replace(
                        p,
                        values={
                            **p.values,
                            name: float(np.clip(p.values[name] + delta, lo, hi)),
                        },
                    )
                    if name in p.values
                    else p
                    for p in periods
                ]
                defaults[name] = float(np.clip(defaults[name] + delta, lo, hi))
            elif name in CC_PARAMS:
                settings[name] = value
            else:
                raise SetpointError(
                    f"{where}: unknown name {name!r}; allowed: {', '.join(SETPOINTS)} "
                    f"or a climate-computer setting ({', '.join(CC_PARAMS)})"
                )
        return cls(
            periods=periods,
            settings=ClimateComputerSettings.from_dict(settings, where=where),
            defaults=defaults,
            season=list(rules.season),
            name=rules.name,
        )
