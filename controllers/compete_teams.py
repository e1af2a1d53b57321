"""Turn a checked competition file into a running Lockstep: weather, greenhouse, team strategies.

Team kinds: `grower` (the shipped grower rules), `learned` (the learned-model strategy, when this
build has it), `plugin` (a .py file whose `make_strategy(seed)` returns a Strategy), `schedule`
(a setpoint CSV, or a shipped AGC 2018 compartment's logged setpoints, replayed over the grower
rules) and `remote` (setpoints posted over HTTP; no strategy here).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from controllers.compete import CompeteError, ForecastRule, Lockstep, clip_setpoints
from controllers.compete_file import CompetitionSpec, TeamSpec
from controllers.grower_rules import GrowerRules
from controllers.setpoints import SETPOINT_RANGES, SetpointError, apply_schedule, load_setpoint_csv
from controllers.strategy import Strategy, StrategyContext
from sim.config import ConfigError, load_config
from sim.economics import EconomicsError, load_prices
from sim.weather import Weather, WeatherError, default_weather, load_weather, reference_year

#: Logged setpoints whose 0 means "no limit" (vents may always open), as in `serra sim replay`.
_ZERO_ALLOWED = ("vent_lee_c", "vent_wind_c")
#: Logged actuator positions a compartment's team chose directly (its lamps and screens).
_CHOSEN_POSITIONS = ("lamps_pct", "screen_energy_pct", "screen_blackout_pct")


@dataclass
class ScheduleStrategy:
    """Setpoints from a timed schedule; where the schedule gives none, the grower rules'."""

    name: str
    times_s: np.ndarray
    columns: dict[str, np.ndarray]
    base: GrowerRules = field(default_factory=GrowerRules)

    @property
    def settings(self):  # the climate computer's settings are the grower rules'
        """The climate-computer settings the schedule runs under (the grower rules')."""
        return self.base.settings

    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        """The schedule's setpoints at `times_s` (step-wise), grower rules elsewhere."""
        return apply_schedule(
            self.base.setpoints(times_s, context), times_s, self.times_s, self.columns
        )


@dataclass
class ClippedPlugin:
    """A plugin strategy whose answers are checked for shape and clipped to allowed ranges."""

    name: str
    inner: Strategy

    @property
    def settings(self):
        """The plugin's climate-computer settings, else the grower rules'."""
        return getattr(self.inner, "settings", GrowerRules().settings)

    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        """The plugin's setpoints, NaN refused, values clipped into SETPOINT_RANGES."""
        plan = np.asarray(self.inner.setpoints(times_s, context), dtype=np.float64)
        if plan.ndim != 2 or not np.isfinite(plan).all():
            raise CompeteError(f"team {self.name}: the plugin returned non-finite setpoints")
        return clip_setpoints(plan)


def load_plugin(path: Path, seed: int, team: str) -> Strategy:
    """Import `path` and return `make_strategy(seed)` (CompeteError naming the file if it fails)."""
    spec = importlib.util.spec_from_file_location(f"serra_plugin_{team}", path)
    if spec is None or spec.loader is None:
        raise CompeteError(f"team {team}: {path.name} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # any error in a foreign file is the file's: name it, do not crash
        raise CompeteError(f"team {team}: {path.name} failed on import: {exc!r}") from None
    make = getattr(module, "make_strategy", None)
    if not callable(make):
        raise CompeteError(
            f"team {team}: {path.name} has no make_strategy(seed) returning a Strategy "
            "(see examples/plugin_strategy.py)"
        )
    try:
        strategy = make(seed)
    except Exception as exc:
        raise CompeteError(f"team {team}: {path.name} make_strategy failed: {exc!r}") from None
    if not isinstance(strategy, Strategy):
        raise CompeteError(
            f"team {team}: {path.name} make_strategy returned {type(strategy).__name__}, "
            "which has no name and setpoints(times_s, context)"
        )
    return ClippedPlugin(team, strategy)


def compartment_schedule(name: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """A shipped AGC 2018 compartment's logged setpoints, plus its lamps and screens as chosen."""
    from controllers.replay_log import load_log

    log = load_log(name)
    columns = {}
    for sp, values in log.setpoints().items():
        lo, hi = SETPOINT_RANGES[sp]
        v = values.copy()
        bad = ~np.isnan(v) & ((v < lo) | (v > hi))
        if sp in _ZERO_ALLOWED:
            bad &= v != 0.0
        v[bad] = np.nan  # a value no climate computer can hold: the grower rules' stands
        columns[sp] = v
    for pos in _CHOSEN_POSITIONS:
        if pos in log.values:
            columns[pos] = np.clip(log.values[pos], *SETPOINT_RANGES[pos])
    return log.time_s, columns


#: The lockstep engine gives strategies the latest sensor row, not the crop state and day index
#: the learned strategy plans from; until it does, a learned team is refused, never run on a
#: context it would misread.
LEARNED_TEAMS_PLAY = False


def learned_strategy(team: TeamSpec) -> Strategy:
    """The learned-model strategy (hook: `controllers.learned_strategy.make_strategy(model)`)."""
    if not LEARNED_TEAMS_PLAY:
        raise CompeteError(
            f"team {team.name}: the learned strategy plans whole days from the crop state, which "
            "the lockstep engine does not hand it yet; remove the team (see docs/compete.md)"
        )
    try:
        module = importlib.import_module("controllers.learned_strategy")
    except ImportError:
        raise CompeteError(
            f"team {team.name}: the learned strategy is not in this build "
            "(controllers/learned_strategy.py); remove the team or train a model first"
        ) from None
    make = getattr(module, "make_strategy", None)
    if not callable(make):
        raise CompeteError(
            f"team {team.name}: controllers.learned_strategy has no make_strategy(model)"
        )
    try:
        strategy = make(team.model)
    except Exception as exc:  # no model trained, a model file refused: the team cannot play
        raise CompeteError(f"team {team.name}: the learned strategy cannot start: {exc}") from None
    return strategy


def team_strategy(team: TeamSpec, seed: int) -> Strategy | None:
    """The strategy that plays `team` (None for a remote team)."""
    if team.kind == "grower":
        return GrowerRules(name=team.name)
    if team.kind == "learned":
        return learned_strategy(team)
    if team.kind == "plugin":
        assert team.path is not None
        return load_plugin(team.path, seed, team.name)
    if team.kind == "schedule":
        try:
            if team.compartment is not None:
                times, columns = compartment_schedule(team.compartment)
            else:
                assert team.path is not None
                times, columns = load_setpoint_csv(team.path)
        except (SetpointError, ValueError) as exc:
            raise CompeteError(f"team {team.name}: {exc}") from None
        return ScheduleStrategy(team.name, times, columns)
    return None


def season_weather(spec: CompetitionSpec) -> Weather:
    """The competition's weather window, on a grid of at most 5 minutes."""
    try:
        if spec.weather == "agc2018":
            weather = default_weather()
        elif spec.weather == "reference_year":
            weather = reference_year()
        else:
            weather = load_weather(spec.weather)
        weather = weather.window(spec.start, spec.days)
        if weather.step_s > 300:
            weather = weather.resample(300)
    except WeatherError as exc:
        raise CompeteError(f"{spec.source}: season: {exc}") from None
    return weather


def team_seed(seed: int, index: int) -> int:
    """The seed team `index` gets: distinct per team, fixed by the competition seed."""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def build_lockstep(spec: CompetitionSpec, seed: int | None = None) -> Lockstep:
    """A Lockstep ready to play `spec` (`seed` overrides the file's)."""
    seed = spec.seed if seed is None else seed
    weather = season_weather(spec)
    try:
        config = load_config(spec.config)
        prices = load_prices(spec.prices)
    except (ConfigError, EconomicsError) as exc:
        raise CompeteError(f"{spec.source}: greenhouse: {exc}") from None
    strategies = [team_strategy(t, team_seed(seed, i)) for i, t in enumerate(spec.teams)]
    return Lockstep(
        weather,
        [t.name for t in spec.teams],
        strategies,
        config,
        prices,
        decision_s=spec.interval_s,
        forecast=ForecastRule(spec.forecast_hours),
    )
