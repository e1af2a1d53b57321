"""Order states, FEFO allocation, pick lists, loading, recall, concurrent allocation."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from supply.errors import LotBlockedError, NotFoundError, StockError, TransitionError
from supply.model import Receipt
from supply.service import SupplyService


def _stock(svc):
    # Earliest expiry L-OLD in the last bay, a later one in the first: FEFO beats bay order.
    old = svc.receive("PIG-GROW", "L-OLD", 300, "A-03", "luca", production=date(2026, 1, 1))
    mid = svc.receive("PIG-GROW", "L-MID", 400, "A-01", "luca", production=date(2026, 2, 1))
    new = svc.receive("PIG-GROW", "L-NEW", 500, "A-02", "luca", production=date(2026, 2, 20))
    return old, mid, new


def test_customer_order_walks_draft_to_delivered_and_every_step_is_recorded(svc):
    old, mid, _ = _stock(svc)
    order = svc.create_order(
        "customer",
        "Farm Rossi",
        [("PIG-GROW", 500)],
        "luca",
        slot_start="2026-03-02T08:00",
        slot_end="2026-03-02T09:00",
    )
    assert svc.order(order).state == "draft"
    svc.confirm(order, "luca")
    assert svc.allocated(order) == 500
    picks = svc.start_picking(order, "gino")
    # Loader goes A-01 then A-03 (bay order), taking the FEFO lots there.
    assert [(p.bay, p.lot_no, p.qty) for p in picks] == [
        ("A-01", "L-MID", 200),
        ("A-03", "L-OLD", 300),
    ]
    svc.load(order, "gino")
    svc.deliver(order, "gino")
    assert svc.on_hand("PIG-GROW") == 700
    assert svc.on_hand(lot_id=old) == 0 and svc.on_hand(lot_id=mid) == 200
    assert [m.order_id for m in svc.moves(mid) if m.kind == "issue"] == [order]
    events = [(e.from_state, e.to_state, e.who) for e in svc.order_events(order)]
    assert events == [
        ("", "draft", "luca"),
        ("draft", "confirmed", "luca"),
        ("confirmed", "picking", "gino"),
        ("picking", "loaded", "gino"),
        ("loaded", "delivered", "gino"),
    ]
    assert svc.check_balances() == []


@pytest.mark.parametrize(
    ("steps", "bad"),
    [
        ((), "picking"),
        ((), "loaded"),
        ((), "delivered"),
        (("confirm",), "loaded"),
        (("confirm", "start_picking"), "delivered"),
        (("confirm", "start_picking", "load"), "cancelled"),
    ],
)
def test_only_allowed_transitions(svc, steps, bad):
    _stock(svc)
    order = svc.create_order("customer", "Farm Rossi", [("PIG-GROW", 10)], "luca")
    for step in steps:
        getattr(svc, step)(order, "luca")
    state = svc.order(order).state
    events = len(svc.order_events(order))
    action = {
        "picking": lambda: svc.start_picking(order, "luca"),
        "loaded": lambda: svc.load(order, "luca"),
        "delivered": lambda: svc.deliver(order, "luca"),
        "cancelled": lambda: svc.cancel(order, "luca", "farmer called"),
    }[bad]
    with pytest.raises(TransitionError, match=f"is {state}; it can go to .*not {bad}"):
        action()
    assert svc.order(order).state == state
    assert len(svc.order_events(order)) == events


def test_fefo_skips_expired_recalled_quarantined_and_past_removal(svc):
    _stock(svc)
    svc.receive("PIG-GROW", "L-Q", 50, "A-01", "luca", production=date(2025, 12, 15))
    svc.receive("PIG-GROW", "L-R", 50, "A-01", "luca", production=date(2025, 12, 16))
    svc.receive("PIG-GROW", "L-X", 50, "A-01", "luca", production=date(2025, 11, 1))  # expired
    svc.receive("PIG-GROW", "L-RM", 50, "A-01", "luca", expiry=date(2026, 3, 5))  # removal 26 Feb
    svc.set_lot_status(svc.find_lot("PIG-GROW", "L-Q").id, "quarantine", "marta", "lab")
    svc.recall(svc.find_lot("PIG-GROW", "L-R").id, "marta", "supplier recall")
    lots = [svc.lot(lot).lot_no for lot, _, _ in svc.fefo("PIG-GROW")]
    assert lots == ["L-OLD", "L-MID", "L-NEW"]
    order = svc.create_order("customer", "Farm Bassi", [("PIG-GROW", 1200)], "luca")
    svc.confirm(order, "luca")
    assert sorted((p.lot_no, p.qty) for p in svc.pick_list(order)) == [
        ("L-MID", 400),
        ("L-NEW", 500),
        ("L-OLD", 300),
    ]


def test_over_allocation_is_refused_and_nothing_is_allocated(svc):
    _stock(svc)
    first = svc.create_order("customer", "A", [("PIG-GROW", 1000)], "luca")
    svc.confirm(first, "luca")
    second = svc.create_order("customer", "B", [("PIG-GROW", 100), ("PIG-GROW", 150)], "luca")
    with pytest.raises(StockError, match="short by 50 kg"):
        svc.confirm(second, "luca")
    assert svc.order(second).state == "draft"
    assert svc.allocated(second) == 0
    assert svc.conn.execute("SELECT SUM(allocated) FROM supply_stock").fetchone()[0] == 1000
    # Allocated stock cannot be issued by hand either.
    with pytest.raises(StockError, match="0 free"):
        svc.issue(svc.find_lot("PIG-GROW", "L-OLD").id, "A-03", 1, "luca")


def test_cancel_releases_the_allocation(svc):
    _stock(svc)
    order = svc.create_order("customer", "A", [("PIG-GROW", 1200)], "luca")
    svc.confirm(order, "luca")
    svc.cancel(order, "luca", "farmer called")
    assert svc.allocated(order) == 0
    assert svc.conn.execute("SELECT SUM(allocated) FROM supply_stock").fetchone()[0] == 0
    assert svc.order_events(order)[-1].reason == "farmer called"
    assert svc.on_hand("PIG-GROW") == 1200


def test_recall_lists_receivers_and_reallocates_open_orders(svc):
    old, _, _ = _stock(svc)
    delivered = svc.create_order("customer", "Farm Rossi", [("PIG-GROW", 200)], "luca")
    for step in ("confirm", "start_picking", "load", "deliver"):
        getattr(svc, step)(delivered, "luca")
    other = svc.create_order("customer", "Farm Verdi", [("PIG-GROW", 50)], "luca")
    for step in ("confirm", "start_picking", "load"):
        getattr(svc, step)(other, "luca")
    waiting = svc.create_order("customer", "Farm Neri", [("PIG-GROW", 30)], "luca")
    svc.confirm(waiting, "luca")
    svc.start_picking(waiting, "gino")
    assert {p.lot_no for p in svc.pick_list(waiting)} == {"L-OLD"}
    receivers = svc.recall(old, "marta", "mycotoxin above limit")
    assert [(r.order_id, r.customer, r.qty) for r in receivers] == [
        (delivered, "Farm Rossi", 200),
        (other, "Farm Verdi", 50),
    ]
    assert svc.lot(old).status == "recalled"
    assert svc.allocated(waiting) == 0
    with pytest.raises(StockError, match="30 short of allocated stock; allocate it again"):
        svc.load(waiting, "gino")
    svc.allocate(waiting, "gino")
    assert [(p.lot_no, p.qty) for p in svc.pick_list(waiting)] == [("L-MID", 30)]
    svc.load(waiting, "gino")
    assert svc.on_hand(lot_id=old) == 50  # the recalled rest stays, blocked


def test_purchase_order_received_into_lots_and_counted_on_order(svc):
    po = svc.create_order("purchase", "Mangimi Srl", [("PIG-GROW", 1000)], "marta")
    assert svc.on_order("PIG-GROW") == 0
    svc.confirm(po, "marta")
    assert svc.on_order("PIG-GROW") == 1000
    with pytest.raises(TransitionError, match="can go to delivered, cancelled, not picking"):
        svc.start_picking(po, "marta")
    lots = svc.receive_order(
        po, [Receipt("PIG-GROW", "P1", 600, "A-01"), Receipt("PIG-GROW", "P2", 400, "A-02")], "luca"
    )
    assert svc.order(po).state == "delivered"
    assert svc.on_order("PIG-GROW") == 0
    assert svc.on_hand("PIG-GROW") == 1000
    assert {m.order_id for lot in lots for m in svc.moves(lot)} == {po}


def test_bad_orders(svc):
    with pytest.raises(NotFoundError, match="unknown product 'X'"):
        svc.create_order("customer", "A", [("X", 1)], "luca")
    with pytest.raises(Exception, match="must be > 0"):
        svc.create_order("customer", "A", [("PIG-GROW", 0)], "luca")
    with pytest.raises(Exception, match="order kind"):
        svc.create_order("sale", "A", [("PIG-GROW", 1)], "luca")
    with pytest.raises(NotFoundError, match="unknown order 42"):
        svc.confirm(42, "luca")
    assert svc.orders() == []


def test_two_connections_allocating_at_once_never_hand_out_the_same_stock(svc, tmp_path, clock):
    _stock(svc)  # 1200 kg usable
    path = tmp_path / "serra.db"
    orders = [svc.create_order("customer", f"F{i}", [("PIG-GROW", 70)], "luca") for i in range(24)]
    results: dict[int, str] = {}
    barrier = threading.Barrier(2)

    def worker(mine: list[int]) -> None:
        own = SupplyService(path, clock=clock)  # its own connection
        barrier.wait()
        for order in mine:
            try:
                own.confirm(order, "luca")
                results[order] = "ok"
            except StockError:
                results[order] = "short"
        own.close()

    threads = [threading.Thread(target=worker, args=(orders[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [o for o, r in results.items() if r == "ok"]
    assert len(ok) == 17  # 17 x 70 = 1190 <= 1200 < 18 x 70
    assert sum(svc.allocated(o) for o in orders) == 17 * 70
    rows = svc.conn.execute(
        "SELECT s.lot_id, s.bay_id, s.qty, s.allocated, "
        "(SELECT SUM(a.qty) FROM supply_allocations a WHERE a.lot_id = s.lot_id "
        "AND a.bay_id = s.bay_id) FROM supply_stock s"
    ).fetchall()
    for _, _, qty, allocated, by_orders in rows:
        assert allocated <= qty
        assert allocated == pytest.approx(by_orders or 0)


def test_a_lot_blocked_after_confirmation_leaves_the_pick_list(svc):
    old, mid, _ = _stock(svc)
    order = svc.create_order("customer", "Farm Rossi", [("PIG-GROW", 350)], "luca")
    svc.confirm(order, "luca")
    assert sorted((p.lot_no, p.qty) for p in svc.pick_list(order)) == [
        ("L-MID", 50),
        ("L-OLD", 300),
    ]
    svc.set_lot_status(old, "quarantine", "marta", "lab sample pending")
    assert [(p.lot_no, p.qty) for p in svc.pick_list(order)] == [("L-MID", 50)]
    assert svc.conn.execute(
        "SELECT allocated FROM supply_stock WHERE lot_id = ?", (old,)
    ).fetchone() == (0,)
    picks = svc.start_picking(order, "gino")  # refilled FEFO from what is still usable
    assert [(p.bay, p.lot_no, p.qty) for p in picks] == [("A-01", "L-MID", 350)]
    svc.load(order, "gino")
    assert (svc.on_hand(lot_id=old), svc.on_hand(lot_id=mid)) == (300, 50)


def test_a_lot_past_its_removal_date_at_picking_is_swapped_for_a_later_one(svc, clock):
    _stock(svc)  # L-OLD: expiry 1 Apr, removal 25 Mar; L-MID: removal 25 Apr
    order = svc.create_order("customer", "Farm Rossi", [("PIG-GROW", 100)], "luca")
    svc.confirm(order, "luca")
    assert [(p.lot_no, p.qty) for p in svc.pick_list(order)] == [("L-OLD", 100)]
    clock.now = clock.now.replace(month=3, day=25)
    picks = svc.start_picking(order, "gino")
    assert [(p.lot_no, p.qty) for p in picks] == [("L-MID", 100)]
    assert svc.conn.execute("SELECT SUM(allocated) FROM supply_stock").fetchone()[0] == 100
    svc.load(order, "gino")  # no expired lot is issued, so no override is needed
    assert svc.on_hand("PIG-GROW") == 1100


def test_loading_a_lot_that_expired_during_picking_needs_a_recorded_override(svc, clock):
    old, _, _ = _stock(svc)  # L-OLD expires 1 April
    order = svc.create_order("customer", "Farm Rossi", [("PIG-GROW", 100)], "luca")
    svc.confirm(order, "luca")
    clock.now = clock.now.replace(month=3, day=24)  # before L-OLD's removal date (25 March)
    assert [p.lot_no for p in svc.start_picking(order, "gino")] == ["L-OLD"]
    clock.now = clock.now.replace(month=4, day=1)  # the truck was late: L-OLD has expired
    with pytest.raises(LotBlockedError, match="expired on 2026-04-01"):
        svc.load(order, "gino")
    assert svc.order(order).state == "picking" and svc.on_hand(lot_id=old) == 300
    svc.load(order, "gino", manager="marta", override_reason="loaded on the 31st, booked late")
    (issue,) = [m for m in svc.moves(old) if m.kind == "issue"]
    assert (issue.qty, issue.order_id) == (-100, order)
    assert [(o[1], o[2], o[3]) for o in svc.overrides(old)] == [
        (issue.id, "marta", "loaded on the 31st, booked late")
    ]
