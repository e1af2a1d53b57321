"""Fuzz the Modbus RTU receiver: millions of random, truncated, concatenated and corrupted frames.

Run: .venv/bin/python bench/bench_fuzz_rtu.py [--frames N] [--seed S]

Every case goes through the master's whole receive path (`RtuMaster.read_registers` or
`write_registers` on an in-memory port that answers with the case's bytes) and through
`find_frame` as the virtual device uses it (request layouts). Function codes 0-255 and slave
addresses 0-255 are walked in turn so each pair is covered; the rest is drawn from a seeded
generator, so a run is repeatable. Anything other than a `BusError` is an exception: the run
prints the first few with their bytes (hex) and exits 1.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from drivers.errors import BusError  # noqa: E402
from drivers.frames import crc16, decode_request, find_frame  # noqa: E402
from drivers.rtu import RtuMaster  # noqa: E402

KINDS = ("random", "valid", "truncated", "concatenated", "corrupted")


class ScriptedPort:
    """An in-memory port: every request is answered with the bytes of the current case."""

    baudrate = 19200

    def __init__(self) -> None:
        self.reply = b""
        self._buf = b""
        self.timeout = 0.0

    def reset_input_buffer(self) -> None:
        """Drop unread bytes, as a real port does before a request."""
        self._buf = b""

    def write(self, data: bytes) -> int:
        """Take a request; the reply is ready at once."""
        self._buf = self.reply
        return len(data)

    def read(self, n: int) -> bytes:
        """Up to `n` bytes of the reply (fewer means the line went quiet)."""
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def _with_crc(body: bytes) -> bytes:
    crc = crc16(body)
    return body + bytes([crc & 0xFF, crc >> 8])


def _frame(rng: random.Random, slave: int, fc: int) -> bytes:
    """A frame with a valid CRC whose body has a length plausible for some layout."""
    shape = rng.randrange(4)
    if shape == 0:  # counted: a byte count and that many bytes (sometimes a lying count)
        n = rng.randrange(0, 252)
        count = n if rng.random() < 0.8 else rng.randrange(256)
        body = bytes([slave, fc, count]) + rng.randbytes(n)
    elif shape == 1:  # fixed 4 data bytes (FC05/06/15/16 replies, FC01..06 requests)
        body = bytes([slave, fc]) + rng.randbytes(4)
    elif shape == 2:  # exception-sized
        body = bytes([slave, fc, rng.randrange(256)])
    else:
        body = bytes([slave, fc]) + rng.randbytes(rng.randrange(0, 40))
    return _with_crc(body)


def _corrupt(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        op = rng.randrange(4)
        if op == 0 and b:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 2:
            b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
        elif b:
            del b[rng.randrange(len(b))]
    return bytes(b)


def make_case(rng: random.Random, i: int) -> bytes:
    """Case `i`: its kind, slave and function code cycle so every pair comes up."""
    kind = KINDS[i % len(KINDS)]
    fc = (i // len(KINDS)) % 256
    slave = (i // (len(KINDS) * 256)) % 256
    if kind == "random":
        return rng.randbytes(rng.randrange(0, 300))
    frame = _frame(rng, slave, fc)
    if kind == "valid":
        return frame
    if kind == "truncated":
        return frame[: rng.randrange(len(frame))]
    if kind == "corrupted":
        return _corrupt(rng, frame)
    parts = [frame]
    for _ in range(rng.randrange(1, 4)):
        pick = rng.randrange(3)
        if pick == 0:
            part = _frame(rng, rng.randrange(256), rng.randrange(256))
        elif pick == 1:
            part = rng.randbytes(rng.randrange(1, 8))
        else:
            other = _frame(rng, rng.randrange(256), rng.randrange(256))
            part = other[: rng.randrange(len(other))]
        parts.append(part)
    rng.shuffle(parts)
    return b"".join(parts)


def fuzz(frames: int, seed: int) -> tuple[int, list[tuple[bytes, BaseException]]]:
    """Run `frames` cases; return how many ran and the unexpected exceptions (first 10)."""
    rng = random.Random(seed)
    port = ScriptedPort()
    master = RtuMaster(port, timeout_s=1.0, silence_s=0.0)  # type: ignore[arg-type]
    device_accept = [bytes((d, f)) for d in (1, 2, 3, 247) for f in (3, 4, 6, 16)]
    crashes: list[tuple[bytes, BaseException]] = []
    count = 0
    for i in range(frames):
        case = make_case(rng, i)
        port.reply = case
        slave = case[0] if case and 1 <= case[0] <= 247 else 1 + i % 247
        try:
            try:
                if i % 4 == 3:
                    master.write_registers(slave, i % 65536, [i % 65536] * (1 + i % 3))
                else:
                    master.read_registers(slave, 3 + i % 2, 0, 1 + i % 125)
            except BusError:
                pass
            found = find_frame(case, device_accept, requests=True)
            if found is not None and not isinstance(found, int):
                decode_request(found)
        except Exception as exc:
            if len(crashes) < 10:
                crashes.append((case, exc))
            else:
                crashes.append((b"", exc))
        count += 1
    return count, crashes


def main() -> int:
    """Fuzz, print frames fuzzed / exceptions / frames per second; exit 1 on any exception."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000, help="cases to run")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generator")
    args = parser.parse_args()
    t0 = time.perf_counter()
    count, crashes = fuzz(args.frames, args.seed)
    elapsed = time.perf_counter() - t0
    print(f"frames fuzzed: {count:,} (seed {args.seed}; kinds: {', '.join(KINDS)})")
    print(f"function codes 0-255 x slave addresses 0-255 covered: {count >= 5 * 256 * 256}")
    print(f"exceptions: {len(crashes)}")
    print(f"frames per second: {count / elapsed:,.0f} ({elapsed:.1f} s)")
    for case, exc in crashes[:10]:
        print(f"  {type(exc).__name__}: {exc} <- {case.hex()}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
