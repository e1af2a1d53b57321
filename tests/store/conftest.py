"""Shared helpers of the store tests: ticks and events as the control loop makes them."""

from __future__ import annotations

import pytest

from controllers.records import Event, TickRecord
from store.db import open_store

T0 = 1_717_200_000.0  # 2024-06-01 00:00:00 UTC, a multiple of one hour


def tick(i: int, step_s: float = 60.0, **over) -> TickRecord:
    """Tick number i of a deterministic run (values depend on i so they can be checked)."""
    fields = dict(
        time_s=T0 + i * step_s,
        measurements={"tair_c": 20.0 + (i % 10) * 0.5, "rh_pct": 70.0 + i % 3, "co2_ppm": 400.0},
        quality={"tair_c": "good", "rh_pct": "good", "co2_ppm": "stale"},
        setpoints={"heat_c": 18.0 + (i % 2), "co2_ppm": 800.0},
        commands={"vent_lee_pct": float(i % 100), "pipe_sp_c": 45.0},
        readbacks={"vent_lee_pct": float(i % 100) + 0.5},  # within 0..100: exports import back
        health={"climate.errors": float(i // 10)},
        mode="normal",
    )
    fields.update(over)
    return TickRecord(**fields)


def event(t_s: float, kind: str, message: str = "", **data) -> Event:
    """An event from the grower unless `who` is in data."""
    who = data.pop("who_", "grower")
    return Event(time_s=t_s, kind=kind, source="test", message=message, who=who, data=data)


@pytest.fixture
def db_path(tmp_path):
    """Path of a fresh database file."""
    return tmp_path / "serra.db"


@pytest.fixture
def store(db_path):
    """An open, migrated, empty store."""
    s = open_store(db_path)
    yield s
    s.close()
