"""Nodes files: the port settings of one bus and which nodes (slave id + map) sit on it."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from drivers.errors import MapError
from drivers.regmap import MAPS_DIR, RegisterMap, load_map, read_toml, resolve_map_path

DEFAULT_NODES_PATH = MAPS_DIR / "virtual_greenhouse.toml"
PARITIES = ("N", "E", "O", "M", "S")

#: The longest column the control loop's recorder makes from a node name,
#: `h_<node>.consecutive_failures`, must stay within the store's 120 characters.
NODE_NAME_MAX = 120 - len("h_.consecutive_failures")
NODE_NAME = re.compile(rf"[A-Za-z0-9_.:\-]{{1,{NODE_NAME_MAX}}}")
"""A node name the store can use inside a column name: the characters of the store's channel
rule (`store/db.py` `channel_name_ok`: letters, digits and _ . : -), short enough for the longest
column built from it, and not empty. `tests/drivers/test_node_names.py` checks that both rules
agree."""


@dataclass(frozen=True)
class BusConfig:
    """Port settings and polling policy of one bus (one master per port)."""

    port: str | None = None
    baudrate: int = 19200
    bytesize: int = 8
    parity: str = "N"
    stopbits: float = 1
    timeout_s: float = 0.3
    retries: int = 2
    retry_delay_s: float = 0.05
    pacing_s: float = 0.0
    stale_after_failures: int = 3
    max_age_s: float = 60.0
    reopen_backoff_s: float = 0.5
    reopen_backoff_max_s: float = 30.0


@dataclass(frozen=True)
class NodeConfig:
    """One slave on the bus: its name, address and register map."""

    name: str
    slave: int
    regmap: RegisterMap


@dataclass(frozen=True)
class NodesConfig:
    """A bus and its nodes, as loaded from a nodes file."""

    bus: BusConfig
    nodes: tuple[NodeConfig, ...]
    path: Path | None = None

    def node(self, name: str) -> NodeConfig:
        """Return the node called `name`."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise MapError(f"{self.path}: no node {name!r}; nodes: {[n.name for n in self.nodes]}")


_LIMITS: dict[str, tuple[float, float]] = {
    "baudrate": (50, 4_000_000),
    "bytesize": (5, 8),
    "timeout_s": (0.001, 60.0),
    "retries": (0, 10),
    "retry_delay_s": (0.0, 10.0),
    "pacing_s": (0.0, 10.0),
    "stale_after_failures": (1, 1000),
    "max_age_s": (0.001, 1e7),
    "reopen_backoff_s": (0.001, 3600.0),
    "reopen_backoff_max_s": (0.001, 3600.0),
}


def load_nodes(path: str | Path | None = None) -> NodesConfig:
    """Load a nodes file (default: the virtual greenhouse's) and every map it names."""
    path = Path(path) if path is not None else DEFAULT_NODES_PATH
    return parse_nodes(read_toml(path, "nodes file"), path)


def parse_nodes(doc: dict[str, Any], path: Path) -> NodesConfig:
    """Validate a parsed nodes document; maps are resolved relative to `path`'s folder."""

    def fail(key: str, problem: str) -> MapError:
        return MapError(f"{path}: {key}: {problem}")

    unknown = set(doc) - {"bus", "nodes"}
    if unknown:
        raise fail(sorted(unknown)[0], "unknown section; allowed: [bus], [nodes.<name>]")
    bus = _parse_bus(doc.get("bus", {}), fail)
    raw_nodes = doc.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        raise fail("nodes", "a nodes file needs at least one [nodes.<name>] table")
    nodes: list[NodeConfig] = []
    seen: dict[int, str] = {}
    folded: dict[str, str] = {}
    for name, spec in raw_nodes.items():
        where = f"nodes.{name}"
        if not NODE_NAME.fullmatch(name):
            raise fail(
                where,
                f"node name {name!r} cannot name a database column; use 1-{NODE_NAME_MAX} "
                "letters, digits and _ . : - (no spaces)",
            )
        # SQLite column names ignore case: two such nodes would share every column
        if name.casefold() in folded:
            raise fail(
                where,
                f"node name {name!r} differs from {folded[name.casefold()]!r} only in case; "
                "database columns ignore case, so give the nodes distinct names",
            )
        folded[name.casefold()] = name
        if not isinstance(spec, dict):
            raise fail(where, "must be a table with slave and map")
        for key in spec:
            if key not in ("slave", "map"):
                raise fail(f"{where}.{key}", "unknown key; allowed: slave, map")
        slave = spec.get("slave")
        if not isinstance(slave, int) or isinstance(slave, bool) or not 1 <= slave <= 247:
            raise fail(f"{where}.slave", f"{slave!r} must be a Modbus address 1..247")
        if slave in seen:
            raise fail(f"{where}.slave", f"address {slave} already used by node {seen[slave]}")
        seen[slave] = name
        map_name = spec.get("map")
        if not isinstance(map_name, str) or not map_name:
            raise fail(f"{where}.map", "must name a register map file")
        map_path = resolve_map_path(map_name, path.parent)
        if not map_path.is_file():
            raise fail(f"{where}.map", f"register map {map_name!r} not found")
        nodes.append(NodeConfig(name=name, slave=slave, regmap=load_map(map_path)))
    return NodesConfig(bus=bus, nodes=tuple(nodes), path=path)


def _parse_bus(spec: Any, fail) -> BusConfig:
    if not isinstance(spec, dict):
        raise fail("bus", "must be a table")
    allowed = {f.name for f in fields(BusConfig)}
    values: dict[str, Any] = {}
    for key, value in spec.items():
        where = f"bus.{key}"
        if key not in allowed:
            raise fail(where, f"unknown key; allowed: {', '.join(sorted(allowed))}")
        if key == "port":
            if not isinstance(value, str) or not value:
                raise fail(where, "must be a port name or pyserial URL")
        elif key == "parity":
            if value not in PARITIES:
                raise fail(where, f"{value!r} unknown; allowed: {', '.join(PARITIES)}")
        elif key == "stopbits":
            if value not in (1, 1.5, 2):
                raise fail(where, f"{value!r} unknown; allowed: 1, 1.5, 2")
        else:
            lo, hi = _LIMITS[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise fail(where, f"{value!r} is not a number")
            if not math.isfinite(value) or not lo <= value <= hi:
                raise fail(where, f"{value!r} outside {lo}..{hi}")
            if key in ("baudrate", "bytesize", "retries", "stale_after_failures"):
                if int(value) != value:
                    raise fail(where, f"{value!r} must be a whole number")
                value = int(value)
            else:
                value = float(value)
        values[key] = value
    return BusConfig(**values)
