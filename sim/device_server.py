"""Carry the virtual device's frames over a pseudo-terminal or a TCP socket.

A master opens the pty path like a COM port, or `socket://HOST:PORT` through pyserial. Like a
real RTU slave, the receiver drops a partial frame after a silence on the line.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
from urllib.parse import urlsplit

from drivers.frames import Found, decode_request
from sim.virtual_device import VirtualDevice

#: Silence after which a partial frame is dropped, and the idle tick of the plant clock.
SILENCE_S = 0.02


class DeviceServer:
    """Base of the transports: a thread running `serve_forever` until `stop()`."""

    def __init__(self, device: VirtualDevice) -> None:
        self.device = device
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._buf = bytearray()

    @property
    def address(self) -> str:
        """What a master opens: a pty path or a socket:// URL."""
        raise NotImplementedError

    def start(self) -> DeviceServer:
        """Serve in a daemon thread; return self."""
        self._thread = threading.Thread(target=self.serve_forever, name="virtual device")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the pty or socket."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.close()

    def close(self) -> None:
        """Release the transport's file descriptors."""

    def serve_forever(self) -> None:
        """Answer requests until `stop()`."""
        raise NotImplementedError

    def _receive(self, data: bytes, send) -> None:
        self._buf += data
        while True:
            found = self.device.find_request(self._buf)
            if not isinstance(found, Found):
                if found is None:
                    del self._buf[:-1]  # the last byte may start a frame
                if len(self._buf) > 512:
                    self._buf.clear()
                return
            del self._buf[: found.end]
            request = decode_request(found)
            if request is None:
                continue  # a valid frame with fields pymodbus refuses: a slave stays silent
            reply = self.device.reply(request)
            if reply is None:
                continue
            if reply.delay_s > 0 and self._stop.wait(reply.delay_s):
                return
            send(reply.data)


class PtyServer(DeviceServer):
    """The device on a pseudo-terminal (POSIX): `address` is the slave side's path.

    Every pty gets a new path, so a master reopening the path of a device that died never finds
    its successor. With `link`, a symlink at that path points to the pty (replacing a symlink
    left by an earlier device) and is the `address`: a master that opened the link finds the
    next device there when it reopens.
    """

    def __init__(self, device: VirtualDevice, link: str | None = None) -> None:
        super().__init__(device)
        import tty  # POSIX only; imported here so the module loads on Windows

        if link is not None and os.path.lexists(link) and not os.path.islink(link):
            raise ValueError(f"link path {link!r} exists and is not a symlink; choose another")
        self._master_fd, self._slave_fd = os.openpty()
        # Raw mode before any master opens the path: no echo, no newline translation.
        tty.setraw(self._slave_fd)
        self._path = os.ttyname(self._slave_fd)
        self._link = link
        if link is not None:
            tmp = f"{link}.{os.getpid()}.tmp"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self._path, tmp)
            os.replace(tmp, link)  # atomic: a master never sees the link missing

    @property
    def address(self) -> str:
        """The link if one was asked for, else the pseudo-terminal path, e.g. /dev/pts/3."""
        return self._link or self._path

    @property
    def pty_path(self) -> str:
        """The pseudo-terminal path itself."""
        return self._path

    def close(self) -> None:
        """Close both ends of the pseudo-terminal and remove the link if it is still ours."""
        for fd in (self._master_fd, self._slave_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master_fd = self._slave_fd = -1
        if self._link is not None:
            with contextlib.suppress(OSError):
                if os.readlink(self._link) == self._path:
                    os.unlink(self._link)

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._master_fd, view)
            view = view[n:]

    def serve_forever(self) -> None:
        """Answer requests on the pty until `stop()`."""
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master_fd], [], [], SILENCE_S)
                if not ready:
                    self.device.sync()  # step the plant while nobody waits for a reply
                    self._buf.clear()
                    continue
                data = os.read(self._master_fd, 1024)
            except (OSError, ValueError):
                if self._stop.is_set():
                    return
                raise
            if self.device.faults.disconnected(self.device.elapsed()):
                self._buf.clear()  # a pulled cable: the request never arrives
                continue
            self._receive(data, self._send)


class TcpServer(DeviceServer):
    """The device on a TCP socket; masters open `socket://HOST:PORT` with pyserial.

    One master at a time, as on a bus: a new connection replaces the old one.
    """

    def __init__(self, device: VirtualDevice, url: str = "socket://127.0.0.1:0") -> None:
        super().__init__(device)
        parts = urlsplit(url)
        if parts.scheme != "socket" or not parts.hostname or parts.port is None:
            raise ValueError(f"listen address {url!r} must look like socket://HOST:PORT")
        self._listener = socket.create_server((parts.hostname, parts.port))
        self._host, self._port = self._listener.getsockname()[:2]
        self._conn: socket.socket | None = None
        self.connections = 0

    @property
    def address(self) -> str:
        """The URL to open, with the real port when 0 was asked for."""
        return f"socket://{self._host}:{self._port}"

    def close(self) -> None:
        """Close the client connection and the listening socket."""
        self._drop()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None
        self._buf.clear()

    def _send(self, data: bytes) -> None:
        if self._conn is not None:
            try:
                self._conn.sendall(data)
            except OSError:
                self._drop()

    def serve_forever(self) -> None:
        """Accept masters and answer their requests until `stop()`."""
        while not self._stop.is_set():
            watch = [self._listener] + ([self._conn] if self._conn is not None else [])
            try:
                ready, _, _ = select.select(watch, [], [], SILENCE_S)
            except (OSError, ValueError):
                if self._stop.is_set():
                    return
                raise
            if not ready:
                self.device.sync()  # step the plant while nobody waits for a reply
            gone = self.device.faults.disconnected(self.device.elapsed())
            if gone and self._conn is not None:
                self._drop()
            if self._listener in ready:
                conn, _ = self._listener.accept()
                if gone:
                    conn.close()
                    continue
                self._drop()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._conn = conn
                self.connections += 1
                continue
            if self._conn is None:
                continue
            if self._conn not in ready:
                self._buf.clear()
                continue
            try:
                data = self._conn.recv(1024)
            except OSError:
                data = b""
            if not data:
                self._drop()
                continue
            self._receive(data, self._send)


def serve(device: VirtualDevice, where: str, link: str | None = None) -> DeviceServer:
    """Build the server for `where`: "pty" (with an optional stable `link`) or a
    socket://HOST:PORT URL (not started)."""
    if where == "pty":
        return PtyServer(device, link)
    return TcpServer(device, where)
