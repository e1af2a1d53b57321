"""Control-loop speed: overhead per tick excluding bus time, and one simulated day end to end.

Run: .venv/bin/python bench/bench_loop.py [--ticks N] [--transport pty|socket]

The virtual greenhouse device (real plant physics) is served in this process over a pty or
socket:// and polled by the real BusPoller; device, poller and loop share one manual clock, so
nothing waits: each tick takes exactly the software time of poll + decide + write + record.

- Loop overhead = tick time minus the time spent in bus transactions (poll and write): strategy
  (every 5 plant minutes), climate computer, safety, alarms, overrides and building the record.
  The recorder here keeps nothing, so the figure is the loop's own cost (target < 5 ms).
- One simulated day = 1440 ticks of 60 plant seconds over the serial link at full speed (the
  device's plant physics included, since it runs when a request arrives).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from controllers.clock import ManualClock, PlantClock  # noqa: E402
from controllers.grower_rules import GrowerRules  # noqa: E402
from controllers.loop import ControlLoop  # noqa: E402
from drivers.nodes import load_nodes  # noqa: E402
from drivers.poller import BusPoller  # noqa: E402
from sim.device_server import PtyServer, TcpServer  # noqa: E402
from sim.plant import Plant  # noqa: E402
from sim.virtual_device import VirtualDevice  # noqa: E402


class NullRecorder:
    """A recorder that keeps nothing: the bench measures the loop, not the store."""

    dropped_ticks = 0  # nothing is ever refused

    def record_tick(self, record) -> None:
        """Drop the tick."""

    def record_event(self, event) -> None:
        """Drop the event."""

    def restore(self):
        """Nothing to resume from."""
        return None

    def flush(self) -> None:
        """Nothing to flush."""

    def close(self) -> None:
        """Nothing to close."""


def run_day(transport: str, ticks: int) -> dict[str, float]:
    """Run `ticks` ticks of 60 plant seconds; return timing figures in ms and s."""
    clock = ManualClock(1000.0)
    plant = Plant()
    plant.advance(1.0)
    device = VirtualDevice(plant, speed=60.0, clock=clock, watchdog_s=0.0)
    server = (PtyServer(device) if transport == "pty" else TcpServer(device)).start()
    cfg = load_nodes()
    cfg = dataclasses.replace(cfg, bus=dataclasses.replace(cfg.bus, timeout_s=0.2))
    bus = BusPoller(cfg, server.address, clock=clock, sleep=clock.sleep)
    loop = ControlLoop(
        bus,
        GrowerRules(),
        NullRecorder(),
        plant_clock=PlantClock(plant.time_s, 60.0, clock),
        clock=clock,
        sleep=clock.sleep,
        tick_s=1.0,
    )
    try:
        loop.start()
        loop.tick()  # warm-up: first strategy call, numba dispatch
        overhead, bus_s = [], []
        t0 = time.perf_counter()
        for _ in range(ticks):
            clock.advance(1.0)
            loop.tick()
            overhead.append(loop.last_overhead_s)
            bus_s.append(loop.last_bus_s)
        wall = time.perf_counter() - t0
        loop.shutdown()
    finally:
        bus.close()
        server.stop()
    overhead.sort()
    return {
        "overhead_mean_ms": statistics.fmean(overhead) * 1e3,
        "overhead_p99_ms": overhead[int(0.99 * (len(overhead) - 1))] * 1e3,
        "overhead_max_ms": overhead[-1] * 1e3,
        "bus_mean_ms": statistics.fmean(bus_s) * 1e3,
        "wall_s": wall,
        "plant_days": ticks * 60.0 / 86400.0,
    }


def main() -> int:
    """Print the figures for each transport."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=1440, help="ticks of 60 plant s (1 day)")
    parser.add_argument("--transport", choices=("pty", "socket", "both"), default="both")
    args = parser.parse_args()
    kinds = ("pty", "socket") if args.transport == "both" else (args.transport,)
    for kind in kinds:
        r = run_day(kind, args.ticks)
        print(
            f"{kind:6}  loop overhead per tick (excl. bus): mean {r['overhead_mean_ms']:.2f} ms, "
            f"p99 {r['overhead_p99_ms']:.2f} ms, max {r['overhead_max_ms']:.2f} ms "
            f"(target < 5 ms)"
        )
        print(
            f"{kind:6}  bus per tick {r['bus_mean_ms']:.2f} ms; {r['plant_days']:g} simulated "
            f"day(s) over the virtual serial link in {r['wall_s']:.2f} s wall"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
