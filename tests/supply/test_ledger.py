"""Lots, receipts, issues, transfers, adjustments, scrap: the ledger and its balances."""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supply.errors import InputError, LotBlockedError, NotFoundError, StockError, SupplyError
from supply.service import SupplyService
from tests.supply.conftest import Clock, seed


def _snapshot(svc: SupplyService) -> tuple:
    q = svc.conn.execute
    return (
        q("SELECT * FROM supply_moves ORDER BY id").fetchall(),
        q("SELECT * FROM supply_stock ORDER BY lot_id, bay_id").fetchall(),
        q("SELECT * FROM supply_lots ORDER BY id").fetchall(),
        q("SELECT * FROM supply_allocations ORDER BY id").fetchall(),
        q("SELECT * FROM supply_orders ORDER BY id").fetchall(),
    )


def test_receipt_creates_lot_with_dates_and_books_a_move(svc):
    lot = svc.receive("PIG-GROW", "L1", 500, "A-01", "luca", production=date(2026, 2, 1))
    got = svc.lot(lot)
    assert (got.expiry, got.alert, got.removal) == (
        date(2026, 5, 2),
        date(2026, 4, 2),
        date(2026, 4, 25),
    )
    assert got.status == "available"
    again = svc.receive("PIG-GROW", "L1", 250, "A-02", "luca")
    assert again == lot
    assert svc.on_hand("PIG-GROW") == 750
    assert svc.on_hand(lot_id=lot, bay="A-02") == 250
    (m1, m2) = svc.moves(lot)
    assert (m1.kind, m1.qty, m1.bay, m1.who) == ("receipt", 500, "A-01", "luca")
    assert m1.t_ms == int(datetime(2026, 3, 1, 8, tzinfo=UTC).timestamp() * 1000)
    assert (m2.qty, m2.bay) == (250, "A-02")


def test_issue_transfer_adjust_scrap_keep_on_hand_equal_to_ledger(svc):
    lot = svc.receive("PIG-GROW", "L1", 500, "A-01", "luca")
    svc.issue(lot, "A-01", 120, "luca")
    svc.transfer(lot, "A-01", "A-03", 80, "luca")
    svc.adjust(lot, "A-03", -5, "marta", "stocktake: torn bag")
    svc.scrap(lot, "A-01", 25, "marta", "wet pallet")
    assert svc.on_hand(lot_id=lot, bay="A-01") == 275 == svc.ledger_sum(lot, "A-01")
    assert svc.on_hand(lot_id=lot, bay="A-03") == 75 == svc.ledger_sum(lot, "A-03")
    assert svc.on_hand("PIG-GROW") == 350
    kinds = [(m.kind, m.qty, m.bay) for m in svc.moves(lot)]
    assert kinds == [
        ("receipt", 500, "A-01"),
        ("issue", -120, "A-01"),
        ("transfer", -80, "A-01"),
        ("transfer", 80, "A-03"),
        ("adjustment", -5, "A-03"),
        ("scrap", -25, "A-01"),
    ]
    assert svc.moves(lot)[4].reason == "stocktake: torn bag"
    assert svc.check_balances() == []


def test_ledger_is_append_only(svc):
    svc.receive("PIG-GROW", "L1", 10, "A-01", "luca")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        svc.conn.execute("UPDATE supply_moves SET qty = 99")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        svc.conn.execute("DELETE FROM supply_moves")


@pytest.mark.parametrize(
    ("action", "error", "message"),
    [
        (lambda s, lot: s.issue(lot, "A-01", 0, "luca"), InputError, "must be > 0"),
        (lambda s, lot: s.issue(lot, "A-01", -5, "luca"), InputError, "must be > 0"),
        (lambda s, lot: s.issue(lot, "A-01", 101, "luca"), StockError, "has 100 free"),
        (lambda s, lot: s.issue(lot, "A-02", 1, "luca"), StockError, "has 0 free"),
        (lambda s, lot: s.issue(999, "A-01", 1, "luca"), NotFoundError, "unknown lot id 999"),
        (lambda s, lot: s.issue(lot, "Z-9", 1, "luca"), NotFoundError, "unknown bay 'Z-9'"),
        (
            lambda s, lot: s.receive("NOPE", "L", 1, "A-01", "luca"),
            NotFoundError,
            "unknown product",
        ),
        (
            lambda s, lot: s.receive(
                "PIG-GROW",
                "L9",
                1,
                "A-01",
                "luca",
                production=date(2026, 2, 1),
                expiry=date(2026, 1, 1),
            ),
            InputError,
            "before production",
        ),
        (
            lambda s, lot: s.receive("PIG-GROW", "L1", 1, "A-01", "luca", expiry=date(2027, 1, 1)),
            InputError,
            "known with expiry",
        ),
        (
            lambda s, lot: s.receive("PIG-GROW", "L2", 5, "B-01", "luca"),
            InputError,
            "needs storage dry",
        ),
        (lambda s, lot: s.receive("PIG-GROW", "L2", 5, "S-1", "luca"), InputError, "silos"),
        (lambda s, lot: s.receive("BULK-SOW", "M1", 5, "A-01", "luca"), InputError, "silos only"),
        (
            lambda s, lot: s.receive("BULK-SOW", "M1", 10_001, "S-1", "luca"),
            StockError,
            "does not fit",
        ),
        (lambda s, lot: s.transfer(lot, "A-01", "A-01", 1, "luca"), InputError, "to itself"),
        (lambda s, lot: s.transfer(lot, "A-01", "B-01", 1, "luca"), InputError, "storage"),
        (lambda s, lot: s.adjust(lot, "A-01", -150, "luca", "count"), StockError, "free"),
        (lambda s, lot: s.adjust(lot, "A-01", 0, "luca", "count"), InputError, "non-zero"),
        (lambda s, lot: s.adjust(lot, "A-01", 3, "luca", ""), InputError, "reason"),
        (lambda s, lot: s.issue(lot, "A-01", 1, " "), InputError, "who"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(svc, action, error, message):
    lot = svc.receive("PIG-GROW", "L1", 100, "A-01", "luca", production=date(2026, 2, 1))
    before = _snapshot(svc)
    with pytest.raises(error, match=message):
        action(svc, lot)
    assert issubclass(error, SupplyError)
    assert _snapshot(svc) == before


def test_silo_capacity_counts_what_is_already_in(svc):
    svc.receive("BULK-SOW", "M1", 6000, "S-1", "luca")
    with pytest.raises(StockError, match="holds 6000 of 10000; 4001 more"):
        svc.receive("BULK-SOW", "M2", 4001, "S-1", "luca")
    svc.receive("BULK-SOW", "M2", 4000, "S-1", "luca")
    assert svc.on_hand(bay="S-1") == 10_000


def test_recalled_and_quarantined_lots_cannot_be_issued(svc):
    lot = svc.receive("PIG-GROW", "L1", 100, "A-01", "luca")
    svc.set_lot_status(lot, "quarantine", "marta", "lab sample pending")
    with pytest.raises(LotBlockedError, match="quarantine"):
        svc.issue(lot, "A-01", 1, "luca")
    svc.set_lot_status(lot, "available", "marta", "lab ok")
    svc.issue(lot, "A-01", 1, "luca")
    assert [e[1:4] for e in svc.lot_events(lot)] == [
        ("available", "quarantine", "marta"),
        ("quarantine", "available", "marta"),
    ]


def test_expired_lot_needs_a_managers_override_which_is_recorded(svc, clock):
    lot = svc.receive("PIG-GROW", "L1", 100, "A-01", "luca", production=date(2025, 11, 1))
    assert svc.lot(lot).expiry == date(2026, 1, 30)
    with pytest.raises(LotBlockedError, match="expired on 2026-01-30"):
        svc.issue(lot, "A-01", 10, "luca")
    with pytest.raises(LotBlockedError, match="not a registered manager"):
        svc.issue(lot, "A-01", 10, "luca", manager="luca", override_reason="needed")
    with pytest.raises(LotBlockedError, match="override"):
        svc.issue(lot, "A-01", 10, "luca", manager="marta", override_reason=" ")
    assert svc.on_hand(lot_id=lot) == 100
    move = svc.issue(lot, "A-01", 10, "luca", manager="marta", override_reason="lab: still fit")
    assert svc.on_hand(lot_id=lot) == 90
    assert [(o[1], o[2], o[3]) for o in svc.overrides(lot)] == [(move, "marta", "lab: still fit")]


# ---- property: on-hand equals the ledger's sum and never goes negative ------------------------

_ops = st.lists(
    st.tuples(
        st.sampled_from(["receive", "issue", "transfer", "adjust", "scrap"]),
        st.integers(0, 2),  # lot
        st.sampled_from(["A-01", "A-01", "A-02"]),  # stock starts in A-01
        st.sampled_from(["A-01", "A-02", "A-03"]),
        st.one_of(
            st.integers(1, 120),
            st.floats(0.001, 120, allow_nan=False).map(lambda x: round(x, 3)),
            st.sampled_from([0, -5, -0.5]),
        ),
    ),
    min_size=5,
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_ops)
def test_on_hand_always_equals_ledger_sum_and_is_never_negative(ops):
    with tempfile.TemporaryDirectory() as tmp:
        svc = SupplyService(Path(tmp) / "p.db", clock=Clock(datetime(2026, 3, 1, tzinfo=UTC)))
        seed(svc)
        lots = {n: svc.receive("PIG-GROW", f"L{n}", 100, "A-01", "luca") for n in (0, 1)}
        for kind, n, bay, other, qty in ops:
            try:
                if kind == "receive":
                    lots[n] = svc.receive("PIG-GROW", f"L{n}", qty, bay, "luca")
                elif n in lots and kind == "issue":
                    svc.issue(lots[n], bay, qty, "luca")
                elif n in lots and kind == "transfer":
                    svc.transfer(lots[n], bay, other, qty, "luca")
                elif n in lots and kind == "adjust":
                    svc.adjust(lots[n], bay, qty, "luca", "count")
                elif n in lots:
                    svc.scrap(lots[n], bay, qty, "luca", "spoiled")
            except SupplyError:
                pass
            assert svc.check_balances() == []
            negative = svc.conn.execute("SELECT COUNT(*) FROM supply_stock WHERE qty < 0")
            assert negative.fetchone()[0] == 0
            for lot_id in lots.values():
                for b in ("A-01", "A-02", "A-03"):
                    assert svc.on_hand(lot_id=lot_id, bay=b) == pytest.approx(
                        svc.ledger_sum(lot_id, b), abs=1e-6
                    )
                    assert svc.ledger_sum(lot_id, b) >= -1e-9
        svc.close()
