"""The exceptions of supply: one root, `SupplyError`; every message is one line."""

from __future__ import annotations


class SupplyError(Exception):
    """Root of every supply error: bad input, unknown key, refused move. Nothing was changed."""


class InputError(SupplyError):
    """A value is not allowed (zero or negative quantity, bad date, empty name, ...)."""


class NotFoundError(SupplyError):
    """An unknown product, lot, bay, order or person."""


class TransitionError(SupplyError):
    """An order cannot move from its state to the asked one."""


class StockError(SupplyError):
    """Not enough stock (it would go negative, over-allocation) or a full silo."""


class LotBlockedError(SupplyError):
    """The lot may not be issued: expired without a manager's override, recalled, quarantined."""


class BarcodeError(SupplyError):
    """A scanned GS1-128 code could not be read; the message says which part and why."""
