"""Lots and the stock ledger: receipts, issues, transfers, adjustments, scrap; on-hand.

Every move appends one ledger row and updates the `supply_stock` balance of its lot and bay in
the same transaction, so on-hand is one indexed read and always equals the ledger's sum.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import date

from store.db import inserted_id
from supply.catalogue import storage_tags
from supply.connection import DECIMALS, EPS, MAX_QTY, SupplyDb, iso, name_value, qty_value, to_date
from supply.dates import lot_dates
from supply.errors import InputError, LotBlockedError, StockError
from supply.model import LOT_STATUSES, Lot, Move, StockLine

_LOT_COLUMNS = (
    "l.id, p.code, l.lot_no, l.production_date, l.expiry_date, l.best_before_date, "
    "l.removal_date, l.alert_date, l.status"
)


def _lot(row: tuple) -> Lot:
    return Lot(*(*row[:3], *(to_date(x) for x in row[3:8]), row[8]))


class Ledger:
    """Lots, stock moves and balances.

    The methods taking `conn` run inside the caller's write transaction; orders, reports and the
    CSV import build on them, so a receipt or an issue is booked the same way from everywhere.
    """

    def __init__(self, db: SupplyDb) -> None:
        self.db = db

    # ---- lots -------------------------------------------------------------------------------

    def lot(self, lot_id: int) -> Lot:
        """The lot with this id, or `NotFoundError`."""
        row = self.db.one(
            f"SELECT {_LOT_COLUMNS} FROM supply_lots l JOIN supply_products p "
            "ON p.id = l.product_id WHERE l.id = ?",
            (lot_id,),
            f"unknown lot id {lot_id}",
        )
        return _lot(row)

    def find_lot(self, product: str, lot_no: str) -> Lot:
        """The lot `lot_no` of `product`, or `NotFoundError`."""
        row = self.db.one(
            f"SELECT {_LOT_COLUMNS} FROM supply_lots l JOIN supply_products p "
            "ON p.id = l.product_id WHERE p.code = ? AND l.lot_no = ?",
            (product, lot_no),
            f"unknown lot {lot_no!r} of product {product!r}",
        )
        return _lot(row)

    def lots(self, product: str | None = None) -> list[Lot]:
        """Every lot (of one product), earliest expiry first."""
        where, args = ("WHERE p.code = ?", (product,)) if product else ("", ())
        rows = self.db.conn.execute(
            f"SELECT {_LOT_COLUMNS} FROM supply_lots l JOIN supply_products p "
            f"ON p.id = l.product_id {where} "
            "ORDER BY l.expiry_date IS NULL, l.expiry_date, l.id",
            args,
        ).fetchall()
        return [_lot(r) for r in rows]

    def set_lot_status(self, lot_id: int, status: str, who: str, reason: str) -> None:
        """Put a lot in quarantine, release it, mark it expired or recalled (recorded).

        Any status but available also takes the lot off every open order (see `set_status`).
        """
        if status not in LOT_STATUSES:
            raise InputError(f"lot status {status!r} unknown; use one of {LOT_STATUSES}")
        who = name_value(who, "who")
        reason = name_value(reason, "reason")
        with self.db.write() as conn:
            self.set_status(conn, lot_id, status, who, reason)

    def set_status(
        self, conn: sqlite3.Connection, lot_id: int, status: str, who: str, reason: str
    ) -> None:
        """Change a lot's status and record it; a blocked lot leaves every open order."""
        old = self.db.lot_row(lot_id)[5]
        if old == status:
            return
        conn.execute("UPDATE supply_lots SET status = ? WHERE id = ?", (status, lot_id))
        conn.execute(
            "INSERT INTO supply_lot_events (lot_id, t_ms, from_status, to_status, who, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (lot_id, self.db.t_ms(), old, status, who, reason),
        )
        if status != "available":
            # A blocked lot leaves every open order; `allocate`/`start_picking` refill them.
            for (order_id,) in conn.execute(
                "SELECT DISTINCT order_id FROM supply_allocations WHERE lot_id = ?", (lot_id,)
            ).fetchall():
                self.release_allocations(conn, order_id, lot_id)

    def release(self, conn: sqlite3.Connection, lot_id: int, bay_id: int, q: float) -> None:
        """Give `q` allocated in a lot's bay back to free stock."""
        conn.execute(
            "UPDATE supply_stock SET allocated = MAX(ROUND(allocated - ?, 6), 0) "
            "WHERE lot_id = ? AND bay_id = ?",
            (q, lot_id, bay_id),
        )

    def release_allocations(
        self, conn: sqlite3.Connection, order_id: int, lot_id: int | None = None
    ) -> None:
        """Take an order's allocations (of one lot) back: free stock again, rows deleted."""
        where = "order_id = ?"
        args: tuple = (order_id,)
        if lot_id is not None:
            where += " AND lot_id = ?"
            args = (order_id, lot_id)
        rows = conn.execute(
            f"SELECT lot_id, bay_id, qty FROM supply_allocations WHERE {where}", args
        ).fetchall()
        for lot, bay, q in rows:
            self.release(conn, lot, bay, q)
        conn.execute(f"DELETE FROM supply_allocations WHERE {where}", args)

    def lot_events(self, lot_id: int) -> list[tuple[int, str, str, str, str]]:
        """(t_ms, from, to, who, reason) of every status change of a lot."""
        return self.db.conn.execute(
            "SELECT t_ms, from_status, to_status, who, reason FROM supply_lot_events "
            "WHERE lot_id = ? ORDER BY id",
            (lot_id,),
        ).fetchall()

    def _lot_for_receipt(
        self,
        conn: sqlite3.Connection,
        product: str,
        lot_no: str,
        production: date | None,
        expiry: date | None,
        best_before: date | None = None,
    ) -> tuple[int, int]:
        """(lot id, product id): the existing lot, or a new one with derived dates."""
        lot_no = name_value(lot_no, "lot number")
        pid = self.db.product_id(product)
        row = conn.execute(
            "SELECT id, expiry_date, status FROM supply_lots WHERE product_id = ? AND lot_no = ?",
            (pid, lot_no),
        ).fetchone()
        if row is not None:
            if expiry is not None and row[1] is not None and iso(expiry) != row[1]:
                raise InputError(
                    f"lot {lot_no} of {product} is known with expiry {row[1]}, "
                    f"not {expiry.isoformat()}; check the label"
                )
            if row[2] == "recalled":
                raise LotBlockedError(
                    f"lot {lot_no} of {product} is recalled; it cannot be received"
                )
            return int(row[0]), pid
        shelf, alert, removal, bb = conn.execute(
            "SELECT shelf_life_days, alert_days, removal_days, best_before_days "
            "FROM supply_products WHERE id = ?",
            (pid,),
        ).fetchone()
        d = lot_dates(
            production=production,
            expiry=expiry,
            received=self.db.today(),
            shelf_life_days=shelf,
            alert_days=alert,
            removal_days=removal,
            best_before_days=bb,
            best_before=best_before,
        )
        cur = conn.execute(
            "INSERT INTO supply_lots (product_id, lot_no, production_date, expiry_date, "
            "best_before_date, removal_date, alert_date, status, created_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'available', ?)",
            (
                pid,
                lot_no,
                iso(d.production),
                iso(d.expiry),
                iso(d.best_before),
                iso(d.removal),
                iso(d.alert),
                self.db.t_ms(),
            ),
        )
        return inserted_id(cur), pid

    # ---- moves ------------------------------------------------------------------------------

    def move(
        self,
        conn: sqlite3.Connection,
        kind: str,
        lot_id: int,
        product_id: int,
        bay_id: int,
        delta: float,
        who: str,
        reason: str = "",
        order_id: int | None = None,
    ) -> int:
        """Append one ledger row and update the balance; refuse a negative balance."""
        row = conn.execute(
            "SELECT qty, allocated FROM supply_stock WHERE lot_id = ? AND bay_id = ?",
            (lot_id, bay_id),
        ).fetchone()
        qty, allocated = row if row is not None else (0.0, 0.0)
        new = round(qty + delta, DECIMALS)
        if new < allocated - EPS:
            free = round(qty - allocated, DECIMALS)
            raise StockError(
                f"lot id {lot_id} in bay {self.db.bay_code(bay_id)} has {free:g} free "
                f"({qty:g} on hand, {allocated:g} allocated); cannot take {-delta:g}"
            )
        if row is None:
            conn.execute(
                "INSERT INTO supply_stock (lot_id, bay_id, product_id, qty) VALUES (?, ?, ?, ?)",
                (lot_id, bay_id, product_id, new),
            )
        elif new <= EPS and allocated <= EPS:
            conn.execute(
                "DELETE FROM supply_stock WHERE lot_id = ? AND bay_id = ?", (lot_id, bay_id)
            )
        else:
            conn.execute(
                "UPDATE supply_stock SET qty = ? WHERE lot_id = ? AND bay_id = ?",
                (new, lot_id, bay_id),
            )
        conn.execute(
            "UPDATE supply_lots SET on_hand = MAX(ROUND(on_hand + ?, 6), 0) WHERE id = ?",
            (delta, lot_id),
        )
        cur = conn.execute(
            "INSERT INTO supply_moves (t_ms, kind, product_id, lot_id, bay_id, qty, who, reason, "
            "order_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self.db.t_ms(), kind, product_id, lot_id, bay_id, delta, who, reason, order_id),
        )
        return inserted_id(cur)

    def _check_place(
        self, conn: sqlite3.Connection, product_id: int, bay_id: int, qty: float
    ) -> None:
        """Storage rules, bulk-in-silo, and silo/bay capacity for putting `qty` into a bay."""
        code, need, bulk = conn.execute(
            "SELECT code, storage, bulk FROM supply_products WHERE id = ?", (product_id,)
        ).fetchone()
        bay, kind, capacity, offers = conn.execute(
            "SELECT b.code, b.kind, b.capacity, z.storage FROM supply_bays b "
            "JOIN supply_zones z ON z.id = b.zone_id WHERE b.id = ?",
            (bay_id,),
        ).fetchone()
        missing = storage_tags(need) - storage_tags(offers)
        if missing:
            raise InputError(
                f"product {code} needs storage {', '.join(sorted(missing))}, which bay {bay} "
                f"does not offer ({offers or 'no storage tags'})"
            )
        if bool(bulk) != (kind == "silo"):
            rule = (
                "bulk products go into silos only" if bulk else "only bulk products go into silos"
            )
            raise InputError(f"product {code} into {kind} {bay}: {rule}")
        if capacity is not None:
            held = conn.execute(
                "SELECT COALESCE(SUM(qty), 0) FROM supply_stock WHERE bay_id = ?", (bay_id,)
            ).fetchone()[0]
            if held + qty > capacity + EPS:
                raise StockError(
                    f"{kind} {bay} holds {held:g} of {capacity:g}; {qty:g} more does not fit"
                )

    def receive(
        self,
        product: str,
        lot_no: str,
        qty: float,
        bay: str,
        who: str,
        *,
        production: date | None = None,
        expiry: date | None = None,
        best_before: date | None = None,
        order_id: int | None = None,
    ) -> int:
        """Book goods in: find or create the lot (expiry from shelf life when not given).

        Returns the lot id.
        """
        q = qty_value(qty)
        who = name_value(who, "who")
        with self.db.write() as conn:
            return self.receive_in(
                conn, product, lot_no, q, bay, who, production, expiry, best_before, order_id
            )

    def receive_in(
        self,
        conn: sqlite3.Connection,
        product: str,
        lot_no: str,
        q: float,
        bay: str,
        who: str,
        production: date | None,
        expiry: date | None,
        best_before: date | None,
        order_id: int | None,
    ) -> int:
        """Book a checked quantity in (find or create the lot, check the place); the lot id."""
        lot_id, pid = self._lot_for_receipt(conn, product, lot_no, production, expiry, best_before)
        bay_id = self.db.bay_id(bay)
        self._check_place(conn, pid, bay_id, q)
        self.move(conn, "receipt", lot_id, pid, bay_id, q, who, "", order_id)
        return lot_id

    def check_issuable(
        self,
        conn: sqlite3.Connection,
        lot_id: int,
        manager: str | None,
        override_reason: str | None,
    ) -> tuple[str, str] | None:
        """Refuse recalled/quarantined lots; an expired one only with a manager's override.

        Returns (manager, reason) when an override was used.
        """
        _, _, lot_no, expiry, _, status = self.db.lot_row(lot_id)
        if status in ("recalled", "quarantine"):
            raise LotBlockedError(f"lot {lot_no} is {status}; it cannot be issued")
        expired = status == "expired" or (expiry is not None and expiry <= iso(self.db.today()))
        if not expired:
            return None
        if manager is None or not (override_reason or "").strip():
            raise LotBlockedError(
                f"lot {lot_no} expired on {expiry}; issuing it needs a manager's override "
                "with a reason"
            )
        role = conn.execute("SELECT role FROM supply_people WHERE name = ?", (manager,)).fetchone()
        if role is None or role[0] != "manager":
            raise LotBlockedError(
                f"{manager!r} is not a registered manager; only managers may issue expired lot "
                f"{lot_no}"
            )
        return manager, override_reason.strip()  # type: ignore[union-attr]

    def record_override(
        self, conn: sqlite3.Connection, lot_id: int, move_id: int, override: tuple[str, str]
    ) -> None:
        """Record a manager's (manager, reason) override of an expired lot with its move."""
        conn.execute(
            "INSERT INTO supply_overrides (t_ms, lot_id, move_id, manager, reason) "
            "VALUES (?, ?, ?, ?, ?)",
            (self.db.t_ms(), lot_id, move_id, *override),
        )

    def issue(
        self,
        lot_id: int,
        bay: str,
        qty: float,
        who: str,
        reason: str = "",
        *,
        manager: str | None = None,
        override_reason: str | None = None,
    ) -> int:
        """Book goods out of a bay (free stock only). Returns the move id.

        An expired lot is refused unless `manager` (a registered manager) gives
        `override_reason`; the override is recorded with the move.
        """
        q = qty_value(qty)
        who = name_value(who, "who")
        with self.db.write() as conn:
            _, pid, *_ = self.db.lot_row(lot_id)
            override = self.check_issuable(conn, lot_id, manager, override_reason)
            move_id = self.move(conn, "issue", lot_id, pid, self.db.bay_id(bay), -q, who, reason)
            if override:
                self.record_override(conn, lot_id, move_id, override)
            return move_id

    def transfer(self, lot_id: int, from_bay: str, to_bay: str, qty: float, who: str) -> None:
        """Move stock of a lot from one bay to another (two ledger rows, one transaction)."""
        q = qty_value(qty)
        who = name_value(who, "who")
        if from_bay == to_bay:
            raise InputError(f"transfer from bay {from_bay} to itself; give two different bays")
        with self.db.write() as conn:
            _, pid, *_ = self.db.lot_row(lot_id)
            src, dst = self.db.bay_id(from_bay), self.db.bay_id(to_bay)
            self._check_place(conn, pid, dst, q)
            self.move(conn, "transfer", lot_id, pid, src, -q, who, f"to {to_bay}")
            self.move(conn, "transfer", lot_id, pid, dst, q, who, f"from {from_bay}")

    def adjust(self, lot_id: int, bay: str, delta: float, who: str, reason: str) -> int:
        """Correct a count (stocktake): signed `delta`, a reason is required."""
        try:
            d = round(float(delta), DECIMALS)
        except (TypeError, ValueError):
            raise InputError(f"adjustment {delta!r} is not a number") from None
        if d == 0 or not math.isfinite(d) or abs(d) > MAX_QTY:
            raise InputError(
                f"adjustment must be a non-zero number of at most {MAX_QTY:g}, got {delta}"
            )
        who = name_value(who, "who")
        reason = name_value(reason, "adjustment reason")
        with self.db.write() as conn:
            _, pid, *_ = self.db.lot_row(lot_id)
            bay_id = self.db.bay_id(bay)
            if d > 0:
                self._check_place(conn, pid, bay_id, d)
            return self.move(conn, "adjustment", lot_id, pid, bay_id, d, who, reason)

    def scrap(self, lot_id: int, bay: str, qty: float, who: str, reason: str) -> int:
        """Write stock off (spoiled, expired, damaged): any lot status, reason required."""
        q = qty_value(qty)
        who = name_value(who, "who")
        reason = name_value(reason, "scrap reason")
        with self.db.write() as conn:
            _, pid, *_ = self.db.lot_row(lot_id)
            return self.move(conn, "scrap", lot_id, pid, self.db.bay_id(bay), -q, who, reason)

    # ---- reading ----------------------------------------------------------------------------

    def on_hand(
        self, product: str | None = None, *, lot_id: int | None = None, bay: str | None = None
    ) -> float:
        """On-hand quantity (allocated included) of a product, a lot and/or a bay."""
        where, args = [], []
        if product is not None:
            where.append("product_id = ?")
            args.append(self.db.product_id(product))
        if lot_id is not None:
            where.append("lot_id = ?")
            args.append(lot_id)
        if bay is not None:
            where.append("bay_id = ?")
            args.append(self.db.bay_id(bay))
        sql = "SELECT COALESCE(SUM(qty), 0) FROM supply_stock"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return round(float(self.db.conn.execute(sql, args).fetchone()[0]), DECIMALS)

    def ledger_sum(self, lot_id: int, bay: str | None = None) -> float:
        """The sum of a lot's ledger moves (in one bay): what on-hand must equal."""
        sql = "SELECT COALESCE(SUM(qty), 0) FROM supply_moves WHERE lot_id = ?"
        args: list = [lot_id]
        if bay is not None:
            sql += " AND bay_id = ?"
            args.append(self.db.bay_id(bay))
        return round(float(self.db.conn.execute(sql, args).fetchone()[0]), DECIMALS)

    def check_balances(self) -> list[tuple[int, int, float, float]]:
        """Where balances and ledger differ: (lot id, bay id, balance, ledger sum) per lot and bay,
        and (lot id, None, lot on-hand, sum of its bays) per lot. Empty when all agree."""
        rows = self.db.conn.execute(
            "WITH led AS (SELECT lot_id, bay_id, ROUND(SUM(qty), 6) AS s FROM supply_moves "
            "GROUP BY lot_id, bay_id) "
            "SELECT led.lot_id, led.bay_id, COALESCE(st.qty, 0), led.s FROM led "
            "LEFT JOIN supply_stock st ON st.lot_id = led.lot_id AND st.bay_id = led.bay_id "
            "WHERE ABS(COALESCE(st.qty, 0) - led.s) > 1e-6 "
            "UNION ALL SELECT st.lot_id, st.bay_id, st.qty, 0 FROM supply_stock st "
            "WHERE NOT EXISTS (SELECT 1 FROM supply_moves m WHERE m.lot_id = st.lot_id "
            "AND m.bay_id = st.bay_id)"
        ).fetchall()
        lots = self.db.conn.execute(
            "SELECT l.id, NULL, l.on_hand, COALESCE(SUM(s.qty), 0) AS st FROM supply_lots l "
            "LEFT JOIN supply_stock s ON s.lot_id = l.id GROUP BY l.id "
            "HAVING ABS(l.on_hand - st) > 1e-6"
        ).fetchall()
        return [tuple(r) for r in rows] + [tuple(r) for r in lots]

    def stock(self, product: str | None = None) -> list[StockLine]:
        """On-hand per lot and bay, earliest expiry first."""
        where, args = (
            ("WHERE s.product_id = ?", (self.db.product_id(product),)) if product else ("", ())
        )
        rows = self.db.conn.execute(
            "SELECT p.code, l.id, l.lot_no, b.code, s.qty, s.allocated, l.expiry_date, l.status "
            "FROM supply_stock s JOIN supply_lots l ON l.id = s.lot_id "
            "JOIN supply_products p ON p.id = s.product_id JOIN supply_bays b ON b.id = s.bay_id "
            f"{where} ORDER BY p.code, l.expiry_date IS NULL, l.expiry_date, l.id, b.code",
            args,
        ).fetchall()
        return [StockLine(*(*r[:6], to_date(r[6]), r[7])) for r in rows]

    def moves(self, lot_id: int | None = None, limit: int | None = None) -> list[Move]:
        """Ledger rows (of one lot), oldest first."""
        sql = (
            "SELECT m.id, m.t_ms, m.kind, p.code, m.lot_id, b.code, m.qty, m.who, m.reason, "
            "m.order_id FROM supply_moves m JOIN supply_products p ON p.id = m.product_id "
            "JOIN supply_bays b ON b.id = m.bay_id"
        )
        args: list = []
        if lot_id is not None:
            sql += " WHERE m.lot_id = ?"
            args.append(lot_id)
        sql += " ORDER BY m.id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        return [Move(*r) for r in self.db.conn.execute(sql, args).fetchall()]

    def overrides(self, lot_id: int) -> list[tuple[int, int | None, str, str]]:
        """(t_ms, move id, manager, reason) of every expired-lot override of a lot."""
        return self.db.conn.execute(
            "SELECT t_ms, move_id, manager, reason FROM supply_overrides WHERE lot_id = ? "
            "ORDER BY id",
            (lot_id,),
        ).fetchall()
