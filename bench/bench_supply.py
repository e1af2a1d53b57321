"""Supply speed: on-hand, FEFO allocation and the expiry alert scan on a large stock.

Builds a database with 100,000 lots and 1,000,000 ledger moves (1,000 products, 100 lots each,
one receipt and nine issues per lot, balances kept consistent), then times the service calls.
Targets (issue 6): on-hand and a FEFO allocation each under 50 ms, the alert scan under 200 ms.

    .venv/bin/python bench/bench_supply.py [--lots N] [--moves-per-lot K] [--db FILE]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from supply.model import Bay
from supply.service import SupplyService

TODAY = date(2026, 3, 1)
T0_MS = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)


def build(svc: SupplyService, n_lots: int, moves_per_lot: int, n_products: int = 1000) -> None:
    """Fill the database directly (the service would fsync once per move: hours for 1M)."""
    rng = random.Random(6)
    for z in range(10):
        for b in range(50):
            svc.save_bay(Bay(f"Z{z}-{b:02d}", "W1", f"Z{z}", sequence=b), storage="dry")
    conn = svc.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO supply_products (code, name, unit, pack_size, shelf_life_days, alert_days, "
        "removal_days, storage, lead_time_days, safety_stock) "
        "VALUES (?, ?, 'kg', 25, 180, 30, 7, 'dry', 5, 100)",
        [(f"P{i:04d}", f"Feed {i}") for i in range(n_products)],
    )
    lots, moves, stock = [], [], []
    per_product = max(n_lots // n_products, 1)
    for lot_id in range(1, n_lots + 1):
        pid = (lot_id - 1) // per_product % n_products + 1
        expiry = TODAY + timedelta(days=rng.randint(-60, 600))
        bay = rng.randint(1, 500)
        t = T0_MS + rng.randint(0, 300) * 86_400_000
        qty = 1000.0
        moves.append((t, "receipt", pid, lot_id, bay, qty, "bench", "", None))
        for _ in range(moves_per_lot - 1):
            take = float(rng.randint(1, 50))
            t += rng.randint(1, 5) * 3_600_000
            moves.append((t, "issue", pid, lot_id, bay, -take, "bench", "", None))
            qty -= take
        stock.append((lot_id, bay, pid, qty))
        lots.append(
            (lot_id, pid, f"L{lot_id}", (expiry - timedelta(days=180)).isoformat(),
             expiry.isoformat(), expiry.isoformat(), (expiry - timedelta(days=7)).isoformat(),
             (expiry - timedelta(days=30)).isoformat(), T0_MS, qty)
        )  # fmt: skip
        if len(moves) >= 200_000:
            _flush(conn, lots, moves, stock)
    _flush(conn, lots, moves, stock)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")


def _flush(conn, lots: list, moves: list, stock: list) -> None:
    conn.executemany(
        "INSERT INTO supply_lots (id, product_id, lot_no, production_date, expiry_date, "
        "best_before_date, removal_date, alert_date, created_ms, on_hand) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        lots,
    )
    conn.executemany(
        "INSERT INTO supply_moves (t_ms, kind, product_id, lot_id, bay_id, qty, who, reason, "
        "order_id) VALUES (?,?,?,?,?,?,?,?,?)",
        moves,
    )
    conn.executemany(
        "INSERT INTO supply_stock (lot_id, bay_id, product_id, qty) VALUES (?,?,?,?)", stock
    )
    lots.clear()
    moves.clear()
    stock.clear()


def timed(fn, repeat: int = 15) -> tuple[float, object]:
    """Median wall time in ms of `fn()` over `repeat` calls, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the bench database, time the calls, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=100_000)
    parser.add_argument("--moves-per-lot", type=int, default=10)
    parser.add_argument("--db", help="keep the database here (reused when it exists)")
    args = parser.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    path = Path(args.db) if args.db else Path(tmp.name) / "bench.db"
    fresh = not path.exists()
    clock = lambda: datetime(2026, 3, 1, 9, tzinfo=UTC)  # noqa: E731
    svc = SupplyService(path, clock=clock)
    if fresh:
        t = time.perf_counter()
        build(svc, args.lots, args.moves_per_lot)
        print(f"built in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    n_lots = svc.conn.execute("SELECT COUNT(*) FROM supply_lots").fetchone()[0]
    n_moves = svc.conn.execute("SELECT COUNT(*) FROM supply_moves").fetchone()[0]
    svc.add_person("bench", "manager")

    ms_product, on_hand = timed(lambda: svc.on_hand("P0500"))
    ms_lot, _ = timed(lambda: svc.on_hand(lot_id=50_000))
    ms_ledger, ledger = timed(lambda: svc.ledger_sum(50_000))
    assert abs(svc.on_hand(lot_id=50_000) - ledger) < 1e-6, "balance differs from the ledger"
    ms_fefo, fefo = timed(lambda: svc.fefo("P0500"))

    def allocate() -> int:
        order = svc.create_order("customer", "bench farm", [("P0500", 1500)], "bench")
        t = time.perf_counter()
        svc.confirm(order, "bench")
        alloc_ms.append((time.perf_counter() - t) * 1000)
        return order

    alloc_ms: list[float] = []
    for _ in range(15):
        order = allocate()
    picks = svc.pick_list(order)
    ms_alloc = statistics.median(alloc_ms)
    ms_alerts, alerts = timed(lambda: svc.alerts(), repeat=5)
    ms_buckets, _ = timed(lambda: svc.expiry_buckets(), repeat=5)
    ms_reorder, _ = timed(lambda: svc.reorder(history_days=90), repeat=1)

    print(f"database: {n_lots:,} lots, {n_moves:,} moves")
    print(f"on-hand of a product ({on_hand:,.0f} kg)        {ms_product:8.2f} ms   target < 50")
    print(f"on-hand of a lot                              {ms_lot:8.2f} ms   target < 50")
    print(f"ledger sum of a lot (check)                   {ms_ledger:8.2f} ms")
    print(f"FEFO candidates of a product ({len(fefo)} rows)      {ms_fefo:8.2f} ms")
    print(
        f"FEFO allocation, confirm 1500 kg ({len(picks)} picks)  {ms_alloc:8.2f} ms   target < 50"
        " (incl. durable commit)"
    )
    print(f"expiry alert scan ({len(alerts):,} alerts)          {ms_alerts:8.2f} ms   target < 200")
    print(f"expiry buckets, all stock                     {ms_buckets:8.2f} ms")
    print(f"reorder suggestions, 1,000 products           {ms_reorder:8.2f} ms")
    svc.close()
    ok = ms_product < 50 and ms_lot < 50 and ms_alloc < 50 and ms_alerts < 200
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
