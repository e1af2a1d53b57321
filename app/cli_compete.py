"""`serra compete run FILE` and `serra compete serve FILE`: competitions between strategies.

`run` plays every team in lockstep on the same weather and prints the leaderboard; `serve` opens
the HTTP API (app/compete_server.py) through which remote teams play their compartments.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from app.cli import CliError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serra compete ...` to the command line."""
    compete = subparsers.add_parser("compete", help="competitions between control strategies")
    sub = compete.add_subparsers(dest="compete_command", required=True)
    run = sub.add_parser("run", help="play a competition file, print the leaderboard")
    run.add_argument("file", metavar="FILE", help="competition TOML (docs/compete.md)")
    run.add_argument(
        "--out", metavar="DIR", help="write leaderboard.csv/.json, summary.png, teams/<name>/"
    )
    run.add_argument("--seed", type=int, default=None, help="seed for plugins (default: file's)")
    run.add_argument("--json", action="store_true", help="print the leaderboard as JSON")
    run.set_defaults(handler=_run)
    serve = sub.add_parser("serve", help="HTTP API for remote teams (docs/compete.md)")
    serve.add_argument("file", metavar="FILE", help="competition TOML (docs/compete.md)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8760, help="TCP port (8760)")
    serve.add_argument("--out", metavar="DIR", help="request log and final leaderboard here")
    serve.add_argument("--seed", type=int, default=None, help="seed for plugins (default: file's)")
    serve.set_defaults(handler=_serve)


def _input_errors() -> tuple[type[Exception], ...]:
    from controllers.compete import CompeteError

    return (CompeteError,)


def _check_out(out: str | None) -> None:
    if out and Path(out).exists() and not Path(out).is_dir():
        raise CliError(f"--out {out}: exists and is not a folder; name a folder")


def _run(args: argparse.Namespace) -> int:
    from controllers.compete_board import format_board, leaderboard, write_competition_outputs
    from controllers.compete_file import load_competition
    from controllers.compete_teams import build_lockstep

    _check_out(args.out)
    if args.seed is not None and args.seed < 0:
        raise CliError(f"--seed must be >= 0, got {args.seed}")
    try:
        spec = load_competition(args.file)
        remote = [t.name for t in spec.teams if t.kind == "remote"]
        if remote:
            raise CliError(
                f"{spec.source}: team {remote[0]} is remote; play it with `serra compete serve`"
            )
        lockstep = build_lockstep(spec, args.seed)
        while not lockstep.finished:
            lockstep.step()
        results = lockstep.results()
    except _input_errors() as exc:
        raise CliError(str(exc)) from None
    rows = leaderboard(results, [t.kind for t in spec.teams])
    if args.out:
        from app.compete_plot import write_competition_png

        try:
            write_competition_outputs(results, rows, args.out, lockstep.weather.site.timezone)
            write_competition_png(Path(args.out) / "summary.png", results, spec.name)
        except OSError as exc:
            raise CliError(f"--out {args.out}: cannot write ({exc.strerror})") from None
    if args.json:
        json.dump(rows, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(format_board(rows))
    return 0


def _serve(args: argparse.Namespace) -> int:
    import time

    from app.compete_server import Game, create_app, hash_token
    from controllers.compete_board import format_board, leaderboard, write_competition_outputs
    from controllers.compete_file import load_competition
    from controllers.compete_rounds import Rounds
    from controllers.compete_teams import build_lockstep

    _check_out(args.out)
    if not 0 < args.port < 65536:
        raise CliError(f"--port must be 1..65535, got {args.port}")
    try:
        spec = load_competition(args.file)
        lockstep = build_lockstep(spec, args.seed)
    except _input_errors() as exc:
        raise CliError(str(exc)) from None
    hashes = {}
    for team in spec.teams:
        if team.kind != "remote":
            continue
        if team.token_sha256:
            hashes[team.name] = team.token_sha256
        else:  # printed once; only the hash is kept
            token = secrets.token_urlsafe(24)
            hashes[team.name] = hash_token(token)
            print(f"token {team.name}: {token}", flush=True)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)

    def finish() -> None:
        rows = leaderboard(lockstep.results(), [t.kind for t in spec.teams])
        print(format_board(rows), flush=True)
        if out is not None:
            write_competition_outputs(lockstep.results(), rows, out, lockstep.weather.site.timezone)

    game = Game(
        Rounds(lockstep, spec.deadline_s, time.monotonic),
        [t.kind for t in spec.teams],
        hashes,
        time.monotonic,
        log_path=out / "requests.jsonl" if out is not None else None,
        on_finish=finish,
    )
    import uvicorn

    print(f"serving {spec.name} on http://{args.host}:{args.port} (API: /docs)", flush=True)
    uvicorn.run(
        create_app(game, poll_every_s=0.05), host=args.host, port=args.port, log_level="warning"
    )
    return 0
