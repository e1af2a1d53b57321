"""Modbus RTU frames in a byte buffer: where they start, how long they are, whether the CRC holds.

We locate and check frames ourselves instead of asking pymodbus: its frame-size helpers index past
the end of a short buffer for some function codes (0x18 FIFO, 0x2B MEI), so two stray bytes such as
`05 18` on the line raised IndexError out of a poll. Here the length of a frame follows from its
function code (and its byte count where it has one), the CRC is checked, and a function code we
do not know the layout of is never taken as a frame start. Nothing in this module raises on any
input bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from pymodbus.pdu import ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadInputRegistersRequest,
    WriteMultipleRegistersRequest,
    WriteSingleRegisterRequest,
)

#: Longest RTU frame the serial line guide allows (address + 253-byte PDU + CRC).
MAX_FRAME = 256


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/MODBUS of `data`; on the wire it follows the data low byte first."""
    crc = 0xFFFF
    table = _CRC_TABLE
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc


# Frame sizes by function code. Fixed: the whole frame's size. Counted: (offset of the byte
# count from the frame start, size of the frame without the counted bytes).
_FIXED_REPLY = {5: 8, 6: 8, 7: 5, 11: 8, 15: 8, 16: 8, 22: 10}
_COUNTED_REPLY = {fc: (2, 5) for fc in (1, 2, 3, 4, 12, 17, 20, 21, 23)}
_FIXED_REQUEST = {
    1: 8,
    2: 8,
    3: 8,
    4: 8,
    5: 8,
    6: 8,
    7: 4,
    8: 8,
    11: 4,
    12: 4,
    17: 4,
    22: 10,
    24: 6,
}
_COUNTED_REQUEST = {15: (6, 9), 16: (6, 9), 20: (2, 5), 21: (2, 5), 23: (10, 13)}
_FIFO_REPLY = 24  # the only reply with a two-byte count: address, fc, count (2), data, CRC (2)

#: Function codes whose frames we can delimit, as replies and as requests.
REPLY_FUNCTIONS = frozenset(_FIXED_REPLY) | frozenset(_COUNTED_REPLY) | {_FIFO_REPLY}
REQUEST_FUNCTIONS = frozenset(_FIXED_REQUEST) | frozenset(_COUNTED_REQUEST)


def frame_size(buf: bytes | bytearray, start: int, requests: bool = False) -> int | None:
    """Size of the frame starting at `buf[start]`, or None for a function code without a known
    layout. When the byte count has not arrived yet, the size up to and including it (a lower
    bound: ask again when more bytes are in)."""
    fc = buf[start + 1]
    if requests:
        if fc in _FIXED_REQUEST:
            return _FIXED_REQUEST[fc]
        counted = _COUNTED_REQUEST.get(fc)
    else:
        if fc & 0x80:
            return 5 if fc > 0x80 else None  # address, fc | 0x80, exception code, CRC
        if fc in _FIXED_REPLY:
            return _FIXED_REPLY[fc]
        if fc == _FIFO_REPLY:
            if start + 3 >= len(buf):
                return 4
            return 6 + (buf[start + 2] << 8 | buf[start + 3])
        counted = _COUNTED_REPLY.get(fc)
    if counted is None:
        return None
    offset, base = counted
    if start + offset >= len(buf):
        return offset + 1
    return base + buf[start + offset]


@dataclass(frozen=True)
class Found:
    """A frame located in a buffer: where it starts and ends, its address, function code and
    the PDU data between the function code and the CRC."""

    start: int
    end: int
    dev_id: int
    function_code: int
    data: bytes


#: Which frame starts to try: a test of (address, function code), or the two-byte starts
#: themselves (much faster: the buffer is searched in C).
Accept = Callable[[int, int], bool] | Collection[bytes]

_KNOWN = {
    False: bytes(fc in REPLY_FUNCTIONS or fc > 0x80 for fc in range(256)),
    True: bytes(fc in REQUEST_FUNCTIONS for fc in range(256)),
}


def _starts(buf: bytes | bytearray, accept: Accept, requests: bool) -> Iterable[int]:
    if callable(accept):
        known = _KNOWN[requests]
        return (i for i in range(len(buf) - 1) if known[buf[i + 1]] and accept(buf[i], buf[i + 1]))
    found: set[int] = set()
    for prefix in accept:
        i = buf.find(prefix)
        while i >= 0:
            found.add(i)
            i = buf.find(prefix, i + 1)
    return sorted(found)


def find_frame(
    buf: bytes | bytearray, accept: Accept, requests: bool = False
) -> Found | int | None:
    """Hunt `buf` for the first valid frame whose start `accept` takes.

    `accept` is a test of (address, function code) or a collection of two-byte starts.
    `requests` selects request layouts (a slave reading a master) instead of replies. Returns the
    frame, or the number of further bytes the earliest incomplete candidate still needs (an
    int), or None when no candidate start is in the buffer. Never raises for any bytes.
    """
    need: int | None = None
    n = len(buf)
    for i in _starts(buf, accept, requests):
        size = frame_size(buf, i, requests)
        if size is None or size > MAX_FRAME:
            continue
        end = i + size
        if end > n:
            if need is None:
                need = end - n
            continue
        if crc16(buf[i : end - 2]) != buf[end - 2] | buf[end - 1] << 8:
            continue
        return Found(i, end, buf[i], buf[i + 1], bytes(buf[i + 2 : end - 2]))
    return need


def decode_request(found: Found) -> ModbusPDU | None:
    """The pymodbus request PDU of a located FC03/04/06/16 request, or None for another
    function. Fields are taken as sent; judging them is the slave's job."""
    fc, data, dev_id = found.function_code, found.data, found.dev_id
    address = data[0] << 8 | data[1]
    word = data[2] << 8 | data[3]
    if fc in (3, 4):
        cls = ReadHoldingRegistersRequest if fc == 3 else ReadInputRegistersRequest
        return cls(address=address, count=word, dev_id=dev_id)
    if fc == 6:
        return WriteSingleRegisterRequest(address=address, registers=[word], dev_id=dev_id)
    if fc == 16:
        regs = [data[j] << 8 | data[j + 1] for j in range(5, 4 + data[4], 2)]
        pdu = WriteMultipleRegistersRequest(address=address, registers=regs, dev_id=dev_id)
        pdu.count = word  # as sent: a slave refuses a count that disagrees with the data
        return pdu
    return None
