"""Supply: orders board by state, pick list for the loader, lots with expiry colours, alerts,
reorder suggestions, a scanner field for GS1-128 intake, and the goods-in form of a confirmed
purchase order (lot, quantity, bay and dates per line).

Every call goes through `supply.service.SupplyService`, one service per worker call (a service
holds one connection and must stay on its thread).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.gui.common import ErrorLine, clear_layout
from app.gui.workers import run_in_worker
from app.pairs import split_pairs
from supply.model import Receipt

STATES = ("draft", "confirmed", "picking", "loaded", "delivered", "cancelled")
#: Button text of each transition target.
ACTIONS = {
    "confirmed": "Confirm (allocate FEFO)",
    "picking": "Start picking",
    "loaded": "Loaded",
    "delivered": "Delivered",
    "cancelled": "Cancel order",
}


@dataclass
class SupplyState:
    """Everything the view shows, read in one worker call."""

    orders: list = field(default_factory=list)
    stock: list = field(default_factory=list)
    alerts: list = field(default_factory=list)
    reorder: list = field(default_factory=list)
    bays: list = field(default_factory=list)
    products: dict = field(default_factory=dict)
    picks: dict = field(default_factory=dict)
    bay_storage: dict = field(default_factory=dict)
    today: date | None = None


class ReceiptFieldError(ValueError):
    """A goods-in field that cannot be booked; `field` names the input ("qty", "expiry", …)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


def parse_lines(text: str) -> list[tuple[str, float]]:
    """ "PIG-GROW=500; CO2=2" -> [("PIG-GROW", 500.0), ("CO2", 2.0)]."""
    out = []
    for code, qty in split_pairs(text, "PRODUCT=QUANTITY", "PIG-GROW=500"):
        try:
            out.append((code, float(qty)))
        except ValueError:
            raise ValueError(f"{code}={qty}: {qty!r} is not a quantity") from None
    if not out:
        raise ValueError("give at least one line: PRODUCT=QUANTITY")
    return out


def parse_day(text: str, what: str) -> date | None:
    """ "2026-06-30" -> date; empty -> None; anything else a one-line ValueError."""
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{what} {text!r} is not a date; write YYYY-MM-DD or leave it empty"
        ) from None


def parse_receipt(
    product: str,
    unit: str,
    lot_no: str,
    qty: str,
    bay: str | None,
    production: str = "",
    expiry: str = "",
) -> Receipt:
    """One goods-in line from the form's texts, or `ReceiptFieldError` naming the bad field."""
    lot_no = lot_no.strip()
    if not lot_no:
        raise ReceiptFieldError("lot", f"{product}: give the lot number from the label")
    unit_words = f" {unit}" if unit else ""
    try:
        q = float(qty.strip().replace(",", "."))
    except ValueError:
        raise ReceiptFieldError(
            "qty", f"{product}: quantity {qty.strip()!r} is not a number; give{unit_words} > 0"
        ) from None
    if not q > 0 or q == float("inf"):
        raise ReceiptFieldError(
            "qty", f"{product}: quantity must be more than 0{unit_words}, got {qty.strip()}"
        )
    if not bay:
        raise ReceiptFieldError("bay", f"{product}: choose the bay or silo the goods go into")
    try:
        made = parse_day(production, f"{product}: production date")
    except ValueError as exc:
        raise ReceiptFieldError("production", str(exc)) from None
    try:
        until = parse_day(expiry, f"{product}: expiry date")
    except ValueError as exc:
        raise ReceiptFieldError("expiry", str(exc)) from None
    if made is not None and until is not None and until < made:
        raise ReceiptFieldError("expiry", f"{product}: expiry {until} is before production {made}")
    return Receipt(product, lot_no, q, bay, made, until)


def parse_slot(start: str, end: str) -> tuple[str | None, str | None]:
    """Pick-up slot texts ("2026-03-02 08:00") -> ISO times ("2026-03-02T08:00"), both or none."""
    start, end = start.strip(), end.strip()
    if not start and not end:
        return None, None
    if not start or not end:
        raise ValueError("give the pick-up slot's start and end, or leave both empty")
    out = []
    for text, what in ((start, "start"), (end, "end")):
        try:
            out.append(datetime.fromisoformat(text).isoformat(timespec="minutes"))
        except ValueError:
            raise ValueError(
                f"pick-up slot {what} {text!r} is not a time; write YYYY-MM-DD HH:MM"
            ) from None
    if out[1] <= out[0]:
        raise ValueError(f"the pick-up slot ends ({end}) before it starts ({start})")
    return out[0], out[1]


def default_bay(product, st: SupplyState) -> str | None:
    """Where a product's goods go by default: a bay that holds it already, else the first bay
    whose zone offers its storage (a silo for bulk goods)."""
    if product is None:
        return None
    for s in st.stock:
        if s.product == product.code:
            return s.bay
    need = {t for t in product.storage.split(",") if t}
    for b in st.bays:
        if (b.kind == "silo") == product.bulk and need <= set(st.bay_storage.get(b.code, ())):
            return b.code
    return None


def expiry_colour(expiry: date | None, alert_days: int, today: date) -> QColor | None:
    """Red when expired, orange inside the product's alert time, yellow within 30 days."""
    if expiry is None:
        return None
    left = (expiry - today).days
    if left <= 0:
        return QColor("#f4a6a6")
    if left <= max(alert_days, 0):
        return QColor("#ffc98b")
    if left <= 30:
        return QColor("#fff1a8")
    return None


class SupplyView(QWidget):
    """The warehouse's window: orders, loading guidance, lots, alerts, reorder, scanner."""

    loaded = Signal()

    def __init__(self, db_path: str, clock=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from app.session import current_user

        self.db_path = db_path
        self.clock = clock
        self.state = SupplyState()
        self.selected_order: int | None = None
        outer = QVBoxLayout(self)
        self.error = ErrorLine()
        outer.addWidget(self.error)
        bar = QHBoxLayout()
        self.who = QLineEdit(current_user())
        self.who.setToolTip("who does it (recorded with every order step and stock move)")
        bar.addWidget(QLabel("Who"))
        bar.addWidget(self.who)
        refresh = QPushButton("&Refresh")
        refresh.clicked.connect(self.reload)
        bar.addWidget(refresh)
        bar.addStretch(1)
        outer.addLayout(bar)
        self.hint = QLabel(
            "No products yet. Import them from a CSV: <tt>serra supply import products "
            "products.csv</tt> (columns code, name, unit, pack_size, …), then your bays and silos: "
            "<tt>serra supply import bays bays.csv</tt>. See docs/supply.md for the columns."
        )
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint.setStyleSheet("font-size: 14px; padding: 8px;")
        self.hint.hide()
        outer.addWidget(self.hint)
        self.tabs = QTabWidget()
        outer.addWidget(self.tabs, stretch=1)
        self.tabs.addTab(self._orders_tab(), "Orders")
        self.tabs.addTab(self._loading_tab(), "Loading guidance")
        self.tabs.addTab(self._stock_tab(), "Lots and alerts")
        self.tabs.addTab(self._reorder_tab(), "Reorder")

    def _today(self) -> date:
        """Today at the site (the service's clock when one is given)."""
        return self.clock().date() if self.clock is not None else date.today()

    # -- tabs ------------------------------------------------------------------------------
    def _orders_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        board = QHBoxLayout()
        self.columns: dict[str, QListWidget] = {}
        for state in STATES:
            box = QGroupBox(state.capitalize())
            bv = QVBoxLayout(box)
            lst = QListWidget()
            lst.setToolTip(f"orders that are {state}; select one for its lines and next steps")
            lst.itemSelectionChanged.connect(lambda s=state: self._order_selected(s))
            bv.addWidget(lst)
            self.columns[state] = lst
            board.addWidget(box)
        v.addLayout(board, stretch=2)
        low = QHBoxLayout()
        detail = QGroupBox("Selected order")
        dv = QVBoxLayout(detail)
        self.detail = QLabel("Select an order on the board.")
        self.detail.setWordWrap(True)
        dv.addWidget(self.detail)
        self.actions_row = QHBoxLayout()
        dv.addLayout(self.actions_row)
        dv.addWidget(self._receive_box())
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("reason (needed to cancel)")
        dv.addWidget(self.reason)
        low.addWidget(detail, stretch=2)
        new = QGroupBox("New order")
        form = QFormLayout(new)
        self.new_kind = QComboBox()
        self.new_kind.addItem("customer (farmer's pick-up)", "customer")
        self.new_kind.addItem("purchase (from a supplier)", "purchase")
        self.new_party = QLineEdit()
        self.new_party.setToolTip("customer or supplier name")
        self.new_lines = QLineEdit()
        self.new_lines.setPlaceholderText("PRODUCT=QUANTITY; … e.g. CAN=500; RW-SLAB=240")
        self.new_lines.setToolTip("quantities in each product's unit (kg, piece, …)")
        today = self._today().isoformat()
        self.slot_start = QLineEdit()
        self.slot_start.setPlaceholderText(f"from {today} 08:00")
        self.slot_end = QLineEdit()
        self.slot_end.setPlaceholderText(f"until {today} 09:00")
        for edit in (self.slot_start, self.slot_end):
            edit.setToolTip("when the farmer comes to pick the order up (site-local time)")
        slot = QHBoxLayout()
        slot.addWidget(self.slot_start)
        slot.addWidget(self.slot_end)
        self.new_kind.currentIndexChanged.connect(self._kind_chosen)
        create = QPushButton("Create &draft")
        create.clicked.connect(self.create_order)
        form.addRow("Kind", self.new_kind)
        form.addRow("Party", self.new_party)
        form.addRow("Lines", self.new_lines)
        form.addRow("Pick-up", slot)
        form.addRow(create)
        low.addWidget(new, stretch=1)
        v.addLayout(low, stretch=1)
        return w

    def _receive_box(self) -> QGroupBox:
        """Goods in for a confirmed purchase order: one row of inputs per order line."""
        self.receive_box = QGroupBox("Receive goods")
        self.receive_box.setToolTip(
            "what arrived, from the delivery labels: it is booked into stock and the purchase "
            "order is marked delivered"
        )
        v = QVBoxLayout(self.receive_box)
        self.receive_grid = QGridLayout()
        v.addLayout(self.receive_grid)
        self.receive_error = ErrorLine()
        v.addWidget(self.receive_error)
        self.receive_button = QPushButton("&Book in and mark received")
        self.receive_button.clicked.connect(self.receive)
        v.addWidget(self.receive_button)
        self.receive_rows: list[dict] = []
        self.receive_order_id: int | None = None
        self.receive_box.hide()
        return self.receive_box

    def _kind_chosen(self, _i: int) -> None:
        customer = self.new_kind.currentData() == "customer"
        for w in (self.slot_start, self.slot_end):
            w.setEnabled(customer)

    def _loading_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.pick_title = QLabel("No order is being picked.")
        self.pick_title.setStyleSheet("font-size: 22px; font-weight: bold;")
        v.addWidget(self.pick_title)
        self.pick_table = QTableWidget(0, 4)
        self.pick_table.setHorizontalHeaderLabels(["Bay", "Lot", "Quantity", "Product"])
        self.pick_table.setStyleSheet("font-size: 30px;")
        self.pick_table.horizontalHeader().setStyleSheet("font-size: 18px;")
        self.pick_table.verticalHeader().setDefaultSectionSize(52)
        self.pick_table.horizontalHeader().setStretchLastSection(True)
        self.pick_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.pick_table.setToolTip("drive to each bay in this order and load the lot shown")
        v.addWidget(self.pick_table, stretch=1)
        self.pick_done = QPushButton("Order &loaded")
        self.pick_done.setStyleSheet("font-size: 24px; padding: 12px;")
        self.pick_done.setToolTip("all lines are on the trailer: book the stock out")
        self.pick_done.clicked.connect(lambda: self.transition(self.picking_order(), "loaded"))
        v.addWidget(self.pick_done)
        return w

    def _stock_tab(self) -> QWidget:
        w = QWidget()
        split = QSplitter()
        lay = QVBoxLayout(w)
        lay.addWidget(split)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(QLabel("Lots in stock (red expired, orange in alert time, yellow ≤ 30 d)"))
        self.lots = QTableWidget(0, 7)
        self.lots.setHorizontalHeaderLabels(
            ["Product", "Lot", "Bay", "On hand", "Allocated", "Expiry", "Status"]
        )
        self.lots.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        lv.addWidget(self.lots)
        scan = QGroupBox("Goods in by scanner (GS1-128)")
        sf = QFormLayout(scan)
        self.scan_bay = QComboBox()
        self.scan_bay.setToolTip("the bay or silo the goods go into")
        self.scan = QLineEdit()
        self.scan.setPlaceholderText("scan the label here, e.g. (01)09501101530003(10)L1(17)260630")
        self.scan.setToolTip("a scanner types the code and Enter; the receipt is booked at once")
        self.scan.returnPressed.connect(self.scan_entered)
        self.scan_result = QLabel("")
        sf.addRow("Into bay", self.scan_bay)
        sf.addRow("&Scan", self.scan)
        sf.addRow(self.scan_result)
        lv.addWidget(scan)
        split.addWidget(left)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addWidget(QLabel("Expiry alerts"))
        self.alerts = QListWidget()
        self.alerts.setToolTip("lots whose alert date is reached: use or sell them first")
        rv.addWidget(self.alerts)
        split.addWidget(right)
        return w

    def _reorder_tab(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.reorder = QTableWidget(0, 6)
        self.reorder.setHorizontalHeaderLabels(
            ["Product", "Order now", "Position", "Reorder point", "Demand per day", "Note"]
        )
        self.reorder.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.reorder.setToolTip(
            "reorder point = demand × lead time + safety stock; quantities in whole packs"
        )
        v.addWidget(self.reorder)
        return w

    # -- data ------------------------------------------------------------------------------
    def _service(self):
        from supply.service import SupplyService

        return SupplyService(self.db_path, clock=self.clock)

    def read_state(self) -> SupplyState:
        """Everything shown, in one call (worker)."""
        from pathlib import Path

        if not Path(self.db_path).exists():
            return SupplyState()
        with self._service() as s:
            st = SupplyState(
                orders=s.orders(),
                stock=s.stock(),
                alerts=s.alerts(),
                reorder=s.reorder(),
                bays=s.bays(),
                products={p.code: p for p in s.products()},
                today=s.today(),
            )
            st.bay_storage = {b.code: s.bay_storage(b.code) for b in st.bays}
            for o in st.orders:
                if o.state in ("confirmed", "picking"):
                    st.picks[o.id] = s.pick_list(o.id)
            return st

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        """Reload whenever the view is shown."""
        super().showEvent(event)
        self.reload()

    def reload(self) -> None:
        """Read the supply state (worker) and show it."""
        run_in_worker(self.read_state, on_done=self._show, on_error=self.error.show_error)

    def _call(
        self, method: str, *args, done_text: str = "", on_error=None, after=None, **kwargs
    ) -> None:
        def work():
            with self._service() as s:
                return getattr(s, method)(*args, **kwargs)

        def ok(result):
            self.error.clear_error()
            if after is not None:
                after()
            if done_text:
                self.scan_result.setText(done_text.format(result=result))
            self.reload()

        run_in_worker(work, on_done=ok, on_error=on_error or self.error.show_error)

    # -- actions ---------------------------------------------------------------------------
    def create_order(self) -> None:
        """Create a draft order from the form."""
        kind = self.new_kind.currentData()
        try:
            lines = parse_lines(self.new_lines.text())
            slot: tuple[str | None, str | None] = (None, None)
            if kind == "customer":
                slot = parse_slot(self.slot_start.text(), self.slot_end.text())
        except ValueError as exc:
            self.error.show_error(str(exc))
            return
        self._call(
            "create_order",
            kind,
            self.new_party.text(),
            lines,
            self.who.text(),
            slot_start=slot[0],
            slot_end=slot[1],
            after=self._clear_new_order,
        )

    def _clear_new_order(self) -> None:
        """Empty the new-order form once its draft is made (the kind stays)."""
        for edit in (self.new_party, self.new_lines, self.slot_start, self.slot_end):
            edit.clear()

    def receive(self) -> None:
        """Check the goods-in form in place, then book it (worker): lots in, order delivered."""
        order_id = self.receive_order_id
        if order_id is None:
            return
        for row in self.receive_rows:
            for w in row["inputs"].values():
                w.setStyleSheet("")
        receipts = []
        for row in self.receive_rows:
            try:
                receipts.append(
                    parse_receipt(
                        row["product"],
                        row["unit"],
                        row["inputs"]["lot"].text(),
                        row["inputs"]["qty"].text(),
                        row["inputs"]["bay"].currentData(),
                        row["inputs"]["production"].text(),
                        row["inputs"]["expiry"].text(),
                    )
                )
            except ReceiptFieldError as exc:
                bad = row["inputs"][exc.field]
                bad.setStyleSheet("border: 2px solid #d1242f;")
                bad.setFocus()
                self.receive_error.show_error(str(exc))
                return
        self.receive_error.clear_error()
        self.receive_button.setEnabled(False)

        def failed(message: str) -> None:
            self.receive_button.setEnabled(True)
            self.receive_error.show_error(message)

        self._call("receive_order", order_id, receipts, self.who.text(), on_error=failed)

    def transition(self, order_id: int | None, target: str) -> None:
        """Move an order to `target` through the service's state machine."""
        if order_id is None:
            self.error.show_error("Select an order first.")
            return
        who = self.who.text()
        if target == "confirmed":
            self._call("confirm", order_id, who)
        elif target == "picking":
            self._call("start_picking", order_id, who)
            self.tabs.setCurrentIndex(1)
        elif target == "loaded":
            self._call("load", order_id, who)
        elif target == "delivered":
            order = next((o for o in self.state.orders if o.id == order_id), None)
            if order is not None and order.kind == "purchase":
                self.error.show_error(
                    "A purchase order is delivered by receiving its goods: fill in Receive "
                    "goods under the selected order."
                )
                return
            self._call("deliver", order_id, who)
        elif target == "cancelled":
            self._call("cancel", order_id, who, self.reason.text())

    def scan_entered(self) -> None:
        """Book the scanned label into the chosen bay."""
        code = self.scan.text().strip()
        bay = self.scan_bay.currentData()
        if not code:
            return
        if bay is None:
            self.error.show_error("Add a bay or silo first: there is nowhere to put the goods.")
            return
        self.scan.clear()
        self._call(
            "intake_scan", code, bay, self.who.text(), done_text="Booked in: lot id {result}"
        )

    def picking_order(self) -> int | None:
        """The order being picked (the selected one if it is picking, else the oldest)."""
        picking = [o for o in self.state.orders if o.state == "picking"]
        if any(o.id == self.selected_order for o in picking):
            return self.selected_order
        return picking[0].id if picking else None

    # -- display ---------------------------------------------------------------------------
    def _show(self, st: SupplyState) -> None:
        self.state = st
        self.error.clear_error()
        self.hint.setVisible(not st.products)
        for state, lst in self.columns.items():
            lst.blockSignals(True)
            lst.clear()
            for o in (o for o in st.orders if o.state == state):
                lines = ", ".join(
                    f"{ln.product} {ln.qty:g} {_unit(st, ln.product)}".rstrip() for ln in o.lines
                )
                when = f"\npick-up {slot_words(o)}" if o.slot_start else ""
                item = QListWidgetItem(f"#{o.id} {o.kind} · {o.party}\n{lines}{when}")
                item.setData(Qt.ItemDataRole.UserRole, o.id)
                lst.addItem(item)
                if o.id == self.selected_order:
                    item.setSelected(True)
            lst.blockSignals(False)
        self._show_detail()
        self._show_picks()
        today = st.today or date.today()
        self.lots.setRowCount(len(st.stock))
        for i, s in enumerate(st.stock):
            unit = st.products[s.product].unit if s.product in st.products else ""
            cells = [
                s.product,
                s.lot_no,
                s.bay,
                f"{s.qty:g} {unit}",
                f"{s.allocated:g} {unit}",
                "–" if s.expiry is None else s.expiry.isoformat(),
                "expired" if s.expiry is not None and s.expiry <= today else s.status,
            ]
            p = st.products.get(s.product)
            bg = expiry_colour(s.expiry, p.alert_days if p else 0, today)
            for j, text in enumerate(cells):
                entry = QTableWidgetItem(text)
                if bg is not None:
                    entry.setBackground(bg)
                    entry.setForeground(QColor("black"))
                self.lots.setItem(i, j, entry)
        self.lots.resizeColumnsToContents()
        self.alerts.clear()
        for a in st.alerts:
            when = "EXPIRED" if a.expired else f"{a.days_left} days left"
            qty = f"{a.on_hand:g} {_unit(st, a.product)}".rstrip()
            self.alerts.addItem(f"{a.product} lot {a.lot_no}: {when}, {qty} on hand")
        self.reorder.setRowCount(len(st.reorder))
        for i, r in enumerate(st.reorder):
            unit = st.products[r.product].unit if r.product in st.products else ""
            cells = [
                r.product,
                f"{r.qty:g} {unit}",
                f"{r.position:g} {unit}",
                f"{r.reorder_point:g} {unit}",
                f"{r.daily_demand:.1f} {unit}/d",
                r.note,
            ]
            for j, text in enumerate(cells):
                entry = QTableWidgetItem(text)
                if j == 1 and r.qty > 0:
                    entry.setForeground(QColor("#d1242f"))
                self.reorder.setItem(i, j, entry)
        self.reorder.resizeColumnsToContents()
        current = self.scan_bay.currentData()
        self.scan_bay.clear()
        for b in st.bays:
            self.scan_bay.addItem(f"{b.code} ({b.warehouse}/{b.zone}, {b.kind})", b.code)
        if current is not None:
            self.scan_bay.setCurrentIndex(max(0, self.scan_bay.findData(current)))
        self.loaded.emit()

    def _order_selected(self, state: str) -> None:
        items = self.columns[state].selectedItems()
        if not items:
            return
        self.selected_order = items[0].data(Qt.ItemDataRole.UserRole)
        for other, lst in self.columns.items():
            if other != state:
                lst.blockSignals(True)
                lst.clearSelection()
                lst.blockSignals(False)
        self._show_detail()

    def select_order(self, order_id: int) -> None:
        """Select an order on the board (as a click would)."""
        self.selected_order = order_id
        self._show_detail()

    def _show_detail(self) -> None:
        from supply.orders import TRANSITIONS

        clear_layout(self.actions_row)
        self.action_buttons: dict[str, QPushButton] = {}
        order = next((o for o in self.state.orders if o.id == self.selected_order), None)
        if order is None:
            self.detail.setText("Select an order on the board.")
            self._show_receive(None)
            return
        lines = "<br>".join(
            f"{ln.product}: {ln.qty:g} "
            f"{self.state.products[ln.product].unit if ln.product in self.state.products else ''}"
            for ln in order.lines
        )
        when = f"<br>pick-up {slot_words(order)}" if order.slot_start else ""
        self.detail.setText(
            f"<b>#{order.id} {order.kind} order · {order.party}</b> ({order.state})<br>{lines}"
            f"{when}"
        )
        self._show_receive(order)
        for target in TRANSITIONS[order.kind].get(order.state, ()):
            if order.kind == "purchase" and target == "delivered":
                continue  # delivered by the Receive goods form, which books the lots in
            b = QPushButton(ACTIONS.get(target, target))
            b.setToolTip(f"move the order from {order.state} to {target}")
            b.clicked.connect(lambda _=False, t=target, oid=order.id: self.transition(oid, t))
            self.actions_row.addWidget(b)
            self.action_buttons[target] = b

    def _show_receive(self, order) -> None:
        """The goods-in form for a confirmed purchase order, prefilled from its lines; kept as
        typed while the same order stays selected."""
        if order is None or order.kind != "purchase" or order.state != "confirmed":
            self.receive_order_id = None
            self.receive_box.hide()
            return
        self.receive_box.setTitle(f"Receive goods of purchase order #{order.id}")
        self.receive_box.show()
        if self.receive_order_id == order.id and self.receive_rows:
            self._fill_bays()
            return
        self.receive_order_id = order.id
        self.receive_error.clear_error()
        self.receive_button.setEnabled(True)
        clear_layout(self.receive_grid)
        heads = ("Product", "Lot number", "Quantity", "", "Bay", "Production", "Expiry")
        for j, text in enumerate(heads):
            self.receive_grid.addWidget(QLabel(text), 0, j)
        self.receive_rows = []
        for i, ln in enumerate(order.lines, start=1):
            product = self.state.products.get(ln.product)
            unit = product.unit if product else ""
            lot = QLineEdit(f"PO{order.id}-{i}")
            lot.setToolTip("the supplier's lot number from the label (keep the suggestion if none)")
            qty = QLineEdit(f"{ln.qty:g}")
            qty.setToolTip(f"quantity that arrived, in {unit or 'the product unit'}")
            bay = QComboBox()
            bay.setToolTip("the bay or silo the goods go into")
            production = QLineEdit()
            production.setPlaceholderText("YYYY-MM-DD")
            production.setToolTip("production date from the label (optional)")
            expiry = QLineEdit()
            expiry.setPlaceholderText("YYYY-MM-DD")
            expiry.setToolTip(
                "expiry date from the label (optional: else production or today + shelf life)"
            )
            inputs = {
                "lot": lot,
                "qty": qty,
                "bay": bay,
                "production": production,
                "expiry": expiry,
            }
            row = {"product": ln.product, "unit": unit, "inputs": inputs}
            self.receive_rows.append(row)
            cells = (QLabel(ln.product), lot, qty, QLabel(unit), bay, production, expiry)
            for j, w in enumerate(cells):
                self.receive_grid.addWidget(w, i, j)
        self._fill_bays()

    def _fill_bays(self) -> None:
        for row in self.receive_rows:
            box = row["inputs"]["bay"]
            current = box.currentData() or default_bay(
                self.state.products.get(row["product"]), self.state
            )
            box.clear()
            for b in self.state.bays:
                box.addItem(b.code, b.code)
            box.setCurrentIndex(max(0, box.findData(current)))

    def _show_picks(self) -> None:
        oid = self.picking_order()
        if oid is None:
            self.pick_title.setText("No order is being picked.")
            self.pick_table.setRowCount(0)
            self.pick_done.setEnabled(False)
            return
        order = next(o for o in self.state.orders if o.id == oid)
        lines = self.state.picks.get(oid, [])
        stops = f"{len(lines)} stop" + ("" if len(lines) == 1 else "s")
        self.pick_title.setText(f"Order #{oid} for {order.party}: {stops}")
        self.pick_table.setRowCount(len(lines))
        for i, p in enumerate(lines):
            for j, text in enumerate((p.bay, p.lot_no, f"{p.qty:g} {p.unit}", p.product)):
                self.pick_table.setItem(i, j, QTableWidgetItem(text))
        self.pick_table.resizeColumnsToContents()
        self.pick_done.setEnabled(True)


def _unit(st: SupplyState, product: str) -> str:
    """The unit a product is counted in ('' when the product is unknown)."""
    p = st.products.get(product)
    return p.unit if p is not None else ""


def slot_words(order) -> str:
    """ "2026-03-02T08:00".."2026-03-02T09:00" -> "2026-03-02 08:00–09:00"."""
    start = (order.slot_start or "").replace("T", " ")
    end = (order.slot_end or "").replace("T", " ")
    if end[:10] == start[:10]:
        end = end[11:]
    return f"{start}–{end}" if end else start
