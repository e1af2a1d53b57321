"""Plain records the supply service hands out (no database handles inside; safe across threads)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

LOT_STATUSES = ("available", "quarantine", "recalled", "expired")
ORDER_KINDS = ("purchase", "customer")
BAY_KINDS = ("bay", "silo")
ROLES = ("staff", "manager")


@dataclass(frozen=True)
class Product:
    """A stocked article: unit, pack size, shelf life with its margins, storage, reorder figures.

    `storage` is a comma-separated set of tags (e.g. "dry,cool") the zone of a bay must offer;
    `bulk` products (loose feed) go into silos only.
    """

    code: str
    name: str
    unit: str = "kg"
    pack_size: float = 1.0
    shelf_life_days: int | None = None
    alert_days: int = 0
    removal_days: int = 0
    best_before_days: int = 0
    storage: str = ""
    bulk: bool = False
    gtin: str | None = None
    lead_time_days: float = 7.0
    safety_stock: float = 0.0
    max_stock: float | None = None


@dataclass(frozen=True)
class Bay:
    """A storage place: a bay in a zone of a warehouse, or a silo with a capacity."""

    code: str
    warehouse: str
    zone: str
    kind: str = "bay"
    capacity: float | None = None
    sequence: int = 0


@dataclass(frozen=True)
class Lot:
    """A batch of one product with its dates and status."""

    id: int
    product: str
    lot_no: str
    production: date | None
    expiry: date | None
    best_before: date | None
    removal: date | None
    alert: date | None
    status: str


@dataclass(frozen=True)
class StockLine:
    """On-hand of one lot in one bay; `allocated` is reserved for confirmed customer orders."""

    product: str
    lot_id: int
    lot_no: str
    bay: str
    qty: float
    allocated: float
    expiry: date | None
    status: str


@dataclass(frozen=True)
class Move:
    """One row of the append-only stock ledger (quantity signed: + into the bay, - out)."""

    id: int
    t_ms: int
    kind: str
    product: str
    lot_id: int
    bay: str
    qty: float
    who: str
    reason: str
    order_id: int | None


@dataclass(frozen=True)
class OrderLine:
    """A line of an order: product and quantity (in the product's unit)."""

    id: int
    product: str
    qty: float


@dataclass(frozen=True)
class Order:
    """A purchase order (inbound) or customer order (a farmer's pick-up)."""

    id: int
    kind: str
    party: str
    state: str
    slot_start: str | None
    slot_end: str | None
    note: str
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True)
class OrderEvent:
    """A recorded state change of an order."""

    t_ms: int
    from_state: str
    to_state: str
    who: str
    reason: str


@dataclass(frozen=True)
class PickLine:
    """One step of loading guidance: go to this bay, take this many of this lot."""

    warehouse: str
    zone: str
    bay: str
    product: str
    lot_no: str
    qty: float
    unit: str
    expiry: date | None


@dataclass(frozen=True)
class Alert:
    """A lot in stock whose alert date is reached (or that has expired)."""

    product: str
    lot_id: int
    lot_no: str
    alert: date
    expiry: date | None
    days_left: int | None
    on_hand: float
    expired: bool


@dataclass(frozen=True)
class Receiver:
    """Who received stock of a recalled lot: the order, the customer, how much, when."""

    order_id: int
    customer: str
    qty: float
    t_ms: int


@dataclass(frozen=True)
class Receipt:
    """Goods received against a purchase order line (or freely): which lot into which bay."""

    product: str
    lot_no: str
    qty: float
    bay: str
    production: date | None = None
    expiry: date | None = None
