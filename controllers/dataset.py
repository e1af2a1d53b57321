"""Day tables from simulated seasons: the learned model's training data.

Seasons run through the batched season runner, many greenhouses per call (one weather each call),
each greenhouse under a `RandomPlanStrategy`. After every simulated day an observer turns the
day into one row per greenhouse: crop state at the day's start, the day's weather aggregates and
plan (features), and the day's climate, growth, harvest and resource use (targets). `models/`
only ever sees the resulting `DayTable`.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from controllers.day_plan import RandomPlanStrategy
from controllers.grower_rules import GrowerRules
from controllers.season import CLIMATE_COLUMNS, CROP_COLUMNS, DayObservation, run_season
from models.features import CROP_FEATURES, FEATURES, PLAN_FEATURES, TARGETS, weather_features
from models.table import DayTable
from sim.config import load_config
from sim.physics import ACCOUNTS
from sim.synthetic_weather import synthetic_weather
from sim.weather import Site, Weather, default_weather, reference_year

SEASON_DAYS = 115.0
#: Weather specs the dataset cycles through: (label, kind, args). Index = weather_id modulo.
WEATHER_SPECS: tuple[tuple[str, str, tuple], ...] = (
    ("agc2018 Bleiswijk", "agc2018", ()),
    ("reference year from 14 Aug", "reference", ("2019-08-14",)),
    ("synthetic 40N Madrid", "synthetic", (("Madrid", 40.4, -3.7, "Europe/Madrid"), 0.35)),
    ("synthetic 60N Oslo", "synthetic", (("Oslo", 59.9, 10.7, "Europe/Oslo"), 0.6)),
    ("synthetic 45N Milan", "synthetic", (("Milan", 45.5, 9.2, "Europe/Rome"), 0.5)),
    ("reference year from 15 Sep", "reference", ("2019-09-15",)),
    ("synthetic 52N Bleiswijk", "synthetic", (("Bleiswijk", 52.03, 4.53, "Europe/Amsterdam"), 0.6)),
    ("synthetic 35N Crete", "synthetic", (("Heraklion", 35.3, 25.1, "Europe/Athens"), 0.3)),
    (
        "synthetic 56N Copenhagen",
        "synthetic",
        (("Copenhagen", 55.7, 12.6, "Europe/Copenhagen"), 0.6),
    ),
    ("reference year from 15 Jul", "reference", ("2019-07-15",)),
)
#: Weathers never trained on by default (the 2018 season and one other): held-out evaluation.
HELD_OUT_WEATHER: tuple[int, ...] = (0, 7)

_CROP_IDX = {name: CROP_COLUMNS.index(name) for name in CROP_COLUMNS}
_CL = {
    name: CLIMATE_COLUMNS.index(name) for name in ("tair_c", "co2_ppm", "par_umol_m2_s", "hd_g_m3")
}
_AC = {name: ACCOUNTS.index(name) for name in ACCOUNTS}


class DatasetError(ValueError):
    """A dataset that cannot be built as asked."""


def season_weather(weather_id: int, days: float = SEASON_DAYS) -> tuple[str, Weather]:
    """The weather of `weather_id` (cycling through WEATHER_SPECS, new seeds each cycle)."""
    label, kind, args = WEATHER_SPECS[weather_id % len(WEATHER_SPECS)]
    cycle = weather_id // len(WEATHER_SPECS)
    if kind == "agc2018":
        w = default_weather()
        return label, w.window(None, min(days, w.days))
    if kind == "reference":
        start = args[0].replace("2019", str(2019 + cycle))
        return f"{label} {start[:4]}", reference_year().window(start, days)
    (name, lat, lon, tz), cloud = args
    site = Site(name, lat, lon, tz)
    seed = 1000 + weather_id
    return f"{label} seed {seed}", synthetic_weather(site, "2018-08-14", days, seed=seed,
                                                      cloudiness=cloud)  # fmt: skip


def _batch(task: tuple[int, list[int], float]) -> dict[str, np.ndarray]:
    """Run one weather with one greenhouse per seed; return the batch's columns."""
    weather_id, seeds, days = task
    _, weather = season_weather(weather_id, days)
    base = GrowerRules()
    cache: dict[float, np.ndarray] = {}
    strategies = [RandomPlanStrategy(seed=s, base=base, base_cache=cache) for s in seeds]
    dmc = load_config()["crop.fruit_dm_content"]
    n = len(seeds)
    full_day = round(86400.0 / weather.step_s)
    prev_crop: list[np.ndarray | None] = [None]
    prev_acc = [np.zeros((n, len(ACCOUNTS)))]
    out: dict[str, list[np.ndarray]] = {k: [] for k in (*FEATURES, *TARGETS, "season_seed")}

    def observe(obs: DayObservation) -> None:
        start_crop = prev_crop[0]
        before = prev_acc[0]
        prev_crop[0] = obs.crop.copy()
        prev_acc[0] = obs.accounts.copy()
        if start_crop is None or len(obs.time_s) != full_day:
            return  # day 0 starts from planting (no row before it); a partial day skews sums
        _day_rows(obs, start_crop, before, strategies, dmc, weather.step_s, out)
        out["season_seed"].append(np.array(seeds, dtype=np.float64))

    # day 0 has no recorded start state: the snapshot at planting is taken on its first call
    run_season(weather, strategies, record=False, observer=observe)
    return {k: np.concatenate(v) if v else np.zeros(0) for k, v in out.items()}


def _day_rows(obs, start_crop, before, strategies, dmc, step_s, out) -> None:
    clim = obs.climate
    t = obs.time_s
    day = (t >= obs.sunrise_s) & (t < obs.sunset_s)
    night = ~day
    tair = clim[:, :, _CL["tair_c"]]
    d_acc = obs.accounts - before
    end, start = obs.crop, start_crop

    def delta(name: str) -> np.ndarray:
        return end[:, _CROP_IDX[name]] - start[:, _CROP_IDX[name]]

    harvest_kg = delta("harvest_a_kg_m2") + delta("harvest_b_kg_m2")
    n = clim.shape[0]
    rows = {
        "tair_mean_c": tair.mean(axis=1),
        "tair_day_mean_c": tair[:, day].mean(axis=1) if day.any() else tair.mean(axis=1),
        "tair_night_mean_c": tair[:, night].mean(axis=1) if night.any() else tair.mean(axis=1),
        "par_sum_mol_m2": clim[:, :, _CL["par_umol_m2_s"]].sum(axis=1) * step_s / 1e6,
        "co2_day_mean_ppm": (clim[:, day, _CL["co2_ppm"]] if day.any() else clim[:, :, 2]).mean(
            axis=1
        ),
        "hd_mean_g_m3": clim[:, :, _CL["hd_g_m3"]].mean(axis=1),
        "fruit_growth_kg_m2": delta("fruit_dm_on_plant_g_m2") / dmc / 1000.0 + harvest_kg,
        "harvest_kg_m2": harvest_kg,
        "harvest_fruits_m2": delta("harvest_a_n_m2") + delta("harvest_b_n_m2"),
        "heat_kwh_m2": d_acc[:, _AC["heat_j"]] / 3.6e6,
        "electricity_kwh_m2": (d_acc[:, _AC["lamp_peak_j"]] + d_acc[:, _AC["lamp_offpeak_j"]])
        / 3.6e6,
        "co2_kg_m2": d_acc[:, _AC["co2_dosed_kg"]],
        "water_l_m2": d_acc[:, _AC["irrigation_l"]] - d_acc[:, _AC["drain_l"]],
    }
    for name in CROP_FEATURES:
        rows[name] = (
            np.full(n, float(obs.day)) if name == "days_since_planting_d"
            else start[:, _CROP_IDX[name]]
        )  # fmt: skip
    day_length = float(obs.sunset_s[0] - obs.sunrise_s[0]) / 3600.0
    for name, value in weather_features(obs.weather, step_s, day_length).items():
        rows[name] = np.full(n, value)
    plans = np.stack([s.plans[obs.day] for s in strategies])
    for j, name in enumerate(PLAN_FEATURES):
        rows[name] = plans[:, j]
    for name, values in rows.items():
        out[name].append(np.asarray(values, dtype=np.float64))


def build_dataset(
    seasons: int = 200,
    *,
    seed: int = 0,
    per_weather: int = 20,
    days: float = SEASON_DAYS,
    workers: int | None = None,
) -> DayTable:
    """`seasons` simulated seasons, `per_weather` greenhouses sharing each weather, as a DayTable.

    Seasons are numbered 0.. in order; `season_id` groups each season's rows and `weather_id`
    the seasons that shared a weather. Same arguments, same table.
    """
    if seasons < 1 or per_weather < 1:
        raise DatasetError(f"--seasons must be at least 1, got {seasons}")
    if not days >= 2:
        raise DatasetError(f"season length must be at least 2 days, got {days}")
    n_weather = -(-seasons // per_weather)
    tasks = []
    for w in range(n_weather):
        count = min(per_weather, seasons - w * per_weather)
        seeds = [seed * 100_003 + w * per_weather + k for k in range(count)]
        tasks.append((w, seeds, days))
    workers = workers or min(os.cpu_count() or 1, 4)
    if workers <= 1 or len(tasks) == 1:
        parts = [_batch(t) for t in tasks]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(_batch, tasks))
    columns: dict[str, list[np.ndarray]] = {}
    season_ids: list[np.ndarray] = []
    weather_ids: list[np.ndarray] = []
    for (w, seeds, _), part in zip(tasks, parts, strict=True):
        first = w * per_weather
        season_ids.append(first + (part["season_seed"] - seeds[0]).astype(np.int64))
        weather_ids.append(np.full(len(part["season_seed"]), w, dtype=np.int64))
        for k, v in part.items():
            if k != "season_seed":
                columns.setdefault(k, []).append(v)
    labels = {str(w): season_weather(w, days)[0] for w in range(n_weather)}
    return DayTable(
        {k: np.concatenate(v) for k, v in columns.items()},
        np.concatenate(season_ids),
        np.concatenate(weather_ids),
        {
            "seed": seed,
            "season_days": days,
            "weathers": labels,
            "held_out_weather": [w for w in HELD_OUT_WEATHER if w < n_weather],
            "features": list(FEATURES),
            "targets": list(TARGETS),
            "bounds_source": "controllers.day_plan.PLAN_BOUNDS",
        },
    )
