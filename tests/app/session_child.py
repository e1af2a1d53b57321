"""A session process for the kill -9 test: apply heat 21 C, then tick until killed.

Run as `python -m tests.app.session_child DB`; prints each tick's count on stdout.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

HEAT_C = 21.0


def heat_everywhere(rules, heat_c: float = HEAT_C):
    """The rules with heating `heat_c` in every period and as the default."""
    periods = [
        replace(p, values={**p.values, "heat_c": heat_c}) if "heat_c" in p.values else p
        for p in rules.periods
    ]
    return replace(rules, periods=periods, defaults={**rules.defaults, "heat_c": heat_c})


def main(db: str) -> None:
    """Start a session on `db`, apply the rules, tick as fast as it can."""
    from app.session import Session, SessionConfig
    from controllers.clock import ManualClock

    clock = ManualClock(1000.0)
    session = Session(SessionConfig(db_path=Path(db), clock=clock, autorun=False, speed=60.0))
    session.start()
    session.tick()
    session.apply_rules(heat_everywhere(session.rules), who="anna", why="warmer crop")
    n = 0
    while True:
        clock.advance(1.0)  # one plant minute per tick at speed 60
        session.tick()
        n += 1
        print(n, flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
