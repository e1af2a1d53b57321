"""Expiry alerts and buckets, reorder suggestions from history, livestock and greenhouse use,
and goods in by scanner."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from supply import gs1, reorder
from supply.errors import BarcodeError, InputError, NotFoundError
from tests.supply.conftest import GTIN


def test_alert_when_alert_date_reached_while_in_stock(svc):
    a = svc.receive("PIG-GROW", "A", 100, "A-01", "luca", production=date(2026, 1, 1))  # exp 1 Apr
    b = svc.receive("PIG-GROW", "B", 100, "A-02", "luca", production=date(2026, 2, 1))  # exp 2 May
    svc.receive("PIG-GROW", "C", 40, "A-02", "luca", production=date(2025, 12, 1))  # exp 1 Mar
    assert [x.lot_no for x in svc.alerts(date(2026, 2, 28))] == ["C"]
    alerts = svc.alerts(date(2026, 3, 2))  # A's alert date (1 Apr - 30 d) is 2 Mar
    assert [(x.lot_no, x.on_hand, x.days_left, x.expired) for x in alerts] == [
        ("C", 40, -1, True),
        ("A", 100, 30, False),
    ]
    svc.issue(a, "A-01", 100, "luca")
    assert [x.lot_no for x in svc.alerts(date(2026, 3, 2))] == ["C"]  # nothing left of A
    assert b not in [x.lot_id for x in svc.alerts(date(2026, 4, 1))]
    assert b in [x.lot_id for x in svc.alerts(date(2026, 4, 2))]


def test_expiry_buckets_sum_on_hand(svc):
    svc.receive("PIG-GROW", "E", 10, "A-01", "luca", expiry=date(2026, 2, 1))
    svc.receive("PIG-GROW", "F", 20, "A-01", "luca", expiry=date(2026, 3, 31))
    svc.receive("PIG-GROW", "G", 30, "A-01", "luca", expiry=date(2026, 4, 30))
    svc.receive("PIG-GROW", "H", 5, "A-02", "luca", expiry=date(2026, 4, 30))
    svc.receive("CO2", "K", 3, "B-01", "luca")
    b = svc.expiry_buckets()
    assert (b["expired"], b["<=30"], b["<=60"], b["<=90"], b["no expiry"]) == (10, 20, 35, 0, 3)
    assert svc.expiry_buckets("CO2")["no expiry"] == 3
    assert sum(svc.expiry_buckets("PIG-GROW").values()) == 65


def test_expire_lots_marks_and_records(svc):
    lot = svc.receive("PIG-GROW", "E", 10, "A-01", "luca", expiry=date(2026, 3, 1))
    keep = svc.receive("PIG-GROW", "F", 10, "A-01", "luca", expiry=date(2026, 3, 2))
    assert svc.expire_lots("system") == [lot]
    assert (svc.lot(lot).status, svc.lot(keep).status) == ("expired", "available")
    assert svc.lot_events(lot)[0][2:] == ("expired", "system", "expiry date reached")


# ---- reorder arithmetic ---------------------------------------------------------------------


def test_reorder_point_order_up_to_and_pack_rounding():
    s = reorder.suggest(
        product="P",
        daily_demand=40,
        on_hand=150,
        on_order=50,
        lead_time_days=5,
        safety_stock=100,
        pack_size=25,
        max_stock=1000,
    )
    assert s.reorder_point == 300
    assert s.position == 200
    assert s.qty == 800  # up to 1000, already a pack multiple
    s = reorder.suggest(
        product="P",
        daily_demand=40,
        on_hand=190,
        on_order=0,
        lead_time_days=5,
        safety_stock=100,
        pack_size=25,
        max_stock=1000,
    )
    assert s.qty == 825  # 810 rounded up to whole packs of 25
    above = reorder.suggest(
        product="P",
        daily_demand=40,
        on_hand=301,
        on_order=0,
        lead_time_days=5,
        safety_stock=100,
        pack_size=25,
    )
    assert above.qty == 0


def test_order_capped_so_it_is_used_before_it_expires():
    s = reorder.suggest(
        product="P",
        daily_demand=10,
        on_hand=0,
        on_order=0,
        lead_time_days=10,
        safety_stock=0,
        pack_size=25,
        max_stock=5000,
        shelf_life_days=90,
        removal_days=7,
    )
    assert s.cap == 830
    assert s.qty == 825  # floor to whole packs under the cap
    assert "expires" in s.note
    tiny = reorder.suggest(
        product="P",
        daily_demand=0.1,
        on_hand=0,
        on_order=0,
        lead_time_days=10,
        safety_stock=0,
        pack_size=25,
        shelf_life_days=30,
    )
    assert tiny.qty == 0 and "one pack" in tiny.note


def test_below_the_safety_stock_without_use_tops_up_in_whole_packs():
    s = reorder.suggest(
        product="CAN",
        daily_demand=0.0,
        on_hand=150,
        on_order=0,
        lead_time_days=7,
        safety_stock=300,
        pack_size=25,
        shelf_life_days=365,
        removal_days=0,
    )
    assert s.reorder_point == 300 and s.position == 150
    assert s.qty == 150  # up to the safety stock, whole 25 kg packs; no expiry cap without use
    assert s.cap is None
    assert s.note == "no use recorded: tops up to the safety stock"
    odd = reorder.suggest(
        product="CAN",
        daily_demand=0.0,
        on_hand=160,
        on_order=0,
        lead_time_days=7,
        safety_stock=300,
        pack_size=25,
    )
    assert odd.qty == 150  # 140 short: rounded up to six packs
    at = reorder.suggest(
        product="X",
        daily_demand=0.0,
        on_hand=300,
        on_order=0,
        lead_time_days=7,
        safety_stock=300,
        pack_size=25,
    )
    assert at.qty == 0 and at.note == ""


def test_expiry_cap_counts_the_stock_used_first():
    # 10 kg/day, 10 days lead time, 90 days shelf life of which 83 usable (removal margin 7).
    # 300 kg on hand: 100 are eaten during the lead time, the other 200 (20 days) before the
    # new lot, which then has 83 - 20 = 63 days left: 630 kg, 625 in whole 25 kg bags.
    s = reorder.suggest(
        product="P",
        daily_demand=10,
        on_hand=300,
        on_order=0,
        lead_time_days=10,
        safety_stock=200,
        pack_size=25,
        max_stock=1500,
        shelf_life_days=90,
        removal_days=7,
    )
    assert (s.reorder_point, s.order_up_to, s.cap, s.qty) == (300, 1500, 630, 625)
    # Without max stock: up to 300 + 14 days x 10 = 440, i.e. 140 -> 150 kg (6 bags), uncapped.
    s = reorder.suggest(
        product="P",
        daily_demand=10,
        on_hand=250,
        on_order=50,
        lead_time_days=10,
        safety_stock=200,
        pack_size=25,
        shelf_life_days=90,
        removal_days=7,
    )
    assert (s.position, s.order_up_to, s.qty, s.note) == (300, 440, 150, "")
    # So much ahead that nothing more is used in time.
    s = reorder.suggest(
        product="P",
        daily_demand=1,
        on_hand=30,
        on_order=0,
        lead_time_days=5,
        safety_stock=30,
        pack_size=25,
        shelf_life_days=30,
    )
    assert (s.cap, s.qty) == (5, 0) and "one pack" in s.note
    with pytest.raises(InputError, match="review period must be finite"):
        reorder.suggest(
            product="P",
            daily_demand=1,
            on_hand=0,
            on_order=0,
            lead_time_days=5,
            safety_stock=0,
            pack_size=25,
            review_days=float("nan"),
        )


def test_livestock_demand_uses_domain_intakes():
    herds = [
        reorder.Herd("finishing_pig", 400),
        reorder.Herd("lactating_sow", 50),
        reorder.Herd("laying_hen", 10_000),
    ]
    assert reorder.demand_from_livestock(herds) == pytest.approx(400 * 1.95 + 50 * 5.2 + 1350)
    dairy = reorder.Herd("dairy_cow", 60, body_weight_kg=650)
    assert reorder.demand_from_livestock([dairy], feed_dm_fraction=0.88) == pytest.approx(
        60 * 0.03 * 650 / 0.88
    )
    assert reorder.demand_from_livestock([reorder.Herd("broiler", 1000)]) == pytest.approx(99.0)
    with pytest.raises(InputError, match="needs a body weight"):
        reorder.demand_from_livestock([reorder.Herd("beef_cow", 10)])
    with pytest.raises(InputError, match="unknown livestock kind 'goat'"):
        reorder.demand_from_livestock([reorder.Herd("goat", 10)])


def test_greenhouse_use_as_number_or_series():
    assert reorder.demand_from_use(12.5) == 12.5
    assert reorder.demand_from_use([10, 20, 30]) == 20
    assert reorder.fertiliser_demand_kg([4000, 6000], dose_g_per_l=1.5) == pytest.approx(7.5)
    with pytest.raises(InputError, match="empty"):
        reorder.demand_from_use([])
    with pytest.raises(InputError, match=">= 0"):
        reorder.demand_from_use([1, -2])


def test_service_reorder_from_history_and_on_order(svc, clock):
    lot = svc.receive("PIG-GROW", "L1", 3000, "A-01", "luca")
    for _ in range(30):  # 60 kg a day for 30 days
        clock.now += timedelta(days=1)
        svc.issue(lot, "A-01", 60, "luca")
    assert svc.demand_from_history("PIG-GROW", 30) == pytest.approx(60)
    assert svc.demand_from_history("PIG-GROW", 90) == pytest.approx(20)
    by = {s.product: s for s in svc.reorder(history_days=30)}
    s = by["PIG-GROW"]  # 1200 on hand; reorder point 60 x 5 + 200 = 500: nothing yet
    assert (s.position, s.reorder_point, s.qty) == (1200, 500, 0)
    svc.issue(lot, "A-01", 800, "luca")
    s = {s.product: s for s in svc.reorder(history_days=30)}["PIG-GROW"]
    # demand now (1800 + 800) / 30; up to RP + 14 days of demand, whole 25 kg bags
    d = 2600 / 30
    assert s.reorder_point == pytest.approx(d * 5 + 200)
    assert s.qty == 25 * -(-(d * 5 + 200 + d * 14 - 400) // 25)
    po = svc.create_order("purchase", "Mangimi", [("PIG-GROW", 2000)], "marta")
    svc.confirm(po, "marta")
    assert {s.product: s for s in svc.reorder(history_days=30)}["PIG-GROW"].qty == 0
    herd = reorder.demand_from_livestock([reorder.Herd("lactating_sow", 100)])
    s = {s.product: s for s in svc.reorder({"BULK-SOW": herd})}["BULK-SOW"]
    assert s.daily_demand == pytest.approx(520)
    assert s.qty == 1000 * -(-(520 * 7 + 520 * 14) // 1000)
    with pytest.raises(NotFoundError, match="'NOPE'"):
        svc.reorder({"NOPE": 1})


# ---- scanner intake -------------------------------------------------------------------------


def test_scan_creates_then_finds_the_lot(svc):
    code = gs1.encode(gs1.Gs1(gtin=GTIN, lot="B77", production=date(2026, 2, 10), count=8))
    lot = svc.intake_scan(code, "A-01", "luca")
    got = svc.lot(lot)
    assert (got.lot_no, got.expiry) == ("B77", date(2026, 5, 11))
    assert svc.on_hand(lot_id=lot) == 200  # 8 bags of 25 kg
    weighed = "(01)" + GTIN + "(3102)048000(10)B77"
    assert svc.intake_scan(weighed, "A-02", "luca") == lot
    assert svc.on_hand(lot_id=lot) == 680
    with pytest.raises(BarcodeError, match="no count"):
        svc.intake_scan("(01)" + GTIN + "(10)B78", "A-01", "luca")
    assert svc.intake_scan("(01)" + GTIN + "(10)B78", "A-01", "luca", qty=5) != lot
    with pytest.raises(NotFoundError, match="no product has GTIN 04006381333931"):
        svc.intake_scan("(01)04006381333931(10)X(37)1", "A-01", "luca")
    with pytest.raises(BarcodeError, match="check digit"):
        svc.intake_scan("(01)09501101530001(10)X(37)1", "A-01", "luca")
    with pytest.raises(InputError, match="known with expiry"):
        svc.intake_scan("(01)" + GTIN + "(17)270101(10)B77(37)1", "A-01", "luca")
    assert svc.on_hand("PIG-GROW") == 685
