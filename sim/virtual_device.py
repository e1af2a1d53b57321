"""The virtual greenhouse device: a simulated plant behind Modbus RTU register maps.

The device owns the register logic only (which register holds which plant value, writes moving
the plant's actuators, the watchdog and fault plans); `sim.device_server` carries its frames over a
pseudo-terminal or a TCP socket. Time comes from an injectable clock: the plant advances by
`speed` plant seconds per clock second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
    WriteMultipleRegistersResponse,
    WriteSingleRegisterResponse,
)

from drivers.codec import decode, encode
from drivers.frames import Found, find_frame
from drivers.nodes import NodeConfig, NodesConfig, load_nodes
from drivers.regmap import Entry
from sim.device_faults import FaultConfig, FaultInjector, FaultPlan

ILLEGAL_FUNCTION = 1
ILLEGAL_ADDRESS = 2
ILLEGAL_VALUE = 3
SUPPORTED_FUNCTIONS = (3, 4, 6, 16)


class PlantLike(Protocol):
    """What the device needs of a plant (the API of `sim.plant.Plant`)."""

    time_s: float

    def apply(self, actuators: Mapping[str, float]) -> None:
        """Set actuator commands (names from drivers.signals.ACTUATORS)."""

    def actuators(self) -> dict[str, float]:
        """Return the commands in force."""

    def advance(self, seconds: float) -> None:
        """Step the physics and the crop by `seconds`."""

    def measurements(self) -> dict[str, float]:
        """Return the current measurements by canonical name."""


class DeviceError(Exception):
    """A virtual device that cannot be built from its plant and maps."""


@dataclass(frozen=True)
class Reply:
    """Bytes to send back for one request, after a delay (a slow reply), or nothing (dropped)."""

    data: bytes
    delay_s: float = 0.0


def default_plant() -> PlantLike:
    """The default plant: `sim.plant.Plant()` (AGC Bleiswijk compartment, 2018 weather)."""
    from sim.plant import Plant  # deferred: the device module must import without the physics

    return Plant()


class VirtualDevice:
    """Serves the nodes of `nodes` (default: the virtual greenhouse) from `plant`.

    `watchdog_s` (0 = off): with no write for that long, every writable command goes to its map's
    `safe` value, as it also does at power-up. `min_step_s` batches plant time into steps of at
    least that many plant seconds. The server steps the plant in its idle ticks (`sync()`); a
    request steps it only when the last step is older than `max_lag_s` clock seconds, so replies
    do not wait for the physics while a master polls back to back.
    """

    def __init__(
        self,
        plant: PlantLike | None = None,
        nodes: NodesConfig | None = None,
        *,
        speed: float = 1.0,
        watchdog_s: float = 60.0,
        faults: FaultConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        min_step_s: float = 1.0,
        max_lag_s: float = 0.1,
    ) -> None:
        if not speed > 0:
            raise DeviceError(f"speed {speed!r} must be > 0 plant seconds per wall second")
        if not watchdog_s >= 0:
            raise DeviceError(f"watchdog_s {watchdog_s!r} must be >= 0 (0 = off)")
        self.plant = plant if plant is not None else default_plant()
        self.config = nodes if nodes is not None else load_nodes()
        self.speed = speed
        self.watchdog_s = watchdog_s
        self.faults = FaultInjector(faults)
        self._clock = clock
        self._min_step_s = min_step_s
        self._max_lag_s = max_lag_s
        self._lock = threading.RLock()
        self._nodes = {n.slave: n for n in self.config.nodes}
        self._request_starts = [bytes((s, f)) for s in self._nodes for f in SUPPORTED_FUNCTIONS]
        self._framer = FramerRTU(DecodePDU(is_server=False))
        self._measurements = dict(self.plant.measurements())
        self._check_signals()
        self.started = clock()
        self._last_sync = self._last_step = self.started
        self._pending_s = 0.0
        self.last_write: float | None = None
        self.watchdog_trips = 0
        self.safe_state = False
        self.requests = 0
        self.writes = 0
        self._enter_safe_state()  # power-up state, as real actuator nodes do

    def _check_signals(self) -> None:
        actuators = self.plant.actuators()
        for node in self.config.nodes:
            for e in node.regmap.entries:
                source = actuators if e.table == "holding" else self._measurements
                if e.signal not in source:
                    kind = "actuator" if e.table == "holding" else "measurement"
                    raise DeviceError(
                        f"{node.regmap.path}: registers.{e.signal}: the plant has no {kind} "
                        f"{e.signal!r}"
                    )

    # -- time ------------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Device-clock seconds since the device started."""
        return self._clock() - self.started

    def sync(self, max_lag_s: float = 0.0) -> None:
        """Let the watchdog act, and advance the plant to the clock unless it last stepped less
        than `max_lag_s` clock seconds ago."""
        with self._lock:
            now = self._clock()
            self._pending_s += max(0.0, now - self._last_sync) * self.speed
            self._last_sync = now
            if self._pending_s >= self._min_step_s and now - self._last_step >= max_lag_s:
                self.plant.advance(self._pending_s)
                self._pending_s = 0.0
                self._last_step = now
                self._measurements = dict(self.plant.measurements())
            if self.watchdog_s > 0 and not self.safe_state:
                since = now - (self.last_write if self.last_write is not None else self.started)
                if since >= self.watchdog_s:
                    self._enter_safe_state()
                    self.watchdog_trips += 1

    def _enter_safe_state(self) -> None:
        safe = {
            e.signal: e.safe
            for n in self.config.nodes
            for e in n.regmap.entries
            if e.writable and e.safe is not None
        }
        if safe:
            self.plant.apply(safe)
        self.safe_state = True

    # -- frames ----------------------------------------------------------------------------
    def find_request(self, buf: bytes | bytearray) -> Found | int | None:
        """Locate the next request to one of our slaves in `buf` (see drivers.frames.find_frame)."""
        return find_frame(buf, self._request_starts, requests=True)

    def reply(self, request: ModbusPDU) -> Reply | None:
        """Handle one decoded request and return the reply bytes with faults applied."""
        self.sync(self._max_lag_s)
        plan = self.faults.plan()
        response = self.handle(request)
        if plan.drop:
            return None
        dev_id = request.dev_id
        if plan.wrong_slave:
            dev_id = next((s for s in range(1, 248) if s not in self._nodes), 247)
        response.dev_id = dev_id
        frame = self._framer.buildFrame(response)
        return Reply(_corrupt(frame, plan), plan.slow_s)

    def handle(self, request: ModbusPDU) -> ModbusPDU:
        """Return the response PDU (or an exception response) for a request to one of our nodes."""
        with self._lock:
            self.requests += 1
            node = self._nodes[request.dev_id]
            fc = request.function_code
            try:
                if fc in (3, 4):
                    regs = self._read(node, "holding" if fc == 3 else "input", request)
                    cls = ReadHoldingRegistersResponse if fc == 3 else ReadInputRegistersResponse
                    return cls(registers=regs, dev_id=request.dev_id)
                if fc == 6:
                    self._write(node, request.address, list(request.registers))
                    return WriteSingleRegisterResponse(
                        address=request.address, registers=list(request.registers)
                    )
                if fc == 16:
                    if request.count != len(request.registers):
                        raise _RefusedError(ILLEGAL_VALUE)
                    self._write(node, request.address, list(request.registers))
                    return WriteMultipleRegistersResponse(
                        address=request.address, count=request.count
                    )
                raise _RefusedError(ILLEGAL_FUNCTION)
            except _RefusedError as refuse:
                return ExceptionResponse(fc, refuse.code, device_id=request.dev_id)

    def _image(self, node: NodeConfig, table: str) -> dict[int, int]:
        source = self.plant.actuators() if table == "holding" else self._measurements
        image: dict[int, int] = {}
        for e in node.regmap.entries:
            if e.table != table:
                continue
            words = encode(
                float(source[e.signal]), e.kind, e.scale, e.offset, e.word_order, saturate=True
            )
            for i, w in enumerate(words):
                image[e.address + i] = w
        ident = node.regmap.identity
        if ident is not None and ident.table == table:  # the device is what its map expects
            words = encode(ident.lo, ident.kind, 1.0, 0.0, ident.word_order, saturate=True)
            for i, w in enumerate(words):
                image[ident.address + i] = w
        return image

    def _read(self, node: NodeConfig, table: str, request: ModbusPDU) -> list[int]:
        image = self._image(node, table)
        span = range(request.address, request.address + request.count)
        if not request.count or any(a not in image for a in span):
            raise _RefusedError(ILLEGAL_ADDRESS)
        return [image[a] for a in span]

    def _write(self, node: NodeConfig, address: int, words: list[int]) -> None:
        image = self._image(node, "holding")
        touched: dict[str, Entry] = {}
        by_reg = {
            e.address + i: e
            for e in node.regmap.entries
            if e.table == "holding"
            for i in range(e.width)
        }
        for i, w in enumerate(words):
            e = by_reg.get(address + i)
            if e is None or not e.writable:
                raise _RefusedError(ILLEGAL_ADDRESS)
            image[address + i] = w
            touched[e.signal] = e
        commands: dict[str, float] = {}
        for name, e in touched.items():
            regs = [image[e.address + i] for i in range(e.width)]
            value = decode(regs, e.kind, e.scale, e.offset, e.word_order)
            lo, hi = _register_bounds(e)
            if not lo <= value <= hi:
                raise _RefusedError(ILLEGAL_VALUE)
            commands[name] = value
        self.plant.apply(commands)
        self._measurements = dict(self.plant.measurements())
        self.writes += 1
        self.last_write = self._clock()
        self.safe_state = False

    def plant_state(self) -> tuple[float, dict[str, object]]:
        """(plant time, the plant's saved state) taken between two steps, for a restart."""
        with self._lock:
            return float(self.plant.time_s), self.plant.save_state()  # type: ignore[attr-defined]

    def status(self) -> dict[str, object]:
        """Counters for logs and tests: requests, writes, watchdog, injected faults, plant time."""
        with self._lock:
            return {
                "requests": self.requests,
                "writes": self.writes,
                "watchdog_trips": self.watchdog_trips,
                "safe_state": self.safe_state,
                "faults": dict(self.faults.counts),
                "plant_time_s": self.plant.time_s,
            }


class _RefusedError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _register_bounds(e: Entry) -> tuple[float, float]:
    """A command's bounds as its register holds them: float32 99.9 is 99.90000153, and a master
    writing exactly its upper bound must not be refused."""
    assert e.lo is not None and e.hi is not None
    lo, hi = (
        decode(
            encode(b, e.kind, e.scale, e.offset, e.word_order),
            e.kind,
            e.scale,
            e.offset,
            e.word_order,
        )
        for b in (e.lo, e.hi)
    )
    return lo, hi


def _corrupt(frame: bytes, plan: FaultPlan) -> bytes:
    if plan.crc:
        frame = frame[:-1] + bytes([frame[-1] ^ 0x5A])
    return plan.garbage + frame
