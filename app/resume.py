"""Restart continuity: the grower rules applied last, and the simulated greenhouse's saved state.

Both live in the database a loop records to, so any restart (a clean stop or a kill -9) goes
on where the record stopped:

- grower rules: every `setpoint_change` event holds the whole rules put in force
  (`data["rules"]`, committed before the change returns); a start takes the last one written.
- the simulated greenhouse: its whole state (plant clock, climate, crop with fruit cohorts,
  slab water, ledgers, actuators) is saved under key "plant" of `sim_state` every
  `SAVE_EVERY_S` plant seconds and at a clean stop; a start resumes it and then moves the plant
  clock past the last record, so ticks never go back in time. A kill -9 loses at most
  `SAVE_EVERY_S` of plant evolution: those minutes are simulated again with the actuators as
  they were at the save.

A state or rules this Serra cannot use is refused in one line, logged, and the defaults (or a
fresh season) take over.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Key of the simulated greenhouse's state in `sim_state`.
PLANT_KEY = "plant"
#: Plant seconds between saves of the simulated greenhouse (what a kill -9 can lose at most).
SAVE_EVERY_S = 600.0
#: A resumed plant starts this many plant seconds after the last record (ticks never repeat).
AFTER_LAST_RECORD_S = 60.0
#: Gaps up to this long are simulated on resume; longer ones (a record from elsewhere) are
#: jumped over with the clock only.
MAX_CATCH_UP_S = 86400.0


def resumed_rules(store: Any) -> tuple[Any | None, str | None]:
    """(grower rules applied last in `store` or None, one-line reason they were refused or None)."""
    from controllers.grower_rules import GrowerRules
    from controllers.setpoints import SetpointError
    from store.events import last_with

    event = last_with(store, "setpoint_change", "rules")
    if event is None:
        return None, None
    try:
        return GrowerRules.from_dict(event.data["rules"]), None
    except SetpointError as exc:
        return None, str(exc)


def refused_rules_event(time_s: float, reason: str) -> Any:
    """The `setpoint_change` event that puts the default rules in force after a refusal."""
    from controllers.grower_rules import GrowerRules
    from controllers.records import Event

    return Event(
        time_s,
        "setpoint_change",
        "setpoints",
        f"saved grower rules refused ({reason}); the default rules are in force",
        who="serra",
        data={"refused": reason, "rules": GrowerRules().as_dict()},
    )


def rules_event(rules: Any, time_s: float, changed: dict[str, Any], who: str, why: str) -> Any:
    """The `setpoint_change` event of rules put in force, holding the whole rules."""
    from controllers.records import Event

    return Event(
        time_s,
        "setpoint_change",
        "setpoints",
        f"grower rules changed ({', '.join(changed) or 'none'}): {why}",
        who=who,
        data={"changed": changed, "why": why, "rules": rules.as_dict()},
    )


@dataclass
class ResumedPlant:
    """The plant to serve, and what to log about where it came from."""

    plant: Any
    resumed: bool
    message: str
    data: dict[str, Any] = field(default_factory=dict)

    def event(self) -> Any:
        """The `sim_started` event for the log."""
        from controllers.records import Event

        return Event(self.plant.time_s, "sim_started", "simulator", self.message, data=self.data)


def resume_plant(store: Any, weather: Any = None) -> ResumedPlant:
    """The simulated greenhouse continuing the record in `store`.

    Its saved state if there is one this Serra can use, else a fresh season placed at the last
    record's time in the weather (or at its start); either way the plant clock is moved past the
    last tick or event.
    """
    from sim.plant import Plant, PlantStateError
    from sim.weather import default_weather
    from store.errors import QueryError
    from store.state import last_record_s, load_state

    weather = weather if weather is not None else default_weather()
    with store.read():
        last = last_record_s(store)
        refused: str | None = None
        try:
            saved = load_state(store, PLANT_KEY)
        except QueryError as exc:
            saved, refused = None, str(exc)
    plant = None
    if saved is not None:
        try:
            plant = Plant.from_state(saved.state, weather=weather)
        except PlantStateError as exc:
            refused = str(exc)
    data: dict[str, Any] = {"resumed": plant is not None, "refused": refused}
    if plant is not None and saved is not None:
        data["saved_s"] = saved.time_s
        message = f"simulated greenhouse resumed from its state of {_utc(saved.time_s)}"
    else:
        plant = _fresh_plant(weather, last)
        message = f"simulated greenhouse started a fresh season at {_utc(plant.time_s)}"
        if refused:
            message += f" (saved state refused: {refused})"
    if last is not None and plant.time_s < last + AFTER_LAST_RECORD_S:
        gap = last + AFTER_LAST_RECORD_S - plant.time_s
        if gap <= MAX_CATCH_UP_S:
            plant.advance(gap)
        else:
            plant.jump_to(plant.time_s + gap)
        data["caught_up_s"] = gap
        message += f", continued after the last record ({_utc(last)})"
    data["plant_s"] = plant.time_s
    return ResumedPlant(plant, bool(data["resumed"]), message, data)


def _fresh_plant(weather: Any, last: float | None) -> Any:
    from sim.plant import Plant

    t = weather.time_s
    if last is not None and t[0] <= last < t[-1] - 86400.0:
        return Plant(weather=weather, start=datetime.fromtimestamp(last, UTC))
    return Plant(weather=weather)


def _utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")


class PlantSaver:
    """Saves the device's plant into the recorder's database every `every_s` plant seconds."""

    def __init__(self, device: Any, recorder: Any, every_s: float = SAVE_EVERY_S) -> None:
        self.device = device
        self.recorder = recorder
        self.every_s = every_s
        self.saved_s: float | None = None
        self.saves = 0

    def after_tick(self, record: Any = None) -> None:
        """Save if the last save is `every_s` plant seconds old (RecordingError if it fails)."""
        if self.saved_s is None or self.device.plant.time_s >= self.saved_s + self.every_s:
            self.save()

    def save(self) -> None:
        """Save now (RecordingError if it fails)."""
        time_s, state = self.device.plant_state()
        self.recorder.save_state(PLANT_KEY, time_s, state)
        self.saved_s = time_s
        self.saves += 1
