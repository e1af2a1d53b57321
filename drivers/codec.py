"""Conversion between engineering values and 16-bit Modbus registers.

A value is stored as `raw * scale + offset`, where `raw` is an int16, uint16 or float32 spread over
one or two registers. Float32 word order differs between vendors: "big" sends the high word first
(ABCD), "little" the low word first (CDAB).
"""

from __future__ import annotations

import math
import struct

#: Register types a map may use, with the number of registers each one occupies.
TYPE_WIDTHS: dict[str, int] = {"int16": 1, "uint16": 1, "float32": 2}
WORD_ORDERS: tuple[str, ...] = ("big", "little")

_INT_RANGES = {"int16": (-32768, 32767), "uint16": (0, 65535)}
FLOAT32_MAX = 3.4028234663852886e38


def encode(
    value: float,
    kind: str,
    scale: float = 1.0,
    offset: float = 0.0,
    word_order: str = "big",
    saturate: bool = False,
) -> list[int]:
    """Return the registers holding `value`; out-of-range raw values raise unless `saturate`."""
    if not math.isfinite(value):
        raise ValueError(f"cannot encode non-finite value {value!r}")
    raw = (value - offset) / scale
    if kind == "float32":
        if not abs(raw) <= FLOAT32_MAX:
            if not saturate:
                raise ValueError(f"value {value} needs raw {raw:g}, outside the float32 range")
            raw = math.copysign(FLOAT32_MAX, raw)
        hi_word, lo_word = struct.unpack(">HH", struct.pack(">f", raw))
        return [hi_word, lo_word] if word_order == "big" else [lo_word, hi_word]
    lo, hi = _INT_RANGES[kind]
    n = round(raw)
    if not lo <= n <= hi:
        if not saturate:
            raise ValueError(f"value {value} needs raw {n}, outside {kind} range {lo}..{hi}")
        n = min(max(n, lo), hi)
    return [n & 0xFFFF]


def decode(
    registers: list[int] | tuple[int, ...],
    kind: str,
    scale: float = 1.0,
    offset: float = 0.0,
    word_order: str = "big",
) -> float:
    """Return the engineering value stored in `registers` (one or two 16-bit words)."""
    if kind == "float32":
        first, second = registers[0], registers[1]
        hi_word, lo_word = (first, second) if word_order == "big" else (second, first)
        raw = struct.unpack(">f", struct.pack(">HH", hi_word, lo_word))[0]
    elif kind == "int16":
        word = registers[0]
        raw = word - 0x10000 if word & 0x8000 else word
    else:
        raw = registers[0]
    value = raw * scale + offset
    # 1790 * 0.01 is 17.900000000000002 in binary; integers carry no more than 10 decimals.
    return value if kind == "float32" else round(value, 10)
