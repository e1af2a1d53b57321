"""Lots, receipts, issues, transfers, adjustments, scrap: the ledger and its balances."""

from __future__ import annotations

import random
import sqlite3
import tempfile
from collections import Counter
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


def test_expired_lot_needs_a_managers_override_which_is_recorded(svc):
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

KINDS = ("receive", "issue", "transfer", "adjust", "scrap", "order", "load")
BAYS = ("A-01", "A-02", "A-03")
# An amount is a share of the free stock in the source bay (so most moves go through) or a raw
# quantity, bad ones included (zero, negative, more than there is).
_amount = st.one_of(
    st.floats(0.05, 1.0).map(lambda f: ("share", round(f, 2))),
    st.integers(1, 120).map(lambda q: ("raw", q)),
    st.floats(0.001, 120, allow_nan=False).map(lambda x: ("raw", round(x, 3))),
    st.sampled_from([("raw", 0), ("raw", -5), ("raw", -0.5)]),
)
_op = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, 2),  # lot number; lot 2 exists only once received
    st.sampled_from(BAYS),
    st.integers(1, 2),  # the other bay of a transfer, counted on from the first
    _amount,
)


def _free(svc: SupplyService, lot_id: int, bay: str) -> float:
    row = svc.conn.execute(
        "SELECT s.qty - s.allocated FROM supply_stock s JOIN supply_bays b ON b.id = s.bay_id "
        "WHERE s.lot_id = ? AND b.code = ?",
        (lot_id, bay),
    ).fetchone()
    return row[0] if row else 0.0


def _apply(svc: SupplyService, lots: dict[int, int], op: tuple) -> bool:
    """Run one move (or order step); True when the service accepted it."""
    kind, n, bay, step, (how, value) = op
    lot = lots.get(n)
    base = _free(svc, lot, bay) if lot is not None else 0.0
    qty = (round(base * value, 3) or 1.0) if how == "share" else value
    other = BAYS[(BAYS.index(bay) + step) % 3]
    try:
        if kind == "receive":
            lots[n] = svc.receive("PIG-GROW", f"L{n}", qty, bay, "luca")
        elif kind == "order":
            order = svc.create_order("customer", "Farm", [("PIG-GROW", qty)], "luca")
            svc.confirm(order, "luca")  # leaves an allocation that later moves must respect
        elif kind == "load":
            open_orders = svc.orders("customer", "confirmed")
            if not open_orders:
                return False
            svc.start_picking(open_orders[0].id, "gino")
            svc.load(open_orders[0].id, "gino")
        elif lot is None:
            return False
        elif kind == "issue":
            svc.issue(lot, bay, qty, "luca")
        elif kind == "transfer":
            svc.transfer(lot, bay, other, qty, "luca")
        elif kind == "adjust":
            svc.adjust(lot, bay, -qty if step == 1 else qty, "luca", "count")
        else:
            svc.scrap(lot, bay, qty, "luca", "spoiled")
    except SupplyError:
        return False
    return True


def _check_invariants(svc: SupplyService, lots: dict[int, int]) -> None:
    assert svc.check_balances() == []
    q = svc.conn.execute
    assert (
        q("SELECT COUNT(*) FROM supply_stock WHERE qty < 0 OR allocated > qty + 1e-9").fetchone()[0]
        == 0
    )
    for lot_id in lots.values():
        for b in BAYS:
            assert svc.on_hand(lot_id=lot_id, bay=b) == pytest.approx(
                svc.ledger_sum(lot_id, b), abs=1e-6
            )
            assert svc.ledger_sum(lot_id, b) >= -1e-9
    allocated = q("SELECT COALESCE(SUM(allocated), 0) FROM supply_stock").fetchone()[0]
    by_orders = q("SELECT COALESCE(SUM(qty), 0) FROM supply_allocations").fetchone()[0]
    assert allocated == pytest.approx(by_orders, abs=1e-6)


def _fresh(tmp: str) -> tuple[SupplyService, dict[int, int]]:
    svc = SupplyService(Path(tmp) / "p.db", clock=Clock(datetime(2026, 3, 1, tzinfo=UTC)))
    seed(svc)
    lots = {n: svc.receive("PIG-GROW", f"L{n}", 100, "A-01", "luca") for n in (0, 1)}
    return svc, lots


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, min_size=5, max_size=30))
def test_on_hand_always_equals_ledger_sum_and_is_never_negative(ops):
    with tempfile.TemporaryDirectory() as tmp:
        svc, lots = _fresh(tmp)
        for op in ops:
            _apply(svc, lots, op)
            _check_invariants(svc, lots)
        svc.close()


def test_the_property_operations_really_book_every_kind_of_move(tmp_path):
    """The random operations are not all refused: a long run books each kind many times."""
    rng = random.Random(6)
    svc, lots = _fresh(str(tmp_path))
    booked = Counter()
    for _ in range(300):
        how = rng.choice(["share", "share", "raw"])
        value = round(rng.uniform(0.05, 1), 2) if how == "share" else rng.choice([0, -5, 40, 150])
        op = (rng.choice(KINDS), rng.randint(0, 2), rng.choice(BAYS), rng.randint(1, 2),
              (how, value))  # fmt: skip
        if _apply(svc, lots, op):
            booked[op[0]] += 1
        _check_invariants(svc, lots)
    kinds = {m.kind for m in svc.moves()}
    assert kinds == {"receipt", "issue", "transfer", "adjustment", "scrap"}
    assert min(booked[k] for k in KINDS) >= 10, booked
    assert any(m.order_id is not None for m in svc.moves())  # loaded orders issued stock
    svc.close()
