"""`serra run --strategy learned` against the virtual device over socket://, on real SQLite files:
the learned plan drives the recorded setpoints, a refused model is one line with exit 2, and
weather outside the model's training range falls back to the grower rules with an event."""

from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np

from app.cli import main
from controllers.grower_rules import GrowerRules
from controllers.loop import default_site
from controllers.records import TickRecord
from controllers.strategy import make_context
from models.features import PLAN_FEATURES
from models.registry import SHIPPED_DIR
from sim.weather import default_weather
from store.recorder import SqliteRecorder
from tests.e2e.test_run_restart import device, plant_start

__all__ = ["device"]

SITE = default_site()
KEYS = ("tout_c", "iglob_w_m2", "rhout_pct", "wind_m_s")


def _seed_observed_weather(db, before_s: float, tout_c: float | None = None) -> None:
    """Record the day and a half of station weather before `before_s`, as an earlier run would
    have: the shipped weather's rows, dated a day and a half earlier (`tout_c` replaces the
    outside temperature, for weather the model never saw)."""
    w = default_weather()
    n = round(1.5 * 86400 / w.step_s)
    recorder = SqliteRecorder(db).open()
    for i in range(n):
        t = before_s - (n - i) * w.step_s
        values = {k: float(w[k][i]) for k in KEYS}
        if tout_c is not None:
            values["tout_c"] = tout_c
        recorder.record_tick(TickRecord(t, values, {k: "good" for k in KEYS}, {}, {}, {}))
    recorder.close()


def _run(server, dev, db, *extra: str) -> int:
    return main(["run", "--port", server.address, "--db", str(db), "--tick", "0.1",
                 "--speed", "600", "--start", plant_start(dev), "--quiet",
                 "--strategy", "learned", "--max-ticks", "12", *extra])  # fmt: skip


def _events(db, kind: str) -> list[tuple[float, str, str, dict]]:
    with sqlite3.connect(db) as c:
        rows = c.execute(
            "SELECT t_ms, source, message, data FROM events WHERE kind = ? ORDER BY t_ms, id",
            (kind,),
        ).fetchall()
    return [(t / 1000.0, s, m, json.loads(d)) for t, s, m, d in rows]


def _plans(db) -> list[tuple[float, str, str, dict]]:
    """The learned strategy's plans (the loop's own decisions say which setpoints changed)."""
    return [e for e in _events(db, "strategy_decision") if "predicted_gain_eur_m2" in e[3]]


def _setpoints(db, after_s: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    names = ("heat_c", "vent_lee_c", "screen_energy_pct", "irrigation_interval_min", "co2_ppm")
    with sqlite3.connect(db) as c:
        rows = c.execute(
            f"SELECT t_ms, {', '.join('sp_' + n for n in names)} FROM ticks WHERE t_ms > ? "
            "ORDER BY t_ms",
            (round(after_s * 1000),),
        ).fetchall()
    data = np.array(rows, dtype=float)
    return data[:, 0] / 1000.0, {n: data[:, j + 1] for j, n in enumerate(names)}


def _is_night(t: np.ndarray) -> np.ndarray:
    ctx = make_context(SITE, t)
    return (t < ctx.sunrise_s + 3600.0) | (t >= ctx.sunset_s)


def test_the_learned_plan_drives_the_recorded_setpoints(device, tmp_path, capsys) -> None:
    dev, server = device
    db = tmp_path / "serra.db"
    seeded_until = dev.plant.time_s
    _seed_observed_weather(db, seeded_until)
    assert _run(server, dev, db) == 0
    assert "serra run: learned (model default, plans each day) on" in capsys.readouterr().err
    (decision,) = _plans(db)
    _, _, message, data = decision
    assert message.startswith("Learned plan for 2018-08-14 (model default): predicted gain ")
    assert data["model"] == "default" and len(data["reasons"]) == 3
    assert np.isfinite(data["predicted_gain_eur_m2"])
    assert _events(db, "strategy_fallback") == []
    plan = data["plan"]
    t, sp = _setpoints(db, seeded_until)
    assert len(t) == 12 and _is_night(t).all()  # the loop's first plant minutes, at night
    # every recorded setpoint the plan sets is the plan's (decisions keep 3 decimals)
    assert np.allclose(sp["heat_c"], plan["plan_heat_night_c"], atol=1e-3)
    assert np.allclose(sp["vent_lee_c"] - sp["heat_c"], plan["plan_vent_offset_c"], atol=2e-3)
    assert np.allclose(sp["screen_energy_pct"], plan["plan_screen_energy_max_pct"], atol=1e-3)
    assert np.allclose(sp["irrigation_interval_min"], plan["plan_irrigation_interval_min"],
                       atol=1e-3)  # fmt: skip
    assert np.allclose(sp["co2_ppm"], min(plan["plan_co2_day_ppm"], 800.0), atol=1e-3)
    # and they are not what the grower rules would have set
    from controllers.setpoints import SETPOINTS

    grower = GrowerRules().setpoints(t, make_context(SITE, t))
    differs = [
        float(np.abs(sp[n] - grower[:, SETPOINTS.index(n)]).max())
        for n in ("heat_c", "screen_energy_pct", "irrigation_interval_min")
    ]
    assert max(differs) > 0.05, (differs, plan)
    assert set(plan) == set(PLAN_FEATURES)


def test_weather_outside_the_training_range_falls_back_with_an_event(device, tmp_path) -> None:
    dev, server = device
    db = tmp_path / "serra.db"
    seeded_until = dev.plant.time_s
    _seed_observed_weather(db, seeded_until, tout_c=45.0)
    assert _run(server, dev, db) == 0
    ((_, source, message, data),) = _events(db, "strategy_fallback")
    assert source == "learned"
    assert message.startswith(
        "Learned strategy fell back to the grower rules for 2018-08-14: outside training range: "
        "tout_mean_c = 45 outside "
    )
    assert data["reason"].startswith("outside training range: tout_mean_c = 45 outside")
    assert _plans(db) == []
    t, sp = _setpoints(db, seeded_until)
    from controllers.setpoints import SETPOINTS

    grower = GrowerRules().setpoints(t, make_context(SITE, t))
    for name in ("heat_c", "screen_energy_pct", "irrigation_interval_min", "co2_ppm"):
        assert np.array_equal(sp[name], grower[:, SETPOINTS.index(name)]), name


def test_an_unknown_model_is_refused_in_one_line_before_the_bus(device, tmp_path, capsys):
    dev, server = device
    db = tmp_path / "serra.db"
    assert _run(server, dev, db, "--model", "nope") == 2
    assert capsys.readouterr().err == "serra: error: no model 'nope'; known: default\n"
    assert dev.requests == 0 and not db.exists()


def test_a_garbled_model_is_refused_in_one_line(device, tmp_path, capsys, monkeypatch):
    dev, server = device
    root = tmp_path / "models"
    root.mkdir()
    shutil.copy(SHIPPED_DIR / "default.json", root / "broken.json")
    data = (SHIPPED_DIR / "default.skops").read_bytes()
    (root / "broken.skops").write_bytes(data[: len(data) // 3])  # a copy cut short
    monkeypatch.setenv("SERRA_MODEL_DIR", str(root))
    db = tmp_path / "serra.db"
    assert _run(server, dev, db, "--model", "broken") == 2
    err = capsys.readouterr().err
    assert err.startswith("serra: error: model 'broken': ") and err.count("\n") == 1
    assert dev.requests == 0 and not db.exists()


def test_a_restart_continues_the_crop_estimate_from_the_last_plan(device, tmp_path) -> None:
    dev, server = device
    db = tmp_path / "serra.db"
    _seed_observed_weather(db, dev.plant.time_s)
    assert _run(server, dev, db) == 0
    assert _run(server, dev, db) == 0  # restarted on the same database, later in plant time
    first, second = (e[3]["crop_estimate"] for e in _plans(db))
    assert first["planted_s"] is not None and second["planted_s"] == first["planted_s"]
    # the first plan is made at the first reading; the second run's estimate goes on from the
    # first run's stop (kept in the database), not from young plants again: 11 readings of 60 s
    assert first["seen_s"] == 0.0
    assert second["seen_s"] >= 11 * 50.0
    assert second["crop"] != first["crop"]
