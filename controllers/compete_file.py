"""Read a competition file (TOML): season, greenhouse and prices, decisions, forecast, teams.

Every refusal is one line naming the key and what to write instead (docs/compete.md lists the
keys). Paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controllers.compete import CompeteError

#: Team kinds: built-in strategies, a Python plugin, a setpoint schedule, or a remote team.
KINDS: tuple[str, ...] = ("grower", "learned", "plugin", "schedule", "remote")
#: Weather names that need no file.
SHIPPED_WEATHER: tuple[str, ...] = ("agc2018", "reference_year")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_TOP = {"name", "seed", "season", "greenhouse", "decisions", "forecast", "teams"}
_SEASON = {"weather", "start", "days"}
_GREENHOUSE = {"config", "prices"}
_DECISIONS = {"interval_s", "deadline_s"}
_FORECAST = {"hours"}
_TEAM = {
    "grower": {"name", "kind"},
    "learned": {"name", "kind", "model"},
    "plugin": {"name", "kind", "path"},
    "schedule": {"name", "kind", "setpoints", "compartment"},
    "remote": {"name", "kind", "token_sha256"},
}


@dataclass
class TeamSpec:
    """One team as the file describes it (paths resolved against the file's folder)."""

    name: str
    kind: str
    path: Path | None = None  # plugin .py or schedule CSV
    compartment: str | None = None  # shipped AGC 2018 compartment (schedule)
    model: str | None = None  # learned: model name or file
    token_sha256: str | None = None  # remote: "salt$hexdigest" of its token


@dataclass
class CompetitionSpec:
    """A whole competition file, checked."""

    source: str
    name: str
    seed: int
    weather: str  # a shipped name or a resolved path
    start: str | None
    days: float | None
    config: Path | None
    prices: Path | None
    interval_s: float
    deadline_s: float
    forecast_hours: float
    teams: list[TeamSpec] = field(default_factory=list)


def _err(source: str, key: str, why: str) -> CompeteError:
    return CompeteError(f"{source}: {key}: {why}")


def _table(doc: dict, key: str, allowed: set[str], source: str) -> dict[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, dict):
        raise _err(source, key, "must be a table, e.g. [" + key + "]")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _err(
            source, f"{key}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(allowed))}"
        )
    return value


def _number(value: Any, key: str, source: str, *, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(source, key, f"must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise _err(source, key, f"{value:g} is outside {lo:g}..{hi:g}")
    return float(value)


def _string(value: Any, key: str, source: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _err(source, key, f"must be a non-empty string, got {value!r}")
    return value


def _path(value: Any, key: str, source: str, base: Path, *, must_exist: bool = True) -> Path:
    p = Path(_string(value, key, source))
    p = p if p.is_absolute() else base / p
    if must_exist and not p.exists():
        raise _err(source, key, f"no such file {p}")
    return p


def _team(raw: Any, i: int, source: str, base: Path) -> TeamSpec:
    where = f"teams[{i}]"
    if not isinstance(raw, dict):
        raise _err(source, where, "must be a table ([[teams]] with name and kind)")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _err(
            source, f"{where}.name", f"{name!r} is not a team name (1-40 letters, digits, _ or -)"
        )
    kind = raw.get("kind")
    if kind not in KINDS:
        raise _err(source, f"{where}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    unknown = sorted(set(raw) - _TEAM[kind])
    if unknown:
        raise _err(
            source, f"{where}.{unknown[0]}", f"not a key of a {kind} team; allowed: "
            f"{', '.join(sorted(_TEAM[kind]))}"
        )  # fmt: skip
    team = TeamSpec(name=name, kind=kind)
    if kind == "plugin":
        if "path" not in raw:
            raise _err(source, f"{where}.path", "a plugin team needs path = 'my_strategy.py'")
        team.path = _path(raw["path"], f"{where}.path", source, base)
        if team.path.suffix != ".py":
            raise _err(source, f"{where}.path", f"{team.path.name} is not a .py file")
    elif kind == "schedule":
        given = [k for k in ("setpoints", "compartment") if k in raw]
        if len(given) != 1:
            raise _err(
                source, where, "a schedule team needs exactly one of setpoints = 'file.csv' or "
                "compartment = 'reference' | 'igrow' | 'croperators'"
            )  # fmt: skip
        if "setpoints" in raw:
            team.path = _path(raw["setpoints"], f"{where}.setpoints", source, base)
        else:
            from controllers.replay_log import SHIPPED

            comp = raw["compartment"]
            if not isinstance(comp, str) or comp.lower() not in SHIPPED:
                raise _err(
                    source, f"{where}.compartment", f"{comp!r} is not one of {', '.join(SHIPPED)}"
                )
            team.compartment = comp.lower()
    elif kind == "learned":
        if "model" in raw:
            team.model = _string(raw["model"], f"{where}.model", source)
    elif kind == "remote" and "token_sha256" in raw:
        token = _string(raw["token_sha256"], f"{where}.token_sha256", source)
        if not re.fullmatch(r"[0-9a-f]{8,64}\$[0-9a-f]{64}", token):
            raise _err(
                source, f"{where}.token_sha256", "must be 'salt$sha256hex' as `serra compete "
                "serve` prints it (hex salt, 64 hex digits)"
            )  # fmt: skip
        team.token_sha256 = token
    return team


def parse_competition(doc: dict[str, Any], source: str, base: Path) -> CompetitionSpec:
    """Check a parsed competition document; raise CompeteError naming the first bad key."""
    unknown = sorted(set(doc) - _TOP)
    if unknown:
        raise _err(source, unknown[0], f"unknown key; allowed: {', '.join(sorted(_TOP))}")
    seed = doc.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise _err(source, "seed", f"must be a whole number >= 0, got {seed!r}")
    season = _table(doc, "season", _SEASON, source)
    weather = season.get("weather", "agc2018")
    weather = _string(weather, "season.weather", source)
    if weather not in SHIPPED_WEATHER:
        weather = str(_path(weather, "season.weather", source, base))
    start = season.get("start")
    if start is not None:
        start = _string(start, "season.start", source)
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", start):
            raise _err(source, "season.start", f"{start!r} is not a date YYYY-MM-DD")
    days = season.get("days")
    if days is not None:
        days = _number(days, "season.days", source, lo=1 / 24, hi=366)
    green = _table(doc, "greenhouse", _GREENHOUSE, source)
    config = (
        _path(green["config"], "greenhouse.config", source, base) if "config" in green else None
    )
    prices = (
        _path(green["prices"], "greenhouse.prices", source, base) if "prices" in green else None
    )
    dec = _table(doc, "decisions", _DECISIONS, source)
    interval = _number(dec.get("interval_s", 3600), "decisions.interval_s", source, lo=60, hi=86400)
    if 86400 % interval:
        raise _err(source, "decisions.interval_s", f"{interval:g} s must divide a day (86400 s)")
    deadline = _number(dec.get("deadline_s", 10), "decisions.deadline_s", source, lo=0.01, hi=3600)
    fc = _table(doc, "forecast", _FORECAST, source)
    hours = _number(fc.get("hours", 0), "forecast.hours", source, lo=0, hi=240)
    teams_raw = doc.get("teams")
    if not isinstance(teams_raw, list) or not teams_raw:
        raise _err(source, "teams", "give at least one [[teams]] table with name and kind")
    teams = [_team(raw, i, source, base) for i, raw in enumerate(teams_raw)]
    seen: set[str] = set()
    for i, t in enumerate(teams):
        if t.name in seen:
            raise _err(source, f"teams[{i}].name", f"{t.name!r} is used twice; names are unique")
        seen.add(t.name)
    name = doc.get("name", Path(source).stem)
    return CompetitionSpec(
        source=source,
        name=_string(name, "name", source),
        seed=seed,
        weather=weather,
        start=start,
        days=days,
        config=config,
        prices=prices,
        interval_s=interval,
        deadline_s=deadline,
        forecast_hours=hours,
        teams=teams,
    )


def load_competition(path: str | Path) -> CompetitionSpec:
    """Read and check a competition TOML file (CompeteError, one line, on any problem)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CompeteError(f"{path}: no such competition file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CompeteError(f"{path}: cannot read it ({exc})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CompeteError(f"{p.name}: not valid TOML ({exc})") from None
    return parse_competition(doc, p.name, p.resolve().parent)
