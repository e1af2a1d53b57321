"""Manual overrides: set, expire on time, cancel, restore; every change recorded with who/why."""

from __future__ import annotations

import pytest

from controllers.overrides import OverrideError, Overrides


def test_set_then_expire_on_time_records_who_and_why():
    events = []
    o = Overrides(events.append)
    o.set("vent_lee_pct", 0.0, now_s=1000.0, duration_s=1800.0, who="anna", why="spraying")
    assert o.values() == {"vent_lee_pct": 0.0}
    assert o.expire(2799.0) == []
    ended = o.expire(2800.0)
    assert [x.actuator for x in ended] == ["vent_lee_pct"] and o.values() == {}
    assert [e.kind for e in events] == ["override_set", "override_ended"]
    assert events[0].data == {
        "actuator": "vent_lee_pct", "value": 0.0, "until_s": 2800.0, "who": "anna",
        "why": "spraying",
    }  # fmt: skip
    assert events[0].who == "anna"
    assert events[1].time_s == 2800.0 and events[1].data["reason"] == "expired"


def test_replace_and_cancel():
    events = []
    o = Overrides(events.append)
    o.set("lamps_pct", 0.0, now_s=0.0, duration_s=60.0, who="a", why="repair")
    o.set("lamps_pct", 50.0, now_s=10.0, duration_s=60.0, who="b", why="test")
    assert o.values() == {"lamps_pct": 50.0}
    o.cancel("lamps_pct", now_s=20.0, who="c")
    assert o.values() == {}
    reasons = [e.data.get("reason") for e in events if e.kind == "override_ended"]
    assert reasons == ["replaced", "cancelled"]
    assert events[-1].who == "c"


def test_restore_keeps_only_running_overrides():
    events = []
    o = Overrides(events.append)
    back = o.restore(
        [
            {"actuator": "vent_lee_pct", "value": 0.0, "until_s": 500.0, "who": "a", "why": "x"},
            {"actuator": "lamps_pct", "value": 0.0, "until_s": 50.0, "who": "a", "why": "y"},
        ],
        now_s=100.0,
    )
    assert [x.actuator for x in back] == ["vent_lee_pct"]
    assert o.values() == {"vent_lee_pct": 0.0}
    # the one that ran out while the loop was down is ended in the log, the running one is not
    assert [(e.kind, e.time_s, e.data["actuator"], e.data["reason"]) for e in events] == [
        ("override_ended", 100.0, "lamps_pct", "expired")
    ]
    assert events[0].who == "a" and events[0].data["until_s"] == 50.0


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("pipe_c", 1.0, 60.0, "a", "b"), "unknown actuator"),
        (("vent_lee_pct", 120.0, 60.0, "a", "b"), "outside 0..100"),
        (("vent_lee_pct", 10.0, 0.0, "a", "b"), "duration"),
        (("vent_lee_pct", 10.0, 60.0, "", "b"), "who"),
    ],
)
def test_bad_overrides_refused(args, match):
    name, value, duration, who, why = args
    with pytest.raises(OverrideError, match=match):
        Overrides().set(name, value, now_s=0.0, duration_s=duration, who=who, why=why)
