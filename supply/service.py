"""`SupplyService`: the one entry point to supply for `serra supply` and the GUI's supply view.

Open it on a database path (it opens, creates and migrates the file through `store`) or on an
open `store.db.Store`. One service holds one connection: give each thread its own service; the
supply view runs the calls in a worker thread. Every write is one BEGIN IMMEDIATE transaction, so a
refused call (`SupplyError`) changes nothing.
"""

from __future__ import annotations

from supply.csvio import CsvMixin


class SupplyService(CsvMixin):
    """Catalogue, places, lots, ledger, orders, allocation, alerts, recall, reorder, scanner,
    CSV import/export (each part is a mixin in its own module)."""
