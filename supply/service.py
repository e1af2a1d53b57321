"""`SupplyService`: the one entry point to supply for `serra supply` and the GUI's supply view.

Open it on a database path (it opens, creates and migrates the file through `store`) or on an
open `store.db.Store`. One service holds one connection: give each thread its own service; the
supply view runs the calls in a worker thread. Every write is one BEGIN IMMEDIATE transaction, so a
refused call (`SupplyError`) changes nothing.

The service is composed of five parts sharing one `SupplyDb` (connection and clock), each in its
own module and each using only the parts before it:

    catalogue  Catalogue  products, places (warehouse -> zone -> bay, silos), people
    ledger     Ledger     lots, stock moves, balances
    order_book Orders     orders and their states, FEFO allocation, pick lists   (uses ledger)
    reports    Reports    alerts, expiry buckets, recalls, reorder, scanner intake
                          (uses catalogue, ledger, orders)
    csv        CsvIO      CSV import and export (uses catalogue, ledger, reports)

Callers use the service's methods: each is the bound method of the part it is listed under in
`__init__` (the part's name is `orders` for the calls, `order_book` for the part, as `orders()`
lists orders).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Self

from store.db import Store
from supply.catalogue import Catalogue
from supply.connection import Clock, SupplyDb
from supply.csvio import CsvIO
from supply.ledger import Ledger
from supply.orders import Orders
from supply.reports import Reports


class SupplyService:
    """Catalogue, places, lots, ledger, orders, allocation, alerts, recall, reorder, scanner,
    CSV import/export: the public calls of its parts, on one connection."""

    def __init__(self, path: str | Path | Store, *, clock: Clock | None = None) -> None:
        self.db = db = SupplyDb(path, clock=clock)
        self.store = db.store
        self.conn = db.conn
        self.clock = db.clock
        self.catalogue = catalogue = Catalogue(db)
        self.ledger = ledger = Ledger(db)
        self.order_book = orders = Orders(db, ledger)
        self.reports = reports = Reports(db, catalogue, ledger, orders)
        self.csv = csv = CsvIO(db, catalogue, ledger, reports)

        self.save_product = catalogue.save_product
        self.product = catalogue.product
        self.product_by_gtin = catalogue.product_by_gtin
        self.products = catalogue.products
        self.save_bay = catalogue.save_bay
        self.bays = catalogue.bays
        self.bay_storage = catalogue.bay_storage
        self.add_person = catalogue.add_person

        self.lot = ledger.lot
        self.find_lot = ledger.find_lot
        self.lots = ledger.lots
        self.set_lot_status = ledger.set_lot_status
        self.lot_events = ledger.lot_events
        self.receive = ledger.receive
        self.issue = ledger.issue
        self.transfer = ledger.transfer
        self.adjust = ledger.adjust
        self.scrap = ledger.scrap
        self.on_hand = ledger.on_hand
        self.ledger_sum = ledger.ledger_sum
        self.check_balances = ledger.check_balances
        self.stock = ledger.stock
        self.moves = ledger.moves
        self.overrides = ledger.overrides

        self.create_order = orders.create_order
        self.order = orders.order
        self.orders = orders.orders
        self.order_events = orders.order_events
        self.confirm = orders.confirm
        self.start_picking = orders.start_picking
        self.load = orders.load
        self.deliver = orders.deliver
        self.cancel = orders.cancel
        self.receive_order = orders.receive_order
        self.allocate = orders.allocate
        self.fefo = orders.fefo
        self.allocated = orders.allocated
        self.pick_list = orders.pick_list

        self.alerts = reports.alerts
        self.expiry_buckets = reports.expiry_buckets
        self.expire_lots = reports.expire_lots
        self.recall = reports.recall
        self.receivers = reports.receivers
        self.usable_free = reports.usable_free
        self.on_order = reports.on_order
        self.demand_from_history = reports.demand_from_history
        self.reorder = reports.reorder
        self.intake_scan = reports.intake_scan

        self.import_csv = csv.import_csv
        self.export_rows = csv.export_rows
        self.export_csv = csv.export_csv

    def today(self) -> date:
        """Today's date by the service clock (site-local when the clock is)."""
        return self.db.today()

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
