"""The learned strategy in the real-time loop: a 24 h plan per day (or hour) from the past only.

The loop asks its strategy for one row of setpoints every few plant minutes. `RealtimeLearned`
answers from the plan in force and re-plans on its cadence: `day` plans the local day at each
local midnight, `hour` plans the next 24 h at each whole hour. It plans from what the greenhouse
has seen, never from a simulator: the crop state estimated from its own measurements
(controllers.crop_estimate) and a persistence forecast, the weather its station observed in the
24 h before each planned time (recorded ticks at start, then each reading).

The first plan is made at once (nothing to keep meanwhile); later plans are made in a worker
thread while the previous plan stays in force, so planning (0.1-0.8 s) never holds a tick. Each
plan and each fallback to grower rules (model refused or failing, not a full day of observed
weather, inputs outside the model's training range) is an event the loop records
(`take_events`): plans as `strategy_decision` with the predicted gain and the reasons in grower
words, fallbacks as `strategy_fallback` with their one-line reason.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from controllers.crop_estimate import CropEstimate
from controllers.day_plan import plan_setpoints
from controllers.learned_strategy import LearnedStrategy
from controllers.records import Event
from controllers.strategy import StrategyContext, make_context

#: Re-planning cadences.
PLAN_EVERY: tuple[str, ...] = ("day", "hour")
#: Row spacing of a planned 24 h (s).
PLAN_STEP_S = 300.0
DAY_S = 86400.0
#: Weather signals the persistence forecast is made of.
WEATHER_SIGNALS: tuple[str, ...] = ("tout_c", "iglob_w_m2", "rhout_pct", "wind_m_s")
#: Largest hole in the observed weather a forecast may bridge (s), and the slack at its ends.
MAX_GAP_S = 3 * 3600.0
EDGE_S = 1800.0


class WeatherHistory:
    """The weather the greenhouse's station observed, the last `keep_s` seconds of it."""

    def __init__(self, keep_s: float = 3 * DAY_S) -> None:
        self.keep_s = keep_s
        self.t: list[float] = []
        self.values: dict[str, list[float]] = {k: [] for k in WEATHER_SIGNALS}

    def add(self, t_s: float, values: Mapping[str, float | None]) -> bool:
        """Keep one observation (every signal good and finite, later than the last); say if kept."""
        row = [values.get(k) for k in WEATHER_SIGNALS]
        if any(v is None or not math.isfinite(float(v)) for v in row):
            return False
        if self.t and t_s <= self.t[-1]:
            return False
        self.t.append(float(t_s))
        for k, v in zip(WEATHER_SIGNALS, row, strict=True):
            self.values[k].append(float(v))  # type: ignore[arg-type]
        cut = 0
        while cut < len(self.t) and self.t[cut] < t_s - self.keep_s:
            cut += 1
        if cut:
            del self.t[:cut]
            for k in WEATHER_SIGNALS:
                del self.values[k][:cut]
        return True

    def persistence(self, times_s: np.ndarray) -> tuple[dict[str, np.ndarray] | None, str]:
        """The weather observed 24 h before each of `times_s`, or (None, why it cannot be).

        Only observations before the first planned time count: nothing seen from then on (the
        hour already begun, in hourly planning) reaches the forecast, not even by interpolation.
        """
        times_s = np.asarray(times_s, dtype=np.float64)
        past = times_s - DAY_S
        t = np.asarray(self.t)
        known = t < times_s[0]
        t = t[known]
        inside = t[(t >= past[0] - EDGE_S) & (t <= past[-1] + EDGE_S)]
        gaps = np.diff(inside)
        covered_h = float(gaps[gaps <= MAX_GAP_S].sum()) / 3600.0 if len(inside) > 1 else 0.0
        whole = (
            len(inside) > 1
            and inside[0] <= past[0] + EDGE_S
            and inside[-1] >= past[-1] - EDGE_S
            and float(gaps.max()) <= MAX_GAP_S
        )
        if not whole:
            span_h = (past[-1] - past[0]) / 3600.0
            return None, (
                f"observed weather covers {min(covered_h, span_h):.1f} h of the {span_h:.0f} h "
                "before the plan; the persistence forecast needs all of it"
            )
        return {
            k: np.interp(past, t, np.asarray(self.values[k])[known]) for k in WEATHER_SIGNALS
        }, ""


class RealtimeLearned:
    """The learned strategy behind the loop's one-row Strategy protocol; see the module doc.

    `learned` plans (its `fallback` grower rules are the rules in force); `site` is the loop's
    site; `plan_every` "day" or "hour"; `weather` the observed weather so far (e.g. recorded).
    """

    name = "learned"

    def __init__(
        self,
        learned: LearnedStrategy,
        site: Any,
        *,
        plan_every: str = "day",
        weather: WeatherHistory | None = None,
        crop: CropEstimate | None = None,
    ) -> None:
        if plan_every not in PLAN_EVERY:
            raise ValueError(f"plan every {plan_every!r}: use day or hour")
        self.learned = learned
        self.rules = learned.fallback
        self.settings = self.rules.settings
        self.site = site
        self.plan_every = plan_every
        self.weather = weather or WeatherHistory()
        self.crop = crop or CropEstimate(site.to_array())
        self.model_name = learned.model.name if learned.model else None
        self.plan: np.ndarray | None = None  # the plan values in force (None: grower rules)
        self.plans_made = 0
        self._key: float | None = None
        self._worker: threading.Thread | None = None
        self._result: tuple[float, np.ndarray | None, list[Event]] | None = None
        self._lock = threading.Lock()
        self._events: list[Event] = []

    # -- the loop's side -------------------------------------------------------------------
    def setpoints(self, times_s: np.ndarray, context: StrategyContext) -> np.ndarray:
        """Setpoints of the plan in force (grower rules without one); re-plans when due."""
        times_s = np.asarray(times_s, dtype=np.float64)
        now = float(times_s[-1])
        seen = dict(context.state or {})
        self.crop.update(now, seen)
        self.weather.add(now, seen)
        self._collect(now)
        start = self._window_start(now, float(np.asarray(context.local_hour)[-1]))
        if start != self._key and self._worker is None:
            self._key = start
            self._start_plan(now, start)
        if self.plan is None:
            return self.rules.setpoints(times_s, context)
        return plan_setpoints(self.plan, times_s, context, self.rules)

    def take_events(self) -> list[Event]:
        """The plan and fallback events since the last call (the loop records them)."""
        with self._lock:
            out, self._events = self._events, []
        return out

    def wait_for_plan(self, timeout_s: float | None = None) -> bool:
        """Wait for a plan being made in the worker; say whether none is running any more."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout_s)
        return worker is None or not worker.is_alive()

    # -- planning --------------------------------------------------------------------------
    def _window_start(self, now: float, local_hour: float) -> float:
        if self.plan_every == "hour":
            return math.floor(now / 3600.0) * 3600.0
        return round(now - local_hour * 3600.0)  # the local day's midnight

    def _start_plan(self, now: float, start: float) -> None:
        times = start + np.arange(round(DAY_S / PLAN_STEP_S)) * PLAN_STEP_S
        forecast, why = self.weather.persistence(times)
        if forecast is None:
            self._finish(now, None, [self._fallback_event(now, times, why)])
            return
        context = make_context(self.site, times, weather=forecast, state=self.crop.state(now))
        if self.plans_made == 0:
            self._finish(now, *self._plan(now, times, context))
            return
        self._worker = threading.Thread(
            target=self._plan_in_worker,
            args=(now, times, context),
            name="learned-plan",
            daemon=True,
        )
        self._worker.start()

    def _plan_in_worker(self, now: float, times: np.ndarray, context: StrategyContext) -> None:
        plan, events = self._plan(now, times, context)
        with self._lock:
            self._result = (now, plan, events)

    def _plan(
        self, now: float, times: np.ndarray, context: StrategyContext
    ) -> tuple[np.ndarray | None, list[Event]]:
        """One plan: (its values, [decision event]) or (None, [fallback event]); never raises."""
        learned = self.learned
        n_dec, n_ev = len(learned.decisions), len(learned.events)
        t0 = time.perf_counter()
        try:
            learned.setpoints(times, context)
        except Exception as exc:  # a model that fails later: grower rules, with the reason
            reason = f"planning failed ({type(exc).__name__}: {exc})".replace("\n", " ")
            return None, [self._fallback_event(now, times, reason)]
        took = time.perf_counter() - t0
        if len(learned.events) > n_ev:
            reason = learned.events[-1]["reason"]
            return None, [self._fallback_event(now, times, reason)]
        if len(learned.decisions) == n_dec or learned.last_plan is None:
            return None, [self._fallback_event(now, times, "the planner returned no plan")]
        decision = learned.decisions[-1]
        gain = decision["predicted_gain_eur_m2"]
        message = (
            f"Learned plan for {self._when(times)} (model {self.model_name}): predicted gain "
            f"{gain:+.3f} €/m² over the grower rules; " + "; ".join(decision["reasons"])
        )
        data = {
            **decision,
            "model": self.model_name,
            "plan_every": self.plan_every,
            "window_start_s": float(times[0]),
            "planning_s": round(took, 3),
        }
        event = Event(now, "strategy_decision", "learned", message, data=data)
        return learned.last_plan.copy(), [event]

    def _finish(self, now: float, plan: np.ndarray | None, events: list[Event]) -> None:
        self.plan = plan
        self.plans_made += 1
        crop = {"crop_estimate": self.crop.saved()}  # what a restart continues from
        events = [Event(e.time_s, e.kind, e.source, e.message, e.who, {**e.data, **crop})
                  for e in events]  # fmt: skip
        with self._lock:
            self._events.extend(events)

    def _collect(self, now: float) -> None:
        """Put a plan finished in the worker in force."""
        with self._lock:
            result, self._result = self._result, None
        if result is None:
            return
        self._worker = None
        _, plan, events = result
        self._finish(now, plan, [_at(e, now) for e in events])

    def _when(self, times: np.ndarray) -> str:
        tz = getattr(self.site, "timezone", "UTC")
        from zoneinfo import ZoneInfo

        t0 = datetime.fromtimestamp(float(times[0]), UTC).astimezone(ZoneInfo(tz))
        if self.plan_every == "hour":
            return f"the 24 h from {t0.strftime('%Y-%m-%d %H:%M')}"
        return t0.date().isoformat()

    def _fallback_event(self, now: float, times: np.ndarray, reason: str) -> Event:
        return Event(
            now,
            "strategy_fallback",
            "learned",
            f"Learned strategy fell back to the grower rules for {self._when(times)}: {reason}",
            data={
                "reason": reason,
                "model": self.model_name,
                "plan_every": self.plan_every,
                "window_start_s": float(times[0]),
            },
        )


def _at(event: Event, now: float) -> Event:
    """`event` dated when the loop takes it in force."""
    return Event(now, event.kind, event.source, event.message, event.who, event.data)
