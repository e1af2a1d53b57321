"""The control loop against an in-memory bus over the real simulated plant, on a manual clock."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from controllers.climate_computer import CC_STATE
from controllers.clock import ManualClock, PlantClock
from controllers.grower_rules import GrowerRules
from controllers.loop import ControlLoop, LoopError, ScheduleReplay
from controllers.records import Event, TickRecord
from controllers.safety import DEFAULT_LIMITS
from controllers.setpoints import SETPOINTS
from controllers.strategy import make_context
from drivers.errors import PortError
from drivers.nodes import load_nodes
from drivers.readings import NodeHealth, Quality, Reading
from drivers.signals import ACTUATORS


class MemoryRecorder:
    """The Recorder protocol in memory (tests only): ticks, events, restore like the store."""

    def __init__(self) -> None:
        self.ticks: list[TickRecord] = []
        self.events: list[Event] = []
        self.flushes = 0
        self.fail = False
        self.dropped_ticks = 0

    def record_tick(self, record: TickRecord) -> None:
        if self.fail:
            raise OSError("disk full")
        self.ticks.append(record)

    def record_event(self, event: Event) -> None:
        if self.fail:
            raise OSError("disk full")
        self.events.append(event)

    def restore(self):
        if not self.ticks:
            return None
        last = self.ticks[-1]
        live: dict[str, dict] = {}
        for e in self.events:
            if e.kind == "override_set":
                live[e.data["actuator"]] = dict(e.data)
            elif e.kind == "override_ended":
                live.pop(e.data["actuator"], None)
        overrides = [o for o in live.values() if o["until_s"] > last.time_s]
        return {"setpoints": dict(last.setpoints), "overrides": overrides}

    def flush(self) -> None:
        self.flushes += 1

    def close(self) -> None:
        self.flush()

    def kinds(self, kind: str) -> list[Event]:
        return [e for e in self.events if e.kind == kind]


class PlantBus:
    """A bus without wires: the virtual greenhouse's signals read straight from a sim Plant.

    The plant advances `speed` plant seconds per clock second at each poll. `down` makes every
    poll and write fail (a pulled cable); `dead` lists signals that stop updating.
    """

    def __init__(self, plant, clock: ManualClock, speed: float) -> None:
        self.plant = plant
        self.clock = clock
        self.speed = speed
        self._last = clock()
        cfg = load_nodes()
        self.entries = {e.signal: (n.name, e) for n in cfg.nodes for e in n.regmap.entries}
        self._health = {n.name: NodeHealth(slave=n.slave) for n in cfg.nodes}
        self._values: dict[str, tuple[float, float]] = {}
        self._fails: dict[str, int] = {}
        self.down = False
        self.dead: set[str] = set()
        self.ignore: set[str] = set()  # actuators that do not move when written
        self.writes: list[dict[str, float]] = []

    def open(self) -> bool:
        return True

    def poll_once(self):
        now = self.clock()
        self.plant.advance(max(0.0, now - self._last) * self.speed)
        self._last = now
        src = {**self.plant.measurements(), **self.plant.actuators()}
        for name, (_node, _e) in self.entries.items():
            if self.down or name in self.dead:
                self._fails[name] = self._fails.get(name, 0) + 1
                continue
            self._values[name] = (round(src[name], 2), now)
            self._fails[name] = 0
        for h in self._health.values():
            if self.down:
                h.consecutive_failures += 1
            else:
                h.ok += 1
                h.consecutive_failures = 0
        return self.readings()

    def readings(self):
        out = {}
        for name, (node, e) in self.entries.items():
            v, ts = self._values.get(name, (None, None))
            if v is None:
                q = Quality.BAD
            elif self._fails.get(name, 0) >= 3:
                q = Quality.STALE
            else:
                q = Quality.GOOD
            out[name] = Reading(name, node, v, e.unit, q, ts)
        return out

    def write_many(self, commands):
        if self.down:
            raise PortError("port closed")
        self.writes.append(dict(commands))
        self.plant.apply({k: v for k, v in commands.items() if k not in self.ignore})

    def writable_signals(self):
        return {k: e for k, (_n, e) in self.entries.items() if e.writable}

    def health(self):
        return self._health


@pytest.fixture(scope="module")
def plant_factory():
    from sim.plant import Plant

    def make():
        plant = Plant()
        plant.advance(1.0)
        return plant

    return make


def build(plant_factory, speed=60.0, tick_s=1.0, strategy=None, recorder=None, **kw):
    clock = ManualClock(1000.0)
    plant = plant_factory()
    bus = PlantBus(plant, clock, speed)
    pc = PlantClock(plant.time_s, speed, clock)
    rec = recorder or MemoryRecorder()
    loop = ControlLoop(
        bus,
        strategy or GrowerRules(),
        rec,
        plant_clock=pc,
        clock=clock,
        sleep=clock.sleep,
        tick_s=tick_s,
        **kw,
    )
    return loop, bus, rec, clock, plant


def test_ticks_record_measurements_setpoints_commands(plant_factory):
    loop, _bus, rec, _clock, plant = build(plant_factory)
    n = loop.run(max_ticks=30)
    assert n == 30
    assert len(rec.ticks) == 30
    t = [r.time_s for r in rec.ticks]
    # one tick = 1 clock second = 60 plant seconds
    assert np.allclose(np.diff(t), 60.0)
    assert rec.ticks[5].health["dt_s"] == pytest.approx(60.0)
    last = rec.ticks[-1]
    assert set(last.setpoints) == set(SETPOINTS)
    assert set(last.commands) == set(ACTUATORS)
    assert last.mode == "normal"
    assert 15.0 < last.measurements["tair_c"] < 35.0
    # the commands written on one tick are what the next tick reads back
    for a in ("pipe_sp_c", "vent_lee_pct"):
        assert rec.ticks[-1].readbacks[a] == pytest.approx(rec.ticks[-2].commands[a], abs=0.01)
    kinds = [e.kind for e in rec.events]
    assert kinds[0] == "loop_started" and kinds[-1] == "loop_stopped"
    assert rec.flushes == 1
    # stopped: every actuator left at its fail-safe value
    assert plant.actuators()["co2_valve_pct"] == 0.0
    assert plant.actuators()["pipe_sp_c"] == DEFAULT_LIMITS["pipe_sp_c"].failsafe


def test_climate_computer_state_carries_across_ticks(plant_factory):
    loop, _bus, rec, _clock, _plant = build(plant_factory)
    loop.run(max_ticks=3)
    state = loop._cc_state
    # the last tick's clock hour and the lee vent position live in the kept state
    i = CC_STATE.index("last_local_hour")
    assert state[0, i] == pytest.approx(loop._local_hour(rec.ticks[-1].time_s), abs=1e-6)
    j = CC_STATE.index("vent_lee_pos_pct")
    assert state[0, j] == pytest.approx(rec.ticks[-1].commands["vent_lee_pct"], abs=1e-6)


def test_stale_inputs_fail_safe_then_ramp_back(plant_factory):
    loop, bus, rec, clock, _plant = build(plant_factory)
    loop.run(max_ticks=20)
    loop.stop_event.clear()
    before = rec.ticks[-1].commands
    bus.dead = {"tair_c", "co2_ppm"}
    loop.start()
    for _ in range(4):
        clock.advance(1.0)
        loop.tick()
    r = rec.ticks[-1]
    assert r.mode == "failsafe"
    assert r.commands["co2_valve_pct"] == 0.0
    assert "pipe_sp_c" in loop.last_safety.failsafe
    assert loop.alarms.is_active("sensor_stale:tair_c")
    # heating approaches its frost-safe 40 C at <= 3 C per plant minute, from where it was
    steps = [
        abs(b.commands["pipe_sp_c"] - a.commands["pipe_sp_c"])
        for a, b in zip(rec.ticks[-5:-1], rec.ticks[-4:], strict=True)
    ]
    assert max(steps) <= 3.0 + 1e-9
    bus.dead = set()
    for _ in range(30):
        clock.advance(1.0)
        loop.tick()
    assert rec.ticks[-1].mode == "normal"
    assert not loop.alarms.is_active("sensor_stale:tair_c")
    cleared = [e for e in rec.kinds("alarm_cleared") if e.data["alarm"] == "sensor_stale:tair_c"]
    assert len(cleared) == 1
    # no jump back: every step of the vents and the pipe is within its rate limit
    tail = rec.ticks[-31:]
    for a in ("pipe_sp_c", "vent_lee_pct", "screen_energy_pct"):
        rate = DEFAULT_LIMITS[a].rate_per_min
        d = np.abs(np.diff([t.commands[a] for t in tail]))
        assert d.max() <= rate + 1e-9, a
    assert before  # the loop ran normally before the fault


def test_sensor_missing_from_the_bus_raises_an_alarm_naming_the_held_actuators(plant_factory):
    loop, bus, rec, _clock, _plant = build(plant_factory)
    for m in ("wind_m_s", "rain"):  # a nodes file without the weather station's wind and rain
        del bus.entries[m]
    loop.run(max_ticks=5)
    raised = {e.data["alarm"]: e for e in rec.kinds("alarm_raised")}
    assert set(raised) == {"sensor_missing:wind_m_s", "sensor_missing:rain"}
    first = rec.ticks[0].time_s
    for key in raised:
        assert raised[key].time_s == first  # on the first tick, not after a timeout
        assert raised[key].data["actuators"] == ["vent_lee_pct", "vent_wind_pct"]
    assert "held in fail-safe: vent_lee_pct, vent_wind_pct" in raised["sensor_missing:rain"].message
    # the vents are held at their fail-safe values; what does not need wind or rain is not
    assert all(t.commands["vent_lee_pct"] == 5.0 for t in rec.ticks[1:])
    assert all(t.commands["vent_wind_pct"] == 0.0 for t in rec.ticks)
    assert set(loop.last_safety.failsafe) == {"vent_lee_pct", "vent_wind_pct"}


def test_override_forces_until_expiry_with_who_and_why(plant_factory):
    loop, _bus, rec, clock, _plant = build(plant_factory)
    loop.run(max_ticks=5)
    loop.stop_event.clear()
    t_set = loop.plant_clock()
    loop.set_override("vent_lee_pct", 0.0, 30 * 60, who="anna", why="spraying")
    for _ in range(40):
        clock.advance(1.0)
        loop.tick()
    s = rec.kinds("override_set")[-1]
    assert s.who == "anna" and s.data["why"] == "spraying"
    assert s.data["until_s"] == pytest.approx(t_set + 1800.0)
    e = rec.kinds("override_ended")[-1]
    assert e.data["reason"] == "expired"
    assert t_set + 1800.0 <= e.time_s < t_set + 1800.0 + 61.0
    during = [t for t in rec.ticks if t_set < t.time_s < t_set + 1800.0]
    after = [t for t in rec.ticks if t.time_s >= e.time_s]
    assert len(during) >= 29 and all(t.commands["vent_lee_pct"] == 0.0 for t in during)
    assert after[0].health["overrides_active"] == 0.0


def test_strategy_error_keeps_last_setpoints_and_raises_alarm(plant_factory):
    class Flaky(GrowerRules):
        broken = False

        def setpoints(self, times_s, context):
            if self.broken:
                raise RuntimeError("model file missing")
            return super().setpoints(times_s, context)

    strategy = Flaky()
    loop, _bus, rec, clock, _plant = build(plant_factory, strategy=strategy, strategy_every_s=60.0)
    loop.run(max_ticks=3)
    loop.stop_event.clear()
    sp = dict(rec.ticks[-1].setpoints)
    strategy.broken = True
    clock.advance(1.0)
    loop.tick()
    assert loop.alarms.is_active("strategy_error")
    assert rec.ticks[-1].setpoints == sp
    strategy.broken = False
    clock.advance(1.0)
    loop.tick()
    assert not loop.alarms.is_active("strategy_error")


def test_schedule_replay_replaces_strategy_columns(plant_factory):
    t0 = plant_factory().time_s
    sched = ScheduleReplay(GrowerRules(), np.array([t0 - 10.0]), {"heat_c": np.array([12.5])})
    loop, _bus, rec, _clock, _plant = build(plant_factory, strategy=sched)
    loop.run(max_ticks=3)
    assert all(t.setpoints["heat_c"] == 12.5 for t in rec.ticks)
    t = np.array([rec.ticks[-1].time_s])
    grower = GrowerRules().setpoints(t, make_context(loop.site, t))[0]
    assert rec.ticks[-1].setpoints["co2_ppm"] == pytest.approx(grower[SETPOINTS.index("co2_ppm")])
    assert grower[SETPOINTS.index("heat_c")] != 12.5


def test_new_strategy_takes_effect_on_the_next_tick(plant_factory):
    loop, _bus, rec, _clock, _plant = build(plant_factory, strategy_every_s=3600.0)
    loop.run(max_ticks=2)
    before = rec.ticks[-1].setpoints["heat_c"]
    warmer = GrowerRules.from_overrides({"heat_c": 24.0})
    loop.set_strategy(warmer)
    loop.run(max_ticks=1)
    t = np.array([rec.ticks[-1].time_s])
    expected = warmer.setpoints(t, make_context(loop.site, t))[0][SETPOINTS.index("heat_c")]
    assert rec.ticks[-1].setpoints["heat_c"] == pytest.approx(expected)
    assert expected > before + 1.0  # without waiting an hour for the strategy's cadence


def test_bus_down_alarm_and_writes_resume_from_readbacks(plant_factory):
    loop, bus, rec, clock, _plant = build(plant_factory)
    loop.run(max_ticks=10)
    loop.stop_event.clear()
    bus.down = True
    for _ in range(5):
        clock.advance(1.0)
        loop.tick()
    assert loop.alarms.is_active("bus_down")
    assert rec.ticks[-1].mode == "failsafe"
    bus.down = False
    clock.advance(1.0)
    loop.tick()
    assert not loop.alarms.is_active("bus_down")
    raised = [e for e in rec.kinds("alarm_raised") if e.data["alarm"] == "bus_down"]
    cleared = [e for e in rec.kinds("alarm_cleared") if e.data["alarm"] == "bus_down"]
    assert len(raised) == 1 and len(cleared) == 1 and cleared[0].time_s > raised[0].time_s


def test_actuator_not_following_raises_alarm(plant_factory):
    loop, bus, rec, _clock, plant = build(plant_factory)
    bus.ignore = {"pipe_sp_c"}
    plant.apply({"pipe_sp_c": 0.0})
    loop.run(max_ticks=20)
    assert any(e.data["alarm"] == "actuator_follow:pipe_sp_c" for e in rec.kinds("alarm_raised"))


def test_recording_error_raises_alarm_and_loop_goes_on(plant_factory):
    notified = []
    loop, bus, rec, clock, _plant = build(
        plant_factory, notify=lambda a: notified.append((a.key, a.state))
    )
    loop.run(max_ticks=2)
    loop.stop_event.clear()
    rec.fail = True
    writes = len(bus.writes)
    for _ in range(3):
        clock.advance(1.0)
        loop.tick()
    assert loop.alarms.is_active("recording_error")
    assert len(bus.writes) == writes + 3  # control went on while nothing could be recorded
    # the grower hears of it although the alarm event itself could not be recorded
    assert notified == [("recording_error", "raised")]
    rec.fail = False
    clock.advance(1.0)
    loop.tick()
    assert not loop.alarms.is_active("recording_error")
    assert notified[-1] == ("recording_error", "cleared")
    assert rec.kinds("alarm_cleared")[-1].data["alarm"] == "recording_error"
    assert len(rec.ticks) == 3


def test_restart_resumes_setpoints_and_overrides(plant_factory):
    loop, bus, rec, clock, _plant = build(plant_factory)
    loop.run(max_ticks=3)
    loop.stop_event.clear()
    loop.set_override("lamps_pct", 0.0, 3600.0, who="ben", why="lamp repair")
    clock.advance(1.0)
    loop.tick()
    # a new loop on the same records (as after kill -9): override and setpoints come back
    loop2 = ControlLoop(
        bus, GrowerRules(), rec, plant_clock=loop.plant_clock, clock=clock, sleep=clock.sleep,
        tick_s=1.0,
    )  # fmt: skip
    loop2.start()
    assert [o.actuator for o in loop2.overrides.active()] == ["lamps_pct"]
    assert loop2._sp[0, SETPOINTS.index("heat_c")] == rec.ticks[-1].setpoints["heat_c"]
    started = rec.kinds("loop_started")[-1]
    assert started.data["resumed"] is True and started.data["overrides"][0]["who"] == "ben"


def test_bad_tick_rejected():
    with pytest.raises(LoopError, match="tick"):
        ControlLoop(None, GrowerRules(), MemoryRecorder(), plant_clock=lambda: 0.0, tick_s=0.0)


def test_overhead_per_tick_is_small(plant_factory):
    loop, _bus, _rec, _clock, _plant = build(plant_factory)
    loop.run(max_ticks=5)
    assert math.isfinite(loop.last_overhead_s)
    assert loop.last_overhead_s < 0.05


class FixedPlan(GrowerRules):
    """Grower rules' first plan held fixed; `row` can be edited between ticks (NaN keeps)."""

    def __init__(self) -> None:
        super().__init__()
        self.name = "fixed"
        self.row: np.ndarray | None = None

    def setpoints(self, times_s, context):
        if self.row is None:
            self.row = super().setpoints(times_s[:1], context)[0].copy()
        return np.tile(self.row, (len(times_s), 1))


def test_strategy_decision_recorded_only_when_setpoints_change(plant_factory):
    strategy = FixedPlan()
    loop, _bus, rec, clock, _plant = build(plant_factory, strategy=strategy, strategy_every_s=60.0)
    loop.run(max_ticks=20)  # 20 cadences, one plan
    loop.stop_event.clear()
    first = rec.kinds("strategy_decision")
    assert len(first) == 1  # the first plan only: no event per unchanged cadence
    assert first[0].source == "fixed" and first[0].time_s == rec.ticks[0].time_s
    assert set(first[0].data["changed"]) == set(SETPOINTS)
    assert first[0].data["changed"]["heat_c"] == [None, strategy.row[0]]
    # float noise below the tolerance is no decision
    strategy.row = strategy.row + 1e-9
    for _ in range(3):
        clock.advance(1.0)
        loop.tick()
    assert len(rec.kinds("strategy_decision")) == 1
    # two setpoints step (one kept by NaN): one decision naming both in words, recorded at the
    # next call that finds them settled
    old_heat = rec.ticks[-1].setpoints["heat_c"]
    old_co2 = rec.ticks[-1].setpoints["co2_ppm"]
    row = strategy.row.copy()
    row[SETPOINTS.index("heat_c")] = old_heat + 0.5
    row[SETPOINTS.index("co2_ppm")] = 600.0
    row[SETPOINTS.index("lamps_pct")] = np.nan
    strategy.row = row
    for _ in range(5):
        clock.advance(1.0)
        loop.tick()
    assert rec.ticks[-1].setpoints["co2_ppm"] == 600.0
    decisions = rec.kinds("strategy_decision")
    assert len(decisions) == 2
    d = decisions[-1]
    assert d.data["changed"] == {
        "heat_c": [pytest.approx(old_heat), pytest.approx(old_heat + 0.5)],
        "co2_ppm": [pytest.approx(old_co2), 600.0],
    }
    assert d.message == (
        f"Heating temperature {old_heat:.4g} -> {old_heat + 0.5:.4g} °C, "
        f"CO₂ setpoint {old_co2:.4g} -> 600 ppm"
    )
    # a ramp of five steps is one decision, from where it started to where it ended
    for k in range(1, 6):
        row = strategy.row.copy()
        row[SETPOINTS.index("heat_c")] = old_heat + 0.5 + 0.2 * k
        strategy.row = row
        clock.advance(1.0)
        loop.tick()
    assert len(rec.kinds("strategy_decision")) == 2  # still moving: nothing yet
    clock.advance(1.0)
    loop.tick()
    decisions = rec.kinds("strategy_decision")
    assert len(decisions) == 3
    assert decisions[-1].data["changed"]["heat_c"] == [
        pytest.approx(old_heat + 0.5),
        pytest.approx(old_heat + 1.5),
    ]
    assert decisions[-1].message.endswith("(ramped over 5 min)")


def test_resumed_loop_records_no_decision_when_the_plan_is_unchanged(plant_factory):
    strategy = FixedPlan()
    loop, bus, rec, clock, _plant = build(plant_factory, strategy=strategy, strategy_every_s=60.0)
    loop.run(max_ticks=3)
    loop2 = ControlLoop(
        bus, strategy, rec, plant_clock=loop.plant_clock, clock=clock, sleep=clock.sleep,
        tick_s=1.0, strategy_every_s=60.0,
    )  # fmt: skip
    loop2.run(max_ticks=3)
    # the restored setpoints are the ones in force, and the strategy agrees with them
    assert len(rec.kinds("strategy_decision")) == 1


class FlakyComputer:
    """The real climate computer, raising on the calls listed in `fail_on` (1-based)."""

    def __init__(self, fail_on) -> None:
        from controllers.climate_computer import climate_computer_step

        self.step = climate_computer_step
        self.fail_on = fail_on
        self.calls = 0

    def __call__(self, *args) -> None:
        self.calls += 1
        if self.calls in self.fail_on:
            raise RuntimeError(f"kernel fault on call {self.calls}")
        self.step(*args)


def test_an_unexpected_error_fails_safe_raises_loop_failed_and_recovers(plant_factory, caplog):
    computer = FlakyComputer(fail_on=range(11, 15))  # ticks 11-14 of 30
    loop, bus, rec, _clock, _plant = build(plant_factory, computer=computer)
    with caplog.at_level("ERROR", logger="controllers.loop"):
        assert loop.run(max_ticks=30) == 30  # the loop kept going
    assert loop.failed_ticks == 4 and loop.consecutive_failures == 0
    assert len(rec.ticks) == 26
    raised = [e for e in rec.kinds("alarm_raised") if e.data["alarm"] == "loop_failed"]
    cleared = [e for e in rec.kinds("alarm_cleared") if e.data["alarm"] == "loop_failed"]
    assert len(raised) == 1 and len(cleared) == 1
    assert raised[0].data["error"] == "RuntimeError: kernel fault on call 11"
    assert raised[0].time_s < cleared[0].time_s == rec.ticks[10].time_s  # tick 15 cleared it
    # every failure was logged with its traceback, never swallowed
    failures = [r for r in caplog.records if r.message.startswith("control tick failed")]
    assert len(failures) == 4
    assert all(r.exc_info and "kernel fault" in str(r.exc_info[1]) for r in failures)
    # the fail-safe was written on each failed tick, as on a lost bus: CO2 off at once,
    # heating ramping towards its frost-safe 40 C within its rate limit
    normal = bus.writes[9]
    failed = bus.writes[10:14]
    assert all(w["co2_valve_pct"] == 0.0 for w in failed)
    gap = [abs(w["pipe_sp_c"] - 40.0) for w in (normal, *failed)]
    assert np.all(np.diff(gap) <= 0.0)
    steps = np.abs(np.diff([w["pipe_sp_c"] for w in (normal, *failed)]))
    assert steps.max() <= DEFAULT_LIMITS["pipe_sp_c"].rate_per_min + 0.001
    assert raised[0].data["commands"] == failed[0]
    assert rec.ticks[-1].mode == "normal"
    assert not loop.alarms.is_active("loop_failed")


def test_a_loop_that_keeps_failing_gives_up_after_max_failed_ticks_with_actuators_safe(
    plant_factory,
):
    from controllers.loop import LoopFailedError

    computer = FlakyComputer(fail_on=range(4, 1000))
    loop, bus, rec, _clock, _plant = build(plant_factory, computer=computer, max_failed_ticks=5)
    with pytest.raises(LoopFailedError) as info:
        loop.run(max_ticks=100)
    assert str(info.value) == (
        "the control loop failed 5 ticks in a row (last: RuntimeError: kernel fault on call 8)"
    )
    assert len(rec.ticks) == 3 and loop.failed_ticks == 5
    stopped = rec.kinds("loop_stopped")
    assert len(stopped) == 1 and stopped[0].data["left_safe"] is True
    assert bus.writes[-1] == loop.safety.config.failsafe_commands() | {}
    with pytest.raises(LoopError, match="max_failed_ticks 0"):
        build(plant_factory, max_failed_ticks=0)


def test_ticks_dropped_in_a_disk_full_spell_raise_an_alarm_naming_how_many(plant_factory, tmp_path):
    from store.errors import RecordingError
    from store.recorder import SqliteRecorder

    folder = tmp_path / "gone"  # a missing folder fails every write, like a full disk
    recorder = SqliteRecorder(folder / "serra.db", max_queued_ticks=3, retry_s=0.0)
    loop, _bus, _rec, _clock, _plant = build(plant_factory, recorder=recorder)
    loop.run(max_ticks=8)
    loop.stop_event.clear()
    assert loop.alarms.is_active("recording_error")
    assert not loop.alarms.is_active("ticks_dropped")  # not known for lost until it recovers
    folder.mkdir()
    loop.run(max_ticks=1)  # 9 ticks made, the queue kept the last 3
    from store.db import open_store

    with open_store(folder / "serra.db") as store:
        written = store.conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0]
        raised = [
            json.loads(d)
            for (d,) in store.conn.execute(
                "SELECT data FROM events WHERE kind = 'alarm_raised' ORDER BY t_ms, id"
            )
        ]
    assert written == 3
    (dropped,) = [a for a in raised if a["alarm"] == "ticks_dropped"]
    assert dropped["dropped"] == 9 - written == 6
    assert [a.message for a in loop.alarms.active() if a.key == "ticks_dropped"] == [
        "6 ticks were dropped (never recorded) while recording failed"
    ]
    with pytest.raises(RecordingError, match="6 ticks and 1 events dropped"):
        recorder.close()  # closing says so again, for serra run's exit code
