"""Feed and input orders, stock lots, FEFO, expiry, reorder. Arrives with the supply issue."""
