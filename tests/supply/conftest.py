"""A supply service on a fresh database file with a settable clock, a catalogue and bays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supply.model import Bay, Product
from supply.service import SupplyService

GTIN = "09501101530003"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, when: datetime) -> None:
        self.now = when

    def __call__(self) -> datetime:
        return self.now


def seed(svc: SupplyService) -> None:
    """Pellets (90 days, alert 30, removal 7) in dry bays; bulk feed in silos; a manager."""
    svc.save_product(
        Product(
            "PIG-GROW",
            "Pig grower pellets",
            unit="kg",
            pack_size=25,
            shelf_life_days=90,
            alert_days=30,
            removal_days=7,
            storage="dry",
            gtin=GTIN,
            lead_time_days=5,
            safety_stock=200,
        )
    )
    svc.save_product(
        Product(
            "BULK-SOW",
            "Sow meal, loose",
            unit="kg",
            pack_size=1000,
            shelf_life_days=60,
            alert_days=14,
            bulk=True,
        )
    )
    svc.save_product(Product("CO2", "CO2 cylinder", unit="piece", pack_size=1))
    for code, seq in (("A-03", 3), ("A-01", 1), ("A-02", 2)):
        svc.save_bay(Bay(code, "W1", "A", sequence=seq), storage="dry")
    svc.save_bay(Bay("B-01", "W1", "B", sequence=1), storage="")
    svc.save_bay(Bay("S-1", "W1", "SILO", kind="silo", capacity=10_000), storage="dry")
    svc.add_person("marta", "manager")
    svc.add_person("luca", "staff")


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def svc(tmp_path, clock) -> SupplyService:
    service = SupplyService(tmp_path / "serra.db", clock=clock)
    seed(service)
    yield service
    service.close()
