"""Register maps: which canonical signal lives in which Modbus register of a node type.

A map is a TOML file, one per node type (see docs/drivers.md). Loading validates everything up
front, so a bad map is refused with one line naming the file and the key instead of failing later
on the bus.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.codec import TYPE_WIDTHS, WORD_ORDERS, encode
from drivers.errors import MapError
from drivers.signals import SIGNALS

MAPS_DIR = Path(__file__).parent / "maps"
TABLES: tuple[str, ...] = ("input", "holding")
#: Modbus function code that reads each table.
READ_FUNCTION: dict[str, int] = {"input": 4, "holding": 3}
MAX_READ_COUNT = 125

_NODE_KEYS = {"type", "description", "word_order", "max_gap"}
_ENTRY_KEYS = {
    "table",
    "address",
    "type",
    "scale",
    "offset",
    "word_order",
    "writable",
    "lo",
    "hi",
    "safe",
}


@dataclass(frozen=True)
class Entry:
    """One signal in a map: where it lives, how it is encoded, and (for commands) its bounds."""

    signal: str
    table: str
    address: int
    kind: str
    scale: float = 1.0
    offset: float = 0.0
    word_order: str = "big"
    writable: bool = False
    lo: float | None = None
    hi: float | None = None
    safe: float | None = None

    @property
    def width(self) -> int:
        """Number of 16-bit registers the value occupies."""
        return TYPE_WIDTHS[self.kind]

    @property
    def unit(self) -> str:
        """Unit of the canonical signal."""
        return SIGNALS[self.signal].unit


@dataclass(frozen=True)
class Identity:
    """A register that tells which device answers (a model code, type ID or serial number) and
    the value or range it must hold for the node to be the device its map describes."""

    what: str
    table: str
    address: int
    kind: str
    lo: float
    hi: float
    word_order: str = "big"

    @property
    def width(self) -> int:
        """Number of 16-bit registers the value occupies."""
        return TYPE_WIDTHS[self.kind]

    @property
    def expected(self) -> str:
        """The accepted value or range, as text."""
        return f"{self.lo:g}" if self.lo == self.hi else f"{self.lo:g}..{self.hi:g}"

    def matches(self, value: float) -> bool:
        """Whether `value` (the register decoded with scale 1) identifies the right device."""
        return self.lo <= value <= self.hi


@dataclass(frozen=True)
class Block:
    """A contiguous range of registers read with one request."""

    table: str
    address: int
    count: int
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class RegisterMap:
    """A validated register map of one node type."""

    node_type: str
    path: Path
    entries: tuple[Entry, ...]
    description: str = ""
    max_gap: int = 0
    identity: Identity | None = None

    def entry(self, signal: str) -> Entry:
        """Return the entry of `signal`, or raise MapError naming the map."""
        for e in self.entries:
            if e.signal == signal:
                return e
        raise MapError(f"{self.path}: no signal {signal!r} in map {self.node_type!r}")

    @property
    def signals(self) -> tuple[str, ...]:
        """Signals of this map in file order."""
        return tuple(e.signal for e in self.entries)

    def blocks(self) -> list[Block]:
        """Group entries into read requests: per table, adjacent (within max_gap) registers."""
        out: list[Block] = []
        for table in TABLES:
            group = sorted((e for e in self.entries if e.table == table), key=lambda e: e.address)
            current: list[Entry] = []
            for e in group:
                if current:
                    start = current[0].address
                    end = max(c.address + c.width for c in current)
                    fits = e.address + e.width - start <= MAX_READ_COUNT
                    if e.address - end <= self.max_gap and fits:
                        current.append(e)
                        continue
                    out.append(_block(table, current))
                current = [e]
            if current:
                out.append(_block(table, current))
        return out


def _block(table: str, entries: list[Entry]) -> Block:
    start = entries[0].address
    end = max(e.address + e.width for e in entries)
    return Block(table, start, end - start, tuple(entries))


def resolve_map_path(name: str | Path, relative_to: Path | None = None) -> Path:
    """Find a map file: as given, next to `relative_to`, or among the shipped maps."""
    p = Path(name)
    candidates = [p] if p.is_absolute() else []
    if not p.is_absolute():
        if relative_to is not None:
            candidates.append(relative_to / p)
        candidates += [p, MAPS_DIR / p, MAPS_DIR / f"{p}.toml"]
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0]


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The parsed TOML document at `path`; MapError naming the file if unreadable or invalid."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MapError(f"{path}: cannot read {what} ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise MapError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:
        raise MapError(f"{path}: not UTF-8 text; save the {what} as UTF-8") from None


def load_map(path: str | Path) -> RegisterMap:
    """Load and validate a register map TOML file; raise MapError with file and key if bad."""
    path = Path(path)
    return parse_map(read_toml(path, "register map"), path)


def parse_map(doc: dict[str, Any], path: Path) -> RegisterMap:
    """Validate a parsed map document; `path` is only used in error messages."""

    def fail(key: str, problem: str) -> MapError:
        return MapError(f"{path}: {key}: {problem}")

    unknown = set(doc) - {"node", "registers", "identity"}
    if unknown:
        raise fail(
            sorted(unknown)[0],
            "unknown section; allowed: [node], [identity], [registers.<signal>]",
        )
    node = doc.get("node", {})
    if not isinstance(node, dict):
        raise fail("node", "must be a table")
    for key in node:
        if key not in _NODE_KEYS:
            raise fail(f"node.{key}", f"unknown key; allowed: {', '.join(sorted(_NODE_KEYS))}")
    node_type = node.get("type", path.stem)
    if not isinstance(node_type, str) or not node_type:
        raise fail("node.type", "must be a non-empty string")
    default_order = node.get("word_order", "big")
    if default_order not in WORD_ORDERS:
        raise fail("node.word_order", f"{default_order!r} unknown; allowed: big, little")
    max_gap = node.get("max_gap", 0)
    if not isinstance(max_gap, int) or isinstance(max_gap, bool) or not 0 <= max_gap <= 100:
        raise fail("node.max_gap", f"{max_gap!r} must be an integer 0..100")
    registers = doc.get("registers")
    if not isinstance(registers, dict) or not registers:
        raise fail("registers", "a map needs at least one [registers.<signal>] table")

    entries = [
        _parse_entry(name, spec, f"registers.{name}", default_order, fail)
        for name, spec in registers.items()
    ]
    _check_overlaps(entries, fail)
    identity = None
    if "identity" in doc:
        identity = _parse_identity(doc["identity"], default_order, fail)
        _check_overlaps([*entries, identity], fail)
    return RegisterMap(
        node_type=node_type,
        path=path,
        entries=tuple(entries),
        description=str(node.get("description", "")),
        max_gap=max_gap,
        identity=identity,
    )


_IDENTITY_KEYS = {"what", "table", "address", "type", "word_order", "value", "lo", "hi"}


def _parse_identity(spec: Any, default_order: str, fail) -> Identity:
    if not isinstance(spec, dict):
        raise fail("identity", "must be a table")
    for key in spec:
        if key not in _IDENTITY_KEYS:
            raise fail(
                f"identity.{key}", f"unknown key; allowed: {', '.join(sorted(_IDENTITY_KEYS))}"
            )
    what = spec.get("what", "identity register")
    if not isinstance(what, str) or not what:
        raise fail("identity.what", 'must say what the register holds, e.g. "model code"')
    table = spec.get("table")
    if table not in TABLES:
        raise fail("identity.table", f"{table!r} unknown; allowed: input, holding")
    address = spec.get("address")
    if not isinstance(address, int) or isinstance(address, bool) or not 0 <= address <= 65535:
        raise fail("identity.address", f"{address!r} must be an integer 0..65535")
    kind = spec.get("type", "uint16")
    if kind not in TYPE_WIDTHS:
        raise fail("identity.type", f"{kind!r} unknown; allowed: {', '.join(TYPE_WIDTHS)}")
    if address + TYPE_WIDTHS[kind] > 65536:
        raise fail("identity.address", f"{kind} at {address} runs past register 65535")
    order = spec.get("word_order", default_order)
    if order not in WORD_ORDERS:
        raise fail("identity.word_order", f"{order!r} unknown; allowed: big, little")
    if "value" in spec:
        if "lo" in spec or "hi" in spec:
            raise fail("identity.value", "give either value or lo and hi, not both")
        lo = hi = _number(spec, "value", "identity", fail, None)
    elif "lo" in spec and "hi" in spec:
        lo = _number(spec, "lo", "identity", fail, None)
        hi = _number(spec, "hi", "identity", fail, None)
        if lo > hi:
            raise fail("identity.lo", f"lo {lo:g} is above hi {hi:g}")
    else:
        raise fail("identity", "needs the expected value, or lo and hi for a range")
    return Identity(what, table, address, kind, lo, hi, order)


def _number(spec: dict[str, Any], key: str, where: str, fail, default: float | None) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"{where}.{key}", f"{value!r} is not a number")
    if not math.isfinite(value):
        raise fail(f"{where}.{key}", f"{value!r} must be finite")
    return float(value)


def _parse_entry(name: str, spec: Any, where: str, default_order: str, fail) -> Entry:
    if name not in SIGNALS:
        raise fail(where, f"unknown signal {name!r}; see drivers/signals.py for canonical names")
    if not isinstance(spec, dict):
        raise fail(where, "must be a table")
    for key in spec:
        if key not in _ENTRY_KEYS:
            raise fail(f"{where}.{key}", f"unknown key; allowed: {', '.join(sorted(_ENTRY_KEYS))}")
    table = spec.get("table")
    if table not in TABLES:
        raise fail(f"{where}.table", f"{table!r} unknown; allowed: input, holding")
    address = spec.get("address")
    if not isinstance(address, int) or isinstance(address, bool) or not 0 <= address <= 65535:
        raise fail(f"{where}.address", f"{address!r} must be an integer 0..65535")
    kind = spec.get("type")
    if kind not in TYPE_WIDTHS:
        raise fail(f"{where}.type", f"{kind!r} unknown; allowed: {', '.join(TYPE_WIDTHS)}")
    if address + TYPE_WIDTHS[kind] > 65536:
        raise fail(f"{where}.address", f"{kind} at {address} runs past register 65535")
    scale = _number(spec, "scale", where, fail, 1.0)
    if scale == 0.0:
        raise fail(f"{where}.scale", "scale 0 is impossible; use a finite non-zero factor")
    offset = _number(spec, "offset", where, fail, 0.0)
    order = spec.get("word_order", default_order)
    if order not in WORD_ORDERS:
        raise fail(f"{where}.word_order", f"{order!r} unknown; allowed: big, little")
    writable = spec.get("writable", False)
    if not isinstance(writable, bool):
        raise fail(f"{where}.writable", f"{writable!r} must be true or false")
    if writable and table != "holding":
        raise fail(f"{where}.writable", "only holding registers can be written")
    sig = SIGNALS[name]
    bounds: dict[str, float | None] = {"lo": None, "hi": None, "safe": None}
    for key in bounds:
        if key in spec:
            if not writable:
                raise fail(f"{where}.{key}", "bounds only apply to writable entries")
            bounds[key] = _number(spec, key, where, fail, None)
    if writable:
        lo = bounds["lo"] if bounds["lo"] is not None else sig.lo
        hi = bounds["hi"] if bounds["hi"] is not None else sig.hi
        for key, value in (("lo", lo), ("hi", hi)):
            if not sig.lo <= value <= sig.hi:
                raise fail(f"{where}.{key}", f"{value} outside {name}'s range {sig.lo}..{sig.hi}")
        if lo > hi:
            raise fail(f"{where}.lo", f"lo {lo} is above hi {hi}")
        safe = bounds["safe"]
        if safe is not None and not lo <= safe <= hi:
            raise fail(f"{where}.safe", f"safe value {safe} must lie within bounds {lo}..{hi}")
        for key, value in (("lo", lo), ("hi", hi)):
            try:
                encode(value, kind, scale, offset, order)
            except ValueError:
                raise fail(
                    f"{where}.{key}", f"{value} does not fit {kind} with scale {scale}"
                ) from None
        bounds.update(lo=lo, hi=hi)
    return Entry(
        signal=name,
        table=table,
        address=address,
        kind=kind,
        scale=scale,
        offset=offset,
        word_order=order,
        writable=writable,
        lo=bounds["lo"],
        hi=bounds["hi"],
        safe=bounds["safe"],
    )


def _check_overlaps(entries: Sequence[Entry | Identity], fail) -> None:
    for table in TABLES:
        used: dict[int, str] = {}
        for e in entries:
            if e.table != table:
                continue
            name = e.signal if isinstance(e, Entry) else "identity"
            key = f"registers.{name}.address" if isinstance(e, Entry) else "identity.address"
            for reg in range(e.address, e.address + e.width):
                if reg in used:
                    raise fail(
                        key,
                        f"{table} register {reg} already used by {used[reg]}; registers must "
                        "not overlap",
                    )
                used[reg] = name
