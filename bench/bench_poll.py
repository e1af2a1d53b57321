"""Poll-cycle speed: 8 nodes x 4 registers at 19200 baud through the virtual device.

Run: .venv/bin/python bench/bench_poll.py [--cycles N]

The device runs in its own process (`serra device`), as in a real set-up, and the master polls
it over a pseudo-terminal and over socket://. Neither carries baud-rate pacing: bytes move at
memory speed, so the measured time is the software cost of master and device together. On a real
RS-485 line that cost adds to the time the frames need on the wire (11 bits per byte and a
3.5-character silence before each frame). The figure compared with the 1.5x target is therefore
(wire time + measured software time) / wire time.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.nodes import load_nodes  # noqa: E402
from drivers.poller import BusPoller  # noqa: E402

BAUD = 19200
NODES = 8
REGISTERS = 4
BITS_PER_BYTE = 11


def wire_time_s(nodes: int = NODES, registers: int = REGISTERS, baud: int = BAUD) -> float:
    """Seconds one cycle of FC04 reads needs on a real line: frames plus 3.5-char gaps."""
    char_s = BITS_PER_BYTE / baud
    request = 8  # address, function, start (2), count (2), CRC (2)
    reply = 5 + 2 * registers  # address, function, byte count, data, CRC (2)
    per_node = (request + reply) * char_s + 2 * 3.5 * char_s
    return nodes * per_node


def _nodes_file(folder: Path) -> Path:
    text = f"[bus]\nbaudrate = {BAUD}\ntimeout_s = 0.5\nretries = 0\n"
    for slave in range(1, NODES + 1):
        text += f'\n[nodes.climate{slave}]\nslave = {slave}\nmap = "climate_node.toml"\n'
    path = folder / "bench_nodes.toml"
    path.write_text(text)
    return path


def _measure(where: list[str], nodes_path: Path, cycles: int, speed: float) -> tuple[float, float]:
    cmd = [
        sys.executable,
        "-m",
        "app",
        "device",
        *where,
        "--nodes",
        str(nodes_path),
        "--watchdog-s",
        "0",
        "--speed",
        str(speed),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        address = proc.stdout.readline().strip()
        poller = BusPoller(load_nodes(nodes_path), address)
        for _ in range(5):  # warm-up: connection, first plant step
            poller.poll_once()
        times = []
        for _ in range(cycles):
            t0 = time.perf_counter()
            poller.poll_once()
            times.append(time.perf_counter() - t0)
        ok = sum(h.ok for h in poller.health().values())
        poller.close()
        if ok != NODES * (cycles + 5):
            raise SystemExit(f"bench: only {ok} of {NODES * (cycles + 5)} reads succeeded")
        return statistics.median(times), max(times)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def main() -> int:
    """Measure and print the comparison; exit 1 if the 1.5x target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument(
        "--speed", type=float, default=1.0, help="plant seconds per wall second of the device"
    )
    args = parser.parse_args()
    wire = wire_time_s()
    print(
        f"{NODES} nodes x {REGISTERS} registers (FC04), {BAUD} baud, 8N1 = 11 bits/byte, "
        f"device speed {args.speed:g}"
    )
    print(f"wire time per cycle (frames + 3.5-char gaps): {wire * 1e3:.1f} ms")
    transports = [["--listen", "socket://127.0.0.1:0"]]
    if hasattr(os, "openpty"):
        transports.insert(0, ["--pty"])
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        nodes_path = _nodes_file(Path(tmp))
        for where in transports:
            median, peak = _measure(where, nodes_path, args.cycles, args.speed)
            ratio = (wire + median) / wire
            worst = max(worst, ratio)
            name = "pty" if where == ["--pty"] else "socket://"
            print(
                f"{name:10} software time per cycle: median {median * 1e3:.2f} ms "
                f"(max {peak * 1e3:.2f} ms) = {median / wire:.2f} x wire; "
                f"projected on a real line: {(wire + median) * 1e3:.1f} ms = {ratio:.2f} x wire"
            )
    verdict = "within" if worst <= 1.5 else "MISSES"
    print(f"{verdict} the 1.5 x wire-time target (worst {worst:.2f} x)")
    return 0 if worst <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
