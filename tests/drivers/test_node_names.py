"""Node names are checked at load against the store's column rule, so a node is never polled
and then silently not recorded."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.cli import main
from drivers.errors import MapError
from drivers.nodes import NODE_NAME, NODE_NAME_MAX, load_nodes
from drivers.poller import BusPoller
from drivers.signals import SIGNALS
from store.db import channel_name_ok


def _store_takes_columns_of(node: str) -> bool:
    # The columns the control loop's recorder makes from a node name (controllers/loop.py).
    columns = [f"h_{node}.ok", f"h_{node}.consecutive_failures"]
    return all(channel_name_ok(c) for c in columns)


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


def test_nodes_differing_only_in_case_are_refused_they_would_share_columns(tmp_path):
    path = tmp_path / "nodes.toml"
    path.write_text(
        '[nodes.North]\nslave = 1\nmap = "sht20.toml"\n'
        '[nodes.north]\nslave = 2\nmap = "sht20.toml"\n',
        encoding="utf-8",
    )
    with pytest.raises(MapError, match="differs from 'North' only in case") as err:
        load_nodes(path)
    assert "\n" not in str(err.value)


def test_serra_poll_refuses_the_bad_name_with_one_line_and_exit_2(tmp_path, capsys):
    path = _nodes_file(tmp_path, "sht 20 north")
    assert main(["poll", "--nodes", str(path), "--port", "loop://", "--once"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nodes.sht 20 north" in err and "_ . : -" in err


def _map_text(signals: list[str]) -> str:
    return "".join(
        f'[registers.{s}]\ntable = "input"\naddress = {i}\ntype = "uint16"\n\n'
        for i, s in enumerate(signals)
    )


@pytest.fixture(scope="module")
def scratch_store(tmp_path_factory):
    from store.db import open_store

    with open_store(tmp_path_factory.mktemp("columns") / "serra.db") as store:
        yield store


class _RollbackError(Exception):
    pass


@settings(max_examples=40, deadline=None)
@given(
    nodes=st.lists(
        st.tuples(
            st.from_regex(NODE_NAME, fullmatch=True),
            st.lists(st.sampled_from(sorted(SIGNALS)), min_size=1, max_size=6, unique=True),
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda n: n[0].casefold(),  # the loader refuses case-only twins
    )
)
@example(nodes=[("climate", ["tair_c"]), ("a" * NODE_NAME_MAX, ["screen_blackout_pct"])])
@example(nodes=[("n1", ["par_umol_m2_s"]), ("x:y.z-" * 16, ["par_umol_m2_s"])])
def test_every_channel_the_poller_keys_for_a_valid_nodes_file_is_a_store_column(
    nodes, scratch_store
):
    """Whatever valid nodes file a grower writes (any node names, any signals, the same signal
    on several nodes), each reading key, with the columns the recorder makes from it and from
    the node names, is a column the store adds: nothing polled goes unrecorded."""
    from controllers.records import TickRecord
    from store.recorder import tick_row

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "nodes.toml"
        text = ""
        for slave, (name, signals) in enumerate(nodes, start=1):
            (Path(folder) / f"map{slave}.toml").write_text(_map_text(signals), encoding="utf-8")
            text += f'[nodes."{name}"]\nslave = {slave}\nmap = "map{slave}.toml"\n'
        path.write_text(text, encoding="utf-8")
        bus = BusPoller(load_nodes(path), "loop://")
    keys = list(bus.readings())
    assert len(keys) == sum(len(s) for _, s in nodes)  # one key per node and signal
    health = {}
    for name, _ in nodes:  # as controllers/loop.py names a node's health
        health[f"{name}.ok"] = 1.0
        health[f"{name}.consecutive_failures"] = 0.0
    record = TickRecord(
        time_s=0.0,
        measurements=dict.fromkeys(keys, 1.0),
        quality=dict.fromkeys(keys, "good"),
        setpoints={},
        commands={},
        readbacks={},
        health=health,
    )
    columns = list(tick_row(record)[2])
    assert all(channel_name_ok(c) for c in columns), columns
    try:  # the store's own check, on a real file (rolled back: every example starts empty)
        with scratch_store.write():
            scratch_store.ensure_columns(columns)
            raise _RollbackError
    except _RollbackError:
        pass
