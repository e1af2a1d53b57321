"""Node names are checked at load against the store's column rule, so a node is never polled
and then silently not recorded."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.cli import main
from drivers.errors import MapError
from drivers.nodes import NODE_NAME, NODE_NAME_MAX, load_nodes
from store.db import _CHANNEL_NAME as STORE_CHANNEL_NAME


def _store_takes_columns_of(node: str) -> bool:
    # The columns the control loop's recorder makes from a node name (controllers/loop.py).
    columns = [f"h_{node}.ok", f"h_{node}.consecutive_failures"]
    return all(STORE_CHANNEL_NAME.match(c) for c in columns)


@given(st.text(max_size=130) | st.text("ab_.:-9 @é\n/", max_size=130))
@example("sht 20 north")
@example("sht20_north")
@example("a" * NODE_NAME_MAX)
@example("a" * (NODE_NAME_MAX + 1))
@example("north\n")
@example("")
def test_drivers_and_store_accept_the_same_node_names(name):
    if name:
        assert bool(NODE_NAME.fullmatch(name)) == _store_takes_columns_of(name)
    else:  # "h_.ok" is a column the store takes, but a node needs a name
        assert not NODE_NAME.fullmatch(name)


def _nodes_file(tmp_path, name: str):
    path = tmp_path / "nodes.toml"
    path.write_text(f'[nodes."{name}"]\nslave = 1\nmap = "sht20.toml"\n', encoding="utf-8")
    return path


def test_node_name_with_spaces_is_refused_at_load_naming_file_node_and_characters(tmp_path):
    path = _nodes_file(tmp_path, "sht 20 north")
    with pytest.raises(MapError) as err:
        load_nodes(path)
    message = str(err.value)
    assert message == (
        f"{path}: nodes.sht 20 north: node name 'sht 20 north' cannot name a database column; "
        f"use 1-{NODE_NAME_MAX} letters, digits and _ . : - (no spaces)"
    )
    assert load_nodes(_nodes_file(tmp_path, "sht20-north.2")).nodes[0].name == "sht20-north.2"


def test_serra_poll_refuses_the_bad_name_with_one_line_and_exit_2(tmp_path, capsys):
    path = _nodes_file(tmp_path, "sht 20 north")
    assert main(["poll", "--nodes", str(path), "--port", "loop://", "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nodes.sht 20 north" in err and "_ . : -" in err
