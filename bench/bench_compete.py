"""Lockstep overhead per decision with 10 remote teams answering at once (in-process HTTP).

    .venv/bin/python bench/bench_compete.py

Plays a 2-day hourly season twice: (a) the engine alone, every team's setpoints handed in
directly; (b) through the HTTP API (FastAPI TestClient, no network), each of 10 remote teams
posting its setpoints every decision. The difference per decision is the overhead beyond the
simulation itself (issue 14 target: < 20 ms).
"""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.compete_server import Game, create_app, hash_token
from controllers.compete_file import parse_competition
from controllers.compete_rounds import Rounds
from controllers.compete_teams import build_lockstep

N_TEAMS = 10
DOC = {
    "season": {"start": "2018-09-01", "days": 2},
    "decisions": {"interval_s": 3600, "deadline_s": 60},
    "teams": [{"name": f"t{i}", "kind": "remote"} for i in range(N_TEAMS)],
}


def main() -> None:
    """Print seconds per decision for the engine alone and through the API."""
    spec = parse_competition(DOC, "bench", Path("."))
    warm = build_lockstep(spec)
    warm.step({g: Rounds(warm, 1, time.monotonic).last[g] for g in range(N_TEAMS)})  # compile

    lock = build_lockstep(spec)
    rows = Rounds(lock, 1, time.monotonic).last
    t0 = time.perf_counter()
    while not lock.finished:
        lock.step(rows)
    engine = (time.perf_counter() - t0) / lock.n_decisions

    lock = build_lockstep(spec)
    tokens = {f"t{i}": f"token-{i}" for i in range(N_TEAMS)}
    game = Game(
        Rounds(lock, 60, time.monotonic),
        ["remote"] * N_TEAMS,
        {t: hash_token(tok) for t, tok in tokens.items()},
        time.monotonic,
    )
    app = create_app(game, burst=1e9, rate_per_s=1e9)
    clients = {
        t: TestClient(app, headers={"Authorization": f"Bearer {tok}"}) for t, tok in tokens.items()
    }
    t0 = time.perf_counter()
    while not lock.finished:
        for team, client in clients.items():
            client.post(f"/api/teams/{team}/setpoints", json={"heat_c": 20.0})
    served = (time.perf_counter() - t0) / lock.n_decisions
    print(f"decisions: {lock.n_decisions}, teams: {N_TEAMS}")
    print(f"engine alone:   {engine * 1e3:7.2f} ms per decision")
    print(f"through the API:{served * 1e3:7.2f} ms per decision")
    print(f"overhead:       {(served - engine) * 1e3:7.2f} ms per decision (10 posts)")


if __name__ == "__main__":
    main()
