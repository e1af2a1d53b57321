"""Calibration: the objective, the fitting ranges, the fitted TOML, and recovery of known values.

The recovery test simulates a log with three parameters changed, then fits them back from the
shipped defaults over 3 days of the 7-day fixture (about 400 candidate seasons of 3 days in
~60 batched calls: a few seconds once the kernels are compiled).
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from controllers.calibrate import (
    SCALES,
    CalibrateError,
    calibrate,
    objective,
    prepare_target,
    replay_errors,
    target_errors,
)
from controllers.calibrate_cross import rotations
from controllers.calibrate_ranges import FitError, ParamRange, load_ranges, parse_fit
from controllers.calibrate_toml import config_toml, write_atomic
from controllers.replay import on_grid, replay
from controllers.replay_log import ReplayLog, load_log
from controllers.season import CLIMATE_COLUMNS
from sim.config import PARAM_NAMES, ConfigError, check_param, load_config, replace_values
from sim.weather import default_weather

FIXTURE = Path(__file__).parent / "data" / "agc2018_reference_7d"


def test_objective_sums_rmse_over_scales_and_averages_over_logs():
    assert SCALES == {"tair_c": 1.0, "rh_pct": 5.0, "co2_ppm": 50.0}
    one = {"tair_c": 2.0, "rh_pct": 10.0, "co2_ppm": 100.0}  # 2 + 2 + 2 = 6
    two = {"tair_c": 0.5}  # a log with air temperature only: 0.5
    assert objective([one]) == pytest.approx(6.0)
    assert objective([one, two]) == pytest.approx((6.0 + 0.5) / 2)
    assert objective([{"tair_c": 1.0, "pipe_c": 9.0}]) == pytest.approx(1.0)  # pipes not in it
    assert objective([{"tair_c": math.nan}]) == math.inf


def test_every_range_names_a_known_parameter_and_holds_its_shipped_value():
    ranges = load_ranges()
    assert len(ranges) >= 15
    defaults = load_config()
    for name, r in ranges.items():
        assert name in PARAM_NAMES
        assert r.lo < r.hi
        assert r.lo <= defaults[name] <= r.hi, name
        assert r.note, f"{name}: the range line must say its unit and source"
        check_param(name, r.lo, "test")
        check_param(name, r.hi, "test")


def test_a_range_file_with_a_bad_entry_is_refused_naming_it():
    with pytest.raises(ConfigError, match=r"structure\.nope"):
        load_ranges("structure.nope = [1, 2]  # x\n")
    with pytest.raises(ConfigError, match=r"lo 0\.9 must be below hi 0\.6"):
        load_ranges("structure.cover_transmission = [0.9, 0.6]  # x\n")
    with pytest.raises(ConfigError, match=r"must lie in 0\.\.1"):
        load_ranges("structure.cover_transmission = [0.5, 1.5]  # x\n")
    with pytest.raises(ConfigError, match=r"must be \[lo, hi\]"):
        load_ranges("structure.cover_transmission = 0.7  # x\n")


def test_fit_refuses_unknown_keys_keys_without_range_and_repeats():
    with pytest.raises(
        FitError, match=r"unknown greenhouse parameter; did you mean structure\.cov"
    ):
        parse_fit(["structure.cover_transmision"])
    with pytest.raises(FitError, match=r"no fitting range .*fittable: heating\.pipe_emissivity"):
        parse_fit(["heating.rail_diameter_m"])
    with pytest.raises(FitError, match=r"fittable: none in \[crop\]"):
        parse_fit(["crop.max_lai"])
    with pytest.raises(FitError, match="named twice"):
        parse_fit(["structure.h_in_w_m2_k", "structure.h_in_w_m2_k"])
    with pytest.raises(FitError, match="at least one"):
        parse_fit([" , "])
    names = [p.name for p in parse_fit(["structure.h_in_w_m2_k,co2.dosing_capacity_kg_m2_h"])]
    assert names == ["structure.h_in_w_m2_k", "co2.dosing_capacity_kg_m2_h"]


@given(st.floats(0.0, 1.0), st.sampled_from([(0.6, 0.9), (2e-5, 5e-4), (120.0, 1800.0)]))
def test_unit_mapping_stays_in_range_and_inverts(u, bounds):
    r = ParamRange("x.y", *bounds)
    v = r.from_unit(u)
    assert r.lo <= v <= r.hi * (1 + 1e-12)
    assert r.to_unit(v) == pytest.approx(u, abs=1e-9)
    assert r.log_scale == (bounds[1] / bounds[0] >= 10)


def test_fitted_toml_loads_back_exactly_with_the_start_overrides(tmp_path):
    base = replace_values(load_config(), {"heating.boiler_capacity_w_m2": 300.0})
    fitted = {"structure.cover_transmission": 0.663913, "ventilation.leakage_coefficient": 2.6e-5}
    text = config_toml(base, fitted, {"structure.cover_transmission": "fitted"}, ["header"])
    path = tmp_path / "fitted.toml"
    write_atomic(path, text)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    loaded = load_config(path)
    assert loaded["structure.cover_transmission"] == 0.663913
    assert loaded["ventilation.leakage_coefficient"] == 2.6e-5
    assert loaded["heating.boiler_capacity_w_m2"] == 300.0
    assert loaded.values == replace_values(base, fitted).values
    assert text.startswith("# header\n") and "[site]" not in text


def _synthetic_log(config, days: float, start: str | None = None) -> ReplayLog:
    """The fixture's logged actuators and setpoints, with the climate `config` simulates and
    the fogging its climate computer did (logged, so that a fit forces it: left to the climate
    computer, fogging switches every 5 min on warm days and the objective is not smooth)."""
    log = load_log(str(FIXTURE))
    # the synthetic log has no daily CO2 dose, so its truth is simulated without one too (the
    # climate computer doses to the logged setpoint in both)
    log.co2_dose = None
    report, result = replay(log, default_weather(), config=config, start=start, days=days)
    assert result.climate is not None
    grid = report.time_s
    values = {k: on_grid(log.time_s, v, grid, 300.0) for k, v in log.values.items()}
    for name in SCALES:
        values[name] = report.paired[f"simulated_{name}"]
    values["fog_pct"] = result.climate[:, CLIMATE_COLUMNS.index("fog_pct")]
    return ReplayLog(f"synthetic from {start}" if start else "synthetic", grid, values)


def test_the_objective_grows_steadily_away_from_the_truth():
    # what lets a fit run to the end of a range when the truth lies beyond it
    base = load_config()
    truth = 15.0  # structure.h_in_w_m2_k, above its range 3..12
    log = _synthetic_log(replace_values(base, {"structure.h_in_w_m2_k": truth}), days=1)
    target = prepare_target(log, default_weather())
    grid = [3.0, 5.0, 7.0, 9.0, 11.0, 11.5, 12.0, 15.0, 18.0]
    configs = [replace_values(base, {"structure.h_in_w_m2_k": v}) for v in grid]
    errors = [objective([e]) for e in target_errors(target, configs)]
    assert errors[grid.index(truth)] == 0.0
    below = errors[: grid.index(truth) + 1]
    assert all(a > b for a, b in pairwise(below)), below
    assert errors[-1] > 0.2  # 3 W/m2K beyond the truth is seen
    assert errors[grid.index(12.0)] < 0.9 * errors[grid.index(11.5)]  # not flat at the bound


def test_batched_errors_equal_the_replay_of_each_config():
    weather = default_weather()
    target = prepare_target(load_log(str(FIXTURE)), weather, days=1)
    base = load_config()
    configs = [
        base,
        replace_values(base, {"structure.h_in_w_m2_k": 9.0}),
        replace_values(base, {"ventilation.leakage_coefficient": 3e-4}),
    ]
    batched = target_errors(target, configs)
    for config, errors in zip(configs, batched, strict=True):
        single = replay_errors(target, config)
        assert set(single) == set(SCALES)
        for name in SCALES:
            assert errors[name] == pytest.approx(single[name], rel=1e-9)
    assert batched[1]["tair_c"] != pytest.approx(batched[0]["tair_c"], rel=1e-3)


def test_calibration_recovers_known_parameters_from_a_simulated_log():
    base = load_config()
    truth = {
        "structure.cover_transmission": round(base["structure.cover_transmission"] * 0.85, 6),
        "ventilation.discharge_coefficient": round(
            base["ventilation.discharge_coefficient"] * 0.8, 6
        ),
        "structure.h_rad_cover_w_m2_k": round(base["structure.h_rad_cover_w_m2_k"] * 1.2, 6),
    }
    log = _synthetic_log(replace_values(base, truth), days=3)
    target = prepare_target(log, default_weather())
    assert objective([replay_errors(target, replace_values(base, truth))]) == 0.0
    params = parse_fit([",".join(truth)])
    seen = []
    result = calibrate([target], base, params, max_evals=400, seed=0, progress=seen.append)
    assert result.start_objective > 1.0  # the defaults are far from the simulated log
    assert result.best_objective < 0.05 * result.start_objective
    for name, value in truth.items():
        assert result.fitted[name] == pytest.approx(value, rel=0.05), name
    gens = [p.generation for p in seen]
    assert gens == list(range(1, len(seen) + 1)) and seen[-1].evaluations == result.evaluations
    assert all(b.best >= a.best for a, b in zip(seen[1:], seen, strict=False))
    assert result.evaluations <= 400 + 10  # stops at the budget (one generation may finish)


def test_a_log_without_climate_in_the_period_is_refused():
    log = load_log(str(FIXTURE))
    log.values = {k: v for k, v in log.values.items() if k not in ("tair_c", "rh_pct", "co2_ppm")}
    with pytest.raises(ValueError, match="no air temperature, RH or CO2 logged"):
        prepare_target(log, default_weather(), days=1)


def test_start_values_are_kept_when_nothing_beats_them():
    log = _synthetic_log(load_config(), days=1)  # the defaults reproduce it exactly
    target = prepare_target(log, default_weather())
    params = parse_fit(["structure.h_in_w_m2_k"])
    result = calibrate([target], load_config(), params, max_evals=12, popsize=6)
    assert result.start_objective == 0.0 and result.best_objective == 0.0
    assert result.fitted == {"structure.h_in_w_m2_k": load_config()["structure.h_in_w_m2_k"]}
    assert np.isfinite(result.elapsed_s)


def test_the_same_seed_gives_the_same_fit_in_one_process_or_two():
    truth = replace_values(load_config(), {"structure.h_in_w_m2_k": 9.0})
    target = prepare_target(_synthetic_log(truth, days=1), default_weather())
    params = parse_fit(["structure.h_in_w_m2_k,structure.cover_transmission"])
    runs = [
        calibrate([target], load_config(), params, max_evals=30, seed=seed, workers=workers)
        for seed, workers in ((3, 1), (3, 2), (4, 1))
    ]
    assert runs[0].fitted == runs[1].fitted and runs[0].best_objective == runs[1].best_objective
    assert runs[0].fitted != runs[2].fitted


def test_a_parameter_fitted_on_two_logs_holds_on_the_third_in_every_rotation():
    # three "compartments" (days 1-2, 3-4, 5-6 of the fixture) of one simulated greenhouse whose
    # leakage and cover-sky heat transfer differ from the defaults: what two of them fit is
    # that greenhouse's physics, so it must bring the third, never seen, close to its log too
    base = load_config()
    truth = {"ventilation.leakage_coefficient": 3e-4, "structure.h_rad_cover_w_m2_k": 6.5}
    # each simulated from its own first day, as a replay starts (docs/calibrate.md)
    targets = [
        prepare_target(_synthetic_log(replace_values(base, truth), 2, start), default_weather())
        for start in ("2018-09-01", "2018-09-03", "2018-09-05")
    ]
    params = parse_fit([",".join(truth)])
    result = rotations(targets, base, params, max_evals=80, seed=0)
    assert [r.checked_on for r in result] == [t.name for t in targets]
    for r, held in zip(result, targets, strict=True):
        assert held.name not in r.fitted_on and len(r.fitted_on) == 2
        assert r.objective_before > 0.5  # the defaults are far from this greenhouse
        assert r.objective_after < 0.1 * r.objective_before, r.checked_on
        for name, value in truth.items():
            assert r.calibration.fitted[name] == pytest.approx(value, rel=0.1), name


def test_a_cross_check_needs_two_distinct_logs():
    target = prepare_target(_synthetic_log(load_config(), days=1), default_weather())
    params = parse_fit(["structure.h_in_w_m2_k"])
    with pytest.raises(CalibrateError, match="two logs at least"):
        rotations([target], load_config(), params, max_evals=4)
    with pytest.raises(CalibrateError, match="named twice"):
        rotations([target, target], load_config(), params, max_evals=4)
