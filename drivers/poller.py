"""The bus poller: one master per port, every node read each cycle, values with quality.

Failures never escape a poll cycle: timeouts, CRC errors, replies from the wrong slave and
exception replies are counted per node, and the affected signals age into `stale`. A port that
vanishes is closed and reopened with exponential backoff measured on the injected clock, so tests
drive the whole policy without waiting.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import methodcaller

import serial

from drivers.codec import decode, encode
from drivers.errors import (
    BusError,
    DriverError,
    FrameError,
    NoResponseError,
    PortError,
    SlaveExceptionError,
    WriteRejectedError,
    WrongDeviceError,
    WrongSlaveError,
)
from drivers.nodes import NodeConfig, NodesConfig
from drivers.readings import NodeHealth, Quality, Reading
from drivers.regmap import READ_FUNCTION, Entry
from drivers.rtu import RtuMaster
from drivers.signals import SIGNALS, node_key
from drivers.transport import open_port

Clock = Callable[[], float]


@dataclass
class _SignalState:
    key: str
    node: NodeConfig
    entry: Entry
    value: float | None = None
    timestamp: float | None = None
    failures: int = 0
    # The value may not be used until the next good read: the node refused the register, or
    # the value read lies outside the signal's physical range. A failed read does not clear it.
    bad: bool = False


class BusPoller:
    """Polls every node of one bus and writes actuator commands through the same master.

    `port` overrides the nodes file's `bus.port`. `clock` returns seconds (timestamps, ages,
    reopen backoff); `sleep` waits between retries and requests; `opener` opens a port URL.
    Readings are keyed by signal name; when several nodes carry the same signal, the later ones
    are keyed `signal:node` (`drivers.signals.node_key`), a name the store takes as a column.
    """

    def __init__(
        self,
        config: NodesConfig,
        port: str | None = None,
        *,
        clock: Clock = time.time,
        sleep: Callable[[float], None] = time.sleep,
        opener: Callable[..., serial.SerialBase] = open_port,
    ) -> None:
        url = port or config.bus.port
        if not url:
            raise DriverError("no port given: pass a port URL or set bus.port in the nodes file")
        self.url = url
        self.config = config
        self.bus = config.bus
        self._clock = clock
        self._sleep = sleep
        self._opener = opener
        self._lock = threading.RLock()
        self._port: serial.SerialBase | None = None
        self._master: RtuMaster | None = None
        self._backoff = self.bus.reopen_backoff_s
        self._reopen_at: float | None = None
        self._sent_any = False
        self.opens = 0
        self.open_failures = 0
        self.last_port_error = ""
        self.cycles = 0
        self._health = {n.name: NodeHealth(slave=n.slave) for n in config.nodes}
        # Identity per node (maps with [identity]): None = still to check (at the first read and
        # after every open of the port), True = confirmed, False = another device answers.
        self._identity: dict[str, bool | None] = {n.name: None for n in config.nodes}
        self._checked_in_cycle: set[str] = set()
        self._states: list[_SignalState] = []
        taken: set[str] = set()
        for node in config.nodes:
            for entry in node.regmap.entries:
                key = (
                    entry.signal if entry.signal not in taken else node_key(entry.signal, node.name)
                )
                taken.add(entry.signal)
                self._states.append(_SignalState(key, node, entry))
        self._by_key = {s.key: s for s in self._states}
        # One read request per block, with the signals it carries, fixed for the poller's life.
        self._plan = [
            (node, block, [s for s in self._states if s.node is node and s.entry in block.entries])
            for node in config.nodes
            for block in node.regmap.blocks()
        ]

    # -- port life cycle -------------------------------------------------------------------
    def open(self) -> bool:
        """Open the port now if it is closed and not backing off; return whether it is open."""
        with self._lock:
            return self._ensure_open()

    def close(self) -> None:
        """Close the port (a later poll opens it again)."""
        with self._lock:
            self._drop_port()

    @property
    def is_open(self) -> bool:
        """Whether the port is currently open."""
        return self._master is not None

    def _ensure_open(self) -> bool:
        if self._master is not None:
            return True
        now = self._clock()
        if self._reopen_at is not None and now < self._reopen_at:
            return False
        try:
            self._port = self._opener(self.url, self.bus)
        except (DriverError, serial.SerialException, OSError) as exc:
            self.open_failures += 1
            self.last_port_error = str(exc)
            self._schedule_reopen()
            return False
        self.opens += 1
        self._master = RtuMaster(self._port, self.bus.timeout_s)
        # A reopened port may lead to another device (a pty number reused, a cable moved).
        self._identity = dict.fromkeys(self._identity)
        return True

    def _schedule_reopen(self) -> None:
        self._reopen_at = self._clock() + self._backoff
        self._backoff = min(self._backoff * 2.0, self.bus.reopen_backoff_max_s)

    def _drop_port(self) -> None:
        if self._port is not None:
            with contextlib.suppress(serial.SerialException, OSError):
                self._port.close()
        self._port = None
        self._master = None

    def why_not_open(self) -> str:
        """Why the port is closed, naming it once."""
        err = self.last_port_error
        return err if self.url in err else f"port {self.url} is not open: {err or 'closed'}"

    def _port_failed(self, exc: Exception) -> None:
        self.last_port_error = str(exc)
        self._drop_port()
        self._schedule_reopen()

    # -- polling ---------------------------------------------------------------------------
    def poll_once(self) -> dict[str, Reading]:
        """Read every node once (with retries); return all readings. Never raises BusError."""
        with self._lock:
            self.cycles += 1
            self._checked_in_cycle.clear()
            for node, block, states in self._plan:
                if not self._ensure_open():
                    self._fail(states)
                    continue
                known = self._identify(node)
                if known is not True:
                    self._fail(states, refused=known is False)
                    continue
                function = READ_FUNCTION[block.table]
                try:
                    regs = self._attempt(
                        node,
                        methodcaller(
                            "read_registers", node.slave, function, block.address, block.count
                        ),
                    )
                except SlaveExceptionError:
                    self._fail(states, refused=True)
                except BusError:
                    self._fail(states)
                else:
                    self._store(states, block.address, regs)
            return self.readings()

    def _attempt(self, node: NodeConfig, op: Callable[[RtuMaster], object], data: bool = True):
        health = self._health[node.name]
        last: BusError | None = None
        for attempt in range(1 + self.bus.retries):
            if attempt:
                self._sleep(self.bus.retry_delay_s)
            elif self._sent_any and self.bus.pacing_s > 0:
                self._sleep(self.bus.pacing_s)
            if self._master is None and not self._ensure_open():
                raise last or PortError("port closed")
            self._sent_any = True
            t0 = time.perf_counter()
            assert self._master is not None  # opened just above
            try:
                result = op(self._master)
            except PortError as exc:
                health.port_errors += 1
                health.consecutive_failures += 1
                health.last_error = str(exc)
                self._port_failed(exc)
                raise
            except BusError as exc:
                last = exc
                health.consecutive_failures += 1
                health.last_error = str(exc)
                if isinstance(exc, NoResponseError):
                    health.timeouts += 1
                elif isinstance(exc, FrameError):
                    health.crc_errors += 1
                elif isinstance(exc, WrongSlaveError):
                    health.wrong_slave += 1
                elif isinstance(exc, SlaveExceptionError):
                    health.exceptions += 1
                    raise  # a refusal is deterministic: retrying cannot help
                continue
            latency = time.perf_counter() - t0
            health.consecutive_failures = 0
            if data:  # identity checks are counted in identity_checks, not as data reads
                health.ok += 1
                health.last_latency_s = latency
                health.total_latency_s += latency
                health.max_latency_s = max(health.max_latency_s, latency)
                health.last_good = self._clock()
            self._backoff = self.bus.reopen_backoff_s
            self._reopen_at = None
            return result
        assert last is not None
        raise last

    def _identify(self, node: NodeConfig) -> bool | None:
        """Whether `node` is the device its map describes: True, False (another device), or
        None (the check could not be read). Checks once per cycle until confirmed."""
        ident = node.regmap.identity
        if ident is None or self._identity[node.name] is True:
            return True
        if node.name in self._checked_in_cycle:
            return self._identity[node.name]
        self._checked_in_cycle.add(node.name)
        health = self._health[node.name]
        function = READ_FUNCTION[ident.table]
        try:
            regs = self._attempt(
                node,
                lambda m: m.read_registers(node.slave, function, ident.address, ident.width),
                data=False,
            )
        except SlaveExceptionError as exc:
            found, seen = False, f"{ident.what} refused (exception {exc.code})"
        except BusError:
            return None  # counted by _attempt; the check is repeated on the next cycle
        else:
            value = decode(regs, ident.kind, 1.0, 0.0, ident.word_order)
            found, seen = ident.matches(value), f"{ident.what} {value:g}"
        health.identity_checks += 1
        health.identity = f"{seen} (expected {ident.expected})"
        health.wrong_device = not found
        if not found:
            health.last_error = (
                f"wrong device at slave {node.slave}: {health.identity}; check the port and "
                "the slave address"
            )
        self._identity[node.name] = found
        return found

    def _fail(self, states: list[_SignalState], refused: bool = False) -> None:
        for s in states:
            s.failures += 1
            s.bad = s.bad or refused

    def _store(self, states: list[_SignalState], base: int, regs: list[int]) -> None:
        now = self._clock()
        for s in states:
            e = s.entry
            words = regs[e.address - base : e.address - base + e.width]
            value = decode(words, e.kind, e.scale, e.offset, e.word_order)
            sig = SIGNALS[e.signal]
            s.value = value
            s.timestamp = now
            s.failures = 0
            s.bad = not (math.isfinite(value) and sig.lo <= value <= sig.hi)

    def readings(self, now: float | None = None) -> dict[str, Reading]:
        """Current readings of every signal, quality judged at `now` (default: the clock)."""
        now = self._clock() if now is None else now
        out: dict[str, Reading] = {}
        with self._lock:
            for s in self._states:
                out[s.key] = Reading(
                    signal=s.entry.signal,
                    node=s.node.name,
                    value=s.value,
                    unit=s.entry.unit,
                    quality=self._quality(s, now),
                    timestamp=s.timestamp,
                )
        return out

    def _quality(self, s: _SignalState, now: float) -> Quality:
        if s.value is None or s.bad:
            return Quality.BAD
        assert s.timestamp is not None
        if s.failures >= self.bus.stale_after_failures or now - s.timestamp > self.bus.max_age_s:
            return Quality.STALE
        return Quality.GOOD

    def values(self, now: float | None = None) -> dict[str, float]:
        """Values of the readings whose quality is good, keyed like `readings()`."""
        return {
            k: r.value
            for k, r in self.readings(now).items()
            if r.quality is Quality.GOOD and r.value is not None
        }

    def health(self) -> dict[str, NodeHealth]:
        """Per-node transaction counters (live objects; copy before keeping)."""
        return self._health

    def bus_health(self) -> dict[str, object]:
        """Port-level counters: opens, open failures, last port error, backoff, cycles."""
        return {
            "port": self.url,
            "open": self.is_open,
            "opens": self.opens,
            "open_failures": self.open_failures,
            "last_port_error": self.last_port_error,
            "reopen_at": self._reopen_at,
            "backoff_s": self._backoff,
            "cycles": self.cycles,
        }

    # -- writes ----------------------------------------------------------------------------
    def writable_signals(self) -> dict[str, Entry]:
        """Command signals this bus can write, keyed like `readings()`, with their bounds."""
        return {s.key: s.entry for s in self._states if s.entry.writable}

    def write(self, signal: str, value: float) -> None:
        """Write one command; see `write_many`."""
        self.write_many({signal: value})

    def write_many(self, commands: Mapping[str, float]) -> None:
        """Write commands (bounds-checked first, all or none); adjacent registers go as one FC16.

        Raises WriteRejectedError before any bus traffic for an unknown, read-only or
        out-of-bounds command, and a BusError subclass if the node did not confirm.
        """
        per_node: dict[str, list[tuple[Entry, list[int]]]] = {}
        nodes: dict[str, NodeConfig] = {}
        for key, value in commands.items():
            s = self._by_key.get(key)
            if s is None or not s.entry.writable:
                allowed = ", ".join(sorted(self.writable_signals())) or "none"
                raise WriteRejectedError(f"{key!r} is not a writable command; writable: {allowed}")
            e = s.entry
            assert e.lo is not None and e.hi is not None
            if not (isinstance(value, int | float) and math.isfinite(value)):
                raise WriteRejectedError(f"{key} = {value!r} is not a finite number")
            if not e.lo <= value <= e.hi:
                raise WriteRejectedError(f"{key} = {value} outside its bounds {e.lo}..{e.hi}")
            words = encode(float(value), e.kind, e.scale, e.offset, e.word_order)
            per_node.setdefault(s.node.name, []).append((e, words))
            nodes[s.node.name] = s.node
        with self._lock:
            self._checked_in_cycle.clear()
            for name, items in per_node.items():
                node = nodes[name]
                if not self._ensure_open():
                    raise PortError(self.why_not_open())
                if self._identify(node) is not True:
                    raise WrongDeviceError(
                        f"not writing to node {name}: "
                        + (self._health[name].last_error or "its identity could not be read")
                    )
                for address, words in _runs(items):
                    if not self._ensure_open():
                        raise PortError(self.why_not_open())
                    self._attempt(
                        node,
                        methodcaller("write_registers", node.slave, address, words),
                    )


def _runs(items: list[tuple[Entry, list[int]]]) -> list[tuple[int, list[int]]]:
    """Merge writes to adjacent registers into (start address, words) runs."""
    runs: list[tuple[int, list[int]]] = []
    for e, words in sorted(items, key=lambda item: item[0].address):
        if runs and runs[-1][0] + len(runs[-1][1]) == e.address:
            runs[-1][1].extend(words)
        else:
            runs.append((e.address, list(words)))
    return runs
