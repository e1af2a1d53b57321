"""Schema version 2: the supply tables (catalogue, places, lots, stock ledger, orders).

`supply_moves` is the append-only ledger; `supply_stock` is the on-hand balance per lot and bay
and `supply_lots.on_hand` the lot's total, both kept in the same transaction as every move so
that on-hand is one indexed read and the expiry alert scan reads one index. Lot dates are
ISO `YYYY-MM-DD` text (they sort as dates); times are UTC epoch milliseconds.
"""

from __future__ import annotations

import sqlite_utils

VERSION = 2
NAME = "supply"

_STATEMENTS = (
    """CREATE TABLE supply_products (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        unit TEXT NOT NULL,
        pack_size REAL NOT NULL CHECK (pack_size > 0),
        shelf_life_days INTEGER CHECK (shelf_life_days > 0),
        alert_days INTEGER NOT NULL DEFAULT 0 CHECK (alert_days >= 0),
        removal_days INTEGER NOT NULL DEFAULT 0 CHECK (removal_days >= 0),
        best_before_days INTEGER NOT NULL DEFAULT 0 CHECK (best_before_days >= 0),
        storage TEXT NOT NULL DEFAULT '',
        bulk INTEGER NOT NULL DEFAULT 0,
        gtin TEXT UNIQUE,
        lead_time_days REAL NOT NULL DEFAULT 7 CHECK (lead_time_days >= 0),
        safety_stock REAL NOT NULL DEFAULT 0 CHECK (safety_stock >= 0),
        max_stock REAL CHECK (max_stock > 0)
    )""",
    """CREATE TABLE supply_warehouses (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE TABLE supply_zones (
        id INTEGER PRIMARY KEY,
        warehouse_id INTEGER NOT NULL REFERENCES supply_warehouses(id),
        code TEXT NOT NULL,
        storage TEXT NOT NULL DEFAULT '',
        UNIQUE (warehouse_id, code)
    )""",
    """CREATE TABLE supply_bays (
        id INTEGER PRIMARY KEY,
        zone_id INTEGER NOT NULL REFERENCES supply_zones(id),
        code TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL DEFAULT 'bay' CHECK (kind IN ('bay', 'silo')),
        capacity REAL CHECK (capacity > 0),
        sequence INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE supply_people (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('staff', 'manager'))
    )""",
    """CREATE TABLE supply_lots (
        id INTEGER PRIMARY KEY,
        product_id INTEGER NOT NULL REFERENCES supply_products(id),
        lot_no TEXT NOT NULL,
        production_date TEXT,
        expiry_date TEXT,
        best_before_date TEXT,
        removal_date TEXT,
        alert_date TEXT,
        status TEXT NOT NULL DEFAULT 'available'
            CHECK (status IN ('available', 'quarantine', 'recalled', 'expired')),
        created_ms INTEGER NOT NULL,
        on_hand REAL NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
        UNIQUE (product_id, lot_no),
        CHECK (expiry_date IS NULL OR production_date IS NULL OR expiry_date >= production_date)
    )""",
    # The alert scan reads only this partial covering index: lots in stock, by alert date.
    "CREATE INDEX supply_lots_alert ON supply_lots "
    "(alert_date, expiry_date, product_id, lot_no, on_hand) WHERE on_hand > 0",
    "CREATE INDEX supply_lots_expiry ON supply_lots (expiry_date)",
    "CREATE INDEX supply_lots_product_removal ON supply_lots (product_id, removal_date)",
    """CREATE TABLE supply_lot_events (
        id INTEGER PRIMARY KEY,
        lot_id INTEGER NOT NULL REFERENCES supply_lots(id),
        t_ms INTEGER NOT NULL,
        from_status TEXT NOT NULL,
        to_status TEXT NOT NULL,
        who TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
    """CREATE TABLE supply_orders (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('purchase', 'customer')),
        party TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN
            ('draft', 'confirmed', 'picking', 'loaded', 'delivered', 'cancelled')),
        slot_start TEXT,
        slot_end TEXT,
        note TEXT NOT NULL DEFAULT '',
        created_ms INTEGER NOT NULL
    )""",
    "CREATE INDEX supply_orders_kind_state ON supply_orders (kind, state)",
    """CREATE TABLE supply_order_lines (
        id INTEGER PRIMARY KEY,
        order_id INTEGER NOT NULL REFERENCES supply_orders(id),
        product_id INTEGER NOT NULL REFERENCES supply_products(id),
        qty REAL NOT NULL CHECK (qty > 0)
    )""",
    "CREATE INDEX supply_order_lines_order ON supply_order_lines (order_id)",
    "CREATE INDEX supply_order_lines_product ON supply_order_lines (product_id)",
    """CREATE TABLE supply_order_events (
        id INTEGER PRIMARY KEY,
        order_id INTEGER NOT NULL REFERENCES supply_orders(id),
        t_ms INTEGER NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        who TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX supply_order_events_order ON supply_order_events (order_id)",
    """CREATE TABLE supply_moves (
        id INTEGER PRIMARY KEY,
        t_ms INTEGER NOT NULL,
        kind TEXT NOT NULL
            CHECK (kind IN ('receipt', 'issue', 'transfer', 'adjustment', 'scrap')),
        product_id INTEGER NOT NULL REFERENCES supply_products(id),
        lot_id INTEGER NOT NULL REFERENCES supply_lots(id),
        bay_id INTEGER NOT NULL REFERENCES supply_bays(id),
        qty REAL NOT NULL CHECK (qty <> 0),
        who TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        order_id INTEGER REFERENCES supply_orders(id)
    )""",
    "CREATE INDEX supply_moves_lot_bay ON supply_moves (lot_id, bay_id)",
    "CREATE INDEX supply_moves_product_kind_t ON supply_moves (product_id, kind, t_ms)",
    "CREATE INDEX supply_moves_order ON supply_moves (order_id) WHERE order_id IS NOT NULL",
    """CREATE TRIGGER supply_moves_no_update BEFORE UPDATE ON supply_moves
    BEGIN SELECT RAISE(ABORT, 'the stock ledger is append-only: moves cannot be changed'); END""",
    """CREATE TRIGGER supply_moves_no_delete BEFORE DELETE ON supply_moves
    BEGIN SELECT RAISE(ABORT, 'the stock ledger is append-only: moves cannot be deleted'); END""",
    """CREATE TABLE supply_stock (
        lot_id INTEGER NOT NULL REFERENCES supply_lots(id),
        bay_id INTEGER NOT NULL REFERENCES supply_bays(id),
        product_id INTEGER NOT NULL REFERENCES supply_products(id),
        qty REAL NOT NULL CHECK (qty >= 0),
        allocated REAL NOT NULL DEFAULT 0 CHECK (allocated >= 0 AND allocated <= qty + 1e-9),
        PRIMARY KEY (lot_id, bay_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX supply_stock_product ON supply_stock (product_id)",
    "CREATE INDEX supply_stock_bay ON supply_stock (bay_id)",
    """CREATE TABLE supply_allocations (
        id INTEGER PRIMARY KEY,
        order_id INTEGER NOT NULL REFERENCES supply_orders(id),
        line_id INTEGER NOT NULL REFERENCES supply_order_lines(id),
        lot_id INTEGER NOT NULL REFERENCES supply_lots(id),
        bay_id INTEGER NOT NULL REFERENCES supply_bays(id),
        qty REAL NOT NULL CHECK (qty > 0)
    )""",
    "CREATE INDEX supply_allocations_order ON supply_allocations (order_id)",
    """CREATE TABLE supply_overrides (
        id INTEGER PRIMARY KEY,
        t_ms INTEGER NOT NULL,
        lot_id INTEGER NOT NULL REFERENCES supply_lots(id),
        move_id INTEGER REFERENCES supply_moves(id),
        manager TEXT NOT NULL,
        reason TEXT NOT NULL
    )""",
)


def migrate(db: sqlite_utils.Database) -> None:
    """Create the supply tables (inside the caller's transaction)."""
    for statement in _STATEMENTS:
        db.execute(statement)
