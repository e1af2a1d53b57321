"""Supply, what-if and history views against real services and a real database."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt

from supply.model import Bay, Product
from supply.service import SupplyService

GTIN = "09501101530003"


class FixedClock:
    """The supply service's clock, fixed."""

    def __init__(self, when: datetime) -> None:
        self.now = when

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def supply_view(qtbot, tmp_path):
    from app.gui.views.supply import SupplyView

    clock = FixedClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))
    db = tmp_path / "serra.sqlite"
    with SupplyService(db, clock=clock) as s:
        s.save_product(
            Product("PIG-GROW", "Pig grower pellets", unit="kg", pack_size=25,
                    shelf_life_days=90, alert_days=30, storage="dry", gtin=GTIN,
                    lead_time_days=5, safety_stock=200)
        )  # fmt: skip
        s.save_bay(Bay("A-01", "W1", "A", sequence=1), storage="dry")
        s.save_bay(Bay("A-02", "W1", "A", sequence=2), storage="dry")
        s.receive("PIG-GROW", "OLD", 300, "A-01", "test", expiry=date(2026, 3, 20))
        s.receive("PIG-GROW", "NEW", 1000, "A-02", "test", expiry=date(2026, 6, 1))
    view = SupplyView(str(db), clock=clock)
    qtbot.addWidget(view)
    view.who.setText("luca")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    return view


def _reload(qtbot, view, action) -> None:
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        action()


def test_order_created_allocated_fefo_picked_and_loaded(qtbot, supply_view):
    view = supply_view
    assert view.lots.rowCount() == 2
    assert view.lots.item(0, 1).text() == "OLD"  # 19 days left, inside the 30-day alert time
    assert view.lots.item(0, 0).background().color().name() == "#ffc98b"
    assert view.alerts.count() == 1 and "OLD" in view.alerts.item(0).text()
    view.new_party.setText("Hoeve De Linde")
    view.new_lines.setText("PIG-GROW=450")
    _reload(qtbot, view, view.create_order)
    assert view.columns["draft"].count() == 1
    assert view.new_party.text() == "" and view.new_lines.text() == ""  # ready for the next
    order_id = view.state.orders[0].id
    view.columns["draft"].item(0).setSelected(True)
    assert set(view.action_buttons) == {"confirmed", "cancelled"}
    _reload(qtbot, view, lambda: view.action_buttons["confirmed"].click())
    with SupplyService(view.db_path) as s:
        assert s.allocated(order_id) == 450.0
    assert view.columns["confirmed"].count() == 1
    view.select_order(order_id)
    _reload(qtbot, view, lambda: view.action_buttons["picking"].click())
    assert view.tabs.currentIndex() == 1
    # loading guidance: first-expiry lot first, its bay and quantity in large text
    rows = [[view.pick_table.item(i, j).text() for j in range(3)] for i in range(2)]
    assert rows == [["A-01", "OLD", "300 kg"], ["A-02", "NEW", "150 kg"]]
    assert view.pick_title.text() == f"Order #{order_id} for Hoeve De Linde: 2 stops"
    _reload(qtbot, view, lambda: qtbot.mouseClick(view.pick_done, Qt.MouseButton.LeftButton))
    assert view.columns["loaded"].count() == 1
    on_hand = {(s.lot_no): s.qty for s in view.state.stock}
    assert on_hand == {"NEW": 850.0}
    assert view.error.isHidden()


def test_fresh_supply_database_says_how_to_start(qtbot, tmp_path):
    from app.gui.views.supply import SupplyView

    clock = FixedClock(datetime(2026, 11, 5, 8, 0, tzinfo=UTC))
    with SupplyService(tmp_path / "serra.sqlite", clock=clock):
        pass  # an empty supply schema
    view = SupplyView(str(tmp_path / "serra.sqlite"), clock=clock)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    assert view.hint.isVisible()
    assert "serra supply import products" in view.hint.text()
    # examples are greenhouse inputs and today's date, not pig feed on a fixed day
    assert "PIG" not in view.new_lines.placeholderText()
    assert view.slot_start.placeholderText() == "from 2026-11-05 08:00"
    assert view.slot_end.placeholderText() == "until 2026-11-05 09:00"


def test_expired_lot_says_expired_and_one_stop_is_singular(qtbot, supply_view):
    view = supply_view
    assert not view.hint.isVisible()  # products exist
    with SupplyService(view.db_path, clock=view.clock) as s:
        s.receive("PIG-GROW", "GONE", 50, "A-01", "test", expiry=date(2026, 2, 27))
    _reload(qtbot, view, view.reload)
    rows = {view.lots.item(i, 1).text(): i for i in range(view.lots.rowCount())}
    gone = rows["GONE"]
    assert view.lots.item(gone, 6).text() == "expired"
    assert view.lots.item(gone, 0).background().color().name() == "#f4a6a6"
    assert view.lots.item(rows["NEW"], 6).text() == "available"
    view.new_party.setText("Van Dam")
    view.new_lines.setText("PIG-GROW=100")
    _reload(qtbot, view, view.create_order)
    order_id = view.state.orders[0].id
    _reload(qtbot, view, lambda: view.transition(order_id, "confirmed"))
    _reload(qtbot, view, lambda: view.transition(order_id, "picking"))
    assert view.pick_title.text() == f"Order #{order_id} for Van Dam: 1 stop"


def test_settings_mnemonics_have_buddies(make_window):
    from PySide6.QtWidgets import QLabel

    from app.gui.views.settings import SettingsDialog

    window = make_window()
    dialog = SettingsDialog(window.config, window.session, window)
    labels = {w.text(): w for w in dialog.findChildren(QLabel) if "&" in w.text()}
    assert labels["&Node maps"].buddy() is dialog.nodes  # shown as "Node maps", Alt+N


def test_wrong_transition_and_bad_lines_shown_in_place(qtbot, supply_view):
    view = supply_view
    view.new_party.setText("Van Dam")
    view.new_lines.setText("PIG-GROW 450")
    view.create_order()
    assert "PRODUCT=QUANTITY" in view.error.text()
    view.new_lines.setText("PIG-GROW=5000")
    _reload(qtbot, view, view.create_order)
    order_id = view.state.orders[0].id
    view.transition(order_id, "confirmed")
    qtbot.waitUntil(lambda: view.error.isVisible(), timeout=10_000)
    assert "Traceback" not in view.error.text()
    assert "PIG-GROW" in view.error.text()  # not enough stock for 5000 kg


def test_scanner_books_goods_in(qtbot, supply_view):
    view = supply_view
    view.scan_bay.setCurrentIndex(view.scan_bay.findData("A-02"))
    view.scan.setText(f"(01){GTIN}(10)SCAN1(17)260801(37)4")
    _reload(qtbot, view, view.scan_entered)
    assert view.error.isHidden(), view.error.text()
    lot = [s for s in view.state.stock if s.lot_no == "SCAN1"]
    assert len(lot) == 1 and lot[0].qty == 100.0 and lot[0].bay == "A-02"  # 4 packs x 25 kg
    assert view.scan_result.text().startswith("Booked in")


def _purchase_order(qtbot, view) -> int:
    """A confirmed purchase order for 400 kg PIG-GROW and 60 pieces RW-SLAB, selected."""
    with SupplyService(view.db_path) as s:
        s.save_product(Product("RW-SLAB", "Rockwool slabs", unit="piece", pack_size=12))
    view.new_kind.setCurrentIndex(view.new_kind.findData("purchase"))
    view.new_party.setText("AgroFeed BV")
    view.new_lines.setText("PIG-GROW=400; RW-SLAB=60")
    _reload(qtbot, view, view.create_order)
    order_id = view.state.orders[-1].id
    view.select_order(order_id)
    assert view.receive_box.isHidden()  # a draft is not received yet
    _reload(qtbot, view, lambda: view.action_buttons["confirmed"].click())
    assert "delivered" not in view.action_buttons  # purchase orders are delivered by receiving
    assert view.receive_box.isVisible()
    return order_id


def test_purchase_order_received_books_lots_and_ends_on_order(qtbot, supply_view):
    view = supply_view
    order_id = _purchase_order(qtbot, view)
    position = {r.product: r.position for r in view.state.reorder}
    assert position["PIG-GROW"] == 1700.0  # 1300 in stock + 400 on order
    rows = view.receive_rows
    assert [r["product"] for r in rows] == ["PIG-GROW", "RW-SLAB"]
    # prefilled from the order lines: quantity, unit, the bay that holds the product already
    assert rows[0]["inputs"]["qty"].text() == "400" and rows[0]["unit"] == "kg"
    assert rows[0]["inputs"]["bay"].currentData() == "A-01"
    assert rows[1]["inputs"]["qty"].text() == "60" and rows[1]["unit"] == "piece"
    rows[0]["inputs"]["lot"].setText("AF-771")
    rows[0]["inputs"]["qty"].setText("380")  # 20 kg short on the lorry
    rows[0]["inputs"]["bay"].setCurrentIndex(rows[0]["inputs"]["bay"].findData("A-02"))
    rows[0]["inputs"]["production"].setText("2026-02-20")
    rows[1]["inputs"]["lot"].setText("RW-5")
    rows[1]["inputs"]["expiry"].setText("2026-03-15")
    _reload(qtbot, view, lambda: view.receive_button.click())
    assert view.error.isHidden(), view.error.text()
    assert view.receive_error.isHidden(), view.receive_error.text()
    with SupplyService(view.db_path) as s:
        assert s.order(order_id).state == "delivered"
        lots = {(x.lot_no, x.bay): x.qty for x in s.stock()}
        assert lots[("AF-771", "A-02")] == 380.0 and lots[("RW-5", "A-01")] == 60.0
    assert view.columns["delivered"].count() == 1 and view.columns["confirmed"].count() == 0
    assert view.receive_box.isHidden()
    # in Lots with the expiry colour: RW-5 has 14 days left, inside 30 days (yellow)
    shown = {view.lots.item(i, 1).text(): i for i in range(view.lots.rowCount())}
    assert view.lots.item(shown["RW-5"], 0).background().color().name() == "#fff1a8"
    assert view.lots.item(shown["AF-771"], 5).text() == "2026-05-21"  # production + 90 days
    position = {r.product: r.position for r in view.state.reorder}
    assert position["PIG-GROW"] == 1680.0  # what arrived, no longer the 400 on order
    assert position["RW-SLAB"] == 60.0


def test_bad_receipt_refused_in_place(qtbot, supply_view):
    view = supply_view
    order_id = _purchase_order(qtbot, view)
    qty = view.receive_rows[1]["inputs"]["qty"]
    qty.setText("-5")
    view.receive()
    assert view.receive_error.text() == "RW-SLAB: quantity must be more than 0 piece, got -5"
    assert "d1242f" in qty.styleSheet()
    qty.setText("lots")
    view.receive()
    assert "'lots' is not a number" in view.receive_error.text()
    qty.setText("60")
    view.receive_rows[0]["inputs"]["expiry"].setText("30/06/2026")
    view.receive()
    assert "not a date; write YYYY-MM-DD" in view.receive_error.text()
    assert qty.styleSheet() == ""
    with SupplyService(view.db_path) as s:
        assert s.order(order_id).state == "confirmed"
        assert len(s.stock()) == 2  # nothing booked


def test_customer_order_with_pick_up_slot(qtbot, supply_view):
    view = supply_view
    view.new_party.setText("Hoeve De Linde")
    view.new_lines.setText("PIG-GROW=100")
    view.slot_start.setText("2026-03-02 08:00")
    view.slot_end.setText("2026-03-02 07:00")
    view.create_order()
    assert "ends (2026-03-02 07:00) before it starts" in view.error.text()
    view.slot_end.setText("2026-03-02 09:30")
    _reload(qtbot, view, view.create_order)
    order = view.state.orders[-1]
    assert (order.slot_start, order.slot_end) == ("2026-03-02T08:00", "2026-03-02T09:30")
    assert "pick-up 2026-03-02 08:00–09:30" in view.columns["draft"].item(0).text()


def test_whatif_runs_variants_with_progress(qtbot):
    from app.gui.views.whatif import WhatIfView

    view = WhatIfView()
    qtbot.addWidget(view)
    view.days.setValue(4)
    view.add_variant("Cold", "heat_c=16")
    seen = []
    view.progress.valueChanged.connect(seen.append)
    view.run()
    qtbot.waitUntil(lambda: view.result is not None, timeout=120_000)
    assert view.error.isHidden(), view.error.text()
    assert view.table.columnCount() == 4
    assert view.table.horizontalHeaderItem(3).text() == "Cold"
    assert seen[-1] == 100 and len(seen) >= 3  # per-day progress
    s = view.result.summaries
    assert s[3]["heat_kwh_m2"] < s[0]["heat_kwh_m2"] < s[1]["heat_kwh_m2"]
    assert len(view.result.tair_daily[0]) == 4
    row = [view.table.verticalHeaderItem(i).text() for i in range(view.table.rowCount())]
    assert "Net profit [€/m²]" in row and "Cost: Heat [€/m²]" in row
    # the warmer variant names the day heating it sets: the shipped day value + 1
    assert view.variants.item(1, 0).text() == "Warmer: day heating 21.5 °C (+1)"
    assert view.variants.item(1, 2).text() == "heat_c=21.5"
    # every header shows whole: each line of its text fits its column
    view.resize(1400, 860)
    view.show()
    header = view.table.horizontalHeader()
    metrics = header.fontMetrics()
    for j in range(view.table.columnCount()):
        lines = view.table.horizontalHeaderItem(j).text().split("\n")
        need = max(metrics.horizontalAdvance(line) for line in lines)
        assert need <= header.sectionSize(j), (lines, header.sectionSize(j))
    columns = sum(header.sectionSize(j) for j in range(view.table.columnCount()))
    assert columns + view.table.verticalHeader().width() <= view.table.width()


def test_whatif_bad_variant_refused_in_place(qtbot):
    from app.gui.views.whatif import WhatIfView

    view = WhatIfView()
    qtbot.addWidget(view)
    view.add_variant("Typo", "heat_c=hot")
    view.run()
    assert "'hot' is not a number" in view.error.text()
    assert not view.running


def test_whatif_schedule_variant_replays_the_csv(qtbot, tmp_path):
    from app.gui.views.whatif import WhatIfView

    warm = tmp_path / "warm.csv"
    warm.write_text("time,heat_c\n2018-08-14T00:00:00+02:00,24\n")
    view = WhatIfView()
    qtbot.addWidget(view)
    view.days.setValue(3)
    view.variants.setRowCount(0)
    view.add_variant("Warm nights (CSV)", "", "schedule", str(warm))
    view.add_variant("Grower rules", "")
    view.add_variant("Cold", "heat_c=16")
    assert [v.strategy for v in view.variant_rows()] == ["schedule", "grower", "grower"]
    seen = []
    view.progress.valueChanged.connect(seen.append)
    view.run()
    qtbot.waitUntil(lambda: view.result is not None, timeout=120_000)
    assert view.error.isHidden(), view.error.text()
    assert view.result.names == ["Warm nights (CSV)", "Grower rules", "Cold"]
    warm_s, grower, cold = view.result.summaries
    assert warm_s["strategy"] == "schedule" and grower["strategy"] == "grower"
    assert warm_s["mean_tair_c"] > grower["mean_tair_c"] + 0.5  # heating to 24 °C all day
    assert warm_s["heat_kwh_m2"] > grower["heat_kwh_m2"] > cold["heat_kwh_m2"]
    assert seen == sorted(seen) and seen[-1] == 100  # one bar over both season runs


def test_whatif_bad_schedule_refused_in_place(qtbot, tmp_path):
    from app.gui.views.whatif import WhatIfView

    view = WhatIfView()
    qtbot.addWidget(view)
    view.days.setValue(1)
    view.set_strategy(0, "schedule")
    view.run()
    assert view.error.text() == (
        "variant 'Grower rules': choose the setpoint schedule file (CSV) to replay"
    )
    view.set_strategy(0, "schedule", str(tmp_path / "gone.csv"))
    view.run()
    assert view.error.text().startswith("variant 'Grower rules': no such schedule file: ")
    assert not view.running
    bad = tmp_path / "bad.csv"
    bad.write_text("time,heat_c\n2018-08-14T00:00:00+02:00,80\n")
    view.set_strategy(0, "schedule", str(bad))
    view.run()
    qtbot.waitUntil(lambda: not view.running, timeout=120_000)
    assert view.error.text() == (
        "variant 'Grower rules': bad.csv row 2: heat_c = 80 is outside 5..35 C"
    )
    assert view.result is None


def test_history_export_csv_and_png(make_window, manual_clock, qtbot, tmp_path):
    from tests.app.conftest import tick

    window = make_window()
    tick(window, 30, manual_clock)
    view = window.history
    view.reload()
    qtbot.waitUntil(lambda: view.channels.count() > 0 and bool(view.buckets), timeout=10_000)
    assert set(view.buckets) == {"tair_c", "tout_c"}
    assert sum(view.buckets["tair_c"].n) == 30
    out = tmp_path / "h.csv"
    assert view.export_csv(str(out))
    rows = list(csv.reader(out.open()))
    assert rows[0][:4] == ["time", "tair_c", "tair_c_min", "tair_c_max"]
    assert len(rows) - 1 == len(view.buckets["tair_c"].t_s)
    assert view.export_png(str(tmp_path / "h.png"))
    assert (tmp_path / "h.png").stat().st_size > 5000
    assert not view.export_csv(str(tmp_path / "missing" / "h.csv"))
    assert "Could not write" in view.error.text()


def test_history_shows_channels_and_the_last_day_or_all_of_a_younger_log_at_start(
    make_window, manual_clock, qtbot
):
    from app.gui.labels import channel_label
    from tests.app.conftest import tick

    first = make_window()
    tick(first, 90, manual_clock)
    last_s = first.session.snapshot().time_s
    first.close()
    window = make_window()  # a restart on the same database: nothing pressed
    view = window.history
    qtbot.waitUntil(lambda: view.channels.count() > 0 and bool(view.buckets), timeout=10_000)
    assert set(view.buckets) == {"tair_c", "tout_c"}
    assert sum(view.buckets["tair_c"].n) == 90  # the 90 ticks of the first run are plotted
    t0 = view.t_from.dateTime().toSecsSinceEpoch()
    t1 = view.t_to.dateTime().toSecsSinceEpoch()
    # the last day of data, which for a log 90 minutes young is the whole of it, not a sliver
    # at the right end of an empty day
    first_s = last_s - 89 * 60.0
    assert abs(t1 - last_s) <= 120 and abs(t0 - first_s) <= 120, (t0 - first_s, t1 - last_s)
    # every channel name shows whole in the list (no "Blackout screen – commar")
    view.show()
    qtbot.waitUntil(lambda: view.channels.width() > 0)
    metrics = view.channels.fontMetrics()
    room = view.channels.viewport().width()
    texts = [view.channels.item(i).text() for i in range(view.channels.count())]
    assert "Blackout screen – command (%)" in texts
    assert max(metrics.horizontalAdvance(t) for t in texts) + 30 <= room
    # the measured pipe water and its setpoint read differently
    assert channel_label("pipe_c") == "Rail pipe water temperature (°C)"
    assert channel_label("cmd_pipe_sp_c") == "Rail pipe setpoint – command (°C)"


def test_second_instance_on_the_same_database_is_refused(tmp_path):
    from app.gui.launcher import acquire_instance_lock

    db = tmp_path / "serra.sqlite"
    first = acquire_instance_lock(db)
    assert first is not None
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen';"
        "from app.gui.launcher import acquire_instance_lock as a;"
        "sys.exit(0 if a(sys.argv[1]) is None else 3)"
    )
    other = subprocess.run([sys.executable, "-c", code, str(db)], timeout=60)
    assert other.returncode == 0
    first.unlock()
    again = subprocess.run([sys.executable, "-c", code, str(db)], timeout=60)
    assert again.returncode == 3


def test_window_layout_is_remembered(make_window, settings):
    window = make_window()
    window.resize(701, 533)  # within the offscreen screen
    window.tabs.setCurrentIndex(4)
    window.close()
    from app.gui.main_window import MainWindow
    from app.session import SessionConfig

    again = MainWindow(SessionConfig(db_path=window.config.db_path, autorun=False), settings)
    assert again.tabs.currentIndex() == 4
    assert (again.width(), again.height()) == (701, 533)
    again.session.stop()


def test_headless_commands_never_load_qt():
    code = (
        "import sys;"
        "import app.cli, app.session;"
        "p = app.cli.build_parser();"
        "print(any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_overview_says_which_value_is_which_and_why_lamps_are_off(make_window, manual_clock, qtbot):
    from app.gui.views.overview import OverviewView
    from tests.app.conftest import tick

    fresh = OverviewView()
    qtbot.addWidget(fresh)
    # before the first tick: a plain "waiting for data", no 00.250 on a time axis
    assert all(w.isVisible() and w.toPlainText() == "waiting for data…" for w in fresh.waiting)
    assert not fresh.plots[0][0].getPlotItem().getAxis("bottom").style["showValues"]
    # legends above the plots, in the palette's text colour, curve colour as a swatch
    assert "Air temperature" in fresh.legends[0].text()
    assert "Heating temperature – setpoint" in fresh.legends[0].text()

    window = make_window()
    tick(window, 4 * 60, manual_clock)  # 00:00 -> 04:00 on 14 Aug 2018: lamps allowed from 02:00
    view = window.overview
    assert not any(w.isVisible() for w in view.waiting)
    assert view.plots[0][0].getPlotItem().getAxis("bottom").style["showValues"]
    pipe = view.tiles["pipe_c"]
    assert pipe.detail.text() == "measured · setpoint 35 °C"
    assert view.tiles["pipe_sp_c"].caption.text() == "Rail pipe setpoint"
    assert view.tiles["pipe_sp_c"].detail.text().startswith("read back · sent ")
    lamps = view.tiles["lamps_pct"]
    assert lamps.value.text() == "0 %"
    reason = (
        "off: the lamp setpoint is 0 % now "
        "(grower rules' season from 06-01 to 09-01: 0 instead of 100 %)"
    )
    assert lamps.detail.text() == "read back · sent 0 %\n" + reason
    assert lamps.detail.toolTip() == reason


def test_whatif_learned_variant_plans_with_the_active_model(qtbot):
    import math

    from app.gui.views.whatif import COL_STRATEGY, WhatIfView

    view = WhatIfView()
    qtbot.addWidget(view)
    view.days.setValue(3)
    view.variants.setRowCount(0)
    view.add_variant("Grower rules", "")
    view.add_variant("Learned", "", "learned")
    box = view.variants.cellWidget(1, COL_STRATEGY)
    assert box.currentText() == "Learned (model default)"  # the active model on a fresh install
    assert [v.strategy for v in view.variant_rows()] == ["grower", "learned"]
    view.run()
    qtbot.waitUntil(lambda: view.result is not None, timeout=180_000)
    assert view.error.isHidden(), view.error.text()
    grower, learned = view.result.summaries
    assert learned["strategy"] == "learned" and "decisions" not in grower
    d = learned["decisions"]
    # day 1 has nothing seen yet (grower rules, said why); days 2 and 3 are planned
    assert (d["model"], d["days_planned"], d["days_fallback"]) == ("default", 2, 1)
    assert d["first_fallback"]["reason"] == "no crop state or forecast yet (first day)"
    assert learned["yield_kg_m2"] >= 0.0 and math.isfinite(learned["net_profit_eur_m2"])
    assert learned["heat_kwh_m2"] != grower["heat_kwh_m2"]  # the plans moved the heating
