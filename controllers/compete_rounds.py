"""Decision rounds with remote teams: wait for every team up to a deadline, then advance.

A round opens at each decision. Remote teams hand in setpoints (`submit`); `poll(now)` advances
the lockstep once every remote team has answered or the deadline has passed. A team that did not
answer keeps its last setpoints (at the first decision: the grower rules'), and that is logged.
The clock is injected, so tests never sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from controllers.compete import CompeteError, Lockstep
from controllers.grower_rules import GrowerRules
from controllers.setpoints import SETPOINTS, check_value

log = logging.getLogger("serra.compete")


@dataclass
class RoundEvent:
    """Something a round did that the organiser should see (kept in `Rounds.events`)."""

    time: float  # the injected clock's time
    decision: int
    team: str
    what: str


@dataclass
class Rounds:
    """Rounds of `lockstep` for its remote teams (those without a strategy)."""

    lockstep: Lockstep
    deadline_s: float
    clock: Callable[[], float]
    events: list[RoundEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.remote = [g for g, s in enumerate(self.lockstep.strategies) if s is None]
        first = GrowerRules().setpoints(
            self.lockstep.times[:1], self.lockstep._planning_context(0, 1, 0)
        )[0]
        self.last: dict[int, np.ndarray] = {g: first.copy() for g in self.remote}
        self.pending: dict[int, np.ndarray] = {}
        self.opened_at = self.clock()

    @property
    def deadline(self) -> float:
        """Clock time at which the current decision goes ahead without the missing teams."""
        return self.opened_at + self.deadline_s

    def waiting_for(self) -> list[str]:
        """Remote teams that have not answered the current decision."""
        return [self.lockstep.names[g] for g in self.remote if g not in self.pending]

    def submit(self, g: int, values: dict[str, float]) -> dict[str, float]:
        """Team `g`'s setpoints for the current decision (names not given keep their values).

        Returns the full setpoints the team now holds. Raises CompeteError for a finished
        season or a value outside its range (the HTTP layer refuses those first).
        """
        if g not in self.remote:
            raise CompeteError(f"team {self.lockstep.names[g]} is not remote")
        if self.lockstep.finished:
            raise CompeteError("the season is over")
        row = self.pending.get(g, self.last[g]).copy()
        for name, value in values.items():
            check_value(name, float(value), where=f"team {self.lockstep.names[g]}")
            row[SETPOINTS.index(name)] = float(value)
        self.pending[g] = row
        return dict(zip(SETPOINTS, row.tolist(), strict=True))

    def poll(self) -> int:
        """Advance every decision that may go ahead now; returns how many were simulated."""
        done = 0
        while not self.lockstep.finished:
            now = self.clock()
            if self.waiting_for() and now < self.deadline:
                break
            decision = self.lockstep.decision
            for g in self.remote:
                if g not in self.pending:
                    name = self.lockstep.names[g]
                    self.events.append(RoundEvent(now, decision, name, "kept last setpoints"))
                    log.warning(
                        "decision %d: %s did not answer; kept last setpoints", decision, name
                    )
                else:
                    self.last[g] = self.pending[g]
            self.lockstep.step({g: self.last[g] for g in self.remote})
            self.pending = {}
            self.opened_at = now
            done += 1
        return done
