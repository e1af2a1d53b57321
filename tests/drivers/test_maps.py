from pathlib import Path

import pytest

from drivers.errors import MapError
from drivers.nodes import DEFAULT_NODES_PATH, load_nodes
from drivers.regmap import MAPS_DIR, load_map


def reg(name: str, table: str = "input", address: int = 0, kind: str = "int16", extra: str = ""):
    """TOML text of one register entry."""
    return f'[registers.{name}]\ntable = "{table}"\naddress = {address}\ntype = "{kind}"\n{extra}'


GOOD_ENTRY = '[registers.tair_c]\ntable = "input"\naddress = 0\ntype = "int16"\nscale = 0.1\n'


def test_shipped_maps_load_with_expected_registers():
    sht = load_map(MAPS_DIR / "sht20.toml")
    assert [(e.signal, e.table, e.address, e.scale) for e in sht.entries] == [
        ("tair_c", "input", 1, 0.1),
        ("rh_pct", "input", 2, 0.1),
    ]
    s8 = load_map(MAPS_DIR / "senseair_s8.toml")
    assert [(e.signal, e.address, e.scale) for e in s8.entries] == [("co2_ppm", 3, 1.0)]
    act = load_map(MAPS_DIR / "actuator_node.toml")
    writable = [e for e in act.entries if e.writable]
    assert len(writable) == 10
    assert all(e.lo is not None and e.hi is not None and e.safe is not None for e in writable)
    assert act.entry("vent_lee_pct").safe == 5.0


def test_default_nodes_file_describes_three_nodes_in_few_requests():
    cfg = load_nodes()
    assert cfg.path == DEFAULT_NODES_PATH
    assert [(n.name, n.slave) for n in cfg.nodes] == [
        ("climate", 1),
        ("weather", 2),
        ("actuators", 3),
    ]
    blocks = {n.name: [(b.table, b.address, b.count) for b in n.regmap.blocks()] for n in cfg.nodes}
    assert blocks == {
        "climate": [("input", 0, 4)],
        "weather": [("input", 0, 7)],
        "actuators": [("input", 0, 2), ("holding", 0, 10)],
    }
    assert cfg.bus.baudrate == 19200


def _write(tmp_path: Path, text: str, name: str = "m.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (
            '[registers.tair_x]\ntable = "input"\naddress = 0\ntype = "int16"\n',
            "registers.tair_x",
            "unknown signal",
        ),
        (
            GOOD_ENTRY + '[registers.rh_pct]\ntable = "input"\naddress = 0\ntype = "uint16"\n',
            "registers.rh_pct.address",
            "already used by tair_c",
        ),
        (
            GOOD_ENTRY
            + reg("rh_pct", address=1, kind="float32")
            + reg("co2_ppm", address=2, kind="uint16"),
            "registers.co2_ppm.address",
            "register 2 already used by rh_pct",
        ),
        (
            '[registers.tair_c]\ntable = "input"\naddress = 0\ntype = "int16"\nscale = 0\n',
            "registers.tair_c.scale",
            "impossible",
        ),
        (
            '[registers.tair_c]\ntable = "input"\naddress = 0\ntype = "int16"\nscale = nan\n',
            "registers.tair_c.scale",
            "finite",
        ),
        (
            '[registers.tair_c]\ntable = "input"\naddress = 0\ntype = "int24"\n',
            "registers.tair_c.type",
            "unknown",
        ),
        (
            '[registers.tair_c]\ntable = "coils"\naddress = 0\ntype = "int16"\n',
            "registers.tair_c.table",
            "unknown",
        ),
        (
            '[registers.tair_c]\ntable = "input"\naddress = 0\ntype = "int16"\nwritable = true\n',
            "registers.tair_c.writable",
            "only holding",
        ),
        (
            reg("vent_lee_pct", "holding", kind="uint16", extra="writable = true\nhi = 150\n"),
            "registers.vent_lee_pct.hi",
            "150.0 outside vent_lee_pct's range 0.0..100.0",
        ),
        (
            reg("vent_lee_pct", "holding", extra="scale = 0.001\nwritable = true\n"),
            "registers.vent_lee_pct.hi",
            "does not fit int16",
        ),
        (
            reg("pipe_sp_c", "holding", kind="float32", extra="scale = 1e-40\nwritable = true\n"),
            "registers.pipe_sp_c.hi",
            "does not fit float32",
        ),
        (
            reg("vent_lee_pct", "holding", extra="writable = true\nlo = 50\nhi = 10\n"),
            "registers.vent_lee_pct.lo",
            "lo 50.0 is above hi 10.0",
        ),
        (
            '[registers.tair_c]\ntable = "input"\naddress = 0\ntype = "int16"\nscael = 0.1\n',
            "registers.tair_c.scael",
            "unknown key",
        ),
        ("[registers]\n", "registers", "at least one"),
    ],
)
def test_bad_map_is_refused_with_one_line_naming_file_and_key(tmp_path, text, key, words):
    path = _write(tmp_path, text)
    with pytest.raises(MapError) as info:
        load_map(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {key}: ")
    assert words in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            '[nodes.a]\nslave = 1\nmap = "sht20.toml"\n'
            + '[nodes.b]\nslave = 1\nmap = "senseair_s8.toml"\n',
            "nodes.b.slave",
        ),
        ('[nodes.a]\nslave = 300\nmap = "sht20.toml"\n', "nodes.a.slave"),
        ('[nodes.a]\nslave = 1\nmap = "nothere.toml"\n', "nodes.a.map"),
        ('[bus]\nparity = "X"\n[nodes.a]\nslave = 1\nmap = "sht20.toml"\n', "bus.parity"),
        ('[bus]\nbaud = 9600\n[nodes.a]\nslave = 1\nmap = "sht20.toml"\n', "bus.baud"),
        ('[bus]\ntimeout_s = -1\n[nodes.a]\nslave = 1\nmap = "sht20.toml"\n', "bus.timeout_s"),
    ],
)
def test_bad_nodes_file_is_refused(tmp_path, text, key):
    path = _write(tmp_path, text, "nodes.toml")
    with pytest.raises(MapError, match=rf"^{path}: {key}: "):
        load_nodes(path)


def test_nodes_file_finds_map_next_to_it_first(tmp_path):
    _write(tmp_path, GOOD_ENTRY, "sht20.toml")  # shadows the shipped sht20 map
    path = _write(tmp_path, '[nodes.a]\nslave = 7\nmap = "sht20.toml"\n', "nodes.toml")
    cfg = load_nodes(path)
    assert cfg.nodes[0].regmap.entries[0].address == 0
    assert cfg.bus.port is None
