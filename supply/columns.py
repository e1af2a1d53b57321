"""The columns of each supply CSV import (light: `serra supply import --help` lists them)."""

from __future__ import annotations

import dataclasses

from supply.model import Product

PRODUCT_COLUMNS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Product))
BAY_COLUMNS: tuple[str, ...] = (
    "code", "warehouse", "zone", "kind", "capacity", "sequence", "storage"
)  # fmt: skip
LOT_COLUMNS: tuple[str, ...] = ("product", "lot_no", "qty", "bay", "production_date", "expiry_date")
#: kind -> columns a file of that kind may have, in export order
ALLOWED: dict[str, tuple[str, ...]] = {
    "products": PRODUCT_COLUMNS,
    "bays": BAY_COLUMNS,
    "lots": LOT_COLUMNS,
}
#: kind -> columns every file and row of that kind must fill
REQUIRED: dict[str, tuple[str, ...]] = {
    "products": ("code", "name"),
    "bays": ("code", "warehouse", "zone"),
    "lots": ("product", "lot_no", "qty", "bay"),
}
