"""Regenerate docs/screenshots/*.png: every main view on a demo database, offscreen.

Run `QT_QPA_PLATFORM=offscreen python -m app.gui.screenshots docs/screenshots`. The window runs
the real embedded default (virtual device on a pty, control loop, database in a temporary
folder) on a manual clock for a few plant hours, a short what-if, a model check of the shipped
Reference growers' season, a demo warehouse, and a model lab on a temporary registry holding
the shipped model and one trained in the lab (8 seasons of 60 days).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path


def seed_supply(db_path: Path) -> None:
    """A small demo warehouse: products, bays, lots, orders in several states."""
    from supply.model import Bay, Product
    from supply.service import SupplyService

    today = date.today()
    with SupplyService(db_path) as s:
        s.save_product(
            Product(
                "KNO3",
                "Potassium nitrate",
                unit="kg",
                pack_size=25,
                shelf_life_days=90,
                alert_days=30,
                removal_days=7,
                storage="dry",
                gtin="09501101530003",
                lead_time_days=5,
                safety_stock=200,
            )
        )
        s.save_product(
            Product(
                "RW-SLAB",
                "Rockwool slabs",
                unit="piece",
                pack_size=12,
                lead_time_days=14,
                safety_stock=100,
            )
        )
        s.save_product(
            Product(
                "CAN",
                "Calcium nitrate",
                unit="kg",
                pack_size=25,
                shelf_life_days=365,
                alert_days=60,
                lead_time_days=7,
                safety_stock=300,
            )
        )
        for code, seq in (("A-01", 1), ("A-02", 2), ("A-03", 3)):
            s.save_bay(Bay(code, "W1", "A", sequence=seq), storage="dry")
        s.save_bay(Bay("B-01", "W1", "B", sequence=1), storage="")
        s.receive("KNO3", "L2407", 500, "A-01", "demo", expiry=today + timedelta(days=12))
        s.receive("KNO3", "L2411", 1000, "A-02", "demo", expiry=today + timedelta(days=70))
        s.receive("CAN", "C-88", 150, "B-01", "demo", expiry=today - timedelta(days=2))
        s.receive("CAN", "C-91", 400, "A-03", "demo", expiry=today + timedelta(days=40))
        s.receive("RW-SLAB", "R-1", 60, "B-01", "demo")
        s.create_order("customer", "Hoeve De Linde", [("KNO3", 300)], "demo")
        o2 = s.create_order("customer", "Van Dam", [("KNO3", 600), ("CAN", 100)], "demo")
        s.confirm(o2, "demo")
        s.start_picking(o2, "demo")
        o3 = s.create_order("purchase", "Substrate Supplies BV", [("RW-SLAB", 240)], "demo")
        s.confirm(o3, "demo")


def main(out_dir: str) -> int:
    """Build the window, drive it, save one PNG per view."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from app.gui.main_window import MainWindow
    from app.session import SessionConfig
    from controllers.clock import ManualClock

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="serra-shots-"))
    db = tmp / "serra.sqlite"
    clock = ManualClock(0.0)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
    config = SessionConfig(db_path=db, clock=clock, autorun=False, speed=60.0)
    os.environ["SERRA_MODEL_DIR"] = str(tmp / "models")  # a demo registry, not the user's
    window = MainWindow(config, settings)
    window.resize(1400, 860)
    window.show()

    def wait(ms: int = 300) -> None:
        QThreadPool.globalInstance().waitForDone(60_000)
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    window.start_session()
    while not window.session.started and not window.start_error:
        wait(100)
    if window.start_error:
        print(window.start_error, file=sys.stderr)
        return 1
    for _ in range(18 * 60):  # 18 plant hours in 1-min ticks
        clock.advance(1.0)
        window.session.tick()
    window.session.set_override("vent_lee_pct", 40, 60, who="demo", why="checking vent motor")
    clock.advance(1.0)
    window.session.tick()
    window.refresh()
    seed_supply(db)
    shots = {
        0: "overview",
        1: "history",
        2: "setpoints",
        3: "actuators",
        4: "events",
        5: "whatif",
        6: "supply",
        7: "model_check",
        8: "model_lab",
    }
    window.history.reload()
    wait()
    window.whatif.days.setValue(30)
    window.whatif.run()
    wait(500)
    window.model_check.run()  # the shipped Reference growers, whole season, open loop
    wait(500)
    window.supply.reload()
    window.model_lab.name.setText("lab-8-seasons")
    window.model_lab.train()  # in a child process; the list reloads when it is saved
    while window.model_lab.training:
        wait(500)
    wait()
    lab = window.model_lab
    lab.models.selectRow(1)
    lab.compare.setCurrentIndex(lab.compare.findData("default"))
    lab.target.setCurrentIndex(lab.target.findData("fruit_growth_kg_m2"))
    wait()
    for index, name in shots.items():
        window.tabs.setCurrentIndex(index)
        wait(400)
        if name == "supply":
            window.supply.tabs.setCurrentIndex(0)
            window.supply.select_order(3)  # the confirmed purchase order: its receive form
            wait()
            window.grab().save(str(out / "supply_orders.png"))
            window.supply.select_order(2)  # the order being picked: loading guidance
            window.supply.tabs.setCurrentIndex(1)
            wait()
            window.grab().save(str(out / "supply_loading.png"))
            window.supply.tabs.setCurrentIndex(2)
            wait()
            window.grab().save(str(out / "supply_lots.png"))
            continue
        window.grab().save(str(out / f"{name}.png"))
    window.close()
    app.processEvents()
    print(f"screenshots in {out} ({datetime.now(UTC):%Y-%m-%d})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
