"""The learned strategy: each day, search plans with CMA-ES against the day model's predictions.

It plans from the crop state reached and a weather forecast only (the season runner hands it a
forecaster's view, never the day's weather), maximises predicted revenue minus predicted costs at
the configured prices, and keeps to a grower's guardrails: bounds per plan value and a maximum
change per day. It falls back to the grower rules (an event with its reason) when the model is
missing or refused, on the first day (nothing seen yet), or when the day's inputs lie outside
what the model saw in training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import cma
import numpy as np

from controllers.day_plan import PLAN_BOUNDS, clip_plan, grower_anchor, grower_plan, plan_setpoints
from controllers.forecast import NoisyForecast, PersistenceForecast
from controllers.grower_rules import GrowerRules
from controllers.strategy import StrategyContext, utc_offsets_s
from models.features import CROP_FEATURES, FEATURES, PLAN_FEATURES, TARGETS, weather_features
from models.registry import LoadedModel, Registry, RegistryError
from sim.economics import MJ_PER_KWH, Prices, load_prices, price_per_piece_a

#: Largest change of each plan value from one day to the next (a grower's guardrail).
MAX_CHANGE: dict[str, float] = {
    "plan_heat_day_c": 1.5,
    "plan_heat_night_c": 1.5,
    "plan_vent_offset_c": 1.0,
    "plan_co2_day_ppm": 200.0,
    "plan_lamp_hours_h": 4.0,
    "plan_screen_energy_max_pct": 50.0,
    "plan_irrigation_interval_min": 15.0,
}
#: Trust region: how far each plan value may move from today's grower plan (`grower_anchor`).
#: Lamp hours stay with the grower rules: a lamp hour pays in fruit weeks later, which a day model
#: does not see (free lamp hours cost 17 % of net profit on held-out weather). Screen and
#: irrigation are free within the bounds.
TRUST: dict[str, float] = {
    "plan_heat_day_c": 1.0,
    "plan_heat_night_c": 1.0,
    "plan_vent_offset_c": 1.0,
    "plan_co2_day_ppm": 300.0,
    "plan_lamp_hours_h": 0.0,
    "plan_screen_energy_max_pct": 100.0,
    "plan_irrigation_interval_min": 50.0,
}
#: Grower words for the plan values (decisions are read by growers).
PLAN_WORDS: dict[str, str] = {
    "plan_heat_day_c": "heating by day",
    "plan_heat_night_c": "heating by night",
    "plan_vent_offset_c": "vent margin above heating",
    "plan_co2_day_ppm": "CO₂ by day",
    "plan_lamp_hours_h": "lamp hours",
    "plan_screen_energy_max_pct": "energy screen at most",
    "plan_irrigation_interval_min": "irrigation interval",
}
#: Mean fresh weight of a harvested fruit used to price predicted growth (kg; the simulated
#: seasons give 0.38-0.42).
FRUIT_KG = 0.40
_T = {t: TARGETS.index(t) for t in TARGETS}
_PLAN0 = len(FEATURES) - len(PLAN_FEATURES)  # crop and weather features come first


@dataclass
class LearnedStrategy:
    """Plans each day with a day model; see the module docstring. `decisions` and `events`
    record every planned day and every fallback, with reasons."""

    model_name: str | None = None
    registry: Registry | None = None
    #: A model already loaded (e.g. checked at a command's start): used instead of loading one.
    loaded: LoadedModel | None = None
    forecaster: PersistenceForecast | NoisyForecast = field(default_factory=PersistenceForecast)
    prices: Prices | None = None
    bounds: dict[str, tuple[float, float]] = field(default_factory=lambda: dict(PLAN_BOUNDS))
    max_change: dict[str, float] = field(default_factory=lambda: dict(MAX_CHANGE))
    trust: dict[str, float] = field(default_factory=lambda: dict(TRUST))
    #: Predicted EUR/m2 a day a plan value must earn to move to its trust-region edge (grows
    #: with the square of the move): a weak model keeps near the grower plan unless sure.
    trust_penalty_eur_m2: float = 0.1
    popsize: int = 12
    iterations: int = 10
    seed: int = 0
    name: str = "learned"
    decisions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.fallback = GrowerRules()
        self.settings = self.fallback.settings
        self.prices = self.prices or load_prices()
        self.model: LoadedModel | None = self.loaded
        self.load_problem = ""
        if self.model is None:
            try:
                self.model = (self.registry or Registry()).load(self.model_name)
            except RegistryError as exc:
                self.load_problem = str(exc)
        self._last_plan: np.ndarray | None = None
        self._anchor = grower_plan()

    @property
    def last_plan(self) -> np.ndarray | None:
        """The plan values (PLAN_FEATURES order) of the last day planned; None after a fallback."""
        return self._last_plan

    def _fall_back(self, times_s: np.ndarray, context: StrategyContext, reason: str) -> np.ndarray:
        day = _date(times_s, context)
        self.events.append({"date": day, "kind": "fallback", "reason": reason})
        self._last_plan = None
        return self.fallback.setpoints(times_s, context)

    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        """The day's setpoints: the best plan found, or the grower rules with a reason."""
        times_s = np.asarray(times_s, dtype=np.float64)
        if self.model is None:
            return self._fall_back(times_s, context, f"no model: {self.load_problem}")
        if not context.state or not context.weather:
            return self._fall_back(times_s, context, "no crop state or forecast yet (first day)")
        step = float(times_s[1] - times_s[0]) if len(times_s) > 1 else 3600.0
        base = self.fallback.setpoints(times_s, context)
        self._anchor = grower_anchor(base, step)
        fixed = self._fixed_features(times_s, context, step)
        outside = self.model.out_of_range(np.concatenate([fixed, self._anchor]))
        outside = [o for o in outside if not o.startswith("plan_")]
        if outside:
            return self._fall_back(
                times_s, context, "outside training range: " + "; ".join(outside)
            )
        plan, gain, parts = self._search(fixed, times_s, context)
        self._record(times_s, context, plan, gain, parts)
        self._last_plan = plan
        return plan_setpoints(plan, times_s, context, self.fallback, base)

    def _fixed_features(self, times_s, context: StrategyContext, step: float) -> np.ndarray:
        state = dict(context.state or {})
        crop = [
            state["day_index"] if name == "days_since_planting_d" else state[name]
            for name in CROP_FEATURES
        ]
        day_length = float(context.sunset_s[0] - context.sunrise_s[0]) / 3600.0
        wf = weather_features(context.weather, step, day_length)
        return np.array([*crop, *(wf[n] for n in FEATURES[len(CROP_FEATURES) : _PLAN0])])

    def _box(self) -> tuple[np.ndarray, np.ndarray]:
        """Today's allowed box: the bounds, the model's training range, the trust region around
        the grower plan and the daily change from yesterday's plan (dropped when the grower plan
        itself moved further, e.g. lamps allowed from 1 September)."""
        lo, hi = [], []
        ranges = self.model.meta["input_ranges"] if self.model else {}
        last = self._anchor if self._last_plan is None else self._last_plan
        for j, name in enumerate(PLAN_FEATURES):
            b_lo, b_hi = self.bounds[name]
            r_lo, r_hi = ranges.get(name, (b_lo, b_hi))
            a, t, d = self._anchor[j], self.trust[name], self.max_change[name]
            t_lo, t_hi = max(b_lo, a - t), min(b_hi, a + t)
            j_lo, j_hi = max(t_lo, r_lo, last[j] - d), min(t_hi, r_hi, last[j] + d)
            if j_lo > j_hi:
                j_lo, j_hi = t_lo, t_hi
            lo.append(j_lo)
            hi.append(max(j_lo, j_hi))
        return np.array(lo), np.array(hi)

    def _value(
        self, fixed: np.ndarray, plans: np.ndarray, week: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted gain (EUR/m2) of each plan, and the model's predictions."""
        assert self.model is not None and self.prices is not None
        X = np.hstack([np.tile(fixed, (len(plans), 1)), plans])
        Y = self.model.model.predict(X)
        p = self.prices
        price_kg = float(price_per_piece_a(p, np.array([min(53, week + 2)]))[0]) / FRUIT_KG
        lamp_h = plans[:, PLAN_FEATURES.index("plan_lamp_hours_h")]
        peak_h = np.minimum(lamp_h, max(0.0, 18.0 - p.peak_start_hour))
        peak_share = np.where(lamp_h > 0, peak_h / np.maximum(lamp_h, 1e-9), 0.0)
        elec_price = (
            peak_share * p.electricity_peak_eur_per_kwh
            + (1 - peak_share) * p.electricity_offpeak_eur_per_kwh
        )
        gain = (
            np.maximum(Y[:, _T["fruit_growth_kg_m2"]], 0.0) * price_kg
            - np.maximum(Y[:, _T["heat_kwh_m2"]], 0.0) * MJ_PER_KWH * p.heat_eur_per_mj
            - np.maximum(Y[:, _T["electricity_kwh_m2"]], 0.0) * elec_price
            - np.maximum(Y[:, _T["co2_kg_m2"]], 0.0) * p.co2_eur_per_kg
            - np.maximum(Y[:, _T["water_l_m2"]], 0.0) / 1000.0 * p.water_eur_per_m3
        )
        return gain, Y

    def _search(self, fixed, times_s, context):
        lo, hi = self._box()
        week = datetime.fromtimestamp(float(times_s[0]), UTC).isocalendar().week
        width = np.where(hi > lo, hi - lo, 1.0)
        x0 = np.clip((self._anchor - lo) / width, 0.0, 1.0)
        es = cma.CMAEvolutionStrategy(
            x0, 0.3,
            {"bounds": [0.0, 1.0], "popsize": self.popsize, "maxiter": self.iterations,
             "seed": self.seed + len(self.decisions) + 1, "verbose": -9},
        )  # fmt: skip
        best_x, best_gain = x0, -math.inf
        scale = np.array([max(self.trust[n], 1e-9) for n in PLAN_FEATURES])
        while not es.stop():
            xs = np.array(es.ask())
            plans = lo + xs * (hi - lo)
            gain, _ = self._value(fixed, plans, week)
            gain = gain - self.trust_penalty_eur_m2 * (((plans - self._anchor) / scale) ** 2).sum(
                axis=1
            )
            es.tell(list(xs), list(-gain))
            k = int(np.argmax(gain))
            if gain[k] > best_gain:
                best_gain, best_x = float(gain[k]), xs[k]
        plan = clip_plan(lo + best_x * (hi - lo), self.bounds)
        both, Y = self._value(fixed, np.vstack([plan, self._anchor]), week)
        return plan, float(both[0] - both[1]), {"plan": both[0], "grower": both[1], "Y": Y[0]}

    def _record(self, times_s, context, plan, gain, parts) -> None:
        base = self._anchor
        width = np.array([self.bounds[n][1] - self.bounds[n][0] for n in PLAN_FEATURES])
        moved = np.argsort(-np.abs(plan - base) / width)[:3]
        reasons = [
            f"{PLAN_WORDS[PLAN_FEATURES[j]]} {plan[j]:.3g} (grower rules {base[j]:.3g})"
            for j in moved
        ]
        Y = parts["Y"]
        self.decisions.append(
            {
                "date": _date(times_s, context),
                "plan": {n: round(float(v), 3) for n, v in zip(PLAN_FEATURES, plan, strict=True)},
                "predicted_gain_eur_m2": round(gain, 4),
                "predicted": {t: round(float(Y[j]), 4) for t, j in _T.items()},
                "reasons": reasons,
            }
        )

    def summary(self) -> dict[str, Any]:
        """Decisions in brief for the season summary JSON."""
        fallbacks: dict[str, int] = {}
        for e in self.events:
            key = e["reason"].split(":")[0]
            fallbacks[key] = fallbacks.get(key, 0) + 1
        gains = [d["predicted_gain_eur_m2"] for d in self.decisions]
        return {
            "model": self.model.name if self.model else None,
            "days_planned": len(self.decisions),
            "days_fallback": len(self.events),
            "fallback_reasons": fallbacks,
            "first_fallback": self.events[0] if self.events else None,
            "predicted_gain_eur_m2_total": round(float(sum(gains)), 3),
            "last_decision": {k: v for k, v in self.decisions[-1].items() if k != "predicted"}
            if self.decisions
            else None,
        }


def _date(times_s: np.ndarray, context: StrategyContext) -> str:
    t = np.asarray(times_s[:1], dtype=np.float64)
    local = float(t[0] + utc_offsets_s(t, np.asarray(context.local_hour[:1]))[0])
    return datetime.fromtimestamp(local, UTC).date().isoformat()


def make_strategy(model: str | None = None) -> LearnedStrategy:
    """The learned strategy with the named model (None: the active one), for competition teams;
    RegistryError when the model cannot be loaded, so a team never plays grower rules unsaid."""
    strategy = LearnedStrategy(model_name=model)
    if strategy.model is None:
        raise RegistryError(strategy.load_problem)
    return strategy
