"""One-line wording of the csv module's errors, for the readers of weather and schedule files."""

from __future__ import annotations

import csv


def csv_error_text(exc: csv.Error) -> str:
    """What a `csv.Error` means to the person who wrote the file, without the module's jargon."""
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f"a cell longer than {csv.field_size_limit()} characters (an unclosed quote "
            "running on?); fix that cell"
        )
    return f"not readable as CSV ({text})"
