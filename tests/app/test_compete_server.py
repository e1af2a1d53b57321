"""`serra compete serve`'s HTTP API, in-process (FastAPI TestClient, injected clock, no sleeps)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.compete_server import Game, create_app, hash_token, token_matches
from controllers.compete_file import parse_competition
from controllers.compete_rounds import Rounds
from controllers.compete_teams import build_lockstep
from controllers.setpoints import SETPOINTS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOKENS = {"north": "tok-north-1234", "south": "tok-south-5678"}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _game(tmp_path: Path, days: float = 1.0, deadline: float = 5.0, log: bool = False):
    doc = {
        "season": {"start": "2018-09-01", "days": days},
        "decisions": {"interval_s": 3600, "deadline_s": deadline},
        "forecast": {"hours": 2},
        "teams": [
            {"name": "grower", "kind": "grower"},
            {"name": "north", "kind": "remote"},
            {"name": "south", "kind": "remote"},
        ],
    }
    spec = parse_competition(doc, "t.toml", EXAMPLES)
    clock = Clock()
    lockstep = build_lockstep(spec)
    game = Game(
        Rounds(lockstep, spec.deadline_s, clock),
        [t.kind for t in spec.teams],
        {team: hash_token(tok) for team, tok in TOKENS.items()},
        clock,
        log_path=tmp_path / "requests.jsonl" if log else None,
    )
    return game, clock


def _auth(team: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[team]}"}


@pytest.fixture
def served(tmp_path):
    game, clock = _game(tmp_path, log=True)
    return game, clock, TestClient(create_app(game, burst=1000, rate_per_s=1000))


def _snapshot(game: Game):
    lock = game.rounds.lockstep
    return lock.index, lock.climate.copy(), {g: r.copy() for g, r in game.rounds.pending.items()}


def _unchanged(game: Game, snap) -> bool:
    index, climate, pending = snap
    lock = game.rounds.lockstep
    now = game.rounds.pending
    return (
        lock.index == index
        and np.array_equal(lock.climate, climate)
        and set(now) == set(pending)
        and all(np.array_equal(now[g], pending[g]) for g in now)
    )


def test_tokens_are_stored_salted_and_hashed():
    stored = hash_token("secret")
    salt, digest = stored.split("$")
    assert "secret" not in stored and len(digest) == 64 and len(salt) == 16
    assert token_matches("secret", stored) and not token_matches("secreT", stored)
    assert hash_token("secret") != stored  # a new salt every time


def test_openapi_describes_every_route_and_the_setpoint_ranges(served):
    _, _, client = served
    doc = client.get("/openapi.json").json()
    assert {"/api/status", "/api/leaderboard", "/api/weather", "/api/teams/{team}/sensors",
            "/api/teams/{team}/setpoints"} <= set(doc["paths"])  # fmt: skip
    heat = doc["components"]["schemas"]["Setpoints"]["properties"]["heat_c"]["anyOf"][0]
    assert (heat["minimum"], heat["maximum"]) == (5.0, 35.0)


def test_a_team_reads_its_own_compartment_and_weather_and_posts(served):
    game, _, client = served
    r = client.post("/api/teams/north/setpoints", json={"heat_c": 23.5}, headers=_auth("north"))
    assert r.status_code == 200 and r.json()["setpoints"]["heat_c"] == 23.5
    assert game.rounds.lockstep.index == 0  # south has not answered, deadline not passed
    r = client.post("/api/teams/south/setpoints", json={"co2_ppm": 1000}, headers=_auth("south"))
    assert r.status_code == 200
    lock = game.rounds.lockstep
    assert lock.index == 12  # both answered: one hour simulated at once
    assert lock.setpoints[1, 0, SETPOINTS.index("heat_c")] == 23.5
    assert lock.setpoints[2, 0, SETPOINTS.index("co2_ppm")] == 1000
    sensors = client.get("/api/teams/north/sensors", headers=_auth("north")).json()
    assert len(sensors["time_s"]) == 12 and sensors["columns"][0] == "tair_c"
    weather = client.get("/api/weather", headers=_auth("north")).json()
    assert len(weather["observed"]["time_s"]) == 12 and len(weather["forecast"]["time_s"]) == 24
    assert weather["forecast"]["time_s"][0] == lock.times[12]  # no peeking past the horizon
    board = client.get("/api/leaderboard").json()
    assert sorted(r["team"] for r in board) == ["grower", "north", "south"]
    logged = [json.loads(x) for x in game.log_path.read_text().splitlines()]
    assert [(e["team"], e["status"]) for e in logged[:2]] == [("north", 200), ("south", 200)]
    assert all("time" in e and "clock" in e for e in logged)


def test_a_missing_team_keeps_its_last_setpoints_after_the_deadline(served):
    game, clock, client = served
    client.post("/api/teams/north/setpoints", json={"heat_c": 24}, headers=_auth("north"))
    client.post("/api/teams/south/setpoints", json={"heat_c": 16}, headers=_auth("south"))
    client.post("/api/teams/north/setpoints", json={"heat_c": 22}, headers=_auth("north"))
    clock.t += 4.9
    assert client.get("/api/status").json()["waiting_for"] == ["south"]
    assert game.rounds.lockstep.index == 12
    clock.t += 0.2  # past the 5 s deadline
    status = client.get("/api/status").json()
    lock = game.rounds.lockstep
    assert status["decision"] == 2 and lock.index == 24
    assert lock.setpoints[2, 12, SETPOINTS.index("heat_c")] == 16  # south's last, kept
    assert lock.setpoints[1, 12, SETPOINTS.index("heat_c")] == 22
    events = [(e.decision, e.team, e.what) for e in game.rounds.events]
    assert events == [(1, "south", "kept last setpoints")]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "code"),
    [
        ("get", "/api/teams/north/sensors", {}, 401),
        ("get", "/api/weather", {"headers": {"Authorization": "Bearer nope"}}, 401),
        ("get", "/api/weather", {"headers": {"Authorization": "Basic abc"}}, 401),
        ("post", "/api/teams/north/setpoints", {"json": {"heat_c": 20}}, 401),
        ("get", "/api/teams/south/sensors", {"headers": _auth("north")}, 403),
        ("post", "/api/teams/south/setpoints", {"headers": _auth("north"), "json": {}}, 403),
        ("post", "/api/teams/grower/setpoints", {"headers": _auth("north"), "json": {}}, 403),
        (
            "post",
            "/api/teams/north/setpoints",
            {
                "headers": {**_auth("north"), "Content-Type": "application/json"},
                "content": b"{heat",
            },
            422,
        ),
        (
            "post",
            "/api/teams/north/setpoints",
            {"headers": _auth("north"), "json": {"heat_c": 99}},
            422,
        ),
        (
            "post",
            "/api/teams/north/setpoints",
            {"headers": _auth("north"), "json": {"heat_cc": 20}},
            422,
        ),
        (
            "post",
            "/api/teams/north/setpoints",
            {"headers": _auth("north"), "json": {"heat_c": "warm"}},
            422,
        ),
        (
            "post",
            "/api/teams/north/setpoints",
            {"headers": _auth("north"), "content": b"{" + b" " * 20_000 + b"}"},
            413,
        ),
    ],
)
def test_abuse_is_refused_and_changes_nothing(served, method, path, kwargs, code):
    game, _, client = served
    snap = _snapshot(game)
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == code, response.text
    assert _unchanged(game, snap)
    if code == 422 and "json" in kwargs:
        field = next(iter(kwargs["json"]))
        assert response.json()["detail"][0]["loc"][-1] == field
    assert client.get("/api/status").status_code == 200  # the server keeps running


def test_floods_get_429_per_team_until_the_bucket_refills(tmp_path):
    game, clock = _game(tmp_path)
    client = TestClient(create_app(game, burst=5, rate_per_s=1.0))
    codes = [client.get("/api/weather", headers=_auth("north")).status_code for _ in range(8)]
    assert codes == [200] * 5 + [429] * 3
    assert client.get("/api/weather", headers=_auth("south")).status_code == 200  # its own bucket
    clock.t += 2.0
    assert client.get("/api/weather", headers=_auth("north")).status_code == 200
    assert game.rounds.lockstep.index == 0


def _example_client():
    spec = importlib.util.spec_from_file_location("team_client", EXAMPLES / "team_client.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_client_plays_a_season_end_to_end(tmp_path):
    game, _ = _game(tmp_path, days=1.0)
    app = create_app(game, burst=1000, rate_per_s=1000)
    client_module = _example_client()
    players = {team: TestClient(app, headers=_auth(team)) for team in TOKENS}
    since = dict.fromkeys(TOKENS)
    lock = game.rounds.lockstep
    for _ in range(3 * lock.n_decisions):
        if lock.finished:
            break
        for team, client in players.items():
            since[team] = client_module.play_turn(client, team, since[team])
    assert lock.finished and lock.decision == 24
    board = players["north"].get("/api/leaderboard").json()
    assert {r["team"] for r in board} == {"grower", "north", "south"}
    assert game.rounds.events == []  # nobody missed a deadline
    heat = lock.setpoints[1, :, SETPOINTS.index("heat_c")]
    assert set(np.unique(heat)) <= {18.0, 21.0} and (heat == 21.0).any()


_json = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/api/teams/north/setpoints",
            "/api/teams/south/setpoints",
            "/api/teams/x/setpoints",
            "/api/teams/north/sensors",
            "/api/weather",
            "/api/status",
            "/api/leaderboard",
        ]
    ),
    body=_json | st.dictionaries(st.sampled_from(SETPOINTS), st.floats() | st.integers()),
    token=st.sampled_from([None, "tok-north-1234", "junk", ""]),
    since=st.none() | st.floats() | st.text(max_size=5),
)
def test_fuzzed_requests_never_get_a_5xx(served, path, body, token, since):
    _, _, client = served
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    params = {} if since is None else {"since": str(since)}
    if path.endswith("setpoints"):
        r = client.post(path, content=json.dumps(body).encode(), headers=headers, params=params)
    else:
        r = client.get(path, headers=headers, params=params)
    assert r.status_code < 500, r.text
