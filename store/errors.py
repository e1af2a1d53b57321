"""The exceptions of the store: one root, `StoreError`."""

from __future__ import annotations


class StoreError(Exception):
    """Root of every store error; the message is one line saying what was wrong."""


class SchemaError(StoreError):
    """The database's schema cannot be used by this Serra (newer, or not a Serra database)."""


class RecordingError(StoreError):
    """Records could not be written; they are kept in a bounded queue and retried."""


class TimeOrderError(RecordingError):
    """A record was refused because it goes back in time (another timeline); not kept."""


class CsvImportError(StoreError):
    """A CSV file was refused; the message names the row and the column."""


class QueryError(StoreError):
    """A query asked for something the store does not have (unknown channel, bad range)."""
