"""Learned strategy against grower rules on weather the shipped model never saw, scored in the
full simulator (never by the model), plus the dataset and planning speed.

    .venv/bin/python bench/bench_learned.py [--days N] [--dataset-seasons N] [--trust-penalty EUR]

Held-out weathers are the dataset's held-out ones (the AGC 2018 season and the synthetic 35N
year). Prints one JSON line per season and a summary line.
"""

from __future__ import annotations

import argparse
import json
import time

from controllers.dataset import HELD_OUT_WEATHER, build_dataset, season_weather
from controllers.grower_rules import GrowerRules
from controllers.learned_strategy import LearnedStrategy
from controllers.season import run_season


def main() -> None:
    """Run the comparison and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=float, default=115.0)
    parser.add_argument("--dataset-seasons", type=int, default=200)
    parser.add_argument("--trust-penalty", type=float, default=None, help="EUR/m2 a day")
    args = parser.parse_args()
    t0 = time.perf_counter()
    build_dataset(args.dataset_seasons, seed=0)
    print(json.dumps({"dataset_seasons": args.dataset_seasons,
                      "dataset_s": round(time.perf_counter() - t0, 1)}))  # fmt: skip
    gains = []
    for w in HELD_OUT_WEATHER:
        label, weather = season_weather(w, args.days)
        grower = run_season(weather, GrowerRules(), record=False)[0].summary
        learned = LearnedStrategy()
        if args.trust_penalty is not None:
            learned.trust_penalty_eur_m2 = args.trust_penalty
        t1 = time.perf_counter()
        summary = run_season(weather, learned, record=False)[0].summary
        plan_s = (time.perf_counter() - t1) / max(1, len(learned.decisions) + len(learned.events))
        g, lrn = grower["net_profit_eur_m2"], summary["net_profit_eur_m2"]
        gains.append((lrn - g) / abs(g) * 100.0 if g else float("nan"))
        print(json.dumps({
            "weather": label,
            "grower_net_eur_m2": g,
            "learned_net_eur_m2": lrn,
            "gain_pct": round(gains[-1], 1),
            "grower_yield_kg_m2": grower["yield_kg_m2"],
            "learned_yield_kg_m2": summary["yield_kg_m2"],
            "grower_heat_kwh_per_kg": round(grower["heat_kwh_m2"] / grower["yield_kg_m2"], 2),
            "learned_heat_kwh_per_kg": round(summary["heat_kwh_m2"] / summary["yield_kg_m2"], 2),
            "days_planned": len(learned.decisions),
            "days_fallback": len(learned.events),
            "seconds_per_day_incl_sim": round(plan_s, 3),
        }))  # fmt: skip
    print(json.dumps({"mean_gain_pct": round(sum(gains) / len(gains), 1), "seasons": len(gains)}))


if __name__ == "__main__":
    main()
