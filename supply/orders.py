"""Orders with their state machine, FEFO allocation and the loader's pick list.

Customer order (a farmer's pick-up): draft -> confirmed (stock allocated FEFO) -> picking
(the loader works the pick list) -> loaded (allocated stock issued) -> delivered; cancelled from
draft, confirmed or picking (allocations released). Purchase order: draft -> confirmed ->
delivered (goods received with `receive_order`), or cancelled before delivery.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from store.db import inserted_id
from supply.connection import DECIMALS, EPS, SupplyDb, name_value, qty_value, to_date
from supply.errors import InputError, NotFoundError, StockError, TransitionError
from supply.ledger import Ledger
from supply.model import ORDER_KINDS, Order, OrderEvent, OrderLine, PickLine, Receipt

TRANSITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "customer": {
        "draft": ("confirmed", "cancelled"),
        "confirmed": ("picking", "cancelled"),
        "picking": ("loaded", "cancelled"),
        "loaded": ("delivered",),
        "delivered": (),
        "cancelled": (),
    },
    "purchase": {
        "draft": ("confirmed", "cancelled"),
        "confirmed": ("delivered", "cancelled"),
        "delivered": (),
        "cancelled": (),
    },
}


class Orders:
    """Purchase and customer orders, allocation and loading; stock moves go through the ledger."""

    def __init__(self, db: SupplyDb, ledger: Ledger) -> None:
        self.db = db
        self.ledger = ledger

    def create_order(
        self,
        kind: str,
        party: str,
        lines: Iterable[tuple[str, float]],
        who: str,
        *,
        slot_start: str | None = None,
        slot_end: str | None = None,
        note: str = "",
    ) -> int:
        """A new draft order: `kind` purchase or customer, lines of (product code, quantity).

        `slot_start`/`slot_end` are the pick-up (or delivery) window as ISO times.
        """
        if kind not in ORDER_KINDS:
            raise InputError(f"order kind {kind!r} unknown; use one of {ORDER_KINDS}")
        party = name_value(party, "customer" if kind == "customer" else "supplier")
        who = name_value(who, "who")
        checked = [(p, qty_value(q, f"quantity of {p}")) for p, q in lines]
        if not checked:
            raise InputError("an order needs at least one line")
        if slot_start and slot_end and slot_end < slot_start:
            raise InputError(f"pick-up slot ends ({slot_end}) before it starts ({slot_start})")
        with self.db.write() as conn:
            cur = conn.execute(
                "INSERT INTO supply_orders (kind, party, state, slot_start, slot_end, note, "
                "created_ms) VALUES (?, ?, 'draft', ?, ?, ?, ?)",
                (kind, party, slot_start, slot_end, note, self.db.t_ms()),
            )
            order_id = inserted_id(cur)
            for product, q in checked:
                conn.execute(
                    "INSERT INTO supply_order_lines (order_id, product_id, qty) VALUES (?, ?, ?)",
                    (order_id, self.db.product_id(product), q),
                )
            self._event(conn, order_id, "", "draft", who, "created")
            return order_id

    def order(self, order_id: int) -> Order:
        """The order with its lines, or `NotFoundError`."""
        row = self.db.one(
            "SELECT id, kind, party, state, slot_start, slot_end, note FROM supply_orders "
            "WHERE id = ?",
            (order_id,),
            f"unknown order {order_id}",
        )
        lines = self.db.conn.execute(
            "SELECT ol.id, p.code, ol.qty FROM supply_order_lines ol JOIN supply_products p "
            "ON p.id = ol.product_id WHERE ol.order_id = ? ORDER BY ol.id",
            (order_id,),
        ).fetchall()
        return Order(*(*row, tuple(OrderLine(*r) for r in lines)))

    def orders(self, kind: str | None = None, state: str | None = None) -> list[Order]:
        """Orders, optionally of one kind and/or state, oldest first."""
        sql, args = "SELECT id FROM supply_orders WHERE 1", []
        if kind is not None:
            sql += " AND kind = ?"
            args.append(kind)
        if state is not None:
            sql += " AND state = ?"
            args.append(state)
        return [self.order(r[0]) for r in self.db.conn.execute(sql + " ORDER BY id", args)]

    def order_events(self, order_id: int) -> list[OrderEvent]:
        """Every recorded state change of an order, oldest first."""
        rows = self.db.conn.execute(
            "SELECT t_ms, from_state, to_state, who, reason FROM supply_order_events "
            "WHERE order_id = ? ORDER BY id",
            (order_id,),
        ).fetchall()
        return [OrderEvent(*r) for r in rows]

    def _event(
        self, conn: sqlite3.Connection, order_id: int, old: str, new: str, who: str, reason: str
    ) -> None:
        conn.execute(
            "INSERT INTO supply_order_events (order_id, t_ms, from_state, to_state, who, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (order_id, self.db.t_ms(), old, new, who, reason),
        )

    def _transition(
        self, conn: sqlite3.Connection, order_id: int, new: str, who: str, reason: str = ""
    ) -> str:
        row = conn.execute(
            "SELECT kind, state FROM supply_orders WHERE id = ?", (order_id,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"unknown order {order_id}")
        kind, old = row
        allowed = TRANSITIONS[kind].get(old, ())
        if new not in allowed:
            raise TransitionError(
                f"{kind} order {order_id} is {old}; it can go to "
                f"{', '.join(allowed) or 'no other state'}, not {new}"
            )
        conn.execute("UPDATE supply_orders SET state = ? WHERE id = ?", (new, order_id))
        self._event(conn, order_id, old, new, who, reason)
        return kind

    # ---- transitions ------------------------------------------------------------------------

    def confirm(self, order_id: int, who: str) -> None:
        """Confirm an order; a customer order gets its stock allocated FEFO (all or nothing)."""
        who = name_value(who, "who")
        with self.db.write() as conn:
            if self._transition(conn, order_id, "confirmed", who) == "customer":
                self._allocate(conn, order_id)

    def start_picking(self, order_id: int, who: str) -> list[PickLine]:
        """Hand a confirmed customer order to the loader; returns the pick list."""
        who = name_value(who, "who")
        with self.db.write() as conn:
            self._transition(conn, order_id, "picking", who)
            self._allocate(conn, order_id)  # swaps lots that expired or were blocked since
        return self.pick_list(order_id)

    def load(
        self,
        order_id: int,
        who: str,
        *,
        manager: str | None = None,
        override_reason: str | None = None,
    ) -> None:
        """The loader has loaded the pick list: issue every allocation from its bay."""
        who = name_value(who, "who")
        with self.db.write() as conn:
            self._transition(conn, order_id, "loaded", who)
            rows = conn.execute(
                "SELECT a.id, a.lot_id, a.bay_id, a.qty, l.product_id FROM supply_allocations a "
                "JOIN supply_lots l ON l.id = a.lot_id WHERE a.order_id = ? ORDER BY a.id",
                (order_id,),
            ).fetchall()
            self._check_fully_allocated(conn, order_id)
            for _, lot_id, bay_id, q, pid in rows:
                override = self.ledger.check_issuable(conn, lot_id, manager, override_reason)
                self.ledger.release(conn, lot_id, bay_id, q)
                move_id = self.ledger.move(
                    conn, "issue", lot_id, pid, bay_id, -q, who, f"order {order_id}", order_id
                )
                if override:
                    self.ledger.record_override(conn, lot_id, move_id, override)
            conn.execute("DELETE FROM supply_allocations WHERE order_id = ?", (order_id,))

    def deliver(self, order_id: int, who: str) -> None:
        """The farmer has driven off with a loaded order."""
        who = name_value(who, "who")
        with self.db.write() as conn:
            self._transition(conn, order_id, "delivered", who)

    def cancel(self, order_id: int, who: str, reason: str) -> None:
        """Cancel an order that is not loaded yet; its allocations are released."""
        who = name_value(who, "who")
        reason = name_value(reason, "cancel reason")
        with self.db.write() as conn:
            self._transition(conn, order_id, "cancelled", who, reason)
            self.ledger.release_allocations(conn, order_id)

    def receive_order(self, order_id: int, receipts: Iterable[Receipt], who: str) -> list[int]:
        """Receive a confirmed purchase order: book every receipt in, mark it delivered.

        Each receipt's product must be on the order. Returns the lot ids.
        """
        who = name_value(who, "who")
        receipts = list(receipts)
        if not receipts:
            raise InputError(f"order {order_id}: give at least one receipt")
        with self.db.write() as conn:
            order = self.order(order_id)
            if order.kind != "purchase":
                raise TransitionError(f"order {order_id} is a customer order; load it instead")
            self._transition(conn, order_id, "delivered", who, "received")
            ordered = {line.product for line in order.lines}
            lots = []
            for r in receipts:
                if r.product not in ordered:
                    raise InputError(
                        f"order {order_id} has no line for {r.product}; it orders "
                        f"{', '.join(sorted(ordered))}"
                    )
                q = qty_value(r.qty, f"received quantity of {r.product}")
                lots.append(
                    self.ledger.receive_in(
                        conn,
                        r.product,
                        r.lot_no,
                        q,
                        r.bay,
                        who,
                        r.production,
                        r.expiry,
                        None,
                        order_id,
                    )
                )
            return lots

    # ---- allocation -------------------------------------------------------------------------

    def allocate(self, order_id: int, who: str) -> None:
        """Allocate what a confirmed or picking customer order still misses (FEFO)."""
        who = name_value(who, "who")
        with self.db.write() as conn:
            state = self.order(order_id).state
            if state not in ("confirmed", "picking"):
                raise TransitionError(f"order {order_id} is {state}; only open orders allocate")
            self._allocate(conn, order_id)

    def _allocate(self, conn: sqlite3.Connection, order_id: int) -> None:
        """FEFO: earliest removal/expiry first, never expired, recalled or quarantined lots.

        Runs inside the caller's BEGIN IMMEDIATE transaction, so two connections allocating at
        once are serialised and never see (or hand out) the same free stock.
        """
        today = self.db.today().isoformat()
        # Allocations that stopped being usable since (removal or expiry date reached, status
        # changed) are given back first, so the pick list never sends the loader to them.
        for (lot_id,) in conn.execute(
            "SELECT DISTINCT a.lot_id FROM supply_allocations a JOIN supply_lots l "
            "ON l.id = a.lot_id WHERE a.order_id = ? AND (l.status <> 'available' "
            "OR l.removal_date <= ? OR l.expiry_date <= ?)",
            (order_id, today, today),
        ).fetchall():
            self.ledger.release_allocations(conn, order_id, lot_id)
        lines = conn.execute(
            "SELECT ol.id, ol.product_id, p.code, p.unit, ol.qty - COALESCE("
            "(SELECT SUM(a.qty) FROM supply_allocations a WHERE a.line_id = ol.id), 0) "
            "FROM supply_order_lines ol JOIN supply_products p ON p.id = ol.product_id "
            "WHERE ol.order_id = ? ORDER BY ol.id",
            (order_id,),
        ).fetchall()
        for line_id, pid, code, unit, missing in lines:
            need = round(missing, DECIMALS)
            if need <= EPS:
                continue
            for lot_id, bay_id, free in self._fefo_candidates(conn, pid, today):
                take = round(min(free, need), DECIMALS)
                conn.execute(
                    "UPDATE supply_stock SET allocated = ROUND(allocated + ?, 6) "
                    "WHERE lot_id = ? AND bay_id = ?",
                    (take, lot_id, bay_id),
                )
                conn.execute(
                    "INSERT INTO supply_allocations (order_id, line_id, lot_id, bay_id, qty) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (order_id, line_id, lot_id, bay_id, take),
                )
                need = round(need - take, DECIMALS)
                if need <= EPS:
                    break
            if need > EPS:
                raise StockError(
                    f"order {order_id}: {code} short by {need:g} {unit} of usable stock "
                    f"(not expired, not recalled or quarantined, not allocated); nothing allocated"
                )

    def _fefo_candidates(
        self, conn: sqlite3.Connection, product_id: int, today: str
    ) -> list[tuple[int, int, float]]:
        return conn.execute(
            "SELECT s.lot_id, s.bay_id, s.qty - s.allocated FROM supply_stock s "
            "JOIN supply_lots l ON l.id = s.lot_id JOIN supply_bays b ON b.id = s.bay_id "
            "WHERE s.product_id = ? AND l.status = 'available' AND s.qty - s.allocated > 1e-9 "
            "AND (l.removal_date IS NULL OR l.removal_date > ?) "
            "AND (l.expiry_date IS NULL OR l.expiry_date > ?) "
            "ORDER BY l.removal_date IS NULL, l.removal_date, l.expiry_date IS NULL, "
            "l.expiry_date, l.id, b.sequence, b.code",
            (product_id, today, today),
        ).fetchall()

    def fefo(self, product: str) -> list[tuple[int, str, float]]:
        """(lot id, bay, free quantity) of a product in the order FEFO would allocate them."""
        pid = self.db.product_id(product)
        rows = self._fefo_candidates(self.db.conn, pid, self.db.today().isoformat())
        return [(lot, self.db.bay_code(bay), round(free, DECIMALS)) for lot, bay, free in rows]

    def _check_fully_allocated(self, conn: sqlite3.Connection, order_id: int) -> None:
        short = conn.execute(
            "SELECT p.code, ol.qty - COALESCE((SELECT SUM(a.qty) FROM supply_allocations a "
            "WHERE a.line_id = ol.id), 0) AS m FROM supply_order_lines ol JOIN supply_products p "
            "ON p.id = ol.product_id WHERE ol.order_id = ? AND m > 1e-6",
            (order_id,),
        ).fetchone()
        if short:
            raise StockError(
                f"order {order_id}: {short[0]} is {short[1]:g} short of allocated stock; "
                "allocate it again before loading"
            )

    def allocated(self, order_id: int) -> float:
        """Total quantity currently allocated to an order."""
        row = self.db.conn.execute(
            "SELECT COALESCE(SUM(qty), 0) FROM supply_allocations WHERE order_id = ?", (order_id,)
        ).fetchone()
        return round(float(row[0]), DECIMALS)

    def pick_list(self, order_id: int) -> list[PickLine]:
        """Loading guidance: the allocations in walking order (warehouse, zone, bay sequence),
        one line per lot and bay."""
        self.order(order_id)
        rows = self.db.conn.execute(
            "SELECT w.code, z.code, b.code, p.code, l.lot_no, ROUND(SUM(a.qty), 6), p.unit, "
            "l.expiry_date "
            "FROM supply_allocations a JOIN supply_lots l ON l.id = a.lot_id "
            "JOIN supply_products p ON p.id = l.product_id JOIN supply_bays b ON b.id = a.bay_id "
            "JOIN supply_zones z ON z.id = b.zone_id "
            "JOIN supply_warehouses w ON w.id = z.warehouse_id WHERE a.order_id = ? "
            "GROUP BY a.lot_id, a.bay_id "
            "ORDER BY w.code, z.code, b.sequence, b.code, l.expiry_date, l.lot_no",
            (order_id,),
        ).fetchall()
        return [PickLine(*(*r[:7], to_date(r[7]))) for r in rows]
