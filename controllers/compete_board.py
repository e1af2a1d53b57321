"""The competition leaderboard: teams ranked by net profit, with costs, yield and resource use."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from controllers.season import SeasonResult
from controllers.season_files import _atomic_write, write_season_outputs

#: Columns of leaderboard.csv, in order (costs per kind, then resource use per kg harvested).
BOARD_COLUMNS: tuple[str, ...] = (
    "rank",
    "team",
    "kind",
    "net_profit_eur_m2",
    "revenue_eur_m2",
    "cost_heat_eur_m2",
    "cost_electricity_eur_m2",
    "cost_co2_eur_m2",
    "cost_water_eur_m2",
    "cost_labour_eur_m2",
    "cost_plants_eur_m2",
    "yield_kg_m2",
    "yield_class_a_kg_m2",
    "fruits_per_m2",
    "heat_kwh_per_kg",
    "electricity_kwh_per_kg",
    "co2_kg_per_kg",
    "water_l_per_kg",
    "mean_tair_c",
)


def _per_kg(amount: float, kg: float) -> float | None:
    return round(amount / kg, 4) if kg > 0 else None


def leaderboard(results: Sequence[SeasonResult], kinds: Sequence[str]) -> list[dict]:
    """One row per team (BOARD_COLUMNS), best net profit first; ties keep the file's order."""
    rows = []
    for result, kind in zip(results, kinds, strict=True):
        s = result.summary
        costs = s["costs_eur_m2"]
        kg = float(s["yield_kg_m2"])
        rows.append(
            {
                "rank": 0,
                "team": s["team"],
                "kind": kind,
                "net_profit_eur_m2": s["net_profit_eur_m2"],
                "revenue_eur_m2": s["revenue_eur_m2"],
                **{
                    f"cost_{k}_eur_m2": costs[k]
                    for k in ("heat", "electricity", "co2", "water", "labour", "plants")
                },
                "yield_kg_m2": s["yield_kg_m2"],
                "yield_class_a_kg_m2": s["yield_class_a_kg_m2"],
                "fruits_per_m2": s["fruits_per_m2"],
                "heat_kwh_per_kg": _per_kg(s["heat_kwh_m2"], kg),
                "electricity_kwh_per_kg": _per_kg(s["electricity_kwh_m2"], kg),
                "co2_kg_per_kg": _per_kg(s["co2_kg_m2"], kg),
                "water_l_per_kg": _per_kg(s["water_l_m2"], kg),
                "mean_tair_c": s["mean_tair_c"],
            }
        )
    order = sorted(range(len(rows)), key=lambda i: -rows[i]["net_profit_eur_m2"])
    ranked = [rows[i] for i in order]
    for r, row in enumerate(ranked, start=1):
        row["rank"] = r
    return ranked


def board_csv(rows: Sequence[dict]) -> str:
    """The leaderboard as CSV text (header BOARD_COLUMNS; an unknown per-kg figure is empty)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(BOARD_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def format_board(rows: Sequence[dict]) -> str:
    """A fixed-width leaderboard for a terminal."""
    head = f"{'#':>2} {'team':<16} {'kind':<9} {'net EUR/m2':>10} {'yield kg/m2':>11} "
    head += f"{'fruits/m2':>9} {'heat kWh/kg':>11} {'CO2 kg/kg':>9}"
    lines = [head]
    for r in rows:
        heat = "-" if r["heat_kwh_per_kg"] is None else f"{r['heat_kwh_per_kg']:.2f}"
        co2 = "-" if r["co2_kg_per_kg"] is None else f"{r['co2_kg_per_kg']:.3f}"
        lines.append(
            f"{r['rank']:>2} {r['team']:<16} {r['kind']:<9} {r['net_profit_eur_m2']:>10.3f} "
            f"{r['yield_kg_m2']:>11.3f} {r['fruits_per_m2']:>9.1f} {heat:>11} {co2:>9}"
        )
    return "\n".join(lines)


def write_competition_outputs(
    results: Sequence[SeasonResult], rows: Sequence[dict], out_dir: str | Path, timezone: str
) -> list[Path]:
    """leaderboard.csv, leaderboard.json and teams/<name>/{climate,crop}.csv, summary.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for result in results:
        written += write_season_outputs(result, out / "teams" / result.summary["team"], timezone)
    path = out / "leaderboard.csv"
    _atomic_write(path, [board_csv(rows)])
    written.append(path)
    path = out / "leaderboard.json"
    _atomic_write(path, [json.dumps(list(rows), indent=2) + "\n"])
    written.append(path)
    return written
