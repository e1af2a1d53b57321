"""Manual overrides: force an actuator to a value for a limited time, then control resumes.

Every override is recorded with who set it and why: `override_set` when it is set and
`override_ended` when it expires or is cancelled, each with data
`{actuator, value, until_s, who, why}` (plus `reason` "expired" / "cancelled" / "replaced" on
the end). Times are plant time (UTC seconds). Thread-safe: a GUI may set overrides while the
loop runs.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from controllers.records import Event
from drivers.signals import ACTUATORS, SIGNALS


class OverrideError(ValueError):
    """An override that cannot be set; the message says what is allowed."""


@dataclass(frozen=True)
class Override:
    """One forced actuator: value until `until_s` (plant UTC seconds), who set it and why."""

    actuator: str
    value: float
    until_s: float
    who: str
    why: str

    def as_dict(self) -> dict[str, Any]:
        """The override as the dict stored in events and returned by Recorder.restore()."""
        return asdict(self)


class Overrides:
    """The overrides in force; `emit(event)` receives every set/end as an Event."""

    def __init__(self, emit: Callable[[Event], None] | None = None) -> None:
        self._emit = emit or (lambda event: None)
        self._lock = threading.Lock()
        self._active: dict[str, Override] = {}

    def set(
        self,
        actuator: str,
        value: float,
        *,
        now_s: float,
        duration_s: float,
        who: str,
        why: str,
    ) -> Override:
        """Force `actuator` to `value` from `now_s` for `duration_s` plant seconds."""
        if actuator not in ACTUATORS:
            raise OverrideError(f"override: unknown actuator {actuator!r}; allowed: {ACTUATORS}")
        sig = SIGNALS[actuator]
        value = float(value)
        if not (math.isfinite(value) and sig.lo <= value <= sig.hi):
            raise OverrideError(
                f"override {actuator} = {value:g} is outside {sig.lo:g}..{sig.hi:g} {sig.unit}"
            )
        if not (math.isfinite(duration_s) and duration_s > 0):
            raise OverrideError(f"override {actuator}: duration {duration_s!r} s must be > 0")
        if not who.strip() or not why.strip():
            raise OverrideError(f"override {actuator}: say who sets it and why (both non-empty)")
        ov = Override(actuator, value, now_s + float(duration_s), who.strip(), why.strip())
        with self._lock:
            old = self._active.get(actuator)
            self._active[actuator] = ov
        if old is not None:
            self._ended(old, now_s, "replaced")
        self._emit(
            Event(
                now_s,
                "override_set",
                "overrides",
                f"{actuator} forced to {value:g} {sig.unit} for {duration_s / 60:g} min: {ov.why}",
                who=ov.who,
                data=ov.as_dict(),
            )
        )
        return ov

    def cancel(self, actuator: str, *, now_s: float, who: str = "serra") -> Override | None:
        """End the override of `actuator` now; return it (None if there was none)."""
        with self._lock:
            ov = self._active.pop(actuator, None)
        if ov is not None:
            self._ended(ov, now_s, "cancelled", who)
        return ov

    def expire(self, now_s: float) -> list[Override]:
        """End every override whose time is up at `now_s`; return them."""
        with self._lock:
            done = [ov for ov in self._active.values() if ov.until_s <= now_s]
            for ov in done:
                del self._active[ov.actuator]
        for ov in done:
            self._ended(ov, now_s, "expired")
        return done

    def values(self) -> dict[str, float]:
        """The forced value of every actuator under override."""
        with self._lock:
            return {name: ov.value for name, ov in self._active.items()}

    def active(self) -> list[Override]:
        """The overrides in force."""
        with self._lock:
            return list(self._active.values())

    def restore(self, saved: Iterable[Mapping[str, Any]], now_s: float) -> list[Override]:
        """Reinstate overrides from Recorder.restore() that are still running at `now_s`.

        No event is emitted for those: the override_set event is already in the log. One whose
        time ran out while the loop was down gets its `override_ended` (reason "expired") now.
        """
        back = []
        for d in saved:
            try:
                ov = Override(
                    str(d["actuator"]), float(d["value"]), float(d["until_s"]),
                    str(d.get("who", "")), str(d.get("why", "")),
                )  # fmt: skip
            except (KeyError, TypeError, ValueError) as exc:
                raise OverrideError(f"restored override {dict(d)!r} is incomplete: {exc}") from None
            if ov.actuator not in ACTUATORS:
                continue
            if ov.until_s <= now_s:
                self._ended(ov, now_s, "expired")
                continue
            with self._lock:
                self._active[ov.actuator] = ov
            back.append(ov)
        return back

    def _ended(self, ov: Override, now_s: float, reason: str, who: str | None = None) -> None:
        self._emit(
            Event(
                now_s,
                "override_ended",
                "overrides",
                f"{ov.actuator} override {reason}; control resumes",
                who=who or ov.who,
                data={**ov.as_dict(), "reason": reason},
            )
        )
