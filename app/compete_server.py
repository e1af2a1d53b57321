"""The HTTP API of `serra compete serve`: remote teams play their compartments (FastAPI).

A team sends `Authorization: Bearer <token>`; tokens are kept only as salted SHA-256 hashes.
A team reads its own compartment's sensors, the weather so far and the allowed forecast, posts
setpoints (validated against controllers.setpoints.SETPOINT_RANGES), and anyone reads the
leaderboard. Refusals: 401 missing/wrong token, 403 another team's compartment, 422 malformed
or out-of-range body (naming the field), 413 oversize body, 429 too many requests (a token
bucket per team, or per client address for the public routes). Every request is logged with
team and time; the clock is injected so tests never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from controllers.compete import SENSORS
from controllers.compete_board import leaderboard
from controllers.compete_rounds import Rounds
from controllers.setpoints import SETPOINT_RANGES, setpoint_unit
from sim.physics import WEATHER_INPUTS

log = logging.getLogger("serra.compete.http")

#: Largest request body accepted (bytes); setpoints need a few hundred.
MAX_BODY = 16_384


def hash_token(token: str, salt: str | None = None) -> str:
    """`salt$sha256(salt + token)` as stored in a competition file (`token_sha256`)."""
    salt = salt if salt is not None else secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + token).encode()).hexdigest()}"


def token_matches(token: str, stored: str) -> bool:
    """True if `token` hashes to `stored` (constant-time comparison)."""
    salt, _, _digest = stored.partition("$")
    return hmac.compare_digest(hash_token(token, salt), stored)


@dataclass
class TokenBucket:
    """`capacity` requests at once, refilled at `rate_per_s`; one bucket per key."""

    capacity: float
    rate_per_s: float
    clock: Callable[[], float]
    _state: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str) -> bool:
        """Spend one token of `key`'s bucket; False when it is empty."""
        now = self.clock()
        level, last = self._state.get(key, (self.capacity, now))
        level = min(self.capacity, level + (now - last) * self.rate_per_s)
        if level < 1.0:
            self._state[key] = (level, now)
            return False
        self._state[key] = (level - 1.0, now)
        return True


def _setpoints_model() -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (
            float | None,
            Field(
                None,
                ge=lo,
                le=hi,
                description=f"{name} in {setpoint_unit(name) or 'units'}, {lo:g}..{hi:g}",
            ),
        )
        for name, (lo, hi) in SETPOINT_RANGES.items()
    }
    return create_model(
        "Setpoints",
        __config__=ConfigDict(extra="forbid", allow_inf_nan=False),
        **fields,
    )


SetpointsIn = _setpoints_model()


class _BodyLimit:
    """ASGI middleware: 413 for a body over `limit` bytes (declared or streamed)."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        too_big = JSONResponse({"detail": f"body over {self.limit} bytes"}, status_code=413)
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await too_big(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await too_big(scope, receive, send)
                return
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@dataclass
class Game:
    """What the server serves: the rounds, team names and kinds, token hashes, the clock."""

    rounds: Rounds
    kinds: list[str]
    token_hashes: dict[str, str]  # remote team -> salt$sha256
    clock: Callable[[], float]
    requests: list[dict] = field(default_factory=list)
    log_path: Path | None = None
    last_request: dict[str, float] = field(default_factory=dict)
    on_finish: Callable[[], None] | None = None

    @property
    def names(self) -> list[str]:
        """Team names in file order."""
        return self.rounds.lockstep.names

    def team_of(self, token: str) -> str | None:
        """The team whose token this is, or None."""
        for team, stored in self.token_hashes.items():
            if token_matches(token, stored):
                return team
        return None

    def record(self, entry: dict) -> None:
        """Keep one request-log entry (and append it to the log file if there is one)."""
        self.requests.append(entry)
        log.info("%s", json.dumps(entry))
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry) + "\n")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def create_app(
    game: Game,
    *,
    max_body: int = MAX_BODY,
    burst: float = 20.0,
    rate_per_s: float = 10.0,
    poll_every_s: float | None = None,
) -> FastAPI:
    """The FastAPI app serving `game` (OpenAPI description at /openapi.json).

    Handlers are coroutines, so one event loop serialises every change to the season. With
    `poll_every_s` a background task advances decisions whose deadline passed (serve); tests
    call `game.rounds.poll()` through requests instead.
    """

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        task = None
        if poll_every_s is not None:

            async def poller() -> None:
                while not game.rounds.lockstep.finished:
                    game.rounds.poll()
                    await asyncio.sleep(poll_every_s)
                if game.on_finish is not None:
                    game.on_finish()

            task = asyncio.create_task(poller())
        yield
        if task is not None:
            task.cancel()

    app = FastAPI(
        lifespan=lifespan,
        title="Serra competition",
        description="Remote-control a simulated greenhouse compartment (docs/compete.md).",
        version="1",
    )
    bucket = TokenBucket(burst, rate_per_s, game.clock)
    lock = game.rounds.lockstep

    @app.middleware("http")
    async def log_requests(request: Request, call_next):
        response = await call_next(request)
        team = getattr(request.state, "team", None)
        game.record(
            {
                "time": _iso(time.time()),
                "clock": game.clock(),
                "team": team,
                "client": request.client.host if request.client else None,
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "decision": lock.decision,
            }
        )
        return response

    app.add_middleware(_BodyLimit, limit=max_body)

    async def public(request: Request) -> None:
        key = "client:" + (request.client.host if request.client else "?")
        if not bucket.take(key):
            raise HTTPException(429, "too many requests; slow down")
        game.rounds.poll()

    async def team_auth(request: Request) -> str:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(
                401,
                "missing token: send Authorization: Bearer <token>",
                {"WWW-Authenticate": "Bearer"},
            )
        team = game.team_of(token.strip())
        if team is None:
            raise HTTPException(401, "wrong token", {"WWW-Authenticate": "Bearer"})
        request.state.team = team
        if not bucket.take("team:" + team):
            raise HTTPException(429, "too many requests; slow down")
        game.last_request[team] = game.clock()
        game.rounds.poll()
        return team

    def own(team: str, me: str) -> int:
        if team not in game.names:
            raise HTTPException(404, f"no team {team!r}")
        if team != me:
            raise HTTPException(403, f"compartment {team!r} is not yours")
        return game.names.index(team)

    @app.get("/api/status", dependencies=[Depends(public)])
    async def status() -> dict:
        """Where the season is: decision, simulated time, who is awaited, time to the deadline."""
        rounds = game.rounds
        return {
            "decision": lock.decision,
            "decisions": lock.n_decisions,
            "finished": lock.finished,
            "time": _iso(lock.now_s),
            "interval_s": lock.decision_s,
            "waiting_for": rounds.waiting_for() if not lock.finished else [],
            "deadline_in_s": max(0.0, rounds.deadline - game.clock()),
            "teams": [
                {"team": n, "kind": k, "last_request_clock": game.last_request.get(n)}
                for n, k in zip(game.names, game.kinds, strict=True)
            ],
        }

    @app.get("/api/leaderboard", dependencies=[Depends(public)])
    async def board() -> list[dict]:
        """The public leaderboard over the season so far (best net profit first)."""
        if lock.index == 0:
            return []
        return leaderboard(lock.results(), game.kinds)

    @app.get("/api/teams/{team}/sensors")
    async def sensors(team: str, since: float | None = None, me: str = Depends(team_auth)) -> dict:
        """Your compartment's sensor history (after `since`, UTC seconds), one row per step."""
        g = own(team, me)
        times, rows = lock.sensors(g, since)
        return {"time_s": times.tolist(), "columns": list(SENSORS), "rows": rows.tolist()}

    @app.get("/api/weather")
    async def weather(since: float | None = None, me: str = Depends(team_auth)) -> dict:
        """Weather so far (after `since`) and the forecast the competition allows."""
        past_t, past = lock.weather_so_far()
        i0 = 0 if since is None else int((past_t <= since).sum())
        ahead_t, ahead = lock.forecast_ahead()
        return {
            "columns": list(WEATHER_INPUTS),
            "observed": {
                "time_s": past_t[i0:].tolist(),
                **{k: v[i0:].tolist() for k, v in past.items()},
            },
            "forecast_hours": lock.forecast.hours,
            "forecast": {"time_s": ahead_t.tolist(), **{k: v.tolist() for k, v in ahead.items()}},
        }

    @app.post("/api/teams/{team}/setpoints")
    async def post_setpoints(team: str, body: SetpointsIn, me: str = Depends(team_auth)) -> dict:  # type: ignore[valid-type]
        """Your setpoints for the current decision; names left out keep their last value."""
        g = own(team, me)
        if lock.finished:
            raise HTTPException(409, "the season is over")
        decision = lock.decision
        held = game.rounds.submit(g, body.model_dump(exclude_none=True))  # type: ignore[attr-defined]
        game.rounds.poll()
        return {"decision": decision, "setpoints": held}

    return app
