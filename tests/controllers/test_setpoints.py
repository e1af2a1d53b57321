"""Setpoint validation, replay-file loading and step-wise schedules."""

from __future__ import annotations

import numpy as np
import pytest

from controllers.setpoints import (
    SETPOINT_RANGES,
    SETPOINTS,
    SetpointError,
    apply_schedule,
    load_setpoint_csv,
    validate_setpoints,
)


def _table(rows: int) -> np.ndarray:
    mid = [(lo + hi) / 2 for lo, hi in (SETPOINT_RANGES[n] for n in SETPOINTS)]
    return np.tile(np.array(mid), (rows, 1))


def test_columns_are_the_replay_file_columns_in_order():
    assert SETPOINTS == (
        "heat_c", "vent_lee_c", "vent_wind_c", "vent_min_pct", "co2_ppm",
        "humidity_deficit_g_m3", "min_pipe_c", "lamps_pct", "screen_energy_pct",
        "screen_blackout_pct", "irrigation_interval_min",
    )  # fmt: skip
    assert set(SETPOINT_RANGES) == set(SETPOINTS)


def test_validation_message_names_source_row_column_value_and_range():
    t = _table(20)
    t[10, SETPOINTS.index("heat_c")] = 80.0
    with pytest.raises(SetpointError) as exc:
        validate_setpoints(t, source="setpoints.csv", row_offset=2)
    assert str(exc.value) == "setpoints.csv row 12: heat_c = 80 is outside 5..35 C"


def test_validation_reports_nan_and_units_of_other_columns():
    t = _table(3)
    t[0, SETPOINTS.index("co2_ppm")] = 2500.0
    with pytest.raises(SetpointError, match=r"^run row 1: co2_ppm = 2500 is outside 0..2000 ppm$"):
        validate_setpoints(t, source="run")
    t = _table(3)
    t[2, SETPOINTS.index("vent_min_pct")] = np.nan
    with pytest.raises(SetpointError, match=r"row 3: vent_min_pct is not a number"):
        validate_setpoints(t, source="run")
    validate_setpoints(_table(5), source="ok")  # in range: no error


def _write(tmp_path, text: str):
    p = tmp_path / "sp.csv"
    p.write_text(text)
    return p


def test_load_csv_converts_offset_times_to_utc_and_keeps_empty_cells_as_nan(tmp_path):
    p = _write(
        tmp_path,
        "time,heat_c,co2_ppm\n2018-10-01T00:00:00+02:00,19.5,\n2018-10-01T06:00:00+02:00,21,900\n",
    )
    t, cols = load_setpoint_csv(p)
    assert t[0] == pytest.approx(1538344800.0)  # 2018-09-30T22:00Z
    assert t[1] - t[0] == 6 * 3600
    assert list(cols) == ["heat_c", "co2_ppm"]
    assert cols["heat_c"].tolist() == [19.5, 21.0]
    assert np.isnan(cols["co2_ppm"][0]) and cols["co2_ppm"][1] == 900.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "time,heat_c,tomato\n2018-10-01T00:00:00+02:00,19,1\n",
            r"sp.csv row 1: unknown column 'tomato'; allowed: time, heat_c, vent_lee_c",
        ),
        (
            "time,heat_c\n2018-10-01T00:00:00,19\n",
            r"sp.csv row 2: time '2018-10-01T00:00:00' has no UTC offset",
        ),
        (
            "time,heat_c\n2018-10-01T01:00:00+00:00,19\n2018-10-01T01:00:00+00:00,19\n",
            r"sp.csv row 3: time .* does not increase",
        ),
        (
            "time,heat_c\n2018-10-01T01:00:00Z,19\n2018-10-01T02:00:00Z,80\n",
            r"^sp.csv row 3: heat_c = 80 is outside 5..35 C$",
        ),
        ("time,heat_c\n2018-10-01T01:00:00Z,warm\n", r"sp.csv row 2: heat_c = 'warm' is not"),
    ],
)
def test_load_csv_rejects_bad_files_with_one_line_reasons(tmp_path, text, message):
    with pytest.raises(SetpointError, match=message):
        load_setpoint_csv(_write(tmp_path, text))


def test_apply_schedule_is_stepwise_and_keeps_base_before_first_row_and_on_nan():
    times = np.arange(0.0, 10.0)
    base = _table(10)
    sched_t = np.array([2.0, 5.0, 7.0])
    sched = {"heat_c": np.array([18.0, np.nan, 22.0]), "lamps_pct": np.array([0.0, 50.0, 100.0])}
    out = apply_schedule(base, times, sched_t, sched)
    h = SETPOINTS.index("heat_c")
    lamp = SETPOINTS.index("lamps_pct")
    assert out[:, h].tolist() == [20.0, 20.0, 18, 18, 18, 20.0, 20.0, 22, 22, 22]
    assert out[:, lamp].tolist() == [50.0, 50.0, 0, 0, 0, 50, 50, 100, 100, 100]
    other = [j for j in range(len(SETPOINTS)) if j not in (h, lamp)]
    assert np.array_equal(out[:, other], base[:, other])
    assert base[2, h] == 20.0  # base untouched
