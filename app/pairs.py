"""NAME=VALUE lists as people type them: `heat_c=21; co2_ppm=1000` or `PIG-GROW=500, CAN=2`."""

from __future__ import annotations


def split_pairs(text: str, form: str, example: str) -> list[tuple[str, str]]:
    """[(name, value)] of a ';'- or ','-separated list, in order, names and values stripped.

    Raises ValueError naming the part and the form to write (e.g. form "NAME=VALUE", example
    "heat_c=21") for a part without '=' or with an empty name or value. Empty parts are skipped.
    """
    pairs = []
    for part in text.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"{part!r}: write {form}, e.g. {example}")
        pairs.append((name.strip(), value.strip()))
    return pairs
