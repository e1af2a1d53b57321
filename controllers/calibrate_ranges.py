"""Which greenhouse parameters may be fitted, and within which range (sim/greenhouse_ranges.toml).

Every fittable `section.key` has a documented range `[lo, hi]` with its unit and source in the
comment of its line. A key of `sim/greenhouse.toml` without a range (geometry, installed
capacities, crop parameters) is refused by `parse_fit`, as is an unknown key.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass
from importlib import resources

from sim.config import PARAM_NAMES, ConfigError, check_param

RANGES_FILE = "sim/greenhouse_ranges.toml"
#: A range spanning this factor or more is searched on a log scale (e.g. leakage 2e-5..5e-4).
LOG_SCALE_RATIO = 10.0
_LINE = re.compile(r"^\s*([A-Za-z_][\w]*\.[A-Za-z_]\w*)\s*=\s*\[[^\]]*\]\s*#\s*(.*)$")


class FitError(ValueError):
    """A --fit request that cannot be honoured; the message is one line saying what to fix."""


@dataclass(frozen=True)
class ParamRange:
    """A fittable greenhouse parameter: its bounds, and the unit and source of the range."""

    name: str
    lo: float
    hi: float
    note: str = ""

    @property
    def log_scale(self) -> bool:
        """True when the range spans a factor of LOG_SCALE_RATIO or more (searched in log)."""
        return self.lo > 0 and self.hi / self.lo >= LOG_SCALE_RATIO

    def to_unit(self, value: float) -> float:
        """`value` mapped to 0..1 over the range (log-spaced for a wide range), clipped."""
        v = min(max(value, self.lo), self.hi)
        if self.log_scale:
            return math.log(v / self.lo) / math.log(self.hi / self.lo)
        return (v - self.lo) / (self.hi - self.lo)

    def from_unit(self, u: float) -> float:
        """The parameter value at `u` in 0..1 (the inverse of `to_unit`)."""
        u = min(max(float(u), 0.0), 1.0)
        if self.log_scale:
            return self.lo * (self.hi / self.lo) ** u
        return self.lo + u * (self.hi - self.lo)


def load_ranges(text: str | None = None) -> dict[str, ParamRange]:
    """The fitting ranges by `section.key`, read from the shipped file (or `text`).

    Raises ConfigError when a range names an unknown parameter, is not `[lo, hi]` with
    lo < hi, or holds values the parameter may not take.
    """
    if text is None:
        text = resources.files("sim").joinpath("greenhouse_ranges.toml").read_text("utf-8")
    notes = {m.group(1): m.group(2).strip() for m in map(_LINE.match, text.splitlines()) if m}
    data = tomllib.loads(text)
    out: dict[str, ParamRange] = {}
    for section, table in data.items():
        for key, pair in table.items():
            name = f"{section}.{key}"
            where = f"{RANGES_FILE}: {name}"
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in pair)
            ):
                raise ConfigError(f"{where} must be [lo, hi], got {pair!r}")
            lo, hi = (check_param(name, x, RANGES_FILE) for x in pair)
            if not lo < hi:
                raise ConfigError(f"{where}: lo {lo:g} must be below hi {hi:g}")
            out[name] = ParamRange(name, lo, hi, notes.get(name, ""))
    return out


def parse_fit(items: list[str], ranges: dict[str, ParamRange] | None = None) -> list[ParamRange]:
    """The parameters `--fit` names (comma lists, repeatable), in order, each once.

    Raises FitError for an unknown key (naming the nearest ones) or a key without a range.
    """
    ranges = load_ranges() if ranges is None else ranges
    names = [n.strip() for item in items for n in item.split(",") if n.strip()]
    if not names:
        raise FitError("--fit: name at least one parameter, e.g. --fit structure.h_in_w_m2_k")
    out: list[ParamRange] = []
    for name in names:
        if name not in PARAM_NAMES:
            close = difflib.get_close_matches(name, list(ranges) or PARAM_NAMES, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(close)}?" if close else "write section.key"
            raise FitError(f"--fit {name}: unknown greenhouse parameter; {hint}")
        if name not in ranges:
            section = name.split(".")[0]
            same = [r for r in ranges if r.startswith(section + ".")]
            fittable = ", ".join(same) if same else f"none in [{section}]"
            raise FitError(
                f"--fit {name}: no fitting range in {RANGES_FILE} (measure it on the "
                f"compartment or add a documented range); fittable: {fittable}"
            )
        if any(p.name == name for p in out):
            raise FitError(f"--fit {name}: named twice; name it once")
        out.append(ranges[name])
    return out
