"""Catalogue (products), places (warehouse -> zone -> bay, silos) and people."""

from __future__ import annotations

import dataclasses
import math
import sqlite3

from supply import gs1
from supply.connection import MAX_DAYS, MAX_QTY, SupplyDb, name_value
from supply.errors import InputError, NotFoundError
from supply.model import BAY_KINDS, ROLES, Bay, Product

_PRODUCT_COLUMNS = (
    "code, name, unit, pack_size, shelf_life_days, alert_days, removal_days, best_before_days, "
    "storage, bulk, gtin, lead_time_days, safety_stock, max_stock"
)


#: Largest walking-order number of a bay (SQLite integers overflow at 2**63).
MAX_SEQUENCE = 10**9


def storage_tags(text: str) -> frozenset[str]:
    """The set of storage tags in a comma-separated text ("dry, cool" -> {"dry", "cool"})."""
    return frozenset(t.strip().lower() for t in text.split(",") if t.strip())


def check_product(p: Product) -> Product:
    """Validate a product's fields; return it with names stripped and tags normalised."""
    code = name_value(p.code, "product code")
    name = name_value(p.name, f"product {code}: name")
    unit = name_value(p.unit, f"product {code}: unit")
    for field in ("pack_size", "lead_time_days", "safety_stock", "max_stock"):
        value = getattr(p, field)
        if value is not None and not math.isfinite(value):
            raise InputError(f"product {code}: {field} must be a finite number, got {value}")
        limit = MAX_DAYS if field == "lead_time_days" else MAX_QTY
        if value is not None and abs(value) > limit:
            raise InputError(f"product {code}: {field} must be at most {limit:g}, got {value:g}")
    if not p.pack_size > 0:
        raise InputError(f"product {code}: pack size must be > 0, got {p.pack_size}")
    if p.shelf_life_days is not None and p.shelf_life_days <= 0:
        raise InputError(f"product {code}: shelf life must be > 0 days, got {p.shelf_life_days}")
    for field in ("shelf_life_days", "alert_days", "removal_days", "best_before_days"):
        value = getattr(p, field)
        if value is not None and value > MAX_DAYS:
            raise InputError(f"product {code}: {field} must be at most {MAX_DAYS}, got {value}")
    for field in ("alert_days", "removal_days", "best_before_days"):
        value = getattr(p, field)
        if value < 0:
            raise InputError(f"product {code}: {field} must be >= 0, got {value}")
        if p.shelf_life_days is not None and value >= p.shelf_life_days:
            raise InputError(
                f"product {code}: {field} ({value}) must be shorter than the shelf life "
                f"({p.shelf_life_days} days)"
            )
    if p.lead_time_days < 0 or p.safety_stock < 0:
        raise InputError(f"product {code}: lead time and safety stock must be >= 0")
    if p.max_stock is not None and p.max_stock <= 0:
        raise InputError(f"product {code}: max stock must be > 0, got {p.max_stock}")
    gtin = p.gtin or None
    if gtin is not None:
        if len(gtin) != 14 or not gs1.is_digits(gtin):
            raise InputError(f"product {code}: GTIN must be 14 digits 0-9, got {gtin!r}")
        if gs1.check_digit(gtin[:13]) != int(gtin[13]):
            raise InputError(f"product {code}: GTIN {gtin} has a wrong check digit")
    storage = ",".join(sorted(storage_tags(p.storage)))
    return dataclasses.replace(p, code=code, name=name, unit=unit, storage=storage, gtin=gtin)


def _product(row: tuple) -> Product:
    return Product(*(*row[:9], bool(row[9]), *row[10:]))


class Catalogue:
    """Products, warehouses, zones, bays and the people who may sign moves or override."""

    def __init__(self, db: SupplyDb) -> None:
        self.db = db

    def save_product(self, product: Product) -> None:
        """Add a product, or update the one with the same code."""
        with self.db.write() as conn:
            self.write_product(conn, product)

    def write_product(self, conn: sqlite3.Connection, product: Product) -> None:
        """Check a product and add or update it, inside the caller's write transaction."""
        values = dataclasses.astuple(check_product(product))
        conn.execute(
            f"INSERT INTO supply_products ({_PRODUCT_COLUMNS}) "
            f"VALUES ({', '.join('?' * len(values))}) ON CONFLICT(code) DO UPDATE SET "
            + ", ".join(f"{c.strip()} = excluded.{c.strip()}" for c in _PRODUCT_COLUMNS.split(",")),
            values,
        )

    def product(self, code: str) -> Product:
        """The product with this code, or `NotFoundError`."""
        row = self.db.conn.execute(
            f"SELECT {_PRODUCT_COLUMNS} FROM supply_products WHERE code = ?", (code,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"unknown product {code!r}; add it to the catalogue first")
        return _product(row)

    def product_by_gtin(self, gtin: str) -> Product:
        """The product carrying this GTIN, or `NotFoundError`."""
        row = self.db.conn.execute(
            f"SELECT {_PRODUCT_COLUMNS} FROM supply_products WHERE gtin = ?", (gtin,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no product has GTIN {gtin}; set it on the product first")
        return _product(row)

    def products(self) -> list[Product]:
        """Every product, by code."""
        rows = self.db.conn.execute(
            f"SELECT {_PRODUCT_COLUMNS} FROM supply_products ORDER BY code"
        ).fetchall()
        return [_product(r) for r in rows]

    def _ensure_zone(
        self, conn: sqlite3.Connection, warehouse: str, zone: str, storage: str | None
    ) -> int:
        warehouse = name_value(warehouse, "warehouse code")
        zone = name_value(zone, "zone code")
        conn.execute("INSERT OR IGNORE INTO supply_warehouses (code) VALUES (?)", (warehouse,))
        wid = conn.execute(
            "SELECT id FROM supply_warehouses WHERE code = ?", (warehouse,)
        ).fetchone()[0]
        tags = None if storage is None else ",".join(sorted(storage_tags(storage)))
        conn.execute(
            "INSERT OR IGNORE INTO supply_zones (warehouse_id, code, storage) VALUES (?, ?, ?)",
            (wid, zone, tags or ""),
        )
        if tags is not None:
            conn.execute(
                "UPDATE supply_zones SET storage = ? WHERE warehouse_id = ? AND code = ?",
                (tags, wid, zone),
            )
        return int(
            conn.execute(
                "SELECT id FROM supply_zones WHERE warehouse_id = ? AND code = ?", (wid, zone)
            ).fetchone()[0]
        )

    def save_bay(self, bay: Bay, storage: str | None = None) -> None:
        """Add or update a bay (or silo); creates its warehouse and zone when new."""
        with self.db.write() as conn:
            self.write_bay(conn, bay, storage)

    def write_bay(self, conn: sqlite3.Connection, bay: Bay, storage: str | None) -> None:
        """Check a bay and add or update it, inside the caller's write transaction."""
        code = name_value(bay.code, "bay code")
        if bay.kind not in BAY_KINDS:
            raise InputError(f"bay {code}: kind {bay.kind!r} unknown; use one of {BAY_KINDS}")
        if bay.capacity is not None and not 0 < bay.capacity <= MAX_QTY:
            raise InputError(
                f"bay {code}: capacity must be > 0 and at most {MAX_QTY:g}, got {bay.capacity}"
            )
        if bay.kind == "silo" and bay.capacity is None:
            raise InputError(f"silo {code}: give its capacity")
        if not -MAX_SEQUENCE <= int(bay.sequence) <= MAX_SEQUENCE:
            raise InputError(
                f"bay {code}: sequence must lie within +-{MAX_SEQUENCE}, got {bay.sequence}"
            )
        zone_id = self._ensure_zone(conn, bay.warehouse, bay.zone, storage)
        conn.execute(
            "INSERT INTO supply_bays (zone_id, code, kind, capacity, sequence) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(code) DO UPDATE SET zone_id = excluded.zone_id, "
            "kind = excluded.kind, capacity = excluded.capacity, sequence = excluded.sequence",
            (zone_id, code, bay.kind, bay.capacity, int(bay.sequence)),
        )

    def bays(self) -> list[Bay]:
        """Every bay and silo in walking order (warehouse, zone, sequence, code)."""
        rows = self.db.conn.execute(
            "SELECT b.code, w.code, z.code, b.kind, b.capacity, b.sequence FROM supply_bays b "
            "JOIN supply_zones z ON z.id = b.zone_id "
            "JOIN supply_warehouses w ON w.id = z.warehouse_id "
            "ORDER BY w.code, z.code, b.sequence, b.code"
        ).fetchall()
        return [Bay(*r) for r in rows]

    def bay_storage(self, code: str) -> frozenset[str]:
        """The storage tags the zone of this bay offers."""
        row = self.db.one(
            "SELECT z.storage FROM supply_bays b JOIN supply_zones z ON z.id = b.zone_id "
            "WHERE b.code = ?",
            (code,),
            f"unknown bay {code!r}",
        )
        return storage_tags(row[0])

    def add_person(self, name: str, role: str = "staff") -> None:
        """Register a person who signs moves; managers may override an expired-lot block."""
        if role not in ROLES:
            raise InputError(f"role {role!r} unknown; use one of {ROLES}")
        name = name_value(name, "person")
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO supply_people (name, role) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET role = excluded.role",
                (name, role),
            )
