"""Expiry alerts and buckets, recalls, reorder suggestions and scanner intake."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from supply import gs1, reorder
from supply.catalogue import Catalogue
from supply.connection import DECIMALS, SupplyDb, iso, name_value, qty_value, to_date
from supply.dates import BUCKET_NAMES, bucket
from supply.errors import BarcodeError, InputError, NotFoundError
from supply.ledger import Ledger
from supply.model import Alert, Receiver
from supply.orders import Orders


class Reports:
    """What the stock needs: alerts, buckets, recalls, reorders; and goods in by scanner."""

    def __init__(self, db: SupplyDb, catalogue: Catalogue, ledger: Ledger, orders: Orders) -> None:
        self.db = db
        self.catalogue = catalogue
        self.ledger = ledger
        self.orders = orders

    def alerts(self, today: date | None = None) -> list[Alert]:
        """Lots in stock whose alert date is reached (expired ones included), soonest first."""
        day = today or self.db.today()
        # Only the partial alert index is read (lots in stock, covering); left alone SQLite
        # would walk the whole expiry index to save a sort. Joining product codes and sorting
        # here in Python is cheaper than in the query.
        rows = self.db.conn.execute(
            "SELECT l.expiry_date, l.id, l.product_id, l.lot_no, l.alert_date, l.on_hand "
            "FROM supply_lots l INDEXED BY supply_lots_alert "
            "WHERE l.alert_date <= ? AND l.on_hand > 0",
            (iso(day),),
        ).fetchall()
        rows.sort()
        codes = dict(self.db.conn.execute("SELECT id, code FROM supply_products").fetchall())
        dates: dict[str, date] = {}  # thousands of lots share a few hundred dates
        out = []
        for expiry, lot_id, product_id, lot_no, alert, qty in rows:
            exp = (
                None
                if expiry is None
                else dates.get(expiry) or dates.setdefault(expiry, date.fromisoformat(expiry))
            )
            days_left = None if exp is None else (exp - day).days
            out.append(
                Alert(
                    codes[product_id],
                    lot_id,
                    lot_no,
                    dates.get(alert) or dates.setdefault(alert, date.fromisoformat(alert)),
                    exp,
                    days_left,
                    qty,  # kept rounded to DECIMALS by every move
                    days_left is not None and days_left <= 0,
                )
            )
        return out

    def expiry_buckets(
        self, product: str | None = None, today: date | None = None
    ) -> dict[str, float]:
        """On-hand quantity per expiry bucket (expired, <=30, <=60, <=90, <=180, <=365 days...)."""
        day = today or self.db.today()
        where, args = (
            ("WHERE s.product_id = ?", [self.db.product_id(product)]) if product else ("", [])
        )
        out = dict.fromkeys(BUCKET_NAMES, 0.0)
        rows = self.db.conn.execute(
            "SELECT l.expiry_date, SUM(s.qty) FROM supply_stock s "
            f"JOIN supply_lots l ON l.id = s.lot_id {where} GROUP BY l.expiry_date",
            args,
        ).fetchall()
        for expiry, qty in rows:
            name = bucket(to_date(expiry), day)
            out[name] = round(out[name] + qty, DECIMALS)
        return out

    def expire_lots(self, who: str) -> list[int]:
        """Mark every available or quarantined lot past its expiry date as expired (recorded)."""
        who = name_value(who, "who")
        with self.db.write() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM supply_lots WHERE expiry_date <= ? "
                    "AND status IN ('available', 'quarantine')",
                    (iso(self.db.today()),),
                ).fetchall()
            ]
            for lot_id in ids:
                self.ledger.set_status(conn, lot_id, "expired", who, "expiry date reached")
            return ids

    def recall(self, lot_id: int, who: str, reason: str) -> list[Receiver]:
        """Mark a lot recalled, take it off open orders, and list everyone who received it.

        Open customer orders holding the lot lose that allocation; `allocate` (or
        `start_picking`) fills them again from other lots.
        """
        who = name_value(who, "who")
        reason = name_value(reason, "recall reason")
        with self.db.write() as conn:
            self.ledger.set_status(conn, lot_id, "recalled", who, reason)
        return self.receivers(lot_id)

    def receivers(self, lot_id: int) -> list[Receiver]:
        """Every customer order that took stock of this lot, with quantity and time."""
        self.db.lot_row(lot_id)
        rows = self.db.conn.execute(
            "SELECT o.id, o.party, ROUND(-SUM(m.qty), 6), MIN(m.t_ms) FROM supply_moves m "
            "JOIN supply_orders o ON o.id = m.order_id "
            "WHERE m.lot_id = ? AND m.kind = 'issue' AND o.kind = 'customer' "
            "GROUP BY o.id ORDER BY o.id",
            (lot_id,),
        ).fetchall()
        return [Receiver(*r) for r in rows]

    # ---- reorder ----------------------------------------------------------------------------

    def usable_free(self, product: str) -> float:
        """Stock that can still be sold: available, before removal date, not allocated."""
        return round(sum(free for _, _, free in self.orders.fefo(product)), DECIMALS)

    def on_order(self, product: str) -> float:
        """Quantity on confirmed purchase orders not yet received."""
        row = self.db.conn.execute(
            "SELECT COALESCE(SUM(ol.qty), 0) FROM supply_order_lines ol "
            "JOIN supply_orders o ON o.id = ol.order_id WHERE ol.product_id = ? "
            "AND o.kind = 'purchase' AND o.state = 'confirmed'",
            (self.db.product_id(product),),
        ).fetchone()
        return round(float(row[0]), DECIMALS)

    def demand_from_history(self, product: str, days: int = 90) -> float:
        """Mean daily issues of a product over the last `days` days (scrap excluded)."""
        if days <= 0:
            raise InputError(f"history window must be > 0 days, got {days}")
        now = self.db.t_ms()
        row = self.db.conn.execute(
            "SELECT COALESCE(-SUM(qty), 0) FROM supply_moves WHERE product_id = ? "
            "AND kind = 'issue' AND t_ms > ? AND t_ms <= ?",
            (self.db.product_id(product), now - days * 86_400_000, now),
        ).fetchone()
        return float(row[0]) / days

    def reorder(
        self,
        demand: Mapping[str, float] | None = None,
        *,
        history_days: int = 90,
        review_days: float = 14.0,
    ) -> list[reorder.Suggestion]:
        """A suggestion for every product: daily demand from `demand` (product code -> units per
        day, e.g. from `reorder.demand_from_livestock` or the greenhouse's use) or else from the
        consumption history."""
        demand = dict(demand or {})
        known = {p.code for p in self.catalogue.products()}
        unknown = sorted(set(demand) - known)
        if unknown:
            raise NotFoundError(f"unknown product {unknown[0]!r} in demand figures")
        out = []
        for p in self.catalogue.products():
            daily = demand.get(p.code)
            if daily is None:
                daily = self.demand_from_history(p.code, history_days)
            out.append(
                reorder.suggest(
                    product=p.code,
                    daily_demand=float(daily),
                    on_hand=self.usable_free(p.code),
                    on_order=self.on_order(p.code),
                    lead_time_days=p.lead_time_days,
                    safety_stock=p.safety_stock,
                    pack_size=p.pack_size,
                    max_stock=p.max_stock,
                    review_days=review_days,
                    shelf_life_days=p.shelf_life_days,
                    removal_days=p.removal_days,
                )
            )
        return out

    # ---- scanner ----------------------------------------------------------------------------

    def intake_scan(self, code: str, bay: str, who: str, qty: float | None = None) -> int:
        """Goods in from a scanned GS1-128 label: find the product by GTIN, find or create the
        lot, book the receipt. Returns the lot id.

        The quantity is `qty` when given, else the net weight (AI 310n) for products in kg, else
        the count (AI 37) times the pack size.
        """
        data = gs1.parse(code, self.db.today())
        if data.gtin is None:
            raise BarcodeError("the code has no GTIN (AI 01); scan the product's GS1-128 label")
        if data.lot is None:
            raise BarcodeError("the code has no lot number (AI 10); type the lot by hand")
        product = self.catalogue.product_by_gtin(data.gtin)
        if qty is None:
            if data.net_kg is not None and product.unit.lower() == "kg":
                qty = data.net_kg
            elif data.count is not None:
                qty = data.count * product.pack_size
            else:
                raise BarcodeError(
                    "the code carries no count (AI 37) or net weight in kg (AI 310n); "
                    "give the quantity"
                )
        q = qty_value(qty)
        who = name_value(who, "who")
        with self.db.write() as conn:
            return self.ledger.receive_in(
                conn,
                product.code,
                data.lot,
                q,
                bay,
                who,
                data.production,
                data.expiry,
                data.best_before,
                None,
            )
