"""Feed and input supply: catalogue, bays and silos, lots with expiry, the stock ledger, orders,
FEFO allocation and pick lists, expiry alerts, recalls, reorder suggestions, GS1-128 intake.

Start with `supply.service.SupplyService(path)`. `supply` imports only `store`.
"""
