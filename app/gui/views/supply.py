"""Supply: orders board by state, pick list for the loader, lots with expiry colours, alerts,
reorder suggestions, and a scanner field for GS1-128 intake.

Every call goes through `supply.service.SupplyService`, one service per worker call (a service
holds one connection and must stay on its thread).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
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

from app.gui.common import ErrorLine
from app.gui.workers import run_in_worker

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
    products: list = field(default_factory=list)
    picks: dict = field(default_factory=dict)
    today: date | None = None


def parse_lines(text: str) -> list[tuple[str, float]]:
    """ "PIG-GROW=500; CO2=2" -> [("PIG-GROW", 500.0), ("CO2", 2.0)]."""
    out = []
    for part in text.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        code, sep, qty = part.partition("=")
        if not sep:
            raise ValueError(f"{part!r}: write PRODUCT=QUANTITY, e.g. PIG-GROW=500")
        try:
            out.append((code.strip(), float(qty)))
        except ValueError:
            raise ValueError(f"{part!r}: {qty.strip()!r} is not a quantity") from None
    if not out:
        raise ValueError("give at least one line: PRODUCT=QUANTITY")
    return out


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
        self.tabs = QTabWidget()
        outer.addWidget(self.tabs, stretch=1)
        self.tabs.addTab(self._orders_tab(), "Orders")
        self.tabs.addTab(self._loading_tab(), "Loading guidance")
        self.tabs.addTab(self._stock_tab(), "Lots and alerts")
        self.tabs.addTab(self._reorder_tab(), "Reorder")

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
        self.new_lines.setPlaceholderText("PRODUCT=QUANTITY; … e.g. PIG-GROW=500")
        self.new_lines.setToolTip("quantities in each product's unit (kg, piece, …)")
        create = QPushButton("Create &draft")
        create.clicked.connect(self.create_order)
        form.addRow("Kind", self.new_kind)
        form.addRow("Party", self.new_party)
        form.addRow("Lines", self.new_lines)
        form.addRow(create)
        low.addWidget(new, stretch=1)
        v.addLayout(low, stretch=1)
        return w

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

    def _call(self, method: str, *args, done_text: str = "", **kwargs) -> None:
        def work():
            with self._service() as s:
                return getattr(s, method)(*args, **kwargs)

        def ok(result):
            self.error.clear_error()
            if done_text:
                self.scan_result.setText(done_text.format(result=result))
            self.reload()

        run_in_worker(work, on_done=ok, on_error=self.error.show_error)

    # -- actions ---------------------------------------------------------------------------
    def create_order(self) -> None:
        """Create a draft order from the form."""
        try:
            lines = parse_lines(self.new_lines.text())
        except ValueError as exc:
            self.error.show_error(str(exc))
            return
        self._call(
            "create_order",
            self.new_kind.currentData(),
            self.new_party.text(),
            lines,
            self.who.text(),
        )

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
                    "A purchase order is delivered by receiving its goods: scan the labels "
                    "under Lots and alerts."
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
        for state, lst in self.columns.items():
            lst.blockSignals(True)
            lst.clear()
            for o in (o for o in st.orders if o.state == state):
                lines = ", ".join(
                    f"{ln.product} {ln.qty:g} {_unit(st, ln.product)}".rstrip() for ln in o.lines
                )
                item = QListWidgetItem(f"#{o.id} {o.kind} · {o.party}\n{lines}")
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
                s.status,
            ]
            p = st.products.get(s.product)
            bg = expiry_colour(s.expiry, p.alert_days if p else 0, today)
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if bg is not None:
                    item.setBackground(bg)
                    item.setForeground(QColor("black"))
                self.lots.setItem(i, j, item)
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
                item = QTableWidgetItem(text)
                if j == 1 and r.qty > 0:
                    item.setForeground(QColor("#d1242f"))
                self.reorder.setItem(i, j, item)
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

        while self.actions_row.count():
            w = self.actions_row.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.action_buttons: dict[str, QPushButton] = {}
        order = next((o for o in self.state.orders if o.id == self.selected_order), None)
        if order is None:
            self.detail.setText("Select an order on the board.")
            return
        lines = "<br>".join(
            f"{ln.product}: {ln.qty:g} "
            f"{self.state.products[ln.product].unit if ln.product in self.state.products else ''}"
            for ln in order.lines
        )
        self.detail.setText(
            f"<b>#{order.id} {order.kind} order · {order.party}</b> ({order.state})<br>{lines}"
        )
        for target in TRANSITIONS[order.kind].get(order.state, ()):
            b = QPushButton(ACTIONS.get(target, target))
            b.setToolTip(f"move the order from {order.state} to {target}")
            b.clicked.connect(lambda _=False, t=target, oid=order.id: self.transition(oid, t))
            self.actions_row.addWidget(b)
            self.action_buttons[target] = b

    def _show_picks(self) -> None:
        oid = self.picking_order()
        if oid is None:
            self.pick_title.setText("No order is being picked.")
            self.pick_table.setRowCount(0)
            self.pick_done.setEnabled(False)
            return
        order = next(o for o in self.state.orders if o.id == oid)
        lines = self.state.picks.get(oid, [])
        self.pick_title.setText(f"Order #{oid} for {order.party}: {len(lines)} stops")
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
